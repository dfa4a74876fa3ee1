//! What a resolver needs from the request: the store, the signed-in principal, and
//! helpers for ids and pages.

use crate::error::{ApiResult, invalid_input};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, OutputType};
use chrono::{DateTime, Utc};
use reserv_domain::DomainError;
use reserv_domain::access::Principal;
use reserv_domain::oidc::ProviderAssurance;
use reserv_domain::second_factor::{Factors, enrol_first_message};
use reserv_store::{LiveSession, Page, PageRequest, Store};

/// Per-request facts the HTTP layer puts into the GraphQL context.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestFacts {
    /// The signed-in person, when their session may do what their roles allow.
    pub principal: Option<Principal>,
    /// The signed-in person whose role requires a second factor they have not proved:
    /// they may only see themselves and enrol one.
    pub enrolling: Option<Principal>,
    /// The session token the request came with, so that `logout` can end it.
    pub token: Option<String>,
    pub client_address: Option<String>,
    /// What the session's owner proved to open it.
    pub factors: Factors,
    /// The session was opened with an emergency code.
    pub break_glass: bool,
    /// What the identity provider reported, for a session it opened.
    pub assurance: Option<ProviderAssurance>,
    /// When the request's session ends at the latest.
    pub expires_at: Option<DateTime<Utc>>,
    /// The data version read when the session was found live; see
    /// [`LiveSession::data_version`].
    pub data_version: Option<i64>,
}

impl RequestFacts {
    /// Takes in the live session of the request's token.
    pub fn with_session(mut self, session: Option<LiveSession>) -> Self {
        self.principal = None;
        self.enrolling = None;
        self.factors = Factors::default();
        self.break_glass = false;
        self.assurance = None;
        self.expires_at = None;
        self.data_version = None;
        if let Some(session) = session {
            self.expires_at = Some(session.expires_at);
            self.data_version = Some(session.data_version);
            self.factors = session.factors;
            self.break_glass = session.break_glass;
            self.assurance = session.assurance;
            if session.must_enrol_second_factor {
                self.enrolling = Some(session.principal);
            } else {
                self.principal = Some(session.principal);
            }
        }
        self
    }
}

/// The store; `build_schema` always puts one in, so an error here is a wiring mistake.
pub(crate) fn store<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

pub(crate) fn facts<'a>(ctx: &Context<'a>) -> Option<&'a RequestFacts> {
    ctx.data_opt::<RequestFacts>()
}

/// The signed-in principal, or UNAUTHENTICATED; FORBIDDEN for a session that must
/// enrol a second factor first.
pub(crate) fn principal<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Principal> {
    let facts = facts(ctx);
    if facts.is_some_and(|facts| facts.enrolling.is_some()) {
        return Err(enrol_first_message()).api();
    }
    facts
        .and_then(|facts| facts.principal.as_ref())
        .ok_or_else(not_signed_in)
        .api()
}

/// The signed-in principal, also of a session that may only enrol a second factor;
/// for the few fields such a session may use (`me`, enrolment, `logout`).
pub(crate) fn signed_in_principal<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Principal> {
    facts(ctx)
        .and_then(|facts| facts.principal.as_ref().or(facts.enrolling.as_ref()))
        .ok_or_else(not_signed_in)
        .api()
}

pub(crate) fn not_signed_in() -> DomainError {
    DomainError::Unauthenticated("Sign in first: this needs a valid session".into())
}

/// Parses a GraphQL id for `field`.
pub(crate) fn parse_id(field: &str, id: &ID) -> async_graphql::Result<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|value| *value > 0)
        .ok_or_else(|| invalid_input(field, format!("'{}' is not a valid id", id.as_str())))
}

/// Builds a page request from connection arguments.
pub(crate) fn page_request(
    after: Option<String>,
    first: Option<i32>,
) -> async_graphql::Result<PageRequest> {
    let after = match after {
        Some(cursor) => Some(cursor.parse::<i64>().map_err(|_| {
            invalid_input(
                "after",
                format!("'{cursor}' is not a cursor from this list"),
            )
        })?),
        None => None,
    };
    PageRequest::new(after, first.map(i64::from)).api()
}

/// Turns a store page into a Relay connection whose cursors are row ids.
pub(crate) fn connection<T, U: OutputType>(
    page: Page<T>,
    wrap: impl Fn(T) -> U,
) -> Connection<String, U> {
    let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, item)| Edge::new(cursor.to_string(), wrap(item))),
    );
    connection
}
