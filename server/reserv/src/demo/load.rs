//! Creating the demo data set's records through the store.

use super::data_set::*;
use anyhow::{Context, bail};
use reserv_domain::access::{Principal, RoleGrant};
use reserv_domain::classification::Classification;
use reserv_domain::ids::{ActivityId, PersonId, SystemId, UnitId};
use reserv_domain::people::PersonRequest;
use reserv_domain::plans::{
    ActivityRequest, DependencyRequest, NewPlan, RoutineRequest, VersionContent,
};
use reserv_domain::systems::SystemRequest;
use reserv_domain::units::NewUnit;
use reserv_store::{NewAccount, Store};
use std::collections::HashMap;

pub(super) struct Loader<'a> {
    pub(super) store: &'a Store,
    pub(super) operator: Principal,
    pub(super) units: HashMap<String, UnitId>,
    pub(super) people: HashMap<String, PersonId>,
    pub(super) systems: HashMap<String, SystemId>,
}

pub(super) fn lookup<T: Copy>(
    map: &HashMap<String, T>,
    what: &str,
    key: &str,
) -> anyhow::Result<T> {
    map.get(key)
        .copied()
        .with_context(|| format!("the {what} '{key}' is not defined in the demo data"))
}

impl<'a> Loader<'a> {
    pub(super) fn new(store: &'a Store, operator: Principal) -> Self {
        Self {
            store,
            operator,
            units: HashMap::new(),
            people: HashMap::new(),
            systems: HashMap::new(),
        }
    }

    pub(super) async fn load(mut self, set: DemoSet) -> anyhow::Result<()> {
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
                        external_id: None,
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
                    )?
                    .with_traceability(plan.traceability)?,
                    lowering_reason: None,
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
                        key: Some(routine.key),
                        title: routine.title.clone(),
                        trigger: routine.trigger,
                        classification: Classification::new(
                            routine.confidentiality,
                            routine.integrity,
                            routine.availability,
                        )?
                        .with_traceability(routine.traceability)?,
                        steps: routine.steps,
                        materials: routine.materials,
                        recovery_steps: routine.recovery_steps,
                        lowering_reason: None,
                    },
                )
                .await
                .with_context(|| format!("routine '{}'", routine.title))?;
        }
        if let Some(approver) = plan.approved_by {
            let approver = store
                .principal_by_username(operator, &approver)
                .await
                .with_context(|| format!("the approver '{approver}'"))?;
            store.approve_version(&approver, draft.id).await?;
        }
        Ok(())
    }
}
