//! What the status page shows, worked out from the public notices: the current notices,
//! the hotlines to call, earlier notices with their revisions, and the texts of the page
//! itself in Swedish or English. The templates only lay this out.
//!
//! Built from [`PublicNotice`]s only, which hold nothing above confidentiality 0; this
//! module must never take anything else from the store.

use chrono::{DateTime, Utc};
use reserv_domain::notices::{
    Localized, NoticeRevision, NoticeState, PublicGuidance, PublicNotice, ServiceState,
};
use reserv_domain::people::Language;
use reserv_domain::swedish_time;
use serde::Serialize;

/// How many ended notices the page lists: enough for an incident's story, small enough
/// to keep the page light on a bad mobile connection.
const EARLIER_NOTICES: usize = 10;

/// A moment as the page shows it: machine-readable and in Swedish time, in words.
#[derive(Debug, Clone, Serialize)]
pub struct Moment {
    /// RFC 3339 in UTC, for `<time datetime>` and the feeds.
    pub iso: String,
    /// "10 februari 2026 kl. 08.40" or "10 February 2026, 08:40", Swedish time.
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceView {
    pub name: String,
    /// `working`, `disrupted` or `down`, for styling.
    pub state: &'static str,
    pub state_text: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct HotlineView {
    pub name: String,
    /// E.164, for `tel:` links.
    pub phone: String,
    /// Grouped for reading aloud and dialling by hand: "070-174 06 90".
    pub phone_text: String,
    pub opening_hours: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevisionView {
    pub revision: i32,
    pub withdrawn: bool,
    pub headline: String,
    pub paragraphs: Vec<String>,
    pub recorded: Moment,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    pub id: i64,
    pub headline: String,
    pub paragraphs: Vec<String>,
    pub services: Vec<ServiceView>,
    pub hotlines: Vec<HotlineView>,
    pub published: Moment,
    pub updated: Moment,
    pub withdrawn: bool,
    /// Earlier revisions, newest first.
    pub earlier: Vec<RevisionView>,
}

/// The page's own words.
#[derive(Debug, Clone, Serialize)]
pub struct Labels {
    pub title: &'static str,
    pub skip: &'static str,
    pub last_update: &'static str,
    pub no_update: &'static str,
    pub current: &'static str,
    pub none_current: &'static str,
    pub services: &'static str,
    pub hotlines: &'static str,
    pub emergency: &'static str,
    pub published: &'static str,
    pub updated: &'static str,
    pub earlier: &'static str,
    pub earlier_versions: &'static str,
    pub withdrawn: &'static str,
    pub other_language: &'static str,
    pub generated: &'static str,
    pub stale_warning: &'static str,
    pub feed: &'static str,
    pub guidance: &'static str,
}

const SWEDISH: Labels = Labels {
    title: "Driftstörningar och information",
    skip: "Hoppa till innehållet",
    last_update: "Senast uppdaterad",
    no_update: "Inga meddelanden har publicerats.",
    current: "Aktuellt",
    none_current: "Just nu finns inga kända störningar.",
    services: "Så fungerar verksamheten",
    hotlines: "Ring oss",
    emergency: "Vid fara för liv, ring 112.",
    published: "Publicerad",
    updated: "Uppdaterad",
    earlier: "Tidigare meddelanden",
    earlier_versions: "Tidigare versioner av meddelandet",
    withdrawn: "Avslutat",
    other_language: "In English",
    generated: "Sidan skapades",
    stale_warning: "Informationen kan vara inaktuell. Ring numren ovan för det senaste.",
    feed: "Prenumerera (Atom)",
    guidance: "Råd om något inte fungerar",
};

const ENGLISH: Labels = Labels {
    title: "Service disruptions and information",
    skip: "Skip to content",
    last_update: "Last updated",
    no_update: "No notices have been published.",
    current: "Current",
    none_current: "There are no known disruptions right now.",
    services: "How services are running",
    hotlines: "Call us",
    emergency: "If life is in danger, call 112.",
    published: "Published",
    updated: "Updated",
    earlier: "Earlier notices",
    earlier_versions: "Earlier versions of this notice",
    withdrawn: "Ended",
    other_language: "På svenska",
    generated: "Page generated",
    stale_warning: "This information may be out of date. Call the numbers above for the latest.",
    feed: "Subscribe (Atom)",
    guidance: "Advice if something is not working",
};

/// Everything the status page shows, in one language.
#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub labels: Labels,
    /// The latest change of any notice; `None` before the first one.
    pub updated: Option<Moment>,
    pub current: Vec<NoticeView>,
    /// Every hotline of the current notices, each number once.
    pub hotlines: Vec<HotlineView>,
    pub earlier: Vec<NoticeView>,
    /// Standing advice from the playbooks, by scenario.
    pub guidance: Vec<GuidanceView>,
}

/// One scenario's advice for residents.
#[derive(Debug, Clone, Serialize)]
pub struct GuidanceView {
    pub scenario: String,
    pub paragraphs: Vec<String>,
}

impl StatusView {
    /// The page for `notices` (newest first) and the playbooks' `guidance` as residents
    /// should see it at `now`.
    pub fn new(
        notices: &[PublicNotice],
        guidance: &[PublicGuidance],
        language: Language,
        now: DateTime<Utc>,
    ) -> Self {
        let (current, ended): (Vec<&PublicNotice>, Vec<&PublicNotice>) =
            notices.iter().partition(|notice| notice.is_current(now));
        let current: Vec<NoticeView> = current
            .into_iter()
            .filter_map(|notice| notice_view(notice, language))
            .collect();
        let mut hotlines: Vec<HotlineView> = Vec::new();
        for hotline in current.iter().flat_map(|notice| &notice.hotlines) {
            if !hotlines.iter().any(|known| known.phone == hotline.phone) {
                hotlines.push(hotline.clone());
            }
        }
        let updated = notices
            .iter()
            .filter_map(PublicNotice::latest)
            .map(|revision| revision.recorded_at)
            .max()
            .map(|at| moment(at, language));
        let (lang, other_lang, labels) = match language {
            Language::Sv => ("sv", "en", SWEDISH),
            Language::En => ("en", "sv", ENGLISH),
        };
        Self {
            lang,
            other_lang,
            labels,
            updated,
            current,
            hotlines,
            earlier: ended
                .into_iter()
                .take(EARLIER_NOTICES)
                .filter_map(|notice| notice_view(notice, language))
                .collect(),
            guidance: guidance
                .iter()
                .map(|advice| GuidanceView {
                    scenario: advice.scenario.get(language).to_owned(),
                    paragraphs: paragraphs(&advice.advice, language),
                })
                .collect(),
        }
    }
}

fn notice_view(notice: &PublicNotice, language: Language) -> Option<NoticeView> {
    let latest = notice.latest()?;
    let content = &latest.content;
    Some(NoticeView {
        id: notice.id.0,
        headline: content.headline.get(language).to_owned(),
        paragraphs: paragraphs(&content.body, language),
        services: content
            .services
            .iter()
            .map(|service| ServiceView {
                name: service.name.get(language).to_owned(),
                state: service.state.as_str(),
                state_text: state_text(service.state, language),
            })
            .collect(),
        hotlines: content
            .hotlines
            .iter()
            .map(|hotline| HotlineView {
                name: hotline.name.get(language).to_owned(),
                phone: hotline.phone.as_str().to_owned(),
                phone_text: hotline.phone.for_reading(),
                opening_hours: hotline.opening_hours.get(language).to_owned(),
            })
            .collect(),
        published: moment(notice.published_at()?, language),
        updated: moment(latest.recorded_at, language),
        withdrawn: latest.state == NoticeState::Withdrawn,
        earlier: notice
            .revisions
            .iter()
            .rev()
            .skip(1)
            .map(|revision| revision_view(revision, language))
            .collect(),
    })
}

fn revision_view(revision: &NoticeRevision, language: Language) -> RevisionView {
    RevisionView {
        revision: revision.revision,
        withdrawn: revision.state == NoticeState::Withdrawn,
        headline: revision.content.headline.get(language).to_owned(),
        paragraphs: paragraphs(&revision.content.body, language),
        recorded: moment(revision.recorded_at, language),
    }
}

/// The body split at blank lines, so that the page has real paragraphs.
fn paragraphs(body: &Localized, language: Language) -> Vec<String> {
    body.get(language)
        .split("\n\n")
        .map(str::trim)
        .filter(|paragraph| !paragraph.is_empty())
        .map(str::to_owned)
        .collect()
}

fn state_text(state: ServiceState, language: Language) -> &'static str {
    match (state, language) {
        (ServiceState::Working, Language::Sv) => "Fungerar",
        (ServiceState::Disrupted, Language::Sv) => "Stört",
        (ServiceState::Down, Language::Sv) => "Fungerar inte",
        (ServiceState::Working, Language::En) => "Working",
        (ServiceState::Disrupted, Language::En) => "Disrupted",
        (ServiceState::Down, Language::En) => "Down",
    }
}

/// A Swedish mobile number the way it is written in Sweden (+46701740690 →
/// 070-174 06 90). Other Swedish numbers are shown in national form without grouping,
/// since area codes differ in length; foreign numbers as stored.
/// `at` in Swedish time, in words of `language`.
pub fn moment(at: DateTime<Utc>, language: Language) -> Moment {
    Moment {
        iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        text: swedish_time::in_words(at, language),
    }
}
