//! A stable key for every routine, so that playbooks can name "the medication
//! signing list" of each unit without database ids. A draft copies its routines' keys
//! from the version it starts from, so a key stays the same across plan versions.

use crate::m20261123_000001_directory::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("routines")
                    .add_column(ColumnDef::new("key").string().not_null().default(""))
                    .to_owned(),
            )
            .await?;
        // Routines written before keys existed get one from their id; editors can give
        // them a better one in their next draft.
        manager
            .get_connection()
            .execute_unprepared("UPDATE routines SET key = 'rutin-' || id")
            .await?;
        index(manager, "routines", &["version_id", "key"], true).await
    }
}
