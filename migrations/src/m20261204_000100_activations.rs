//! Playbook activations: the activation itself (one per idempotency key), the units'
//! continuity plan versions it activated for an incident, and a checklist run per
//! activated routine with the ticks of its steps.

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
                    .table("activations")
                    .col(big_pk_auto("id"))
                    .col(string_len("idempotency_key", 128))
                    .col(string_len("playbook_id", 64))
                    .col(big_integer("incident_id"))
                    .col(boolean("exercise"))
                    .col(string_len("activated_by", 64))
                    .col(timestamp_with_time_zone("activated_at"))
                    .foreign_key(&mut fk("activations", "incident_id", "incidents"))
                    .to_owned(),
            )
            .await?;
        index(manager, "activations", &["idempotency_key"], true).await?;

        manager
            .create_table(
                Table::create()
                    .table("incident_plan_activations")
                    .col(big_pk_auto("id"))
                    .col(big_integer("incident_id"))
                    .col(big_integer("activation_id"))
                    .col(big_integer("unit_id"))
                    .col(big_integer("plan_version_id"))
                    .col(boolean("exercise"))
                    .col(timestamp_with_time_zone("activated_at"))
                    .foreign_key(&mut fk(
                        "incident_plan_activations",
                        "incident_id",
                        "incidents",
                    ))
                    .foreign_key(&mut fk(
                        "incident_plan_activations",
                        "activation_id",
                        "activations",
                    ))
                    .foreign_key(&mut fk("incident_plan_activations", "unit_id", "units"))
                    .foreign_key(&mut fk(
                        "incident_plan_activations",
                        "plan_version_id",
                        "plan_versions",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "incident_plan_activations",
            &["incident_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("checklist_runs")
                    .col(big_pk_auto("id"))
                    .col(big_integer("incident_id"))
                    .col(big_integer("activation_id"))
                    .col(big_integer("unit_id"))
                    .col(big_integer("routine_id"))
                    .col(boolean("exercise"))
                    .col(timestamp_with_time_zone("started_at"))
                    .foreign_key(&mut fk("checklist_runs", "incident_id", "incidents"))
                    .foreign_key(&mut fk("checklist_runs", "activation_id", "activations"))
                    .foreign_key(&mut fk("checklist_runs", "unit_id", "units"))
                    .foreign_key(&mut fk("checklist_runs", "routine_id", "routines"))
                    .to_owned(),
            )
            .await?;
        index(manager, "checklist_runs", &["incident_id"], false).await?;

        // Ticks are appended, never changed: an untick is a new row with `ticked` false.
        manager
            .create_table(
                Table::create()
                    .table("checklist_ticks")
                    .col(big_pk_auto("id"))
                    .col(big_integer("run_id"))
                    .col(big_integer("step_id"))
                    .col(boolean("ticked"))
                    .col(text_null("comment"))
                    .col(string_len("client_id", 64))
                    .col(big_integer_null("author_id"))
                    .col(string_len("author", 64))
                    .col(timestamp_with_time_zone("recorded_at"))
                    .foreign_key(&mut fk("checklist_ticks", "run_id", "checklist_runs"))
                    .foreign_key(&mut fk("checklist_ticks", "step_id", "routine_steps"))
                    .to_owned(),
            )
            .await?;
        index(manager, "checklist_ticks", &["run_id"], false).await?;
        index(manager, "checklist_ticks", &["run_id", "client_id"], true).await
    }
}
