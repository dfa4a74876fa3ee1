//! A sign-in session; only the SHA-256 of its token is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub client_address: Option<String>,
    /// When the session was last used, to the minute; `None` until its first use.
    pub last_seen_at: Option<DateTimeUtc>,
    /// The factors it was opened with, comma-separated (`password,totp`).
    pub factors: String,
    /// Opened with an emergency code: short, and marked wherever it is shown.
    pub break_glass: bool,
    /// The assurance an identity provider reported (its `acr`), for OIDC sessions.
    pub acr: Option<String>,
    /// How the identity provider authenticated the person (its `amr`, comma-separated).
    pub amr: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
