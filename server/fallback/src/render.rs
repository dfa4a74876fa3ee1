//! Rendering the status page, its Atom feed and `status.json` from the public notices.
//! The same functions serve the live server and the static fallback site, so that both
//! say the same thing; only the links and the "page generated" line differ.

use crate::Result;
use crate::view::{Moment, RevisionView, StatusView, moment};
use chrono::{DateTime, Utc};
use minijinja::Environment;
use minijinja::value::{Serde, Value};
use reserv_domain::notices::{AffectedService, Hotline, Localized, PublicGuidance, PublicNotice};
use reserv_domain::people::Language;
use serde::Serialize;
use std::sync::LazyLock;

/// How many revisions the feed carries, newest first.
const FEED_ENTRIES: usize = 50;

/// The feed's identity; stable so that feed readers recognise it across restarts.
const FEED_ID: &str = "urn:reserv:status";

static TEMPLATES: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.add_template("status.html", include_str!("../templates/status.html"))?;
    env.add_template(
        "status.atom.xml",
        include_str!("../templates/status.atom.xml"),
    )?;
    Ok(env)
});

fn render(name: &str, context: Value) -> Result<String> {
    let env = TEMPLATES
        .as_ref()
        .map_err(|error| minijinja::Error::new(error.kind(), error.to_string()))?;
    Ok(env.get_template(name)?.render(context)?)
}

/// Where the page's links point: the live server's routes or the static site's files.
#[derive(Debug, Clone, Serialize)]
pub struct Links {
    pub page: String,
    pub other_language: String,
    pub feed: String,
    pub json: String,
}

impl Links {
    /// The live server's routes.
    pub fn live(language: Language) -> Self {
        let (page, other_language, feed) = match language {
            Language::Sv => ("/status", "/status?lang=en", "/status.atom"),
            Language::En => ("/status?lang=en", "/status", "/status.atom?lang=en"),
        };
        Self {
            page: page.into(),
            other_language: other_language.into(),
            feed: feed.into(),
            json: "/status.json".into(),
        }
    }

    /// The static site's files, relative so that the site works from any folder, any
    /// host and `file://`.
    pub fn static_site(language: Language) -> Self {
        let (page, other_language, feed) = match language {
            Language::Sv => ("index.html", "en.html", "status.atom"),
            Language::En => ("en.html", "index.html", "status.en.atom"),
        };
        Self {
            page: page.into(),
            other_language: other_language.into(),
            feed: feed.into(),
            json: "status.json".into(),
        }
    }
}

/// When a static page was generated, and after how long readers should be warned that
/// it may be out of date.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    pub iso: String,
    pub text: String,
    pub stale_after_minutes: u32,
}

impl Generated {
    pub fn new(at: DateTime<Utc>, language: Language, stale_after_minutes: u32) -> Self {
        let Moment { iso, text } = moment(at, language);
        Self {
            iso,
            text,
            stale_after_minutes,
        }
    }
}

/// The status page as HTML.
pub fn render_status_page(
    view: &StatusView,
    links: &Links,
    generated: Option<&Generated>,
) -> Result<String> {
    render(
        "status.html",
        minijinja::context! {
            view => Value::from(Serde(view)),
            links => Value::from(Serde(links)),
            generated => Value::from(Serde(generated)),
        },
    )
}

#[derive(Serialize)]
struct FeedEntry {
    notice: i64,
    #[serde(flatten)]
    revision: RevisionView,
}

/// The Atom feed of every revision the page shows, newest first.
pub fn render_atom(view: &StatusView, links: &Links) -> Result<String> {
    let mut entries: Vec<FeedEntry> = Vec::new();
    for notice in view.current.iter().chain(&view.earlier) {
        entries.push(FeedEntry {
            notice: notice.id,
            revision: RevisionView {
                revision: notice
                    .earlier
                    .first()
                    .map_or(1, |earlier| earlier.revision + 1),
                withdrawn: notice.withdrawn,
                headline: notice.headline.clone(),
                paragraphs: notice.paragraphs.clone(),
                recorded: notice.updated.clone(),
            },
        });
        entries.extend(notice.earlier.iter().map(|revision| FeedEntry {
            notice: notice.id,
            revision: revision.clone(),
        }));
    }
    entries.sort_by(|a, b| b.revision.recorded.iso.cmp(&a.revision.recorded.iso));
    entries.truncate(FEED_ENTRIES);
    render(
        "status.atom.xml",
        minijinja::context! {
            view => Value::from(Serde(view)),
            links => Value::from(Serde(links)),
            entries => Value::from(Serde(&entries)),
            feed_id => FEED_ID,
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonNotice<'a> {
    id: i64,
    headline: &'a Localized,
    body: &'a Localized,
    services: &'a [AffectedService],
    hotlines: &'a [Hotline],
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
    published_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusJson<'a> {
    /// The latest change of any notice.
    updated_at: Option<DateTime<Utc>>,
    /// When a static copy was made; absent from the live server.
    #[serde(skip_serializing_if = "Option::is_none")]
    generated_at: Option<DateTime<Utc>>,
    /// The notices current at the time, newest first.
    notices: Vec<JsonNotice<'a>>,
    /// Standing advice from the playbooks, by scenario.
    guidance: &'a [PublicGuidance],
}

/// The current notices as a small JSON document, for apps and other sites.
pub fn status_json(
    notices: &[PublicNotice],
    guidance: &[PublicGuidance],
    now: DateTime<Utc>,
    generated_at: Option<DateTime<Utc>>,
) -> Result<String> {
    let document = StatusJson {
        updated_at: notices
            .iter()
            .filter_map(PublicNotice::latest)
            .map(|revision| revision.recorded_at)
            .max(),
        generated_at,
        notices: notices
            .iter()
            .filter(|notice| notice.is_current(now))
            .filter_map(|notice| {
                let latest = notice.latest()?;
                Some(JsonNotice {
                    id: notice.id.0,
                    headline: &latest.content.headline,
                    body: &latest.content.body,
                    services: &latest.content.services,
                    hotlines: &latest.content.hotlines,
                    valid_from: latest.content.valid_from,
                    valid_to: latest.content.valid_to,
                    published_at: notice.published_at(),
                    updated_at: latest.recorded_at,
                })
            })
            .collect(),
        guidance,
    };
    Ok(serde_json::to_string_pretty(&document)?)
}
