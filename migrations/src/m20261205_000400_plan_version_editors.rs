//! Who last changed a plan version, so that approval can require a second person (the
//! four-eyes rule: nobody approves a draft they edited last).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("plan_versions")
                    .add_column(ColumnDef::new("last_edited_by").string().null())
                    .to_owned(),
            )
            .await?;
        // Until now only the creator was recorded: for the versions that exist, the
        // creator is the best knowledge of who edited them last.
        manager
            .get_connection()
            .execute_unprepared("UPDATE plan_versions SET last_edited_by = created_by")
            .await?;
        Ok(())
    }
}
