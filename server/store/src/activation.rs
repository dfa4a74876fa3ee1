//! Activating a playbook: in one change, open an incident (or join an open one), activate
//! the approved continuity plans of the units it involves, create the playbook's tasks
//! with assignees resolved from the crisis roles people hold, start a checklist run for
//! every activated routine, prepare the playbook's messages as drafts (see
//! [`crate::message_drafts`]) and write a crisis log entry for each of those effects.
//!
//! An activation is found again by its idempotency key: the same key twice returns the
//! first activation and creates nothing.

use crate::audit::{Audit, AuditedObject, Change};
use crate::entities::{
    account_roles, accounts, activations, checklist_runs, incident_plan_activations, plan_versions,
    plans, playbooks, routines, units,
};
use crate::message_drafts::DraftOccasion;
use crate::playbook_suggestions::path_names;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Role, Scope};
use reserv_domain::audit::AuditAction;
use reserv_domain::checklists::RunPhase;
use reserv_domain::classification::Classification;
use reserv_domain::ids::{IncidentId, PersonId, PlanVersionId, RoutineId, UnitId};
use reserv_domain::incidents::{LogEntryKind, NewIncident, NewLogEntry, NewTask};
use reserv_domain::plans::PlanState;
use reserv_playbooks::Playbook;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// What a crisis lead asks for when activating a playbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationRequest {
    pub playbook_id: String,
    /// The units whose plans to activate; empty means the units the playbook involves
    /// that have an approved plan.
    pub unit_ids: Vec<UnitId>,
    /// 1 (most severe) to 4; `None` takes the playbook's.
    pub severity: Option<i64>,
    pub exercise: bool,
    pub note: Option<String>,
    pub idempotency_key: String,
    /// An open incident to join, such as a triaged report from the floor.
    pub incident_id: Option<IncidentId>,
}

/// A unit's approved plan version, activated for an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivatedPlan {
    pub incident_id: IncidentId,
    pub unit_id: UnitId,
    pub version_id: PlanVersionId,
    pub exercise: bool,
    pub activated_at: DateTime<Utc>,
}

/// A run through an activated routine's steps for one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistRun {
    pub id: i64,
    pub incident_id: IncidentId,
    pub unit_id: UnitId,
    pub routine_id: RoutineId,
    pub phase: RunPhase,
    pub exercise: bool,
    pub started_at: DateTime<Utc>,
}

/// What an activation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub id: i64,
    pub playbook_id: String,
    pub incident_id: IncidentId,
    pub exercise: bool,
    pub activated_at: DateTime<Utc>,
    pub plans: Vec<ActivatedPlan>,
    pub runs: Vec<ChecklistRun>,
    /// How many tasks the activation created (none when it was replayed).
    pub tasks_created: usize,
    /// How many message drafts the activation prepared (none when it was replayed).
    pub drafts_created: usize,
    /// Whether this answer is the first activation with the same idempotency key.
    pub replayed: bool,
}

impl AuditedObject for Activation {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl Store {
    /// Activates a playbook; see the module documentation.
    pub async fn activate_playbook(
        &self,
        who: &Principal,
        request: ActivationRequest,
    ) -> Result<Activation> {
        who.authorize(Action::ActivatePlaybooks, Scope::Organisation)?;
        let key = request.idempotency_key.trim().to_owned();
        let mut change = self.change().await?;
        let result = self.activate_playbook_in(&mut change, who, request).await;
        if let Err(error) = &result
            && error.is_unique_violation()
        {
            // On PostgreSQL a second request with the same key waits at the insert
            // for the first to commit and then collides with its key: it is a replay.
            change.abandon().await?;
            if let Some(first) = activation_by_key(&self.db, &key).await? {
                return Ok(first);
            }
            self.record_refusal(who, &Audit::new(AuditAction::Activate, "playbook"), error)
                .await;
            return result;
        }
        self.conclude(
            change,
            who,
            Audit::new(AuditAction::Activate, "playbook"),
            result,
        )
        .await
    }

    /// [`Store::activate_playbook`] as part of a larger change.
    pub(crate) async fn activate_playbook_in(
        &self,
        change: &mut Change,
        who: &Principal,
        request: ActivationRequest,
    ) -> Result<Activation> {
        who.authorize(Action::ActivatePlaybooks, Scope::Organisation)?;
        let key = request.idempotency_key.trim().to_owned();
        if key.is_empty() || key.chars().count() > 128 {
            return Err(
                DomainError::validation("idempotencyKey", "give 1 to 128 characters").into(),
            );
        }
        // Inside the change: on SQLite the write lock orders two requests with one key,
        // so the second finds the first here.
        if let Some(first) = activation_by_key(change.tx(), &key).await? {
            return Ok(first);
        }
        let now = self.now();
        let playbook = load_playbook(change.tx(), &request.playbook_id).await?;
        let unit_rows = involved_units(change.tx(), &playbook, &request.unit_ids).await?;
        let approved = approved_versions(change.tx(), &unit_rows).await?;
        let note = request
            .note
            .as_deref()
            .map(str::trim)
            .filter(|note| !note.is_empty());

        // Open the incident, or join the one named.
        let unit_ids: Vec<UnitId> = unit_rows.iter().map(|row| UnitId(row.id)).collect();
        let incident = match request.incident_id {
            None => {
                let severity = request
                    .severity
                    .or(playbook.severity.map(|s| i64::from(s.level())))
                    .unwrap_or(2);
                self.report_incident_in(
                    change,
                    who,
                    NewIncident {
                        title: playbook.title.sv.clone(),
                        description: note.map(str::to_owned),
                        kind: playbook.kind,
                        severity,
                        exercise: request.exercise,
                        classification: Classification::default(),
                        unit_ids: unit_ids.clone(),
                        system_ids: Vec::new(),
                    },
                    None,
                )
                .await?
            }
            Some(id) => {
                let joined = self.incident(who, id).await?;
                if joined.exercise != request.exercise {
                    return Err(DomainError::validation(
                        "exercise",
                        "an exercise activation may only join an exercise, a real one only a real incident",
                    )
                    .into());
                }
                let mut all_units = joined.unit_ids.clone();
                all_units.extend(unit_ids.iter().copied());
                all_units.dedup();
                self.set_incident_units_in(change, who, id, all_units)
                    .await?
            }
        };
        let activation = activations::ActiveModel {
            id: NotSet,
            idempotency_key: Set(key),
            playbook_id: Set(playbook.id.clone()),
            incident_id: Set(incident.id.0),
            exercise: Set(request.exercise),
            activated_by: Set(who.username.chars().take(64).collect()),
            activated_at: Set(now),
        }
        .insert(change.tx())
        .await?;

        // The units' plans and their routines' checklist runs.
        let wanted: Vec<&str> = playbook.routines.iter().map(|key| key.as_str()).collect();
        let routine_rows = routines::Entity::find()
            .filter(routines::Column::VersionId.is_in(approved.values().map(|v| v.id)))
            .filter(routines::Column::Key.is_in(wanted.iter().copied()))
            .order_by_asc(routines::Column::Id)
            .all(change.tx())
            .await?;
        let mut plans_activated = Vec::new();
        let mut runs = Vec::new();
        // Written together after the plans and the tasks, in the order they happen, so
        // that the incident is checked and touched once for all of them.
        let mut entries = Vec::new();
        for unit in &unit_rows {
            let Some(version) = approved.get(&unit.id) else {
                continue;
            };
            incident_plan_activations::ActiveModel {
                id: NotSet,
                incident_id: Set(incident.id.0),
                activation_id: Set(activation.id),
                unit_id: Set(unit.id),
                plan_version_id: Set(version.id),
                exercise: Set(request.exercise),
                activated_at: Set(now),
            }
            .insert(change.tx())
            .await?;
            plans_activated.push(ActivatedPlan {
                incident_id: incident.id,
                unit_id: UnitId(unit.id),
                version_id: PlanVersionId(version.id),
                exercise: request.exercise,
                activated_at: now,
            });
            let mut started = Vec::new();
            for routine in routine_rows.iter().filter(|r| r.version_id == version.id) {
                let run = checklist_runs::ActiveModel {
                    id: NotSet,
                    incident_id: Set(incident.id.0),
                    activation_id: Set(activation.id),
                    unit_id: Set(unit.id),
                    routine_id: Set(routine.id),
                    phase: Set(RunPhase::Fallback.as_str().to_owned()),
                    exercise: Set(request.exercise),
                    started_at: Set(now),
                    backlog_due_at: NotSet,
                }
                .insert(change.tx())
                .await?;
                runs.push(run_of(run));
                started.push(routine.title.as_str());
            }
            let routines_text = if started.is_empty() {
                "inga av playbookens rutiner finns i planen".to_owned()
            } else {
                format!("checklistor startade: {}", started.join(", "))
            };
            let text = format!(
                "{}Kontinuitetsplanen för {} (version {}) aktiverad enligt playbook \"{}\"; {}.",
                exercise_prefix(request.exercise),
                unit.name,
                version.version,
                playbook.title.sv,
                routines_text
            );
            entries.push(action_entry(text));
        }

        // The tasks, each assigned to someone who holds the role.
        let holders = role_holders(change.tx(), &playbook).await?;
        let mut tasks = Vec::new();
        for planned in &playbook.tasks {
            let targets: Vec<Option<&units::Model>> = if planned.per_unit {
                unit_rows.iter().map(Some).collect()
            } else {
                vec![None]
            };
            for unit in targets {
                let assignee = holder_for(&holders, planned.role, unit.map(|u| u.id));
                let title = match unit {
                    Some(unit) => format!("{} – {}", planned.title.sv, unit.name),
                    None => planned.title.sv.clone(),
                };
                let due = chrono::Duration::from_std(planned.due_in)
                    .ok()
                    .and_then(|wait| now.checked_add_signed(wait));
                tasks.push(NewTask {
                    title: format!("{}{title}", exercise_prefix(request.exercise)),
                    assignee_id: assignee,
                    assignee_role: Some(planned.role),
                    due_at: due,
                    confidentiality: None,
                });
            }
        }
        let created = self
            .create_tasks_in(change, who, incident.id, tasks)
            .await?;
        let tasks_created = created.len();
        for task in &created {
            let role = task
                .assignee_role
                .map(|role| role.as_str())
                .unwrap_or_default();
            let text = format!(
                "{}Uppgift skapad: \"{}\" för rollen {role}{}.",
                exercise_prefix(request.exercise),
                task.title,
                if task.assignee_id.is_some() {
                    ", tilldelad"
                } else {
                    ", ingen innehar rollen ännu"
                }
            );
            entries.push(action_entry(text));
        }
        self.append_log_entries_in(change, who, incident.id, entries)
            .await?;
        let drafts_created = self
            .prepare_message_drafts_in(
                change,
                who,
                DraftOccasion {
                    playbook: &playbook,
                    incident: &incident,
                    activation_id: activation.id,
                    units: &unit_rows,
                    exercise: request.exercise,
                    activated_at: now,
                },
            )
            .await?;
        let found = Activation {
            id: activation.id,
            playbook_id: playbook.id,
            incident_id: incident.id,
            exercise: request.exercise,
            activated_at: now,
            plans: plans_activated,
            runs,
            tasks_created,
            drafts_created,
            replayed: false,
        };
        change.audited(
            self,
            who,
            &Audit::new(AuditAction::Activate, "playbook"),
            &found,
        );
        Ok(found)
    }

    /// The continuity plans activated for an incident, in the order they were activated.
    pub async fn activated_plans(
        &self,
        who: &Principal,
        incident_id: IncidentId,
    ) -> Result<Vec<ActivatedPlan>> {
        self.readable_incident(who, incident_id, "activated_plans")
            .await?;
        Ok(incident_plan_activations::Entity::find()
            .filter(incident_plan_activations::Column::IncidentId.eq(incident_id.0))
            .order_by_asc(incident_plan_activations::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(plan_of)
            .collect())
    }

    /// The checklist runs of an incident, in the order they were started.
    pub async fn checklist_runs(
        &self,
        who: &Principal,
        incident_id: IncidentId,
    ) -> Result<Vec<ChecklistRun>> {
        self.readable_incident(who, incident_id, "checklist_runs")
            .await?;
        Ok(checklist_runs::Entity::find()
            .filter(checklist_runs::Column::IncidentId.eq(incident_id.0))
            .order_by_asc(checklist_runs::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(run_of)
            .collect())
    }
}

/// The first activation made with `key`, if any, as it was made.
async fn activation_by_key(db: &impl ConnectionTrait, key: &str) -> Result<Option<Activation>> {
    let Some(row) = activations::Entity::find()
        .filter(activations::Column::IdempotencyKey.eq(key.trim()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let plans = incident_plan_activations::Entity::find()
        .filter(incident_plan_activations::Column::ActivationId.eq(row.id))
        .order_by_asc(incident_plan_activations::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(plan_of)
        .collect();
    let runs = checklist_runs::Entity::find()
        .filter(checklist_runs::Column::ActivationId.eq(row.id))
        .order_by_asc(checklist_runs::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(run_of)
        .collect();
    Ok(Some(Activation {
        id: row.id,
        playbook_id: row.playbook_id,
        incident_id: IncidentId(row.incident_id),
        exercise: row.exercise,
        activated_at: row.activated_at,
        plans,
        runs,
        tasks_created: 0,
        drafts_created: 0,
        replayed: true,
    }))
}

/// What starts every text an exercise writes, so that nobody mistakes it for the real thing.
pub(crate) fn exercise_prefix(exercise: bool) -> &'static str {
    if exercise { "ÖVNING: " } else { "" }
}

pub(crate) fn action_entry(text: String) -> NewLogEntry {
    NewLogEntry {
        kind: LogEntryKind::Action,
        text,
        occurred_at: None,
        corrects: None,
        confidentiality: None,
    }
}

fn plan_of(row: incident_plan_activations::Model) -> ActivatedPlan {
    ActivatedPlan {
        incident_id: IncidentId(row.incident_id),
        unit_id: UnitId(row.unit_id),
        version_id: PlanVersionId(row.plan_version_id),
        exercise: row.exercise,
        activated_at: row.activated_at,
    }
}

pub(crate) fn run_of(row: checklist_runs::Model) -> ChecklistRun {
    ChecklistRun {
        id: row.id,
        incident_id: IncidentId(row.incident_id),
        unit_id: UnitId(row.unit_id),
        routine_id: RoutineId(row.routine_id),
        // Only this store writes the column, with one of the two names.
        phase: if row.phase == RunPhase::Recovery.as_str() {
            RunPhase::Recovery
        } else {
            RunPhase::Fallback
        },
        exercise: row.exercise,
        started_at: row.started_at,
    }
}

/// The playbook in use with `id`, read back from the version stored at import.
async fn load_playbook(db: &impl ConnectionTrait, id: &str) -> Result<Playbook> {
    let row = playbooks::Entity::find_by_id(id.trim().to_owned())
        .one(db)
        .await?
        .ok_or_else(|| {
            DomainError::validation(
                "playbookId",
                format!("there is no playbook \"{}\" in use", id.trim()),
            )
        })?;
    reserv_playbooks::check_source(Path::new(&row.file), &row.source, None).map_err(|problems| {
        let first = problems
            .first()
            .map_or_else(String::new, |problem| problem.message.clone());
        StoreError::from(DomainError::validation(
            "playbookId",
            format!(
                "the stored playbook \"{}\" no longer reads: {first}",
                row.id
            ),
        ))
    })
}

/// The units to activate: those asked for, or the units the playbook involves that have
/// an approved plan. Ordered by path, parents first.
async fn involved_units(
    db: &impl ConnectionTrait,
    playbook: &Playbook,
    asked: &[UnitId],
) -> Result<Vec<units::Model>> {
    let all = units::Entity::find()
        .order_by_asc(units::Column::Path)
        .all(db)
        .await?;
    if !asked.is_empty() {
        let mut chosen = Vec::new();
        for id in asked {
            let unit = all.iter().find(|unit| unit.id == id.0).ok_or_else(|| {
                DomainError::validation("unitIds", format!("there is no unit {id}"))
            })?;
            if !chosen.iter().any(|c: &units::Model| c.id == unit.id) {
                chosen.push(unit.clone());
            }
        }
        return Ok(chosen);
    }
    let approved_plans: Vec<i64> = plan_versions::Entity::find()
        .filter(plan_versions::Column::State.eq(PlanState::Approved.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|version| version.plan_id)
        .collect();
    let planned: Vec<i64> = plans::Entity::find()
        .filter(plans::Column::Id.is_in(approved_plans))
        .all(db)
        .await?
        .into_iter()
        .map(|plan| plan.unit_id)
        .collect();
    let names: HashMap<i64, &str> = all
        .iter()
        .map(|unit| (unit.id, unit.name.as_str()))
        .collect();
    Ok(all
        .iter()
        .filter(|unit| planned.contains(&unit.id))
        .filter(|unit| {
            playbook
                .involves
                .covers(&unit.name, path_names(unit, &names))
        })
        .cloned()
        .collect())
}

/// Each unit's approved plan version; a unit without one is refused by name, so that
/// nothing is activated by halves.
async fn approved_versions(
    db: &impl ConnectionTrait,
    unit_rows: &[units::Model],
) -> Result<HashMap<i64, plan_versions::Model>> {
    if unit_rows.is_empty() {
        return Err(DomainError::validation(
            "unitIds",
            "no unit to activate: name units with an approved continuity plan",
        )
        .into());
    }
    let plan_units: HashMap<i64, i64> = plans::Entity::find()
        .filter(plans::Column::UnitId.is_in(unit_rows.iter().map(|unit| unit.id)))
        .all(db)
        .await?
        .into_iter()
        .map(|plan| (plan.id, plan.unit_id))
        .collect();
    let mut approved = HashMap::new();
    for version in plan_versions::Entity::find()
        .filter(plan_versions::Column::PlanId.is_in(plan_units.keys().copied()))
        .filter(plan_versions::Column::State.eq(PlanState::Approved.as_str()))
        .all(db)
        .await?
    {
        if let Some(unit) = plan_units.get(&version.plan_id) {
            approved.insert(*unit, version);
        }
    }
    if let Some(missing) = unit_rows
        .iter()
        .find(|unit| !approved.contains_key(&unit.id))
    {
        return Err(DomainError::validation(
            "unitIds",
            format!(
                "{} (unit {}) has no approved continuity plan to activate",
                missing.name, missing.id
            ),
        )
        .into());
    }
    Ok(approved)
}

/// The people holding each role the playbook's tasks name: per role, the unit the role
/// is held for (`None` for the whole organisation) and the person, lowest account first.
async fn role_holders(
    db: &impl ConnectionTrait,
    playbook: &Playbook,
) -> Result<BTreeMap<&'static str, Vec<(Option<i64>, PersonId)>>> {
    let roles: Vec<&'static str> = playbook
        .tasks
        .iter()
        .map(|task| task.role.as_str())
        .collect();
    let grants = account_roles::Entity::find()
        .filter(account_roles::Column::Role.is_in(roles.iter().copied()))
        .order_by_asc(account_roles::Column::AccountId)
        .all(db)
        .await?;
    let people: HashMap<i64, i64> = accounts::Entity::find()
        .filter(accounts::Column::Id.is_in(grants.iter().map(|grant| grant.account_id)))
        .filter(accounts::Column::Disabled.eq(false))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|account| account.person_id.map(|person| (account.id, person)))
        .collect();
    let mut holders: BTreeMap<&'static str, Vec<(Option<i64>, PersonId)>> = BTreeMap::new();
    for grant in grants {
        let (Some(role), Some(person)) = (
            roles.iter().find(|role| **role == grant.role),
            people.get(&grant.account_id),
        ) else {
            continue;
        };
        holders
            .entry(role)
            .or_default()
            .push((grant.unit_id, PersonId(*person)));
    }
    Ok(holders)
}

/// Who takes a task for `role`: someone holding it for the unit, else someone holding it
/// for the whole organisation.
fn holder_for(
    holders: &BTreeMap<&'static str, Vec<(Option<i64>, PersonId)>>,
    role: Role,
    unit: Option<i64>,
) -> Option<PersonId> {
    let held = holders.get(role.as_str())?;
    held.iter()
        .find(|(for_unit, _)| unit.is_some() && *for_unit == unit)
        .or_else(|| held.iter().find(|(for_unit, _)| for_unit.is_none()))
        .map(|(_, person)| *person)
}
