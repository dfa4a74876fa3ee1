//! The read cache: the serialised answer to a read-only GraphQL request, kept for a
//! few seconds so that fifty people refreshing the same incident page cost one run of
//! the executor, not fifty.
//!
//! What it must never do:
//! - serve one person's answer to someone who may see something else: the key holds
//!   a digest of everything an answer can depend on about the reader (account, person,
//!   roles and clearances, the session's factors, emergency access and assurance), so
//!   sessions of one account with the same access share answers, and anyone else
//!   never does; the session itself is in no kept answer (`sessions` is live, below);
//! - serve an answer older than the newest committed change: the key holds the data
//!   version ([`reserv_store::Store::data_version`]), the position of the newest
//!   change event in the audit chain, read from the database on every request (with
//!   the session, [`reserv_store::LiveSession::data_version`]), so a change by any
//!   server sharing the database makes every older entry unreachable;
//! - keep an answer built from live state, which changes without a change event
//!   (delivery states, roll-calls, the SMS failover, publication status, sessions): the
//!   store notes such reads for the request ([`RequestReads::live`]) and such an
//!   answer is not kept;
//! - skip authentication or auditing: it is asked only after the session was found
//!   live, and a hit records the reads the first run recorded again, for this request,
//!   through the same audit writer, before the answer leaves;
//! - keep mutations, subscriptions, errors or partial answers.
//!
//! Answers that change with time alone (overdue reviews, expiries) are why entries
//! live only `ttl`; the audit trail itself, which grows with every read, is never
//! kept.
//!
//! Concurrent misses of one key run the request once: the first takes the key's turn,
//! the others wait for it and are then answered from what it kept (with their own
//! read events), so that the end of an entry's life or a change does not set fifty
//! executors to the same work at once. A request whose answer was not kept leaves a
//! marker for the rest of the TTL, so that requests of that key run at once, side by
//! side, without waiting for a turn.

use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::body::Bytes;
use moka::sync::Cache;
use reserv_store::RequestReads;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OwnedMutexGuard;

use crate::context::RequestFacts;

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
    /// On: answers built from live state are never kept, so the TTL bounds only how
    /// late an answer that changes with time alone (an overdue review) may show it.
    fn default() -> Self {
        Self {
            enabled: true,
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
    access: [u8; 32],
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
    /// subscription). Parsed only on a miss.
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

/// A digest of what an answer can depend on about the reader; the client address is
/// left out (it shows only in `sessions`, which is live).
fn access_digest(facts: &RequestFacts) -> Option<[u8; 32]> {
    let principal = facts.principal.as_ref()?;
    let access = format!(
        "{:?}|{}|{:?}|{:?}|{:?}|{:?}|{}",
        principal.account_id,
        principal.username,
        principal.person_id,
        principal.grants,
        facts.factors,
        facts.assurance,
        facts.break_glass,
    );
    Some(Sha256::digest(access.as_bytes()).into())
}

/// A kept answer: the serialised response and what producing it read.
#[derive(Debug)]
pub(crate) struct KeptAnswer {
    pub body: Bytes,
    pub reads: RequestReads,
}

/// What the cache holds for a key.
#[derive(Debug)]
enum Entry {
    Answer(Arc<KeptAnswer>),
    /// The request ran and its answer could not be kept (live, an error, not a
    /// query): later requests of the key run without waiting for a turn.
    NotKept,
}

/// What to do with a request.
pub(crate) enum Lookup {
    /// Serve this answer (after recording its reads for this request).
    Kept(Arc<KeptAnswer>),
    /// Run the request; with a turn, hand its answer to [`ReadCache::keep`].
    Run(Option<Turn>),
}

/// The keys being run now, each with the lock its waiters queue on.
type Running = Arc<Mutex<HashMap<ReadKey, Arc<tokio::sync::Mutex<()>>>>>;

/// The right to run a key's request while others of the same key wait; ends when
/// dropped (also when the request is abandoned half-way: a waiter then runs it).
pub(crate) struct Turn {
    key: ReadKey,
    lock: Arc<tokio::sync::Mutex<()>>,
    running: Running,
    _guard: OwnedMutexGuard<()>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut running = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if running
            .get(&self.key)
            .is_some_and(|lock| Arc::ptr_eq(lock, &self.lock))
        {
            running.remove(&self.key);
        }
    }
}

/// The cache itself; cheap to clone (one shared store of entries).
#[derive(Clone)]
pub(crate) struct ReadCache {
    entries: Cache<ReadKey, Arc<Entry>>,
    running: Running,
}

impl ReadCache {
    /// A cache as `settings` say, or `None` when it is switched off.
    pub fn new(settings: &ReadCacheSettings) -> Option<Self> {
        if !settings.enabled || settings.max_bytes == 0 || settings.ttl.is_zero() {
            return None;
        }
        let entries = Cache::builder()
            .max_capacity(settings.max_bytes)
            .weigher(|key: &ReadKey, entry: &Arc<Entry>| {
                let answer = match entry.as_ref() {
                    Entry::Answer(answer) => answer.body.len() + answer.reads.size_in_bytes(),
                    Entry::NotKept => 0,
                };
                let bytes = key.size_in_bytes() + answer + ENTRY_OVERHEAD_BYTES;
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .time_to_live(settings.ttl)
            .build();
        Some(Self {
            entries,
            running: Arc::default(),
        })
    }

    /// The key of `request` by the signed-in reader of `facts`, at the data version
    /// read when the session was found live; `None` when nobody is signed in or the
    /// request may not be kept (the request then simply runs).
    pub fn key(&self, facts: &RequestFacts, request: &async_graphql::Request) -> Option<ReadKey> {
        let access = access_digest(facts)?;
        let data_version = facts.data_version?;
        if UNCACHEABLE_FIELDS
            .iter()
            .any(|field| request.query.contains(field))
        {
            return None;
        }
        let variables = serde_json::to_string(&request.variables).ok()?;
        Some(ReadKey {
            access,
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables,
            data_version,
        })
    }

    /// The kept answer of `key`, or the request's turn to run it; waits while another
    /// request of the same key runs, and then takes what it kept.
    pub async fn lookup(&self, key: &ReadKey) -> Lookup {
        if let Some(found) = self.found(key) {
            return found;
        }
        if !key.names_a_query() {
            self.entries.insert(key.clone(), Arc::new(Entry::NotKept));
            return Lookup::Run(None);
        }
        let lock = {
            // Only short critical sections take the lock: a panic in one leaves the
            // map usable.
            let mut running = self
                .running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            running.entry(key.clone()).or_default().clone()
        };
        let guard = lock.clone().lock_owned().await;
        // The request that had the turn before may have kept the answer meanwhile.
        if let Some(found) = self.found(key) {
            return found;
        }
        Lookup::Run(Some(Turn {
            key: key.clone(),
            lock,
            running: self.running.clone(),
            _guard: guard,
        }))
    }

    fn found(&self, key: &ReadKey) -> Option<Lookup> {
        Some(match self.entries.get(key)?.as_ref() {
            Entry::Answer(answer) => Lookup::Kept(answer.clone()),
            Entry::NotKept => Lookup::Run(None),
        })
    }

    /// Serialises `response` and keeps it for the turn's key when it is a complete
    /// answer built from no live state (or leaves the marker that it is not kept);
    /// returns the serialised body when it could be serialised. Ends the turn.
    pub fn keep(
        &self,
        turn: Turn,
        response: &async_graphql::Response,
        reads: RequestReads,
    ) -> Option<Bytes> {
        let complete = response.is_ok()
            && response.http_headers.is_empty()
            && response.cache_control.value().is_none()
            && !reads.live();
        let body = serde_json::to_vec(response).ok().map(Bytes::from);
        let entry = match (&body, complete) {
            (Some(body), true) => Entry::Answer(Arc::new(KeptAnswer {
                body: body.clone(),
                reads,
            })),
            _ => Entry::NotKept,
        };
        // Kept before the turn ends and the key leaves `running`: a request arriving
        // now finds the entry.
        self.entries.insert(turn.key.clone(), Arc::new(entry));
        drop(turn);
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(query: &str, operation_name: Option<&str>) -> ReadKey {
        ReadKey {
            access: [0; 32],
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

    type Outcome = Result<(), String>;

    fn cache() -> Result<ReadCache, String> {
        ReadCache::new(&ReadCacheSettings::default()).ok_or_else(|| "off by default".to_owned())
    }

    fn answer() -> Result<async_graphql::Response, String> {
        let value = serde_json::json!({ "me": { "username": "krisledare" } });
        Ok(async_graphql::Response::new(
            async_graphql::Value::from_json(value).map_err(|error| error.to_string())?,
        ))
    }

    /// The first miss's turn, and a second miss of the same key waiting on it.
    async fn a_turn_and_a_waiter(
        cache: &ReadCache,
        key: &ReadKey,
    ) -> Result<(Turn, tokio::task::JoinHandle<Lookup>), String> {
        let Lookup::Run(Some(turn)) = cache.lookup(key).await else {
            return Err("the first miss gets no turn".into());
        };
        let waiting = tokio::spawn({
            let (cache, key) = (cache.clone(), key.clone());
            async move { cache.lookup(&key).await }
        });
        tokio::task::yield_now().await;
        if waiting.is_finished() {
            return Err("the second miss did not wait for the first".into());
        }
        Ok((turn, waiting))
    }

    #[tokio::test]
    async fn concurrent_misses_of_one_key_run_once_and_share_the_answer() -> Outcome {
        let cache = cache()?;
        let key = key("{ me { username } }", None);
        let (turn, waiting) = a_turn_and_a_waiter(&cache, &key).await?;
        cache.keep(turn, &answer()?, RequestReads::default());
        let Lookup::Kept(kept) = waiting.await.map_err(|error| error.to_string())? else {
            return Err("the waiter was not answered from what the first kept".into());
        };
        let expected = serde_json::to_vec(&answer()?).map_err(|error| error.to_string())?;
        assert_eq!(kept.body, expected);
        Ok(())
    }

    #[tokio::test]
    async fn an_answer_that_is_not_kept_lets_the_waiters_run_side_by_side() -> Outcome {
        let cache = cache()?;
        let key = key("{ me { username } }", None);
        let (turn, waiting) = a_turn_and_a_waiter(&cache, &key).await?;
        let errors = async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(
            "not found",
            None,
        )]);
        cache.keep(turn, &errors, RequestReads::default());
        let waited = waiting.await.map_err(|error| error.to_string())?;
        assert!(matches!(waited, Lookup::Run(None)));
        assert!(matches!(cache.lookup(&key).await, Lookup::Run(None)));
        Ok(())
    }

    #[tokio::test]
    async fn an_abandoned_turn_passes_to_a_waiter() -> Outcome {
        let cache = cache()?;
        let key = key("{ me { username } }", None);
        let (turn, waiting) = a_turn_and_a_waiter(&cache, &key).await?;
        drop(turn);
        let waited = waiting.await.map_err(|error| error.to_string())?;
        assert!(matches!(waited, Lookup::Run(Some(_))));
        Ok(())
    }

    #[tokio::test]
    async fn mutations_run_without_a_turn() -> Outcome {
        let cache = cache()?;
        let key = key("mutation { logout }", None);
        assert!(matches!(cache.lookup(&key).await, Lookup::Run(None)));
        Ok(())
    }
}
