//! Web push subscriptions: one row per browser (device) a signed-in person has allowed
//! to receive crisis messages, with the keys its push service needs to encrypt for it.
//! The endpoint is unique: a browser re-subscribing replaces its row.

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
                    .table("push_subscriptions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(big_integer("person_id"))
                    // Push services' endpoints run to a few hundred characters.
                    .col(string_len("endpoint", 1024))
                    .col(string_len("p256dh", 128))
                    .col(string_len("auth", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("last_success"))
                    .foreign_key(&mut fk("push_subscriptions", "account_id", "accounts"))
                    .foreign_key(&mut fk("push_subscriptions", "person_id", "people"))
                    .to_owned(),
            )
            .await?;
        index(manager, "push_subscriptions", &["endpoint"], true).await?;
        index(manager, "push_subscriptions", &["person_id"], false).await
    }
}
