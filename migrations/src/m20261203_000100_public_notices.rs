//! Public notices for residents. Both tables are append-only: a notice is changed or
//! withdrawn by a new revision, so that what residents were told stays readable.

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
                    .table("public_notices")
                    .col(big_pk_auto("id"))
                    .col(big_integer_null("incident_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("public_notices", "incident_id", "incidents"))
                    .to_owned(),
            )
            .await?;
        index(manager, "public_notices", &["incident_id"], false).await?;
        crate::append_only::protect(manager, "public_notices").await?;

        manager
            .create_table(
                Table::create()
                    .table("public_notice_revisions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("notice_id"))
                    .col(integer("revision"))
                    .col(string_len("state", 16))
                    .col(string_len("headline_sv", 200))
                    .col(string_len_null("headline_en", 200))
                    .col(text("body_sv"))
                    .col(text_null("body_en"))
                    // JSON arrays: a notice's services and hotlines are only ever read
                    // and written whole, together with the revision they belong to.
                    .col(text("services"))
                    .col(text("hotlines"))
                    .col(timestamp_with_time_zone("valid_from"))
                    .col(timestamp_with_time_zone_null("valid_to"))
                    .col(timestamp_with_time_zone("recorded_at"))
                    .foreign_key(&mut fk(
                        "public_notice_revisions",
                        "notice_id",
                        "public_notices",
                    ))
                    .to_owned(),
            )
            .await?;
        // Two writers that both read revision n race for n + 1: the second one fails
        // here instead of writing a second "latest" revision.
        index(
            manager,
            "public_notice_revisions",
            &["notice_id", "revision"],
            true,
        )
        .await?;
        crate::append_only::protect(manager, "public_notice_revisions").await
    }
}
