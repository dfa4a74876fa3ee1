//! A crisis log entry; the table refuses UPDATE and DELETE.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "crisis_log_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    pub occurred_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    pub author_id: Option<i64>,
    pub author: String,
    pub corrects_id: Option<i64>,
    /// The id the writing client gave the entry, unique per author; see `add_log_entry_once`.
    pub client_id: Option<String>,
    /// Entered afterwards from notes taken on paper.
    pub from_paper: bool,
    /// Who wrote the paper note, when not the author who typed it in.
    pub on_behalf_of: Option<String>,
    /// The provider's MessageSid of the SMS the entry came in by (`LOGG …`); unique.
    pub sms_message_sid: Option<String>,
    /// The record's own level, at or below its incident's.
    pub confidentiality: i16,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
