//! What stops when an IT system goes down: the critical activities that depend on it,
//! in every plan's version in force, most urgent first, with the fallback routines
//! written for each.
//!
//! This is the crisis staff's first question in an outage, so it must answer across
//! units in a handful of queries; it must never show a plan, activity or routine the
//! asker may not read, and leaves those out without a trace.

use crate::directory::find_system;
use crate::entities::{activity_dependencies, critical_activities, plan_versions, plans, routines};
use crate::plans::versions::current_of;
use crate::plans::{plan_scope, rows};
use crate::{Result, Store, convert};
use reserv_domain::access::{Action, Principal};
use reserv_domain::ids::{PlanId, SystemId, UnitId};
use reserv_domain::plans::{CriticalActivity, Plan, PlanVersion, Routine};
use reserv_domain::systems::ItSystem;
use reserv_domain::units::OrgUnit;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{BTreeMap, BTreeSet};

/// The consequences of one system being down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impact {
    pub system: ItSystem,
    /// Ordered by recovery time objective, shortest first, then by name.
    pub activities: Vec<AffectedActivity>,
}

/// A critical activity that depends on the system, with where it belongs and how to
/// keep it going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedActivity {
    /// The unit whose plan holds the activity.
    pub unit: OrgUnit,
    pub plan: Plan,
    /// The plan's version in force (approved, or the draft when none is).
    pub version: PlanVersion,
    pub activity: CriticalActivity,
    /// The routines written for this activity that the asker may read.
    pub routines: Vec<Routine>,
}

impl Impact {
    /// The units affected, each once, in the order of their first activity.
    pub fn units(&self) -> Vec<&OrgUnit> {
        let mut seen = BTreeSet::new();
        self.activities
            .iter()
            .map(|affected| &affected.unit)
            .filter(|unit| seen.insert(unit.id))
            .collect()
    }
}

impl Store {
    pub async fn impact(&self, who: &Principal, system: SystemId) -> Result<Impact> {
        who.authorize_somewhere(Action::ReadPlans)?;
        let system = find_system(&self.db, system).await?;
        let activity_ids: BTreeSet<i64> = activity_dependencies::Entity::find()
            .filter(activity_dependencies::Column::SystemId.eq(system.id.0))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| row.activity_id)
            .collect();
        let activities = critical_activities::Entity::find()
            .filter(critical_activities::Column::Id.is_in(activity_ids))
            .all(&self.db)
            .await?;
        let touched: BTreeSet<i64> = activities.iter().map(|row| row.version_id).collect();
        let plan_ids: BTreeSet<i64> = plan_versions::Entity::find()
            .filter(plan_versions::Column::Id.is_in(touched))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| row.plan_id)
            .collect();
        let in_force = self.readable_versions_in_force(who, &plan_ids).await?;

        let mut affected = Vec::new();
        for row in activities {
            let Some(found) = in_force.get(&row.version_id) else {
                continue;
            };
            affected.push(AffectedActivity {
                unit: found.unit.clone(),
                plan: found.plan.clone(),
                version: found.version.clone(),
                activity: rows::activity(row),
                routines: Vec::new(),
            });
        }
        self.attach_routines(who, &mut affected).await?;
        affected.sort_by(|a, b| {
            (a.activity.rto_minutes, &a.activity.name, a.activity.id).cmp(&(
                b.activity.rto_minutes,
                &b.activity.name,
                b.activity.id,
            ))
        });
        Ok(Impact {
            system,
            activities: affected,
        })
    }

    /// The versions in force of the given plans that `who` may read, by version id.
    /// Reads of classified versions are recorded.
    async fn readable_versions_in_force(
        &self,
        who: &Principal,
        plan_ids: &BTreeSet<i64>,
    ) -> Result<BTreeMap<i64, InForce>> {
        let mut versions: BTreeMap<PlanId, Vec<PlanVersion>> = BTreeMap::new();
        for row in plan_versions::Entity::find()
            .filter(plan_versions::Column::PlanId.is_in(plan_ids.iter().copied()))
            .order_by_asc(plan_versions::Column::Version)
            .all(&self.db)
            .await?
        {
            let version = rows::version(row)?;
            versions.entry(version.plan_id).or_default().push(version);
        }
        let plans = plans::Entity::find()
            .filter(plans::Column::Id.is_in(plan_ids.iter().copied()))
            .all(&self.db)
            .await?;
        let unit_ids: Vec<UnitId> = plans.iter().map(|row| UnitId(row.unit_id)).collect();
        let units: BTreeMap<UnitId, OrgUnit> = crate::entities::units::Entity::find()
            .filter(crate::entities::units::Column::Id.is_in(unit_ids.iter().map(|id| id.0)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| convert::unit(row).map(|unit| (unit.id, unit)))
            .collect::<Result<_>>()?;

        let mut in_force = BTreeMap::new();
        for row in plans {
            let plan = rows::plan(row)?;
            let (Some(unit), Some(version)) = (
                units.get(&plan.unit_id),
                current_of(versions.remove(&plan.id).unwrap_or_default()),
            ) else {
                continue;
            };
            let level = version.classification.confidentiality;
            if who
                .authorize_read(Action::ReadPlans, plan_scope(&plan, &unit.path), level)
                .is_err()
            {
                continue;
            }
            if level.read_is_audited() {
                self.record_read(who, "plan_version", version.id, "impact")
                    .await?;
            }
            in_force.insert(
                version.id.0,
                InForce {
                    unit: unit.clone(),
                    plan,
                    version,
                },
            );
        }
        Ok(in_force)
    }

    /// Fills in each activity's routines, leaving out those above the asker's clearance
    /// in the activity's unit.
    async fn attach_routines(
        &self,
        who: &Principal,
        affected: &mut [AffectedActivity],
    ) -> Result<()> {
        let activity_ids = affected.iter().map(|a| a.activity.id.0);
        let rows = routines::Entity::find()
            .filter(routines::Column::ActivityId.is_in(activity_ids))
            .order_by_asc(routines::Column::Id)
            .all(&self.db)
            .await?;
        let mut by_activity: BTreeMap<i64, Vec<Routine>> = BTreeMap::new();
        for routine in rows::load_routines(&self.db, rows).await? {
            if let Some(activity) = routine.activity_id {
                by_activity.entry(activity.0).or_default().push(routine);
            }
        }
        for entry in affected.iter_mut() {
            let scope = plan_scope(&entry.plan, &entry.unit.path);
            let clearance = who.clearance_in(Action::ReadPlans, scope);
            for routine in by_activity.remove(&entry.activity.id.0).unwrap_or_default() {
                let level = routine.classification.confidentiality;
                if level > clearance {
                    continue;
                }
                if level.read_is_audited() {
                    self.record_read(who, "routine", routine.id, "routine")
                        .await?;
                }
                entry.routines.push(routine);
            }
        }
        Ok(())
    }
}

/// A plan's version in force, with its plan and unit.
struct InForce {
    unit: OrgUnit,
    plan: Plan,
    version: PlanVersion,
}
