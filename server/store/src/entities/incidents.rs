//! An incident.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incidents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    pub kind: String,
    pub severity: i16,
    pub state: String,
    pub commander_id: Option<i64>,
    pub exercise: bool,
    pub confidentiality: i16,
    pub integrity: i16,
    pub availability: i16,
    pub traceability: Option<i16>,
    pub reported_at: DateTimeUtc,
    pub reported_by: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// The reporter's phone's id for the report, so that a resent report applies once.
    pub client_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
