//! Incidents, their state machine, the append-only crisis log and the tasks of the
//! response.
//!
//! The crisis log is a legal record: an entry is never changed or removed. A mistake is
//! mended by a new entry that points to the one it corrects.

use crate::access::Role;
use crate::classification::{Classification, Confidentiality};
use crate::ids::{IncidentId, LogEntryId, PersonId, SystemId, TaskId, UnitId};
use crate::validate::{optional_text, required_text};
use crate::{DomainError, Result};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

crate::named_enum! {
    pub enum IncidentKind as "kind" {
            ItOutage = "it_outage",
            InformationSecurity = "information_security",
            PersonalDataBreach = "personal_data_breach",
            Power = "power",
            Staffing = "staffing",
            Other = "other",
        }
}

/// How severe an incident is: 1 is the most severe (life and health at risk across
/// units), 4 the least (a nuisance handled within a unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Severity(u8);

impl Severity {
    pub fn new(level: i64) -> Result<Self> {
        u8::try_from(level)
            .ok()
            .filter(|level| (1..=4).contains(level))
            .map(Self)
            .ok_or_else(|| {
                DomainError::validation(
                    "severity",
                    format!("must be 1 (most severe) to 4 (least severe), not {level}"),
                )
            })
    }

    pub fn level(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Severity {
    type Error = DomainError;
    fn try_from(level: i64) -> Result<Self> {
        Self::new(level)
    }
}

impl From<Severity> for i64 {
    fn from(value: Severity) -> Self {
        i64::from(value.0)
    }
}

crate::named_enum! {
    /// reported → triaged → active → recovering → closed. Recovering may fall back to
    /// active when the trouble returns; a report found to be nothing may be closed right
    /// after reporting or triage. Closed is final.
    pub enum IncidentState as "state" {
            Reported = "reported",
            Triaged = "triaged",
            Active = "active",
            Recovering = "recovering",
            Closed = "closed",
        }
}

impl IncidentState {
    /// The states this one may move to.
    pub fn next_states(self) -> &'static [IncidentState] {
        use IncidentState::*;
        match self {
            Reported => &[Triaged, Closed],
            Triaged => &[Active, Closed],
            Active => &[Recovering],
            Recovering => &[Active, Closed],
            Closed => &[],
        }
    }

    pub fn transition_to(self, next: IncidentState) -> Result<IncidentState> {
        if self.next_states().contains(&next) {
            return Ok(next);
        }
        let allowed: Vec<&str> = self.next_states().iter().map(|s| s.as_str()).collect();
        Err(DomainError::conflict(if allowed.is_empty() {
            format!(
                "The incident is {} and can no longer change state",
                self.as_str()
            )
        } else {
            format!(
                "An incident cannot go from {} to {}; from {} it can go to {}",
                self.as_str(),
                next.as_str(),
                self.as_str(),
                allowed.join(" or ")
            )
        }))
    }

    pub fn is_closed(self) -> bool {
        self == IncidentState::Closed
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub id: IncidentId,
    pub title: String,
    pub description: Option<String>,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub state: IncidentState,
    pub commander_id: Option<PersonId>,
    pub exercise: bool,
    pub classification: Classification,
    pub unit_ids: Vec<UnitId>,
    pub system_ids: Vec<SystemId>,
    pub reported_at: DateTime<Utc>,
    pub reported_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewIncident {
    pub title: String,
    pub description: Option<String>,
    pub kind: IncidentKind,
    pub severity: i64,
    #[serde(default)]
    pub exercise: bool,
    pub classification: Classification,
    #[serde(default)]
    pub unit_ids: Vec<UnitId>,
    #[serde(default)]
    pub system_ids: Vec<SystemId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNewIncident {
    pub title: String,
    pub description: Option<String>,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub exercise: bool,
    pub classification: Classification,
    pub unit_ids: Vec<UnitId>,
    pub system_ids: Vec<SystemId>,
}

impl NewIncident {
    pub fn validate(self) -> Result<ValidNewIncident> {
        let mut unit_ids = self.unit_ids;
        unit_ids.sort();
        unit_ids.dedup();
        let mut system_ids = self.system_ids;
        system_ids.sort();
        system_ids.dedup();
        Ok(ValidNewIncident {
            title: required_text("title", &self.title, 200)?,
            description: optional_text("description", self.description.as_deref(), 8000)?,
            kind: self.kind,
            severity: Severity::new(self.severity)?,
            exercise: self.exercise,
            classification: self.classification,
            unit_ids,
            system_ids,
        })
    }
}

/// Refuses changes to an incident that has been closed.
pub fn ensure_open(state: IncidentState) -> Result<()> {
    if state.is_closed() {
        return Err(DomainError::conflict(
            "The incident is closed; its record can no longer change",
        ));
    }
    Ok(())
}

crate::named_enum! {
    pub enum LogEntryKind as "kind" {
            Observation = "observation",
            Decision = "decision",
            Action = "action",
            Message = "message",
            Meeting = "meeting",
        }
}

/// One entry of the crisis log. There is no way to change one once written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub id: LogEntryId,
    pub incident_id: IncidentId,
    pub kind: LogEntryKind,
    pub text: String,
    /// When the thing described happened.
    pub occurred_at: DateTime<Utc>,
    /// When the entry was written; set by the server.
    pub recorded_at: DateTime<Utc>,
    pub author: String,
    /// The entry this one corrects, if any.
    pub corrects: Option<LogEntryId>,
    /// Set when the entry was entered afterwards from notes taken on paper.
    pub paper: Option<PaperNote>,
    /// Whether the entry was texted in by SMS (`LOGG …`) rather than written in the app.
    pub by_sms: bool,
    /// The entry's own level, at or below its incident's when written: an instruction
    /// meant for all staff can be internal inside a sensitive incident.
    pub confidentiality: Confidentiality,
}

/// An entry entered afterwards from notes taken on paper while the systems were down:
/// the author is who typed it in, `written_by` whoever wrote the note, when that was
/// someone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperNote {
    pub written_by: Option<String>,
}

impl PaperNote {
    /// Checks the note's writer and that the entry says when the note was taken: an
    /// entry from paper written down "now" would misdate what happened.
    pub fn validate(self, entry: &NewLogEntry) -> Result<Self> {
        if entry.occurred_at.is_none() {
            return Err(DomainError::validation(
                "occurredAt",
                "give the time written on the paper note: an entry from paper is dated when the note was taken",
            ));
        }
        let written_by = match self.written_by.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => Some(required_text("paperNote.writtenBy", name, 128)?),
        };
        Ok(Self { written_by })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewLogEntry {
    pub kind: LogEntryKind,
    pub text: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub corrects: Option<LogEntryId>,
    /// The entry's own level; `None` takes the incident's.
    #[serde(default)]
    pub confidentiality: Option<Confidentiality>,
}

impl NewLogEntry {
    /// Validates the entry as written at `now`. An entry may describe the past (notes
    /// taken on paper are entered afterwards) but not the future; a little clock skew
    /// between a phone and the server is tolerated.
    pub fn validate(self, now: DateTime<Utc>) -> Result<Self> {
        let occurred_at = self.occurred_at.unwrap_or(now);
        if occurred_at > now + Duration::minutes(5) {
            return Err(DomainError::validation(
                "occurredAt",
                format!(
                    "{} is in the future; the log records what has happened",
                    occurred_at.to_rfc3339()
                ),
            ));
        }
        Ok(Self {
            text: required_text("text", &self.text, 8000)?,
            occurred_at: Some(occurred_at),
            ..self
        })
    }
}

/// The id a client gives a write it may have to send again (a phone that wrote while
/// offline and cannot know whether its first attempt arrived), so that the retry
/// returns the first result instead of writing twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientWriteId(String);

impl ClientWriteId {
    /// Accepts 1 to 64 letters, digits, `-` and `_`: a UUID fits, and nothing in it
    /// needs escaping anywhere it is shown.
    pub fn parse(field: &str, text: &str) -> Result<Self> {
        let fits = (1..=64).contains(&text.len())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if fits {
            Ok(Self(text.to_owned()))
        } else {
            Err(DomainError::validation(
                field,
                "must be 1 to 64 letters, digits, '-' or '_' (a UUID fits)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks that a correction points to an entry of the same incident.
pub fn ensure_correction_target(
    incident: IncidentId,
    corrected: Option<&LogEntry>,
    corrects: LogEntryId,
) -> Result<()> {
    match corrected {
        Some(entry) if entry.incident_id == incident => Ok(()),
        _ => Err(DomainError::validation(
            "corrects",
            format!("log entry {corrects} does not belong to incident {incident}"),
        )),
    }
}

crate::named_enum! {
    pub enum TaskState as "state" {
            Open = "open",
            InProgress = "in_progress",
            Done = "done",
            Cancelled = "cancelled",
        }
}

impl TaskState {
    pub fn transition_to(self, next: TaskState) -> Result<TaskState> {
        match (self, next) {
            (TaskState::Done | TaskState::Cancelled, _) => Err(DomainError::conflict(format!(
                "The task is {} and can no longer change; create a new task instead",
                self.as_str()
            ))),
            (current, next) if current == next => Err(DomainError::conflict(format!(
                "The task is already {}",
                current.as_str()
            ))),
            (_, next) => Ok(next),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub incident_id: IncidentId,
    pub title: String,
    pub assignee_id: Option<PersonId>,
    /// The crisis role that should do it: whoever holds it takes the task when no
    /// named person is assigned, and activation assigns someone who holds it.
    pub assignee_role: Option<Role>,
    pub due_at: Option<DateTime<Utc>>,
    pub state: TaskState,
    /// Set for every task of an exercise incident, so that nobody mistakes it for a
    /// real one.
    pub exercise: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The task's own level, at or below its incident's when created; see
    /// [`LogEntry::confidentiality`].
    pub confidentiality: Confidentiality,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewTask {
    pub title: String,
    pub assignee_id: Option<PersonId>,
    pub assignee_role: Option<Role>,
    pub due_at: Option<DateTime<Utc>>,
    /// The task's own level; `None` takes the incident's.
    #[serde(default)]
    pub confidentiality: Option<Confidentiality>,
}

impl NewTask {
    pub fn validate(self) -> Result<Self> {
        Ok(Self {
            title: required_text("title", &self.title, 300)?,
            ..self
        })
    }
}

/// The level of a log entry or task written in an incident at `incident`: the one asked
/// for, or the incident's. A part may be less secret than its incident (instructions
/// for all staff inside a sensitive incident), never more, since whoever may read the
/// incident must be able to read all of it.
pub fn part_confidentiality(
    requested: Option<Confidentiality>,
    incident: Confidentiality,
) -> Result<Confidentiality> {
    match requested {
        None => Ok(incident),
        Some(level) if level <= incident => Ok(level),
        Some(level) => Err(DomainError::validation(
            "confidentiality",
            format!(
                "level {} is above the incident's level {}: an entry or task cannot be more \
                 secret than its incident; raise the incident's level first",
                level.level(),
                incident.level()
            ),
        )),
    }
}

/// The level of a correction: the one asked for, or the corrected entry's. A correction
/// is never more secret than what it corrects, or those who read the entry would not
/// see that it was corrected.
pub fn correction_confidentiality(
    requested: Option<Confidentiality>,
    corrected: Confidentiality,
) -> Result<Confidentiality> {
    match requested {
        None => Ok(corrected),
        Some(level) if level <= corrected => Ok(level),
        Some(level) => Err(DomainError::validation(
            "confidentiality",
            format!(
                "level {} is above the corrected entry's level {}: whoever read the entry \
                 must be able to read its correction",
                level.level(),
                corrected.level()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_at_most_as_secret_as_its_incident() {
        let sensitive = Confidentiality::SENSITIVE;
        assert_eq!(part_confidentiality(None, sensitive).ok(), Some(sensitive));
        assert_eq!(
            part_confidentiality(Some(Confidentiality::INTERNAL), sensitive).ok(),
            Some(Confidentiality::INTERNAL)
        );
        let refused = part_confidentiality(Some(Confidentiality::STRICTLY_CONFIDENTIAL), sensitive)
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(
            refused.contains("above the incident's level 2"),
            "{refused}"
        );
    }

    #[test]
    fn a_correction_is_read_by_whoever_read_the_entry() {
        let internal = Confidentiality::INTERNAL;
        assert_eq!(
            correction_confidentiality(None, internal).ok(),
            Some(internal)
        );
        assert!(correction_confidentiality(Some(Confidentiality::PUBLIC), internal).is_ok());
        assert!(correction_confidentiality(Some(Confidentiality::SENSITIVE), internal).is_err());
    }

    #[test]
    fn incident_follows_the_life_cycle() {
        use IncidentState::*;
        let mut state = Reported;
        for next in [Triaged, Active, Recovering, Active, Recovering, Closed] {
            state = state.transition_to(next).unwrap_or(state);
            assert_eq!(state, next);
        }
    }

    #[test]
    fn skipping_a_state_explains_the_way() {
        let err = IncidentState::Reported
            .transition_to(IncidentState::Active)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "An incident cannot go from reported to active; from reported it can go to triaged or closed"
            )
        );
        assert!(
            IncidentState::Closed
                .transition_to(IncidentState::Active)
                .is_err()
        );
    }

    #[test]
    fn severity_is_one_to_four() {
        assert!(Severity::new(0).is_err());
        assert!(Severity::new(5).is_err());
        assert_eq!(Severity::new(1).map(Severity::level).ok(), Some(1));
    }

    #[test]
    fn log_entries_may_not_be_in_the_future() {
        let now = Utc::now();
        let entry = |occurred_at| NewLogEntry {
            kind: LogEntryKind::Observation,
            text: "Larmcentralen når inte trygghetslarmen".into(),
            occurred_at,
            corrects: None,
            confidentiality: None,
        };
        assert!(entry(Some(now - Duration::hours(3))).validate(now).is_ok());
        assert!(entry(Some(now + Duration::hours(1))).validate(now).is_err());
        assert_eq!(
            entry(None).validate(now).ok().and_then(|e| e.occurred_at),
            Some(now)
        );
    }

    #[test]
    fn corrections_stay_within_the_incident() {
        let entry = LogEntry {
            id: LogEntryId(7),
            incident_id: IncidentId(2),
            kind: LogEntryKind::Decision,
            text: "Beslut".into(),
            occurred_at: Utc::now(),
            recorded_at: Utc::now(),
            author: "anna".into(),
            corrects: None,
            paper: None,
            by_sms: false,
            confidentiality: Confidentiality::INTERNAL,
        };
        assert!(ensure_correction_target(IncidentId(2), Some(&entry), LogEntryId(7)).is_ok());
        assert!(ensure_correction_target(IncidentId(3), Some(&entry), LogEntryId(7)).is_err());
        assert!(ensure_correction_target(IncidentId(2), None, LogEntryId(9)).is_err());
    }

    #[test]
    fn finished_tasks_stay_finished() {
        assert_eq!(
            TaskState::Open.transition_to(TaskState::Done).ok(),
            Some(TaskState::Done)
        );
        assert!(TaskState::Done.transition_to(TaskState::Open).is_err());
        assert!(TaskState::Open.transition_to(TaskState::Open).is_err());
    }
}

/// A change to an incident that subscribers are told about once it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentChange {
    /// A new incident was reported.
    Reported {
        incident: Box<Incident>,
    },
    StateChanged {
        incident: Box<Incident>,
    },
    LogEntryAdded {
        entry: LogEntry,
    },
    TaskChanged {
        task: Task,
    },
    /// A step of one of the incident's checklist runs was ticked, unticked or commented.
    ChecklistMarked {
        incident_id: IncidentId,
        mark: crate::checklists::Mark,
        /// The step's number in its run, from 1.
        step: i64,
    },
}

impl IncidentChange {
    pub fn incident_id(&self) -> IncidentId {
        match self {
            IncidentChange::Reported { incident } | IncidentChange::StateChanged { incident } => {
                incident.id
            }
            IncidentChange::LogEntryAdded { entry } => entry.incident_id,
            IncidentChange::TaskChanged { task } => task.incident_id,
            IncidentChange::ChecklistMarked { incident_id, .. } => *incident_id,
        }
    }

    /// The own level of the entry or task the change is about, which a watcher must be
    /// cleared for besides the incident; `None` for changes of the incident itself.
    pub fn part_confidentiality(&self) -> Option<Confidentiality> {
        match self {
            IncidentChange::LogEntryAdded { entry } => Some(entry.confidentiality),
            IncidentChange::TaskChanged { task } => Some(task.confidentiality),
            _ => None,
        }
    }
}
