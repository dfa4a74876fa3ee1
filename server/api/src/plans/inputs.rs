//! GraphQL inputs of plans, turned into the domain's requests. Ids are parsed here so
//! that a malformed one is reported with the field that held it.

use super::objects::{DependencyKind, PlanState};
use crate::context::parse_id;
use crate::error::ApiResult;
use crate::types::ClassificationInput;
use async_graphql::{ID, InputObject};
use reserv_domain::ids::{ActivityId, PersonId, SystemId, UnitId};
use reserv_domain::plans::{
    ActivityRequest, DependencyRequest, Material, NewPlan, RoutineKey, RoutineRequest, RoutineStep,
    VersionContent,
};
use reserv_store::PlanFilter;

/// Which plans to list; fields left out do not filter.
#[derive(InputObject, Default)]
#[graphql(name = "PlanFilter")]
pub struct PlanFilterInput {
    /// Only the plans of this unit.
    pub unit_id: Option<ID>,
    /// Only plans whose review date has passed.
    #[graphql(default)]
    pub due_for_review: bool,
    /// Only plans with a version in this state.
    pub state: Option<PlanState>,
}

impl PlanFilterInput {
    pub(super) fn into_filter(self) -> async_graphql::Result<PlanFilter> {
        Ok(PlanFilter {
            unit_id: self
                .unit_id
                .map(|id| parse_id("unitId", &id).map(UnitId))
                .transpose()?,
            due_for_review: self.due_for_review,
            state: self.state.map(Into::into),
        })
    }
}
#[derive(InputObject)]
pub struct PlanInput {
    pub unit_id: ID,
    pub title: String,
    pub owner_id: Option<ID>,
    /// 1 to 36; 12 when left out.
    pub review_interval_months: Option<i32>,
}

impl PlanInput {
    pub(super) fn into_request(self) -> async_graphql::Result<NewPlan> {
        Ok(NewPlan {
            unit_id: UnitId(parse_id("unitId", &self.unit_id)?),
            owner_id: self
                .owner_id
                .map(|id| parse_id("ownerId", &id).map(PersonId))
                .transpose()?,
            title: self.title,
            review_interval_months: self.review_interval_months.map(i64::from),
        })
    }
}

#[derive(InputObject)]
pub struct VersionContentInput {
    pub summary: Option<String>,
    pub activation_criteria: Option<String>,
    pub classification: ClassificationInput,
}

impl VersionContentInput {
    pub(super) fn into_request(self) -> async_graphql::Result<VersionContent> {
        Ok(VersionContent {
            summary: self.summary,
            activation_criteria: self.activation_criteria,
            classification: self.classification.to_domain().api()?,
            lowering_reason: self.classification.lowering_reason,
        })
    }
}

#[derive(InputObject)]
pub struct ActivityInput {
    pub name: String,
    pub description: Option<String>,
    pub mtpd_minutes: i32,
    /// Must not exceed mtpdMinutes.
    pub rto_minutes: i32,
    pub rpo_minutes: i32,
}

impl From<ActivityInput> for ActivityRequest {
    fn from(input: ActivityInput) -> Self {
        Self {
            name: input.name,
            description: input.description,
            mtpd_minutes: input.mtpd_minutes.into(),
            rto_minutes: input.rto_minutes.into(),
            rpo_minutes: input.rpo_minutes.into(),
        }
    }
}

#[derive(InputObject)]
pub struct DependencyInput {
    pub kind: DependencyKind,
    /// Required for IT_SYSTEM, refused for the other kinds.
    pub system_id: Option<ID>,
    /// Required for SUPPLIER and STAFF_ROLE.
    pub name: Option<String>,
}

impl DependencyInput {
    pub(super) fn into_request(self) -> async_graphql::Result<DependencyRequest> {
        Ok(DependencyRequest {
            kind: self.kind.into(),
            system_id: self
                .system_id
                .map(|id| parse_id("systemId", &id).map(SystemId))
                .transpose()?,
            name: self.name,
        })
    }
}

#[derive(InputObject)]
pub struct RoutineStepInput {
    pub who: String,
    pub what: String,
    pub when: Option<String>,
}

#[derive(InputObject)]
pub struct MaterialInput {
    pub name: String,
    pub location: Option<String>,
}

#[derive(InputObject)]
pub struct RoutineInput {
    /// A critical activity of the same version.
    pub activity_id: Option<ID>,
    /// Lower-case letters, digits and hyphens, such as `lakemedel-signeringslista`.
    /// Left out, a new routine gets one made from its title and a changed routine keeps
    /// its own.
    pub key: Option<String>,
    pub title: String,
    pub trigger: String,
    pub classification: ClassificationInput,
    pub steps: Vec<RoutineStepInput>,
    #[graphql(default)]
    pub materials: Vec<MaterialInput>,
    #[graphql(default)]
    pub recovery_steps: Vec<RoutineStepInput>,
}

impl RoutineInput {
    pub(super) fn into_request(self) -> async_graphql::Result<RoutineRequest> {
        let steps = |steps: Vec<RoutineStepInput>| -> Vec<RoutineStep> {
            steps
                .into_iter()
                .map(|step| RoutineStep {
                    who: step.who,
                    what: step.what,
                    when: step.when,
                })
                .collect()
        };
        Ok(RoutineRequest {
            activity_id: self
                .activity_id
                .map(|id| parse_id("activityId", &id).map(ActivityId))
                .transpose()?,
            key: self
                .key
                .map(|key| RoutineKey::parse("key", &key))
                .transpose()
                .api()?,
            title: self.title,
            trigger: self.trigger,
            classification: self.classification.to_domain().api()?,
            lowering_reason: self.classification.lowering_reason,
            steps: steps(self.steps),
            materials: self
                .materials
                .into_iter()
                .map(|material| Material {
                    name: material.name,
                    location: material.location,
                })
                .collect(),
            recovery_steps: steps(self.recovery_steps),
        })
    }
}
