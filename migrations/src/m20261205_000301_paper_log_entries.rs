//! Crisis log entries entered afterwards from paper notes say so, and name who wrote
//! the note when that was not the one typing it in. Existing entries were not from
//! paper, which is what the default says.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("crisis_log_entries")
                    .add_column(
                        ColumnDef::new("from_paper")
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("crisis_log_entries")
                    .add_column(ColumnDef::new("on_behalf_of").string_len(128).null())
                    .to_owned(),
            )
            .await
    }
}
