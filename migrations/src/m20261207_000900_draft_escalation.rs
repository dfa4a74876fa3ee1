//! The minutes a message draft's recipients have to acknowledge before escalation,
//! taken from the playbook's escalation rule at activation. Nullable: a draft from a
//! playbook without a rule, or prepared before this column, does not escalate.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("message_drafts")
                    .add_column(ColumnDef::new("escalate_after_minutes").integer().null())
                    .to_owned(),
            )
            .await
    }
}
