//! The format of the demo data file. Keys in the file are local names for references
//! between its records; unknown fields are refused.

use chrono::{DateTime, Utc};
use reserv_domain::access::Role;
use reserv_domain::incidents::{IncidentKind, LogEntryKind, TaskState};
use reserv_domain::notices::{AffectedService, Localized};
use reserv_domain::people::Language;
use reserv_domain::plans::{DependencyKind, Material, RoutineKey, RoutineStep};
use reserv_domain::systems::Criticality;
use reserv_domain::units::UnitKind;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoSet {
    pub(super) units: Vec<DemoUnit>,
    pub(super) people: Vec<DemoPerson>,
    pub(super) it_systems: Vec<DemoSystem>,
    pub(super) accounts: Vec<DemoAccount>,
    pub(super) plans: Vec<DemoPlan>,
    pub(super) incidents: Vec<DemoIncident>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoUnit {
    pub(super) key: String,
    pub(super) name: String,
    pub(super) kind: UnitKind,
    pub(super) parent: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoPerson {
    pub(super) key: String,
    pub(super) name: String,
    pub(super) title: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) email: Option<String>,
    pub(super) language: Language,
    pub(super) external: bool,
    pub(super) organisation: Option<String>,
    #[serde(default)]
    pub(super) units: Vec<String>,
    pub(super) confidentiality: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoSystem {
    pub(super) key: String,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) owner: Option<String>,
    pub(super) supplier: Option<String>,
    pub(super) criticality: Criticality,
    pub(super) health_check_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoAccount {
    pub(super) username: String,
    pub(super) person: String,
    pub(super) password: String,
    pub(super) roles: Vec<DemoRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoRole {
    pub(super) role: Role,
    pub(super) unit: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoPlan {
    pub(super) unit: String,
    pub(super) title: String,
    pub(super) owner: Option<String>,
    pub(super) review_interval_months: i64,
    pub(super) summary: Option<String>,
    pub(super) activation_criteria: Option<String>,
    pub(super) confidentiality: i64,
    pub(super) integrity: i64,
    pub(super) availability: i64,
    /// KLASSA's traceability need, for records that hold personal data.
    #[serde(default)]
    pub(super) traceability: Option<i64>,
    /// The account that approves the plan, someone other than the loader that writes
    /// it (the four-eyes rule); none leaves the plan a draft.
    #[serde(default)]
    pub(super) approved_by: Option<String>,
    #[serde(default)]
    pub(super) activities: Vec<DemoActivity>,
    #[serde(default)]
    pub(super) routines: Vec<DemoRoutine>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoActivity {
    pub(super) key: String,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) mtpd_minutes: i64,
    pub(super) rto_minutes: i64,
    pub(super) rpo_minutes: i64,
    #[serde(default)]
    pub(super) dependencies: Vec<DemoDependency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoDependency {
    pub(super) kind: DependencyKind,
    pub(super) system: Option<String>,
    pub(super) name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoRoutine {
    pub(super) key: RoutineKey,
    pub(super) title: String,
    pub(super) activity: Option<String>,
    pub(super) trigger: String,
    pub(super) confidentiality: i64,
    pub(super) integrity: i64,
    pub(super) availability: i64,
    /// KLASSA's traceability need, for records that hold personal data.
    #[serde(default)]
    pub(super) traceability: Option<i64>,
    pub(super) steps: Vec<RoutineStep>,
    #[serde(default)]
    pub(super) materials: Vec<Material>,
    #[serde(default)]
    pub(super) recovery_steps: Vec<RoutineStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoIncident {
    pub(super) title: String,
    pub(super) description: Option<String>,
    pub(super) kind: IncidentKind,
    pub(super) severity: i64,
    pub(super) exercise: bool,
    pub(super) confidentiality: i64,
    pub(super) integrity: i64,
    pub(super) availability: i64,
    /// KLASSA's traceability need, for records that hold personal data.
    #[serde(default)]
    pub(super) traceability: Option<i64>,
    pub(super) commander: Option<String>,
    pub(super) reported_by: String,
    pub(super) reported_at: DateTime<Utc>,
    pub(super) closed_at: DateTime<Utc>,
    #[serde(default)]
    pub(super) units: Vec<String>,
    #[serde(default)]
    pub(super) systems: Vec<String>,
    #[serde(default)]
    pub(super) log: Vec<DemoLogEntry>,
    #[serde(default)]
    pub(super) tasks: Vec<DemoTask>,
    /// Revisions of the incident's public notice, in time order: the first publishes
    /// it, later ones change it, one with `withdrawn` takes it down.
    #[serde(default)]
    pub(super) notices: Vec<DemoNotice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoNotice {
    pub(super) at: DateTime<Utc>,
    pub(super) author: String,
    #[serde(default)]
    pub(super) withdrawn: bool,
    pub(super) headline: Option<Localized>,
    pub(super) body: Option<Localized>,
    #[serde(default)]
    pub(super) services: Vec<AffectedService>,
    #[serde(default)]
    pub(super) hotlines: Vec<DemoHotline>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoHotline {
    pub(super) name: Localized,
    pub(super) phone: String,
    pub(super) opening_hours: Localized,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoLogEntry {
    pub(super) kind: LogEntryKind,
    pub(super) at: DateTime<Utc>,
    pub(super) author: String,
    pub(super) text: String,
    /// 1-based position of an earlier entry of the same log.
    pub(super) corrects: Option<usize>,
    /// The entry's own level when below the incident's, such as an instruction to all
    /// staff.
    pub(super) confidentiality: Option<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DemoTask {
    pub(super) title: String,
    pub(super) assignee: Option<String>,
    pub(super) assignee_role: Option<Role>,
    pub(super) due_at: Option<DateTime<Utc>>,
    pub(super) state: TaskState,
    /// The task's own level when below the incident's.
    pub(super) confidentiality: Option<u8>,
}
