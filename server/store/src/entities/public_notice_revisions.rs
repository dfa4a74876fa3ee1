//! One revision of a public notice; the table refuses UPDATE and DELETE.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "public_notice_revisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub notice_id: i64,
    pub revision: i32,
    pub state: String,
    pub headline_sv: String,
    pub headline_en: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub body_sv: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub body_en: Option<String>,
    /// JSON array of affected services.
    #[sea_orm(column_type = "Text")]
    pub services: String,
    /// JSON array of hotlines.
    #[sea_orm(column_type = "Text")]
    pub hotlines: String,
    pub valid_from: DateTimeUtc,
    pub valid_to: Option<DateTimeUtc>,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
