//! Recovery runs: when an incident moves to recovering, every activated routine that
//! has recovery steps (back-registration of paper records) gets a run of its own per
//! unit, and the incident may not close while one of them has unticked steps, unless
//! the one closing it gives a reason, which goes into the crisis log.

use super::progress::details_of;
use crate::activation::{ChecklistRun, action_entry, run_of};
use crate::audit::Change;
use crate::directory::unit_rows;
use crate::entities::{checklist_runs, routine_steps};
use crate::{Result, Store};
use reserv_domain::access::Principal;
use reserv_domain::checklists::{OpenRecovery, RunPhase};
use reserv_domain::ids::{IncidentId, UnitId};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::HashSet;

impl Store {
    /// Opens a recovery run for every fallback run of the incident whose routine has
    /// recovery steps and whose unit has no recovery run of that routine yet (an
    /// incident may go back to active and recover again), and logs what it opened.
    pub(crate) async fn open_recovery_runs_in(
        &self,
        change: &mut Change,
        who: &Principal,
        incident_id: IncidentId,
    ) -> Result<Vec<ChecklistRun>> {
        let tx = change.tx();
        let runs = runs_of(tx, incident_id, None).await?;
        let with_recovery: HashSet<i64> = routine_steps::Entity::find()
            .filter(routine_steps::Column::RoutineId.is_in(runs.iter().map(|run| run.routine_id)))
            .filter(routine_steps::Column::Phase.eq(RunPhase::Recovery.as_str()))
            .all(tx)
            .await?
            .into_iter()
            .map(|step| step.routine_id)
            .collect();
        let mut covered: HashSet<(i64, i64)> = runs
            .iter()
            .filter(|run| run.phase == RunPhase::Recovery.as_str())
            .map(|run| (run.unit_id, run.routine_id))
            .collect();
        let now = self.now();
        let mut opened = Vec::new();
        for run in runs
            .iter()
            .filter(|run| run.phase == RunPhase::Fallback.as_str())
        {
            if !with_recovery.contains(&run.routine_id)
                || !covered.insert((run.unit_id, run.routine_id))
            {
                continue;
            }
            let row = checklist_runs::ActiveModel {
                id: NotSet,
                incident_id: Set(run.incident_id),
                activation_id: Set(run.activation_id),
                unit_id: Set(run.unit_id),
                routine_id: Set(run.routine_id),
                phase: Set(RunPhase::Recovery.as_str().to_owned()),
                exercise: Set(run.exercise),
                started_at: Set(now),
                backlog_due_at: NotSet,
            }
            .insert(tx)
            .await?;
            opened.push(row);
        }
        if opened.is_empty() {
            return Ok(Vec::new());
        }
        let names = describe(tx, &opened).await?;
        let exercise = opened.iter().any(|run| run.exercise);
        let text = format!(
            "{}Återställningschecklistor öppnade (efterregistrering av pappersunderlag): {}.",
            if exercise { "ÖVNING: " } else { "" },
            names.join("; ")
        );
        self.append_log_entry_in(change, who, incident_id, action_entry(text), None)
            .await?;
        Ok(opened.into_iter().map(run_of).collect())
    }

    /// The incident's recovery runs that still have unticked steps, in the order they
    /// were opened.
    pub(crate) async fn open_recoveries(
        &self,
        db: &impl ConnectionTrait,
        incident_id: IncidentId,
    ) -> Result<Vec<OpenRecovery>> {
        let runs = runs_of(db, incident_id, Some(RunPhase::Recovery)).await?;
        let order: Vec<i64> = runs.iter().map(|run| run.id).collect();
        let details = details_of(db, runs).await?;
        let unfinished: Vec<_> = order
            .iter()
            .filter_map(|id| details.get(id))
            .filter(|detail| !detail.progress().is_complete())
            .collect();
        let units = unit_rows(
            db,
            &unfinished
                .iter()
                .map(|detail| detail.run.unit_id)
                .collect::<Vec<_>>(),
        )
        .await?;
        Ok(unfinished
            .into_iter()
            .map(|detail| OpenRecovery {
                unit: unit_name(&units, detail.run.unit_id),
                routine: detail.routine_title.clone(),
                progress: detail.progress(),
            })
            .collect())
    }
}

async fn runs_of(
    db: &impl ConnectionTrait,
    incident_id: IncidentId,
    phase: Option<RunPhase>,
) -> Result<Vec<checklist_runs::Model>> {
    let mut select =
        checklist_runs::Entity::find().filter(checklist_runs::Column::IncidentId.eq(incident_id.0));
    if let Some(phase) = phase {
        select = select.filter(checklist_runs::Column::Phase.eq(phase.as_str()));
    }
    Ok(select
        .order_by_asc(checklist_runs::Column::Id)
        .all(db)
        .await?)
}

/// "Unit: routine" for each run, for the crisis log.
async fn describe(
    db: &impl ConnectionTrait,
    runs: &[checklist_runs::Model],
) -> Result<Vec<String>> {
    let units = unit_rows(
        db,
        &runs
            .iter()
            .map(|run| UnitId(run.unit_id))
            .collect::<Vec<_>>(),
    )
    .await?;
    let details = details_of(db, runs.to_vec()).await?;
    Ok(runs
        .iter()
        .map(|run| {
            let routine = details
                .get(&run.id)
                .map(|detail| detail.routine_title.as_str())
                .unwrap_or_default();
            format!("{}: {routine}", unit_name(&units, UnitId(run.unit_id)))
        })
        .collect())
}

fn unit_name(
    units: &std::collections::HashMap<UnitId, reserv_domain::units::OrgUnit>,
    id: UnitId,
) -> String {
    units
        .get(&id)
        .map_or_else(|| format!("enhet {id}"), |unit| unit.name.clone())
}
