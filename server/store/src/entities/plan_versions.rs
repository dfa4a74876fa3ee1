//! One version of a continuity plan.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub version: i32,
    pub state: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub summary: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub activation_criteria: Option<String>,
    pub confidentiality: i16,
    pub integrity: i16,
    pub availability: i16,
    pub traceability: Option<i16>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<String>,
    pub approved_at: Option<DateTimeUtc>,
    pub approved_by: Option<String>,
    /// The username of whoever changed the version last (created it, edited it).
    pub last_edited_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
