//! Reserv's database schema as sea-orm migrations. The same migrations run on SQLite
//! and PostgreSQL; the server applies them at start and `reserv migrate` on demand.
//!
//! A migration that has been released is never edited: changes come as new files.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod append_only;
mod m20261123_000001_directory;
mod m20261123_000002_plans;
mod m20261123_000003_incidents;
mod m20261124_000100_audit_chain;
mod m20261124_000200_indexes;
mod m20261203_000100_log_client_ids;
mod m20261203_000100_messages;
mod m20261203_000100_public_notices;
mod m20261203_000100_routine_keys;
mod m20261203_000200_playbooks;
mod m20261204_000100_activations;
mod m20261204_000201_session_last_seen;
mod m20261205_000300_checklist_phases;
mod m20261205_000301_paper_log_entries;
mod m20261205_000400_plan_version_editors;
mod m20261205_000500_second_factor;
mod m20261206_000100_sms_inbound;
mod m20261206_000201_push_subscriptions;
mod m20261206_000300_incident_client_ids;
mod m20261207_000200_typed_task_roles;
mod m20261207_000201_task_exercise;
mod m20261207_000202_message_drafts;
mod m20261207_000400_outbox_provider;
mod m20261207_000500_message_escalation;
mod m20261207_000700_clearance_and_traceability;
mod m20261207_000800_paper_backlog;
mod m20261207_000900_draft_escalation;
mod m20261207_001000_part_confidentiality;
mod m20261207_001001_emergency_sms_codes;
mod m20261207_001100_oidc_sign_in;
mod m20261207_001200_passkeys;
mod m20261207_001300_claims_and_crisis_lead_escalation;
mod m20261207_001400_change_events_index;
mod m20261207_002100_outbox_due_index;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_directory::Migration),
            Box::new(m20261123_000002_plans::Migration),
            Box::new(m20261123_000003_incidents::Migration),
            Box::new(m20261124_000100_audit_chain::Migration),
            Box::new(m20261124_000200_indexes::Migration),
            Box::new(m20261203_000100_routine_keys::Migration),
            Box::new(m20261203_000200_playbooks::Migration),
            Box::new(m20261203_000100_public_notices::Migration),
            Box::new(m20261203_000100_log_client_ids::Migration),
            Box::new(m20261203_000100_messages::Migration),
            Box::new(m20261204_000201_session_last_seen::Migration),
            Box::new(m20261204_000100_activations::Migration),
            Box::new(m20261205_000300_checklist_phases::Migration),
            Box::new(m20261205_000301_paper_log_entries::Migration),
            Box::new(m20261205_000400_plan_version_editors::Migration),
            Box::new(m20261205_000500_second_factor::Migration),
            Box::new(m20261206_000100_sms_inbound::Migration),
            Box::new(m20261206_000201_push_subscriptions::Migration),
            Box::new(m20261206_000300_incident_client_ids::Migration),
            Box::new(m20261207_000200_typed_task_roles::Migration),
            Box::new(m20261207_000201_task_exercise::Migration),
            Box::new(m20261207_000202_message_drafts::Migration),
            Box::new(m20261207_000400_outbox_provider::Migration),
            Box::new(m20261207_000500_message_escalation::Migration),
            Box::new(m20261207_000700_clearance_and_traceability::Migration),
            Box::new(m20261207_000800_paper_backlog::Migration),
            Box::new(m20261207_000900_draft_escalation::Migration),
            Box::new(m20261207_001000_part_confidentiality::Migration),
            Box::new(m20261207_001001_emergency_sms_codes::Migration),
            Box::new(m20261207_001200_passkeys::Migration),
            Box::new(m20261207_001100_oidc_sign_in::Migration),
            Box::new(m20261207_001300_claims_and_crisis_lead_escalation::Migration),
            Box::new(m20261207_001400_change_events_index::Migration),
            Box::new(m20261207_002100_outbox_due_index::Migration),
        ]
    }
}
