//! The live status page and its feeds on Reserv's own server: `/status` (`?lang=en`),
//! `/status.json` and `/status.atom`. Anyone may read them without signing in, so the
//! server limits them per client address, and they read nothing but public notices.

use crate::render::{Links, render_atom, render_status_page, status_json};
use crate::view::StatusView;
use crate::{FallbackError, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use reserv_domain::people::Language;
use reserv_store::Store;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long browsers and proxies may reuse an answer; short, because during an incident
/// the notice changes often, and the ETag makes rechecking cheap.
const CACHE_CONTROL: &str = "public, max-age=30";

/// How long a rendered answer is reused when no notice has changed.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// The public status routes. Anyone may call them, so the server wraps them in
/// `reserv_api::limit_per_client_address`.
pub fn status_routes(store: Store) -> Router {
    Router::new()
        .route("/status", get(page))
        .route("/status.json", get(json))
        .route("/status.atom", get(atom))
        .with_state(Arc::new(Live {
            store,
            rendered: RwLock::default(),
            rendering: tokio::sync::Mutex::new(()),
        }))
}

#[derive(Deserialize)]
struct LanguageChoice {
    lang: Option<String>,
}

impl LanguageChoice {
    /// English when asked for; Swedish, the primary language, otherwise.
    fn language(&self) -> Language {
        match self.lang.as_deref() {
            Some("en") => Language::En,
            _ => Language::Sv,
        }
    }
}

/// What a public route answers with: the page in a language, its feed, or the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Answer {
    Page(Language),
    Atom(Language),
    Json,
}

impl Answer {
    fn content_type(self) -> &'static str {
        match self {
            Answer::Page(_) => "text/html; charset=utf-8",
            Answer::Atom(_) => "application/atom+xml; charset=utf-8",
            Answer::Json => "application/json",
        }
    }

    fn language(self) -> Language {
        match self {
            Answer::Page(language) | Answer::Atom(language) => language,
            Answer::Json => Language::Sv,
        }
    }
}

/// One rendered answer, reused until a notice changes or it is [`FRESH_FOR`] old.
struct Rendered {
    body: Bytes,
    /// `None` only if the hash could not be a header value, which hex in quotes always is.
    etag: Option<HeaderValue>,
    rendered_at: Instant,
    /// Marked as changed by the store after the next committed notice change.
    notice_changes: watch::Receiver<()>,
}

impl Rendered {
    fn is_fresh(&self) -> bool {
        self.rendered_at.elapsed() < FRESH_FOR && !self.notice_changes.has_changed().unwrap_or(true)
    }
}

/// The public routes' state: the store, and the answers rendered lately. On a crisis
/// day thousands of residents reload the page, and each render reads the notices and
/// the playbooks' advice; a rendered answer is reused until a notice changes (at once)
/// or it is a second old (for notices whose validity starts or ends with time).
struct Live {
    store: Store,
    rendered: RwLock<HashMap<Answer, Arc<Rendered>>>,
    rendering: tokio::sync::Mutex<()>,
}

impl Live {
    async fn answer(&self, answer: Answer) -> Result<Arc<Rendered>> {
        if let Some(rendered) = self.fresh(answer) {
            return Ok(rendered);
        }
        // One render at a time: when an answer expires under load, the requests that
        // find it stale wait for one render instead of all rendering it at once.
        let _rendering = self.rendering.lock().await;
        if let Some(rendered) = self.fresh(answer) {
            return Ok(rendered);
        }
        // Subscribed before reading, so that a change during the render marks this
        // answer as stale rather than being missed.
        let notice_changes = self.store.subscribe_notice_changes();
        let body = self.render(answer).await?;
        let rendered = Arc::new(Rendered {
            etag: HeaderValue::from_str(&etag(body.as_bytes())).ok(),
            body: Bytes::from(body),
            rendered_at: Instant::now(),
            notice_changes,
        });
        self.rendered
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(answer, rendered.clone());
        Ok(rendered)
    }

    fn fresh(&self, answer: Answer) -> Option<Arc<Rendered>> {
        self.rendered
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&answer)
            .filter(|rendered| rendered.is_fresh())
            .cloned()
    }

    async fn render(&self, answer: Answer) -> Result<String> {
        let notices = self.store.public_notices().await?;
        let guidance = self.store.public_guidance().await?;
        let now = self.store.now();
        match answer {
            Answer::Json => status_json(&notices, &guidance, now, None),
            Answer::Page(language) => render_status_page(
                &StatusView::new(&notices, &guidance, language, now),
                &Links::live(language),
                None,
            ),
            Answer::Atom(language) => render_atom(
                &StatusView::new(&notices, &guidance, language, now),
                &Links::live(language),
            ),
        }
    }
}

async fn page(
    State(live): State<Arc<Live>>,
    Query(choice): Query<LanguageChoice>,
    headers: HeaderMap,
) -> Response {
    respond(&live, Answer::Page(choice.language()), &headers).await
}

async fn json(State(live): State<Arc<Live>>, headers: HeaderMap) -> Response {
    respond(&live, Answer::Json, &headers).await
}

async fn atom(
    State(live): State<Arc<Live>>,
    Query(choice): Query<LanguageChoice>,
    headers: HeaderMap,
) -> Response {
    respond(&live, Answer::Atom(choice.language()), &headers).await
}

/// The answer with its ETag (a hash of the body) and a short cache lifetime; a 304 with
/// no body when the client already holds this version.
async fn respond(live: &Live, answer: Answer, request: &HeaderMap) -> Response {
    let rendered = match live.answer(answer).await {
        Ok(rendered) => rendered,
        Err(error) => return failure(error),
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(answer.language().as_str()),
    );
    if let Some(etag) = &rendered.etag {
        headers.insert(header::ETAG, etag.clone());
        if matches_etag(request, etag) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(answer.content_type()),
    );
    (headers, rendered.body.clone()).into_response()
}

fn failure(error: FallbackError) -> Response {
    tracing::error!(%error, "the status page could not be made");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Statussidan kunde inte visas just nu. / The status page cannot be shown right now.",
    )
        .into_response()
}

/// A strong ETag: the first 16 bytes of the body's SHA-256, in hex and quotes.
pub(crate) fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` names `etag` (or `*`); weak validators compare equal too, as
/// RFC 9110 asks for this header.
fn matches_etag(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim().trim_start_matches("W/"))
        .any(|candidate| candidate == etag || candidate == "*")
}
