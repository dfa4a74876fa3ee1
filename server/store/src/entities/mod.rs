//! sea-orm entities, one per table. They stay inside the store: the rest of the server
//! sees domain types only.

pub mod account_roles;
pub mod accounts;
pub mod activations;
pub mod activity_dependencies;
pub mod audit_events;
pub mod checklist_runs;
pub mod checklist_ticks;
pub mod crisis_log_entries;
pub mod critical_activities;
pub mod emergency_codes;
pub mod incident_plan_activations;
pub mod incident_systems;
pub mod incident_units;
pub mod incidents;
pub mod it_systems;
pub mod message_recipients;
pub mod messages;
pub mod outbox;
pub mod people;
pub mod person_units;
pub mod plan_versions;
pub mod plans;
pub mod playbook_problems;
pub mod playbooks;
pub mod public_notice_revisions;
pub mod public_notices;
pub mod recovery_codes;
pub mod routine_materials;
pub mod routine_steps;
pub mod routines;
pub mod sessions;
pub mod sign_in_challenges;
pub mod tasks;
pub mod totp_credentials;
pub mod units;
