//! Chains the audit trail: every event gets a position (`seq`), the hash of the event
//! before it and its own hash. A genesis event (position 0) starts the chain, and the
//! events already stored are chained once, in the order they were written.
//!
//! Chaining existing events is the one time rows of the audit trail are updated: the
//! update trigger is lifted for that and put back before the migration ends.

use crate::m20261123_000001_directory::index;
use chrono::{DateTime, Utc};
use reserv_domain::audit::{AuditAction, AuditOutcome, AuditRecord, GENESIS_PREVIOUS_HASH};
use reserv_domain::ids::AccountId;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too: the trigger is lifted and restored on the same
    /// connection, and a failure leaves the trail exactly as it was.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new("seq").big_integer().null().to_owned(),
            ColumnDef::new("prev_hash").string_len(64).null().to_owned(),
            ColumnDef::new("hash").string_len(64).null().to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("audit_events")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        index(manager, "audit_events", &["seq"], true).await?;

        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        db.execute_unprepared(lift_update_trigger(backend)?).await?;
        chain_existing_events(db, backend).await?;
        db.execute_unprepared(restore_update_trigger(backend)?)
            .await?;
        Ok(())
    }
}

fn lift_update_trigger(backend: DbBackend) -> Result<&'static str, DbErr> {
    match backend {
        DbBackend::Sqlite => Ok("DROP TRIGGER audit_events_no_update"),
        DbBackend::Postgres => Ok("DROP TRIGGER audit_events_append_only ON audit_events"),
        other => Err(unsupported(other)),
    }
}

fn restore_update_trigger(backend: DbBackend) -> Result<&'static str, DbErr> {
    match backend {
        DbBackend::Sqlite => Ok(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
             BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
        ),
        DbBackend::Postgres => Ok(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE \
             ON audit_events FOR EACH ROW EXECUTE FUNCTION reserv_refuse_change()",
        ),
        other => Err(unsupported(other)),
    }
}

fn unsupported(backend: DbBackend) -> DbErr {
    DbErr::Migration(format!(
        "Reserv supports SQLite and PostgreSQL, not {backend:?}"
    ))
}

async fn chain_existing_events(
    db: &SchemaManagerConnection<'_>,
    backend: DbBackend,
) -> Result<(), DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, at, actor_id, actor, action, object_type, object_id, client_address, \
             outcome, detail FROM audit_events ORDER BY id",
        ))
        .await?;
    let existing = rows.len();
    let genesis = AuditRecord {
        at: Utc::now(),
        actor_id: None,
        actor: None,
        action: AuditAction::ChainStarted,
        object_type: "audit_trail".into(),
        object_id: None,
        client_address: None,
        outcome: AuditOutcome::Success,
        detail: Some(format!(
            "audit chain started; {existing} earlier events chained in the order they were written"
        )),
    }
    .normalised();
    let genesis_hash = genesis.chain_hash(0, GENESIS_PREVIOUS_HASH);
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        placeholders(
            backend,
            "INSERT INTO audit_events (at, actor_id, actor, action, object_type, object_id, \
             client_address, outcome, detail, seq, prev_hash, hash) \
             VALUES (?, NULL, NULL, ?, ?, NULL, NULL, ?, ?, 0, ?, ?)",
        ),
        [
            genesis.at.into(),
            genesis.action.as_str().into(),
            genesis.object_type.clone().into(),
            genesis.outcome.as_str().into(),
            genesis.detail.clone().into(),
            GENESIS_PREVIOUS_HASH.into(),
            genesis_hash.clone().into(),
        ],
    ))
    .await?;

    let mut previous = genesis_hash;
    for (position, row) in rows.into_iter().enumerate() {
        let seq = <i64 as TryFrom<usize>>::try_from(position)
            .map_err(|error| DbErr::Migration(error.to_string()))?
            + 1;
        let id: i64 = row.try_get("", "id")?;
        let outcome: String = row.try_get("", "outcome")?;
        let action: String = row.try_get("", "action")?;
        let record = AuditRecord {
            at: row.try_get::<DateTime<Utc>>("", "at")?,
            actor_id: row.try_get::<Option<i64>>("", "actor_id")?.map(AccountId),
            actor: row.try_get("", "actor")?,
            action: action
                .parse::<AuditAction>()
                .map_err(|error| DbErr::Migration(format!("audit event {id}: {error}")))?,
            object_type: row.try_get("", "object_type")?,
            object_id: row.try_get("", "object_id")?,
            client_address: row.try_get("", "client_address")?,
            outcome: outcome
                .parse::<AuditOutcome>()
                .map_err(|error| DbErr::Migration(format!("audit event {id}: {error}")))?,
            detail: row.try_get("", "detail")?,
        }
        .normalised();
        let hash = record.chain_hash(seq, &previous);
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "UPDATE audit_events SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?",
            ),
            [
                seq.into(),
                previous.clone().into(),
                hash.clone().into(),
                id.into(),
            ],
        ))
        .await?;
        previous = hash;
    }
    Ok(())
}

/// PostgreSQL numbers its placeholders.
fn placeholders(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut numbered = String::with_capacity(sql.len() + 16);
    let mut count = 0;
    for character in sql.chars() {
        if character == '?' {
            count += 1;
            numbered.push_str(&format!("${count}"));
        } else {
            numbered.push(character);
        }
    }
    numbered
}
