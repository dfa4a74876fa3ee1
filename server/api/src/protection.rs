//! Browser-facing protection: security headers on every response, the rule for when a
//! session cookie may authenticate a request (CSRF), and who may introspect the schema.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use serde::{Deserialize, Serialize};
use tower_http::set_header::SetResponseHeaderLayer;

/// Who may read the GraphQL schema through introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Introspection {
    /// Anyone, signed in or not.
    On,
    /// Signed-in people only (GraphiQL works after `login`).
    #[default]
    SignedIn,
    /// Nobody: for production deployments whose clients ship their own schema.
    Off,
}

impl Introspection {
    pub(crate) fn allows(self, signed_in: bool) -> bool {
        match self {
            Self::On => true,
            Self::SignedIn => signed_in,
            Self::Off => false,
        }
    }
}

/// Same-origin resources only, no framing, no plug-ins. Inline styles are allowed for
/// server-rendered pages; scripts must come from this server.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

/// GraphiQL loads its scripts and styles from a CDN; its page alone may.
pub(crate) const GRAPHIQL_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'unsafe-inline' https://unpkg.com; \
     style-src 'self' 'unsafe-inline' https://unpkg.com; img-src 'self' data: https:; \
     font-src 'self' https://unpkg.com; object-src 'none'; base-uri 'self'; \
     frame-ancestors 'none'";

/// The headers every response carries unless its route set its own. HSTS only when
/// Reserv is reached over HTTPS (`secure_cookies`), since it pins browsers to HTTPS.
pub(crate) fn security_headers(https: bool) -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    let mut headers = vec![
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    if https {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ));
    }
    headers
        .into_iter()
        .map(|(name, value)| {
            SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
        })
        .collect()
}

/// Whether a session cookie may stand for the person on this request. A browser sends
/// cookies on requests other sites start, so a cookie counts only when the request
/// cannot have come from another site: its `Origin`, when sent, is this server, and a
/// POST carries JSON, which a cross-site form cannot send without the browser asking
/// this server first (and Reserv does not answer such preflights). Bearer tokens are
/// not sent automatically and need no such check.
pub(crate) fn cookie_may_authenticate(method: &Method, headers: &HeaderMap) -> bool {
    same_origin(headers) && (method != Method::POST || sends_json(headers))
}

fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    matches!((origin_host, host), (Some(origin), Some(host)) if origin.eq_ignore_ascii_case(host))
}

fn sends_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn a_cookie_counts_only_on_same_origin_json_posts() {
        let same = headers(&[
            ("host", "reserv.norrbyn.se"),
            ("origin", "https://reserv.norrbyn.se"),
            ("content-type", "application/json; charset=utf-8"),
        ]);
        assert!(cookie_may_authenticate(&Method::POST, &same));
        let no_origin = headers(&[
            ("host", "reserv.norrbyn.se"),
            ("content-type", "application/json"),
        ]);
        assert!(cookie_may_authenticate(&Method::POST, &no_origin));
        let other_site = headers(&[
            ("host", "reserv.norrbyn.se"),
            ("origin", "https://angripare.example"),
            ("content-type", "application/json"),
        ]);
        assert!(!cookie_may_authenticate(&Method::POST, &other_site));
        let form = headers(&[
            ("host", "reserv.norrbyn.se"),
            ("content-type", "text/plain"),
        ]);
        assert!(!cookie_may_authenticate(&Method::POST, &form));
        let websocket = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(cookie_may_authenticate(&Method::GET, &websocket));
    }

    #[test]
    fn introspection_follows_the_setting() {
        assert!(Introspection::On.allows(false));
        assert!(!Introspection::SignedIn.allows(false));
        assert!(Introspection::SignedIn.allows(true));
        assert!(!Introspection::Off.allows(true));
    }
}
