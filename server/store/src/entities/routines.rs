//! A fallback routine of a plan version.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub version_id: i64,
    pub activity_id: Option<i64>,
    pub key: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub trigger: String,
    pub confidentiality: i16,
    pub integrity: i16,
    pub availability: i16,
    pub traceability: Option<i16>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
