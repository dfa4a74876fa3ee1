//! Writing and reading the audit trail. Every change goes through [`Store::finish`], which
//! commits the change together with its audit event, or rolls it back and records the
//! denial or failure on its own. Every event takes its place in one hash chain
//! ([`chain`]); events that are not part of a change go through the group-commit
//! [`writer`].
//!
//! Nothing here changes or removes an event: the chain is only ever appended to.

mod chain;
mod data_version;
mod reads;
mod unit_of_work;
mod writer;

pub(crate) use chain::append_chained;
pub(crate) use reads::ReadLedger;
pub use reads::RequestReads;
pub(crate) use unit_of_work::Change;
pub(crate) use writer::AuditWriter;

use crate::entities::audit_events;
use crate::page::{PageRequest, fetch_page};
use crate::{Page, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::audit::{
    AuditAction, AuditEvent, AuditOutcome, AuditRecord, ChainFault, ChainWalk,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// What a change does, for its audit event.
#[derive(Debug, Clone)]
pub(crate) struct Audit {
    pub action: AuditAction,
    pub object_type: &'static str,
    /// The object's id when it exists before the change.
    pub object_id: Option<String>,
    /// What a successful change's event says beyond its action, such as the reason an
    /// administrator gave.
    pub detail: Option<String>,
}

impl Audit {
    pub fn new(action: AuditAction, object_type: &'static str) -> Self {
        Self {
            action,
            object_type,
            object_id: None,
            detail: None,
        }
    }

    pub fn on(mut self, id: impl ToString) -> Self {
        self.object_id = Some(id.to_string());
        self
    }

    /// The event's detail; `None` leaves it without one.
    pub fn with_detail(mut self, detail: impl Into<Option<String>>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// Separates a change's result from the audit detail it produced.
pub(crate) fn split_detail<T>(result: Result<(T, Option<String>)>) -> (Result<T>, Option<String>) {
    match result {
        Ok((value, detail)) => (Ok(value), detail),
        Err(error) => (Err(error), None),
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

/// Which events an administrator looks for; every field narrows the search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The actor's username.
    pub actor: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub action: Option<AuditAction>,
    pub outcome: Option<AuditOutcome>,
    /// Events at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Events before this time.
    pub to: Option<DateTime<Utc>>,
}

/// What a walk of the whole chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Events checked before the walk ended (all of them when there is no fault).
    pub checked: u64,
    pub fault: Option<ChainFault>,
}

/// How many events a walk of the chain reads at a time.
const WALK_PAGE: u64 = 1_000;

/// Starts a write transaction. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`): a transaction that reads first and writes later would
/// otherwise fail with "database is locked" when another writer got in between,
/// instead of waiting its turn.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    Ok(db.begin_with_options(options).await?)
}

impl Store {
    /// Starts the transaction of a change; see [`begin_write`].
    pub(crate) async fn begin(&self) -> Result<DatabaseTransaction> {
        begin_write(&self.db).await
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
                let record = self.audit_record(
                    who,
                    &audit,
                    object_id,
                    AuditOutcome::Success,
                    audit.detail.clone(),
                );
                // The event is appended last: the chain lock is held only until the
                // commit right after it.
                chain::append_chained(&tx, vec![record]).await?;
                tx.commit().await?;
                Ok(value)
            }
            Err(error) => {
                tx.rollback().await?;
                self.record_refusal(who, &audit, &error).await;
                Err(error)
            }
        }
    }

    /// Records an event that is not part of a change (a refused sign-in, say), through
    /// the writer; returns once it is committed.
    pub(crate) async fn record_alone(
        &self,
        who: &Principal,
        audit: &Audit,
        outcome: AuditOutcome,
        detail: Option<String>,
    ) -> Result<()> {
        let record = self.audit_record(who, audit, audit.object_id.clone(), outcome, detail);
        self.audit_writer.append(vec![record]).await
    }

    pub(crate) fn audit_record(
        &self,
        who: &Principal,
        audit: &Audit,
        object_id: Option<String>,
        outcome: AuditOutcome,
        detail: Option<String>,
    ) -> AuditRecord {
        AuditRecord {
            at: self.now(),
            actor_id: who.account_id,
            actor: Some(who.username.clone()),
            action: audit.action,
            object_type: audit.object_type.to_owned(),
            object_id,
            client_address: who.client_address.clone(),
            outcome,
            detail,
        }
    }

    /// The audit trail, oldest first, narrowed by `filter`; for those who follow up
    /// the log (administrators and crisis leads, as the policy says).
    pub async fn audit_events(
        &self,
        who: &Principal,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>> {
        who.authorize(Action::ReadAudit, Scope::Organisation)?;
        let mut select = audit_events::Entity::find();
        if let Some(actor) = &filter.actor {
            select = select.filter(audit_events::Column::Actor.eq(actor.trim()));
        }
        if let Some(object_type) = &filter.object_type {
            select = select.filter(audit_events::Column::ObjectType.eq(object_type.as_str()));
        }
        if let Some(object_id) = &filter.object_id {
            select = select.filter(audit_events::Column::ObjectId.eq(object_id.as_str()));
        }
        if let Some(action) = filter.action {
            select = select.filter(audit_events::Column::Action.eq(action.as_str()));
        }
        if let Some(outcome) = filter.outcome {
            select = select.filter(audit_events::Column::Outcome.eq(outcome.as_str()));
        }
        if let Some(from) = filter.from {
            select = select.filter(audit_events::Column::At.gte(from));
        }
        if let Some(to) = filter.to {
            select = select.filter(audit_events::Column::At.lt(to));
        }
        fetch_page(&self.db, select, audit_events::Column::Id, page, |row| {
            row.id
        })
        .await?
        .try_map(chain::audit_event)
    }

    /// Walks the whole chain from its genesis and reports the first changed, broken
    /// or missing link. For the operator (`reserv audit verify`), who has the database
    /// itself; it reads in pages, so a chain of any length fits in memory.
    pub async fn verify_audit_chain(&self) -> Result<ChainReport> {
        let unchained = audit_events::Entity::find()
            .filter(audit_events::Column::Seq.is_null())
            .order_by_asc(audit_events::Column::Id)
            .one(&self.db)
            .await?;
        if let Some(row) = unchained {
            let event = chain::audit_event(row)?;
            return Ok(ChainReport {
                checked: 0,
                fault: Some(ChainFault::Unchained {
                    id: event.id,
                    at: event.record.at,
                }),
            });
        }
        let mut walk = ChainWalk::default();
        let mut after: Option<i64> = None;
        loop {
            let mut select = audit_events::Entity::find()
                .order_by_asc(audit_events::Column::Seq)
                .limit(WALK_PAGE);
            if let Some(seq) = after {
                select = select.filter(audit_events::Column::Seq.gt(seq));
            }
            let rows = select.all(&self.db).await?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for row in rows {
                if let Err(fault) = walk.check(&chain::audit_event(row)?) {
                    return Ok(ChainReport {
                        checked: walk.checked,
                        fault: Some(fault),
                    });
                }
            }
        }
        let fault = (walk.checked == 0).then_some(ChainFault::NoGenesis);
        Ok(ChainReport {
            checked: walk.checked,
            fault,
        })
    }

    /// Hands every event with `from <= at < to`, in chain order, to `sink`; for the
    /// operator's export (`reserv audit export`).
    pub async fn export_audit_events(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        mut sink: impl FnMut(&AuditEvent) -> std::io::Result<()>,
    ) -> Result<u64> {
        let mut exported = 0;
        let mut after: Option<i64> = None;
        loop {
            let mut select = audit_events::Entity::find()
                .filter(audit_events::Column::Seq.is_not_null())
                .order_by_asc(audit_events::Column::Seq)
                .limit(WALK_PAGE);
            if let Some(seq) = after {
                select = select.filter(audit_events::Column::Seq.gt(seq));
            }
            if let Some(from) = from {
                select = select.filter(audit_events::Column::At.gte(from));
            }
            if let Some(to) = to {
                select = select.filter(audit_events::Column::At.lt(to));
            }
            let rows = select.all(&self.db).await?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for row in rows {
                sink(&chain::audit_event(row)?).map_err(|error| {
                    StoreError::Location(format!("could not write the export: {error}"))
                })?;
                exported += 1;
            }
        }
        Ok(exported)
    }

    /// How many events the trail holds; for tests and the operator.
    pub async fn audit_event_count(&self) -> Result<u64> {
        Ok(audit_events::Entity::find().count(&self.db).await?)
    }
}
