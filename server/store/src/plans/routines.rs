//! Fallback routines of a plan version, with their steps and materials.
//!
//! A routine carries its own classification, apart from its version's: the paper
//! routine for the journal system must reach every care worker of the unit even when
//! the plan around it is more sensitive. Reading a routine therefore asks for the
//! routine's level, not the version's.

use super::rows::{self, RoutineHead};
use super::versions::current_of;
use super::{RoutineWithContext, VersionInScope, version_for_update, version_in_scope};
use crate::audit::{Audit, split_detail};
use crate::entities::{
    critical_activities, plan_versions, plans, routine_materials, routine_steps, routines, units,
};
use crate::subtree::Subtrees;
use crate::{Result, Store, convert};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope, UnitPath};
use reserv_domain::audit::AuditAction;
use reserv_domain::classification::{Confidentiality, lowering_detail};
use reserv_domain::ids::{PersonId, PlanVersionId, RoutineId, UnitId};
use reserv_domain::plans::{PlanState, PlanVersion, Routine, RoutineKey, RoutineRequest};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
};
use std::collections::{BTreeSet, HashMap, HashSet};

impl Store {
    /// The routines in force that `who` may read: those of each plan's version in force
    /// (the approved one, else the draft), for `unit` and the units below it, or for
    /// every unit when `unit` is `None`. Each routine's own classification decides, so
    /// a care worker finds the internal paper routines of her unit even when the plan
    /// around them is more sensitive. Ordered by unit, then title. A fixed number of
    /// queries however many units and plans there are: this is what phones sync from.
    pub async fn routines_in_force(
        &self,
        who: &Principal,
        unit: Option<UnitId>,
    ) -> Result<Vec<Routine>> {
        let in_force = self.versions_in_force(who, unit).await?;
        let rows = self.readable_routine_rows(&in_force).await?;
        let mut found = rows::load_routines(&self.db, rows).await?;
        for routine in &found {
            if routine.classification.confidentiality.read_is_audited() {
                self.record_read(who, "routine", routine.id, "routine")
                    .await?;
            }
        }
        // Units sort by their path, which lists ancestors first.
        let unit_order = |routine: &Routine| -> Vec<UnitId> {
            in_force
                .get(&routine.version_id)
                .map(|(path, _)| path.0.clone())
                .unwrap_or_default()
        };
        found
            .sort_by_cached_key(|routine| (unit_order(routine), routine.title.clone(), routine.id));
        Ok(found)
    }

    /// The keys of the routines in force that `who` may read, for checking playbooks:
    /// names only, so no routine's contents are read (or audited as read).
    pub async fn routine_keys_in_force(&self, who: &Principal) -> Result<BTreeSet<String>> {
        let in_force = self.versions_in_force(who, None).await?;
        Ok(self
            .readable_routine_rows(&in_force)
            .await?
            .into_iter()
            .map(|row| row.key)
            .collect())
    }

    /// Each plan's version in force (the approved one, else the draft) among the plans
    /// `who` may read (`unit` and below, or all): those of units her grants reach and
    /// those she owns, with the unit's path and her clearance for the plan.
    async fn versions_in_force(
        &self,
        who: &Principal,
        unit: Option<UnitId>,
    ) -> Result<HashMap<PlanVersionId, (UnitPath, Confidentiality)>> {
        let mut select = units::Entity::find();
        if let Some(unit) = unit {
            let root = crate::directory::find_unit(&self.db, unit).await?;
            who.authorize(Action::ReadPlans, Scope::Unit(&root.path))?;
            let subtrees = Subtrees::of(&self.db, &[unit]).await?;
            select =
                select.filter(units::Column::Id.in_subquery(subtrees.units_covered_by(&[unit])));
        }
        let paths: HashMap<i64, UnitPath> = select
            .all(&self.db)
            .await?
            .iter()
            .map(|row| Ok((row.id, convert::unit_path(&row.path)?)))
            .collect::<Result<_>>()?;
        // A plan is read where the reader's grants reach, and by its owner wherever it
        // is (see `Scope::Plan`), so the owner's sync holds her plan's routines too.
        let mut reachable = Condition::any().add(
            plans::Column::UnitId.is_in(
                paths
                    .iter()
                    .filter(|(_, path)| who.may(Action::ReadPlans, Scope::Unit(path)))
                    .map(|(id, _)| *id),
            ),
        );
        if let Some(person) = who.person_id {
            reachable = reachable.add(
                Condition::all()
                    .add(plans::Column::OwnerId.eq(person.0))
                    .add(plans::Column::UnitId.is_in(paths.keys().copied())),
            );
        }
        let plan_scopes: HashMap<i64, (i64, Option<PersonId>)> = plans::Entity::find()
            .filter(reachable)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| (row.id, (row.unit_id, row.owner_id.map(PersonId))))
            .collect();
        let mut versions: HashMap<i64, Vec<PlanVersion>> = HashMap::new();
        for row in plan_versions::Entity::find()
            .filter(plan_versions::Column::PlanId.is_in(plan_scopes.keys().copied()))
            .filter(plan_versions::Column::State.ne(PlanState::Retired.as_str()))
            .all(&self.db)
            .await?
        {
            versions
                .entry(row.plan_id)
                .or_default()
                .push(rows::version(row)?);
        }
        // For each version in force: the unit it belongs to, and how far the reader is
        // cleared there.
        let mut in_force = HashMap::new();
        for (plan, plan_versions) in versions {
            let Some((unit, owner)) = plan_scopes.get(&plan) else {
                continue;
            };
            if let (Some(path), Some(version)) = (paths.get(unit), current_of(plan_versions)) {
                let scope = Scope::Plan {
                    unit: path,
                    owner: *owner,
                };
                let clearance = who.clearance_in(Action::ReadPlans, scope);
                in_force.insert(version.id, (path.clone(), clearance));
            }
        }
        Ok(in_force)
    }

    /// The routine rows of `in_force` within the reader's clearance there.
    async fn readable_routine_rows(
        &self,
        in_force: &HashMap<PlanVersionId, (UnitPath, Confidentiality)>,
    ) -> Result<Vec<routines::Model>> {
        Ok(routines::Entity::find()
            .filter(routines::Column::VersionId.is_in(in_force.keys().map(|id| id.0)))
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|row| {
                in_force
                    .get(&PlanVersionId(row.version_id))
                    .is_some_and(|(_, clearance)| {
                        row.confidentiality <= i16::from(clearance.level())
                    })
            })
            .collect())
    }

    /// One routine, with the plan and version it belongs to.
    pub async fn routine(&self, who: &Principal, id: RoutineId) -> Result<RoutineWithContext> {
        let (routine, scope) = routine_in_scope(&self.db, id).await?;
        let level = routine.classification.confidentiality;
        who.authorize_read(Action::ReadPlans, scope.access(), level)?;
        if level.read_is_audited() {
            self.record_read(who, "routine", id, "routine").await?;
        }
        Ok(RoutineWithContext {
            routine,
            plan_id: scope.plan.id,
            unit_id: scope.plan.unit_id,
            state: scope.version.state,
            version: scope.version.version,
        })
    }

    pub async fn add_routine(
        &self,
        who: &Principal,
        version: PlanVersionId,
        request: RoutineRequest,
    ) -> Result<Routine> {
        let tx = self.begin().await?;
        let result = async {
            let scope = version_for_update(&tx, version).await?;
            let request = checked_request(&tx, who, &scope, request).await?;
            let key = match &request.key {
                Some(key) => free_key(&tx, &scope, key, None).await?,
                None => derived_key(&tx, version, &request.title).await?,
            };
            let row = rows::routine_row(
                head(&request, &key),
                routines::ActiveModel {
                    id: NotSet,
                    version_id: Set(version.0),
                    ..Default::default()
                },
            )
            .insert(&tx)
            .await?;
            save_contents(&tx, row, key, request).await
        }
        .await;
        self.finish(tx, who, Audit::new(AuditAction::Create, "routine"), result)
            .await
    }

    /// Replaces a routine's text, classification, steps and materials.
    pub async fn update_routine(
        &self,
        who: &Principal,
        id: RoutineId,
        request: RoutineRequest,
    ) -> Result<Routine> {
        let tx = self.begin().await?;
        let result = async {
            let (row, scope) = routine_for_update(&tx, id).await?;
            let current = row.confidentiality;
            let level = crate::convert::confidentiality(current)?;
            who.authorize_read(Action::EditPlans, scope.access(), level)?;
            let request = checked_request(&tx, who, &scope, request).await?;
            let lowered = lowering_detail(
                level,
                request.classification.confidentiality,
                request.lowering_reason.as_deref(),
            )?;
            let key = match &request.key {
                Some(key) => free_key(&tx, &scope, key, Some(id)).await?,
                None => RoutineKey::parse("routines.key", &row.key)?,
            };
            let row = rows::routine_row(head(&request, &key), row.into())
                .update(&tx)
                .await?;
            Ok((save_contents(&tx, row, key, request).await?, lowered))
        }
        .await;
        let (result, lowered) = split_detail(result);
        let audit = Audit::new(AuditAction::Update, "routine")
            .on(id)
            .with_detail(lowered);
        self.finish(tx, who, audit, result).await
    }

    pub async fn remove_routine(&self, who: &Principal, id: RoutineId) -> Result<()> {
        let tx = self.begin().await?;
        let result = async {
            let (row, scope) = routine_for_update(&tx, id).await?;
            let level = crate::convert::confidentiality(row.confidentiality)?;
            who.authorize_read(Action::EditPlans, scope.access(), level)?;
            scope.ensure_editable_by(&tx, who).await?;
            routine_steps::Entity::delete_many()
                .filter(routine_steps::Column::RoutineId.eq(id.0))
                .exec(&tx)
                .await?;
            routine_materials::Entity::delete_many()
                .filter(routine_materials::Column::RoutineId.eq(id.0))
                .exec(&tx)
                .await?;
            routines::Entity::delete_by_id(id.0).exec(&tx).await?;
            Ok(())
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Remove, "routine").on(id),
            result,
        )
        .await
    }
}

/// Checks that `who` may put this routine into the version: the version is an editable
/// draft, the routine's level is within the editor's clearance, and its activity (if
/// any) belongs to the same version.
async fn checked_request(
    db: &impl ConnectionTrait,
    who: &Principal,
    scope: &VersionInScope,
    request: RoutineRequest,
) -> Result<RoutineRequest> {
    scope.ensure_editable_by(db, who).await?;
    who.authorize_read(
        Action::EditPlans,
        scope.access(),
        request.classification.confidentiality,
    )?;
    let request = request.validate()?;
    if let Some(activity) = request.activity_id {
        let belongs = critical_activities::Entity::find_by_id(activity.0)
            .one(db)
            .await?
            .is_some_and(|row| row.version_id == scope.version.id.0);
        if !belongs {
            return Err(DomainError::validation(
                "activityId",
                format!(
                    "critical activity {activity} is not part of version {} of this plan",
                    scope.version.version
                ),
            )
            .into());
        }
    }
    Ok(request)
}

/// `key`, when no other routine of the version has it.
async fn free_key(
    db: &impl ConnectionTrait,
    scope: &VersionInScope,
    key: &RoutineKey,
    except: Option<RoutineId>,
) -> Result<RoutineKey> {
    let mut holders = routines::Entity::find()
        .filter(routines::Column::VersionId.eq(scope.version.id.0))
        .filter(routines::Column::Key.eq(key.as_str()));
    if let Some(except) = except {
        holders = holders.filter(routines::Column::Id.ne(except.0));
    }
    if let Some(holder) = holders.one(db).await? {
        return Err(DomainError::conflict(format!(
            "Version {} of this plan already has a routine with the key \"{key}\" (\"{}\"); give this one another key",
            scope.version.version, holder.title
        ))
        .into());
    }
    Ok(key.clone())
}

/// A key made from the title, numbered when the version already has it.
async fn derived_key(
    db: &impl ConnectionTrait,
    version: PlanVersionId,
    title: &str,
) -> Result<RoutineKey> {
    let base = RoutineKey::from_title(title);
    let taken: HashSet<String> = routines::Entity::find()
        .filter(routines::Column::VersionId.eq(version.0))
        .filter(routines::Column::Key.starts_with(base.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.key)
        .collect();
    // Room for a number within the longest key allowed.
    let stem = base.as_str()[..base.as_str().len().min(54)].trim_end_matches('-');
    let mut candidate = base.clone();
    let mut number = 2;
    while taken.contains(candidate.as_str()) {
        candidate = RoutineKey::parse("key", &format!("{stem}-{number}"))?;
        number += 1;
    }
    Ok(candidate)
}

fn head<'a>(request: &'a RoutineRequest, key: &'a RoutineKey) -> RoutineHead<'a> {
    RoutineHead {
        activity_id: request.activity_id,
        key,
        title: &request.title,
        trigger: &request.trigger,
        classification: request.classification,
    }
}

async fn save_contents(
    db: &impl ConnectionTrait,
    row: routines::Model,
    key: RoutineKey,
    request: RoutineRequest,
) -> Result<Routine> {
    rows::replace_routine_contents(
        db,
        row.id,
        &request.steps,
        &request.materials,
        &request.recovery_steps,
    )
    .await?;
    Ok(Routine {
        id: RoutineId(row.id),
        version_id: PlanVersionId(row.version_id),
        activity_id: request.activity_id,
        key,
        title: request.title,
        trigger: request.trigger,
        classification: request.classification,
        steps: request.steps,
        materials: request.materials,
        recovery_steps: request.recovery_steps,
    })
}

async fn find_routine(db: &impl ConnectionTrait, id: RoutineId) -> Result<routines::Model> {
    Ok(routines::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("routine", id))?)
}

async fn routine_in_scope(
    db: &impl ConnectionTrait,
    id: RoutineId,
) -> Result<(Routine, VersionInScope)> {
    let row = find_routine(db, id).await?;
    let scope = version_in_scope(db, PlanVersionId(row.version_id)).await?;
    let routine = rows::load_routines(db, vec![row])
        .await?
        .pop()
        .ok_or_else(|| DomainError::not_found("routine", id))?;
    Ok((routine, scope))
}

/// Loads a routine's row and its version for changing them, locking the version.
async fn routine_for_update(
    db: &impl ConnectionTrait,
    id: RoutineId,
) -> Result<(routines::Model, VersionInScope)> {
    let row = find_routine(db, id).await?;
    let scope = version_for_update(db, PlanVersionId(row.version_id)).await?;
    Ok((row, scope))
}
