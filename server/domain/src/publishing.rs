//! How publishing the static fallback site to each configured target is going: the last
//! success and the last failure, so that communicators see that the copy outside the
//! main IT is current.

use chrono::{DateTime, Utc};

/// The publication record of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishStatus {
    /// The target as configured, such as `dir /srv/status`.
    pub target: String,
    pub last_success: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
    /// What went wrong the last time it failed.
    pub last_error: Option<String>,
}

impl PublishStatus {
    pub fn new(target: String) -> Self {
        Self {
            target,
            last_success: None,
            last_failure: None,
            last_error: None,
        }
    }

    /// Records the outcome of one publication (after its retries).
    pub fn record(&mut self, at: DateTime<Utc>, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.last_success = Some(at),
            Err(error) => {
                self.last_failure = Some(at);
                self.last_error = Some(error);
            }
        }
    }
}
