//! Client-generated ids on crisis log entries, so that a phone retrying an entry it
//! wrote offline never writes it twice. The id is unique per author: two people's
//! phones cannot collide, and nobody can probe another author's ids.

use crate::m20261123_000001_directory::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Adding a nullable column rewrites no row, so the append-only triggers on the
        // table (which refuse UPDATE and DELETE) are not involved; old entries keep NULL,
        // and NULLs never collide in a unique index on either database.
        manager
            .alter_table(
                Table::alter()
                    .table("crisis_log_entries")
                    .add_column(ColumnDef::new("client_id").string_len(64).null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "crisis_log_entries",
            &["author_id", "client_id"],
            true,
        )
        .await
    }
}
