//! A run through an activated routine's steps for one unit during an incident.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checklist_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub activation_id: i64,
    pub unit_id: i64,
    pub routine_id: i64,
    /// `fallback` or `recovery`: which of the routine's step lists the run works through.
    pub phase: String,
    pub exercise: bool,
    pub started_at: DateTimeUtc,
    /// When a recovery run's paper back-log must be caught up.
    pub backlog_due_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
