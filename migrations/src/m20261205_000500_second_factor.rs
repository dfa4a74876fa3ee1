//! Second factors and emergency access: a TOTP credential per account with its
//! single-use recovery codes, the short-lived challenges between the password step and
//! the second step of a sign-in, sealed one-time emergency codes (break-glass), and on
//! every session the factors it was opened with and whether it is a break-glass one.

use crate::m20261123_000001_directory::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time. The
        // defaults describe every session opened before this migration truthfully.
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .add_column(string_len("factors", 64).default("password"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .add_column(boolean("break_glass").default(false))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("totp_credentials")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string_len("secret", 128))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("confirmed_at"))
                    .col(big_integer_null("last_step"))
                    .foreign_key(&mut fk("totp_credentials", "account_id", "accounts"))
                    .to_owned(),
            )
            .await?;
        index(manager, "totp_credentials", &["account_id"], true).await?;

        manager
            .create_table(
                Table::create()
                    .table("recovery_codes")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string_len("code_hash", 64))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .foreign_key(&mut fk("recovery_codes", "account_id", "accounts"))
                    .to_owned(),
            )
            .await?;
        index(manager, "recovery_codes", &["code_hash"], true).await?;
        index(manager, "recovery_codes", &["account_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("sign_in_challenges")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string_len("token_hash", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(string_len_null("client_address", 64))
                    .foreign_key(&mut fk("sign_in_challenges", "account_id", "accounts"))
                    .to_owned(),
            )
            .await?;
        index(manager, "sign_in_challenges", &["token_hash"], true).await?;

        manager
            .create_table(
                Table::create()
                    .table("emergency_codes")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string_len("code_hash", 64))
                    .col(string_len("issued_by", 64))
                    .col(timestamp_with_time_zone("issued_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(&mut fk("emergency_codes", "account_id", "accounts"))
                    .to_owned(),
            )
            .await?;
        index(manager, "emergency_codes", &["code_hash"], true).await?;
        index(manager, "emergency_codes", &["account_id"], false).await
    }
}
