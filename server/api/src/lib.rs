//! Reserv's API: the GraphQL schema with thin resolvers over the store, and the HTTP
//! routes around it (GraphiQL, WebSocket subscriptions, health).
//!
//! Resolvers hold no rules: they parse input, call one store use case and shape the
//! answer. Errors are mapped to `extensions.code` in one place, [`error`].
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod break_glass;
mod checklists;
mod client_settings;
mod context;
mod directory;
mod error;
mod http;
mod incidents;
mod loaders;
mod message_drafts;
mod messages;
mod notices;
mod oidc;
mod paper_backlog;
mod passkeys;
mod plans;
mod playbook_suggestions;
mod playbooks;
mod protection;
mod push;
mod rate_limit;
mod read_cache;
mod schema;
mod second_factor;
mod types;

pub use http::{ApiSettings, router, sign_in_from_request};
pub use oidc::OidcSettings;
pub use protection::Introspection;
pub use rate_limit::limit_per_client_address;
pub use read_cache::ReadCacheSettings;
pub use schema::{ReservSchema, SchemaLimits, build_schema, schema_sdl};
