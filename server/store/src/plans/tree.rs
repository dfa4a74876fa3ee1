//! Level-at-once reads of the plan tree, for the API's batch loaders: the versions of
//! many plans, the activities of many versions, or the dependencies and routines of
//! many activities, in a fixed number of queries however many there are. Each object
//! is still checked against the policy on its own, exactly as a read of it alone
//! would be, and a key the reader may not have is answered with the refusal.

use super::rows;
use super::versions::current_of;
use super::{DependencyEntry, VersionInScope, plan_scope};
use crate::directory::unit_rows;
use crate::entities::{activity_dependencies, critical_activities, plan_versions, plans, routines};
use crate::per_key::{PerKey, answer_each, answer_for};
use crate::{Result, Store};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, UnitPath};
use reserv_domain::ids::{ActivityId, PlanId, PlanVersionId, UnitId};
use reserv_domain::plans::{CriticalActivity, Plan, PlanState, PlanVersion, Routine};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// A plan's versions as one reader sees them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanVersions {
    /// The versions the reader may read, oldest first.
    pub readable: Vec<PlanVersion>,
    /// The version in force (approved, else the draft), when the reader may read it.
    pub current: Option<PlanVersion>,
}

/// What hangs below one critical activity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActivityContents {
    pub dependencies: Vec<DependencyEntry>,
    /// The activity's routines that the reader may read.
    pub routines: Vec<Routine>,
}

/// Where a plan version sits: its plan and its state. Enough to say what a routine
/// belongs to without reading the version's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionPlace {
    pub plan: Plan,
    pub state: PlanState,
    /// The version's number, and when it was approved: what a printed binder's cover
    /// says, for readers who may not read the version's text.
    pub version: i32,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Store {
    /// A plan's versions the principal may read, oldest first. Versions classified
    /// above the principal's clearance in the plan's unit are left out.
    pub async fn plan_versions(&self, who: &Principal, plan: PlanId) -> Result<Vec<PlanVersion>> {
        Ok(answer_for(self.versions_of_plans(who, &[plan]).await?, plan, "plan")?.readable)
    }

    /// The version in force: the approved one, or else the draft being written; none
    /// when there is neither or it is above the principal's clearance.
    pub async fn current_version(
        &self,
        who: &Principal,
        plan: PlanId,
    ) -> Result<Option<PlanVersion>> {
        Ok(answer_for(self.versions_of_plans(who, &[plan]).await?, plan, "plan")?.current)
    }

    /// A version's critical activities in their order.
    pub async fn activities(
        &self,
        who: &Principal,
        version: PlanVersionId,
    ) -> Result<Vec<CriticalActivity>> {
        let answers = self.activities_of_versions(who, &[version]).await?;
        answer_for(answers, version, "plan version")
    }

    /// What an activity depends on, in the order added.
    pub async fn dependencies(
        &self,
        who: &Principal,
        activity: ActivityId,
    ) -> Result<Vec<DependencyEntry>> {
        let answers = self.contents_of_activities(who, &[activity]).await?;
        Ok(answer_for(answers, activity, "critical activity")?.dependencies)
    }

    /// A version's routines that the principal may read, in the order they were added.
    pub async fn routines(&self, who: &Principal, version: PlanVersionId) -> Result<Vec<Routine>> {
        let answers = self.routines_of_versions(who, &[version]).await?;
        answer_for(answers, version, "plan version")
    }

    /// Plans by id, each checked as [`Store::plan`] checks one.
    pub async fn plans_by_id(
        &self,
        who: &Principal,
        ids: &[PlanId],
    ) -> Result<PerKey<PlanId, Plan>> {
        let plans = plan_rows(&self.db, ids.iter().map(|id| id.0)).await?;
        let paths = unit_paths(&self.db, plans.values().map(|plan| plan.unit_id)).await?;
        let mut plans = plans;
        Ok(answer_each(ids, |id| {
            let plan = plans
                .remove(&id)
                .ok_or_else(|| DomainError::not_found("plan", id))?;
            let path = paths
                .get(&plan.unit_id)
                .ok_or_else(|| DomainError::not_found("unit", plan.unit_id))?;
            who.authorize(Action::ReadPlans, plan_scope(&plan, path))?;
            Ok(plan)
        }))
    }

    /// The versions of each plan that the reader may read, and the one in force.
    pub async fn versions_of_plans(
        &self,
        who: &Principal,
        plan_ids: &[PlanId],
    ) -> Result<PerKey<PlanId, PlanVersions>> {
        let plans = plan_rows(&self.db, plan_ids.iter().map(|id| id.0)).await?;
        let paths = unit_paths(&self.db, plans.values().map(|plan| plan.unit_id)).await?;
        let mut versions: HashMap<PlanId, Vec<PlanVersion>> = HashMap::new();
        for row in plan_versions::Entity::find()
            .filter(plan_versions::Column::PlanId.is_in(plans.keys().map(|id| id.0)))
            .order_by_asc(plan_versions::Column::Version)
            .all(&self.db)
            .await?
        {
            let version = rows::version(row)?;
            versions.entry(version.plan_id).or_default().push(version);
        }
        let mut answers = PerKey::new();
        for plan_id in plan_ids {
            let Some((plan, path)) = plans
                .get(plan_id)
                .and_then(|plan| paths.get(&plan.unit_id).map(|path| (plan, path)))
            else {
                answers.insert(*plan_id, Err(DomainError::not_found("plan", plan_id)));
                continue;
            };
            let scope = plan_scope(plan, path);
            if let Err(refusal) = who.authorize(Action::ReadPlans, scope) {
                answers.insert(*plan_id, Err(refusal));
                continue;
            }
            let clearance = who.clearance_in(Action::ReadPlans, scope);
            let all = versions.remove(plan_id).unwrap_or_default();
            let current =
                current_of(all.clone()).filter(|v| v.classification.confidentiality <= clearance);
            let mut readable = vec![];
            for version in all {
                let level = version.classification.confidentiality;
                if level > clearance {
                    continue;
                }
                if level.read_is_audited() {
                    self.record_read(who, "plan_version", version.id, "version")
                        .await?;
                }
                readable.push(version);
            }
            answers.insert(*plan_id, Ok(PlanVersions { readable, current }));
        }
        Ok(answers)
    }

    /// The plan and state of each version, for anyone who may read plans in its unit.
    pub async fn places_of_versions(
        &self,
        who: &Principal,
        versions: &[PlanVersionId],
    ) -> Result<PerKey<PlanVersionId, VersionPlace>> {
        let mut scopes = versions_in_scope(&self.db, versions).await?;
        Ok(answer_each(versions, |id| {
            let scope = scopes
                .remove(&id)
                .ok_or_else(|| DomainError::not_found("plan version", id))?;
            who.authorize(Action::ReadPlans, scope.access())?;
            Ok(VersionPlace {
                plan: scope.plan,
                state: scope.version.state,
                version: scope.version.version,
                approved_at: scope.version.approved_at,
            })
        }))
    }

    /// The approved version of a plan, placed (its number and approval) for anyone who
    /// may read plans in the plan's unit, cleared for its text or not: a printed
    /// binder's cover names it even for a care worker who reads only the routines.
    pub async fn approved_version(
        &self,
        who: &Principal,
        plan: PlanId,
    ) -> Result<Option<(PlanVersionId, VersionPlace)>> {
        let approved = plan_versions::Entity::find()
            .filter(plan_versions::Column::PlanId.eq(plan.0))
            .filter(plan_versions::Column::State.eq(PlanState::Approved.as_str()))
            .one(&self.db)
            .await?;
        let Some(row) = approved else {
            // Whether the plan exists, and whether it may be read, is still answered.
            self.plan(who, plan).await?;
            return Ok(None);
        };
        let id = PlanVersionId(row.id);
        let place = answer_for(
            self.places_of_versions(who, &[id]).await?,
            id,
            "plan version",
        )?;
        Ok(Some((id, place)))
    }

    /// The critical activities of each version, in their order.
    pub async fn activities_of_versions(
        &self,
        who: &Principal,
        versions: &[PlanVersionId],
    ) -> Result<PerKey<PlanVersionId, Vec<CriticalActivity>>> {
        let scopes = versions_in_scope(&self.db, versions).await?;
        let readable = self.readable_versions(who, &scopes).await?;
        let mut activities: HashMap<PlanVersionId, Vec<CriticalActivity>> = HashMap::new();
        for row in critical_activities::Entity::find()
            .filter(critical_activities::Column::VersionId.is_in(readable.iter().map(|id| id.0)))
            .order_by_asc(critical_activities::Column::Position)
            .order_by_asc(critical_activities::Column::Id)
            .all(&self.db)
            .await?
        {
            activities
                .entry(PlanVersionId(row.version_id))
                .or_default()
                .push(rows::activity(row));
        }
        Ok(answer_each(versions, |version| {
            readable_scope(&scopes, who, version)?;
            Ok(activities.remove(&version).unwrap_or_default())
        }))
    }

    /// The routines of each version that the reader may read, in the order they were
    /// added. A routine's own classification decides, within its version's unit.
    pub async fn routines_of_versions(
        &self,
        who: &Principal,
        versions: &[PlanVersionId],
    ) -> Result<PerKey<PlanVersionId, Vec<Routine>>> {
        let scopes = versions_in_scope(&self.db, versions).await?;
        let in_unit: Vec<i64> = scopes
            .iter()
            .filter(|(_, scope)| who.may(Action::ReadPlans, scope.access()))
            .map(|(id, _)| id.0)
            .collect();
        let rows = routines::Entity::find()
            .filter(routines::Column::VersionId.is_in(in_unit))
            .order_by_asc(routines::Column::Id)
            .all(&self.db)
            .await?;
        let mut found: HashMap<PlanVersionId, Vec<Routine>> = HashMap::new();
        for routine in self.readable_routines(who, &scopes, rows).await? {
            found.entry(routine.version_id).or_default().push(routine);
        }
        Ok(answer_each(versions, |version| {
            let scope = scopes
                .get(&version)
                .ok_or_else(|| DomainError::not_found("plan version", version))?;
            who.authorize(Action::ReadPlans, scope.access())?;
            Ok(found.remove(&version).unwrap_or_default())
        }))
    }

    /// The dependencies and readable routines of each activity.
    pub async fn contents_of_activities(
        &self,
        who: &Principal,
        activities: &[ActivityId],
    ) -> Result<PerKey<ActivityId, ActivityContents>> {
        let version_of: HashMap<ActivityId, PlanVersionId> = critical_activities::Entity::find()
            .filter(critical_activities::Column::Id.is_in(activities.iter().map(|id| id.0)))
            .all(&self.db)
            .await?
            .iter()
            .map(|row| (ActivityId(row.id), PlanVersionId(row.version_id)))
            .collect();
        let version_ids: Vec<PlanVersionId> = version_of.values().copied().collect();
        let scopes = versions_in_scope(&self.db, &version_ids).await?;
        let readable = self.readable_versions(who, &scopes).await?;
        let readable_activities: Vec<i64> = version_of
            .iter()
            .filter(|(_, version)| readable.contains(version))
            .map(|(activity, _)| activity.0)
            .collect();

        let mut contents: HashMap<ActivityId, ActivityContents> = HashMap::new();
        for row in activity_dependencies::Entity::find()
            .filter(
                activity_dependencies::Column::ActivityId
                    .is_in(readable_activities.iter().copied()),
            )
            .order_by_asc(activity_dependencies::Column::Id)
            .all(&self.db)
            .await?
        {
            contents
                .entry(ActivityId(row.activity_id))
                .or_default()
                .dependencies
                .push(rows::dependency(row)?);
        }
        let routine_rows = routines::Entity::find()
            .filter(routines::Column::ActivityId.is_in(readable_activities.iter().copied()))
            .order_by_asc(routines::Column::Id)
            .all(&self.db)
            .await?;
        for routine in self.readable_routines(who, &scopes, routine_rows).await? {
            if let Some(activity) = routine.activity_id {
                contents.entry(activity).or_default().routines.push(routine);
            }
        }
        Ok(answer_each(activities, |activity| {
            let version = version_of
                .get(&activity)
                .ok_or_else(|| DomainError::not_found("critical activity", activity))?;
            readable_scope(&scopes, who, *version)?;
            Ok(contents.remove(&activity).unwrap_or_default())
        }))
    }

    /// Loads the routine rows the reader is cleared for in their version's unit, and
    /// records the reads that need it. Routines above the reader's clearance are
    /// neither loaded nor audited.
    async fn readable_routines(
        &self,
        who: &Principal,
        scopes: &HashMap<PlanVersionId, VersionInScope>,
        rows: Vec<routines::Model>,
    ) -> Result<Vec<Routine>> {
        let cleared = rows
            .into_iter()
            .filter(|row| {
                scopes
                    .get(&PlanVersionId(row.version_id))
                    .is_some_and(|scope| {
                        let clearance = who.clearance_in(Action::ReadPlans, scope.access());
                        row.confidentiality <= i16::from(clearance.level())
                    })
            })
            .collect();
        let routines = rows::load_routines(&self.db, cleared).await?;
        for routine in &routines {
            if routine.classification.confidentiality.read_is_audited() {
                self.record_read(who, "routine", routine.id, "routine")
                    .await?;
            }
        }
        Ok(routines)
    }

    /// The versions among `scopes` that `who` may read, their reads recorded.
    async fn readable_versions(
        &self,
        who: &Principal,
        scopes: &HashMap<PlanVersionId, VersionInScope>,
    ) -> Result<Vec<PlanVersionId>> {
        let mut readable = vec![];
        for (id, scope) in scopes {
            if self.ensure_reads_version(who, scope).await.is_ok() {
                readable.push(*id);
            }
        }
        Ok(readable)
    }
}

/// Allows reading one version's content, or says why not.
fn readable_scope(
    scopes: &HashMap<PlanVersionId, VersionInScope>,
    who: &Principal,
    version: PlanVersionId,
) -> std::result::Result<(), DomainError> {
    let scope = scopes
        .get(&version)
        .ok_or_else(|| DomainError::not_found("plan version", version))?;
    who.authorize_read(
        Action::ReadPlans,
        scope.access(),
        scope.version.classification.confidentiality,
    )
}

/// Plans by id, in one query.
async fn plan_rows(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<PlanId, Plan>> {
    plans::Entity::find()
        .filter(plans::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|row| rows::plan(row).map(|plan| (plan.id, plan)))
        .collect()
}

/// Versions with their plans and unit paths, in three queries.
async fn versions_in_scope(
    db: &impl ConnectionTrait,
    ids: &[PlanVersionId],
) -> Result<HashMap<PlanVersionId, VersionInScope>> {
    let versions = plan_versions::Entity::find()
        .filter(plan_versions::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(db)
        .await?;
    let plans = plan_rows(db, versions.iter().map(|row| row.plan_id)).await?;
    let paths = unit_paths(db, plans.values().map(|plan| plan.unit_id)).await?;
    let mut scopes = HashMap::new();
    for row in versions {
        let version = rows::version(row)?;
        let Some(plan) = plans.get(&version.plan_id) else {
            continue;
        };
        let Some(path) = paths.get(&plan.unit_id) else {
            continue;
        };
        scopes.insert(
            version.id,
            VersionInScope {
                version,
                plan: plan.clone(),
                path: path.clone(),
            },
        );
    }
    Ok(scopes)
}

/// The paths of the given units, in one query.
async fn unit_paths(
    db: &impl ConnectionTrait,
    units: impl Iterator<Item = UnitId>,
) -> Result<HashMap<UnitId, UnitPath>> {
    let ids: Vec<UnitId> = units.collect();
    Ok(unit_rows(db, &ids)
        .await?
        .into_iter()
        .map(|(id, unit)| (id, unit.path))
        .collect())
}
