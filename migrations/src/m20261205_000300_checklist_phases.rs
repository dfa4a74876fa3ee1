//! Checklist runs get a phase (the routine's fallback steps, or its recovery steps once
//! the incident is recovering), and their marks say what they did: tick, untick or
//! comment. Existing runs are fallback runs and existing marks ticks or unticks, which
//! is what the defaults say.

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
                    .table("checklist_runs")
                    .add_column(
                        ColumnDef::new("phase")
                            .string_len(16)
                            .not_null()
                            .default("fallback"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("checklist_ticks")
                    .add_column(
                        ColumnDef::new("kind")
                            .string_len(16)
                            .not_null()
                            .default("tick"),
                    )
                    .to_owned(),
            )
            .await?;
        // Existing unticks were rows with `ticked` false.
        manager
            .get_connection()
            .execute_unprepared("UPDATE checklist_ticks SET kind = 'untick' WHERE ticked = false")
            .await?;
        Ok(())
    }
}
