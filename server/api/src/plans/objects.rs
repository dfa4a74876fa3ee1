//! GraphQL shapes of plans, versions, activities, dependencies, routines and impact.
//! Each wraps a domain value; nested objects are resolved through the store so that
//! its access checks apply to them too.

use crate::loaders::{
    ActivitiesOf, ContentsOf, PlaceOf, RoutinesOf, VersionsOf, load, load_if_readable,
};
use crate::types::{Classification, PersonObject, System, Unit, person_by_id};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_domain::plans::{CriticalActivity, Material, Plan, PlanVersion, Routine, RoutineStep};
use reserv_store::{
    ActivityContents, AffectedActivity, DependencyEntry, Impact, PlanVersions, VersionPlace,
};

/// DRAFT → APPROVED → RETIRED. Only drafts change; approving a draft retires the
/// version it replaces.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::plans::PlanState")]
pub enum PlanState {
    Draft,
    Approved,
    Retired,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::plans::DependencyKind")]
pub enum DependencyKind {
    ItSystem,
    Supplier,
    StaffRole,
}

pub struct PlanObject(pub Plan);

#[Object(name = "Plan")]
impl PlanObject {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(load(ctx, self.0.unit_id).await?))
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PersonObject>> {
        person_by_id(ctx, self.0.owner_id).await
    }
    async fn review_interval_months(&self) -> u32 {
        self.0.review_interval_months
    }
    /// When the approved version must be reviewed; null until a version is approved.
    async fn review_due_at(&self) -> Option<DateTime<Utc>> {
        self.0.review_due_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The versions the caller may read, oldest first.
    async fn versions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PlanVersionObject>> {
        let versions: PlanVersions = load(ctx, VersionsOf(self.0.id)).await?;
        Ok(versions
            .readable
            .into_iter()
            .map(PlanVersionObject)
            .collect())
    }
    /// The approved version, or the draft when none is approved yet; null when there
    /// is none or it is above the caller's clearance.
    async fn current_version(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PlanVersionObject>> {
        let versions: PlanVersions = load(ctx, VersionsOf(self.0.id)).await?;
        Ok(versions.current.map(PlanVersionObject))
    }
}

pub struct PlanVersionObject(pub PlanVersion);

#[Object(name = "PlanVersion")]
impl PlanVersionObject {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn plan(&self, ctx: &Context<'_>) -> async_graphql::Result<PlanObject> {
        Ok(PlanObject(load(ctx, self.0.plan_id).await?))
    }
    /// 1 for the first version, counting up.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn state(&self) -> PlanState {
        self.0.state.into()
    }
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }
    /// When the plan is to be put into action.
    async fn activation_criteria(&self) -> Option<&str> {
        self.0.activation_criteria.as_deref()
    }
    async fn classification(&self) -> Classification {
        self.0.classification.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn approved_at(&self) -> Option<DateTime<Utc>> {
        self.0.approved_at
    }
    /// The username of whoever approved the version.
    async fn approved_by(&self) -> Option<&str> {
        self.0.approved_by.as_deref()
    }
    /// The username of whoever changed the version last; with the four-eyes rule on,
    /// someone else must approve it.
    async fn last_edited_by(&self) -> Option<&str> {
        self.0.last_edited_by.as_deref()
    }
    async fn activities(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ActivityObject>> {
        let activities: Vec<CriticalActivity> = load(ctx, ActivitiesOf(self.0.id)).await?;
        Ok(activities.into_iter().map(ActivityObject).collect())
    }
    /// The fallback routines the caller may read.
    async fn routines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<RoutineObject>> {
        let routines: Vec<Routine> = load(ctx, RoutinesOf(self.0.id)).await?;
        Ok(routines.into_iter().map(RoutineObject).collect())
    }
}

pub struct ActivityObject(pub CriticalActivity);

#[Object(name = "CriticalActivity")]
impl ActivityObject {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Maximum tolerable period of disruption.
    async fn mtpd_minutes(&self) -> i32 {
        self.0.mtpd_minutes
    }
    /// Recovery time objective: running again at the latest after this long.
    async fn rto_minutes(&self) -> i32 {
        self.0.rto_minutes
    }
    /// Recovery point objective: how much recorded information may be lost.
    async fn rpo_minutes(&self) -> i32 {
        self.0.rpo_minutes
    }
    async fn dependencies(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<DependencyObject>> {
        let contents: ActivityContents = load(ctx, ContentsOf(self.0.id)).await?;
        Ok(contents
            .dependencies
            .into_iter()
            .map(DependencyObject)
            .collect())
    }
    /// The fallback routines written for this activity that the caller may read.
    async fn routines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<RoutineObject>> {
        let contents: ActivityContents = load(ctx, ContentsOf(self.0.id)).await?;
        Ok(contents.routines.into_iter().map(RoutineObject).collect())
    }
}

/// Something a critical activity cannot do without.
pub struct DependencyObject(pub DependencyEntry);

#[Object(name = "Dependency")]
impl DependencyObject {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn kind(&self) -> DependencyKind {
        self.0.dependency.kind.into()
    }
    /// The IT system, for IT_SYSTEM dependencies.
    async fn system(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<System>> {
        match self.0.dependency.system_id {
            Some(id) => Ok(Some(System(load(ctx, id).await?))),
            None => Ok(None),
        }
    }
    /// The supplier's or staff role's name; for IT systems an optional note.
    async fn name(&self) -> Option<&str> {
        self.0.dependency.name.as_deref()
    }
}

/// One step of a routine: who does what, and when.
#[derive(SimpleObject)]
#[graphql(name = "RoutineStep")]
pub struct StepObject {
    pub who: String,
    pub what: String,
    pub when: Option<String>,
}

impl From<&RoutineStep> for StepObject {
    fn from(step: &RoutineStep) -> Self {
        Self {
            who: step.who.clone(),
            what: step.what.clone(),
            when: step.when.clone(),
        }
    }
}

/// Something a routine needs at hand: a paper form, a printed list, a key.
#[derive(SimpleObject)]
#[graphql(name = "Material")]
pub struct MaterialObject {
    pub name: String,
    /// Where it is kept.
    pub location: Option<String>,
}

impl From<&Material> for MaterialObject {
    fn from(material: &Material) -> Self {
        Self {
            name: material.name.clone(),
            location: material.location.clone(),
        }
    }
}

/// The analog way to do one task when a system is gone.
pub struct RoutineObject(pub Routine);

#[Object(name = "Routine")]
impl RoutineObject {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    /// The routine's stable name, the same in every version of its plan and in other
    /// units' routines of the same kind; playbooks name routines by it.
    async fn key(&self) -> &str {
        self.0.key.as_str()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// When to switch to this routine.
    async fn trigger(&self) -> &str {
        &self.0.trigger
    }
    async fn classification(&self) -> Classification {
        self.0.classification.into()
    }
    async fn steps(&self) -> Vec<StepObject> {
        self.0.steps.iter().map(StepObject::from).collect()
    }
    async fn materials(&self) -> Vec<MaterialObject> {
        self.0.materials.iter().map(MaterialObject::from).collect()
    }
    /// Steps that bring paper records back into the systems afterwards.
    async fn recovery_steps(&self) -> Vec<StepObject> {
        self.0.recovery_steps.iter().map(StepObject::from).collect()
    }
    /// The activity the routine keeps going, or null when it has none or the caller
    /// may not read the plan version around it (a care worker may read a routine of
    /// a plan that is otherwise above their clearance).
    async fn activity(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ActivityObject>> {
        let Some(id) = self.0.activity_id else {
            return Ok(None);
        };
        let Some(activities) = load_if_readable(ctx, ActivitiesOf(self.0.version_id)).await? else {
            return Ok(None);
        };
        let activities: Vec<CriticalActivity> = activities;
        Ok(activities
            .into_iter()
            .find(|activity| activity.id == id)
            .map(ActivityObject))
    }
    /// The plan the routine belongs to.
    async fn plan(&self, ctx: &Context<'_>) -> async_graphql::Result<PlanObject> {
        let place: VersionPlace = load(ctx, PlaceOf(self.0.version_id)).await?;
        Ok(PlanObject(place.plan))
    }
    /// The state of the plan version the routine belongs to; a routine of a retired
    /// version is history, not instructions.
    async fn version_state(&self, ctx: &Context<'_>) -> async_graphql::Result<PlanState> {
        let place: VersionPlace = load(ctx, PlaceOf(self.0.version_id)).await?;
        Ok(place.state.into())
    }
}

/// What stops when an IT system goes down.
pub struct ImpactObject(pub Impact);

#[Object(name = "Impact")]
impl ImpactObject {
    async fn system(&self) -> System {
        System(self.0.system.clone())
    }
    /// The units whose plans hold affected activities, each once.
    async fn units(&self) -> Vec<Unit> {
        self.0
            .units()
            .into_iter()
            .map(|unit| Unit(unit.clone()))
            .collect()
    }
    /// The affected critical activities, shortest recovery time objective first.
    async fn activities(&self) -> Vec<AffectedActivityObject> {
        self.0
            .activities
            .iter()
            .cloned()
            .map(AffectedActivityObject)
            .collect()
    }
}

/// A critical activity that depends on the system, with the plan version in force
/// (approved, or the draft when none is) and its fallback routines.
pub struct AffectedActivityObject(pub AffectedActivity);

#[Object(name = "AffectedActivity")]
impl AffectedActivityObject {
    async fn unit(&self) -> Unit {
        Unit(self.0.unit.clone())
    }
    async fn plan(&self) -> PlanObject {
        PlanObject(self.0.plan.clone())
    }
    async fn version(&self) -> PlanVersionObject {
        PlanVersionObject(self.0.version.clone())
    }
    async fn activity(&self) -> ActivityObject {
        ActivityObject(self.0.activity.clone())
    }
    async fn routines(&self) -> Vec<RoutineObject> {
        self.0.routines.iter().cloned().map(RoutineObject).collect()
    }
}
