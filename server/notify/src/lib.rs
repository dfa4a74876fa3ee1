//! Reserv's channels to phones: the outbox worker, the SMS providers (Twilio, 46elks,
//! one failing over to the other) and web push it sends through, and the providers'
//! webhooks (delivery status, inbound SMS, the residents' voice line).
//!
//! This crate knows providers; the store and the API must not. It reads the outbox only
//! through the store's [`reserv_store::OutboxWorker`], a system principal that can claim
//! and record deliveries and nothing else. It never logs phone numbers or message text.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod elks;
mod error;
pub mod failover;
mod inbound_sms;
pub mod provider;
pub mod push;
mod sender_pool;
mod signature;
pub mod twilio;
mod twiml;
mod voice;
mod webhooks;
mod worker;

pub use error::{NotifyError, Result};
pub use signature::{callback_token_matches, verify_twilio_signature};
pub use webhooks::{WebhookSettings, sms_webhooks};
pub use worker::{
    CLAIM_BATCH, DEFAULT_LEASE_SECONDS, DeliveryWorker, SEND_CONCURRENCY, WorkerPhases, retry_delay,
};

/// The HTTP client providers are called with: a send that hangs longer than 30 s is
/// retried rather than waited for.
fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|error| NotifyError::Config(format!("cannot build the HTTP client: {error}")))
}

/// A provider's `Retry-After` in seconds (the form SMS and push services send).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<std::time::Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .map(std::time::Duration::from_secs)
}
