//! GraphQL fields of the directory: units, people and IT systems.

use crate::context::{connection, page_request, parse_id, principal, store};
use crate::error::ApiResult;
use crate::types::{Criticality, Language, PersonObject, System, SystemState, Unit, UnitKind};
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object};
use reserv_domain::ids::{PersonId, SystemId, UnitId};
use reserv_domain::people::PersonRequest;
use reserv_domain::systems::SystemRequest;
use reserv_domain::units::NewUnit;

#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// The whole organisation tree, parents before children.
    async fn units(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        let units = store(ctx)?.units(principal(ctx)?).await.api()?;
        Ok(units.into_iter().map(Unit).collect())
    }

    async fn unit(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Unit> {
        let id = UnitId(parse_id("id", &id)?);
        Ok(Unit(store(ctx)?.unit(principal(ctx)?, id).await.api()?))
    }

    /// People, optionally of one unit.
    async fn people(
        &self,
        ctx: &Context<'_>,
        unit_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, PersonObject>> {
        let unit = unit_id
            .map(|id| parse_id("unitId", &id).map(UnitId))
            .transpose()?;
        let page = store(ctx)?
            .people(principal(ctx)?, unit, page_request(after, first)?)
            .await
            .api()?;
        Ok(connection(page, PersonObject))
    }

    async fn person(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<PersonObject> {
        let id = PersonId(parse_id("id", &id)?);
        Ok(PersonObject(
            store(ctx)?.person(principal(ctx)?, id).await.api()?,
        ))
    }

    async fn it_systems(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<System>> {
        let systems = store(ctx)?.systems(principal(ctx)?).await.api()?;
        Ok(systems.into_iter().map(System).collect())
    }

    async fn it_system(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<System> {
        let id = SystemId(parse_id("id", &id)?);
        Ok(System(store(ctx)?.system(principal(ctx)?, id).await.api()?))
    }
}

#[derive(InputObject)]
pub struct UnitInput {
    pub parent_id: Option<ID>,
    pub name: String,
    pub kind: UnitKind,
}

#[derive(InputObject)]
pub struct PersonInput {
    pub name: String,
    pub title: Option<String>,
    /// As staff write it, like 070-123 45 67 or +46 70 123 45 67; a number without a
    /// country code is read as Swedish. Stored and returned in E.164 form.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The person's identifier at the employer (employee number, HSA-id); unique. What
    /// OpenID Connect sign-in matches when `oidc.person_field` is `external_id`.
    pub external_id: Option<String>,
    #[graphql(default_with = "Language::Sv")]
    pub language: Language,
    #[graphql(default)]
    pub external: bool,
    pub organisation: Option<String>,
    #[graphql(default)]
    pub unit_ids: Vec<ID>,
    /// 0–3; internal (1) when left out.
    pub confidentiality: Option<i32>,
}

impl PersonInput {
    fn into_request(self) -> async_graphql::Result<PersonRequest> {
        Ok(PersonRequest {
            unit_ids: self
                .unit_ids
                .iter()
                .map(|id| parse_id("unitIds", id).map(UnitId))
                .collect::<async_graphql::Result<_>>()?,
            name: self.name,
            title: self.title,
            phone: self.phone,
            email: self.email,
            external_id: self.external_id,
            language: self.language.into(),
            external: self.external,
            organisation: self.organisation,
            confidentiality: self.confidentiality.map(i64::from),
        })
    }
}

#[derive(InputObject)]
pub struct ItSystemInput {
    pub name: String,
    pub description: Option<String>,
    pub owner_id: Option<ID>,
    pub supplier: Option<String>,
    pub criticality: Criticality,
    pub health_check_url: Option<String>,
}

impl ItSystemInput {
    fn into_request(self) -> async_graphql::Result<SystemRequest> {
        Ok(SystemRequest {
            owner_id: self
                .owner_id
                .map(|id| parse_id("ownerId", &id).map(PersonId))
                .transpose()?,
            name: self.name,
            description: self.description,
            supplier: self.supplier,
            criticality: self.criticality.into(),
            health_check_url: self.health_check_url,
        })
    }
}

#[derive(Default)]
pub struct DirectoryMutation;

#[Object]
impl DirectoryMutation {
    async fn create_unit(
        &self,
        ctx: &Context<'_>,
        input: UnitInput,
    ) -> async_graphql::Result<Unit> {
        let request = NewUnit {
            parent_id: input
                .parent_id
                .map(|id| parse_id("parentId", &id).map(UnitId))
                .transpose()?,
            name: input.name,
            kind: input.kind.into(),
        };
        Ok(Unit(
            store(ctx)?
                .create_unit(principal(ctx)?, request)
                .await
                .api()?,
        ))
    }

    async fn rename_unit(
        &self,
        ctx: &Context<'_>,
        id: ID,
        name: String,
    ) -> async_graphql::Result<Unit> {
        let id = UnitId(parse_id("id", &id)?);
        Ok(Unit(
            store(ctx)?
                .rename_unit(principal(ctx)?, id, &name)
                .await
                .api()?,
        ))
    }

    async fn create_person(
        &self,
        ctx: &Context<'_>,
        input: PersonInput,
    ) -> async_graphql::Result<PersonObject> {
        let request = input.into_request()?;
        Ok(PersonObject(
            store(ctx)?
                .create_person(principal(ctx)?, request)
                .await
                .api()?,
        ))
    }

    async fn update_person(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: PersonInput,
    ) -> async_graphql::Result<PersonObject> {
        let id = PersonId(parse_id("id", &id)?);
        let request = input.into_request()?;
        Ok(PersonObject(
            store(ctx)?
                .update_person(principal(ctx)?, id, request)
                .await
                .api()?,
        ))
    }

    async fn create_it_system(
        &self,
        ctx: &Context<'_>,
        input: ItSystemInput,
    ) -> async_graphql::Result<System> {
        let request = input.into_request()?;
        Ok(System(
            store(ctx)?
                .create_system(principal(ctx)?, request)
                .await
                .api()?,
        ))
    }

    async fn update_it_system(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ItSystemInput,
    ) -> async_graphql::Result<System> {
        let id = SystemId(parse_id("id", &id)?);
        let request = input.into_request()?;
        Ok(System(
            store(ctx)?
                .update_system(principal(ctx)?, id, request)
                .await
                .api()?,
        ))
    }

    /// Records that a system is down, degraded or back.
    async fn set_it_system_state(
        &self,
        ctx: &Context<'_>,
        id: ID,
        state: SystemState,
    ) -> async_graphql::Result<System> {
        let id = SystemId(parse_id("id", &id)?);
        Ok(System(
            store(ctx)?
                .set_system_state(principal(ctx)?, id, state.into())
                .await
                .api()?,
        ))
    }
}
