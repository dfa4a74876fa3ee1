//! Something a routine needs at hand.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routine_materials")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub routine_id: i64,
    pub position: i32,
    pub name: String,
    pub location: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
