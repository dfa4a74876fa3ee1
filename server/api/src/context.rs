//! What a resolver needs from the request: the store, the signed-in principal, and
//! helpers for ids and pages.

use crate::error::{ApiResult, invalid_input};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, OutputType};
use reserv_domain::DomainError;
use reserv_domain::access::Principal;
use reserv_store::{Page, PageRequest, Store};

/// Per-request facts the HTTP layer puts into the GraphQL context.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestFacts {
    pub principal: Option<Principal>,
    /// The session token the request came with, so that `logout` can end it.
    pub token: Option<String>,
    pub client_address: Option<String>,
}

/// The store; `build_schema` always puts one in, so an error here is a wiring mistake.
pub(crate) fn store<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

pub(crate) fn facts<'a>(ctx: &Context<'a>) -> Option<&'a RequestFacts> {
    ctx.data_opt::<RequestFacts>()
}

/// The signed-in principal, or UNAUTHENTICATED.
pub(crate) fn principal<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Principal> {
    facts(ctx)
        .and_then(|facts| facts.principal.as_ref())
        .ok_or_else(|| {
            DomainError::Unauthenticated("Sign in first: this needs a valid session".into())
        })
        .api()
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
