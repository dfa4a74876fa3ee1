//! The directory: organisation units, people and IT systems.

use crate::audit::{Audit, AuditedObject};
use crate::convert;
use crate::entities::{it_systems, people, person_units, units};
use crate::links::replace_links;
use crate::page::{PageRequest, fetch_page};
use crate::per_key::{PerKey, answer_each, answer_for};
use crate::subtree::Subtrees;
use crate::{Page, Result, Store};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope, UnitPath};
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::{PersonId, SystemId, UnitId};
use reserv_domain::people::{Person, PersonRequest, ValidPerson};
use reserv_domain::systems::{ItSystem, SystemRequest, SystemState};
use reserv_domain::units::{NewUnit, OrgUnit};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::{BTreeMap, HashMap};

impl AuditedObject for OrgUnit {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl AuditedObject for Person {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl AuditedObject for ItSystem {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl Store {
    /// The whole organisation tree, ordered so that parents come before children.
    pub async fn units(&self, who: &Principal) -> Result<Vec<OrgUnit>> {
        who.authorize_somewhere(Action::ReadDirectory)?;
        units::Entity::find()
            .order_by_asc(units::Column::Path)
            .all(&self.db)
            .await?
            .into_iter()
            .map(convert::unit)
            .collect()
    }

    pub async fn unit(&self, who: &Principal, id: UnitId) -> Result<OrgUnit> {
        answer_for(self.units_by_id(who, &[id]).await?, id, "unit")
    }

    /// Units by id, each checked as [`Store::unit`] checks one.
    pub async fn units_by_id(
        &self,
        who: &Principal,
        ids: &[UnitId],
    ) -> Result<PerKey<UnitId, OrgUnit>> {
        let mut found = unit_rows(&self.db, ids).await?;
        Ok(answer_each(ids, |id| {
            let unit = found
                .remove(&id)
                .ok_or_else(|| DomainError::not_found("unit", id))?;
            // Everyone who reads the directory sees the whole unit tree, as `units`
            // lists it: a unit's name and place are no secret, its plans and people are
            // guarded on their own.
            who.authorize_somewhere(Action::ReadDirectory)?;
            Ok(unit)
        }))
    }

    pub async fn create_unit(&self, who: &Principal, request: NewUnit) -> Result<OrgUnit> {
        let tx = self.begin().await?;
        let result = async {
            who.authorize(Action::ManageDirectory, Scope::Organisation)?;
            let parent = match request.parent_id {
                Some(parent_id) => Some(find_unit(&tx, parent_id).await.map_err(|_| {
                    DomainError::validation("parentId", format!("unit {parent_id} was not found"))
                })?),
                None => None,
            };
            let request = request.validate(parent.as_ref())?;
            let row = units::ActiveModel {
                id: NotSet,
                parent_id: Set(request.parent_id.map(|id| id.0)),
                name: Set(request.name),
                kind: Set(request.kind.as_str().to_owned()),
                path: Set(String::new()),
                created_at: Set(self.now()),
            }
            .insert(&tx)
            .await?;
            let mut path = parent.map(|p| p.path.0).unwrap_or_default();
            path.push(UnitId(row.id));
            let mut row: units::ActiveModel = row.into();
            row.path = Set(convert::path_text(&UnitPath(path)));
            convert::unit(row.update(&tx).await?)
        }
        .await;
        self.finish(tx, who, Audit::new(AuditAction::Create, "unit"), result)
            .await
    }

    /// Renames a unit; its place in the tree stays.
    pub async fn rename_unit(&self, who: &Principal, id: UnitId, name: &str) -> Result<OrgUnit> {
        let tx = self.begin().await?;
        let result = async {
            who.authorize(Action::ManageDirectory, Scope::Organisation)?;
            let existing = units::Entity::find_by_id(id.0)
                .one(&tx)
                .await?
                .ok_or_else(|| DomainError::not_found("unit", id))?;
            let mut row: units::ActiveModel = existing.into();
            row.name = Set(reserv_domain::units::unit_name(name)?);
            convert::unit(row.update(&tx).await?)
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Rename, "unit").on(id),
            result,
        )
        .await
    }

    /// People, optionally only those of one unit, leaving out anyone whose contact
    /// details are above the reader's clearance.
    pub async fn people(
        &self,
        who: &Principal,
        unit: Option<UnitId>,
        page: PageRequest,
    ) -> Result<Page<Person>> {
        who.authorize_somewhere(Action::ReadDirectory)?;
        let mut select = people::Entity::find().filter(readable_people(&self.db, who).await?);
        if let Some(unit) = unit {
            // Units are the organisation's structure, which everyone who reads the
            // directory sees; which of a unit's people show is the reach's business.
            find_unit(&self.db, unit).await?;
            let members = person_units::Entity::find()
                .filter(person_units::Column::UnitId.eq(unit.0))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|row| row.person_id);
            select = select.filter(people::Column::Id.is_in(members));
        }
        let rows = fetch_page(&self.db, select, people::Column::Id, page, |row| row.id).await?;
        let ids: Vec<i64> = rows.items.iter().map(|(id, _)| *id).collect();
        let mut memberships = unit_memberships(&self.db, &ids).await?;
        let page = rows.try_map(|row| {
            let units = memberships.remove(&row.id).unwrap_or_default();
            convert::person(row, units)
        })?;
        for (_, person) in &page.items {
            if person.confidentiality.read_is_audited() {
                self.record_read(who, "person", person.id, "person").await?;
            }
        }
        Ok(page)
    }

    pub async fn person(&self, who: &Principal, id: PersonId) -> Result<Person> {
        answer_for(self.people_by_id(who, &[id]).await?, id, "person")
    }

    /// People by id, each answered as [`Store::person`] answers for one: someone above
    /// the reader's clearance is not found, and sensitive contact cards are audited.
    pub async fn people_by_id(
        &self,
        who: &Principal,
        ids: &[PersonId],
    ) -> Result<PerKey<PersonId, Person>> {
        if let Err(refusal) = who.authorize_somewhere(Action::ReadDirectory) {
            return Ok(answer_each(ids, |_| Err(refusal.clone())));
        }
        let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let rows = people::Entity::find()
            .filter(people::Column::Id.is_in(raw.clone()))
            .filter(readable_people(&self.db, who).await?)
            .all(&self.db)
            .await?;
        let mut memberships = unit_memberships(&self.db, &raw).await?;
        let mut found = HashMap::new();
        for row in rows {
            let units = memberships.remove(&row.id).unwrap_or_default();
            let person = convert::person(row, units)?;
            if person.confidentiality.read_is_audited() {
                self.record_read(who, "person", person.id, "person").await?;
            }
            found.insert(person.id, person);
        }
        Ok(answer_each(ids, |id| {
            found
                .remove(&id)
                .ok_or_else(|| DomainError::not_found("person", id))
        }))
    }

    pub async fn create_person(&self, who: &Principal, request: PersonRequest) -> Result<Person> {
        let tx = self.begin().await?;
        let result = async {
            who.authorize(Action::ManageDirectory, Scope::Organisation)?;
            let person = request.validate()?;
            ensure_units_exist(&tx, &person.unit_ids).await?;
            let now = self.now();
            let row = person_row(
                &person,
                people::ActiveModel {
                    id: NotSet,
                    created_at: Set(now),
                    ..Default::default()
                },
                now,
            )
            .insert(&tx)
            .await
            .map_err(|error| taken_external_id(error, &person))?;
            set_units(&tx, row.id, &person.unit_ids).await?;
            convert::person(row, person.unit_ids)
        }
        .await;
        self.finish(tx, who, Audit::new(AuditAction::Create, "person"), result)
            .await
    }

    pub async fn update_person(
        &self,
        who: &Principal,
        id: PersonId,
        request: PersonRequest,
    ) -> Result<Person> {
        let tx = self.begin().await?;
        let result = async {
            who.authorize(Action::ManageDirectory, Scope::Organisation)?;
            let existing = people::Entity::find_by_id(id.0)
                .one(&tx)
                .await?
                .ok_or_else(|| DomainError::not_found("person", id))?;
            let person = request.validate()?;
            ensure_units_exist(&tx, &person.unit_ids).await?;
            let row = person_row(&person, existing.into(), self.now())
                .update(&tx)
                .await
                .map_err(|error| taken_external_id(error, &person))?;
            set_units(&tx, row.id, &person.unit_ids).await?;
            convert::person(row, person.unit_ids)
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Update, "person").on(id),
            result,
        )
        .await
    }

    pub async fn systems(&self, who: &Principal) -> Result<Vec<ItSystem>> {
        who.authorize_somewhere(Action::ReadDirectory)?;
        it_systems::Entity::find()
            .order_by_asc(it_systems::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(convert::system)
            .collect()
    }

    pub async fn system(&self, who: &Principal, id: SystemId) -> Result<ItSystem> {
        who.authorize_somewhere(Action::ReadDirectory)?;
        find_system(&self.db, id).await
    }

    /// IT systems by id, for anyone who may read the directory.
    pub async fn systems_by_id(
        &self,
        who: &Principal,
        ids: &[SystemId],
    ) -> Result<PerKey<SystemId, ItSystem>> {
        if let Err(refusal) = who.authorize_somewhere(Action::ReadDirectory) {
            return Ok(answer_each(ids, |_| Err(refusal.clone())));
        }
        let mut found: HashMap<SystemId, ItSystem> = it_systems::Entity::find()
            .filter(it_systems::Column::Id.is_in(ids.iter().map(|id| id.0)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| convert::system(row).map(|system| (system.id, system)))
            .collect::<Result<_>>()?;
        Ok(answer_each(ids, |id| {
            found
                .remove(&id)
                .ok_or_else(|| DomainError::not_found("IT system", id))
        }))
    }

    pub async fn create_system(&self, who: &Principal, request: SystemRequest) -> Result<ItSystem> {
        let tx = self.begin().await?;
        let result = async {
            who.authorize(Action::ManageDirectory, Scope::Organisation)?;
            let request = request.validate()?;
            ensure_person_exists(&tx, request.owner_id, "ownerId").await?;
            let now = self.now();
            let name = request.name.clone();
            let row = system_row(
                request,
                it_systems::ActiveModel {
                    id: NotSet,
                    state: Set(SystemState::Operational.as_str().to_owned()),
                    state_changed_at: Set(now),
                    created_at: Set(now),
                    ..Default::default()
                },
            )
            .insert(&tx)
            .await
            .map_err(|error| {
                crate::StoreError::from(error)
                    .on_duplicate(|| format!("name: an IT system called '{name}' already exists"))
            })?;
            convert::system(row)
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Create, "it_system"),
            result,
        )
        .await
    }

    pub async fn update_system(
        &self,
        who: &Principal,
        id: SystemId,
        request: SystemRequest,
    ) -> Result<ItSystem> {
        let tx = self.begin().await?;
        let result = async {
            who.authorize(Action::ManageDirectory, Scope::Organisation)?;
            let existing = it_systems::Entity::find_by_id(id.0)
                .one(&tx)
                .await?
                .ok_or_else(|| DomainError::not_found("IT system", id))?;
            let request = request.validate()?;
            ensure_person_exists(&tx, request.owner_id, "ownerId").await?;
            let name = request.name.clone();
            let row = system_row(request, existing.into())
                .update(&tx)
                .await
                .map_err(|error| {
                    crate::StoreError::from(error).on_duplicate(|| {
                        format!("name: an IT system called '{name}' already exists")
                    })
                })?;
            convert::system(row)
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Update, "it_system").on(id),
            result,
        )
        .await
    }

    /// Records a system's state, as reported by a person during an incident.
    pub async fn set_system_state(
        &self,
        who: &Principal,
        id: SystemId,
        state: SystemState,
    ) -> Result<ItSystem> {
        let tx = self.begin().await?;
        let result = async {
            who.authorize(Action::ManageIncidents, Scope::Organisation)?;
            let existing = it_systems::Entity::find_by_id(id.0)
                .one(&tx)
                .await?
                .ok_or_else(|| DomainError::not_found("IT system", id))?;
            let mut row: it_systems::ActiveModel = existing.into();
            row.state = Set(state.as_str().to_owned());
            row.state_changed_at = Set(self.now());
            convert::system(row.update(&tx).await?)
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::SetState, "it_system").on(id),
            result,
        )
        .await
    }
}

pub(crate) async fn find_unit(db: &impl ConnectionTrait, id: UnitId) -> Result<OrgUnit> {
    let row = units::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("unit", id))?;
    convert::unit(row)
}

pub(crate) async fn find_system(db: &impl ConnectionTrait, id: SystemId) -> Result<ItSystem> {
    let row = it_systems::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("IT system", id))?;
    convert::system(row)
}

/// Refuses a reference to a person who does not exist, naming the input field.
pub(crate) async fn ensure_person_exists(
    db: &impl ConnectionTrait,
    id: Option<PersonId>,
    field: &str,
) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    if people::Entity::find_by_id(id.0).one(db).await?.is_none() {
        return Err(DomainError::validation(field, format!("person {id} was not found")).into());
    }
    Ok(())
}

/// Refuses references to units that do not exist, naming the first missing one.
pub(crate) async fn ensure_units_exist(db: &impl ConnectionTrait, ids: &[UnitId]) -> Result<()> {
    let found: Vec<i64> = units::Entity::find()
        .filter(units::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect();
    match ids.iter().find(|id| !found.contains(&id.0)) {
        Some(missing) => {
            Err(DomainError::validation("unitIds", format!("unit {missing} was not found")).into())
        }
        None => Ok(()),
    }
}

/// Units by id, in one query; ids that do not exist are absent.
/// The people `who` may read, as a condition on `people`: see
/// [`Principal::directory_reach`]. One query per unit-scoped grant with more than
/// internal clearance finds that grant's subtree.
async fn readable_people(db: &impl ConnectionTrait, who: &Principal) -> Result<Condition> {
    let reach = who.directory_reach();
    let level = |clearance: reserv_domain::classification::Confidentiality| {
        people::Column::Confidentiality.lte(i16::from(clearance.level()))
    };
    let roots: Vec<UnitId> = reach.in_units.iter().map(|(unit, _)| *unit).collect();
    let subtrees = Subtrees::of(db, &roots).await?;
    let mut readable = Condition::any().add(level(reach.everywhere));
    for (unit, clearance) in &reach.in_units {
        let members = sea_orm::sea_query::Query::select()
            .column(person_units::Column::PersonId)
            .from(person_units::Entity)
            .and_where(
                person_units::Column::UnitId.in_subquery(subtrees.units_covered_by(&[*unit])),
            )
            .to_owned();
        readable = readable.add(
            Condition::all()
                .add(level(*clearance))
                .add(people::Column::Id.in_subquery(members)),
        );
    }
    Ok(readable)
}

pub(crate) async fn unit_rows(
    db: &impl ConnectionTrait,
    ids: &[UnitId],
) -> Result<HashMap<UnitId, OrgUnit>> {
    units::Entity::find()
        .filter(units::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(db)
        .await?
        .into_iter()
        .map(|row| convert::unit(row).map(|unit| (unit.id, unit)))
        .collect()
}

/// The paths of several units, for scope checks on objects that span units.
pub(crate) async fn unit_paths(db: &impl ConnectionTrait, ids: &[UnitId]) -> Result<Vec<UnitPath>> {
    Ok(unit_rows(db, ids)
        .await?
        .into_values()
        .map(|unit| unit.path)
        .collect())
}

async fn unit_memberships(
    db: &impl ConnectionTrait,
    people: &[i64],
) -> Result<BTreeMap<i64, Vec<UnitId>>> {
    let mut memberships: BTreeMap<i64, Vec<UnitId>> = BTreeMap::new();
    for row in person_units::Entity::find()
        .filter(person_units::Column::PersonId.is_in(people.iter().copied()))
        .order_by_asc(person_units::Column::UnitId)
        .all(db)
        .await?
    {
        memberships
            .entry(row.person_id)
            .or_default()
            .push(UnitId(row.unit_id));
    }
    Ok(memberships)
}

async fn set_units(db: &impl ConnectionTrait, person: i64, unit_ids: &[UnitId]) -> Result<()> {
    let links = unit_ids
        .iter()
        .map(|unit| person_units::ActiveModel {
            person_id: Set(person),
            unit_id: Set(unit.0),
        })
        .collect();
    replace_links(db, person_units::Column::PersonId.eq(person), links).await
}

/// The one unique column a person's details can collide on is `external_id`.
fn taken_external_id(error: sea_orm::DbErr, person: &ValidPerson) -> crate::StoreError {
    crate::StoreError::from(error).on_duplicate(|| {
        format!(
            "externalId: another person already has the identifier '{}'",
            person.external_id.as_deref().unwrap_or_default()
        )
    })
}

fn person_row(
    person: &ValidPerson,
    mut row: people::ActiveModel,
    now: chrono::DateTime<chrono::Utc>,
) -> people::ActiveModel {
    row.name = Set(person.name.clone());
    row.title = Set(person.title.clone());
    row.phone = Set(person.phone.as_ref().map(|phone| phone.as_str().to_owned()));
    row.email = Set(person.email.clone());
    row.external_id = Set(person.external_id.clone());
    row.language = Set(person.language.as_str().to_owned());
    row.external = Set(person.external);
    row.organisation = Set(person.organisation.clone());
    row.confidentiality = Set(person.confidentiality.level().into());
    row.updated_at = Set(now);
    row
}

fn system_row(request: SystemRequest, mut row: it_systems::ActiveModel) -> it_systems::ActiveModel {
    row.name = Set(request.name);
    row.description = Set(request.description);
    row.owner_id = Set(request.owner_id.map(|id| id.0));
    row.supplier = Set(request.supplier);
    row.criticality = Set(request.criticality.as_str().to_owned());
    row.health_check_url = Set(request.health_check_url);
    row
}
