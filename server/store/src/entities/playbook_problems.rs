//! A problem the last playbook import found in a file.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "playbook_problems")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub file: String,
    pub line_number: i64,
    pub column_number: i64,
    pub field: String,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub found_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
