//! Keeping a plan up to date: changing its title, owner and review interval,
//! discarding a draft that will not be approved, and showing an approver what changed
//! between two versions.
//!
//! A discarded draft is removed with its contents: it was never in force, nobody
//! worked from it, and the audit trail keeps who discarded which version when.
//! Approved and retired versions are never removed.

use super::versions::versions_of;
use super::{plan_path, rows, version_for_update, version_in_scope};
use crate::audit::{Audit, Change};
use crate::directory::ensure_person_exists;
use crate::entities::{
    activity_dependencies, critical_activities, plan_versions, plans, routine_materials,
    routine_steps, routines,
};
use crate::{Result, Store};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::{PlanId, PlanVersionId};
use reserv_domain::plan_diff::{VersionContents, VersionDiff, diff_versions};
use reserv_domain::plans::{
    Plan, PlanEdit, PlanState, PlanVersion, ensure_discardable, review_due,
};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

impl Store {
    /// Changes a plan's title, owner or review interval; fields left out stay. A new
    /// interval moves the next review of the approved version with it.
    pub async fn update_plan(&self, who: &Principal, id: PlanId, edit: PlanEdit) -> Result<Plan> {
        let mut change = self.change().await?;
        let result = self.update_plan_in(&mut change, who, id, edit).await;
        self.conclude(
            change,
            who,
            Audit::new(AuditAction::Update, "plan").on(id),
            result,
        )
        .await
    }

    /// [`Store::update_plan`] as part of a larger change.
    pub(crate) async fn update_plan_in(
        &self,
        change: &mut Change,
        who: &Principal,
        id: PlanId,
        edit: PlanEdit,
    ) -> Result<Plan> {
        let tx = change.tx();
        let plan = async {
            let row = plans::Entity::find_by_id(id.0)
                .lock_exclusive()
                .one(tx)
                .await?
                .ok_or_else(|| DomainError::not_found("plan", id))?;
            let current = rows::plan(row)?;
            who.authorize(
                Action::EditPlans,
                Scope::Unit(&plan_path(tx, &current).await?),
            )?;
            let edit = edit.validate()?;
            if let Some(owner) = edit.owner_id {
                ensure_person_exists(tx, owner, "ownerId").await?;
            }
            let mut update = plans::ActiveModel {
                id: Set(id.0),
                ..Default::default()
            };
            if let Some(title) = edit.title {
                update.title = Set(title);
            }
            if let Some(owner) = edit.owner_id {
                update.owner_id = Set(owner.map(|owner| owner.0));
            }
            if let Some(months) = edit.review_interval_months {
                update.review_interval_months = Set(rows::stored_interval(months));
                let approved = versions_of(tx, id)
                    .await?
                    .into_iter()
                    .find(|version| version.state == PlanState::Approved);
                if let Some(approved_at) = approved.and_then(|version| version.approved_at) {
                    update.review_due_at = Set(Some(review_due(approved_at, months)));
                }
            }
            rows::plan(update.update(tx).await?)
        }
        .await?;
        change.audited(
            self,
            who,
            &Audit::new(AuditAction::Update, "plan").on(id),
            &plan,
        );
        Ok(plan)
    }

    /// Discards a draft with its activities, dependencies and routines. Returns the
    /// discarded version as it was.
    pub async fn discard_draft(&self, who: &Principal, id: PlanVersionId) -> Result<PlanVersion> {
        let mut change = self.change().await?;
        let result = self.discard_draft_in(&mut change, who, id).await;
        let audit = Audit::new(AuditAction::Discard, "plan_version").on(id);
        self.conclude(change, who, audit, result).await
    }

    /// [`Store::discard_draft`] as part of a larger change.
    pub(crate) async fn discard_draft_in(
        &self,
        change: &mut Change,
        who: &Principal,
        id: PlanVersionId,
    ) -> Result<PlanVersion> {
        let tx = change.tx();
        let version = async {
            // Lock the plan first, as creating a draft does, so that the two wait for
            // each other instead of one finding the other's half.
            let found = version_in_scope(tx, id).await?;
            plans::Entity::find_by_id(found.plan.id.0)
                .lock_exclusive()
                .one(tx)
                .await?;
            let scope = version_for_update(tx, id).await?;
            scope.authorize(who, Action::EditPlans)?;
            let others = versions_of(tx, scope.plan.id).await?.len();
            ensure_discardable(&scope.version, others)?;
            remove_contents(tx, id).await?;
            plan_versions::Entity::delete_by_id(id.0).exec(tx).await?;
            Ok::<_, crate::StoreError>(scope.version)
        }
        .await?;
        change.audited(
            self,
            who,
            &Audit::new(AuditAction::Discard, "plan_version").on(id),
            &version,
        );
        Ok(version)
    }

    /// What changed from one version of a plan to another. Both must belong to the
    /// same plan and be readable by `who`; routines above the reader's clearance are
    /// left out of both sides.
    pub async fn plan_version_diff(
        &self,
        who: &Principal,
        from: PlanVersionId,
        to: PlanVersionId,
    ) -> Result<VersionDiff> {
        let old = version_in_scope(&self.db, from).await?;
        let new = version_in_scope(&self.db, to).await?;
        if old.plan.id != new.plan.id {
            return Err(DomainError::validation(
                "toId",
                format!(
                    "version {to} hör till en annan plan än version {from}; version {to} belongs to plan {}, version {from} to plan {}",
                    new.plan.id, old.plan.id
                ),
            )
            .into());
        }
        self.ensure_reads_version(who, &old).await?;
        self.ensure_reads_version(who, &new).await?;
        let old = self.version_contents(who, old.version).await?;
        let new = self.version_contents(who, new.version).await?;
        Ok(diff_versions(&old, &new))
    }

    /// A readable version with its activities, their dependencies and its readable
    /// routines.
    async fn version_contents(
        &self,
        who: &Principal,
        version: PlanVersion,
    ) -> Result<VersionContents> {
        let activities = self.activities(who, version.id).await?;
        let ids: Vec<_> = activities.iter().map(|activity| activity.id).collect();
        let mut contents = self.contents_of_activities(who, &ids).await?;
        let mut dependencies = Vec::new();
        for id in ids {
            let found = contents
                .remove(&id)
                .unwrap_or_else(|| Err(DomainError::not_found("critical activity", id)))?;
            dependencies.extend(found.dependencies.into_iter().map(|entry| entry.dependency));
        }
        let routines = self.routines(who, version.id).await?;
        Ok(VersionContents {
            version,
            activities,
            dependencies,
            routines,
        })
    }
}

/// Removes a version's activities with their dependencies and its routines with their
/// steps and materials, child rows first (SQLite may run without foreign-key cascades).
async fn remove_contents(db: &impl sea_orm::ConnectionTrait, version: PlanVersionId) -> Result<()> {
    let activity_ids: Vec<i64> = critical_activities::Entity::find()
        .select_only()
        .column(critical_activities::Column::Id)
        .filter(critical_activities::Column::VersionId.eq(version.0))
        .into_tuple()
        .all(db)
        .await?;
    let routine_ids: Vec<i64> = routines::Entity::find()
        .select_only()
        .column(routines::Column::Id)
        .filter(routines::Column::VersionId.eq(version.0))
        .into_tuple()
        .all(db)
        .await?;
    activity_dependencies::Entity::delete_many()
        .filter(activity_dependencies::Column::ActivityId.is_in(activity_ids))
        .exec(db)
        .await?;
    routine_steps::Entity::delete_many()
        .filter(routine_steps::Column::RoutineId.is_in(routine_ids.iter().copied()))
        .exec(db)
        .await?;
    routine_materials::Entity::delete_many()
        .filter(routine_materials::Column::RoutineId.is_in(routine_ids))
        .exec(db)
        .await?;
    routines::Entity::delete_many()
        .filter(routines::Column::VersionId.eq(version.0))
        .exec(db)
        .await?;
    critical_activities::Entity::delete_many()
        .filter(critical_activities::Column::VersionId.eq(version.0))
        .exec(db)
        .await?;
    Ok(())
}
