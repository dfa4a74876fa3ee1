//! Checklist runs during an incident: ticking, unticking and commenting a step, and how
//! far each run, unit and incident has come.
//!
//! Marks are only ever appended: an untick is a new row, never an erased tick. Each
//! mark carries an id the client chose, so that a phone that was offline may send its
//! ticks again until it sees an answer: the same id on the same run is applied once and
//! answered with the first mark. Only staff of the run's unit (and organisation-wide
//! roles such as crisis leads) may mark its steps.

mod backlog;
mod progress;
mod recovery;

pub use backlog::{BacklogEntry, RunBacklog, UnitBacklog};
pub use progress::{ChecklistStep, IncidentProgress, RunDetail, UnitProgress};

use crate::activation::{ChecklistRun, run_of};
use crate::audit::{Audit, AuditedObject, Change};
use crate::directory::unit_paths;
use crate::entities::{checklist_runs, checklist_ticks, routines};
use crate::incidents::rows::{locate, touch_open_incident};
use crate::{Result, Store, convert};
use progress::{marks_of_step, steps_of};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::audit::AuditAction;
use reserv_domain::checklists::{Mark, MarkKind, NewMark, is_ticked};
use reserv_domain::ids::{IncidentId, UnitId};
use reserv_domain::incidents::{ClientWriteId, IncidentChange, ensure_open};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// A mark as answered to the one who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedStep {
    pub mark: Mark,
    /// The step's number in its run, from 1.
    pub step: i64,
    pub run: ChecklistRun,
    /// Whether this answer is the first mark made with the same client id.
    pub replayed: bool,
}

impl AuditedObject for Mark {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl Store {
    /// Ticks, unticks or comments a step of a checklist run, at most once per
    /// `client_id` and run; see the module documentation.
    pub async fn mark_checklist_step(
        &self,
        who: &Principal,
        run_id: i64,
        mark: NewMark,
        client_id: ClientWriteId,
    ) -> Result<MarkedStep> {
        if let Some(first) = self.replayed_mark(who, run_id, &mark, &client_id).await? {
            return Ok(first);
        }
        let audit = Audit::new(audit_action(mark.kind), "checklist_step");
        let mut change = self.change().await?;
        let result = self
            .mark_checklist_step_in(&mut change, who, run_id, mark, client_id)
            .await;
        self.conclude(change, who, audit, result).await
    }

    /// [`Store::mark_checklist_step`] as part of a larger change.
    pub(crate) async fn mark_checklist_step_in(
        &self,
        change: &mut Change,
        who: &Principal,
        run_id: i64,
        mark: NewMark,
        client_id: ClientWriteId,
    ) -> Result<MarkedStep> {
        let tx = change.tx();
        let kind = mark.kind;
        let run = markable_run(tx, who, run_id).await?;
        let steps = steps_of(tx, std::slice::from_ref(&run)).await?;
        let steps = steps.get(&run_id).map(Vec::as_slice).unwrap_or_default();
        let routine = routines::Entity::find_by_id(run.routine_id)
            .one(tx)
            .await?
            .map(|row| row.title)
            .unwrap_or_default();
        let number = mark.step;
        let (index, comment) = mark.validate(&routine, steps.len())?;
        let Some(step) = steps.get(index) else {
            return Err(
                DomainError::validation("step", format!("step {number} does not exist")).into(),
            );
        };
        let earlier = marks_of_step(tx, run_id, step.id).await?;
        let ticked = match kind {
            MarkKind::Tick => true,
            MarkKind::Untick => false,
            MarkKind::Comment => is_ticked(&earlier),
        };
        let now = self.now();
        let row = checklist_ticks::ActiveModel {
            id: NotSet,
            run_id: Set(run_id),
            step_id: Set(step.id),
            kind: Set(kind.as_str().to_owned()),
            ticked: Set(ticked),
            comment: Set(comment),
            client_id: Set(client_id.as_str().to_owned()),
            author_id: Set(who.account_id.map(|id| id.0)),
            author: Set(who.username.chars().take(64).collect()),
            recorded_at: Set(now),
        };
        // A retry racing the first request finds the first row here instead of failing
        // on the unique index: PostgreSQL waits for the first to commit, then skips.
        let inserted = checklist_ticks::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    checklist_ticks::Column::RunId,
                    checklist_ticks::Column::ClientId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(tx)
            .await?;
        let stored = mark_by_client_id(tx, run_id, &client_id)
            .await?
            .ok_or_else(|| DomainError::not_found("checklist mark", client_id.as_str()))?;
        let run = run_of(run);
        if inserted == 0 {
            return answer_replay(stored, run, step.id, number, kind, &client_id);
        }
        touch_open_incident(tx, run.incident_id, now).await?;
        change.audited(
            self,
            who,
            &Audit::new(audit_action(kind), "checklist_step"),
            &stored,
        );
        change.announce(IncidentChange::ChecklistMarked {
            incident_id: run.incident_id,
            mark: stored.clone(),
            step: number,
        });
        Ok(MarkedStep {
            mark: stored,
            step: number,
            run,
            replayed: false,
        })
    }

    /// The first mark made with `client_id` on the run, when the caller may still see
    /// it and asks for the same thing again.
    async fn replayed_mark(
        &self,
        who: &Principal,
        run_id: i64,
        mark: &NewMark,
        client_id: &ClientWriteId,
    ) -> Result<Option<MarkedStep>> {
        let Some(first) = mark_by_client_id(&self.db, run_id, client_id).await? else {
            return Ok(None);
        };
        let run = markable_run(&self.db, who, run_id).await?;
        let steps = steps_of(&self.db, std::slice::from_ref(&run)).await?;
        let step_id = usize::try_from(mark.step)
            .ok()
            .and_then(|number| number.checked_sub(1))
            .and_then(|index| steps.get(&run_id)?.get(index))
            .map(|step| step.id);
        answer_replay(
            first,
            run_of(run),
            step_id.unwrap_or_default(),
            mark.step,
            mark.kind,
            client_id,
        )
        .map(Some)
    }
}

/// The answer to a mark sent again: the first one, provided the retry asks for the same
/// step and kind; a client id reused for something else is a mistake worth naming.
fn answer_replay(
    first: Mark,
    run: ChecklistRun,
    step_id: i64,
    step: i64,
    kind: MarkKind,
    client_id: &ClientWriteId,
) -> Result<MarkedStep> {
    if first.step_id != step_id || first.kind != kind {
        return Err(DomainError::conflict(format!(
            "clientId {} was already used for another mark on this checklist run; send a new id",
            client_id.as_str()
        ))
        .into());
    }
    Ok(MarkedStep {
        mark: first,
        step,
        run,
        replayed: true,
    })
}

fn audit_action(kind: MarkKind) -> AuditAction {
    match kind {
        MarkKind::Tick => AuditAction::Tick,
        MarkKind::Untick => AuditAction::Untick,
        MarkKind::Comment => AuditAction::Comment,
    }
}

/// The run, when `who` may mark its steps: they must read its incident, work in its
/// unit (or for the whole organisation), and the incident must be open.
async fn markable_run(
    db: &impl ConnectionTrait,
    who: &Principal,
    run_id: i64,
) -> Result<checklist_runs::Model> {
    who.authorize_somewhere(Action::TickChecklists)?;
    let run = checklist_runs::Entity::find_by_id(run_id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("checklist run", run_id))?;
    let incident = locate(db, IncidentId(run.incident_id)).await?;
    incident.authorize(who, Action::ReadIncidents)?;
    let paths = unit_paths(db, &[UnitId(run.unit_id)]).await?;
    let Some(path) = paths.first() else {
        return Err(DomainError::not_found("unit", run.unit_id).into());
    };
    who.authorize(Action::TickChecklists, Scope::Unit(path))
        .map_err(|_| {
            DomainError::forbidden(format!(
                "{} may not tick the steps of another unit's checklist: only the unit's staff and the crisis leads may",
                who.username
            ))
        })?;
    ensure_open(incident.incident.state)?;
    Ok(run)
}

async fn mark_by_client_id(
    db: &impl ConnectionTrait,
    run_id: i64,
    client_id: &ClientWriteId,
) -> Result<Option<Mark>> {
    checklist_ticks::Entity::find()
        .filter(checklist_ticks::Column::RunId.eq(run_id))
        .filter(checklist_ticks::Column::ClientId.eq(client_id.as_str()))
        .one(db)
        .await?
        .map(mark_of)
        .transpose()
}

pub(crate) fn mark_of(row: checklist_ticks::Model) -> Result<Mark> {
    Ok(Mark {
        id: row.id,
        run_id: row.run_id,
        step_id: row.step_id,
        kind: convert::stored(&row.kind, "checklist_ticks.kind")?,
        ticked: row.ticked,
        comment: row.comment,
        client_id: row.client_id,
        author: row.author,
        recorded_at: row.recorded_at,
    })
}
