//! The paper back-log of recovery runs (see `reserv_domain::paper_backlog`): the unit's
//! staff record how many forms were received, registered and archived, the crisis leads
//! (among them the medical responsible nurse) the spot checks and the due date, and the
//! crisis lead reads what is left per unit. Counts are appended, never changed; a count
//! sent again with the same client id (a phone that was offline) is applied once.

use super::markable_run;
use super::progress::details_of;
use crate::audit::{Audit, AuditedObject};
use crate::entities::{checklist_runs, paper_backlog_entries};
use crate::{Result, Store, convert};
use chrono::{DateTime, Utc};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::audit::AuditAction;
use reserv_domain::checklists::RunPhase;
use reserv_domain::ids::{IncidentId, UnitId};
use reserv_domain::incidents::ClientWriteId;
use reserv_domain::paper_backlog::{Backlog, BacklogStage};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use std::collections::HashMap;

/// One recorded count, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacklogEntry {
    pub stage: BacklogStage,
    pub count: i64,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// The back-log of one recovery run (a unit's routine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunBacklog {
    pub run_id: i64,
    pub unit_id: UnitId,
    pub routine_title: String,
    pub backlog: Backlog,
    pub due_at: Option<DateTime<Utc>>,
    pub entries: Vec<BacklogEntry>,
}

impl RunBacklog {
    /// Forms are left and the due date has passed.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.backlog.left() > 0 && self.due_at.is_some_and(|due| due < now)
    }
}

impl AuditedObject for RunBacklog {
    fn audit_id(&self) -> Option<String> {
        Some(self.run_id.to_string())
    }
}

/// A unit's back-log over all its recovery runs of an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitBacklog {
    pub unit_id: UnitId,
    pub backlog: Backlog,
    /// The earliest due date of the unit's runs that still have forms left.
    pub due_at: Option<DateTime<Utc>>,
    pub runs: Vec<RunBacklog>,
}

impl Store {
    /// Records `count` forms at `stage` of a recovery run's back-log; see the module
    /// documentation.
    pub async fn record_paper_backlog(
        &self,
        who: &Principal,
        run_id: i64,
        stage: BacklogStage,
        count: i64,
        client_id: ClientWriteId,
    ) -> Result<RunBacklog> {
        let audit = Audit::new(AuditAction::Record, "paper_backlog").on(run_id);
        let mut change = self.change().await?;
        let result = async {
            let tx = change.tx();
            let run = backlog_run(tx, who, run_id).await?;
            let recorded = entries_of(tx, &[run_id]).await?;
            let replayed = recorded
                .get(&run_id)
                .is_some_and(|entries| entries.iter().any(|row| row.client_id == client_id.as_str()));
            if !replayed {
                if stage.needs_clinical_responsibility() {
                    who.authorize(Action::ManageIncidents, Scope::Organisation)
                        .map_err(|_| {
                            DomainError::forbidden(format!(
                                "{} may not record spot checks: the medical responsible nurse and the crisis leads do",
                                who.username
                            ))
                        })?;
                }
                let before = backlog_of(recorded.get(&run_id).map(Vec::as_slice).unwrap_or_default())?;
                before.record(stage, count)?;
                paper_backlog_entries::ActiveModel {
                    id: NotSet,
                    run_id: Set(run_id),
                    stage: Set(stage.as_str().to_owned()),
                    count: Set(i32::try_from(count).map_err(|_| {
                        DomainError::validation("count", format!("{count} is not a count of forms"))
                    })?),
                    client_id: Set(client_id.as_str().to_owned()),
                    recorded_by_id: Set(who.account_id.map(|id| id.0)),
                    recorded_by: Set(who.username.clone()),
                    recorded_at: Set(self.now()),
                }
                .insert(tx)
                .await?;
            }
            let backlog = one_run_backlog(tx, run).await?;
            // A retry answers what the first request recorded, and records nothing.
            if !replayed {
                change.audited(self, who, &audit, &backlog);
            }
            Ok(backlog)
        }
        .await;
        self.conclude(change, who, audit, result).await
    }

    /// Sets (or clears) the date a recovery run's back-log must be caught up; for those
    /// who manage incidents.
    pub async fn set_paper_backlog_due(
        &self,
        who: &Principal,
        run_id: i64,
        due_at: Option<DateTime<Utc>>,
    ) -> Result<RunBacklog> {
        let audit = Audit::new(AuditAction::SetDue, "paper_backlog").on(run_id);
        let mut change = self.change().await?;
        let result = async {
            let tx = change.tx();
            who.authorize(Action::ManageIncidents, Scope::Organisation)?;
            let run = backlog_run(tx, who, run_id).await?;
            let mut row = run.into_active_model();
            row.backlog_due_at = Set(due_at);
            let run = row.update(tx).await?;
            let backlog = one_run_backlog(tx, run).await?;
            change.audited(self, who, &audit, &backlog);
            Ok(backlog)
        }
        .await;
        self.conclude(change, who, audit, result).await
    }

    /// The paper back-log of an incident's recovery runs, per unit in the order the
    /// runs opened: what the crisis lead follows until every form is archived.
    pub async fn incident_paper_backlog(
        &self,
        who: &Principal,
        incident_id: IncidentId,
    ) -> Result<Vec<UnitBacklog>> {
        self.readable_incident(who, incident_id, "paper_backlog")
            .await?;
        let runs = checklist_runs::Entity::find()
            .filter(checklist_runs::Column::IncidentId.eq(incident_id.0))
            .filter(checklist_runs::Column::Phase.eq(RunPhase::Recovery.as_str()))
            .order_by_asc(checklist_runs::Column::Id)
            .all(&self.db)
            .await?;
        let mut units: Vec<UnitBacklog> = Vec::new();
        for run in run_backlogs(&self.db, runs).await? {
            let position = match units.iter().position(|unit| unit.unit_id == run.unit_id) {
                Some(position) => position,
                None => {
                    units.push(UnitBacklog {
                        unit_id: run.unit_id,
                        backlog: Backlog::default(),
                        due_at: None,
                        runs: Vec::new(),
                    });
                    units.len() - 1
                }
            };
            let unit = &mut units[position];
            unit.backlog = unit.backlog.plus(run.backlog);
            if run.backlog.left() > 0 {
                unit.due_at = match (unit.due_at, run.due_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            unit.runs.push(run);
        }
        Ok(units)
    }
}

/// The run, when `who` may mark it and it is a recovery run.
async fn backlog_run(
    db: &impl ConnectionTrait,
    who: &Principal,
    run_id: i64,
) -> Result<checklist_runs::Model> {
    let run = markable_run(db, who, run_id).await?;
    if run.phase != RunPhase::Recovery.as_str() {
        return Err(DomainError::validation(
            "runId",
            "only recovery runs keep a paper back-log; it opens when the incident moves to recovering",
        )
        .into());
    }
    Ok(run)
}

async fn entries_of(
    db: &impl ConnectionTrait,
    run_ids: &[i64],
) -> Result<HashMap<i64, Vec<paper_backlog_entries::Model>>> {
    let mut by_run: HashMap<i64, Vec<paper_backlog_entries::Model>> = HashMap::new();
    for row in paper_backlog_entries::Entity::find()
        .filter(paper_backlog_entries::Column::RunId.is_in(run_ids.iter().copied()))
        .order_by_asc(paper_backlog_entries::Column::Id)
        .all(db)
        .await?
    {
        by_run.entry(row.run_id).or_default().push(row);
    }
    Ok(by_run)
}

fn backlog_of(rows: &[paper_backlog_entries::Model]) -> Result<Backlog> {
    Ok(Backlog::of(
        rows.iter()
            .map(|row| {
                Ok((
                    convert::stored(&row.stage, "paper_backlog_entries.stage")?,
                    i64::from(row.count),
                ))
            })
            .collect::<Result<Vec<_>>>()?,
    ))
}

/// The back-log of one run, as a change answers it.
async fn one_run_backlog(
    db: &impl ConnectionTrait,
    run: checklist_runs::Model,
) -> Result<RunBacklog> {
    let run_id = run.id;
    run_backlogs(db, vec![run])
        .await?
        .pop()
        .ok_or_else(|| DomainError::not_found("checklist run", run_id).into())
}

/// The back-logs of `runs`, with their routines' titles, in two queries and a lookup.
async fn run_backlogs(
    db: &impl ConnectionTrait,
    runs: Vec<checklist_runs::Model>,
) -> Result<Vec<RunBacklog>> {
    let ids: Vec<i64> = runs.iter().map(|run| run.id).collect();
    let mut entries = entries_of(db, &ids).await?;
    let details = details_of(db, runs.clone()).await?;
    runs.into_iter()
        .map(|run| {
            let rows = entries.remove(&run.id).unwrap_or_default();
            Ok(RunBacklog {
                run_id: run.id,
                unit_id: UnitId(run.unit_id),
                routine_title: details
                    .get(&run.id)
                    .map(|detail| detail.routine_title.clone())
                    .unwrap_or_default(),
                backlog: backlog_of(&rows)?,
                due_at: run.backlog_due_at,
                entries: rows
                    .into_iter()
                    .map(|row| {
                        Ok(BacklogEntry {
                            stage: convert::stored(&row.stage, "paper_backlog_entries.stage")?,
                            count: i64::from(row.count),
                            recorded_by: row.recorded_by,
                            recorded_at: row.recorded_at,
                        })
                    })
                    .collect::<Result<_>>()?,
            })
        })
        .collect()
}
