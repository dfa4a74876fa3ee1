//! OpenID Connect sign-in: the sign-ins started at the identity provider and not yet
//! come back (their state, nonce and PKCE verifier, kept in the database so that any
//! server instance can take the callback and a replayed one finds nothing), a person's
//! identifier at the employer (`external_id`: employee number or HSA-id) that the
//! provider's claim may be matched to, and on every session the assurance the provider
//! reported (acr and amr).

use crate::m20261123_000001_directory::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("people")
                    .add_column(string_len_null("external_id", 128))
                    .to_owned(),
            )
            .await?;
        index(manager, "people", &["external_id"], true).await?;
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .add_column(string_len_null("acr", 256))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .add_column(string_len_null("amr", 256))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("oidc_sign_ins")
                    .col(big_pk_auto("id"))
                    .col(string_len("state_hash", 64))
                    .col(string_len("nonce", 128))
                    .col(string_len("pkce_verifier", 128))
                    .col(string_len("return_to", 1024))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .to_owned(),
            )
            .await?;
        index(manager, "oidc_sign_ins", &["state_hash"], true).await?;
        index(manager, "oidc_sign_ins", &["expires_at"], false).await
    }
}
