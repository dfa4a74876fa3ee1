//! A partial index on the audit events that record a committed change (every success
//! event but reads). The newest of them is the database's data version, which the
//! read cache asks for on every request; reads, by far the most events, stay out of
//! the index, so the probe is one step and the index costs reads nothing to write.
//! The same statement works on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_audit_events_changes ON audit_events (seq) \
                 WHERE action <> 'read' AND outcome = 'success'",
            )
            .await?;
        Ok(())
    }
}
