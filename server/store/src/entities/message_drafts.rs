//! A message an activation prepared, until it is sent or discarded.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message_drafts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub activation_id: i64,
    pub audience: String,
    pub body_sv: String,
    pub body_en: Option<String>,
    pub confidentiality: i16,
    pub integrity: i16,
    pub availability: i16,
    pub traceability: Option<i16>,
    pub escalate_after_minutes: Option<i32>,
    pub exercise: bool,
    pub state: String,
    pub message_id: Option<i64>,
    pub notice_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
