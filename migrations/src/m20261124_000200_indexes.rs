//! Indexes for every foreign key and every filter the API offers that the first
//! migrations left out, so that lookups stay index scans as the data grows.

use crate::m20261123_000001_directory::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, columns) for each new index.
const INDEXES: &[(&str, &[&str])] = &[
    ("units", &["parent_id"]),
    ("it_systems", &["owner_id"]),
    ("accounts", &["person_id"]),
    ("account_roles", &["unit_id"]),
    ("sessions", &["account_id"]),
    ("sessions", &["expires_at"]),
    ("plans", &["owner_id"]),
    ("plans", &["review_due_at"]),
    ("routines", &["activity_id"]),
    ("incidents", &["commander_id"]),
    ("incidents", &["severity"]),
    ("crisis_log_entries", &["corrects_id"]),
    ("tasks", &["assignee_id", "state"]),
    ("audit_events", &["at"]),
    ("audit_events", &["actor_id"]),
    ("audit_events", &["actor"]),
    ("audit_events", &["action"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in INDEXES {
            index(manager, table, columns, false).await?;
        }
        // PostgreSQL serves `path LIKE '/1/4/%'` (the units below a unit) from an index
        // only with the pattern operator class; SQLite's own index on `path` serves the
        // same prefix as a range.
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE INDEX ix_units_path_pattern ON units (path text_pattern_ops)",
                )
                .await?;
        }
        Ok(())
    }
}
