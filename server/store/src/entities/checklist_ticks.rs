//! A mark on a step of a checklist run: a tick, an untick or a comment. Rows are only
//! ever appended; `ticked` is the step's state after the mark.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checklist_ticks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: i64,
    pub step_id: i64,
    pub kind: String,
    pub ticked: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub comment: Option<String>,
    pub client_id: String,
    pub author_id: Option<i64>,
    pub author: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
