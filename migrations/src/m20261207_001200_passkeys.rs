//! WebAuthn passkeys as a second factor: the passkeys of each account, and the
//! registration and authentication ceremonies in progress. A ceremony's state is kept
//! here rather than in one process's memory, so that any server instance sharing the
//! database can finish what another began.

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
                    .table("passkeys")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string_len("name", 100))
                    // base64url of the credential id the authenticator chose.
                    .col(string_len("credential_id", 1400))
                    // webauthn-rs's serialised `Passkey`: public key and signature counter.
                    .col(text("credential"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .foreign_key(
                        fk("passkeys", "account_id", "accounts")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "passkeys", &["credential_id"], true).await?;
        index(manager, "passkeys", &["account_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("passkey_ceremonies")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    // Set for a sign-in: the hash of the sign-in challenge it answers.
                    // Empty for an enrolment, of which an account has one at a time.
                    .col(string_len_null("challenge_hash", 64))
                    .col(text("state"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(
                        fk("passkey_ceremonies", "account_id", "accounts")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "passkey_ceremonies", &["account_id"], false).await?;
        index(manager, "passkey_ceremonies", &["challenge_hash"], false).await
    }
}
