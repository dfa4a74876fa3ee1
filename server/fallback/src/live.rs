//! The live status page and its feeds on Reserv's own server: `/status` (`?lang=en`),
//! `/status.json` and `/status.atom`. Anyone may read them without signing in, so they
//! are rate limited per client address, and they read nothing but public notices.

use crate::render::{Links, render_atom, render_status_page, status_json};
use crate::view::StatusView;
use crate::{FallbackError, Result};
use axum::Router;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use reserv_domain::notices::{PublicGuidance, PublicNotice};
use reserv_domain::people::Language;
use reserv_store::Store;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How long browsers and proxies may reuse an answer; short, because during an incident
/// the notice changes often, and the ETag makes rechecking cheap.
const CACHE_CONTROL: &str = "public, max-age=30";

/// How often (in requests) the limiter forgets clients that have gone quiet, so that its
/// memory stays bounded however many addresses call.
const FORGET_EVERY: u64 = 4_096;

/// Settings of the public endpoints.
#[derive(Debug, Clone, Copy)]
pub struct LiveSettings {
    /// Requests a client address may make per minute, in a burst or spread out.
    pub requests_per_minute: NonZeroU32,
}

struct Limiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
    retry_after_seconds: u32,
}

/// The public status routes, rate limited per client address. The server must be served
/// with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn status_routes(store: Store, settings: LiveSettings) -> Router {
    let limiter = Arc::new(Limiter {
        limiter: RateLimiter::keyed(Quota::per_minute(settings.requests_per_minute)),
        checks: AtomicU64::new(0),
        retry_after_seconds: 60u32.div_ceil(settings.requests_per_minute.get()),
    });
    Router::new()
        .route("/status", get(page))
        .route("/status.json", get(json))
        .route("/status.atom", get(atom))
        .with_state(store)
        .layer(middleware::from_fn_with_state(limiter, rate_limit))
}

async fn rate_limit(State(limiter): State<Arc<Limiter>>, request: Request, next: Next) -> Response {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return next.run(request).await;
    };
    if limiter.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
        limiter.limiter.retain_recent();
    }
    if limiter.limiter.check_key(&peer.ip()).is_ok() {
        return next.run(request).await;
    }
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, limiter.retry_after_seconds.to_string())],
        "För många förfrågningar; försök igen om en stund. / Too many requests; try again shortly.",
    )
        .into_response()
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

async fn page(
    State(store): State<Store>,
    Query(choice): Query<LanguageChoice>,
    headers: HeaderMap,
) -> Response {
    let language = choice.language();
    let answer = view(&store, language)
        .await
        .and_then(|view| render_status_page(&view, &Links::live(language), None));
    cached(&headers, "text/html; charset=utf-8", language, answer)
}

async fn json(State(store): State<Store>, headers: HeaderMap) -> Response {
    let answer = match public_content(&store).await {
        Ok((notices, guidance)) => status_json(&notices, &guidance, store.now(), None),
        Err(error) => Err(error),
    };
    cached(&headers, "application/json", Language::Sv, answer)
}

async fn atom(
    State(store): State<Store>,
    Query(choice): Query<LanguageChoice>,
    headers: HeaderMap,
) -> Response {
    let language = choice.language();
    let answer = view(&store, language)
        .await
        .and_then(|view| render_atom(&view, &Links::live(language)));
    cached(
        &headers,
        "application/atom+xml; charset=utf-8",
        language,
        answer,
    )
}

async fn view(store: &Store, language: Language) -> Result<StatusView> {
    let (notices, guidance) = public_content(store).await?;
    Ok(StatusView::new(&notices, &guidance, language, store.now()))
}

async fn public_content(store: &Store) -> Result<(Vec<PublicNotice>, Vec<PublicGuidance>)> {
    Ok((
        store.public_notices().await?,
        store.public_guidance().await?,
    ))
}

/// The answer with an ETag (a hash of the body) and a short cache lifetime; a 304 with
/// no body when the client already holds this version.
fn cached(
    request: &HeaderMap,
    content_type: &'static str,
    language: Language,
    body: Result<String>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(error) => return failure(error),
    };
    let etag = etag(body.as_bytes());
    let headers = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        ),
        (
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(language.as_str()),
        ),
    ];
    let etag_header = match HeaderValue::from_str(&etag) {
        Ok(value) => value,
        Err(_) => return (headers, body).into_response(),
    };
    if matches_etag(request, &etag) {
        return (
            StatusCode::NOT_MODIFIED,
            headers,
            [(header::ETAG, etag_header)],
        )
            .into_response();
    }
    (
        headers,
        [
            (header::ETAG, etag_header),
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        ],
        body,
    )
        .into_response()
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
fn matches_etag(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim().trim_start_matches("W/"))
        .any(|candidate| candidate == etag || candidate == "*")
}
