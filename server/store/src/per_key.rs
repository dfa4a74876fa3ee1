//! Answers for many keys at once, for the API's batch loaders: one set of queries
//! serves every object a request asks about, and each key still gets the answer (or
//! the refusal) that a read of that object alone would give.

use reserv_domain::DomainError;
use std::collections::HashMap;
use std::fmt::Display;
use std::hash::Hash;

/// Per key: the answer, or why this reader may not have it.
pub type PerKey<K, V> = HashMap<K, std::result::Result<V, DomainError>>;

/// Answers every key in `keys` with `answer`, so that none is left without one.
pub(crate) fn answer_each<K: Copy + Eq + Hash, V>(
    keys: &[K],
    mut answer: impl FnMut(K) -> std::result::Result<V, DomainError>,
) -> PerKey<K, V> {
    keys.iter().map(|key| (*key, answer(*key))).collect()
}

/// The answer for one key of a batch read, for the reads of a single object that share
/// the batch's code.
pub(crate) fn answer_for<K: Eq + Hash + Display, V>(
    mut answers: PerKey<K, V>,
    key: K,
    entity: &'static str,
) -> crate::Result<V> {
    let answer = answers
        .remove(&key)
        .unwrap_or_else(|| Err(DomainError::not_found(entity, key)));
    Ok(answer?)
}
