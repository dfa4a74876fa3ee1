//! The GraphQL shapes of incidents, log entries and tasks. Each wraps a domain value;
//! nested objects are resolved through the store, so that its access checks apply.

use crate::context::{principal, store};
use crate::error::ApiResult;
use crate::loaders::{LogOf, TasksOf, load, load_all, load_if_readable};
use crate::types::{Classification, PersonObject, Role, System, Unit, person_by_id};
use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use reserv_domain::ids::LogEntryId;
use reserv_domain::incidents::{Incident, LogEntry, Task};
use reserv_store::Briefing;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::incidents::IncidentKind")]
pub enum IncidentKind {
    ItOutage,
    InformationSecurity,
    PersonalDataBreach,
    Power,
    Staffing,
    Other,
}

/// REPORTED → TRIAGED → ACTIVE → RECOVERING → CLOSED; see `nextStates` for what is
/// allowed from where.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::incidents::IncidentState")]
pub enum IncidentState {
    Reported,
    Triaged,
    Active,
    Recovering,
    Closed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::incidents::LogEntryKind")]
pub enum LogEntryKind {
    Observation,
    Decision,
    Action,
    Message,
    Meeting,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::incidents::TaskState")]
pub enum TaskState {
    Open,
    InProgress,
    Done,
    Cancelled,
}

pub struct IncidentObject(pub Incident);

#[Object(name = "Incident")]
impl IncidentObject {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn kind(&self) -> IncidentKind {
        self.0.kind.into()
    }
    /// 1 (most severe) to 4 (least severe).
    async fn severity(&self) -> u8 {
        self.0.severity.level()
    }
    async fn state(&self) -> IncidentState {
        self.0.state.into()
    }
    /// The states this incident may move to now.
    async fn next_states(&self) -> Vec<IncidentState> {
        self.0
            .state
            .next_states()
            .iter()
            .map(|state| (*state).into())
            .collect()
    }
    async fn commander(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PersonObject>> {
        person_by_id(ctx, self.0.commander_id).await
    }
    /// Everything an exercise sends is marked as an exercise.
    async fn exercise(&self) -> bool {
        self.0.exercise
    }
    async fn classification(&self) -> Classification {
        self.0.classification.into()
    }
    /// The affected units; they decide which unit staff see the incident.
    async fn units(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        let units = load_all(ctx, &self.0.unit_ids).await?;
        Ok(units.into_iter().map(Unit).collect())
    }
    async fn systems(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<System>> {
        let systems = load_all(ctx, &self.0.system_ids).await?;
        Ok(systems.into_iter().map(System).collect())
    }
    async fn reported_at(&self) -> DateTime<Utc> {
        self.0.reported_at
    }
    async fn reported_by(&self) -> Option<&str> {
        self.0.reported_by.as_deref()
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// The last change to the incident, its log or its tasks.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The crisis log in the order things happened.
    async fn log(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<LogEntryObject>> {
        let entries = load(ctx, LogOf(self.0.id)).await?;
        Ok(LogEntryObject::with_corrections(entries))
    }
    async fn tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TaskObject>> {
        let tasks: Vec<Task> = load(ctx, TasksOf(self.0.id)).await?;
        Ok(tasks.into_iter().map(TaskObject).collect())
    }
    /// The messages activations prepared for this incident, oldest first: for those
    /// who send messages.
    async fn message_drafts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::message_drafts::MessageDraftObject>> {
        let drafts = store(ctx)?
            .message_drafts(principal(ctx)?, self.0.id)
            .await
            .api()?;
        Ok(drafts
            .into_iter()
            .map(crate::message_drafts::MessageDraftObject)
            .collect())
    }
    /// The units' continuity plans activated for this incident, oldest first.
    async fn activated_plans(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::playbooks::ActivatedPlanObject>> {
        let plans = store(ctx)?
            .activated_plans(principal(ctx)?, self.0.id)
            .await
            .api()?;
        Ok(plans
            .into_iter()
            .map(crate::playbooks::ActivatedPlanObject)
            .collect())
    }
    /// The checklist runs started for this incident's activated routines.
    async fn checklist_runs(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::playbooks::ChecklistRunObject>> {
        let runs = store(ctx)?
            .checklist_runs(principal(ctx)?, self.0.id)
            .await
            .api()?;
        Ok(runs
            .into_iter()
            .map(crate::playbooks::ChecklistRunObject)
            .collect())
    }
    /// How far the checklist runs in `phase` (all runs when left out) have come, in all
    /// and per unit.
    async fn checklist_progress(
        &self,
        ctx: &Context<'_>,
        phase: Option<crate::checklists::ChecklistPhase>,
    ) -> async_graphql::Result<crate::checklists::IncidentProgressObject> {
        let progress = store(ctx)?
            .incident_checklist_progress(principal(ctx)?, self.0.id, phase.map(Into::into))
            .await
            .api()?;
        Ok(crate::checklists::IncidentProgressObject(progress))
    }
    /// The paper back-log of the recovery runs per unit: forms received, registered,
    /// spot-checked and archived, what is left, and whether it is overdue.
    async fn paper_backlog(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::paper_backlog::UnitPaperBacklog>> {
        crate::paper_backlog::of_incident(ctx, self.0.id).await
    }
}

/// An entry of the crisis log. Entries never change; a correction is a later entry
/// that points to the one it corrects.
pub struct LogEntryObject {
    entry: LogEntry,
    corrected_by: Vec<LogEntryId>,
}

impl LogEntryObject {
    /// A single entry, as just written: nothing corrects it yet.
    pub(super) fn new(entry: LogEntry) -> Self {
        Self {
            entry,
            corrected_by: Vec::new(),
        }
    }

    /// The entries of one log, each knowing which later entries correct it.
    fn with_corrections(entries: Vec<LogEntry>) -> Vec<Self> {
        let corrections: Vec<(LogEntryId, LogEntryId)> = entries
            .iter()
            .filter_map(|entry| entry.corrects.map(|target| (target, entry.id)))
            .collect();
        entries
            .into_iter()
            .map(|entry| Self {
                corrected_by: corrections
                    .iter()
                    .filter(|(target, _)| *target == entry.id)
                    .map(|(_, by)| *by)
                    .collect(),
                entry,
            })
            .collect()
    }
}

#[Object(name = "LogEntry")]
impl LogEntryObject {
    async fn id(&self) -> ID {
        self.entry.id.0.into()
    }
    async fn kind(&self) -> LogEntryKind {
        self.entry.kind.into()
    }
    async fn text(&self) -> &str {
        &self.entry.text
    }
    /// When the thing described happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.entry.occurred_at
    }
    /// When the entry was written, by the server's clock.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.entry.recorded_at
    }
    /// Who wrote the entry (for an entry from paper: who typed it in).
    async fn author(&self) -> &str {
        &self.entry.author
    }
    /// Whether the entry was entered afterwards from notes taken on paper.
    async fn from_paper(&self) -> bool {
        self.entry.paper.is_some()
    }
    /// Whether the author texted the entry in by SMS (`LOGG …`) rather than writing it in
    /// the app.
    async fn received_by_sms(&self) -> bool {
        self.entry.by_sms
    }
    /// For an entry from paper: who wrote the note, when not the author.
    async fn on_behalf_of(&self) -> Option<&str> {
        self.entry
            .paper
            .as_ref()
            .and_then(|note| note.written_by.as_deref())
    }
    /// The entry this one corrects.
    async fn corrects(&self) -> Option<ID> {
        self.entry.corrects.map(|id| id.0.into())
    }
    /// Later entries that correct this one; read the log for their text.
    async fn corrected_by(&self) -> Vec<ID> {
        self.corrected_by.iter().map(|id| id.0.into()).collect()
    }
    /// The entry's own confidentiality, at most its incident's.
    async fn confidentiality(&self) -> u8 {
        self.entry.confidentiality.level()
    }
}

/// What a reader below an incident's level sees of it: see `Query.briefings`.
pub struct IncidentBriefingObject(pub Briefing);

#[Object(name = "IncidentBriefing")]
impl IncidentBriefingObject {
    /// The incident's id; `incident(id)` refuses it to this reader.
    async fn incident_id(&self) -> ID {
        self.0.incident_id.0.into()
    }
    async fn state(&self) -> IncidentState {
        self.0.state.into()
    }
    async fn exercise(&self) -> bool {
        self.0.exercise
    }
    /// The incident's confidentiality, above the reader's clearance.
    async fn confidentiality(&self) -> u8 {
        self.0.confidentiality.level()
    }
    /// The entries at the reader's level, in the order things happened.
    async fn log(&self) -> Vec<LogEntryObject> {
        LogEntryObject::with_corrections(self.0.entries.clone())
    }
    /// The tasks at the reader's level, in the order they were created.
    async fn tasks(&self) -> Vec<TaskObject> {
        self.0.tasks.iter().cloned().map(TaskObject).collect()
    }
}

pub struct TaskObject(pub Task);

#[Object(name = "Task")]
impl TaskObject {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn assignee(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PersonObject>> {
        person_by_id(ctx, self.0.assignee_id).await
    }
    /// The crisis role that should do it.
    async fn assignee_role(&self) -> Option<Role> {
        self.0.assignee_role.map(Into::into)
    }
    /// Set for every task of an exercise incident.
    async fn exercise(&self) -> bool {
        self.0.exercise
    }
    /// The task's own confidentiality, at most its incident's.
    async fn confidentiality(&self) -> u8 {
        self.0.confidentiality.level()
    }
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.0.due_at
    }
    async fn state(&self) -> TaskState {
        self.0.state.into()
    }
    async fn incident_id(&self) -> ID {
        self.0.incident_id.0.into()
    }
    /// The incident, or null when the assignee may not read it (a task can be given to
    /// someone outside the units the incident affects).
    async fn incident(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<IncidentObject>> {
        Ok(load_if_readable(ctx, self.0.incident_id)
            .await?
            .map(IncidentObject))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
