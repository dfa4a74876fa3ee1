//! The outbox worker: claims due copies, sends them, and records the outcome. Transient
//! errors are retried with exponential backoff and jitter; permanent ones stop at once
//! with the reason; a copy still failing after [`MAX_ATTEMPTS`] is given up.

use crate::Result;
use crate::twilio::{SendError, TwilioClient};
use chrono::Duration;
use futures_util::future::join_all;
use rand::Rng;
use reserv_domain::messages::Channel;
use reserv_store::{OutboxItem, OutboxWorker, SendOutcome};
use std::sync::Arc;

/// Attempts before a copy counts as failed.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a claim holds a copy: longer than any send takes, short enough that a
/// killed process's copies go out again soon.
const LEASE_SECONDS: i64 = 120;
const BATCH: u64 = 50;

/// The wait before attempt `attempt + 1`: 5 s doubling per attempt up to 15 minutes,
/// spread by `jitter` (0.5–1.5) so that retries after an outage do not all arrive at once.
pub fn retry_delay(attempt: i32, jitter: f64) -> Duration {
    let exponent = u32::try_from(attempt.clamp(1, 16) - 1).unwrap_or(0);
    let base = (5_i64 << exponent).min(15 * 60);
    Duration::milliseconds((base as f64 * 1000.0 * jitter.clamp(0.5, 1.5)) as i64)
}

pub struct DeliveryWorker {
    outbox: OutboxWorker,
    sms: Arc<TwilioClient>,
}

impl DeliveryWorker {
    pub fn new(outbox: OutboxWorker, sms: TwilioClient) -> Self {
        Self {
            outbox,
            sms: Arc::new(sms),
        }
    }

    /// Claims and sends one batch; answers how many copies it handled.
    pub async fn run_once(&self) -> Result<usize> {
        let items = self
            .outbox
            .claim_outbox_batch(BATCH, Duration::seconds(LEASE_SECONDS))
            .await?;
        // Sent concurrently: the pool's rate limit, not this loop, paces them.
        for outcome in join_all(items.iter().map(|item| self.deliver(item))).await {
            outcome?;
        }
        Ok(items.len())
    }

    /// Runs until `shutdown` resolves, polling every second when the outbox is empty.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let idle = match self.run_once().await {
                Ok(handled) => handled == 0,
                Err(error) => {
                    tracing::error!(%error, "the outbox worker failed a round; retrying");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                }
            }
        }
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<()> {
        let outcome = match (item.channel, item.destination.as_deref()) {
            (Channel::Sms, Some(to)) => match self.sms.send(to, &item.body).await {
                Ok(provider_id) => SendOutcome::Accepted { provider_id },
                Err(SendError::Permanent(reason)) => SendOutcome::Permanent { reason },
                Err(SendError::Transient { reason, .. }) if item.attempts >= MAX_ATTEMPTS => {
                    SendOutcome::Permanent {
                        reason: format!("gave up after {} attempts: {reason}", item.attempts),
                    }
                }
                Err(SendError::Transient {
                    reason,
                    retry_after,
                }) => {
                    let backoff = retry_delay(item.attempts, rand::rng().random_range(0.5..1.5));
                    let asked = retry_after
                        .and_then(|wait| Duration::from_std(wait).ok())
                        .unwrap_or_default();
                    SendOutcome::Transient {
                        reason,
                        retry_at: self.outbox.now() + backoff.max(asked),
                    }
                }
            },
            (Channel::Sms, None) => SendOutcome::Permanent {
                reason: "the recipient has no phone number".into(),
            },
        };
        if !matches!(outcome, SendOutcome::Accepted { .. }) {
            // The reason stays on the row: a provider's text may quote the number.
            tracing::warn!(outbox_id = item.id, message = %item.message_id, "an SMS was not sent");
        }
        Ok(self.outbox.record_send(item, outcome).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_a_cap() {
        assert_eq!(retry_delay(1, 1.0), Duration::seconds(5));
        assert_eq!(retry_delay(2, 1.0), Duration::seconds(10));
        assert_eq!(retry_delay(4, 0.5), Duration::seconds(20));
        assert_eq!(retry_delay(12, 1.0), Duration::minutes(15));
    }
}
