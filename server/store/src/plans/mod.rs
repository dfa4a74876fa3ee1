//! Continuity plans: the plans of units, their versions with the approval life cycle,
//! critical activities, dependencies and fallback routines.
//!
//! Every use case resolves the plan's unit path first and asks the access policy with
//! it; a version's classification limits who may read or edit it. Changes that touch
//! several rows (a new plan with its first version, a draft copied from an approved
//! version, an approval that retires the previous one) run in one transaction. Nothing
//! here may change an approved or retired version: the domain's `ensure_editable` is
//! asked before every edit.

mod activities;
mod routines;
pub(crate) mod rows;
mod tree;
mod upkeep;
pub(crate) mod versions;

#[cfg(test)]
mod tests;

pub use tree::{ActivityContents, PlanVersions, VersionPlace};

use crate::audit::{Audit, AuditedObject};
use crate::directory::{ensure_person_exists, find_unit};
use crate::entities::{plan_versions, plans};
use crate::page::{PageRequest, fetch_page};
use crate::per_key::answer_for;
use crate::subtree::Subtrees;
use crate::{Page, Result, Store, StoreError};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope, UnitPath};
use reserv_domain::audit::AuditAction;
use reserv_domain::classification::Classification;
use reserv_domain::ids::{DependencyId, PlanId, PlanVersionId, UnitId};
use reserv_domain::plans::{
    CriticalActivity, Dependency, NewPlan, Plan, PlanState, PlanVersion, Routine,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect,
};

/// Which plans to list. Every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanFilter {
    /// Only the plans of this unit (not of the units below it).
    pub unit_id: Option<UnitId>,
    /// Only plans whose review date has passed.
    pub due_for_review: bool,
    /// Only plans that have a version in this state.
    pub state: Option<PlanState>,
}

/// A dependency as stored, with the id needed to remove it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyEntry {
    pub id: DependencyId,
    pub dependency: Dependency,
}

/// A routine with what a care worker opening it needs to know about its plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutineWithContext {
    pub routine: Routine,
    pub plan_id: PlanId,
    pub unit_id: UnitId,
    /// The state of the version the routine belongs to: a retired routine is history.
    pub state: PlanState,
    pub version: i32,
}

impl AuditedObject for Plan {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl AuditedObject for PlanVersion {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl AuditedObject for CriticalActivity {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl AuditedObject for DependencyEntry {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl AuditedObject for Routine {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl Store {
    /// Creates a plan for a unit, with version 1 as an empty draft.
    pub async fn create_plan(&self, who: &Principal, request: NewPlan) -> Result<Plan> {
        let tx = self.begin().await?;
        let result = async {
            let unit = find_unit(&tx, request.unit_id)
                .await
                .map_err(|error| not_found_as_validation(error, "unitId"))?;
            who.authorize(Action::EditPlans, Scope::Unit(&unit.path))?;
            let request = request.validate()?;
            ensure_person_exists(&tx, request.owner_id, "ownerId").await?;
            let now = self.now();
            let plan = plans::ActiveModel {
                id: NotSet,
                unit_id: Set(request.unit_id.0),
                title: Set(request.title),
                owner_id: Set(request.owner_id.map(|id| id.0)),
                review_interval_months: Set(rows::stored_interval(request.review_interval_months)),
                review_due_at: Set(None),
                created_at: Set(now),
            }
            .insert(&tx)
            .await?;
            let classification = Classification::default();
            plan_versions::ActiveModel {
                id: NotSet,
                plan_id: Set(plan.id),
                version: Set(1),
                state: Set(PlanState::Draft.as_str().to_owned()),
                summary: Set(None),
                activation_criteria: Set(None),
                confidentiality: Set(classification.confidentiality.level().into()),
                integrity: Set(classification.integrity.into()),
                availability: Set(classification.availability.into()),
                traceability: Set(classification.traceability.map(i16::from)),
                created_at: Set(now),
                created_by: Set(Some(who.username.clone())),
                approved_at: Set(None),
                approved_by: Set(None),
                last_edited_by: Set(Some(who.username.clone())),
            }
            .insert(&tx)
            .await?;
            rows::plan(plan)
        }
        .await;
        self.finish(tx, who, Audit::new(AuditAction::Create, "plan"), result)
            .await
    }

    /// Plans in the units the principal may read plans of, oldest first.
    pub async fn plans(
        &self,
        who: &Principal,
        filter: PlanFilter,
        page: PageRequest,
    ) -> Result<Page<Plan>> {
        who.authorize_somewhere(Action::ReadPlans)?;
        let mut select = plans::Entity::find();
        if let Some(limits) = who.unit_limits(Action::ReadPlans) {
            let subtrees = Subtrees::of(&self.db, &limits).await?;
            let mut readable = Condition::any()
                .add(plans::Column::UnitId.in_subquery(subtrees.units_covered_by(&limits)));
            // A plan's owner reads it wherever it is (see `Scope::Plan`).
            if let Some(person) = who.person_id {
                readable = readable.add(plans::Column::OwnerId.eq(person.0));
            }
            select = select.filter(readable);
        }
        if let Some(unit) = filter.unit_id {
            select = select.filter(plans::Column::UnitId.eq(unit.0));
        }
        if filter.due_for_review {
            select = select.filter(plans::Column::ReviewDueAt.lte(self.now()));
        }
        if let Some(state) = filter.state {
            select = select.filter(
                plans::Column::Id.in_subquery(
                    Query::select()
                        .column(plan_versions::Column::PlanId)
                        .from(plan_versions::Entity)
                        .and_where(plan_versions::Column::State.eq(state.as_str()))
                        .to_owned(),
                ),
            );
        }
        fetch_page(&self.db, select, plans::Column::Id, page, |row| row.id)
            .await?
            .try_map(rows::plan)
    }

    pub async fn plan(&self, who: &Principal, id: PlanId) -> Result<Plan> {
        answer_for(self.plans_by_id(who, &[id]).await?, id, "plan")
    }

    /// Allows reading a version's content (its text, activities and dependencies) and
    /// records the read when the version's classification asks for it.
    async fn ensure_reads_version(&self, who: &Principal, scope: &VersionInScope) -> Result<()> {
        scope.authorize(who, Action::ReadPlans)?;
        if scope
            .version
            .classification
            .confidentiality
            .read_is_audited()
        {
            self.record_read(who, "plan_version", scope.version.id, "content")
                .await?;
        }
        Ok(())
    }
}

/// A plan version with the plan and unit path that decide access to it.
#[derive(Debug, Clone)]
pub(crate) struct VersionInScope {
    pub version: PlanVersion,
    pub plan: Plan,
    pub path: UnitPath,
}

/// Where a plan's access is decided: its unit, and its owner, who reads it wherever
/// she works.
pub(crate) fn plan_scope<'a>(plan: &Plan, path: &'a UnitPath) -> Scope<'a> {
    Scope::Plan {
        unit: path,
        owner: plan.owner_id,
    }
}

impl VersionInScope {
    /// Where access to this version is decided.
    pub(crate) fn access(&self) -> Scope<'_> {
        plan_scope(&self.plan, &self.path)
    }

    /// Allows `action` on this version in its plan's unit, for someone cleared to read
    /// it: nobody changes, copies or approves what they may not see.
    pub(crate) fn authorize(&self, who: &Principal, action: Action) -> Result<()> {
        who.authorize_read(
            action,
            self.access(),
            self.version.classification.confidentiality,
        )?;
        Ok(())
    }

    /// Allows changing the version's content: editors of the unit who may read it, and
    /// only while it is a draft. Records `who` as the draft's last editor, in the
    /// caller's transaction, for the four-eyes rule of approval.
    async fn ensure_editable_by(&self, db: &impl ConnectionTrait, who: &Principal) -> Result<()> {
        self.authorize(who, Action::EditPlans)?;
        self.version.state.ensure_editable(self.version.version)?;
        if self.version.last_edited_by.as_deref() != Some(who.username.as_str()) {
            plan_versions::Entity::update_many()
                .col_expr(
                    plan_versions::Column::LastEditedBy,
                    sea_orm::sea_query::Expr::value(who.username.clone()),
                )
                .filter(plan_versions::Column::Id.eq(self.version.id.0))
                .exec(db)
                .await?;
        }
        Ok(())
    }
}

pub(crate) async fn find_plan(db: &impl ConnectionTrait, id: PlanId) -> Result<Plan> {
    let row = plans::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("plan", id))?;
    rows::plan(row)
}

pub(crate) async fn plan_path(db: &impl ConnectionTrait, plan: &Plan) -> Result<UnitPath> {
    Ok(find_unit(db, plan.unit_id).await?.path)
}

/// Loads a version for reading.
pub(crate) async fn version_in_scope(
    db: &impl ConnectionTrait,
    id: PlanVersionId,
) -> Result<VersionInScope> {
    let row = plan_versions::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("plan version", id))?;
    in_scope(db, row).await
}

/// Loads a version for changing it, locking its row (on PostgreSQL) so that an
/// approval and an edit of the same draft cannot interleave.
pub(crate) async fn version_for_update(
    db: &impl ConnectionTrait,
    id: PlanVersionId,
) -> Result<VersionInScope> {
    let row = plan_versions::Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("plan version", id))?;
    in_scope(db, row).await
}

async fn in_scope(db: &impl ConnectionTrait, row: plan_versions::Model) -> Result<VersionInScope> {
    let version = rows::version(row)?;
    let plan = find_plan(db, version.plan_id).await?;
    let path = plan_path(db, &plan).await?;
    Ok(VersionInScope {
        version,
        plan,
        path,
    })
}

/// Turns "X was not found" about a referenced object into a validation error on the
/// input field that named it; other errors pass unchanged.
pub(crate) fn not_found_as_validation(error: StoreError, field: &str) -> StoreError {
    match error {
        StoreError::Domain(DomainError::NotFound { entity, id }) => {
            DomainError::validation(field, format!("{entity} {id} was not found")).into()
        }
        other => other,
    }
}
