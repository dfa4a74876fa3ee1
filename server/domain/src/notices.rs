//! Public notices: what residents and relatives are told during an incident — what works,
//! what does not, and which number to call. They feed the live status page, its feeds and
//! the static fallback site.
//!
//! A notice is public by definition, so it must never carry anything above confidentiality
//! 0: [`NoticeDraft::validate`] refuses any other level. A notice is never changed in
//! place: every publication, update and withdrawal is a new [`NoticeRevision`], so that
//! residents can read what they were told earlier.

use crate::classification::Confidentiality;
use crate::disclosure::{Channel, Disclosure};
use crate::ids::{IncidentId, NoticeId};
use crate::people::Language;
use crate::phone::E164;
use crate::validate::{bounded_text, optional_text, required_text};
use crate::{DomainError, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::named_enum! {
    /// How a service residents depend on is doing.
    pub enum ServiceState as "state" {
            Working = "working",
            Disrupted = "disrupted",
            Down = "down",
        }
}

crate::named_enum! {
    /// Whether a notice revision is shown, or takes the notice down.
    pub enum NoticeState as "state" {
            Published = "published",
            Withdrawn = "withdrawn",
        }
}

const HEADLINE_MAX: usize = 200;
const BODY_MAX: usize = 4_000;
const NAME_MAX: usize = 120;
const HOURS_MAX: usize = 200;
const SERVICES_MAX: usize = 30;
const HOTLINES_MAX: usize = 10;

/// A text in Swedish, the primary language, and optionally in English; readers of the
/// English page see the Swedish text where no translation was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Localized {
    pub sv: String,
    pub en: Option<String>,
}

/// Standing advice for residents from a playbook ("if your home care visit is late,
/// call …"): public by the playbook format's rule, and shown whatever is going on, so
/// that it tells nobody which incident is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicGuidance {
    /// The scenario it is for: the playbook's title.
    pub scenario: Localized,
    pub advice: Localized,
}

impl Localized {
    /// The text in `language`, or in Swedish when it has no translation.
    pub fn get(&self, language: Language) -> &str {
        match (language, &self.en) {
            (Language::En, Some(en)) => en,
            _ => &self.sv,
        }
    }

    fn validate(self, field: &str, max_chars: usize, required: bool) -> Result<Self> {
        let sv_field = format!("{field}.sv");
        let sv = if required {
            required_text(&sv_field, &self.sv, max_chars)?
        } else {
            bounded_text(&sv_field, &self.sv, max_chars)?
        };
        Ok(Self {
            sv,
            en: optional_text(&format!("{field}.en"), self.en.as_deref(), max_chars)?,
        })
    }
}

/// A service residents depend on and how it is doing ("Hemtjänstens besök: stört").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedService {
    pub name: Localized,
    pub state: ServiceState,
}

/// A phone number residents may call, with when it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hotline {
    pub name: Localized,
    pub phone: E164,
    pub opening_hours: Localized,
}

/// What a notice says; the same in every revision's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeContent {
    pub headline: Localized,
    pub body: Localized,
    pub services: Vec<AffectedService>,
    pub hotlines: Vec<Hotline>,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
}

/// A hotline as typed, before its number is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotlineDraft {
    pub name: Localized,
    pub phone: String,
    pub opening_hours: Localized,
}

/// A notice as a communicator wrote it, before the rules are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeDraft {
    /// The confidentiality level the writer gives it; only 0 (public) is accepted.
    pub confidentiality: i64,
    pub headline: Localized,
    pub body: Localized,
    pub services: Vec<AffectedService>,
    pub hotlines: Vec<HotlineDraft>,
    /// From when the notice is shown; now when left out.
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    /// The incident the notice is about, if any.
    pub incident_id: Option<IncidentId>,
}

/// A draft that follows every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNotice {
    pub content: NoticeContent,
    pub incident_id: Option<IncidentId>,
}

impl NoticeDraft {
    /// Applies the rules: public information only, texts within bounds, numbers in E.164
    /// form and a validity period that ends after it starts.
    pub fn validate(self, now: DateTime<Utc>) -> Result<ValidNotice> {
        ensure_public(self.confidentiality)?;
        if self.services.len() > SERVICES_MAX {
            return Err(DomainError::validation(
                "services",
                format!(
                    "lists {} services; at most {SERVICES_MAX} fit on the status page",
                    self.services.len()
                ),
            ));
        }
        if self.hotlines.len() > HOTLINES_MAX {
            return Err(DomainError::validation(
                "hotlines",
                format!(
                    "lists {} numbers; at most {HOTLINES_MAX} are allowed",
                    self.hotlines.len()
                ),
            ));
        }
        let services = self
            .services
            .into_iter()
            .enumerate()
            .map(|(index, service)| {
                Ok(AffectedService {
                    name: service.name.validate(
                        &format!("services[{index}].name"),
                        NAME_MAX,
                        true,
                    )?,
                    state: service.state,
                })
            })
            .collect::<Result<_>>()?;
        let hotlines = self
            .hotlines
            .into_iter()
            .enumerate()
            .map(|(index, hotline)| {
                Ok(Hotline {
                    name: hotline.name.validate(
                        &format!("hotlines[{index}].name"),
                        NAME_MAX,
                        true,
                    )?,
                    phone: E164::parse(&format!("hotlines[{index}].phone"), &hotline.phone)?,
                    opening_hours: hotline.opening_hours.validate(
                        &format!("hotlines[{index}].openingHours"),
                        HOURS_MAX,
                        false,
                    )?,
                })
            })
            .collect::<Result<_>>()?;
        let valid_from = self.valid_from.unwrap_or(now);
        if let Some(valid_to) = self.valid_to
            && valid_to <= valid_from
        {
            return Err(DomainError::validation(
                "validTo",
                format!(
                    "{} is not after validFrom ({}); a notice must be shown for some time",
                    valid_to.to_rfc3339(),
                    valid_from.to_rfc3339()
                ),
            ));
        }
        Ok(ValidNotice {
            content: NoticeContent {
                headline: self.headline.validate("headline", HEADLINE_MAX, true)?,
                body: self.body.validate("body", BODY_MAX, true)?,
                services,
                hotlines,
                valid_from,
                valid_to: self.valid_to,
            },
            incident_id: self.incident_id,
        })
    }
}

/// Refuses any level but 0: whatever a notice says reaches residents, the open web and
/// hosting outside the organisation.
fn ensure_public(level: i64) -> Result<()> {
    let level = Confidentiality::new("confidentiality", level)?;
    if Channel::StatusPage.carries(level) != Disclosure::Full {
        return Err(DomainError::validation(
            "confidentiality",
            format!(
                "is {}; a public notice reaches residents, the status page and the fallback site, so only level 0 (public) may be published. Leave classified details in the incident's crisis log",
                level.level()
            ),
        ));
    }
    Ok(())
}

/// One state of a notice, as it was published at `recorded_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRevision {
    /// 1 for the first publication, one more for each change.
    pub revision: i32,
    pub state: NoticeState,
    pub content: NoticeContent,
    pub recorded_at: DateTime<Utc>,
}

/// A notice with every revision it has had, oldest first (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicNotice {
    pub id: NoticeId,
    pub incident_id: Option<IncidentId>,
    pub revisions: Vec<NoticeRevision>,
}

impl PublicNotice {
    /// The latest revision: what the notice says now.
    pub fn latest(&self) -> Option<&NoticeRevision> {
        self.revisions.last()
    }

    /// When the notice was first published.
    pub fn published_at(&self) -> Option<DateTime<Utc>> {
        self.revisions.first().map(|revision| revision.recorded_at)
    }

    /// Whether residents should see it as current at `now`: published, not withdrawn,
    /// and within its validity period.
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        self.latest().is_some_and(|revision| {
            revision.state == NoticeState::Published
                && revision.content.valid_from <= now
                && revision.content.valid_to.is_none_or(|end| end > now)
        })
    }

    /// The revision `change` makes of this notice. A withdrawn notice no longer changes:
    /// what residents were told stays as it was, and news comes as a new notice. A
    /// notice stays with the incident it was published for.
    pub fn revise(&self, change: NoticeChange) -> Result<NextRevision> {
        let latest = match self.latest() {
            Some(revision) if revision.state == NoticeState::Published => revision,
            _ => {
                return Err(DomainError::conflict(format!(
                    "notice {} has been withdrawn; publish a new notice instead",
                    self.id
                )));
            }
        };
        let (state, content) = match change {
            NoticeChange::Update(notice) if notice.incident_id != self.incident_id => {
                return Err(DomainError::validation(
                    "incidentId",
                    "a notice stays with the incident it was published for; publish a new notice for another incident",
                ));
            }
            NoticeChange::Update(notice) => (NoticeState::Published, notice.content),
            // The withdrawal keeps the last text, so the history shows what was taken down.
            NoticeChange::Withdraw => (NoticeState::Withdrawn, latest.content.clone()),
        };
        Ok(NextRevision {
            revision: latest.revision + 1,
            state,
            content,
        })
    }
}

/// A change to a published notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeChange {
    Update(ValidNotice),
    Withdraw,
}

/// A revision about to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextRevision {
    pub revision: i32,
    pub state: NoticeState,
    pub content: NoticeContent,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(sv: &str) -> Localized {
        Localized {
            sv: sv.into(),
            en: None,
        }
    }

    fn draft() -> NoticeDraft {
        NoticeDraft {
            confidentiality: 0,
            headline: text("Störning i hemtjänsten"),
            body: text("Besöken kan bli försenade."),
            services: vec![AffectedService {
                name: text("Hemtjänst"),
                state: ServiceState::Disrupted,
            }],
            hotlines: vec![HotlineDraft {
                name: text("Kommunens upplysning"),
                phone: "+46 923 650 00".into(),
                opening_hours: text("Dygnet runt"),
            }],
            valid_from: None,
            valid_to: None,
            incident_id: None,
        }
    }

    #[test]
    fn only_public_notices_are_accepted() {
        let now = Utc::now();
        assert!(draft().validate(now).is_ok());
        for level in [1, 2, 3] {
            let refused = NoticeDraft {
                confidentiality: level,
                ..draft()
            }
            .validate(now);
            assert!(matches!(
                refused,
                Err(DomainError::Validation { field, .. }) if field == "confidentiality"
            ));
        }
    }

    #[test]
    fn hotline_numbers_and_validity_are_checked_with_their_field() {
        let now = Utc::now();
        let mut bad_number = draft();
        bad_number.hotlines[0].phone = "0923-65".into();
        assert!(matches!(
            bad_number.validate(now),
            Err(DomainError::Validation { field, .. }) if field == "hotlines[0].phone"
        ));
        let ended_before_start = NoticeDraft {
            valid_to: Some(now - chrono::Duration::hours(1)),
            ..draft()
        };
        assert!(matches!(
            ended_before_start.validate(now),
            Err(DomainError::Validation { field, .. }) if field == "validTo"
        ));
    }

    #[test]
    fn english_readers_get_swedish_where_no_translation_exists() {
        let only_swedish = text("Hemtjänst");
        assert_eq!(only_swedish.get(Language::En), "Hemtjänst");
        let both = Localized {
            sv: "Hemtjänst".into(),
            en: Some("Home care".into()),
        };
        assert_eq!(both.get(Language::En), "Home care");
        assert_eq!(both.get(Language::Sv), "Hemtjänst");
    }
}
