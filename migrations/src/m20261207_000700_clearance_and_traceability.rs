//! A clearance per role grant, raised above the role's default by an administrator, and
//! KLASSA's traceability aspect ("spårbarhet") on every classified record.
//!
//! Both columns are nullable, so that adding them rewrites no row: a grant without a
//! raised clearance has its role's default, and a record without traceability holds no
//! personal data that calls for it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows carry a classification.
const CLASSIFIED: [&str; 5] = [
    "plan_versions",
    "routines",
    "incidents",
    "messages",
    "message_drafts",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        add_small_integer(manager, "account_roles", "raised_clearance").await?;
        for table in CLASSIFIED {
            add_small_integer(manager, table, "traceability").await?;
        }
        Ok(())
    }
}

async fn add_small_integer(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: &'static str,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(ColumnDef::new(column).small_integer().null())
                .to_owned(),
        )
        .await
}
