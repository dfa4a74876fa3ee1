//! A public notice; what it says lives in its revisions. The table refuses UPDATE and
//! DELETE.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "public_notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
