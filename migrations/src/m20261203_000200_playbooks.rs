//! Imported playbooks and the problems the last import found. A playbook keeps the last
//! version that passed its checks, so a broken file never takes a working scenario away.

use crate::m20261123_000001_directory::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("playbooks")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("file", 255))
                    .col(string_len("title_sv", 200))
                    .col(string_len_null("title_en", 200))
                    .col(string_len("kind", 32))
                    .col(text("source"))
                    .col(timestamp_with_time_zone("imported_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("playbook_problems")
                    .col(big_pk_auto("id"))
                    .col(string_len("file", 255))
                    .col(big_integer("line_number"))
                    .col(big_integer("column_number"))
                    .col(string_len("field", 200))
                    .col(text("message"))
                    .col(timestamp_with_time_zone("found_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "playbook_problems", &["file"], false).await
    }
}
