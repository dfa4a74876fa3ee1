//! Appending to the hash chain. Every event, whatever path wrote it, goes through
//! [`append_chained`] inside a write transaction: it takes the chain lock, reads the
//! chain head and inserts the events after it, so that no two transactions can give
//! out the same position, on one server or on several sharing a PostgreSQL database.

use crate::entities::audit_events;
use crate::{Result, StoreError};
use reserv_domain::audit::{AuditEvent, AuditRecord};
use reserv_domain::ids::{AccountId, AuditEventId};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, Statement,
};

/// Any fixed number serves as PostgreSQL's advisory lock key; this one spells "RSRVAUDT".
const CHAIN_LOCK_KEY: i64 = 0x5253_5256_4155_4454;

/// At most this many events go into one INSERT, well under SQLite's variable limit.
const ROWS_PER_INSERT: usize = 500;

/// Appends `records`, in order, to the chain within `tx`. The lock is held until `tx`
/// ends, so the caller should append last and commit at once.
pub(crate) async fn append_chained(
    tx: &DatabaseTransaction,
    records: Vec<AuditRecord>,
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    lock_chain(tx).await?;
    let head = audit_events::Entity::find()
        .filter(audit_events::Column::Seq.is_not_null())
        .order_by_desc(audit_events::Column::Seq)
        .one(tx)
        .await?;
    let (mut seq, mut previous) = match head.and_then(|row| Some((row.seq?, row.hash?))) {
        Some(head) => head,
        None => {
            return Err(StoreError::Database(DbErr::Custom(
                "the audit chain has no genesis event; run `reserv migrate`".into(),
            )));
        }
    };
    let mut rows = Vec::with_capacity(records.len());
    for record in records {
        let record = record.normalised();
        seq += 1;
        let hash = record.chain_hash(seq, &previous);
        rows.push(audit_events::ActiveModel {
            id: NotSet,
            at: Set(record.at),
            actor_id: Set(record.actor_id.map(|id| id.0)),
            actor: Set(record.actor),
            action: Set(record.action.as_str().to_owned()),
            object_type: Set(record.object_type),
            object_id: Set(record.object_id),
            client_address: Set(record.client_address),
            outcome: Set(record.outcome.as_str().to_owned()),
            detail: Set(record.detail),
            seq: Set(Some(seq)),
            prev_hash: Set(Some(previous)),
            hash: Set(Some(hash.clone())),
        });
        previous = hash;
    }
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
        audit_events::Entity::insert_many(std::mem::replace(&mut rows, rest))
            .exec(tx)
            .await?;
    }
    Ok(())
}

/// On PostgreSQL a transaction-scoped advisory lock serialises appenders across
/// server instances. On SQLite every write transaction already holds the database's
/// write lock from its start (`BEGIN IMMEDIATE`).
async fn lock_chain(tx: &DatabaseTransaction) -> Result<()> {
    if tx.get_database_backend() == DbBackend::Postgres {
        tx.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({CHAIN_LOCK_KEY})"),
        ))
        .await?;
    }
    Ok(())
}

/// A stored row as a domain event.
pub(crate) fn audit_event(row: audit_events::Model) -> Result<AuditEvent> {
    Ok(AuditEvent {
        id: AuditEventId(row.id),
        seq: row.seq,
        record: AuditRecord {
            at: row.at,
            actor_id: row.actor_id.map(AccountId),
            actor: row.actor,
            action: crate::convert::stored(&row.action, "audit_events.action")?,
            object_type: row.object_type,
            object_id: row.object_id,
            client_address: row.client_address,
            outcome: crate::convert::stored(&row.outcome, "audit_events.outcome")?,
            detail: row.detail,
        }
        .normalised(),
        previous_hash: row.prev_hash,
        hash: row.hash,
    })
}
