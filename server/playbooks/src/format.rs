//! The playbook file as an editor writes it. Every value that a check may complain about
//! keeps where it was written, so that a problem points at its line and column.
//!
//! Enumerated values (incident kinds, roles, audiences) are read as text and checked
//! afterwards: that way an unknown role is reported with its place and the list of
//! known ones, rather than as a bare parse failure of the whole file.

use reserv_domain::access::Role;
use reserv_domain::incidents::IncidentKind;
use reserv_domain::systems::Criticality;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// One scenario: what it is, when it applies, what to activate and whom to tell.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Reserv playbook")]
pub struct PlaybookFile {
    /// Stable identifier, lower-case letters, digits and hyphens; never reused.
    #[schemars(with = "String", regex(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"))]
    pub id: Spanned<String>,
    #[schemars(with = "Texts")]
    pub title: Spanned<Texts>,
    /// The kind of incident the scenario opens.
    #[schemars(schema_with = "incident_kinds")]
    pub kind: Spanned<String>,
    /// Suggested severity, 1 (life and health at risk across units) to 4.
    #[schemars(with = "Option<u8>", range(min = 1, max = 4))]
    pub severity: Option<Spanned<u8>>,
    /// What the scenario is, for whoever chooses a playbook.
    pub summary: Option<Texts>,
    /// When Reserv suggests the playbook; `manual` when only a person decides.
    #[schemars(with = "Vec<Trigger>")]
    pub triggers: Vec<Spanned<Trigger>>,
    /// The units it involves.
    #[schemars(with = "AppliesTo")]
    pub applies_to: Spanned<AppliesTo>,
    /// Keys of the fallback routines to start, in each involved unit whose approved
    /// plan has them.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub routines: Vec<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<TaskTemplate>")]
    pub tasks: Vec<Spanned<TaskTemplate>>,
    #[serde(default)]
    #[schemars(with = "Vec<MessageTemplate>")]
    pub messages: Vec<Spanned<MessageTemplate>>,
    #[schemars(with = "Option<Escalation>")]
    pub escalation: Option<Spanned<Escalation>>,
    /// Plain advice for residents, published on the status page and the fallback site
    /// while the scenario is active. Public: never write anything confidential here.
    pub public_guidance: Option<Texts>,
}

/// A text in Swedish, and in English where it has been translated.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    #[schemars(with = "String", length(min = 1))]
    pub sv: Spanned<String>,
    #[schemars(with = "Option<String>")]
    pub en: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// An IT system, by its name in Reserv, reported down.
    SystemDown(String),
    /// Any system of this criticality or higher reported down.
    CriticalityDown(#[schemars(schema_with = "criticalities")] String),
    /// Started by a person only.
    Manual,
}

/// Which units a playbook involves: every unit, the units below named ones, named
/// units, or any of these together.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppliesTo {
    #[serde(default)]
    pub all: bool,
    /// Units by name, with every unit below them.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub within: Vec<Spanned<String>>,
    /// Units by name, on their own.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub units: Vec<Spanned<String>>,
}

/// A task created at activation for whoever holds a role.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskTemplate {
    #[schemars(with = "Texts")]
    pub title: Spanned<Texts>,
    #[schemars(schema_with = "roles")]
    pub role: Spanned<String>,
    /// How long after activation it is due, such as `30m`, `2h` or `72h`.
    #[schemars(with = "String")]
    pub due_in: Spanned<String>,
    /// One task for each involved unit instead of one in all.
    #[serde(default)]
    pub per_unit: bool,
    /// The key of a routine the task is about.
    #[schemars(with = "Option<String>")]
    pub routine: Option<Spanned<String>>,
}

/// A message prepared at activation. Placeholders are written `{{ name }}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    #[schemars(schema_with = "audiences")]
    pub audience: Spanned<String>,
    #[schemars(with = "Texts")]
    pub text: Spanned<Texts>,
}

/// What happens when a message is not acknowledged in time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    /// Such as `15m`.
    #[schemars(with = "String")]
    pub unacknowledged_after: Spanned<String>,
    /// Tried in order, one step each time the wait runs out again.
    #[schemars(schema_with = "escalation_steps")]
    pub steps: Vec<Spanned<String>>,
}

/// Who a message template is for.
pub const AUDIENCES: &[&str] = &["staff", "managers", "crisis_group", "public"];

/// What an escalation can do next.
pub const ESCALATION_STEPS: &[&str] = &["sms", "manager", "crisis_lead"];

/// The placeholders a message may use.
pub const PLACEHOLDERS: &[&str] = &[
    "incident",
    "units",
    "commander",
    "activated_at",
    "hotline",
    "status_url",
];

fn one_of(values: Vec<&str>) -> Schema {
    json_schema!({ "type": "string", "enum": values })
}

fn incident_kinds(_: &mut SchemaGenerator) -> Schema {
    one_of(IncidentKind::ALL.iter().map(|kind| kind.as_str()).collect())
}

fn criticalities(_: &mut SchemaGenerator) -> Schema {
    one_of(
        Criticality::ALL
            .iter()
            .map(|level| level.as_str())
            .collect(),
    )
}

fn roles(_: &mut SchemaGenerator) -> Schema {
    one_of(Role::ALL.iter().map(|role| role.as_str()).collect())
}

fn audiences(_: &mut SchemaGenerator) -> Schema {
    one_of(AUDIENCES.to_vec())
}

fn escalation_steps(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "array", "items": one_of(ESCALATION_STEPS.to_vec()) })
}
