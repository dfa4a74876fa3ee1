//! Critical activities of a plan version and what they depend on.

use super::rows;
use super::{DependencyEntry, not_found_as_validation, version_for_update};
use crate::audit::Audit;
use crate::directory::find_system;
use crate::entities::{activity_dependencies, critical_activities, routines};
use crate::{Result, Store};
use reserv_domain::DomainError;
use reserv_domain::access::Principal;
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::{ActivityId, DependencyId, PlanVersionId};
use reserv_domain::plans::{ActivityRequest, CriticalActivity, DependencyRequest};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

impl Store {
    /// Adds a critical activity at the end of a draft's list.
    pub async fn add_activity(
        &self,
        who: &Principal,
        version: PlanVersionId,
        request: ActivityRequest,
    ) -> Result<CriticalActivity> {
        let tx = self.begin().await?;
        let result = async {
            version_for_update(&tx, version)
                .await?
                .ensure_editable_by(&tx, who)
                .await?;
            let request = request.validate()?;
            let last = critical_activities::Entity::find()
                .filter(critical_activities::Column::VersionId.eq(version.0))
                .order_by_desc(critical_activities::Column::Position)
                .one(&tx)
                .await?;
            let row = rows::activity_row(
                request,
                critical_activities::ActiveModel {
                    id: NotSet,
                    version_id: Set(version.0),
                    position: Set(last.map_or(0, |row| row.position.saturating_add(1))),
                    ..Default::default()
                },
            )
            .insert(&tx)
            .await?;
            Ok(rows::activity(row))
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Create, "critical_activity"),
            result,
        )
        .await
    }

    pub async fn update_activity(
        &self,
        who: &Principal,
        id: ActivityId,
        request: ActivityRequest,
    ) -> Result<CriticalActivity> {
        let tx = self.begin().await?;
        let result = async {
            let row = activity_for_update(&tx, id, who).await?;
            let request = request.validate()?;
            let row = rows::activity_row(request, row.into()).update(&tx).await?;
            Ok(rows::activity(row))
        }
        .await;
        let audit = Audit::new(AuditAction::Update, "critical_activity").on(id);
        self.finish(tx, who, audit, result).await
    }

    /// Removes an activity with its dependencies. Routines written for it stay in the
    /// plan, no longer tied to an activity.
    pub async fn remove_activity(&self, who: &Principal, id: ActivityId) -> Result<()> {
        let tx = self.begin().await?;
        let result = async {
            activity_for_update(&tx, id, who).await?;
            routines::Entity::update_many()
                .col_expr(routines::Column::ActivityId, Expr::value(None::<i64>))
                .filter(routines::Column::ActivityId.eq(id.0))
                .exec(&tx)
                .await?;
            activity_dependencies::Entity::delete_many()
                .filter(activity_dependencies::Column::ActivityId.eq(id.0))
                .exec(&tx)
                .await?;
            critical_activities::Entity::delete_by_id(id.0)
                .exec(&tx)
                .await?;
            Ok(())
        }
        .await;
        let audit = Audit::new(AuditAction::Remove, "critical_activity").on(id);
        self.finish(tx, who, audit, result).await
    }

    pub async fn add_dependency(
        &self,
        who: &Principal,
        activity: ActivityId,
        request: DependencyRequest,
    ) -> Result<DependencyEntry> {
        let tx = self.begin().await?;
        let result = async {
            activity_for_update(&tx, activity, who).await?;
            let request = request.validate()?;
            if let Some(system) = request.system_id {
                find_system(&tx, system)
                    .await
                    .map_err(|error| not_found_as_validation(error, "systemId"))?;
            }
            let existing = activity_dependencies::Entity::find()
                .filter(activity_dependencies::Column::ActivityId.eq(activity.0))
                .all(&tx)
                .await?
                .into_iter()
                .map(rows::dependency)
                .collect::<Result<Vec<_>>>()?;
            let same = |entry: &DependencyEntry| {
                entry.dependency.kind == request.kind
                    && entry.dependency.system_id == request.system_id
                    && (request.system_id.is_some() || entry.dependency.name == request.name)
            };
            if existing.iter().any(same) {
                return Err(DomainError::conflict(format!(
                    "Activity {activity} already has this dependency"
                ))
                .into());
            }
            let row = activity_dependencies::ActiveModel {
                id: NotSet,
                activity_id: Set(activity.0),
                kind: Set(request.kind.as_str().to_owned()),
                system_id: Set(request.system_id.map(|id| id.0)),
                name: Set(request.name),
            }
            .insert(&tx)
            .await?;
            rows::dependency(row)
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Create, "activity_dependency"),
            result,
        )
        .await
    }

    pub async fn remove_dependency(&self, who: &Principal, id: DependencyId) -> Result<()> {
        let tx = self.begin().await?;
        let result = async {
            let row = activity_dependencies::Entity::find_by_id(id.0)
                .one(&tx)
                .await?
                .ok_or_else(|| DomainError::not_found("dependency", id))?;
            activity_for_update(&tx, ActivityId(row.activity_id), who).await?;
            activity_dependencies::Entity::delete_by_id(id.0)
                .exec(&tx)
                .await?;
            Ok(())
        }
        .await;
        let audit = Audit::new(AuditAction::Remove, "activity_dependency").on(id);
        self.finish(tx, who, audit, result).await
    }
}

async fn find_activity(
    db: &impl ConnectionTrait,
    id: ActivityId,
) -> Result<critical_activities::Model> {
    Ok(critical_activities::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("critical activity", id))?)
}

/// Loads an activity for changing it, after checking that `who` may edit its version
/// and that the version is still a draft.
async fn activity_for_update(
    db: &impl ConnectionTrait,
    id: ActivityId,
    who: &Principal,
) -> Result<critical_activities::Model> {
    let row = find_activity(db, id).await?;
    version_for_update(db, PlanVersionId(row.version_id))
        .await?
        .ensure_editable_by(db, who)
        .await?;
    Ok(row)
}
