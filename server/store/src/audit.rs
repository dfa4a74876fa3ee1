//! Writing and reading the audit trail. Every change goes through [`Store::finish`], which
//! commits the change together with its audit event, or rolls it back and records the
//! denial or failure on its own.

use crate::entities::audit_events;
use crate::page::{PageRequest, fetch_page};
use crate::{Page, Result, Store, StoreError};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::audit::{AuditEvent, AuditOutcome};
use reserv_domain::ids::{AccountId, AuditEventId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseTransaction, EntityTrait, QueryFilter, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

/// What a change does, for its audit event.
#[derive(Debug, Clone)]
pub(crate) struct Audit {
    pub action: &'static str,
    pub object_type: &'static str,
    /// The object's id when it exists before the change.
    pub object_id: Option<String>,
}

impl Audit {
    pub fn new(action: &'static str, object_type: &'static str) -> Self {
        Self {
            action,
            object_type,
            object_id: None,
        }
    }

    pub fn on(mut self, id: impl ToString) -> Self {
        self.object_id = Some(id.to_string());
        self
    }
}

/// Gives the id of an object a change created or touched, for its audit event.
pub(crate) trait AuditedObject {
    fn audit_id(&self) -> Option<String>;
}

impl AuditedObject for () {
    fn audit_id(&self) -> Option<String> {
        None
    }
}

impl Store {
    /// Starts the transaction of a change. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a transaction that reads first and writes later would
    /// otherwise fail with "database is locked" when another writer got in between,
    /// instead of waiting its turn.
    pub(crate) async fn begin(&self) -> Result<DatabaseTransaction> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(self.db.begin_with_options(options).await?)
    }

    /// Ends a change: commits it with a success event, or rolls it back and records the
    /// denial or failure. Domain errors pass through unchanged for the caller.
    pub(crate) async fn finish<T: AuditedObject>(
        &self,
        tx: DatabaseTransaction,
        who: &Principal,
        audit: Audit,
        result: Result<T>,
    ) -> Result<T> {
        match result {
            Ok(value) => {
                let object_id = audit.object_id.clone().or_else(|| value.audit_id());
                self.record(&tx, who, &audit, object_id, AuditOutcome::Success, None)
                    .await?;
                tx.commit().await?;
                Ok(value)
            }
            Err(error) => {
                tx.rollback().await?;
                let (outcome, detail) = match &error {
                    StoreError::Domain(
                        DomainError::Forbidden(_) | DomainError::Unauthenticated(_),
                    ) => (AuditOutcome::Denied, Some(error.to_string())),
                    StoreError::Domain(domain) => (AuditOutcome::Failed, Some(domain.to_string())),
                    StoreError::Database(_) | StoreError::Location(_) => {
                        (AuditOutcome::Failed, Some("internal error".to_owned()))
                    }
                };
                let object_id = audit.object_id.clone();
                if let Err(audit_error) = self
                    .record(&self.db, who, &audit, object_id, outcome, detail)
                    .await
                {
                    tracing::error!(%audit_error, action = audit.action, "could not record a failed change in the audit log");
                }
                Err(error)
            }
        }
    }

    /// Records one event on `db` (the change's transaction, or the pool).
    pub(crate) async fn record(
        &self,
        db: &impl ConnectionTrait,
        who: &Principal,
        audit: &Audit,
        object_id: Option<String>,
        outcome: AuditOutcome,
        detail: Option<String>,
    ) -> Result<()> {
        audit_events::ActiveModel {
            id: NotSet,
            at: Set(self.now()),
            actor_id: Set(who.account_id.map(|id| id.0)),
            actor: Set(Some(who.username.clone())),
            action: Set(audit.action.to_owned()),
            object_type: Set(audit.object_type.to_owned()),
            object_id: Set(object_id),
            client_address: Set(who.client_address.clone()),
            outcome: Set(outcome.as_str().to_owned()),
            detail: Set(detail.map(|text| text.chars().take(500).collect())),
        }
        .insert(db)
        .await?;
        Ok(())
    }

    /// Records that `who` read an object whose confidentiality requires it.
    pub(crate) async fn record_read(
        &self,
        who: &Principal,
        object_type: &'static str,
        id: impl ToString,
    ) -> Result<()> {
        let audit = Audit::new("read", object_type).on(id.to_string());
        self.record(
            &self.db,
            who,
            &audit,
            audit.object_id.clone(),
            AuditOutcome::Success,
            None,
        )
        .await
    }

    /// The audit trail, oldest first, optionally for one kind of object or one object.
    pub async fn audit_events(
        &self,
        who: &Principal,
        object_type: Option<&str>,
        object_id: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>> {
        who.authorize(Action::ReadAudit, Scope::Organisation)?;
        let mut select = audit_events::Entity::find();
        if let Some(object_type) = object_type {
            select = select.filter(audit_events::Column::ObjectType.eq(object_type));
        }
        if let Some(object_id) = object_id {
            select = select.filter(audit_events::Column::ObjectId.eq(object_id));
        }
        fetch_page(&self.db, select, audit_events::Column::Id, page, |row| {
            row.id
        })
        .await?
        .try_map(audit_event)
    }
}

fn audit_event(row: audit_events::Model) -> Result<AuditEvent> {
    Ok(AuditEvent {
        id: AuditEventId(row.id),
        at: row.at,
        actor_id: row.actor_id.map(AccountId),
        actor: row.actor,
        action: row.action,
        object_type: row.object_type,
        object_id: row.object_id,
        client_address: row.client_address,
        outcome: crate::convert::stored(&row.outcome, "audit_events.outcome")?,
        detail: row.detail,
    })
}
