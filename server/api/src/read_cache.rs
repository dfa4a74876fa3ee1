//! The read cache: the serialised answer to a read-only GraphQL request, kept for a
//! few seconds so that fifty people refreshing the same incident page cost one run of
//! the executor, not fifty.
//!
//! What it must never do:
//! - serve one session's answer to another: the key holds the session (a digest of
//!   its token) and its account, so another account, or another session of the same
//!   account (whose `sessions { current }` differs), never shares an entry;
//! - serve an answer older than the newest committed change: the key holds the data
//!   version ([`Store::data_version`]), the position of the newest change event in
//!   the audit chain, read from the database on every request, so a change by any
//!   server sharing the database makes every older entry unreachable;
//! - skip authentication or auditing: it is asked only after the session was found
//!   live, and a hit records the reads the first run recorded again, for this request,
//!   through the same audit writer, before the answer leaves;
//! - keep mutations, subscriptions, errors or partial answers.
//!
//! Answers that change with time alone (overdue reviews, expiries) are why entries
//! live only `ttl`; answers that change without a change event (the audit trail
//! itself, which grows with every read) are never kept.

use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::body::Bytes;
use moka::sync::Cache;
use reserv_domain::access::Principal;
use reserv_store::{RequestReads, Store};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// How the read cache behaves; configuration decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadCacheSettings {
    pub enabled: bool,
    /// How long an answer may be served again at most, also when nothing changed.
    pub ttl: Duration,
    /// The most memory the kept answers may take, in bytes (bodies, keys and the
    /// reads to record again).
    pub max_bytes: u64,
}

impl Default for ReadCacheSettings {
    /// Off unless a deployment turns it on: the outbox worker and the escalation pass
    /// write delivery states and escalation steps without a change event, so a kept
    /// roll-call or message list could lag them by up to the TTL.
    fn default() -> Self {
        Self {
            enabled: false,
            ttl: Duration::from_secs(3),
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Root fields whose answer changes without a change event: the audit trail grows
/// with every read. A request naming one anywhere in its document is never kept (the
/// name must appear literally to select the field, so the check errs only towards
/// not caching).
const UNCACHEABLE_FIELDS: &[&str] = &["auditEvents"];

/// Bookkeeping per entry beyond its bytes, so that many tiny entries are bounded too.
const ENTRY_OVERHEAD_BYTES: usize = 256;

/// Whose answer to which request at which data version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ReadKey {
    session: [u8; 32],
    account_id: Option<i64>,
    query: String,
    operation_name: Option<String>,
    variables: String,
    data_version: i64,
}

impl ReadKey {
    fn size_in_bytes(&self) -> usize {
        self.query.len()
            + self.variables.len()
            + self.operation_name.as_ref().map_or(0, String::len)
    }

    /// Whether the operation the key names is a query (not a mutation or
    /// subscription). Parsed only when an answer is about to be kept.
    fn names_a_query(&self) -> bool {
        let Ok(document) = async_graphql::parser::parse_query(&self.query) else {
            return false;
        };
        let operation = match (&document.operations, &self.operation_name) {
            (DocumentOperations::Single(operation), None) => Some(operation),
            (DocumentOperations::Single(_), Some(_)) => None,
            (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name.as_str()),
            // A lone named operation runs without being named.
            (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
                operations.values().next()
            }
            (DocumentOperations::Multiple(_), None) => None,
        };
        operation.is_some_and(|operation| operation.node.ty == OperationType::Query)
    }
}

/// A kept answer: the serialised response and what producing it read.
#[derive(Debug)]
pub(crate) struct KeptAnswer {
    pub body: Bytes,
    pub reads: RequestReads,
}

/// The cache itself; cheap to clone (one shared store of entries).
#[derive(Clone)]
pub(crate) struct ReadCache {
    entries: Cache<ReadKey, Arc<KeptAnswer>>,
}

impl ReadCache {
    /// A cache as `settings` say, or `None` when it is switched off.
    pub fn new(settings: &ReadCacheSettings) -> Option<Self> {
        if !settings.enabled || settings.max_bytes == 0 || settings.ttl.is_zero() {
            return None;
        }
        let entries = Cache::builder()
            .max_capacity(settings.max_bytes)
            .weigher(|key: &ReadKey, answer: &Arc<KeptAnswer>| {
                let bytes = key.size_in_bytes()
                    + answer.body.len()
                    + answer.reads.size_in_bytes()
                    + ENTRY_OVERHEAD_BYTES;
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .time_to_live(settings.ttl)
            .build();
        Some(Self { entries })
    }

    /// The key of `request` by the session of `token`, at the database's current data
    /// version; `None` when the request may not be kept, or the version could not be
    /// read (the request then simply runs).
    pub async fn key(
        &self,
        store: &Store,
        token: &str,
        principal: &Principal,
        request: &async_graphql::Request,
    ) -> Option<ReadKey> {
        if UNCACHEABLE_FIELDS
            .iter()
            .any(|field| request.query.contains(field))
        {
            return None;
        }
        let variables = serde_json::to_string(&request.variables).ok()?;
        let data_version = match store.data_version().await {
            Ok(version) => version,
            Err(error) => {
                tracing::warn!(%error, "could not read the data version; answering without the read cache");
                return None;
            }
        };
        Some(ReadKey {
            session: Sha256::digest(token.as_bytes()).into(),
            account_id: principal.account_id.map(|id| id.0),
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables,
            data_version,
        })
    }

    pub fn get(&self, key: &ReadKey) -> Option<Arc<KeptAnswer>> {
        self.entries.get(key)
    }

    /// Serialises `response` and keeps it under `key` when it is a complete answer to
    /// a query; returns the serialised body either way it could be serialised.
    pub fn keep(
        &self,
        key: ReadKey,
        response: &async_graphql::Response,
        reads: RequestReads,
    ) -> Option<Bytes> {
        let complete = response.is_ok()
            && response.http_headers.is_empty()
            && response.cache_control.value().is_none();
        let body = Bytes::from(serde_json::to_vec(response).ok()?);
        if complete && key.names_a_query() {
            self.entries.insert(
                key,
                Arc::new(KeptAnswer {
                    body: body.clone(),
                    reads,
                }),
            );
        }
        Some(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(query: &str, operation_name: Option<&str>) -> ReadKey {
        ReadKey {
            session: [0; 32],
            account_id: Some(1),
            query: query.into(),
            operation_name: operation_name.map(Into::into),
            variables: "{}".into(),
            data_version: 1,
        }
    }

    #[test]
    fn only_queries_are_kept() {
        assert!(key("{ me { username } }", None).names_a_query());
        assert!(key("query A { me { username } }", None).names_a_query());
        assert!(key("query A { me { username } }", Some("A")).names_a_query());
        assert!(!key("mutation { logout }", None).names_a_query());
        assert!(!key("subscription { incidentChanged { id } }", None).names_a_query());
        let both = "query A { me { username } } mutation B { logout }";
        assert!(key(both, Some("A")).names_a_query());
        assert!(!key(both, Some("B")).names_a_query());
        assert!(!key(both, None).names_a_query());
        assert!(!key("{ not graphql", None).names_a_query());
    }
}
