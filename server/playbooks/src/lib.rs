//! Playbooks as code: one YAML file per scenario in `playbooks/`, naming what to activate
//! and whom to tell when it happens. This crate reads and checks them and publishes the
//! format as a JSON Schema so that editors validate files as they write them.
//!
//! YAML is read with serde-saphyr: maintained, free of unsafe parsing code, and it keeps
//! the line and column of every value, which every problem report here needs.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod check;
mod format;
mod playbook;

pub use check::{Catalogue, FolderReport, Problem, check_folder, check_source};
pub use format::PLACEHOLDERS;
pub use playbook::{
    Audience, EscalationRule, EscalationStep, Involves, PlannedMessage, PlannedTask, Playbook,
    PlaybookTrigger, Text,
};

/// The JSON Schema of a playbook file, as kept in `playbooks/schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(format::PlaybookFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
