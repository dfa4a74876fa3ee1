//! An OpenID Connect sign-in sent to the identity provider and not yet come back; only
//! the SHA-256 of its `state` is stored. Taken (deleted) by the callback, so that a
//! replayed callback finds nothing.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_sign_ins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub state_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The relative path the browser goes back to once signed in.
    pub return_to: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
