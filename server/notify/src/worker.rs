//! The outbox worker: claims due copies (SMS and web push), sends them, and records
//! the outcome. Transient
//! errors are retried with exponential backoff and jitter; permanent ones stop at once
//! with the reason; a copy still failing after [`MAX_ATTEMPTS`] is given up. Each round
//! also takes the escalation steps due for unacknowledged messages, by the store's clock.

use crate::failover::SmsProviders;
use crate::provider::SendError;
use crate::push::{PushClient, PushError};
use crate::{NotifyError, Result};
use chrono::Duration;
use futures_util::StreamExt;
use rand::Rng;
use reserv_domain::messages::Channel;
use reserv_store::{OutboxItem, OutboxWorker, SendOutcome};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::{Semaphore, mpsc};
use tokio_stream::wrappers::ReceiverStream;

/// Attempts before a copy counts as failed.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a claim holds a copy unless configured (`outbox.lease_seconds`): longer than
/// any send takes, short enough that a killed process's copies go out again soon.
pub const DEFAULT_LEASE_SECONDS: u32 = 120;
/// Copies claimed at once unless set with [`DeliveryWorker::with_claim_batch`]. The next
/// batch is claimed while one sends, but never more than twice this unrecorded: the
/// most a process killed mid-send can leave sent but unrecorded, and so the most
/// duplicates such a crash causes.
pub const CLAIM_BATCH: u64 = 50;
/// Sends in flight at once, across claimed batches.
pub const SEND_CONCURRENCY: usize = 50;
/// The most outcomes one recording writes (a statement per thousand).
const RECORD_AT_MOST: usize = 2000;

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
    claim_batch: u64,
    lost_leases: AtomicU64,
    phases: PhaseClocks,
}

/// Where a worker's delivery time went since it started, for the fan-out bench to show
/// what sets its pace. The phases overlap (claims and recordings run while sends go on).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WorkerPhases {
    /// Claims made, and the time spent in them (their database work).
    pub claims: u64,
    pub claiming: std::time::Duration,
    /// Time the next claim waited for room, as two batches were claimed and unrecorded.
    pub waiting_for_room: std::time::Duration,
    /// Recordings made, and the time spent in them (their database work).
    pub recordings: u64,
    pub recording: std::time::Duration,
}

/// [`WorkerPhases`] as counters the pipeline's parts add to.
#[derive(Debug, Default)]
struct PhaseClocks {
    claims: AtomicU64,
    claiming_nanos: AtomicU64,
    waiting_nanos: AtomicU64,
    recordings: AtomicU64,
    recording_nanos: AtomicU64,
}

impl PhaseClocks {
    fn add(count: &AtomicU64, nanos: &AtomicU64, since: std::time::Instant) {
        count.fetch_add(1, Ordering::Relaxed);
        let elapsed = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        nanos.fetch_add(elapsed, Ordering::Relaxed);
    }

    fn read(&self) -> WorkerPhases {
        let duration =
            |nanos: &AtomicU64| std::time::Duration::from_nanos(nanos.load(Ordering::Relaxed));
        WorkerPhases {
            claims: self.claims.load(Ordering::Relaxed),
            claiming: duration(&self.claiming_nanos),
            waiting_for_room: duration(&self.waiting_nanos),
            recordings: self.recordings.load(Ordering::Relaxed),
            recording: duration(&self.recording_nanos),
        }
    }
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
            claim_batch: CLAIM_BATCH,
            lost_leases: AtomicU64::new(0),
            phases: PhaseClocks::default(),
        }
    }

    /// A worker sending web push only, for a deployment without an SMS provider.
    pub fn push_only(outbox: OutboxWorker, push: PushClient) -> Self {
        Self {
            outbox,
            sms: None,
            push: Some(Arc::new(push)),
            lease: Duration::seconds(DEFAULT_LEASE_SECONDS.into()),
            claim_batch: CLAIM_BATCH,
            lost_leases: AtomicU64::new(0),
            phases: PhaseClocks::default(),
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

    /// Claims `claim_batch` copies at once instead of [`CLAIM_BATCH`].
    pub fn with_claim_batch(self, claim_batch: u64) -> Self {
        Self {
            claim_batch: claim_batch.max(1),
            ..self
        }
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

    /// Takes the escalation steps due, then delivers every copy due (see
    /// [`DeliveryWorker::deliver_due`]); answers how many steps and copies it handled.
    /// Escalating first lets an SMS it queues go out in the same round.
    pub async fn run_once(&self) -> Result<usize> {
        let escalated = self.outbox.escalate_unacknowledged().await?;
        let channels = self.channels();
        if channels.is_empty() {
            return Ok(escalated);
        }
        Ok(escalated + self.deliver_due(&channels).await?)
    }

    /// Claims, sends and records until no copy of `channels` is due, as a pipeline:
    /// the next batch is claimed while the current one sends, up to
    /// [`SEND_CONCURRENCY`] sends are in flight across batches, and the outcomes are
    /// recorded, while the sends go on, in one statement for all that finished since the
    /// last recording. Answers how many copies it claimed.
    ///
    /// A copy whose delivery failed in our own database keeps its lease and goes out
    /// again when it runs out; the others' outcomes are recorded all the same, so that
    /// one error does not send everything twice. When recording fails, no more is
    /// claimed, and what was claimed goes out again after its lease.
    async fn deliver_due(&self, channels: &[Channel]) -> Result<usize> {
        let (claimed_sender, claimed) = mpsc::channel::<Vec<OutboxItem>>(1);
        let (finished_sender, mut finished) = mpsc::unbounded_channel();
        let recording_failed = &AtomicBool::new(false);
        // Copies claimed and not yet recorded: a claim waits until the recorder has
        // caught up, so that a crash leaves at most two batches to go out again.
        let batch_size = usize::try_from(self.claim_batch)
            .unwrap_or(usize::MAX)
            .min(1 << 20);
        let unrecorded = &Semaphore::new(2 * batch_size);
        let claiming = async move {
            let mut claimed_count = 0;
            while !recording_failed.load(Ordering::Relaxed) {
                let waiting = std::time::Instant::now();
                let Ok(room) = unrecorded.acquire_many(batch_size as u32).await else {
                    break;
                };
                room.forget();
                let phases = &self.phases;
                let claiming = std::time::Instant::now();
                phases.waiting_nanos.fetch_add(
                    u64::try_from((claiming - waiting).as_nanos()).unwrap_or(u64::MAX),
                    Ordering::Relaxed,
                );
                let batch = self
                    .outbox
                    .claim_outbox_batch_of(channels, self.claim_batch, self.lease)
                    .await?;
                PhaseClocks::add(&phases.claims, &phases.claiming_nanos, claiming);
                unrecorded.add_permits(batch_size - batch.len());
                claimed_count += batch.len();
                if batch.is_empty() || claimed_sender.send(batch).await.is_err() {
                    break;
                }
            }
            drop(claimed_sender);
            Ok::<_, NotifyError>(claimed_count)
        };
        let senders = Arc::new(Senders {
            outbox: self.outbox.clone(),
            sms: self.sms.clone(),
            push: self.push.clone(),
        });
        let sending = async move {
            // Sent concurrently: the sender pool's rate limit, not this loop, paces them.
            // Each send is a task of its own, so that the runtime spreads the sends'
            // work (a push payload's encryption is most of it) over every core instead
            // of doing all of it in this one task.
            ReceiverStream::new(claimed)
                .flat_map(futures_util::stream::iter)
                .map(|item| {
                    let senders = senders.clone();
                    tokio::spawn(async move {
                        let delivery = senders.deliver(&item).await;
                        (item, delivery)
                    })
                })
                .buffer_unordered(SEND_CONCURRENCY)
                .for_each(|finished| {
                    match finished {
                        // The recorder outlives the sends; a send after it stopped stays
                        // leased and goes out again.
                        Ok(finished) => {
                            let _ = finished_sender.send(finished);
                        }
                        Err(error) => {
                            tracing::error!(%error, "a send failed to finish; its copy stays claimed and goes out again when the lease runs out");
                            unrecorded.add_permits(1);
                        }
                    }
                    std::future::ready(())
                })
                .await;
            drop(finished_sender);
        };
        let recording = async move {
            let mut first_error = None;
            let mut batch = Vec::new();
            while finished.recv_many(&mut batch, RECORD_AT_MOST).await > 0 {
                let handled = batch.len();
                let mut outcomes = Vec::with_capacity(batch.len());
                for (item, delivery) in batch.drain(..) {
                    match delivery {
                        Ok(outcome) => {
                            if !matches!(outcome, SendOutcome::Accepted { .. }) {
                                // The reason stays on the row: a provider's text may
                                // quote the number.
                                tracing::warn!(outbox_id = item.id, message = %item.message_id, channel = %item.channel, "a copy was not sent");
                            }
                            outcomes.push((item, outcome));
                        }
                        Err(error) => {
                            first_error.get_or_insert(error);
                        }
                    }
                }
                if !recording_failed.load(Ordering::Relaxed) {
                    let started = std::time::Instant::now();
                    let recorded = self.outbox.record_sends(outcomes).await;
                    let phases = &self.phases;
                    PhaseClocks::add(&phases.recordings, &phases.recording_nanos, started);
                    match recorded {
                        Ok(recorded) => self.note_lost_leases(&recorded.lost_leases),
                        Err(error) => {
                            recording_failed.store(true, Ordering::Relaxed);
                            first_error.get_or_insert(error.into());
                        }
                    }
                }
                unrecorded.add_permits(handled);
            }
            first_error
        };
        let (claimed, (), failed) = tokio::join!(claiming, sending, recording);
        match failed {
            Some(error) => Err(error),
            None => claimed,
        }
    }

    /// Where this worker's delivery time went since it started.
    pub fn phases(&self) -> WorkerPhases {
        self.phases.read()
    }

    /// Copies claimed by this worker whose outcome it has recorded nowhere because
    /// their lease ran out mid-send and another claim took them, since it started.
    pub fn lost_leases(&self) -> u64 {
        self.lost_leases.load(Ordering::Relaxed)
    }

    /// Logs and counts outcomes not recorded: the send took longer than the lease
    /// (`outbox.lease_seconds`), so the copy may have gone out twice.
    fn note_lost_leases(&self, outbox_ids: &[i64]) {
        for outbox_id in outbox_ids {
            tracing::warn!(
                outbox_id,
                "a copy's lease ran out before its outcome was recorded; another claim took it and its outcome stands (is outbox.lease_seconds shorter than a send?)"
            );
        }
        self.lost_leases
            .fetch_add(outbox_ids.len() as u64, Ordering::Relaxed);
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
}

/// What a send needs, shared by the tasks that send the copies of one round.
struct Senders {
    outbox: OutboxWorker,
    sms: Option<Arc<SmsProviders>>,
    push: Option<Arc<PushClient>>,
}

impl Senders {
    /// Sends one copy; answers the outcome.
    async fn deliver(&self, item: &OutboxItem) -> Result<SendOutcome> {
        Ok(match item.channel {
            Channel::Sms => self.deliver_sms(item).await,
            Channel::Push => self.deliver_push(item).await?,
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
    async fn deliver_push(&self, item: &OutboxItem) -> Result<SendOutcome> {
        let (Some(push), Some(target)) = (&self.push, &item.push_target) else {
            return Ok(SendOutcome::Permanent {
                reason: "the browser's push subscription was removed before sending".into(),
            });
        };
        Ok(match push.send(target, &item.body).await {
            Ok(provider_id) => SendOutcome::Accepted {
                provider: "web push".into(),
                provider_id,
            },
            Err(PushError::Gone(reason)) => {
                self.outbox
                    .remove_expired_push_subscription(target.subscription_id, reason.clone())
                    .await?;
                SendOutcome::Permanent { reason }
            }
            Err(PushError::Send(error)) => self.failed(item, error),
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
