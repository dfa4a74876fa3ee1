//! What changed between two versions of one continuity plan, so that an approver sees
//! what they approve: the version's text, its critical activities and their
//! dependencies, and its fallback routines with their steps and materials.
//!
//! Versions are copies of each other with new ids, so items are matched by what stays
//! the same across versions: routines by their stable key, activities by name (a
//! renamed activity shows as one removed and one added), dependencies by what they
//! name, steps by their position. This module only compares what it is given; the
//! caller decides what the reader may see.

use crate::classification::Classification;
use crate::ids::SystemId;
use crate::plans::{
    CriticalActivity, Dependency, DependencyKind, Material, PlanVersion, Routine, RoutineKey,
    RoutineStep,
};
use std::collections::HashMap;

crate::named_enum! {
    /// How an item differs between the two versions.
    pub enum DiffKind as "kind" {
            Added = "added",
            Removed = "removed",
            Changed = "changed",
        }
}

/// One field whose value differs; a value left empty is shown as none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// The field in API spelling, such as `rtoMinutes`.
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// A version with everything it holds, as one side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionContents {
    pub version: PlanVersion,
    pub activities: Vec<CriticalActivity>,
    pub dependencies: Vec<Dependency>,
    pub routines: Vec<Routine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityDiff {
    pub name: String,
    pub kind: DiffKind,
    /// For a changed activity, the fields that differ.
    pub changes: Vec<FieldChange>,
}

/// A dependency that one version has and the other has not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyDiff {
    /// The name of the activity that depends.
    pub activity: String,
    pub kind: DiffKind,
    pub dependency_kind: DependencyKind,
    pub system_id: Option<SystemId>,
    pub name: Option<String>,
}

/// A step (or recovery step) that differs at its position, 1 for the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepDiff {
    pub position: usize,
    pub kind: DiffKind,
    pub old: Option<RoutineStep>,
    pub new: Option<RoutineStep>,
}

/// A material added, removed, or kept somewhere else; matched by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialDiff {
    pub kind: DiffKind,
    pub old: Option<Material>,
    pub new: Option<Material>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutineDiff {
    pub key: RoutineKey,
    /// The title in the newer version, or the old one for a removed routine.
    pub title: String,
    pub kind: DiffKind,
    pub changes: Vec<FieldChange>,
    pub steps: Vec<StepDiff>,
    pub recovery_steps: Vec<StepDiff>,
    pub materials: Vec<MaterialDiff>,
}

/// Everything that differs from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionDiff {
    pub from: PlanVersion,
    pub to: PlanVersion,
    /// The version's own fields: summary, activation criteria, classification.
    pub changes: Vec<FieldChange>,
    pub activities: Vec<ActivityDiff>,
    pub dependencies: Vec<DependencyDiff>,
    pub routines: Vec<RoutineDiff>,
}

impl VersionDiff {
    /// Whether the two versions hold the same.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
            && self.activities.is_empty()
            && self.dependencies.is_empty()
            && self.routines.is_empty()
    }
}

/// Compares two versions of the same plan.
pub fn diff_versions(from: &VersionContents, to: &VersionContents) -> VersionDiff {
    let mut changes = Vec::new();
    let (old, new) = (&from.version, &to.version);
    compare(&mut changes, "summary", &old.summary, &new.summary);
    compare(
        &mut changes,
        "activationCriteria",
        &old.activation_criteria,
        &new.activation_criteria,
    );
    compare_classification(&mut changes, old.classification, new.classification);
    VersionDiff {
        from: from.version.clone(),
        to: to.version.clone(),
        changes,
        activities: diff_activities(&from.activities, &to.activities),
        dependencies: diff_dependencies(from, to),
        routines: diff_routines(from, to),
    }
}

fn compare<T: ToString + PartialEq>(
    changes: &mut Vec<FieldChange>,
    field: &'static str,
    old: &Option<T>,
    new: &Option<T>,
) {
    if old != new {
        changes.push(FieldChange {
            field,
            old: old.as_ref().map(ToString::to_string),
            new: new.as_ref().map(ToString::to_string),
        });
    }
}

fn compare_value<T: ToString + PartialEq>(
    changes: &mut Vec<FieldChange>,
    field: &'static str,
    old: T,
    new: T,
) {
    compare(changes, field, &Some(old), &Some(new));
}

fn compare_classification(
    changes: &mut Vec<FieldChange>,
    old: Classification,
    new: Classification,
) {
    compare_value(
        changes,
        "confidentiality",
        old.confidentiality.level(),
        new.confidentiality.level(),
    );
    compare_value(changes, "integrity", old.integrity, new.integrity);
    compare_value(changes, "availability", old.availability, new.availability);
    compare(
        changes,
        "traceability",
        &old.traceability,
        &new.traceability,
    );
}

/// Pairs items of the old and new lists that share a key, in order: the first unpaired
/// old item with a key goes with the first new item with that key. Returns, for each
/// new item, its old partner, and the old items left over.
fn pair_by<'a, T, K: Eq + std::hash::Hash>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> K,
) -> (Vec<(Option<&'a T>, &'a T)>, Vec<&'a T>) {
    let mut unpaired: HashMap<K, Vec<usize>> = HashMap::new();
    for (index, item) in old.iter().enumerate().rev() {
        unpaired.entry(key(item)).or_default().push(index);
    }
    let mut paired = vec![false; old.len()];
    let pairs = new
        .iter()
        .map(|item| {
            let partner = unpaired.get_mut(&key(item)).and_then(Vec::pop);
            if let Some(index) = partner {
                paired[index] = true;
            }
            (partner.and_then(|index| old.get(index)), item)
        })
        .collect();
    let left = old
        .iter()
        .zip(paired)
        .filter_map(|(item, paired)| (!paired).then_some(item))
        .collect();
    (pairs, left)
}

fn diff_activities(old: &[CriticalActivity], new: &[CriticalActivity]) -> Vec<ActivityDiff> {
    let (pairs, removed) = pair_by(old, new, |activity| activity.name.clone());
    let mut diffs = Vec::new();
    for (partner, activity) in pairs {
        let Some(before) = partner else {
            diffs.push(ActivityDiff {
                name: activity.name.clone(),
                kind: DiffKind::Added,
                changes: Vec::new(),
            });
            continue;
        };
        let mut changes = Vec::new();
        compare(
            &mut changes,
            "description",
            &before.description,
            &activity.description,
        );
        compare_value(
            &mut changes,
            "mtpdMinutes",
            before.mtpd_minutes,
            activity.mtpd_minutes,
        );
        compare_value(
            &mut changes,
            "rtoMinutes",
            before.rto_minutes,
            activity.rto_minutes,
        );
        compare_value(
            &mut changes,
            "rpoMinutes",
            before.rpo_minutes,
            activity.rpo_minutes,
        );
        if !changes.is_empty() {
            diffs.push(ActivityDiff {
                name: activity.name.clone(),
                kind: DiffKind::Changed,
                changes,
            });
        }
    }
    diffs.extend(removed.into_iter().map(|activity| ActivityDiff {
        name: activity.name.clone(),
        kind: DiffKind::Removed,
        changes: Vec::new(),
    }));
    diffs
}

/// A dependency with its activity's name in place of the version-bound id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct NamedDependency {
    activity: String,
    kind: DependencyKind,
    system_id: Option<SystemId>,
    name: Option<String>,
}

fn named_dependencies(side: &VersionContents) -> Vec<NamedDependency> {
    let names: HashMap<_, _> = side
        .activities
        .iter()
        .map(|activity| (activity.id, activity.name.clone()))
        .collect();
    side.dependencies
        .iter()
        .filter_map(|dependency| {
            Some(NamedDependency {
                activity: names.get(&dependency.activity_id)?.clone(),
                kind: dependency.kind,
                system_id: dependency.system_id,
                name: dependency.name.clone(),
            })
        })
        .collect()
}

fn diff_dependencies(from: &VersionContents, to: &VersionContents) -> Vec<DependencyDiff> {
    let (old, new) = (named_dependencies(from), named_dependencies(to));
    let (pairs, removed) = pair_by(&old, &new, Clone::clone);
    let as_diff = |dependency: &NamedDependency, kind| DependencyDiff {
        activity: dependency.activity.clone(),
        kind,
        dependency_kind: dependency.kind,
        system_id: dependency.system_id,
        name: dependency.name.clone(),
    };
    pairs
        .into_iter()
        .filter(|(partner, _)| partner.is_none())
        .map(|(_, dependency)| as_diff(dependency, DiffKind::Added))
        .chain(
            removed
                .into_iter()
                .map(|dependency| as_diff(dependency, DiffKind::Removed)),
        )
        .collect()
}

fn diff_routines(from: &VersionContents, to: &VersionContents) -> Vec<RoutineDiff> {
    let activity_name = |side: &VersionContents, routine: &Routine| {
        routine.activity_id.and_then(|id| {
            side.activities
                .iter()
                .find(|activity| activity.id == id)
                .map(|activity| activity.name.clone())
        })
    };
    let (pairs, removed) = pair_by(&from.routines, &to.routines, |routine| routine.key.clone());
    let mut diffs = Vec::new();
    for (partner, routine) in pairs {
        let Some(before) = partner else {
            diffs.push(whole_routine(routine, DiffKind::Added));
            continue;
        };
        let mut changes = Vec::new();
        compare_value(&mut changes, "title", &before.title, &routine.title);
        compare_value(&mut changes, "trigger", &before.trigger, &routine.trigger);
        compare(
            &mut changes,
            "activity",
            &activity_name(from, before),
            &activity_name(to, routine),
        );
        compare_classification(&mut changes, before.classification, routine.classification);
        let diff = RoutineDiff {
            key: routine.key.clone(),
            title: routine.title.clone(),
            kind: DiffKind::Changed,
            changes,
            steps: diff_steps(&before.steps, &routine.steps),
            recovery_steps: diff_steps(&before.recovery_steps, &routine.recovery_steps),
            materials: diff_materials(&before.materials, &routine.materials),
        };
        let unchanged = diff.changes.is_empty()
            && diff.steps.is_empty()
            && diff.recovery_steps.is_empty()
            && diff.materials.is_empty();
        if !unchanged {
            diffs.push(diff);
        }
    }
    diffs.extend(
        removed
            .into_iter()
            .map(|routine| whole_routine(routine, DiffKind::Removed)),
    );
    diffs
}

/// A routine that only one side has, with all its steps and materials on that side.
fn whole_routine(routine: &Routine, kind: DiffKind) -> RoutineDiff {
    let empty: &[RoutineStep] = &[];
    let no_materials: &[Material] = &[];
    let (steps, recovery_steps, materials) = if kind == DiffKind::Removed {
        (
            diff_steps(&routine.steps, empty),
            diff_steps(&routine.recovery_steps, empty),
            diff_materials(&routine.materials, no_materials),
        )
    } else {
        (
            diff_steps(empty, &routine.steps),
            diff_steps(empty, &routine.recovery_steps),
            diff_materials(no_materials, &routine.materials),
        )
    };
    RoutineDiff {
        key: routine.key.clone(),
        title: routine.title.clone(),
        kind,
        changes: Vec::new(),
        steps,
        recovery_steps,
        materials,
    }
}

fn diff_steps(old: &[RoutineStep], new: &[RoutineStep]) -> Vec<StepDiff> {
    (0..old.len().max(new.len()))
        .filter_map(|index| {
            let (before, after) = (old.get(index), new.get(index));
            let kind = match (before, after) {
                (Some(before), Some(after)) if before == after => return None,
                (Some(_), Some(_)) => DiffKind::Changed,
                (None, _) => DiffKind::Added,
                (_, None) => DiffKind::Removed,
            };
            Some(StepDiff {
                position: index + 1,
                kind,
                old: before.cloned(),
                new: after.cloned(),
            })
        })
        .collect()
}

fn diff_materials(old: &[Material], new: &[Material]) -> Vec<MaterialDiff> {
    let (pairs, removed) = pair_by(old, new, |material| material.name.clone());
    pairs
        .into_iter()
        .filter_map(|(partner, material)| match partner {
            Some(before) if before == material => None,
            Some(before) => Some(MaterialDiff {
                kind: DiffKind::Changed,
                old: Some(before.clone()),
                new: Some(material.clone()),
            }),
            None => Some(MaterialDiff {
                kind: DiffKind::Added,
                old: None,
                new: Some(material.clone()),
            }),
        })
        .chain(removed.into_iter().map(|material| MaterialDiff {
            kind: DiffKind::Removed,
            old: Some(material.clone()),
            new: None,
        }))
        .collect()
}
