//! A crisis message.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: Option<i64>,
    pub body_sv: String,
    pub body_en: Option<String>,
    pub confidentiality: i16,
    pub integrity: i16,
    pub availability: i16,
    pub traceability: Option<i16>,
    pub exercise: bool,
    pub sent_by: String,
    pub sent_by_account_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Minutes without acknowledgement before each escalation step; none = no escalation.
    pub escalate_after_minutes: Option<i32>,
    /// When the crisis leads are to be told who has still not acknowledged; cleared
    /// once they are.
    pub crisis_leads_due_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
