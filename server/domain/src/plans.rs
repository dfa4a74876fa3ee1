//! Continuity plans: versions with an approval life cycle, critical activities with
//! their outage tolerances, dependencies, and the fallback routines that keep the work
//! going on paper.
//!
//! An approved version is never changed: editing an approved plan starts a new draft
//! that copies it. This module decides the transitions; the store applies them inside
//! one transaction.

use crate::classification::Classification;
use crate::ids::{ActivityId, PersonId, PlanId, PlanVersionId, RoutineId, SystemId, UnitId};
use crate::validate::{optional_text, required_text};
use crate::{DomainError, Result};
use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

crate::named_enum! {
    /// Where a plan version is in its life cycle.
    pub enum PlanState as "state" {
            Draft = "draft",
            Approved = "approved",
            Retired = "retired",
        }
}

impl PlanState {
    /// Drafts are the only versions that may change.
    pub fn ensure_editable(self, version: i32) -> Result<()> {
        match self {
            PlanState::Draft => Ok(()),
            state => Err(DomainError::conflict(format!(
                "Version {version} is {} and cannot be changed; create a new draft to edit the plan",
                state.as_str()
            ))),
        }
    }

    pub fn approve(self, version: i32) -> Result<PlanState> {
        match self {
            PlanState::Draft => Ok(PlanState::Approved),
            PlanState::Approved => Err(DomainError::conflict(format!(
                "Version {version} is already approved"
            ))),
            PlanState::Retired => Err(DomainError::conflict(format!(
                "Version {version} is retired; create a new draft instead"
            ))),
        }
    }

    pub fn retire(self, version: i32) -> Result<PlanState> {
        match self {
            PlanState::Approved => Ok(PlanState::Retired),
            PlanState::Draft => Err(DomainError::conflict(format!(
                "Version {version} is a draft; only approved versions can be retired"
            ))),
            PlanState::Retired => Err(DomainError::conflict(format!(
                "Version {version} is already retired"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: PlanId,
    pub unit_id: UnitId,
    pub title: String,
    pub owner_id: Option<PersonId>,
    pub review_interval_months: u32,
    /// Set when a version is approved: the approval date plus the review interval.
    pub review_due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A request to create a plan; its first version starts as an empty draft.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewPlan {
    pub unit_id: UnitId,
    pub title: String,
    pub owner_id: Option<PersonId>,
    pub review_interval_months: Option<i64>,
}

impl NewPlan {
    pub fn validate(self) -> Result<ValidNewPlan> {
        Ok(ValidNewPlan {
            unit_id: self.unit_id,
            title: required_text("title", &self.title, 200)?,
            owner_id: self.owner_id,
            review_interval_months: review_interval(self.review_interval_months.unwrap_or(12))?,
        })
    }
}

/// Checks a review interval: 1 to 36 months.
fn review_interval(months: i64) -> Result<u32> {
    match u32::try_from(months) {
        Ok(valid @ 1..=36) => Ok(valid),
        _ => Err(DomainError::validation(
            "reviewIntervalMonths",
            format!("must be 1 to 36 months, not {months}"),
        )),
    }
}

/// A change to a plan's own fields; what is left out stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanEdit {
    pub title: Option<String>,
    /// `Some(None)` removes the owner.
    pub owner_id: Option<Option<PersonId>>,
    pub review_interval_months: Option<i64>,
}

impl PlanEdit {
    /// Checks every given field; an edit that changes nothing is refused, so that a
    /// client that forgot its fields hears of it.
    pub fn validate(self) -> Result<ValidPlanEdit> {
        if self.title.is_none() && self.owner_id.is_none() && self.review_interval_months.is_none()
        {
            return Err(DomainError::validation(
                "input",
                "ange minst ett av title, ownerId, reviewIntervalMonths; give at least one of title, ownerId, reviewIntervalMonths",
            ));
        }
        Ok(ValidPlanEdit {
            title: self
                .title
                .map(|title| required_text("title", &title, 200))
                .transpose()?,
            owner_id: self.owner_id,
            review_interval_months: self
                .review_interval_months
                .map(review_interval)
                .transpose()?,
        })
    }
}

/// A [`PlanEdit`] whose fields have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPlanEdit {
    pub title: Option<String>,
    pub owner_id: Option<Option<PersonId>>,
    pub review_interval_months: Option<u32>,
}

/// The four-eyes rule: a draft is approved by someone other than whoever changed it
/// last. A version whose last editor is unknown (written before editors were
/// recorded) has nobody to compare with and passes.
pub fn ensure_second_person(version: &PlanVersion, approver: &str) -> Result<()> {
    match version.last_edited_by.as_deref() {
        Some(editor) if editor == approver => Err(DomainError::forbidden(format!(
            "Version {} ändrades senast av dig; en annan person med rätt att godkänna måste godkänna den. \
             Version {} was last edited by you; another person with approval rights must approve it (four-eyes rule).",
            version.version, version.version
        ))),
        _ => Ok(()),
    }
}

/// Only drafts may be discarded: an approved or retired version is part of the plan's
/// history. The only version of a plan is kept, so that the plan always has one.
pub fn ensure_discardable(version: &PlanVersion, versions_of_plan: usize) -> Result<()> {
    if version.state != PlanState::Draft {
        return Err(DomainError::conflict(format!(
            "Version {} är {} och kan inte kastas; bara utkast kan kastas. \
             Version {} is {} and cannot be discarded; only drafts can.",
            version.version,
            version.state.as_str(),
            version.version,
            version.state.as_str()
        )));
    }
    if versions_of_plan <= 1 {
        return Err(DomainError::conflict(format!(
            "Version {} är planens enda version; redigera den i stället. \
             Version {} is the plan's only version; edit it instead of discarding it.",
            version.version, version.version
        )));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNewPlan {
    pub unit_id: UnitId,
    pub title: String,
    pub owner_id: Option<PersonId>,
    pub review_interval_months: u32,
}

/// When a plan approved at `approved_at` must be reviewed again.
pub fn review_due(approved_at: DateTime<Utc>, interval_months: u32) -> DateTime<Utc> {
    approved_at
        .checked_add_months(Months::new(interval_months))
        .unwrap_or(approved_at)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVersion {
    pub id: PlanVersionId,
    pub plan_id: PlanId,
    pub version: i32,
    pub state: PlanState,
    pub summary: Option<String>,
    pub activation_criteria: Option<String>,
    pub classification: Classification,
    pub created_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    /// Who changed the version last; approval needs someone else (four eyes).
    pub last_edited_by: Option<String>,
}

/// The editable text of a draft version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VersionContent {
    pub summary: Option<String>,
    pub activation_criteria: Option<String>,
    pub classification: Classification,
    /// Why the confidentiality is lowered, when it is (see
    /// [`crate::classification::lowering_detail`]).
    #[serde(default)]
    pub lowering_reason: Option<String>,
}

impl VersionContent {
    pub fn validate(self) -> Result<Self> {
        Ok(Self {
            summary: optional_text("summary", self.summary.as_deref(), 4000)?,
            activation_criteria: optional_text(
                "activationCriteria",
                self.activation_criteria.as_deref(),
                4000,
            )?,
            ..self
        })
    }
}

/// Checks that a draft holds enough to be approved.
pub fn ensure_approvable(activity_count: usize, version: i32) -> Result<()> {
    if activity_count == 0 {
        return Err(DomainError::conflict(format!(
            "Version {version} has no critical activities; add at least one before approving"
        )));
    }
    Ok(())
}

/// An activity that must go on, with how long it may stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalActivity {
    pub id: ActivityId,
    pub version_id: PlanVersionId,
    pub name: String,
    pub description: Option<String>,
    /// Maximum tolerable period of disruption.
    pub mtpd_minutes: i32,
    /// Recovery time objective: when it must be running again, at the latest.
    pub rto_minutes: i32,
    /// Recovery point objective: how much recorded information may be lost.
    pub rpo_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ActivityRequest {
    pub name: String,
    pub description: Option<String>,
    pub mtpd_minutes: i64,
    pub rto_minutes: i64,
    pub rpo_minutes: i64,
}

impl ActivityRequest {
    pub fn validate(self) -> Result<Self> {
        const FOUR_WEEKS: i64 = 28 * 24 * 60;
        for (field, value) in [
            ("mtpdMinutes", self.mtpd_minutes),
            ("rtoMinutes", self.rto_minutes),
            ("rpoMinutes", self.rpo_minutes),
        ] {
            if !(0..=FOUR_WEEKS).contains(&value) {
                return Err(DomainError::validation(
                    field,
                    format!("must be 0 to {FOUR_WEEKS} minutes (four weeks), not {value}"),
                ));
            }
        }
        if self.mtpd_minutes == 0 {
            return Err(DomainError::validation(
                "mtpdMinutes",
                "must be more than 0",
            ));
        }
        if self.rto_minutes > self.mtpd_minutes {
            return Err(DomainError::validation(
                "rtoMinutes",
                format!(
                    "rtoMinutes ({}) must not exceed mtpdMinutes ({}): the activity must be back before the outage becomes intolerable",
                    self.rto_minutes, self.mtpd_minutes
                ),
            ));
        }
        Ok(Self {
            name: required_text("name", &self.name, 200)?,
            description: optional_text("description", self.description.as_deref(), 4000)?,
            ..self
        })
    }
}

crate::named_enum! {
    /// What a critical activity depends on.
    pub enum DependencyKind as "kind" {
            ItSystem = "it_system",
            Supplier = "supplier",
            StaffRole = "staff_role",
        }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub activity_id: ActivityId,
    pub kind: DependencyKind,
    pub system_id: Option<SystemId>,
    /// The supplier's or staff role's name; for IT systems an optional note.
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DependencyRequest {
    pub kind: DependencyKind,
    pub system_id: Option<SystemId>,
    pub name: Option<String>,
}

impl DependencyRequest {
    pub fn validate(self) -> Result<Self> {
        let name = optional_text("name", self.name.as_deref(), 200)?;
        match (self.kind, self.system_id, &name) {
            (DependencyKind::ItSystem, None, _) => Err(DomainError::validation(
                "systemId",
                "an IT system dependency must name the system",
            )),
            (DependencyKind::Supplier | DependencyKind::StaffRole, Some(_), _) => Err(
                DomainError::validation("systemId", "only IT system dependencies take a system"),
            ),
            (DependencyKind::Supplier | DependencyKind::StaffRole, None, None) => Err(
                DomainError::validation("name", "a supplier or staff role dependency needs a name"),
            ),
            _ => Ok(Self { name, ..self }),
        }
    }
}

/// The analog way to do one task when a system is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routine {
    pub id: RoutineId,
    pub version_id: PlanVersionId,
    pub activity_id: Option<ActivityId>,
    pub key: RoutineKey,
    pub title: String,
    /// When to switch to this routine.
    pub trigger: String,
    pub classification: Classification,
    pub steps: Vec<RoutineStep>,
    pub materials: Vec<Material>,
    /// Steps that bring paper records back into the systems afterwards.
    pub recovery_steps: Vec<RoutineStep>,
}

/// One step: who does what, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutineStep {
    pub who: String,
    pub what: String,
    pub when: Option<String>,
}

/// Something the routine needs at hand: a paper form, a printed list, a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub name: String,
    /// Where it is kept.
    pub location: Option<String>,
}

/// A routine's stable name, such as `lakemedel-signeringslista`: the same across the
/// versions of a plan, unique within a version, and the same for routines of the same
/// kind in different units' plans, so that a playbook can name them all at once.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoutineKey(String);

impl RoutineKey {
    const MAX_LEN: usize = 60;

    /// Checks a key as written by an editor; `field` names where it came from.
    pub fn parse(field: &str, key: &str) -> Result<Self> {
        let well_formed = (2..=Self::MAX_LEN).contains(&key.len())
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && !key.ends_with('-')
            && !key.contains("--")
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if well_formed {
            Ok(Self(key.to_owned()))
        } else {
            Err(DomainError::validation(
                field,
                format!(
                    "\"{key}\" is not a routine key: use 2–{} lower-case letters a–z, digits and single hyphens, starting with a letter (for example \"lakemedel-signeringslista\")",
                    Self::MAX_LEN
                ),
            ))
        }
    }

    /// A key made from a routine's title, for routines written without one:
    /// "Manuell signeringslista för läkemedel" becomes
    /// `manuell-signeringslista-for-lakemedel`.
    pub fn from_title(title: &str) -> Self {
        let mut key = String::new();
        for c in title.chars().flat_map(char::to_lowercase) {
            let plain = match c {
                'å' | 'ä' | 'á' | 'à' => 'a',
                'ö' | 'ø' | 'ó' => 'o',
                'é' | 'è' | 'ë' => 'e',
                'ü' | 'ú' => 'u',
                c => c,
            };
            if plain.is_ascii_lowercase() || plain.is_ascii_digit() {
                if key.is_empty() && plain.is_ascii_digit() {
                    key.push_str("rutin-");
                }
                key.push(plain);
            } else if !key.is_empty() && !key.ends_with('-') {
                key.push('-');
            }
            if key.len() >= Self::MAX_LEN {
                break;
            }
        }
        key.truncate(Self::MAX_LEN);
        let key = key.trim_end_matches('-');
        if key.len() < 2 {
            Self("rutin".to_owned())
        } else {
            Self(key.to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RoutineKey {
    type Error = DomainError;

    fn try_from(key: String) -> Result<Self> {
        Self::parse("key", &key)
    }
}

impl From<RoutineKey> for String {
    fn from(key: RoutineKey) -> Self {
        key.0
    }
}

impl fmt::Display for RoutineKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RoutineRequest {
    pub activity_id: Option<ActivityId>,
    /// When absent, a new routine gets a key made from its title and a changed one
    /// keeps the key it has.
    #[serde(default)]
    pub key: Option<RoutineKey>,
    pub title: String,
    pub trigger: String,
    pub classification: Classification,
    /// Why the confidentiality is lowered, when it is.
    #[serde(default)]
    pub lowering_reason: Option<String>,
    pub steps: Vec<RoutineStep>,
    #[serde(default)]
    pub materials: Vec<Material>,
    #[serde(default)]
    pub recovery_steps: Vec<RoutineStep>,
}

impl RoutineRequest {
    pub fn validate(self) -> Result<Self> {
        if self.steps.is_empty() {
            return Err(DomainError::validation(
                "steps",
                "a fallback routine needs at least one step",
            ));
        }
        let steps = validate_steps("steps", self.steps)?;
        let recovery_steps = validate_steps("recoverySteps", self.recovery_steps)?;
        let materials = self
            .materials
            .into_iter()
            .enumerate()
            .map(|(index, material)| {
                Ok(Material {
                    name: required_text(&format!("materials[{index}].name"), &material.name, 200)?,
                    location: optional_text(
                        &format!("materials[{index}].location"),
                        material.location.as_deref(),
                        200,
                    )?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            title: required_text("title", &self.title, 200)?,
            trigger: required_text("trigger", &self.trigger, 2000)?,
            steps,
            materials,
            recovery_steps,
            ..self
        })
    }
}

fn validate_steps(field: &str, steps: Vec<RoutineStep>) -> Result<Vec<RoutineStep>> {
    if steps.len() > 100 {
        return Err(DomainError::validation(
            field,
            "at most 100 steps are allowed",
        ));
    }
    steps
        .into_iter()
        .enumerate()
        .map(|(index, step)| {
            Ok(RoutineStep {
                who: required_text(&format!("{field}[{index}].who"), &step.who, 120)?,
                what: required_text(&format!("{field}[{index}].what"), &step.what, 2000)?,
                when: optional_text(&format!("{field}[{index}].when"), step.when.as_deref(), 200)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_routine_key_is_made_from_a_swedish_title() {
        let key = RoutineKey::from_title("Manuell signeringslista för läkemedel – Solgården");
        assert_eq!(
            key.as_str(),
            "manuell-signeringslista-for-lakemedel-solgarden"
        );
        assert_eq!(
            RoutineKey::from_title("24/7 bemanning").as_str(),
            "rutin-24-7-bemanning"
        );
        assert_eq!(RoutineKey::from_title("!!").as_str(), "rutin");
        let long = RoutineKey::from_title(&"Nyckelhantering ".repeat(10));
        assert!(
            long.as_str().len() <= 60 && !long.as_str().ends_with('-'),
            "{long}"
        );
        assert_eq!(RoutineKey::parse("key", long.as_str()), Ok(long));
    }

    #[test]
    fn a_malformed_routine_key_is_refused_naming_the_field() {
        for bad in [
            "",
            "a",
            "Läkemedel",
            "lakemedel--lista",
            "-lista",
            "lista-",
            "9-lista",
            "med space",
        ] {
            let parsed = RoutineKey::parse("routines[2].key", bad);
            assert!(
                parsed
                    .as_ref()
                    .is_err_and(|error| error.to_string().contains("routines[2].key")),
                "{bad}: {parsed:?}"
            );
        }
        assert!(RoutineKey::parse("key", "lakemedel-signeringslista").is_ok());
    }

    fn activity(mtpd: i64, rto: i64) -> ActivityRequest {
        ActivityRequest {
            name: "Läkemedelsöverlämning".into(),
            description: None,
            mtpd_minutes: mtpd,
            rto_minutes: rto,
            rpo_minutes: 0,
        }
    }

    #[test]
    fn rto_may_not_exceed_mtpd() {
        assert!(activity(480, 240).validate().is_ok());
        let err = activity(480, 600).validate().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "rtoMinutes: rtoMinutes (600) must not exceed mtpdMinutes (480): the activity must be back before the outage becomes intolerable"
            )
        );
    }

    #[test]
    fn approved_versions_are_immutable() {
        assert!(PlanState::Draft.ensure_editable(1).is_ok());
        let err = PlanState::Approved
            .ensure_editable(3)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "Version 3 is approved and cannot be changed; create a new draft to edit the plan"
            )
        );
    }

    #[test]
    fn life_cycle_runs_draft_approved_retired() {
        assert_eq!(PlanState::Draft.approve(1).ok(), Some(PlanState::Approved));
        assert_eq!(PlanState::Approved.retire(1).ok(), Some(PlanState::Retired));
        assert!(PlanState::Retired.approve(1).is_err());
        assert!(PlanState::Approved.approve(1).is_err());
        assert!(PlanState::Draft.retire(1).is_err());
    }

    #[test]
    fn empty_draft_cannot_be_approved() {
        assert!(ensure_approvable(0, 1).is_err());
        assert!(ensure_approvable(2, 1).is_ok());
    }

    #[test]
    fn it_dependency_needs_a_system() {
        let dependency = DependencyRequest {
            kind: DependencyKind::ItSystem,
            system_id: None,
            name: None,
        };
        assert!(
            matches!(dependency.validate(), Err(DomainError::Validation { field, .. }) if field == "systemId")
        );
        let supplier = DependencyRequest {
            kind: DependencyKind::Supplier,
            system_id: None,
            name: Some("Apoteket".into()),
        };
        assert!(supplier.validate().is_ok());
    }

    #[test]
    fn routine_step_errors_name_the_step() {
        let routine = RoutineRequest {
            activity_id: None,
            key: None,
            title: "Pappersjournal".into(),
            trigger: "Journalsystemet nere mer än 30 minuter".into(),
            classification: Classification::default(),
            steps: vec![
                RoutineStep {
                    who: "Undersköterska".into(),
                    what: "Hämta pärmen".into(),
                    when: None,
                },
                RoutineStep {
                    who: " ".into(),
                    what: "Anteckna".into(),
                    when: None,
                },
            ],
            materials: vec![],
            recovery_steps: vec![],
            lowering_reason: None,
        };
        assert!(
            matches!(routine.validate(), Err(DomainError::Validation { field, .. }) if field == "steps[1].who")
        );
    }

    #[test]
    fn review_is_due_after_the_interval() {
        let approved = chrono::DateTime::parse_from_rfc3339("2026-01-31T10:00:00Z")
            .map(|t| t.with_timezone(&Utc));
        let due = approved.map(|t| review_due(t, 1).to_rfc3339());
        assert_eq!(due.ok().as_deref(), Some("2026-02-28T10:00:00+00:00"));
    }
}
