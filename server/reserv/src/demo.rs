//! The demo data set: a fictional Swedish municipality's elderly care and disability
//! services, loaded through the same store use cases as everything else, so the demo
//! obeys every rule a real organisation's data does.
//!
//! The data lives in `demo/sample-municipality.toml`; keys in that file are local names
//! for references between its records.

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use reserv_domain::Clock;
use reserv_domain::access::{Principal, Role, RoleGrant};
use reserv_domain::classification::Classification;
use reserv_domain::ids::{ActivityId, LogEntryId, PersonId, SystemId, UnitId};
use reserv_domain::incidents::{
    IncidentKind, IncidentState, LogEntryKind, NewIncident, NewLogEntry, NewTask, TaskState,
};
use reserv_domain::people::{Language, PersonRequest};
use reserv_domain::plans::{
    ActivityRequest, DependencyKind, DependencyRequest, Material, NewPlan, RoutineRequest,
    RoutineStep, VersionContent,
};
use reserv_domain::systems::{Criticality, SystemRequest};
use reserv_domain::units::{NewUnit, UnitKind};
use reserv_store::{NewAccount, Store};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const SAMPLE_MUNICIPALITY: &str = include_str!("../demo/sample-municipality.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoSet {
    units: Vec<DemoUnit>,
    people: Vec<DemoPerson>,
    it_systems: Vec<DemoSystem>,
    accounts: Vec<DemoAccount>,
    plans: Vec<DemoPlan>,
    incidents: Vec<DemoIncident>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoUnit {
    key: String,
    name: String,
    kind: UnitKind,
    parent: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoPerson {
    key: String,
    name: String,
    title: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    language: Language,
    external: bool,
    organisation: Option<String>,
    #[serde(default)]
    units: Vec<String>,
    confidentiality: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoSystem {
    key: String,
    name: String,
    description: Option<String>,
    owner: Option<String>,
    supplier: Option<String>,
    criticality: Criticality,
    health_check_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoAccount {
    username: String,
    person: String,
    password: String,
    roles: Vec<DemoRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRole {
    role: Role,
    unit: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoPlan {
    unit: String,
    title: String,
    owner: Option<String>,
    review_interval_months: i64,
    summary: Option<String>,
    activation_criteria: Option<String>,
    confidentiality: i64,
    integrity: i64,
    availability: i64,
    approved: bool,
    #[serde(default)]
    activities: Vec<DemoActivity>,
    #[serde(default)]
    routines: Vec<DemoRoutine>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoActivity {
    key: String,
    name: String,
    description: Option<String>,
    mtpd_minutes: i64,
    rto_minutes: i64,
    rpo_minutes: i64,
    #[serde(default)]
    dependencies: Vec<DemoDependency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoDependency {
    kind: DependencyKind,
    system: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRoutine {
    title: String,
    activity: Option<String>,
    trigger: String,
    confidentiality: i64,
    integrity: i64,
    availability: i64,
    steps: Vec<RoutineStep>,
    #[serde(default)]
    materials: Vec<Material>,
    #[serde(default)]
    recovery_steps: Vec<RoutineStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoIncident {
    title: String,
    description: Option<String>,
    kind: IncidentKind,
    severity: i64,
    exercise: bool,
    confidentiality: i64,
    integrity: i64,
    availability: i64,
    commander: Option<String>,
    reported_by: String,
    reported_at: DateTime<Utc>,
    closed_at: DateTime<Utc>,
    #[serde(default)]
    units: Vec<String>,
    #[serde(default)]
    systems: Vec<String>,
    #[serde(default)]
    log: Vec<DemoLogEntry>,
    #[serde(default)]
    tasks: Vec<DemoTask>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoLogEntry {
    kind: LogEntryKind,
    at: DateTime<Utc>,
    author: String,
    text: String,
    /// 1-based position of an earlier entry of the same log.
    corrects: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoTask {
    title: String,
    assignee: Option<String>,
    assignee_role: Option<String>,
    due_at: Option<DateTime<Utc>>,
    state: TaskState,
}

/// A demo account as printed at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub username: String,
    pub password: String,
    pub roles: String,
}

/// The demo accounts of the data set, whether or not it has been loaded yet.
pub fn demo_logins() -> anyhow::Result<Vec<DemoLogin>> {
    let set = parse()?;
    Ok(set
        .accounts
        .into_iter()
        .map(|account| DemoLogin {
            roles: account
                .roles
                .iter()
                .map(|role| match &role.unit {
                    Some(unit) => format!("{} ({unit})", role.role),
                    None => role.role.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            username: account.username,
            password: account.password,
        })
        .collect())
}

fn parse() -> anyhow::Result<DemoSet> {
    toml::from_str(SAMPLE_MUNICIPALITY)
        .context("demo/sample-municipality.toml is not a valid demo data set")
}

/// Loads the demo data set when the database holds no units yet. Returns whether it was
/// loaded; a database with data of its own is left alone.
pub async fn load_if_empty(store: &Store) -> anyhow::Result<bool> {
    let operator = Principal::operator("demo data");
    if !store.units(&operator).await?.is_empty() {
        return Ok(false);
    }
    let set = parse()?;
    Loader::new(store, operator).load(set).await.context(
        "loading the demo data failed part-way; remove the database file and start again",
    )?;
    Ok(true)
}

/// A clock the loader sets to the time of each past event it replays.
#[derive(Debug)]
struct ReplayClock(Mutex<DateTime<Utc>>);

impl ReplayClock {
    fn set(&self, time: DateTime<Utc>) {
        match self.0.lock() {
            Ok(mut now) => *now = time,
            Err(poisoned) => *poisoned.into_inner() = time,
        }
    }
}

impl Clock for ReplayClock {
    fn now(&self) -> DateTime<Utc> {
        match self.0.lock() {
            Ok(now) => *now,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

struct Loader<'a> {
    store: &'a Store,
    operator: Principal,
    units: HashMap<String, UnitId>,
    people: HashMap<String, PersonId>,
    systems: HashMap<String, SystemId>,
}

fn lookup<T: Copy>(map: &HashMap<String, T>, what: &str, key: &str) -> anyhow::Result<T> {
    map.get(key)
        .copied()
        .with_context(|| format!("the {what} '{key}' is not defined in the demo data"))
}

impl<'a> Loader<'a> {
    fn new(store: &'a Store, operator: Principal) -> Self {
        Self {
            store,
            operator,
            units: HashMap::new(),
            people: HashMap::new(),
            systems: HashMap::new(),
        }
    }

    async fn load(mut self, set: DemoSet) -> anyhow::Result<()> {
        for unit in set.units {
            let parent_id = unit
                .parent
                .as_deref()
                .map(|key| lookup(&self.units, "unit", key))
                .transpose()?;
            let created = self
                .store
                .create_unit(
                    &self.operator,
                    NewUnit {
                        parent_id,
                        name: unit.name,
                        kind: unit.kind,
                    },
                )
                .await
                .with_context(|| format!("unit '{}'", unit.key))?;
            self.units.insert(unit.key, created.id);
        }
        for person in set.people {
            let unit_ids = person
                .units
                .iter()
                .map(|key| lookup(&self.units, "unit", key))
                .collect::<anyhow::Result<_>>()?;
            let created = self
                .store
                .create_person(
                    &self.operator,
                    PersonRequest {
                        name: person.name,
                        title: person.title,
                        phone: person.phone,
                        email: person.email,
                        language: person.language,
                        external: person.external,
                        organisation: person.organisation,
                        unit_ids,
                        confidentiality: person.confidentiality,
                    },
                )
                .await
                .with_context(|| format!("person '{}'", person.key))?;
            self.people.insert(person.key, created.id);
        }
        for system in set.it_systems {
            let owner_id = system
                .owner
                .as_deref()
                .map(|key| lookup(&self.people, "person", key))
                .transpose()?;
            let created = self
                .store
                .create_system(
                    &self.operator,
                    SystemRequest {
                        name: system.name,
                        description: system.description,
                        owner_id,
                        supplier: system.supplier,
                        criticality: system.criticality,
                        health_check_url: system.health_check_url,
                    },
                )
                .await
                .with_context(|| format!("IT system '{}'", system.key))?;
            self.systems.insert(system.key, created.id);
        }
        for account in set.accounts {
            let grants = account
                .roles
                .iter()
                .map(|role| {
                    let unit = role
                        .unit
                        .as_deref()
                        .map(|key| lookup(&self.units, "unit", key))
                        .transpose()?;
                    Ok(RoleGrant::new(role.role, unit)?)
                })
                .collect::<anyhow::Result<_>>()?;
            self.store
                .create_account(
                    &self.operator,
                    NewAccount {
                        username: account.username.clone(),
                        password: Some(account.password),
                        person_id: Some(lookup(&self.people, "person", &account.person)?),
                        grants,
                    },
                )
                .await
                .with_context(|| format!("account '{}'", account.username))?;
        }
        for plan in set.plans {
            let title = plan.title.clone();
            self.load_plan(plan)
                .await
                .with_context(|| format!("plan '{title}'"))?;
        }
        for incident in set.incidents {
            let title = incident.title.clone();
            self.load_incident(incident)
                .await
                .with_context(|| format!("incident '{title}'"))?;
        }
        Ok(())
    }

    async fn load_plan(&self, plan: DemoPlan) -> anyhow::Result<()> {
        let (store, operator) = (self.store, &self.operator);
        let created = store
            .create_plan(
                operator,
                NewPlan {
                    unit_id: lookup(&self.units, "unit", &plan.unit)?,
                    title: plan.title,
                    owner_id: plan
                        .owner
                        .as_deref()
                        .map(|key| lookup(&self.people, "person", key))
                        .transpose()?,
                    review_interval_months: Some(plan.review_interval_months),
                },
            )
            .await?;
        let Some(draft) = store.current_version(operator, created.id).await? else {
            bail!("a new plan has no draft version");
        };
        store
            .update_draft(
                operator,
                draft.id,
                VersionContent {
                    summary: plan.summary,
                    activation_criteria: plan.activation_criteria,
                    classification: Classification::new(
                        plan.confidentiality,
                        plan.integrity,
                        plan.availability,
                    )?,
                },
            )
            .await?;
        let mut activities: HashMap<String, ActivityId> = HashMap::new();
        for activity in plan.activities {
            let created = store
                .add_activity(
                    operator,
                    draft.id,
                    ActivityRequest {
                        name: activity.name,
                        description: activity.description,
                        mtpd_minutes: activity.mtpd_minutes,
                        rto_minutes: activity.rto_minutes,
                        rpo_minutes: activity.rpo_minutes,
                    },
                )
                .await
                .with_context(|| format!("activity '{}'", activity.key))?;
            for dependency in activity.dependencies {
                let system_id = dependency
                    .system
                    .as_deref()
                    .map(|key| lookup(&self.systems, "IT system", key))
                    .transpose()?;
                store
                    .add_dependency(
                        operator,
                        created.id,
                        DependencyRequest {
                            kind: dependency.kind,
                            system_id,
                            name: dependency.name,
                        },
                    )
                    .await
                    .with_context(|| format!("a dependency of activity '{}'", activity.key))?;
            }
            activities.insert(activity.key, created.id);
        }
        for routine in plan.routines {
            let activity_id = routine
                .activity
                .as_deref()
                .map(|key| lookup(&activities, "activity", key))
                .transpose()?;
            store
                .add_routine(
                    operator,
                    draft.id,
                    RoutineRequest {
                        activity_id,
                        title: routine.title.clone(),
                        trigger: routine.trigger,
                        classification: Classification::new(
                            routine.confidentiality,
                            routine.integrity,
                            routine.availability,
                        )?,
                        steps: routine.steps,
                        materials: routine.materials,
                        recovery_steps: routine.recovery_steps,
                    },
                )
                .await
                .with_context(|| format!("routine '{}'", routine.title))?;
        }
        if plan.approved {
            store.approve_version(operator, draft.id).await?;
        }
        Ok(())
    }

    /// Replays a past incident event by event, with the store's clock set to each
    /// event's time, so that its record reads as it was written at the time.
    async fn load_incident(&self, incident: DemoIncident) -> anyhow::Result<()> {
        let clock = Arc::new(ReplayClock(Mutex::new(incident.reported_at)));
        let store = self.store.with_clock(clock.clone());
        let mut principals: HashMap<String, Principal> = HashMap::new();
        for username in std::iter::once(&incident.reported_by)
            .chain(incident.log.iter().map(|entry| &entry.author))
        {
            if !principals.contains_key(username) {
                let principal = store
                    .principal_by_username(&self.operator, username)
                    .await?;
                principals.insert(username.clone(), principal);
            }
        }
        let reporter = lookup_principal(&principals, &incident.reported_by)?;
        let reported = store
            .report_incident(
                reporter,
                NewIncident {
                    title: incident.title,
                    description: incident.description,
                    kind: incident.kind,
                    severity: incident.severity,
                    exercise: incident.exercise,
                    classification: Classification::new(
                        incident.confidentiality,
                        incident.integrity,
                        incident.availability,
                    )?,
                    unit_ids: incident
                        .units
                        .iter()
                        .map(|key| lookup(&self.units, "unit", key))
                        .collect::<anyhow::Result<_>>()?,
                    system_ids: incident
                        .systems
                        .iter()
                        .map(|key| lookup(&self.systems, "IT system", key))
                        .collect::<anyhow::Result<_>>()?,
                },
            )
            .await?;
        let id = reported.id;
        let lead = &self.operator;

        // The response, in time order: triage, activation at the first decision, the log
        // entries, tasks, recovery once three quarters of the time had passed, closure.
        let start = incident.reported_at;
        let activated = incident
            .log
            .iter()
            .find(|entry| entry.kind == LogEntryKind::Decision)
            .map_or(start + Duration::minutes(10), |entry| entry.at);
        let recovering = activated + (incident.closed_at - activated) * 3 / 4;
        let mut events: Vec<(DateTime<Utc>, Event)> = vec![
            (
                start + Duration::minutes(5),
                Event::State(IncidentState::Triaged),
            ),
            (activated, Event::State(IncidentState::Active)),
            (recovering, Event::State(IncidentState::Recovering)),
        ];
        events.extend(
            incident
                .log
                .iter()
                .enumerate()
                .map(|(index, entry)| (entry.at, Event::Log(index))),
        );
        for (index, task) in incident.tasks.iter().enumerate() {
            events.push((activated, Event::CreateTask(index)));
            if task.state != TaskState::Open {
                let finished = task
                    .due_at
                    .unwrap_or(incident.closed_at)
                    .min(incident.closed_at - Duration::minutes(1));
                events.push((finished.max(activated), Event::FinishTask(index)));
            }
        }
        events.sort_by_key(|(time, _)| *time);

        clock.set(start + Duration::minutes(1));
        if let Some(commander) = &incident.commander {
            store
                .assign_commander(lead, id, lookup(&self.people, "person", commander)?)
                .await?;
        }
        let mut entries: Vec<LogEntryId> = Vec::new();
        let mut tasks = Vec::new();
        for (time, event) in events {
            clock.set(time);
            match event {
                Event::State(state) => {
                    store.change_incident_state(lead, id, state).await?;
                }
                Event::Log(index) => {
                    let entry = &incident.log[index];
                    let corrects = match entry.corrects {
                        Some(position) => Some(
                            *entries
                                .get(position.wrapping_sub(1))
                                .with_context(|| format!("log entry {} corrects entry {position}, which does not come before it", index + 1))?,
                        ),
                        None => None,
                    };
                    let written = store
                        .add_log_entry(
                            lookup_principal(&principals, &entry.author)?,
                            id,
                            NewLogEntry {
                                kind: entry.kind,
                                text: entry.text.clone(),
                                occurred_at: Some(entry.at),
                                corrects,
                            },
                        )
                        .await
                        .with_context(|| format!("log entry {}", index + 1))?;
                    entries.push(written.id);
                }
                Event::CreateTask(index) => {
                    let task = &incident.tasks[index];
                    let created = store
                        .create_task(
                            lead,
                            id,
                            NewTask {
                                title: task.title.clone(),
                                assignee_id: task
                                    .assignee
                                    .as_deref()
                                    .map(|key| lookup(&self.people, "person", key))
                                    .transpose()?,
                                assignee_role: task.assignee_role.clone(),
                                due_at: task.due_at,
                            },
                        )
                        .await?;
                    tasks.push((index, created.id));
                }
                Event::FinishTask(index) => {
                    if let Some((_, task_id)) = tasks.iter().find(|(created, _)| *created == index)
                    {
                        store
                            .change_task_state(lead, *task_id, incident.tasks[index].state)
                            .await?;
                    }
                }
            }
        }
        clock.set(incident.closed_at);
        store
            .change_incident_state(lead, id, IncidentState::Closed)
            .await?;
        Ok(())
    }
}

enum Event {
    State(IncidentState),
    Log(usize),
    CreateTask(usize),
    FinishTask(usize),
}

fn lookup_principal<'p>(
    principals: &'p HashMap<String, Principal>,
    username: &str,
) -> anyhow::Result<&'p Principal> {
    principals
        .get(username)
        .with_context(|| format!("the account '{username}' is not defined in the demo data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_set_parses_and_covers_every_role() -> anyhow::Result<()> {
        let set = parse()?;
        assert!(
            set.units
                .iter()
                .filter(|unit| unit.kind == UnitKind::Unit)
                .count()
                >= 6
        );
        assert!(set.it_systems.len() >= 8);
        assert!(
            set.plans
                .iter()
                .map(|plan| plan.routines.len())
                .sum::<usize>()
                >= 15
        );
        for role in Role::ALL {
            assert!(
                set.accounts
                    .iter()
                    .any(|account| account.roles.iter().any(|r| r.role == *role)),
                "no demo account has the role {role}"
            );
        }
        assert_eq!(set.incidents.len(), 1);
        Ok(())
    }
}
