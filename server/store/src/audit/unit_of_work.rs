//! A unit of work: one transaction that several use cases add to, with the audit events
//! and incident changes they collect. One outer [`Store::conclude`] commits the change
//! with all its audit events (appended to the chain in the order they were collected)
//! and only then tells subscribers what changed, so that nobody hears of a change that
//! was rolled back.
//!
//! Use cases that compose take `&mut Change` (`*_in`); their public forms open a change,
//! call the `_in` form and conclude it, so that a use case alone behaves as before.

use super::{Audit, AuditedObject, begin_write, chain};
use crate::{Result, Store, StoreError};
use reserv_domain::DomainError;
use reserv_domain::access::Principal;
use reserv_domain::audit::{AuditOutcome, AuditRecord};
use reserv_domain::incidents::IncidentChange;
use sea_orm::DatabaseTransaction;

/// One change in progress; see the module documentation.
#[derive(Debug)]
pub(crate) struct Change {
    tx: DatabaseTransaction,
    records: Vec<AuditRecord>,
    announcements: Vec<IncidentChange>,
    /// Outbox copies this change queued; see [`Store::outbox_grew`].
    queued_copies: usize,
}

impl Change {
    /// The transaction the change runs in.
    pub fn tx(&self) -> &DatabaseTransaction {
        &self.tx
    }

    /// Records a success event for `object` (or `audit`'s own object id), committed
    /// with the change.
    pub fn audited<T: AuditedObject>(
        &mut self,
        store: &Store,
        who: &Principal,
        audit: &Audit,
        object: &T,
    ) {
        let object_id = audit.object_id.clone().or_else(|| object.audit_id());
        self.records.push(store.audit_record(
            who,
            audit,
            object_id,
            AuditOutcome::Success,
            audit.detail.clone(),
        ));
    }

    /// Rolls the change back without recording anything, for a caller that answers
    /// the request another way.
    pub async fn abandon(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }

    /// Tells subscribers about `change` once the change is committed.
    pub fn announce(&mut self, change: IncidentChange) {
        self.announcements.push(change);
    }

    /// Notes that this change queued `copies` outbox copies.
    pub fn queued(&mut self, copies: usize) {
        self.queued_copies += copies;
    }
}

impl Store {
    /// Starts a unit of work; see [`begin_write`].
    pub(crate) async fn change(&self) -> Result<Change> {
        Ok(Change {
            tx: begin_write(&self.db).await?,
            records: Vec::new(),
            announcements: Vec::new(),
            queued_copies: 0,
        })
    }

    /// Ends a unit of work. On success it commits the change with every audit event it
    /// collected and then publishes its incident changes; on error it rolls everything
    /// back and records the denial or failure as one event described by `audit`.
    pub(crate) async fn conclude<T>(
        &self,
        change: Change,
        who: &Principal,
        audit: Audit,
        result: Result<T>,
    ) -> Result<T> {
        let Change {
            tx,
            records,
            announcements,
            queued_copies,
        } = change;
        match result {
            Ok(value) => {
                // The events are appended last: the chain lock is held only until the
                // commit right after it.
                chain::append_chained(&tx, records).await?;
                tx.commit().await?;
                for announcement in announcements {
                    self.publish(announcement);
                }
                self.outbox_grew(queued_copies);
                Ok(value)
            }
            Err(error) => {
                tx.rollback().await?;
                self.record_refusal(who, &audit, &error).await;
                Err(error)
            }
        }
    }

    /// Records why a change was refused or failed, outside its (rolled back) transaction.
    pub(crate) async fn record_refusal(&self, who: &Principal, audit: &Audit, error: &StoreError) {
        let (outcome, detail) = match error {
            StoreError::Domain(DomainError::Forbidden(_) | DomainError::Unauthenticated(_)) => {
                (AuditOutcome::Denied, Some(error.to_string()))
            }
            StoreError::Domain(domain) => (AuditOutcome::Failed, Some(domain.to_string())),
            StoreError::Database(_) | StoreError::Location(_) => {
                (AuditOutcome::Failed, Some("internal error".to_owned()))
            }
        };
        let record = self.audit_record(who, audit, audit.object_id.clone(), outcome, detail);
        if let Err(audit_error) = self.audit_writer.append(vec![record]).await {
            tracing::error!(%audit_error, action = audit.action.as_str(), "could not record a failed change in the audit log");
        }
    }
}
