//! Tasks say whether they belong to an exercise, like the incident, plans and checklist
//! runs an exercise activation creates. The tasks of exercise incidents written before
//! are marked from their incident.

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
                    .table("tasks")
                    .add_column(
                        ColumnDef::new("exercise")
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE tasks SET exercise = true \
                 WHERE incident_id IN (SELECT id FROM incidents WHERE exercise = true)",
            )
            .await?;
        Ok(())
    }
}
