//! Continuity plans with their versions, critical activities, dependencies and fallback
//! routines.

use crate::m20261123_000001_directory::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("plans")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    .col(string_len("title", 200))
                    .col(big_integer_null("owner_id"))
                    .col(integer("review_interval_months"))
                    .col(timestamp_with_time_zone_null("review_due_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("plans", "unit_id", "units"))
                    .foreign_key(&mut fk("plans", "owner_id", "people"))
                    .to_owned(),
            )
            .await?;
        index(manager, "plans", &["unit_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("plan_versions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("plan_id"))
                    .col(integer("version"))
                    .col(string_len("state", 16))
                    .col(text_null("summary"))
                    .col(text_null("activation_criteria"))
                    .col(small_integer("confidentiality"))
                    .col(small_integer("integrity"))
                    .col(small_integer("availability"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(string_len_null("created_by", 64))
                    .col(timestamp_with_time_zone_null("approved_at"))
                    .col(string_len_null("approved_by", 64))
                    .foreign_key(&mut fk("plan_versions", "plan_id", "plans"))
                    .to_owned(),
            )
            .await?;
        // Two editors starting a draft at once must not both get version n+1.
        index(manager, "plan_versions", &["plan_id", "version"], true).await?;

        manager
            .create_table(
                Table::create()
                    .table("critical_activities")
                    .col(big_pk_auto("id"))
                    .col(big_integer("version_id"))
                    .col(integer("position"))
                    .col(string_len("name", 200))
                    .col(text_null("description"))
                    .col(integer("mtpd_minutes"))
                    .col(integer("rto_minutes"))
                    .col(integer("rpo_minutes"))
                    .foreign_key(
                        fk("critical_activities", "version_id", "plan_versions")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "critical_activities", &["version_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("activity_dependencies")
                    .col(big_pk_auto("id"))
                    .col(big_integer("activity_id"))
                    .col(string_len("kind", 16))
                    .col(big_integer_null("system_id"))
                    .col(string_len_null("name", 200))
                    .foreign_key(
                        fk(
                            "activity_dependencies",
                            "activity_id",
                            "critical_activities",
                        )
                        .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut fk("activity_dependencies", "system_id", "it_systems"))
                    .to_owned(),
            )
            .await?;
        index(manager, "activity_dependencies", &["system_id"], false).await?;
        index(manager, "activity_dependencies", &["activity_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("routines")
                    .col(big_pk_auto("id"))
                    .col(big_integer("version_id"))
                    .col(big_integer_null("activity_id"))
                    .col(string_len("title", 200))
                    .col(text("trigger"))
                    .col(small_integer("confidentiality"))
                    .col(small_integer("integrity"))
                    .col(small_integer("availability"))
                    .foreign_key(
                        fk("routines", "version_id", "plan_versions")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        fk("routines", "activity_id", "critical_activities")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "routines", &["version_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("routine_steps")
                    .col(big_pk_auto("id"))
                    .col(big_integer("routine_id"))
                    .col(string_len("phase", 16))
                    .col(integer("position"))
                    .col(string_len("who", 120))
                    .col(text("what"))
                    .col(string_len_null("when_text", 200))
                    .foreign_key(
                        fk("routine_steps", "routine_id", "routines")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "routine_steps", &["routine_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("routine_materials")
                    .col(big_pk_auto("id"))
                    .col(big_integer("routine_id"))
                    .col(integer("position"))
                    .col(string_len("name", 200))
                    .col(string_len_null("location", 200))
                    .foreign_key(
                        fk("routine_materials", "routine_id", "routines")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "routine_materials", &["routine_id"], false).await
    }
}
