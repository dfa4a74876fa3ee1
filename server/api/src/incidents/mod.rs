//! GraphQL fields of incidents: the incident itself, its crisis log and tasks, and the
//! `incidentUpdated` subscription that keeps an open incident view current.
//!
//! Resolvers only parse input and call the store; every access check and rule lives
//! there. The crisis log has no field that changes or removes an entry.

mod objects;
mod subscription;

pub(crate) use objects::{IncidentKind, IncidentObject};
pub use subscription::IncidentSubscription;

use crate::context::{connection, page_request, parse_id, principal, store};
use crate::error::{ApiResult, invalid_input};
use crate::types::{ClassificationInput, Role};
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use objects::{
    IncidentBriefingObject, IncidentState, LogEntryKind, LogEntryObject, TaskObject, TaskState,
};
use reserv_domain::DomainError;
use reserv_domain::classification::Confidentiality;
use reserv_domain::ids::{IncidentId, LogEntryId, PersonId, SystemId, TaskId, UnitId};
use reserv_domain::incidents::{
    ClientWriteId, NewIncident, NewLogEntry, NewTask, PaperNote, Severity,
};
use reserv_store::{IncidentEdit, IncidentFilter};

/// Which incidents to list; fields left out do not filter.
#[derive(InputObject, Default)]
#[graphql(name = "IncidentFilter")]
pub struct IncidentFilterInput {
    pub states: Option<Vec<IncidentState>>,
    /// Incidents affecting this unit or a unit below it.
    pub unit_id: Option<ID>,
    /// Incidents at least this severe: 2 lists severity 1 and 2.
    pub severity_at_least: Option<i32>,
    /// true for exercises only, false for real incidents only.
    pub exercise: Option<bool>,
}

impl IncidentFilterInput {
    fn into_filter(self) -> async_graphql::Result<IncidentFilter> {
        Ok(IncidentFilter {
            states: self
                .states
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            unit_id: self
                .unit_id
                .map(|id| parse_id("unitId", &id).map(UnitId))
                .transpose()?,
            severity_at_least: self
                .severity_at_least
                .map(|level| {
                    Severity::new(level.into())
                        .map_err(|error| invalid_input("severityAtLeast", error_message(error)))
                })
                .transpose()?,
            exercise: self.exercise,
        })
    }
}

/// The message of a domain validation error without its field, for re-labelling it
/// with the field name the caller used.
fn error_message(error: DomainError) -> String {
    match error {
        DomainError::Validation { message, .. } => message,
        other => other.to_string(),
    }
}

#[derive(InputObject)]
pub struct ReportIncidentInput {
    pub title: String,
    pub description: Option<String>,
    pub kind: IncidentKind,
    /// 1 (most severe) to 4 (least severe).
    pub severity: i32,
    #[graphql(default)]
    pub exercise: bool,
    pub classification: ClassificationInput,
    #[graphql(default)]
    pub unit_ids: Vec<ID>,
    #[graphql(default)]
    pub system_ids: Vec<ID>,
    /// An id the client made for this report (a UUID), so that resending a report made
    /// offline reports it once: the same reporter and id give back the first incident.
    pub client_id: Option<String>,
}

impl ReportIncidentInput {
    fn into_request(self) -> async_graphql::Result<NewIncident> {
        Ok(NewIncident {
            classification: self.classification.to_domain().api()?,
            unit_ids: unit_ids(&self.unit_ids)?,
            system_ids: system_ids(&self.system_ids)?,
            title: self.title,
            description: self.description,
            kind: self.kind.into(),
            severity: self.severity.into(),
            exercise: self.exercise,
        })
    }
}

/// Changes to an incident; fields left out stay as they are, and `description: null`
/// removes the description.
#[derive(InputObject)]
pub struct UpdateIncidentInput {
    pub title: Option<String>,
    #[graphql(default)]
    pub description: MaybeUndefined<String>,
    pub severity: Option<i32>,
    pub classification: Option<ClassificationInput>,
}

impl UpdateIncidentInput {
    fn into_edit(self) -> async_graphql::Result<IncidentEdit> {
        Ok(IncidentEdit {
            title: self.title,
            description: match self.description {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(text) => Some(Some(text)),
            },
            severity: self.severity.map(i64::from),
            classification: self
                .classification
                .as_ref()
                .map(ClassificationInput::to_domain)
                .transpose()
                .api()?,
            lowering_reason: self
                .classification
                .and_then(|classification| classification.lowering_reason),
        })
    }
}

#[derive(InputObject)]
pub struct LogEntryInput {
    pub kind: LogEntryKind,
    pub text: String,
    /// When it happened; now when left out. Notes taken on paper are entered afterwards
    /// with the time they were taken.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The entry this one corrects.
    pub corrects: Option<ID>,
    /// An id the client chose (a UUID), for writes it may send again: an entry already
    /// written by the same person with this id is returned and nothing new is written.
    pub client_id: Option<String>,
    /// Set when the entry is entered afterwards from notes taken on paper; it is then
    /// marked as such and needs `occurredAt`, the time on the note.
    pub paper_note: Option<PaperNoteInput>,
    /// The entry's own confidentiality (0–3), at most the incident's, which it takes
    /// when left out. An instruction for all staff inside a sensitive incident is
    /// written at 1, so that staff not cleared for the incident see it in `briefings`.
    pub confidentiality: Option<i32>,
}

/// Where an entry entered from paper came from.
#[derive(InputObject)]
pub struct PaperNoteInput {
    /// Who wrote the note, when not the one entering it.
    pub written_by: Option<String>,
}

#[derive(InputObject)]
pub struct TaskInput {
    pub title: String,
    pub assignee_id: Option<ID>,
    /// The crisis role that should do it; whoever holds it takes it when no named
    /// person is assigned.
    pub assignee_role: Option<Role>,
    pub due_at: Option<DateTime<Utc>>,
    /// The task's own confidentiality (0–3), at most the incident's, which it takes
    /// when left out; see `LogEntryInput.confidentiality`.
    pub confidentiality: Option<i32>,
}

/// A part's own level from an input, checked as a level; the store checks it against
/// the incident's.
fn part_level(level: Option<i32>) -> async_graphql::Result<Option<Confidentiality>> {
    level
        .map(|level| Confidentiality::new("input.confidentiality", level.into()))
        .transpose()
        .api()
}

fn unit_ids(ids: &[ID]) -> async_graphql::Result<Vec<UnitId>> {
    ids.iter()
        .map(|id| parse_id("unitIds", id).map(UnitId))
        .collect()
}

fn system_ids(ids: &[ID]) -> async_graphql::Result<Vec<SystemId>> {
    ids.iter()
        .map(|id| parse_id("systemIds", id).map(SystemId))
        .collect()
}

#[derive(Default)]
pub struct IncidentQuery;

#[Object]
impl IncidentQuery {
    /// Incidents the caller may see, oldest first.
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        filter: Option<IncidentFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, IncidentObject>> {
        let filter = filter.unwrap_or_default().into_filter()?;
        let page = store(ctx)?
            .incidents(principal(ctx)?, filter, page_request(after, first)?)
            .await
            .api()?;
        Ok(connection(page, IncidentObject))
    }

    async fn incident(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<IncidentObject> {
        let id = IncidentId(parse_id("id", &id)?);
        Ok(IncidentObject(
            store(ctx)?.incident(principal(ctx)?, id).await.api()?,
        ))
    }

    /// Unfinished tasks assigned to the signed-in person, across incidents: those whose
    /// own level she may read where the incident is, and internal ones wherever it is.
    async fn my_tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TaskObject>> {
        let tasks = store(ctx)?.my_tasks(principal(ctx)?).await.api()?;
        Ok(tasks.into_iter().map(TaskObject).collect())
    }

    /// For open incidents affecting the caller's units that she is not cleared to read:
    /// the log entries and tasks written at a level she may read (such as instructions
    /// for all staff), without the incident's title or description. Incidents with
    /// nothing at her level are left out; closed ones unless `includeClosed`.
    async fn briefings(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_closed: bool,
    ) -> async_graphql::Result<Vec<IncidentBriefingObject>> {
        let briefings = store(ctx)?
            .briefings(principal(ctx)?, include_closed)
            .await
            .api()?;
        Ok(briefings.into_iter().map(IncidentBriefingObject).collect())
    }
}

#[derive(Default)]
pub struct IncidentMutation;

#[Object]
impl IncidentMutation {
    async fn report_incident(
        &self,
        ctx: &Context<'_>,
        input: ReportIncidentInput,
    ) -> async_graphql::Result<IncidentObject> {
        let client_id = input
            .client_id
            .as_deref()
            .map(|id| ClientWriteId::parse("clientId", id))
            .transpose()
            .api()?;
        let request = input.into_request()?;
        let (store, who) = (store(ctx)?, principal(ctx)?);
        let incident = match client_id {
            Some(id) => store.report_incident_once(who, request, id).await,
            None => store.report_incident(who, request).await,
        };
        Ok(IncidentObject(incident.api()?))
    }

    /// Moves the incident along its life cycle. Moving to RECOVERING opens the recovery
    /// checklist runs; closing while one of them has unticked steps takes a `reason`,
    /// which is written to the crisis log.
    async fn change_incident_state(
        &self,
        ctx: &Context<'_>,
        id: ID,
        state: IncidentState,
        reason: Option<String>,
    ) -> async_graphql::Result<IncidentObject> {
        let id = IncidentId(parse_id("id", &id)?);
        Ok(IncidentObject(
            store(ctx)?
                .change_incident_state_for(principal(ctx)?, id, state.into(), reason)
                .await
                .api()?,
        ))
    }

    async fn assign_commander(
        &self,
        ctx: &Context<'_>,
        id: ID,
        person_id: ID,
    ) -> async_graphql::Result<IncidentObject> {
        let id = IncidentId(parse_id("id", &id)?);
        let person = PersonId(parse_id("personId", &person_id)?);
        Ok(IncidentObject(
            store(ctx)?
                .assign_commander(principal(ctx)?, id, person)
                .await
                .api()?,
        ))
    }

    /// Replaces the affected units.
    async fn set_incident_units(
        &self,
        ctx: &Context<'_>,
        id: ID,
        unit_ids: Vec<ID>,
    ) -> async_graphql::Result<IncidentObject> {
        let id = IncidentId(parse_id("id", &id)?);
        let units = self::unit_ids(&unit_ids)?;
        Ok(IncidentObject(
            store(ctx)?
                .set_incident_units(principal(ctx)?, id, units)
                .await
                .api()?,
        ))
    }

    /// Replaces the affected IT systems.
    async fn set_incident_systems(
        &self,
        ctx: &Context<'_>,
        id: ID,
        system_ids: Vec<ID>,
    ) -> async_graphql::Result<IncidentObject> {
        let id = IncidentId(parse_id("id", &id)?);
        let systems = self::system_ids(&system_ids)?;
        Ok(IncidentObject(
            store(ctx)?
                .set_incident_systems(principal(ctx)?, id, systems)
                .await
                .api()?,
        ))
    }

    async fn update_incident(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateIncidentInput,
    ) -> async_graphql::Result<IncidentObject> {
        let id = IncidentId(parse_id("id", &id)?);
        let edit = input.into_edit()?;
        Ok(IncidentObject(
            store(ctx)?
                .update_incident(principal(ctx)?, id, edit)
                .await
                .api()?,
        ))
    }

    /// Appends to the crisis log. Entries cannot be changed afterwards: to mend one,
    /// add an entry with `corrects` set.
    async fn add_log_entry(
        &self,
        ctx: &Context<'_>,
        incident_id: ID,
        input: LogEntryInput,
    ) -> async_graphql::Result<LogEntryObject> {
        let incident = IncidentId(parse_id("incidentId", &incident_id)?);
        let request = NewLogEntry {
            corrects: input
                .corrects
                .map(|id| parse_id("corrects", &id).map(LogEntryId))
                .transpose()?,
            kind: input.kind.into(),
            text: input.text,
            occurred_at: input.occurred_at,
            confidentiality: part_level(input.confidentiality)?,
        };
        let store = store(ctx)?;
        let who = principal(ctx)?;
        let client_id = input
            .client_id
            .map(|id| ClientWriteId::parse("clientId", &id))
            .transpose()
            .api()?;
        let entry = match (input.paper_note, client_id) {
            (Some(note), client_id) => {
                let note = PaperNote {
                    written_by: note.written_by,
                };
                store
                    .add_paper_log_entry(who, incident, request, note, client_id)
                    .await
            }
            (None, Some(id)) => store.add_log_entry_once(who, incident, request, id).await,
            (None, None) => store.add_log_entry(who, incident, request).await,
        };
        Ok(LogEntryObject::new(entry.api()?))
    }

    async fn create_task(
        &self,
        ctx: &Context<'_>,
        incident_id: ID,
        input: TaskInput,
    ) -> async_graphql::Result<TaskObject> {
        let incident = IncidentId(parse_id("incidentId", &incident_id)?);
        let request = NewTask {
            assignee_id: input
                .assignee_id
                .map(|id| parse_id("assigneeId", &id).map(PersonId))
                .transpose()?,
            title: input.title,
            assignee_role: input.assignee_role.map(Into::into),
            due_at: input.due_at,
            confidentiality: part_level(input.confidentiality)?,
        };
        Ok(TaskObject(
            store(ctx)?
                .create_task(principal(ctx)?, incident, request)
                .await
                .api()?,
        ))
    }

    async fn change_task_state(
        &self,
        ctx: &Context<'_>,
        id: ID,
        state: TaskState,
    ) -> async_graphql::Result<TaskObject> {
        let id = TaskId(parse_id("id", &id)?);
        Ok(TaskObject(
            store(ctx)?
                .change_task_state(principal(ctx)?, id, state.into())
                .await
                .api()?,
        ))
    }
}
