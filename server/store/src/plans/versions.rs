//! Plan versions: reading them, editing a draft's text, starting a new draft from the
//! approved version, approving and retiring.

use super::rows::{self, RoutineHead};
use super::{plan_path, plan_scope, version_for_update, version_in_scope};
use crate::audit::{Audit, split_detail};
use crate::entities::{activity_dependencies, critical_activities, plan_versions, plans, routines};
use crate::{Result, Store, StoreError};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal};
use reserv_domain::audit::AuditAction;
use reserv_domain::classification::lowering_detail;
use reserv_domain::ids::{ActivityId, PlanId, PlanVersionId};
use reserv_domain::plans::{
    PlanState, PlanVersion, VersionContent, ensure_approvable, ensure_second_person, review_due,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::BTreeMap;

impl Store {
    pub async fn plan_version(&self, who: &Principal, id: PlanVersionId) -> Result<PlanVersion> {
        let scope = version_in_scope(&self.db, id).await?;
        self.ensure_reads_version(who, &scope).await?;
        Ok(scope.version)
    }

    /// Replaces a draft's summary, activation criteria and classification.
    pub async fn update_draft(
        &self,
        who: &Principal,
        id: PlanVersionId,
        content: VersionContent,
    ) -> Result<PlanVersion> {
        let tx = self.begin().await?;
        let result = async {
            let scope = version_for_update(&tx, id).await?;
            scope.ensure_editable_by(&tx, who).await?;
            // Classifying above one's own clearance would lock the editor out of the
            // draft they are writing.
            who.authorize_read(
                Action::EditPlans,
                scope.access(),
                content.classification.confidentiality,
            )?;
            let content = content.validate()?;
            let lowered = lowering_detail(
                scope.version.classification.confidentiality,
                content.classification.confidentiality,
                content.lowering_reason.as_deref(),
            )?;
            let row = plan_versions::ActiveModel {
                id: Set(id.0),
                summary: Set(content.summary),
                activation_criteria: Set(content.activation_criteria),
                confidentiality: Set(content.classification.confidentiality.level().into()),
                integrity: Set(content.classification.integrity.into()),
                availability: Set(content.classification.availability.into()),
                traceability: Set(content.classification.traceability.map(i16::from)),
                ..Default::default()
            }
            .update(&tx)
            .await?;
            Ok((rows::version(row)?, lowered))
        }
        .await;
        let (result, lowered) = split_detail(result);
        let audit = Audit::new(AuditAction::Update, "plan_version")
            .on(id)
            .with_detail(lowered);
        self.finish(tx, who, audit, result).await
    }

    /// Starts the next draft of a plan as a copy of its approved version (or, when none
    /// is approved, its latest), with all activities, dependencies and routines.
    pub async fn create_draft(&self, who: &Principal, plan: PlanId) -> Result<PlanVersion> {
        let tx = self.begin().await?;
        let result = async {
            // Locking the plan row makes a second editor wait here and then find this
            // draft, instead of failing on the version number.
            let plan_row = plans::Entity::find_by_id(plan.0)
                .lock_exclusive()
                .one(&tx)
                .await?
                .ok_or_else(|| DomainError::not_found("plan", plan))?;
            let plan = rows::plan(plan_row)?;
            let path = plan_path(&tx, &plan).await?;
            who.authorize(Action::EditPlans, plan_scope(&plan, &path))?;
            let versions = versions_of(&tx, plan.id).await?;
            if let Some(draft) = versions.iter().find(|v| v.state == PlanState::Draft) {
                return Err(DomainError::conflict(format!(
                    "Version {} of this plan is already a draft; edit it instead of starting another",
                    draft.version
                ))
                .into());
            }
            let source = versions
                .iter()
                .rev()
                .find(|v| v.state == PlanState::Approved)
                .or(versions.last())
                .ok_or_else(|| DomainError::conflict("The plan has no version to copy"))?;
            let level = source.classification.confidentiality;
            who.authorize_read(Action::EditPlans, plan_scope(&plan, &path), level)?;
            let number = versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
            let row = plan_versions::ActiveModel {
                id: NotSet,
                plan_id: Set(plan.id.0),
                version: Set(number),
                state: Set(PlanState::Draft.as_str().to_owned()),
                summary: Set(source.summary.clone()),
                activation_criteria: Set(source.activation_criteria.clone()),
                confidentiality: Set(level.level().into()),
                integrity: Set(source.classification.integrity.into()),
                availability: Set(source.classification.availability.into()),
                traceability: Set(source.classification.traceability.map(i16::from)),
                created_at: Set(self.now()),
                created_by: Set(Some(who.username.clone())),
                approved_at: Set(None),
                approved_by: Set(None),
                last_edited_by: Set(Some(who.username.clone())),
            }
            .insert(&tx)
            .await
            .map_err(|error| {
                StoreError::from(error).on_duplicate(|| {
                    format!("Version {number} of this plan was just created by someone else")
                })
            })?;
            copy_contents(&tx, source.id, PlanVersionId(row.id)).await?;
            rows::version(row)
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::CreateDraft, "plan").on(plan),
            result,
        )
        .await
    }

    /// Approves a draft: it becomes the version in force, the previous approved version
    /// is retired, and the plan's next review is due one interval from now.
    pub async fn approve_version(&self, who: &Principal, id: PlanVersionId) -> Result<PlanVersion> {
        let tx = self.begin().await?;
        let result = async {
            let scope = version_for_update(&tx, id).await?;
            scope.authorize(who, Action::ApprovePlans)?;
            let number = scope.version.version;
            let state = scope.version.state.approve(number)?;
            let activities = critical_activities::Entity::find()
                .filter(critical_activities::Column::VersionId.eq(id.0))
                .count(&tx)
                .await?;
            ensure_approvable(usize::try_from(activities).unwrap_or(usize::MAX), number)?;
            if self.plan_settings.four_eyes {
                ensure_second_person(&scope.version, &who.username)?;
            }
            plan_versions::Entity::update_many()
                .col_expr(
                    plan_versions::Column::State,
                    Expr::value(PlanState::Retired.as_str()),
                )
                .filter(plan_versions::Column::PlanId.eq(scope.plan.id.0))
                .filter(plan_versions::Column::State.eq(PlanState::Approved.as_str()))
                .exec(&tx)
                .await?;
            let now = self.now();
            let row = plan_versions::ActiveModel {
                id: Set(id.0),
                state: Set(state.as_str().to_owned()),
                approved_at: Set(Some(now)),
                approved_by: Set(Some(who.username.clone())),
                ..Default::default()
            }
            .update(&tx)
            .await?;
            plans::ActiveModel {
                id: Set(scope.plan.id.0),
                review_due_at: Set(Some(review_due(now, scope.plan.review_interval_months))),
                ..Default::default()
            }
            .update(&tx)
            .await?;
            rows::version(row)
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Approve, "plan_version").on(id),
            result,
        )
        .await
    }

    /// Retires an approved version without a successor, for a plan that no longer
    /// applies. The review date stays: a plan without a version in force still needs
    /// attention.
    pub async fn retire_version(&self, who: &Principal, id: PlanVersionId) -> Result<PlanVersion> {
        let tx = self.begin().await?;
        let result = async {
            let scope = version_for_update(&tx, id).await?;
            scope.authorize(who, Action::ApprovePlans)?;
            let state = scope.version.state.retire(scope.version.version)?;
            let row = plan_versions::ActiveModel {
                id: Set(id.0),
                state: Set(state.as_str().to_owned()),
                ..Default::default()
            }
            .update(&tx)
            .await?;
            rows::version(row)
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Retire, "plan_version").on(id),
            result,
        )
        .await
    }
}

/// A plan's versions, oldest first.
pub(crate) async fn versions_of(
    db: &impl ConnectionTrait,
    plan: PlanId,
) -> Result<Vec<PlanVersion>> {
    plan_versions::Entity::find()
        .filter(plan_versions::Column::PlanId.eq(plan.0))
        .order_by_asc(plan_versions::Column::Version)
        .all(db)
        .await?
        .into_iter()
        .map(rows::version)
        .collect()
}

/// The version in force among a plan's versions: the approved one, or else the latest
/// draft. Retired versions are never current.
pub(crate) fn current_of(versions: Vec<PlanVersion>) -> Option<PlanVersion> {
    let mut approved = None;
    let mut draft: Option<PlanVersion> = None;
    for version in versions {
        match version.state {
            PlanState::Approved => approved = Some(version),
            PlanState::Draft if draft.as_ref().is_none_or(|d| d.version < version.version) => {
                draft = Some(version)
            }
            PlanState::Draft | PlanState::Retired => {}
        }
    }
    approved.or(draft)
}

/// Copies a version's activities (in order), their dependencies, and its routines with
/// steps and materials into another version, pointing routines at the copied activities.
async fn copy_contents(
    db: &impl ConnectionTrait,
    from: PlanVersionId,
    to: PlanVersionId,
) -> Result<()> {
    let activities = critical_activities::Entity::find()
        .filter(critical_activities::Column::VersionId.eq(from.0))
        .order_by_asc(critical_activities::Column::Position)
        .order_by_asc(critical_activities::Column::Id)
        .all(db)
        .await?;
    let mut copied: BTreeMap<ActivityId, ActivityId> = BTreeMap::new();
    for activity in activities {
        let old = activity.id;
        let row = critical_activities::ActiveModel {
            id: NotSet,
            version_id: Set(to.0),
            ..activity.into()
        }
        .insert(db)
        .await?;
        copied.insert(ActivityId(old), ActivityId(row.id));
    }
    let dependencies = activity_dependencies::Entity::find()
        .filter(activity_dependencies::Column::ActivityId.is_in(copied.keys().map(|id| id.0)))
        .order_by_asc(activity_dependencies::Column::Id)
        .all(db)
        .await?;
    activity_dependencies::Entity::insert_many(dependencies.into_iter().filter_map(|dependency| {
        let activity = copied.get(&ActivityId(dependency.activity_id))?;
        Some(activity_dependencies::ActiveModel {
            id: NotSet,
            activity_id: Set(activity.0),
            ..dependency.into()
        })
    }))
    .exec_without_returning(db)
    .await?;
    let source_routines = routines::Entity::find()
        .filter(routines::Column::VersionId.eq(from.0))
        .order_by_asc(routines::Column::Id)
        .all(db)
        .await?;
    for routine in rows::load_routines(db, source_routines).await? {
        let head = RoutineHead {
            activity_id: routine
                .activity_id
                .and_then(|old| copied.get(&old).copied()),
            key: &routine.key,
            title: &routine.title,
            trigger: &routine.trigger,
            classification: routine.classification,
        };
        let row = rows::routine_row(
            head,
            routines::ActiveModel {
                id: NotSet,
                version_id: Set(to.0),
                ..Default::default()
            },
        )
        .insert(db)
        .await?;
        rows::replace_routine_contents(
            db,
            row.id,
            &routine.steps,
            &routine.materials,
            &routine.recovery_steps,
        )
        .await?;
    }
    Ok(())
}
