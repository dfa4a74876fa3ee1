//! `GET /print/units/{id}` (`?lang=en`): the unit's binder for the signed-in reader.
//!
//! Signing in is not this crate's business: whoever mounts the routes puts the signed-in
//! [`Principal`] into the request's extensions (the binary does it with the API's
//! session lookup, so the session cookie and bearer tokens work as for GraphQL). A
//! request without one is answered 401.

use crate::{PrintError, binder_html};
use axum::Extension;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use reserv_domain::DomainError;
use reserv_domain::access::Principal;
use reserv_domain::ids::UnitId;
use reserv_domain::people::Language;
use reserv_store::{Store, StoreError};
use serde::Deserialize;

/// Binders hold contact details and classified plans: never cached, never framed, and
/// the page itself needs nothing but its inline styles.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

/// The print routes. Each request needs a `Principal` extension for a signed-in reader.
pub fn print_routes(store: Store) -> Router {
    Router::new()
        .route("/print/units/{id}", get(unit_binder))
        .with_state(store)
}

#[derive(Deserialize)]
struct Options {
    lang: Option<String>,
}

async fn unit_binder(
    State(store): State<Store>,
    Path(id): Path<String>,
    Query(options): Query<Options>,
    principal: Option<Extension<Principal>>,
) -> Response {
    let Some(Extension(who)) = principal else {
        return answer(
            StatusCode::UNAUTHORIZED,
            "Logga in för att skriva ut en reservpärm. / Sign in to print a binder.".into(),
        );
    };
    let Ok(unit) = id.parse::<i64>().map(UnitId) else {
        return answer(
            StatusCode::BAD_REQUEST,
            format!("id: '{id}' är inget enhets-id / is not a unit id"),
        );
    };
    let language = match options.lang.as_deref() {
        Some("en") => Language::En,
        _ => Language::Sv,
    };
    match binder_html(&store, &who, unit, language, store.now()).await {
        Ok(html) => {
            let mut response = axum::response::Html(html).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            response
        }
        Err(error) => refusal(error),
    }
}

/// The status and message for a binder that cannot be printed; internal errors reach
/// the log in full and the reader as a generic message.
fn refusal(error: PrintError) -> Response {
    let domain = match &error {
        PrintError::Store(StoreError::Domain(domain)) => domain,
        PrintError::NothingApproved(message) => {
            return answer(StatusCode::CONFLICT, message.clone());
        }
        PrintError::Store(_) | PrintError::Template(_) => {
            tracing::error!(%error, "a binder could not be printed");
            return answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Något gick fel; pärmen kunde inte skrivas ut. / Something went wrong; the binder could not be printed.".into(),
            );
        }
    };
    let status = match domain {
        DomainError::Validation { .. } => StatusCode::BAD_REQUEST,
        DomainError::NotFound { .. } => StatusCode::NOT_FOUND,
        DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
        DomainError::Conflict(_) => StatusCode::CONFLICT,
        DomainError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        DomainError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
    };
    answer(status, domain.to_string())
}

fn answer(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        message,
    )
        .into_response()
}
