//! A pool of sender numbers, each held to its rate: sends take the sender that is free
//! soonest, so that 1 600 texts over four numbers go out four at a time. Shared by the
//! SMS providers.

use crate::{NotifyError, Result};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

pub(crate) struct SenderPool {
    /// E.164 numbers; empty when the provider picks the sender (a messaging service).
    senders: Vec<String>,
    rate_per_sender: f64,
    /// When each sender may send next.
    next_free: Mutex<Vec<Instant>>,
}

impl SenderPool {
    /// A pool of `senders` at `rate_per_sender` messages a second each; `rate_key` names
    /// the setting in the error.
    pub fn new(senders: Vec<String>, rate_per_sender: f64, rate_key: &str) -> Result<Self> {
        if !rate_per_sender.is_finite() || rate_per_sender <= 0.0 {
            return Err(NotifyError::Config(format!(
                "{rate_key} must be above 0 messages per second"
            )));
        }
        let slots = senders.len().max(1);
        Ok(Self {
            senders,
            rate_per_sender,
            next_free: Mutex::new(vec![Instant::now(); slots]),
        })
    }

    /// How many sends the pool makes per second.
    pub fn rate(&self) -> f64 {
        self.rate_per_sender * self.senders.len().max(1) as f64
    }

    /// Waits until the sender that is free soonest may send, and books its next slot.
    /// Answers the sender, or `None` when the provider picks it.
    pub async fn wait_for_sender(&self) -> Option<&str> {
        let interval = Duration::from_secs_f64(1.0 / self.rate_per_sender);
        let (index, at) = {
            let mut slots = self.next_free.lock().await;
            let (index, at) = slots
                .iter()
                .copied()
                .enumerate()
                .min_by_key(|(_, at)| *at)
                .unwrap_or((0, Instant::now()));
            let at = at.max(Instant::now());
            if let Some(slot) = slots.get_mut(index) {
                *slot = at + interval;
            }
            (index, at)
        };
        tokio::time::sleep_until(at).await;
        self.senders.get(index).map(String::as_str)
    }

    /// After a 429 every sender pauses: the limit is usually the account's.
    pub async fn slow_down(&self, pause: Duration) {
        let resume = Instant::now() + pause;
        for slot in self.next_free.lock().await.iter_mut() {
            *slot = (*slot).max(resume);
        }
    }
}
