//! How far checklist runs have come: each step with its current state and marks, and
//! the progress of a run, of each unit and of the whole incident. Runs, steps and marks
//! are read set-wise (a few queries for any number of runs), never one run at a time.

use super::mark_of;
use crate::activation::{ChecklistRun, run_of};
use crate::entities::{checklist_runs, checklist_ticks, routine_steps, routines};
use crate::per_key::{PerKey, answer_for};
use crate::{Result, Store};
use reserv_domain::DomainError;
use reserv_domain::access::Principal;
use reserv_domain::checklists::{Mark, MarkKind, Progress, RunPhase, is_ticked};
use reserv_domain::ids::{IncidentId, UnitId};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{BTreeMap, HashMap};

/// A step of a run with its current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistStep {
    pub id: i64,
    /// From 1, as printed in the binder.
    pub number: i64,
    pub who: String,
    pub what: String,
    pub when: Option<String>,
    pub ticked: bool,
    /// Every mark on the step, oldest first, unticks and comments included.
    pub marks: Vec<Mark>,
}

impl ChecklistStep {
    /// The tick or untick that decided the step's state, if any.
    pub fn last_tick(&self) -> Option<&Mark> {
        self.marks
            .iter()
            .rev()
            .find(|mark| mark.kind != MarkKind::Comment)
    }
}

/// A run with its routine's title and its steps as they stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDetail {
    pub run: ChecklistRun,
    pub routine_title: String,
    pub steps: Vec<ChecklistStep>,
}

impl RunDetail {
    pub fn progress(&self) -> Progress {
        Progress {
            done: self.steps.iter().filter(|step| step.ticked).count(),
            total: self.steps.len(),
        }
    }
}

/// One unit's progress over its runs in an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitProgress {
    pub unit_id: UnitId,
    pub runs: usize,
    pub progress: Progress,
}

/// An incident's progress over its runs, in all and per unit (units in the order of
/// their first run).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IncidentProgress {
    pub progress: Progress,
    pub units: Vec<UnitProgress>,
}

impl Store {
    /// Runs by id with their steps, each answered as a read of its incident would be.
    pub async fn checklist_run_details(
        &self,
        who: &Principal,
        run_ids: &[i64],
    ) -> Result<PerKey<i64, RunDetail>> {
        let rows = checklist_runs::Entity::find()
            .filter(checklist_runs::Column::Id.is_in(run_ids.iter().copied()))
            .all(&self.db)
            .await?;
        // Each incident once: a batch read answers a key only once.
        let mut incidents: Vec<IncidentId> =
            rows.iter().map(|row| IncidentId(row.incident_id)).collect();
        incidents.sort_unstable_by_key(|id| id.0);
        incidents.dedup();
        let readable = self
            .readable_incidents(who, &incidents, "checklist_runs")
            .await?;
        let allowed: Vec<checklist_runs::Model> = rows
            .into_iter()
            .filter(|row| {
                readable
                    .get(&IncidentId(row.incident_id))
                    .is_some_and(|answer| answer.is_ok())
            })
            .collect();
        let mut details = details_of(&self.db, allowed).await?;
        let mut answers = PerKey::new();
        for id in run_ids {
            let answer = match details.remove(id) {
                Some(detail) => Ok(detail),
                None => Err(DomainError::not_found("checklist run", id)),
            };
            answers.insert(*id, answer);
        }
        Ok(answers)
    }

    /// One run with its steps; see [`Store::checklist_run_details`].
    pub async fn checklist_run_detail(&self, who: &Principal, run_id: i64) -> Result<RunDetail> {
        answer_for(
            self.checklist_run_details(who, &[run_id]).await?,
            run_id,
            "checklist run",
        )
    }

    /// How far the incident's runs in `phase` (all runs when `None`) have come, in all
    /// and per unit.
    pub async fn incident_checklist_progress(
        &self,
        who: &Principal,
        incident_id: IncidentId,
        phase: Option<RunPhase>,
    ) -> Result<IncidentProgress> {
        self.readable_incident(who, incident_id, "checklist_runs")
            .await?;
        let mut select = checklist_runs::Entity::find()
            .filter(checklist_runs::Column::IncidentId.eq(incident_id.0));
        if let Some(phase) = phase {
            select = select.filter(checklist_runs::Column::Phase.eq(phase.as_str()));
        }
        let rows = select
            .order_by_asc(checklist_runs::Column::Id)
            .all(&self.db)
            .await?;
        let order: Vec<i64> = rows.iter().map(|row| row.id).collect();
        let details = details_of(&self.db, rows).await?;
        Ok(sum_per_unit(order.iter().filter_map(|id| details.get(id))))
    }
}

/// Adds runs up per unit, keeping the units in the order they first appear.
pub(super) fn sum_per_unit<'a>(runs: impl IntoIterator<Item = &'a RunDetail>) -> IncidentProgress {
    let mut summed = IncidentProgress::default();
    for detail in runs {
        let progress = detail.progress();
        summed.progress = summed.progress + progress;
        match summed
            .units
            .iter_mut()
            .find(|unit| unit.unit_id == detail.run.unit_id)
        {
            Some(unit) => {
                unit.runs += 1;
                unit.progress = unit.progress + progress;
            }
            None => summed.units.push(UnitProgress {
                unit_id: detail.run.unit_id,
                runs: 1,
                progress,
            }),
        }
    }
    summed
}

/// The steps of each run (those of its routine in the run's phase), by run id, without
/// their marks.
pub(super) async fn steps_of(
    db: &impl ConnectionTrait,
    runs: &[checklist_runs::Model],
) -> Result<HashMap<i64, Vec<routine_steps::Model>>> {
    let routine_ids: Vec<i64> = runs.iter().map(|run| run.routine_id).collect();
    let mut by_routine: BTreeMap<(i64, String), Vec<routine_steps::Model>> = BTreeMap::new();
    for step in routine_steps::Entity::find()
        .filter(routine_steps::Column::RoutineId.is_in(routine_ids))
        .order_by_asc(routine_steps::Column::Position)
        .order_by_asc(routine_steps::Column::Id)
        .all(db)
        .await?
    {
        by_routine
            .entry((step.routine_id, step.phase.clone()))
            .or_default()
            .push(step);
    }
    Ok(runs
        .iter()
        .map(|run| {
            let steps = by_routine
                .get(&(run.routine_id, run.phase.clone()))
                .cloned()
                .unwrap_or_default();
            (run.id, steps)
        })
        .collect())
}

/// The marks on one step of a run, oldest first.
pub(super) async fn marks_of_step(
    db: &impl ConnectionTrait,
    run_id: i64,
    step_id: i64,
) -> Result<Vec<Mark>> {
    checklist_ticks::Entity::find()
        .filter(checklist_ticks::Column::RunId.eq(run_id))
        .filter(checklist_ticks::Column::StepId.eq(step_id))
        .order_by_asc(checklist_ticks::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(mark_of)
        .collect()
}

/// The runs with their routines' titles, steps and marks, by run id, in three queries.
pub(super) async fn details_of(
    db: &impl ConnectionTrait,
    runs: Vec<checklist_runs::Model>,
) -> Result<HashMap<i64, RunDetail>> {
    let steps = steps_of(db, &runs).await?;
    let titles: HashMap<i64, String> = routines::Entity::find()
        .filter(routines::Column::Id.is_in(runs.iter().map(|run| run.routine_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id, row.title))
        .collect();
    let mut marks: HashMap<(i64, i64), Vec<Mark>> = HashMap::new();
    for row in checklist_ticks::Entity::find()
        .filter(checklist_ticks::Column::RunId.is_in(runs.iter().map(|run| run.id)))
        .order_by_asc(checklist_ticks::Column::Id)
        .all(db)
        .await?
    {
        let mark = mark_of(row)?;
        marks
            .entry((mark.run_id, mark.step_id))
            .or_default()
            .push(mark);
    }
    Ok(runs
        .into_iter()
        .map(|run| {
            let steps = steps
                .get(&run.id)
                .into_iter()
                .flatten()
                .zip(1..)
                .map(|(step, number)| {
                    let marks = marks.remove(&(run.id, step.id)).unwrap_or_default();
                    ChecklistStep {
                        id: step.id,
                        number,
                        who: step.who.clone(),
                        what: step.what.clone(),
                        when: step.when_text.clone(),
                        ticked: is_ticked(&marks),
                        marks,
                    }
                })
                .collect();
            let detail = RunDetail {
                routine_title: titles.get(&run.routine_id).cloned().unwrap_or_default(),
                run: run_of(run),
                steps,
            };
            (detail.run.id, detail)
        })
        .collect())
}
