//! Crisis log entries and tasks get a confidentiality level of their own, at or below
//! their incident's, so that instructions for all staff can be internal inside a
//! sensitive incident. Existing entries and tasks take their incident's level, which is
//! what they were read at until now; the crisis log's append-only triggers are lifted
//! for that one fill and put back in the same transaction.

use crate::append_only;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["crisis_log_entries", "tasks"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(
                            ColumnDef::new("confidentiality")
                                .small_integer()
                                .not_null()
                                .default(0),
                        )
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        append_only::lift(manager, "crisis_log_entries").await?;
        for table in ["crisis_log_entries", "tasks"] {
            db.execute_unprepared(&format!(
                "UPDATE {table} SET confidentiality = \
                 (SELECT incidents.confidentiality FROM incidents \
                  WHERE incidents.id = {table}.incident_id)"
            ))
            .await?;
        }
        append_only::protect(manager, "crisis_log_entries").await
    }
}
