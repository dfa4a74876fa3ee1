//! One person a message went to, and whether they acknowledged it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message_recipients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub message_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: i64,
    pub language: String,
    pub acknowledged_at: Option<DateTimeUtc>,
    /// The last escalation step taken: 0 none, 1 SMS queued, 2 managers told.
    pub escalation_step: i16,
    /// When the next escalation step is due; none when the message does not escalate
    /// or nothing is left.
    pub escalation_due_at: Option<DateTimeUtc>,
    /// The SMS held back while push might reach her, queued by the first escalation step.
    #[sea_orm(column_type = "Text", nullable)]
    pub held_sms: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
