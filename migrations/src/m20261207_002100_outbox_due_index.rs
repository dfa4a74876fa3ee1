//! A partial index on the outbox copies still to be sent, in the order the worker
//! claims them. Without it every claim read the whole outbox, sent copies included, and
//! sorted what was due: on a send to 10 000 people that scan ran hundreds of times and
//! grew with every message ever sent. Sent and failed copies, by far the most rows in
//! time, stay out of the index. The same statement works on SQLite and PostgreSQL.

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
                "CREATE INDEX ix_outbox_due ON outbox (next_attempt_at, id) \
                 WHERE state = 'queued'",
            )
            .await?;
        Ok(())
    }
}
