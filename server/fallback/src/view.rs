//! What the status page shows, worked out from the public notices: the current notices,
//! the hotlines to call, earlier notices with their revisions, and the texts of the page
//! itself in Swedish or English. The templates only lay this out.
//!
//! Built from [`PublicNotice`]s only, which hold nothing above confidentiality 0; this
//! module must never take anything else from the store.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use reserv_domain::notices::{Localized, NoticeRevision, NoticeState, PublicNotice, ServiceState};
use reserv_domain::people::Language;
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
}

impl StatusView {
    /// The page for `notices` (newest first) as residents should see it at `now`.
    pub fn new(notices: &[PublicNotice], language: Language, now: DateTime<Utc>) -> Self {
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
                phone_text: phone_text(hotline.phone.as_str()),
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
fn phone_text(e164: &str) -> String {
    let Some(national) = e164.strip_prefix("+46").map(|rest| format!("0{rest}")) else {
        return e164.to_owned();
    };
    if !(national.starts_with("07") && national.len() == 10) {
        return national;
    }
    format!(
        "{}-{} {} {}",
        &national[..3],
        &national[3..6],
        &national[6..8],
        &national[8..]
    )
}

/// `at` in Swedish time, in words of `language`.
pub fn moment(at: DateTime<Utc>, language: Language) -> Moment {
    let local = at + stockholm_offset(at);
    let month = local.month0() as usize;
    let text = match language {
        Language::Sv => {
            const MONTHS: [&str; 12] = [
                "januari",
                "februari",
                "mars",
                "april",
                "maj",
                "juni",
                "juli",
                "augusti",
                "september",
                "oktober",
                "november",
                "december",
            ];
            format!(
                "{} {} {} kl. {}",
                local.day(),
                MONTHS[month],
                local.year(),
                local.format("%H.%M")
            )
        }
        Language::En => format!("{}, {}", local.format("%-d %B %Y"), local.format("%H:%M")),
    };
    Moment {
        iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        text,
    }
}

/// Sweden's offset from UTC: one hour, two in summer time, which in the EU runs from
/// 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October. Worked
/// out here because this is the only time zone the page shows, not worth a time-zone
/// database.
fn stockholm_offset(at: DateTime<Utc>) -> Duration {
    let year = at.year();
    let summer_starts = last_sunday_at_one(year, 3);
    let summer_ends = last_sunday_at_one(year, 10);
    match (summer_starts, summer_ends) {
        (Some(start), Some(end)) if at >= start && at < end => Duration::hours(2),
        _ => Duration::hours(1),
    }
}

fn last_sunday_at_one(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let last_day = NaiveDate::from_ymd_opt(year, month + 1, 1)?.pred_opt()?;
    let back = last_day.weekday().num_days_from_sunday();
    let sunday = last_day - Duration::days(i64::from(back));
    Some(Utc.from_utc_datetime(&sunday.and_hms_opt(1, 0, 0)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_swedish_time_across_summer_time() {
        let winter = Utc.with_ymd_and_hms(2026, 2, 10, 7, 40, 0).single();
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 7, 40, 0).single();
        let texts = [winter, summer].map(|at| at.map(|at| moment(at, Language::Sv).text));
        assert_eq!(
            texts,
            [
                Some("10 februari 2026 kl. 08.40".to_owned()),
                Some("1 juli 2026 kl. 09.40".to_owned())
            ]
        );
        let english = winter.map(|at| moment(at, Language::En).text);
        assert_eq!(english.as_deref(), Some("10 February 2026, 08:40"));
        // Summer time in 2026 starts on 29 March at 01:00 UTC.
        let before = Utc.with_ymd_and_hms(2026, 3, 29, 0, 59, 0).single();
        let after = Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).single();
        assert_eq!(before.map(stockholm_offset), Some(Duration::hours(1)));
        assert_eq!(after.map(stockholm_offset), Some(Duration::hours(2)));
    }

    #[test]
    fn swedish_numbers_are_grouped_as_people_write_them() {
        assert_eq!(phone_text("+46701740690"), "070-174 06 90");
        assert_eq!(phone_text("+4692365000"), "092365000");
        assert_eq!(phone_text("+4712345678"), "+4712345678");
    }
}
