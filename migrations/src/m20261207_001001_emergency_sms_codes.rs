//! The second step of a break-glass sign-in when SMS works: the emergency code was
//! right, a one-time code went by SMS to the person's registered phone, and the
//! session opens when she types it in. Only hashes of the challenge and the SMS code
//! are kept; the emergency code is used up only at the second step, so that an SMS
//! that never arrives does not cost the person her sealed code.

use crate::m20261123_000001_directory::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("emergency_challenges")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(big_integer("code_id"))
                    .col(string_len("token_hash", 64))
                    .col(string_len("sms_code_hash", 64))
                    .col(integer("wrong_attempts"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(string_len_null("client_address", 64))
                    .foreign_key(&mut fk("emergency_challenges", "account_id", "accounts"))
                    .foreign_key(&mut fk(
                        "emergency_challenges",
                        "code_id",
                        "emergency_codes",
                    ))
                    .to_owned(),
            )
            .await?;
        index(manager, "emergency_challenges", &["token_hash"], true).await?;
        index(manager, "emergency_challenges", &["account_id"], false).await?;
        index(manager, "emergency_challenges", &["code_id"], false).await
    }
}
