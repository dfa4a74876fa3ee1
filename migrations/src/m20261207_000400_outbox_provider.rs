//! Which provider took each sent copy (`twilio`, `46elks`, `web push`), so that after a
//! failover the crisis staff and the provider's invoices can be matched message by
//! message.

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
                    .add_column(ColumnDef::new("provider").string_len(32).null())
                    .to_owned(),
            )
            .await
    }
}
