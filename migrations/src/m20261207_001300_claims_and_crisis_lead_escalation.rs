//! A token per claim on the outbox, so that the worker records a copy's outcome only
//! while the row is still claimed by the same claim: a send that outlives its lease may
//! have been claimed and sent again by another process, whose outcome then stands. And
//! on each escalating message when its crisis leads are to be told who has still not
//! acknowledged (indexed, so that the worker's pass finds them with one range scan;
//! cleared once they are told).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("outbox")
                    .add_column(ColumnDef::new("claim_token").string_len(36).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("messages")
                    .add_column(
                        ColumnDef::new("crisis_leads_due_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("messages_crisis_leads_due_at")
                    .table("messages")
                    .col("crisis_leads_due_at")
                    .to_owned(),
            )
            .await
    }
}
