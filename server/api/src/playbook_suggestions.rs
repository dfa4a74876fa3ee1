//! `suggestPlaybooks`: which playbooks fit when IT systems are down, and what each
//! would involve, for the crisis lead choosing what to activate.

use crate::context::{parse_id, principal, store};
use crate::error::ApiResult;
use crate::incidents::IncidentKind;
use crate::loaders::load;
use crate::types::{System, Unit};
use async_graphql::{Context, ID, Object};
use reserv_domain::ids::SystemId;
use reserv_store::{PlaybookSuggestion, SuggestedRoutine};

#[derive(Default)]
pub struct PlaybookSuggestionQuery;

#[Object]
impl PlaybookSuggestionQuery {
    /// The playbooks in use whose triggers match these systems being down (by name, or
    /// by a criticality the system reaches), with the units each would apply to, the
    /// routines it would activate and how many people it would involve. Nothing is
    /// activated.
    async fn suggest_playbooks(
        &self,
        ctx: &Context<'_>,
        it_system_ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<PlaybookSuggestionObject>> {
        let systems = it_system_ids
            .iter()
            .map(|id| parse_id("itSystemIds", id).map(SystemId))
            .collect::<async_graphql::Result<Vec<_>>>()?;
        let suggestions = store(ctx)?
            .suggest_playbooks(principal(ctx)?, &systems)
            .await
            .api()?;
        Ok(suggestions
            .into_iter()
            .map(PlaybookSuggestionObject)
            .collect())
    }
}

/// A playbook that fits, and what activating it would involve.
pub struct PlaybookSuggestionObject(PlaybookSuggestion);

#[Object(name = "PlaybookSuggestion")]
impl PlaybookSuggestionObject {
    async fn playbook_id(&self) -> &str {
        &self.0.playbook.id
    }
    /// In Swedish.
    async fn title(&self) -> &str {
        &self.0.playbook.title.sv
    }
    async fn title_en(&self) -> Option<&str> {
        self.0.playbook.title.en.as_deref()
    }
    async fn kind(&self) -> IncidentKind {
        self.0.playbook.kind.into()
    }
    /// The systems asked about that one of its triggers names.
    async fn matched_systems(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<System>> {
        let mut systems = Vec::new();
        for id in &self.0.matched_systems {
            systems.push(System(load(ctx, *id).await?));
        }
        Ok(systems)
    }
    /// The units whose approved continuity plans it would activate, parents first.
    async fn units(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        let mut units = Vec::new();
        for id in &self.0.units {
            units.push(Unit(load(ctx, *id).await?));
        }
        Ok(units)
    }
    /// The routines it would start, in the playbook's order, with the units that have
    /// them.
    async fn routines(&self) -> Vec<SuggestedRoutineObject> {
        self.0
            .routines
            .iter()
            .cloned()
            .map(SuggestedRoutineObject)
            .collect()
    }
    /// How many people it would involve: the people of those units and the holders of
    /// the crisis roles its tasks name, each counted once.
    async fn people_involved(&self) -> usize {
        self.0.people
    }
}

/// A routine a suggested playbook would start.
pub struct SuggestedRoutineObject(SuggestedRoutine);

#[Object(name = "SuggestedRoutine")]
impl SuggestedRoutineObject {
    async fn key(&self) -> &str {
        self.0.key.as_str()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn units(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        let mut units = Vec::new();
        for id in &self.0.units {
            units.push(Unit(load(ctx, *id).await?));
        }
        Ok(units)
    }
}
