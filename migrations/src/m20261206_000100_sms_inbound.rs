//! What the inbound SMS line needs: crisis log entries texted in (`LOGG …`) keep the
//! provider's MessageSid, unique, so that a webhook the provider sends twice logs once;
//! and the numbers that have answered STOP, which the outbox no longer sends to.

use crate::m20261123_000001_directory::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A nullable column rewrites no row, so the table's append-only triggers are not
        // involved; entries written in the app keep NULL, and NULLs never collide.
        manager
            .alter_table(
                Table::alter()
                    .table("crisis_log_entries")
                    .add_column(string_len_null("sms_message_sid", 64))
                    .to_owned(),
            )
            .await?;
        index(manager, "crisis_log_entries", &["sms_message_sid"], true).await?;

        // Keyed by the number, not the person: an opt-out belongs to the phone that
        // sent it, and still holds if the number moves to another person's record.
        manager
            .create_table(
                Table::create()
                    .table("sms_opt_outs")
                    .col(string_len("phone", 20).primary_key())
                    .col(string_len("reason", 200))
                    .col(timestamp_with_time_zone("opted_out_at"))
                    .to_owned(),
            )
            .await
    }
}
