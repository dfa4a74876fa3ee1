//! Incidents, the units and systems they affect, the append-only crisis log and tasks.

use crate::m20261123_000001_directory::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("incidents")
                    .col(big_pk_auto("id"))
                    .col(string_len("title", 200))
                    .col(text_null("description"))
                    .col(string_len("kind", 32))
                    .col(small_integer("severity"))
                    .col(string_len("state", 16))
                    .col(big_integer_null("commander_id"))
                    .col(boolean("exercise"))
                    .col(small_integer("confidentiality"))
                    .col(small_integer("integrity"))
                    .col(small_integer("availability"))
                    .col(timestamp_with_time_zone("reported_at"))
                    .col(string_len_null("reported_by", 64))
                    .col(timestamp_with_time_zone_null("closed_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("incidents", "commander_id", "people"))
                    .to_owned(),
            )
            .await?;
        index(manager, "incidents", &["state"], false).await?;

        for (table, column, target) in [
            ("incident_units", "unit_id", "units"),
            ("incident_systems", "system_id", "it_systems"),
        ] {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .col(big_integer("incident_id"))
                        .col(big_integer(column))
                        .primary_key(Index::create().col("incident_id").col(column))
                        .foreign_key(&mut fk(table, "incident_id", "incidents"))
                        .foreign_key(&mut fk(table, column, target))
                        .to_owned(),
                )
                .await?;
            index(manager, table, &[column], false).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("crisis_log_entries")
                    .col(big_pk_auto("id"))
                    .col(big_integer("incident_id"))
                    .col(string_len("kind", 16))
                    .col(text("text"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .col(timestamp_with_time_zone("recorded_at"))
                    .col(big_integer_null("author_id"))
                    .col(string_len("author", 64))
                    .col(big_integer_null("corrects_id"))
                    .foreign_key(&mut fk("crisis_log_entries", "incident_id", "incidents"))
                    .foreign_key(&mut fk(
                        "crisis_log_entries",
                        "corrects_id",
                        "crisis_log_entries",
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "crisis_log_entries", &["incident_id"], false).await?;
        crate::append_only::protect(manager, "crisis_log_entries").await?;

        manager
            .create_table(
                Table::create()
                    .table("tasks")
                    .col(big_pk_auto("id"))
                    .col(big_integer("incident_id"))
                    .col(string_len("title", 300))
                    .col(big_integer_null("assignee_id"))
                    .col(string_len_null("assignee_role", 120))
                    .col(timestamp_with_time_zone_null("due_at"))
                    .col(string_len("state", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("tasks", "incident_id", "incidents"))
                    .foreign_key(&mut fk("tasks", "assignee_id", "people"))
                    .to_owned(),
            )
            .await?;
        index(manager, "tasks", &["incident_id"], false).await
    }
}
