//! The paper back-log of recovery runs over GraphQL: recording counts of forms
//! received, registered, spot-checked and archived, the due date, and what is left per
//! unit for the crisis lead. Resolvers only parse input and call the store.

use crate::context::{parse_id, principal, store};
use crate::error::ApiResult;
use crate::loaders::load_optional;
use crate::types::Unit;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_domain::incidents::ClientWriteId;
use reserv_domain::paper_backlog::Backlog;
use reserv_store::{BacklogEntry, RunBacklog, UnitBacklog};

/// Where a paper form stands on its way back into the system.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::paper_backlog::BacklogStage")]
pub enum PaperBacklogStage {
    /// Handed in from the unit.
    Received,
    /// Entered into the system.
    Registered,
    /// Spot-checked against the paper (the medical responsible nurse's check).
    Checked,
    /// Filed as the paper original.
    Archived,
}

/// How many forms reached each stage, and how many are left before the next.
#[derive(SimpleObject)]
pub struct PaperBacklogCounts {
    received: i64,
    registered: i64,
    checked: i64,
    archived: i64,
    left_to_register: i64,
    left_to_check: i64,
    left_to_archive: i64,
    /// Received forms not yet archived.
    left: i64,
}

impl From<Backlog> for PaperBacklogCounts {
    fn from(backlog: Backlog) -> Self {
        Self {
            received: backlog.received,
            registered: backlog.registered,
            checked: backlog.checked,
            archived: backlog.archived,
            left_to_register: backlog.left_to_register(),
            left_to_check: backlog.left_to_check(),
            left_to_archive: backlog.left_to_archive(),
            left: backlog.left(),
        }
    }
}

/// One recorded count.
#[derive(SimpleObject)]
pub struct PaperBacklogEntry {
    stage: PaperBacklogStage,
    /// Negative for a correction.
    count: i64,
    recorded_by: String,
    recorded_at: DateTime<Utc>,
}

impl From<BacklogEntry> for PaperBacklogEntry {
    fn from(entry: BacklogEntry) -> Self {
        Self {
            stage: entry.stage.into(),
            count: entry.count,
            recorded_by: entry.recorded_by,
            recorded_at: entry.recorded_at,
        }
    }
}

/// The paper back-log of one recovery run: a unit's routine.
pub struct RunPaperBacklog {
    run: RunBacklog,
    now: DateTime<Utc>,
}

#[Object]
impl RunPaperBacklog {
    async fn run_id(&self) -> ID {
        self.run.run_id.into()
    }
    async fn routine_title(&self) -> &str {
        &self.run.routine_title
    }
    async fn counts(&self) -> PaperBacklogCounts {
        self.run.backlog.into()
    }
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.run.due_at
    }
    /// Forms are left and the due date has passed.
    async fn overdue(&self) -> bool {
        self.run.overdue(self.now)
    }
    /// Every count recorded, oldest first.
    async fn entries(&self) -> Vec<PaperBacklogEntry> {
        self.run.entries.iter().cloned().map(Into::into).collect()
    }
}

/// A unit's paper back-log over its recovery runs of an incident.
pub struct UnitPaperBacklog {
    unit: UnitBacklog,
    now: DateTime<Utc>,
}

#[Object]
impl UnitPaperBacklog {
    async fn unit_id(&self) -> ID {
        self.unit.unit_id.0.into()
    }
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        Ok(load_optional(ctx, Some(self.unit.unit_id)).await?.map(Unit))
    }
    async fn counts(&self) -> PaperBacklogCounts {
        self.unit.backlog.into()
    }
    /// The earliest due date among the unit's runs with forms left.
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.unit.due_at
    }
    async fn overdue(&self) -> bool {
        self.unit.runs.iter().any(|run| run.overdue(self.now))
    }
    async fn runs(&self) -> Vec<RunPaperBacklog> {
        self.unit
            .runs
            .iter()
            .cloned()
            .map(|run| RunPaperBacklog { run, now: self.now })
            .collect()
    }
}

/// The incident's paper back-log per unit, for `Incident.paperBacklog`.
pub(crate) async fn of_incident(
    ctx: &Context<'_>,
    incident: reserv_domain::ids::IncidentId,
) -> async_graphql::Result<Vec<UnitPaperBacklog>> {
    let store = store(ctx)?;
    let now = store.now();
    let units = store
        .incident_paper_backlog(principal(ctx)?, incident)
        .await
        .api()?;
    Ok(units
        .into_iter()
        .map(|unit| UnitPaperBacklog { unit, now })
        .collect())
}

#[derive(Default)]
pub struct PaperBacklogMutation;

#[Object]
impl PaperBacklogMutation {
    /// Records `count` paper forms at `stage` of a recovery run's back-log (a negative
    /// count corrects an earlier one). The unit's staff record received, registered and
    /// archived forms; spot checks are for the medical responsible nurse and the crisis
    /// leads. `clientId` (a UUID the phone chose) makes a retry apply once.
    async fn record_paper_backlog(
        &self,
        ctx: &Context<'_>,
        run_id: ID,
        stage: PaperBacklogStage,
        count: i64,
        client_id: String,
    ) -> async_graphql::Result<RunPaperBacklog> {
        let run_id = parse_id("runId", &run_id)?;
        let client_id = ClientWriteId::parse("clientId", &client_id).api()?;
        let store = store(ctx)?;
        let run = store
            .record_paper_backlog(principal(ctx)?, run_id, stage.into(), count, client_id)
            .await
            .api()?;
        Ok(RunPaperBacklog {
            run,
            now: store.now(),
        })
    }

    /// Sets the date a recovery run's back-log must be caught up, or clears it; for the
    /// crisis leads.
    async fn set_paper_backlog_due(
        &self,
        ctx: &Context<'_>,
        run_id: ID,
        due_at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<RunPaperBacklog> {
        let run_id = parse_id("runId", &run_id)?;
        let store = store(ctx)?;
        let run = store
            .set_paper_backlog_due(principal(ctx)?, run_id, due_at)
            .await
            .api()?;
        Ok(RunPaperBacklog {
            run,
            now: store.now(),
        })
    }
}
