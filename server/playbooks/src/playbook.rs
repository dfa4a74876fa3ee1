//! A playbook as it has been checked: every name parsed, every wait a duration, ready
//! for activation.

use reserv_domain::access::Role;
use reserv_domain::incidents::{IncidentKind, Severity};
use reserv_domain::plans::RoutineKey;
use reserv_domain::systems::Criticality;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Playbook {
    pub id: String,
    /// The file it was read from, as given to the check.
    pub file: PathBuf,
    /// The file's text, kept so that the version in use can be stored and read again.
    pub source: String,
    pub title: Text,
    pub kind: IncidentKind,
    pub severity: Option<Severity>,
    pub summary: Option<Text>,
    pub triggers: Vec<PlaybookTrigger>,
    pub involves: Involves,
    pub routines: Vec<RoutineKey>,
    pub tasks: Vec<PlannedTask>,
    pub messages: Vec<PlannedMessage>,
    pub escalation: Option<EscalationRule>,
    pub public_guidance: Option<Text>,
    /// Line and column of the id in its file, to point at a duplicate.
    pub(crate) id_location: (u64, u64),
}

/// A text in Swedish, and in English when translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub sv: String,
    pub en: Option<String>,
}

impl Text {
    /// The text in `english` when asked for and available, else in Swedish.
    pub fn in_language(&self, english: bool) -> &str {
        match (&self.en, english) {
            (Some(en), true) => en,
            _ => &self.sv,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaybookTrigger {
    SystemDown(String),
    CriticalityDown(Criticality),
    Manual,
}

/// The units a playbook involves, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Involves {
    pub all: bool,
    /// Units with everything below them.
    pub within: Vec<String>,
    pub units: Vec<String>,
}

impl Involves {
    /// Whether the unit `name`, whose path (itself included) runs through the units
    /// named `path`, is involved: the playbook names all units, names it, or names a
    /// unit on its path (`within`). Activation and the suggestions both ask this.
    pub fn covers<'a>(&self, name: &str, mut path: impl Iterator<Item = &'a str>) -> bool {
        self.all
            || self.units.iter().any(|unit| unit == name)
            || path.any(|on_path| self.within.iter().any(|within| within == on_path))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTask {
    pub title: Text,
    pub role: Role,
    pub due_in: Duration,
    pub per_unit: bool,
    pub routine: Option<RoutineKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMessage {
    pub audience: Audience,
    /// A template with `{{ placeholder }}`s.
    pub text: Text,
}

impl PlannedMessage {
    /// The texts with their `{{ placeholder }}`s filled from `sv` for the Swedish text
    /// and `en` for the English one (a time reads differently in each). The check has
    /// made sure that every placeholder is a known one; the caller gives each a value.
    pub fn filled(
        &self,
        sv: &BTreeMap<&'static str, String>,
        en: &BTreeMap<&'static str, String>,
    ) -> Result<Text, String> {
        let environment = minijinja::Environment::new();
        let render = |template: &str, values: &BTreeMap<&'static str, String>| {
            environment
                .render_str(template, values)
                .map_err(|error| error.to_string())
        };
        Ok(Text {
            sv: render(&self.text.sv, sv)?,
            en: self
                .text
                .en
                .as_deref()
                .map(|english| render(english, en))
                .transpose()?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Everyone attached to an involved unit.
    Staff,
    /// The unit managers of the involved units.
    Managers,
    /// The crisis leads and communicators.
    CrisisGroup,
    /// Residents and relatives: the status page and the fallback site.
    Public,
}

impl Audience {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "staff" => Some(Self::Staff),
            "managers" => Some(Self::Managers),
            "crisis_group" => Some(Self::CrisisGroup),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationRule {
    pub unacknowledged_after: Duration,
    pub steps: Vec<EscalationStep>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalationStep {
    /// Send the message again by SMS.
    Sms,
    /// Tell the recipient's unit manager.
    Manager,
    /// Tell the crisis leads.
    CrisisLead,
}

impl EscalationStep {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "sms" => Some(Self::Sms),
            "manager" => Some(Self::Manager),
            "crisis_lead" => Some(Self::CrisisLead),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn involves(all: bool, within: &[&str], units: &[&str]) -> Involves {
        Involves {
            all,
            within: within.iter().map(|name| (*name).to_owned()).collect(),
            units: units.iter().map(|name| (*name).to_owned()).collect(),
        }
    }

    #[test]
    fn a_message_is_filled_in_each_language_with_its_own_values() {
        let planned = PlannedMessage {
            audience: Audience::Staff,
            text: Text {
                sv: "Journalen är nere ({{ incident }}), aktiverad {{ activated_at }}.".into(),
                en: Some(
                    "The journal is down ({{ incident }}), activated {{ activated_at }}.".into(),
                ),
            },
        };
        let values = |at: &str| {
            BTreeMap::from([
                ("incident", "Journalen".to_owned()),
                ("activated_at", at.to_owned()),
            ])
        };
        let filled = planned.filled(
            &values("7 december kl. 03.00"),
            &values("7 December, 03:00"),
        );
        assert_eq!(
            filled,
            Ok(Text {
                sv: "Journalen är nere (Journalen), aktiverad 7 december kl. 03.00.".into(),
                en: Some("The journal is down (Journalen), activated 7 December, 03:00.".into()),
            })
        );
    }

    #[test]
    fn a_unit_is_covered_by_all_by_its_name_or_by_a_unit_on_its_path() {
        let path = || ["Vård och omsorg", "Hemtjänst", "Hemtjänst Norr"].into_iter();
        assert!(involves(true, &[], &[]).covers("Hemtjänst Norr", path()));
        assert!(involves(false, &[], &["Hemtjänst Norr"]).covers("Hemtjänst Norr", path()));
        assert!(involves(false, &["Hemtjänst"], &[]).covers("Hemtjänst Norr", path()));
        assert!(
            !involves(false, &["Särskilt boende"], &["Solgården"]).covers("Hemtjänst Norr", path())
        );
    }
}
