//! GraphQL shapes of `planVersionDiff`: what changed between two versions of a plan,
//! item by item, with old and new values.

use super::objects::{DependencyKind, MaterialObject, PlanVersionObject, StepObject};
use crate::loaders::load;
use crate::types::System;
use async_graphql::{Context, Enum, Object, SimpleObject};
use reserv_domain::plan_diff::{
    ActivityDiff, DependencyDiff, FieldChange, MaterialDiff, RoutineDiff, StepDiff, VersionDiff,
};

/// How an item differs between the two versions.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "reserv_domain::plan_diff::DiffKind")]
pub enum DiffKind {
    Added,
    Removed,
    Changed,
}

/// One field whose value differs; null stands for no value.
#[derive(SimpleObject)]
#[graphql(name = "FieldChange")]
pub struct FieldChangeObject {
    /// The field in API spelling, such as `rtoMinutes`.
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

fn field_changes(changes: &[FieldChange]) -> Vec<FieldChangeObject> {
    changes
        .iter()
        .map(|change| FieldChangeObject {
            field: change.field.to_owned(),
            old: change.old.clone(),
            new: change.new.clone(),
        })
        .collect()
}

/// A critical activity added, removed or changed; activities are matched by name.
#[derive(SimpleObject)]
#[graphql(name = "ActivityDiff")]
pub struct ActivityDiffObject {
    pub name: String,
    pub kind: DiffKind,
    pub changes: Vec<FieldChangeObject>,
}

impl From<&ActivityDiff> for ActivityDiffObject {
    fn from(diff: &ActivityDiff) -> Self {
        Self {
            name: diff.name.clone(),
            kind: diff.kind.into(),
            changes: field_changes(&diff.changes),
        }
    }
}

/// A dependency that one version has and the other has not.
pub struct DependencyDiffObject(DependencyDiff);

#[Object(name = "DependencyDiff")]
impl DependencyDiffObject {
    /// The name of the activity that depends.
    async fn activity(&self) -> &str {
        &self.0.activity
    }
    async fn kind(&self) -> DiffKind {
        self.0.kind.into()
    }
    async fn dependency_kind(&self) -> DependencyKind {
        self.0.dependency_kind.into()
    }
    async fn system(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<System>> {
        match self.0.system_id {
            Some(id) => Ok(Some(System(load(ctx, id).await?))),
            None => Ok(None),
        }
    }
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
}

/// A step that differs at its position (1 for the first).
#[derive(SimpleObject)]
#[graphql(name = "StepDiff")]
pub struct StepDiffObject {
    pub position: i32,
    pub kind: DiffKind,
    pub old: Option<StepObject>,
    pub new: Option<StepObject>,
}

fn step_diffs(diffs: &[StepDiff]) -> Vec<StepDiffObject> {
    diffs
        .iter()
        .map(|diff| StepDiffObject {
            position: i32::try_from(diff.position).unwrap_or(i32::MAX),
            kind: diff.kind.into(),
            old: diff.old.as_ref().map(StepObject::from),
            new: diff.new.as_ref().map(StepObject::from),
        })
        .collect()
}

/// A material added, removed or kept elsewhere; matched by name.
#[derive(SimpleObject)]
#[graphql(name = "MaterialDiff")]
pub struct MaterialDiffObject {
    pub kind: DiffKind,
    pub old: Option<MaterialObject>,
    pub new: Option<MaterialObject>,
}

impl From<&MaterialDiff> for MaterialDiffObject {
    fn from(diff: &MaterialDiff) -> Self {
        Self {
            kind: diff.kind.into(),
            old: diff.old.as_ref().map(MaterialObject::from),
            new: diff.new.as_ref().map(MaterialObject::from),
        }
    }
}

/// A fallback routine added, removed or changed; routines are matched by key.
#[derive(SimpleObject)]
#[graphql(name = "RoutineDiff")]
pub struct RoutineDiffObject {
    pub key: String,
    /// The title in the newer version (the old one for a removed routine).
    pub title: String,
    pub kind: DiffKind,
    /// The routine's own fields that differ: title, trigger, activity, classification.
    pub changes: Vec<FieldChangeObject>,
    pub steps: Vec<StepDiffObject>,
    pub recovery_steps: Vec<StepDiffObject>,
    pub materials: Vec<MaterialDiffObject>,
}

impl From<&RoutineDiff> for RoutineDiffObject {
    fn from(diff: &RoutineDiff) -> Self {
        Self {
            key: diff.key.to_string(),
            title: diff.title.clone(),
            kind: diff.kind.into(),
            changes: field_changes(&diff.changes),
            steps: step_diffs(&diff.steps),
            recovery_steps: step_diffs(&diff.recovery_steps),
            materials: diff
                .materials
                .iter()
                .map(MaterialDiffObject::from)
                .collect(),
        }
    }
}

/// What changed from one version of a plan to another, for the approver.
pub struct VersionDiffObject(pub VersionDiff);

#[Object(name = "PlanVersionDiff")]
impl VersionDiffObject {
    async fn from(&self) -> PlanVersionObject {
        PlanVersionObject(self.0.from.clone())
    }
    async fn to(&self) -> PlanVersionObject {
        PlanVersionObject(self.0.to.clone())
    }
    /// True when the two versions hold the same.
    async fn unchanged(&self) -> bool {
        self.0.is_empty()
    }
    /// The version's own fields: summary, activationCriteria, confidentiality,
    /// integrity, availability.
    async fn changes(&self) -> Vec<FieldChangeObject> {
        field_changes(&self.0.changes)
    }
    async fn activities(&self) -> Vec<ActivityDiffObject> {
        self.0.activities.iter().map(Into::into).collect()
    }
    async fn dependencies(&self) -> Vec<DependencyDiffObject> {
        self.0
            .dependencies
            .iter()
            .cloned()
            .map(DependencyDiffObject)
            .collect()
    }
    async fn routines(&self) -> Vec<RoutineDiffObject> {
        self.0.routines.iter().map(Into::into).collect()
    }
}
