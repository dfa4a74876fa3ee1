//! A step of a routine; `phase` is `fallback` or `recovery`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routine_steps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub routine_id: i64,
    pub phase: String,
    pub position: i32,
    pub who: String,
    #[sea_orm(column_type = "Text")]
    pub what: String,
    pub when_text: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
