//! Escalation of unacknowledged messages: the time per message, each recipient's step
//! and when the next is due (indexed, so that the worker's pass finds due steps with
//! one range scan), the SMS held back while push might reach her, and on the outbox the
//! recipient a manager's notice is about.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("messages")
                    .add_column(ColumnDef::new("escalate_after_minutes").integer().null())
                    .to_owned(),
            )
            .await?;
        // SQLite alters one column per statement.
        for column in [
            ColumnDef::new("escalation_step")
                .small_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new("escalation_due_at")
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new("held_sms").text().null().to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("message_recipients")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("message_recipients_escalation_due_at")
                    .table("message_recipients")
                    .col("escalation_due_at")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("outbox")
                    .add_column(ColumnDef::new("escalation_about").big_integer().null())
                    .to_owned(),
            )
            .await
    }
}
