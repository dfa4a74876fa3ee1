//! Reserv's channels to phones: the outbox worker, the SMS provider and web push it
//! sends through, and the provider's webhooks (delivery status, inbound SMS, the
//! residents' voice line).
//!
//! This crate knows providers; the store and the API must not. It reads the outbox only
//! through the store's [`reserv_store::OutboxWorker`], a system principal that can claim
//! and record deliveries and nothing else. It never logs phone numbers or message text.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod error;
mod inbound_sms;
pub mod push;
mod signature;
pub mod twilio;
mod twiml;
mod voice;
mod webhooks;
mod worker;

pub use error::{NotifyError, Result};
pub use signature::verify_twilio_signature;
pub use webhooks::{WebhookSettings, sms_webhooks};
pub use worker::{DeliveryWorker, retry_delay};

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
