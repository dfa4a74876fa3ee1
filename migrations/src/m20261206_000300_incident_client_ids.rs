//! Client-generated ids on reported incidents, so that a phone resending a report it
//! made offline (its answer lost on a bad connection) never reports it twice. Unique
//! per reporter, as the crisis log's client ids are per author.

use crate::m20261123_000001_directory::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("incidents")
                    .add_column(ColumnDef::new("client_id").string_len(64).null())
                    .to_owned(),
            )
            .await?;
        index(manager, "incidents", &["reported_by", "client_id"], true).await
    }
}
