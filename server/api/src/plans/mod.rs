//! GraphQL fields of continuity plans: plans and their versions, critical activities,
//! dependencies, fallback routines, and `impact`, the crisis staff's view of what stops
//! when a system goes down.
//!
//! Resolvers only parse input and call the store; every access check, classification
//! rule and state transition lives there. Nested objects are resolved through the store
//! too, so a version's activities are never shown to someone who may not read it.

mod diff;
mod inputs;
mod objects;

use crate::context::{connection, page_request, parse_id, principal, store};
use crate::error::ApiResult;
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, MaybeUndefined, Object};
use diff::VersionDiffObject;
use inputs::{
    ActivityInput, DependencyInput, PlanFilterInput, PlanInput, RoutineInput, VersionContentInput,
};
use objects::{
    ActivityObject, DependencyObject, ImpactObject, PlanObject, PlanVersionObject, RoutineObject,
};
use reserv_domain::ids::{
    ActivityId, DependencyId, PersonId, PlanId, PlanVersionId, RoutineId, SystemId, UnitId,
};
use reserv_domain::plans::PlanEdit;

#[derive(Default)]
pub struct PlanQuery;

#[Object]
impl PlanQuery {
    /// Continuity plans in the units the caller may read, oldest first.
    async fn plans(
        &self,
        ctx: &Context<'_>,
        filter: Option<PlanFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, PlanObject>> {
        let filter = filter.unwrap_or_default().into_filter()?;
        let page = store(ctx)?
            .plans(principal(ctx)?, filter, page_request(after, first)?)
            .await
            .api()?;
        Ok(connection(page, PlanObject))
    }

    async fn plan(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<PlanObject> {
        let id = PlanId(parse_id("id", &id)?);
        Ok(PlanObject(
            store(ctx)?.plan(principal(ctx)?, id).await.api()?,
        ))
    }

    async fn plan_version(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<PlanVersionObject> {
        let id = PlanVersionId(parse_id("id", &id)?);
        Ok(PlanVersionObject(
            store(ctx)?.plan_version(principal(ctx)?, id).await.api()?,
        ))
    }

    /// What changed from one version of a plan to another (usually the approved
    /// version to the draft), so that an approver sees what they approve. Both
    /// versions must belong to the same plan.
    async fn plan_version_diff(
        &self,
        ctx: &Context<'_>,
        from_id: ID,
        to_id: ID,
    ) -> async_graphql::Result<VersionDiffObject> {
        let from = PlanVersionId(parse_id("fromId", &from_id)?);
        let to = PlanVersionId(parse_id("toId", &to_id)?);
        Ok(VersionDiffObject(
            store(ctx)?
                .plan_version_diff(principal(ctx)?, from, to)
                .await
                .api()?,
        ))
    }

    /// One fallback routine, as a care worker opens it.
    async fn routine(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<RoutineObject> {
        let id = RoutineId(parse_id("id", &id)?);
        let found = store(ctx)?.routine(principal(ctx)?, id).await.api()?;
        Ok(RoutineObject(found.routine))
    }

    /// The fallback routines in force that the caller may read, for a unit and the units
    /// below it, or for all of the caller's units: where a care worker finds the paper
    /// routine to switch to.
    async fn routines(
        &self,
        ctx: &Context<'_>,
        unit_id: Option<ID>,
    ) -> async_graphql::Result<Vec<RoutineObject>> {
        let unit = unit_id
            .map(|id| parse_id("unitId", &id).map(UnitId))
            .transpose()?;
        let routines = store(ctx)?
            .routines_in_force(principal(ctx)?, unit)
            .await
            .api()?;
        Ok(routines.into_iter().map(RoutineObject).collect())
    }

    /// The critical activities that stop when this system is down, most urgent first.
    async fn impact(
        &self,
        ctx: &Context<'_>,
        it_system_id: ID,
    ) -> async_graphql::Result<ImpactObject> {
        let id = SystemId(parse_id("itSystemId", &it_system_id)?);
        Ok(ImpactObject(
            store(ctx)?.impact(principal(ctx)?, id).await.api()?,
        ))
    }
}
#[derive(Default)]
pub struct PlanMutation;

#[Object]
impl PlanMutation {
    /// Creates a plan with an empty draft as version 1.
    async fn create_plan(
        &self,
        ctx: &Context<'_>,
        input: PlanInput,
    ) -> async_graphql::Result<PlanObject> {
        let request = input.into_request()?;
        Ok(PlanObject(
            store(ctx)?
                .create_plan(principal(ctx)?, request)
                .await
                .api()?,
        ))
    }

    /// Changes a plan's title, owner or review interval; arguments left out stay as
    /// they are and `ownerId: null` removes the owner.
    async fn update_plan(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        title: Option<String>,
        #[graphql(default)] owner_id: MaybeUndefined<ID>,
        review_interval_months: Option<i32>,
    ) -> async_graphql::Result<PlanObject> {
        let plan = PlanId(parse_id("planId", &plan_id)?);
        let owner_id = match owner_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(id) => Some(Some(PersonId(parse_id("ownerId", &id)?))),
        };
        let edit = PlanEdit {
            title,
            owner_id,
            review_interval_months: review_interval_months.map(i64::from),
        };
        Ok(PlanObject(
            store(ctx)?
                .update_plan(principal(ctx)?, plan, edit)
                .await
                .api()?,
        ))
    }

    /// Discards a draft with its contents; approved and retired versions are kept.
    /// Returns the discarded version's id.
    async fn discard_draft(&self, ctx: &Context<'_>, version_id: ID) -> async_graphql::Result<ID> {
        let version = PlanVersionId(parse_id("versionId", &version_id)?);
        store(ctx)?
            .discard_draft(principal(ctx)?, version)
            .await
            .api()?;
        Ok(version_id)
    }

    async fn update_draft(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: VersionContentInput,
    ) -> async_graphql::Result<PlanVersionObject> {
        let id = PlanVersionId(parse_id("id", &id)?);
        let request = input.into_request()?;
        Ok(PlanVersionObject(
            store(ctx)?
                .update_draft(principal(ctx)?, id, request)
                .await
                .api()?,
        ))
    }

    async fn add_activity(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        input: ActivityInput,
    ) -> async_graphql::Result<ActivityObject> {
        let version = PlanVersionId(parse_id("versionId", &version_id)?);
        Ok(ActivityObject(
            store(ctx)?
                .add_activity(principal(ctx)?, version, input.into())
                .await
                .api()?,
        ))
    }

    async fn update_activity(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ActivityInput,
    ) -> async_graphql::Result<ActivityObject> {
        let id = ActivityId(parse_id("id", &id)?);
        Ok(ActivityObject(
            store(ctx)?
                .update_activity(principal(ctx)?, id, input.into())
                .await
                .api()?,
        ))
    }

    /// Removes an activity and its dependencies; its routines stay, without an
    /// activity. Returns the removed activity's id.
    async fn remove_activity(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let activity = ActivityId(parse_id("id", &id)?);
        store(ctx)?
            .remove_activity(principal(ctx)?, activity)
            .await
            .api()?;
        Ok(id)
    }

    async fn add_dependency(
        &self,
        ctx: &Context<'_>,
        activity_id: ID,
        input: DependencyInput,
    ) -> async_graphql::Result<DependencyObject> {
        let activity = ActivityId(parse_id("activityId", &activity_id)?);
        let request = input.into_request()?;
        Ok(DependencyObject(
            store(ctx)?
                .add_dependency(principal(ctx)?, activity, request)
                .await
                .api()?,
        ))
    }

    /// Returns the removed dependency's id.
    async fn remove_dependency(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let dependency = DependencyId(parse_id("id", &id)?);
        store(ctx)?
            .remove_dependency(principal(ctx)?, dependency)
            .await
            .api()?;
        Ok(id)
    }

    async fn add_routine(
        &self,
        ctx: &Context<'_>,
        version_id: ID,
        input: RoutineInput,
    ) -> async_graphql::Result<RoutineObject> {
        let version = PlanVersionId(parse_id("versionId", &version_id)?);
        let request = input.into_request()?;
        Ok(RoutineObject(
            store(ctx)?
                .add_routine(principal(ctx)?, version, request)
                .await
                .api()?,
        ))
    }

    /// Replaces a routine's text, classification, steps and materials.
    async fn update_routine(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: RoutineInput,
    ) -> async_graphql::Result<RoutineObject> {
        let id = RoutineId(parse_id("id", &id)?);
        let request = input.into_request()?;
        Ok(RoutineObject(
            store(ctx)?
                .update_routine(principal(ctx)?, id, request)
                .await
                .api()?,
        ))
    }

    /// Returns the removed routine's id.
    async fn remove_routine(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let routine = RoutineId(parse_id("id", &id)?);
        store(ctx)?
            .remove_routine(principal(ctx)?, routine)
            .await
            .api()?;
        Ok(id)
    }

    /// Starts the next draft as a copy of the approved version (or the latest one),
    /// with all activities, dependencies and routines.
    async fn create_draft(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
    ) -> async_graphql::Result<PlanVersionObject> {
        let plan = PlanId(parse_id("planId", &plan_id)?);
        Ok(PlanVersionObject(
            store(ctx)?
                .create_draft(principal(ctx)?, plan)
                .await
                .api()?,
        ))
    }

    /// Approves a draft; the version it replaces is retired and the next review is due
    /// one review interval from now.
    async fn approve_plan_version(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<PlanVersionObject> {
        let id = PlanVersionId(parse_id("id", &id)?);
        Ok(PlanVersionObject(
            store(ctx)?
                .approve_version(principal(ctx)?, id)
                .await
                .api()?,
        ))
    }

    /// Retires an approved version without a successor.
    async fn retire_plan_version(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<PlanVersionObject> {
        let id = PlanVersionId(parse_id("id", &id)?);
        Ok(PlanVersionObject(
            store(ctx)?
                .retire_version(principal(ctx)?, id)
                .await
                .api()?,
        ))
    }
}
