//! The rules that slow down password guessing: after too many failed sign-ins for one
//! account, or from one client address, within a window, further attempts are refused
//! for a while without the password being checked at all, and the refusal says when to
//! try again.
//!
//! The counts live in memory (each server instance counts its own attempts): they
//! protect against guessing, not against a guesser who spreads attempts over several
//! instances faster than the limits allow. They must never decide anything but *when*
//! a password may be tried; whether it is right is the password check's business.

use crate::{DomainError, Result};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// How many failures are tolerated, and for how long a lockout lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRules {
    /// Failed sign-ins for one username within `window` before it is locked.
    pub account_failures: u32,
    /// Failed sign-ins from one client address within `window` before it is locked.
    pub address_failures: u32,
    /// How far back failures are counted.
    pub window: Duration,
    /// How long a locked username or address waits.
    pub lockout: Duration,
}

impl Default for ThrottleRules {
    fn default() -> Self {
        Self {
            account_failures: 5,
            // A care home signs in through one address at shift change: typos of many
            // people must not lock them all out.
            address_failures: 30,
            window: Duration::minutes(15),
            lockout: Duration::minutes(5),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(String),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

/// The failure counts of recent sign-ins, per username and per client address.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    rules: ThrottleRules,
    failures: Mutex<HashMap<Key, Failures>>,
}

/// Entries kept before expired ones are swept out, so that a flood of made-up usernames
/// cannot grow the table without bound.
const SWEEP_ABOVE: usize = 10_000;

impl SignInThrottle {
    pub fn new(rules: ThrottleRules) -> Self {
        Self {
            rules,
            failures: Mutex::default(),
        }
    }

    pub fn rules(&self) -> ThrottleRules {
        self.rules
    }

    /// Refuses an attempt for `username` from `address` while either is locked, with
    /// the seconds left until it may be tried again.
    pub fn check(&self, username: &str, address: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        let failures = self.lock();
        let wait = keys(username, address)
            .filter_map(|key| failures.get(&key)?.locked_until)
            .filter(|until| *until > now)
            .max();
        match wait {
            Some(until) => Err(DomainError::TooManyAttempts {
                retry_after_seconds: seconds_until(now, until),
            }),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt; the attempt that reaches a limit starts the lockout.
    /// Returns the lockout's end when this attempt started one.
    pub fn record_failure(
        &self,
        username: &str,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let rules = self.rules;
        let mut failures = self.lock();
        if failures.len() > SWEEP_ABOVE {
            failures.retain(|_, entry| !entry.expired(now, rules));
        }
        let mut locked = None;
        for key in keys(username, address) {
            let limit = match key {
                Key::Account(_) => rules.account_failures,
                Key::Address(_) => rules.address_failures,
            };
            let entry = failures.entry(key).or_insert(Failures {
                count: 0,
                first_at: now,
                locked_until: None,
            });
            if entry.expired(now, rules) {
                *entry = Failures {
                    count: 0,
                    first_at: now,
                    locked_until: None,
                };
            }
            entry.count += 1;
            if entry.count >= limit && entry.locked_until.is_none_or(|until| until <= now) {
                let until = now + rules.lockout;
                entry.locked_until = Some(until);
                entry.count = 0;
                entry.first_at = now;
                locked = Some(until);
            }
        }
        locked
    }

    /// Forgets the failures of `username` after it signed in. The address keeps its
    /// count: one known password must not reset the count of guesses at others.
    pub fn record_success(&self, username: &str) {
        self.lock().remove(&Key::Account(normalise(username)));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Failures>> {
        // A panic while holding the lock cannot leave the counts inconsistent in a way
        // that matters; keep counting.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Failures {
    fn expired(&self, now: DateTime<Utc>, rules: ThrottleRules) -> bool {
        self.locked_until.is_none_or(|until| until <= now) && self.first_at + rules.window <= now
    }
}

fn normalise(username: &str) -> String {
    username.trim().to_lowercase()
}

fn keys(username: &str, address: Option<&str>) -> impl Iterator<Item = Key> {
    std::iter::once(Key::Account(normalise(username)))
        .chain(address.map(|address| Key::Address(address.to_owned())))
}

/// Whole seconds from `now` to `until`, rounded up so that a client waiting that long is
/// never early.
fn seconds_until(now: DateTime<Utc>, until: DateTime<Utc>) -> u64 {
    let millis = (until - now).num_milliseconds().max(0);
    u64::try_from((millis + 999) / 1000).unwrap_or(0).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_000_000, 0).unwrap_or_default()
    }

    fn rules() -> ThrottleRules {
        ThrottleRules {
            account_failures: 3,
            address_failures: 5,
            window: Duration::minutes(15),
            lockout: Duration::minutes(5),
        }
    }

    #[test]
    fn an_account_is_locked_after_its_limit_and_opens_again_after_the_lockout() {
        let throttle = SignInThrottle::new(rules());
        let now = start();
        for _ in 0..2 {
            assert!(throttle.check("Anna", Some("10.0.0.1"), now).is_ok());
            assert_eq!(throttle.record_failure("Anna", Some("10.0.0.1"), now), None);
        }
        assert_eq!(
            throttle.record_failure(" anna ", Some("10.0.0.2"), now),
            Some(now + Duration::minutes(5))
        );
        let later = now + Duration::seconds(61);
        assert_eq!(
            throttle.check("anna", Some("10.0.0.3"), later),
            Err(DomainError::TooManyAttempts {
                retry_after_seconds: 239
            })
        );
        assert!(throttle.check("berit", Some("10.0.0.1"), later).is_ok());
        assert!(
            throttle
                .check("anna", None, now + Duration::minutes(5))
                .is_ok()
        );
    }

    #[test]
    fn an_address_guessing_many_usernames_is_locked() {
        let throttle = SignInThrottle::new(rules());
        let now = start();
        for name in ["a1", "a2", "a3", "a4", "a5"] {
            assert!(throttle.check(name, Some("10.9.9.9"), now).is_ok());
            throttle.record_failure(name, Some("10.9.9.9"), now);
        }
        assert!(matches!(
            throttle.check("a6", Some("10.9.9.9"), now),
            Err(DomainError::TooManyAttempts { .. })
        ));
        assert!(throttle.check("a6", Some("10.9.9.8"), now).is_ok());
    }

    #[test]
    fn failures_outside_the_window_and_before_a_success_are_forgotten() {
        let throttle = SignInThrottle::new(rules());
        let now = start();
        throttle.record_failure("anna", None, now);
        throttle.record_failure("anna", None, now);
        throttle.record_failure("anna", None, now + Duration::minutes(16));
        assert!(
            throttle
                .check("anna", None, now + Duration::minutes(16))
                .is_ok()
        );
        throttle.record_failure("anna", None, now + Duration::minutes(16));
        throttle.record_success("anna");
        throttle.record_failure("anna", None, now + Duration::minutes(17));
        throttle.record_failure("anna", None, now + Duration::minutes(17));
        assert!(
            throttle
                .check("anna", None, now + Duration::minutes(17))
                .is_ok()
        );
    }
}
