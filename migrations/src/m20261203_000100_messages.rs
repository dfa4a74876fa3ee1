//! Crisis messages, one delivery record per recipient, and the durable outbox: a row per
//! (message, recipient, channel), written in the same transaction as the message, that
//! workers claim with a lease and send.

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
                    .table("messages")
                    .col(big_pk_auto("id"))
                    .col(big_integer_null("incident_id"))
                    .col(text("body_sv"))
                    .col(text_null("body_en"))
                    .col(small_integer("confidentiality"))
                    .col(small_integer("integrity"))
                    .col(small_integer("availability"))
                    .col(boolean("exercise"))
                    .col(string_len("sent_by", 64))
                    .col(big_integer_null("sent_by_account_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("messages", "incident_id", "incidents"))
                    .foreign_key(&mut fk("messages", "sent_by_account_id", "accounts"))
                    .to_owned(),
            )
            .await?;
        index(manager, "messages", &["incident_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("message_recipients")
                    .col(big_integer("message_id"))
                    .col(big_integer("person_id"))
                    .col(string_len("language", 8))
                    .col(timestamp_with_time_zone_null("acknowledged_at"))
                    .primary_key(Index::create().col("message_id").col("person_id"))
                    .foreign_key(&mut fk("message_recipients", "message_id", "messages"))
                    .foreign_key(&mut fk("message_recipients", "person_id", "people"))
                    .to_owned(),
            )
            .await?;
        index(manager, "message_recipients", &["person_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .col(big_pk_auto("id"))
                    .col(big_integer("message_id"))
                    .col(big_integer("person_id"))
                    .col(string_len("channel", 16))
                    .col(string_len_null("destination", 32))
                    .col(text("body"))
                    // Sent to the provider so that a retry after a crash is not a second SMS.
                    .col(string_len_uniq("idempotency_key", 64))
                    .col(string_len("state", 16))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(string_len_null("provider_id", 64))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("outbox", "message_id", "messages"))
                    .foreign_key(&mut fk("outbox", "person_id", "people"))
                    .to_owned(),
            )
            .await?;
        index(manager, "outbox", &["message_id"], false).await?;
        index(manager, "outbox", &["person_id"], false).await?;
        // What the worker's claim scans: due rows in a sendable state.
        index(manager, "outbox", &["state", "next_attempt_at"], false).await?;
        index(manager, "outbox", &["provider_id"], false).await
    }
}
