//! The outbox worker: claims due copies (SMS and web push), sends them, and records
//! the outcome. Transient
//! errors are retried with exponential backoff and jitter; permanent ones stop at once
//! with the reason; a copy still failing after [`MAX_ATTEMPTS`] is given up. Each round
//! also takes the escalation steps due for unacknowledged messages, by the store's clock.

use crate::Result;
use crate::failover::SmsProviders;
use crate::provider::SendError;
use crate::push::{PushClient, PushError};
use chrono::Duration;
use futures_util::future::join_all;
use rand::Rng;
use reserv_domain::messages::Channel;
use reserv_store::{OutboxItem, OutboxWorker, PushTarget, SendOutcome};
use std::collections::HashMap;
use std::sync::Arc;

/// Attempts before a copy counts as failed.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a claim holds a copy unless configured (`outbox.lease_seconds`): longer than
/// any send takes, short enough that a killed process's copies go out again soon.
pub const DEFAULT_LEASE_SECONDS: u32 = 120;
/// Copies claimed at once: also the most a process killed mid-send can leave sent but
/// unrecorded, and so the most duplicates such a crash causes.
pub const CLAIM_BATCH: u64 = 50;

/// The wait before attempt `attempt + 1`: 5 s doubling per attempt up to 15 minutes,
/// spread by `jitter` (0.5–1.5) so that retries after an outage do not all arrive at once.
pub fn retry_delay(attempt: i32, jitter: f64) -> Duration {
    let exponent = u32::try_from(attempt.clamp(1, 16) - 1).unwrap_or(0);
    let base = (5_i64 << exponent).min(15 * 60);
    Duration::milliseconds((base as f64 * 1000.0 * jitter.clamp(0.5, 1.5)) as i64)
}

/// Sends what the outbox holds over the channels it has a client for; copies of other
/// channels stay queued (SMS while no provider is configured).
pub struct DeliveryWorker {
    outbox: OutboxWorker,
    sms: Option<Arc<SmsProviders>>,
    push: Option<Arc<PushClient>>,
    lease: Duration,
}

impl DeliveryWorker {
    /// A worker sending SMS through one provider or a failover pair; add push with
    /// [`DeliveryWorker::with_push`].
    pub fn new(outbox: OutboxWorker, sms: impl Into<SmsProviders>) -> Self {
        let sms = sms.into();
        outbox.show_active_sms_provider(sms.active());
        Self {
            outbox,
            sms: Some(Arc::new(sms)),
            push: None,
            lease: Duration::seconds(DEFAULT_LEASE_SECONDS.into()),
        }
    }

    /// A worker sending web push only, for a deployment without an SMS provider.
    pub fn push_only(outbox: OutboxWorker, push: PushClient) -> Self {
        Self {
            outbox,
            sms: None,
            push: Some(Arc::new(push)),
            lease: Duration::seconds(DEFAULT_LEASE_SECONDS.into()),
        }
    }

    pub fn with_push(self, push: PushClient) -> Self {
        Self {
            push: Some(Arc::new(push)),
            ..self
        }
    }

    /// Claims hold copies for `lease` instead of [`DEFAULT_LEASE_SECONDS`].
    pub fn with_lease(self, lease: Duration) -> Self {
        Self { lease, ..self }
    }

    /// The channels this worker claims copies of.
    fn channels(&self) -> Vec<Channel> {
        let mut channels = Vec::new();
        if self.sms.is_some() {
            channels.push(Channel::Sms);
        }
        if self.push.is_some() {
            channels.push(Channel::Push);
        }
        channels
    }

    /// Takes the escalation steps due, then claims and sends one batch; answers how
    /// many steps and copies it handled. Escalating first lets an SMS it queues go out
    /// in the same round.
    pub async fn run_once(&self) -> Result<usize> {
        let escalated = self.outbox.escalate_unacknowledged().await?;
        let channels = self.channels();
        if channels.is_empty() {
            return Ok(escalated);
        }
        let items = self
            .outbox
            .claim_outbox_batch_of(&channels, CLAIM_BATCH, self.lease)
            .await?;
        let push_destinations: Vec<&str> = items
            .iter()
            .filter(|item| item.channel == Channel::Push)
            .filter_map(|item| item.destination.as_deref())
            .collect();
        let browsers = self.outbox.push_targets(&push_destinations).await?;
        // Sent concurrently: the pool's rate limit, not this loop, paces them.
        let delivered = join_all(items.iter().map(|item| self.deliver(item, &browsers))).await;
        let handled = items.len();
        let mut outcomes = Vec::with_capacity(handled);
        let mut pushed_to = Vec::new();
        // A copy whose delivery failed in our own database keeps its lease and goes out
        // again when it runs out; the others' outcomes are recorded all the same, so
        // that one error does not send the whole batch twice.
        let mut first_error = None;
        for (item, delivery) in items.into_iter().zip(delivered) {
            let (outcome, browser) = match delivery {
                Ok(delivery) => delivery,
                Err(error) => {
                    first_error.get_or_insert(error);
                    continue;
                }
            };
            if !matches!(outcome, SendOutcome::Accepted { .. }) {
                // The reason stays on the row: a provider's text may quote the number.
                tracing::warn!(outbox_id = item.id, message = %item.message_id, channel = %item.channel, "a copy was not sent");
            }
            pushed_to.extend(browser);
            outcomes.push((item, outcome));
        }
        self.outbox.record_push_successes(&pushed_to).await?;
        self.outbox.record_sends(outcomes).await?;
        match first_error {
            Some(error) => Err(error),
            None => Ok(escalated + handled),
        }
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

    /// Sends one copy; answers the outcome and, for a push accepted, the browser's
    /// subscription.
    async fn deliver(
        &self,
        item: &OutboxItem,
        browsers: &HashMap<String, PushTarget>,
    ) -> Result<(SendOutcome, Option<i64>)> {
        Ok(match item.channel {
            Channel::Sms => (self.deliver_sms(item).await, None),
            Channel::Push => self.deliver_push(item, browsers).await?,
        })
    }

    async fn deliver_sms(&self, item: &OutboxItem) -> SendOutcome {
        let (Some(sms), Some(to)) = (&self.sms, item.destination.as_deref()) else {
            return SendOutcome::Permanent {
                reason: "the recipient has no phone number".into(),
            };
        };
        match sms.send(&self.outbox, to, &item.body).await {
            Ok(sent) => SendOutcome::Accepted {
                provider: sent.provider.into(),
                provider_id: sent.provider_id,
            },
            Err(error) => self.failed(item, error),
        }
    }

    /// Pushes to the browser the copy names. A browser its push service calls gone is
    /// removed, so that later messages do not try it again.
    async fn deliver_push(
        &self,
        item: &OutboxItem,
        browsers: &HashMap<String, PushTarget>,
    ) -> Result<(SendOutcome, Option<i64>)> {
        let target = item
            .destination
            .as_deref()
            .and_then(|destination| browsers.get(destination));
        let (Some(push), Some(target)) = (&self.push, target) else {
            return Ok((
                SendOutcome::Permanent {
                    reason: "the browser's push subscription was removed before sending".into(),
                },
                None,
            ));
        };
        Ok(match push.send(target, &item.body).await {
            Ok(provider_id) => (
                SendOutcome::Accepted {
                    provider: "web push".into(),
                    provider_id,
                },
                Some(target.subscription_id),
            ),
            Err(PushError::Gone(reason)) => {
                self.outbox
                    .remove_expired_push_subscription(target.subscription_id, reason.clone())
                    .await?;
                (SendOutcome::Permanent { reason }, None)
            }
            Err(PushError::Send(error)) => (self.failed(item, error), None),
        })
    }

    /// A failed send: given up when permanent or out of attempts, else retried after
    /// the backoff or the provider's `Retry-After`, whichever is longer.
    fn failed(&self, item: &OutboxItem, error: SendError) -> SendOutcome {
        match error {
            SendError::Permanent(reason) => SendOutcome::Permanent { reason },
            SendError::Transient { reason, .. } | SendError::Busy { reason, .. }
                if item.attempts >= MAX_ATTEMPTS =>
            {
                SendOutcome::Permanent {
                    reason: format!("gave up after {} attempts: {reason}", item.attempts),
                }
            }
            SendError::Transient {
                reason,
                retry_after,
            }
            | SendError::Busy {
                reason,
                retry_after,
            } => {
                let backoff = retry_delay(item.attempts, rand::rng().random_range(0.5..1.5));
                let asked = retry_after
                    .and_then(|wait| Duration::from_std(wait).ok())
                    .unwrap_or_default();
                SendOutcome::Transient {
                    reason,
                    retry_at: self.outbox.now() + backoff.max(asked),
                }
            }
        }
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
