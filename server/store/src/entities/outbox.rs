//! One (message, recipient, channel) waiting to be sent, being sent, or done.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub message_id: i64,
    pub person_id: i64,
    pub channel: String,
    pub destination: Option<String>,
    pub body: String,
    pub idempotency_key: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_until: Option<DateTimeUtc>,
    pub provider_id: Option<String>,
    /// The provider that took the copy: `twilio`, `46elks` or `web push`.
    pub provider: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// On an escalation notice: the recipient who has not acknowledged, for a notice
    /// about her to a unit manager or a crisis lead; the crisis lead it goes to, for the
    /// crisis leads' notice about a whole message. The roll-call leaves these copies
    /// out, as the one told is not the one to be reached.
    pub escalation_about: Option<i64>,
    /// Set by each claim and cleared with the outcome: an outcome is recorded only
    /// under the token of the claim that sent it.
    pub claim_token: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
