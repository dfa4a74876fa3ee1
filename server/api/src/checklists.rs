//! Checklist runs over GraphQL: a run's steps as they stand, ticking, unticking and
//! commenting a step, and progress per run, unit and incident. Resolvers only parse
//! input and call the store, which checks access and the rules.

use crate::context::{parse_id, principal, store};
use crate::error::ApiResult;
use crate::loaders::{DetailOf, load, load_optional};
use crate::types::Unit;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_domain::checklists::{Mark, NewMark, Progress};
use reserv_domain::incidents::ClientWriteId;
use reserv_store::{ChecklistRun, ChecklistStep, IncidentProgress, MarkedStep, RunDetail};

/// Which of a routine's step lists a run works through.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::checklists::RunPhase")]
pub enum ChecklistPhase {
    /// The analog way of working while the system is down.
    Fallback,
    /// Bringing paper records back into the systems afterwards.
    Recovery,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::checklists::MarkKind")]
pub enum ChecklistMarkKind {
    Tick,
    Untick,
    Comment,
}

/// How many steps are ticked of how many.
#[derive(SimpleObject, Clone, Copy)]
#[graphql(name = "ChecklistProgress")]
pub struct ProgressObject {
    done: usize,
    total: usize,
    complete: bool,
}

impl From<Progress> for ProgressObject {
    fn from(progress: Progress) -> Self {
        Self {
            done: progress.done,
            total: progress.total,
            complete: progress.is_complete(),
        }
    }
}

/// A run through an activated routine's steps for one unit.
pub struct ChecklistRunObject(pub ChecklistRun);

impl ChecklistRunObject {
    async fn detail(&self, ctx: &Context<'_>) -> async_graphql::Result<RunDetail> {
        load(ctx, DetailOf(self.0.id)).await
    }
}

#[Object(name = "ChecklistRun")]
impl ChecklistRunObject {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn unit_id(&self) -> ID {
        self.0.unit_id.0.into()
    }
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        Ok(load_optional(ctx, Some(self.0.unit_id)).await?.map(Unit))
    }
    async fn routine_id(&self) -> ID {
        self.0.routine_id.0.into()
    }
    async fn routine_title(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(self.detail(ctx).await?.routine_title)
    }
    async fn phase(&self) -> ChecklistPhase {
        self.0.phase.into()
    }
    async fn exercise(&self) -> bool {
        self.0.exercise
    }
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }
    /// The routine's steps in this run's phase, each with its current state.
    async fn steps(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ChecklistStepObject>> {
        let detail = self.detail(ctx).await?;
        Ok(detail
            .steps
            .into_iter()
            .map(|step| ChecklistStepObject {
                step,
                exercise: self.0.exercise,
            })
            .collect())
    }
    async fn progress(&self, ctx: &Context<'_>) -> async_graphql::Result<ProgressObject> {
        Ok(self.detail(ctx).await?.progress().into())
    }
}

/// A step of a checklist run as it stands.
pub struct ChecklistStepObject {
    step: ChecklistStep,
    exercise: bool,
}

#[Object(name = "ChecklistStep")]
impl ChecklistStepObject {
    /// From 1, as printed in the binder; the number to tick it by.
    async fn number(&self) -> i64 {
        self.step.number
    }
    async fn who(&self) -> &str {
        &self.step.who
    }
    async fn what(&self) -> &str {
        &self.step.what
    }
    async fn when(&self) -> Option<&str> {
        self.step.when.as_deref()
    }
    async fn ticked(&self) -> bool {
        self.step.ticked
    }
    /// Who made the tick or untick that decides the state.
    async fn ticked_by(&self) -> Option<&str> {
        self.step.last_tick().map(|mark| mark.author.as_str())
    }
    async fn ticked_at(&self) -> Option<DateTime<Utc>> {
        self.step.last_tick().map(|mark| mark.recorded_at)
    }
    /// Every tick, untick and comment, oldest first: nothing is ever erased.
    async fn marks(&self) -> Vec<ChecklistMarkObject> {
        self.step
            .marks
            .iter()
            .cloned()
            .map(|mark| ChecklistMarkObject {
                mark,
                step: self.step.number,
                exercise: self.exercise,
            })
            .collect()
    }
}

/// A tick, untick or comment on a step.
pub struct ChecklistMarkObject {
    mark: Mark,
    step: i64,
    exercise: bool,
}

impl ChecklistMarkObject {
    pub(crate) fn new(mark: Mark, step: i64, exercise: bool) -> Self {
        Self {
            mark,
            step,
            exercise,
        }
    }
}

#[Object(name = "ChecklistMark")]
impl ChecklistMarkObject {
    async fn id(&self) -> ID {
        self.mark.id.into()
    }
    async fn run_id(&self) -> ID {
        self.mark.run_id.into()
    }
    /// The step's number, from 1.
    async fn step(&self) -> i64 {
        self.step
    }
    async fn kind(&self) -> ChecklistMarkKind {
        self.mark.kind.into()
    }
    /// Whether the step was ticked after this mark.
    async fn ticked(&self) -> bool {
        self.mark.ticked
    }
    async fn comment(&self) -> Option<&str> {
        self.mark.comment.as_deref()
    }
    async fn author(&self) -> &str {
        &self.mark.author
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.mark.recorded_at
    }
    async fn client_id(&self) -> &str {
        &self.mark.client_id
    }
    /// Whether the run belongs to an exercise.
    async fn exercise(&self) -> bool {
        self.exercise
    }
}

/// What a tick, untick or comment did.
pub struct MarkedStepObject(MarkedStep);

#[Object(name = "MarkedStep")]
impl MarkedStepObject {
    async fn mark(&self) -> ChecklistMarkObject {
        ChecklistMarkObject::new(self.0.mark.clone(), self.0.step, self.0.run.exercise)
    }
    /// The run after the mark.
    async fn run(&self) -> ChecklistRunObject {
        ChecklistRunObject(self.0.run.clone())
    }
    /// Whether this is the earlier mark sent with the same clientId.
    async fn replayed(&self) -> bool {
        self.0.replayed
    }
    async fn exercise(&self) -> bool {
        self.0.run.exercise
    }
}

/// An incident's progress over its checklist runs.
pub struct IncidentProgressObject(pub IncidentProgress);

#[Object(name = "IncidentChecklistProgress")]
impl IncidentProgressObject {
    async fn done(&self) -> usize {
        self.0.progress.done
    }
    async fn total(&self) -> usize {
        self.0.progress.total
    }
    async fn complete(&self) -> bool {
        self.0.progress.is_complete()
    }
    /// Per unit, in the order the units' runs were started.
    async fn units(&self) -> Vec<UnitProgressObject> {
        self.0
            .units
            .iter()
            .cloned()
            .map(UnitProgressObject)
            .collect()
    }
}

pub struct UnitProgressObject(reserv_store::UnitProgress);

#[Object(name = "UnitChecklistProgress")]
impl UnitProgressObject {
    async fn unit_id(&self) -> ID {
        self.0.unit_id.0.into()
    }
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        Ok(load_optional(ctx, Some(self.0.unit_id)).await?.map(Unit))
    }
    /// How many runs the unit has.
    async fn runs(&self) -> usize {
        self.0.runs
    }
    async fn done(&self) -> usize {
        self.0.progress.done
    }
    async fn total(&self) -> usize {
        self.0.progress.total
    }
    async fn complete(&self) -> bool {
        self.0.progress.is_complete()
    }
}

#[derive(Default)]
pub struct ChecklistMutation;

#[Object]
impl ChecklistMutation {
    /// Ticks step `step` (from 1) of a checklist run. `clientId` (a UUID the phone
    /// chose) makes a retry apply once: the same id again returns the first tick.
    async fn tick_checklist_step(
        &self,
        ctx: &Context<'_>,
        run_id: ID,
        step: i64,
        client_id: String,
        comment: Option<String>,
    ) -> async_graphql::Result<MarkedStepObject> {
        mark(
            ctx,
            &run_id,
            reserv_domain::checklists::MarkKind::Tick,
            step,
            &client_id,
            comment,
        )
        .await
    }

    /// Unticks a step. The tick stays in the step's history; the untick is a new mark.
    async fn untick_checklist_step(
        &self,
        ctx: &Context<'_>,
        run_id: ID,
        step: i64,
        client_id: String,
        comment: Option<String>,
    ) -> async_graphql::Result<MarkedStepObject> {
        mark(
            ctx,
            &run_id,
            reserv_domain::checklists::MarkKind::Untick,
            step,
            &client_id,
            comment,
        )
        .await
    }

    /// Comments a step without changing whether it is ticked.
    async fn comment_checklist_step(
        &self,
        ctx: &Context<'_>,
        run_id: ID,
        step: i64,
        client_id: String,
        comment: String,
    ) -> async_graphql::Result<MarkedStepObject> {
        mark(
            ctx,
            &run_id,
            reserv_domain::checklists::MarkKind::Comment,
            step,
            &client_id,
            Some(comment),
        )
        .await
    }
}

async fn mark(
    ctx: &Context<'_>,
    run_id: &ID,
    kind: reserv_domain::checklists::MarkKind,
    step: i64,
    client_id: &str,
    comment: Option<String>,
) -> async_graphql::Result<MarkedStepObject> {
    let run_id = parse_id("runId", run_id)?;
    let client_id = ClientWriteId::parse("clientId", client_id).api()?;
    let marked = store(ctx)?
        .mark_checklist_step(
            principal(ctx)?,
            run_id,
            NewMark {
                kind,
                step,
                comment,
            },
            client_id,
        )
        .await
        .api()?;
    Ok(MarkedStepObject(marked))
}
