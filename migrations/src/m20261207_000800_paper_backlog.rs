//! The paper back-log of recovery runs: how many hand-written forms a unit has had
//! received, registered, spot-checked and archived, recorded as appended counts with who
//! and when, and the date the catch-up is due.

use crate::m20261123_000001_directory::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("paper_backlog_entries")
                    .col(big_pk_auto("id"))
                    .col(big_integer("run_id"))
                    .col(string_len("stage", 16))
                    .col(integer("count"))
                    .col(string_len("client_id", 64))
                    .col(big_integer_null("recorded_by_id"))
                    .col(string_len("recorded_by", 64))
                    .col(timestamp_with_time_zone("recorded_at"))
                    .foreign_key(&mut fk("paper_backlog_entries", "run_id", "checklist_runs"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "paper_backlog_entries",
            &["run_id", "client_id"],
            true,
        )
        .await?;
        // Nullable: a run's back-log has no due date until a crisis lead sets one.
        manager
            .alter_table(
                Table::alter()
                    .table("checklist_runs")
                    .add_column(
                        ColumnDef::new("backlog_due_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
