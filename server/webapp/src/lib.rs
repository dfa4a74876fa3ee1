//! Serves the mobile PWA that `build.rs` built from `mobile-pwa/` and embedded in the
//! binary, with cache headers that let phones keep hashed assets for good while always
//! asking again for the page and the service worker (so an update reaches them).
//!
//! The files are embedded rather than read from disk so that the one binary is the whole
//! deployment; without a build, `/` answers 503 with the commands that build the app.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// Vite names the files in `assets/` after their content hash: a changed file gets a new
/// name, so the old one may be cached for ever.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The page, the service worker and the manifest must be checked on every load, or a
/// phone would keep an old app.
const REVALIDATE: &str = "no-cache";

const NOT_BUILT: &str = include_str!("not_built.html");

/// The routes of the app: `/` and every built file.
pub fn app_shell() -> Router {
    Router::new()
        .route("/", get(|| async { serve(assets::ASSETS, "/index.html") }))
        .route("/{*path}", get(file))
}

/// Whether the app was built into this binary.
pub fn is_built() -> bool {
    find(assets::ASSETS, "/index.html").is_some()
}

async fn file(Path(path): Path<String>) -> Response {
    serve(assets::ASSETS, &format!("/{path}"))
}

type Assets = &'static [(&'static str, &'static [u8])];

fn find(assets: Assets, path: &str) -> Option<&'static [u8]> {
    assets
        .iter()
        .find(|(url, _)| *url == path)
        .map(|(_, bytes)| *bytes)
}

/// Answers `path` from `assets` (a parameter so that tests can serve an unbuilt app).
fn serve(assets: Assets, path: &str) -> Response {
    match find(assets, path) {
        Some(bytes) => {
            let cache = if path.starts_with("/assets/") {
                IMMUTABLE
            } else {
                REVALIDATE
            };
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(content_type(path)),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
                ],
                bytes,
            )
                .into_response()
        }
        None if path == "/index.html" => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, REVALIDATE)],
            Html(NOT_BUILT),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(path: &str) -> Response {
        match app_shell()
            .oneshot(Request::get(path).body(Body::empty()).unwrap_or_default())
            .await
        {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    fn cache_control(response: &Response) -> &str {
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn the_page_is_revalidated_and_hashed_assets_are_immutable() {
        let page = get("/").await;
        if !is_built() {
            // Built with RESERV_PWA_BUILD=skip: the page says how to build the app.
            assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
            return;
        }
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(cache_control(&page), REVALIDATE);
        assert_eq!(cache_control(&get("/sw.js").await), REVALIDATE);
        let hashed = assets::ASSETS
            .iter()
            .find(|(url, _)| url.starts_with("/assets/"))
            .map(|(url, _)| *url)
            .unwrap_or_default();
        assert_eq!(cache_control(&get(hashed).await), IMMUTABLE);
        assert_eq!(
            get("/no-such-file.js").await.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn without_a_build_the_page_says_how_to_build_the_app() {
        let page = serve(&[], "/index.html");
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(cache_control(&page), REVALIDATE);
        assert!(NOT_BUILT.contains("npm run build"));
        assert_eq!(serve(&[], "/sw.js").status(), StatusCode::NOT_FOUND);
    }
}
