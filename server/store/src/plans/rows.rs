//! Turning plan rows into domain types and back: plans, versions, activities,
//! dependencies, and routines with their steps and materials.

use crate::convert::{classification, stored};
use crate::entities::{
    activity_dependencies, critical_activities, plan_versions, plans, routine_materials,
    routine_steps, routines,
};
use crate::plans::DependencyEntry;
use crate::{Result, StoreError};
use reserv_domain::classification::Classification;
use reserv_domain::ids::{
    ActivityId, DependencyId, PersonId, PlanId, PlanVersionId, RoutineId, SystemId, UnitId,
};
use reserv_domain::plans::{
    ActivityRequest, CriticalActivity, Dependency, Material, Plan, PlanVersion, Routine,
    RoutineKey, RoutineStep,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use std::collections::BTreeMap;

/// `routine_steps.phase` of the steps that replace the system.
const FALLBACK: &str = "fallback";
/// `routine_steps.phase` of the steps that bring paper records back afterwards.
const RECOVERY: &str = "recovery";

pub(crate) fn plan(row: plans::Model) -> Result<Plan> {
    Ok(Plan {
        id: PlanId(row.id),
        unit_id: UnitId(row.unit_id),
        owner_id: row.owner_id.map(PersonId),
        review_interval_months: u32::try_from(row.review_interval_months).map_err(|_| {
            StoreError::Database(DbErr::Type(format!(
                "plans.review_interval_months holds {}",
                row.review_interval_months
            )))
        })?,
        title: row.title,
        review_due_at: row.review_due_at,
        created_at: row.created_at,
    })
}

/// The validated interval (1–36 months) as stored.
pub(crate) fn stored_interval(months: u32) -> i32 {
    i32::try_from(months).unwrap_or(i32::MAX)
}

pub(crate) fn version(row: plan_versions::Model) -> Result<PlanVersion> {
    Ok(PlanVersion {
        id: PlanVersionId(row.id),
        plan_id: PlanId(row.plan_id),
        version: row.version,
        state: stored(&row.state, "plan_versions.state")?,
        classification: classification(
            row.confidentiality,
            row.integrity,
            row.availability,
            row.traceability,
        )?,
        summary: row.summary,
        activation_criteria: row.activation_criteria,
        created_at: row.created_at,
        approved_at: row.approved_at,
        approved_by: row.approved_by,
        last_edited_by: row.last_edited_by,
    })
}

pub(crate) fn activity(row: critical_activities::Model) -> CriticalActivity {
    CriticalActivity {
        id: ActivityId(row.id),
        version_id: PlanVersionId(row.version_id),
        name: row.name,
        description: row.description,
        mtpd_minutes: row.mtpd_minutes,
        rto_minutes: row.rto_minutes,
        rpo_minutes: row.rpo_minutes,
    }
}

/// Writes a validated activity request into a row. The domain caps the minutes at four
/// weeks, so they always fit.
pub(crate) fn activity_row(
    request: ActivityRequest,
    mut row: critical_activities::ActiveModel,
) -> critical_activities::ActiveModel {
    let minutes = |value: i64| i32::try_from(value).unwrap_or(i32::MAX);
    row.name = Set(request.name);
    row.description = Set(request.description);
    row.mtpd_minutes = Set(minutes(request.mtpd_minutes));
    row.rto_minutes = Set(minutes(request.rto_minutes));
    row.rpo_minutes = Set(minutes(request.rpo_minutes));
    row
}

pub(crate) fn dependency(row: activity_dependencies::Model) -> Result<DependencyEntry> {
    Ok(DependencyEntry {
        id: DependencyId(row.id),
        dependency: Dependency {
            activity_id: ActivityId(row.activity_id),
            kind: stored(&row.kind, "activity_dependencies.kind")?,
            system_id: row.system_id.map(SystemId),
            name: row.name,
        },
    })
}

/// The columns a routine's own row holds.
pub(crate) struct RoutineHead<'a> {
    pub activity_id: Option<ActivityId>,
    pub key: &'a RoutineKey,
    pub title: &'a str,
    pub trigger: &'a str,
    pub classification: Classification,
}

pub(crate) fn routine_row(
    head: RoutineHead<'_>,
    mut row: routines::ActiveModel,
) -> routines::ActiveModel {
    row.activity_id = Set(head.activity_id.map(|id| id.0));
    row.key = Set(head.key.as_str().to_owned());
    row.title = Set(head.title.to_owned());
    row.trigger = Set(head.trigger.to_owned());
    row.confidentiality = Set(head.classification.confidentiality.level().into());
    row.integrity = Set(head.classification.integrity.into());
    row.availability = Set(head.classification.availability.into());
    row.traceability = Set(head.classification.traceability.map(i16::from));
    row
}

/// Turns routine rows into routines, reading their steps and materials in two queries.
pub(crate) async fn load_routines(
    db: &impl ConnectionTrait,
    rows: Vec<routines::Model>,
) -> Result<Vec<Routine>> {
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let mut steps: BTreeMap<i64, Vec<routine_steps::Model>> = BTreeMap::new();
    for step in routine_steps::Entity::find()
        .filter(routine_steps::Column::RoutineId.is_in(ids.iter().copied()))
        .order_by_asc(routine_steps::Column::Position)
        .order_by_asc(routine_steps::Column::Id)
        .all(db)
        .await?
    {
        steps.entry(step.routine_id).or_default().push(step);
    }
    let mut materials: BTreeMap<i64, Vec<Material>> = BTreeMap::new();
    for material in routine_materials::Entity::find()
        .filter(routine_materials::Column::RoutineId.is_in(ids.iter().copied()))
        .order_by_asc(routine_materials::Column::Position)
        .order_by_asc(routine_materials::Column::Id)
        .all(db)
        .await?
    {
        materials
            .entry(material.routine_id)
            .or_default()
            .push(Material {
                name: material.name,
                location: material.location,
            });
    }
    rows.into_iter()
        .map(|row| {
            let mut fallback = Vec::new();
            let mut recovery = Vec::new();
            for step in steps.remove(&row.id).unwrap_or_default() {
                let phase = match step.phase.as_str() {
                    FALLBACK => &mut fallback,
                    RECOVERY => &mut recovery,
                    other => {
                        return Err(StoreError::Database(DbErr::Type(format!(
                            "routine_steps.phase holds an unknown value '{other}'"
                        ))));
                    }
                };
                phase.push(RoutineStep {
                    who: step.who,
                    what: step.what,
                    when: step.when_text,
                });
            }
            Ok(Routine {
                id: RoutineId(row.id),
                version_id: PlanVersionId(row.version_id),
                activity_id: row.activity_id.map(ActivityId),
                key: RoutineKey::parse("routines.key", &row.key)?,
                classification: classification(
                    row.confidentiality,
                    row.integrity,
                    row.availability,
                    row.traceability,
                )?,
                title: row.title,
                trigger: row.trigger,
                steps: fallback,
                materials: materials.remove(&row.id).unwrap_or_default(),
                recovery_steps: recovery,
            })
        })
        .collect()
}

/// Replaces a routine's steps and materials with the given ones, in their order.
pub(crate) async fn replace_routine_contents(
    db: &impl ConnectionTrait,
    routine: i64,
    steps: &[RoutineStep],
    materials: &[Material],
    recovery_steps: &[RoutineStep],
) -> Result<()> {
    routine_steps::Entity::delete_many()
        .filter(routine_steps::Column::RoutineId.eq(routine))
        .exec(db)
        .await?;
    routine_materials::Entity::delete_many()
        .filter(routine_materials::Column::RoutineId.eq(routine))
        .exec(db)
        .await?;
    let phases = [(FALLBACK, steps), (RECOVERY, recovery_steps)];
    let step_rows = phases.iter().flat_map(|(phase, steps)| {
        steps
            .iter()
            .enumerate()
            .map(move |(position, step)| routine_steps::ActiveModel {
                id: NotSet,
                routine_id: Set(routine),
                phase: Set((*phase).to_owned()),
                position: Set(position_of(position)),
                who: Set(step.who.clone()),
                what: Set(step.what.clone()),
                when_text: Set(step.when.clone()),
            })
    });
    routine_steps::Entity::insert_many(step_rows)
        .exec_without_returning(db)
        .await?;
    let material_rows =
        materials
            .iter()
            .enumerate()
            .map(|(position, material)| routine_materials::ActiveModel {
                id: NotSet,
                routine_id: Set(routine),
                position: Set(position_of(position)),
                name: Set(material.name.clone()),
                location: Set(material.location.clone()),
            });
    routine_materials::Entity::insert_many(material_rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A list index as a stored position; the domain limits lists far below `i32::MAX`.
pub(crate) fn position_of(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}
