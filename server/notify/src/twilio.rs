//! An SMS client for Twilio's Messages API and providers that copy it:
//! `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json` with the form fields
//! `To`, `From` (or `MessagingServiceSid`), `Body` and `StatusCallback`, authenticated by
//! HTTP Basic with the account SID and auth token.
//!
//! Sends are spread over the pool of sender numbers, each held to its configured rate;
//! a 429 (Twilio error 20429) is a transient error that the worker retries later.

use crate::{NotifyError, Result};
use reserv_domain::sms::count_segments;
use serde::Deserialize;
use std::fmt;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Settings of a Twilio-compatible account.
#[derive(Clone)]
pub struct TwilioSettings {
    /// `https://api.twilio.com` for Twilio itself.
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// E.164 sender numbers; empty when a Messaging Service picks the sender.
    pub senders: Vec<String>,
    pub messaging_service_sid: Option<String>,
    /// Messages per second per sender.
    pub rate_per_sender: f64,
    /// Longer texts are refused rather than sent as many expensive segments.
    pub max_segments: usize,
    /// Where the provider posts delivery status (`{public_url}/sms/status`).
    pub status_callback: Option<String>,
}

impl fmt::Debug for TwilioSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioSettings")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"(hidden)")
            .field("senders", &self.senders.len())
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("rate_per_sender", &self.rate_per_sender)
            .field("max_segments", &self.max_segments)
            .finish()
    }
}

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: the provider is busy, down or unreachable.
    #[error("{reason}")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help.
    #[error("{0}")]
    Permanent(String),
}

/// The provider's answer to an accepted message.
#[derive(Debug, Deserialize)]
struct Accepted {
    sid: String,
}

/// The provider's error body. Its `message` is left out on purpose: it may quote the
/// phone number, and reasons end up in the audit trail.
#[derive(Debug, Deserialize)]
struct Refused {
    code: Option<i64>,
}

/// What a provider error code means for the crisis staff.
fn explain(code: Option<i64>) -> &'static str {
    match code {
        Some(21211) => "the phone number is not valid",
        Some(21610) => "the recipient has unsubscribed with STOP",
        Some(21614) => "the number cannot receive SMS",
        Some(TOO_MANY_REQUESTS) => "too many messages at once; sending slows down",
        _ => "see the provider's error code",
    }
}

/// Twilio's error for too many requests.
const TOO_MANY_REQUESTS: i64 = 20429;

pub struct TwilioClient {
    http: reqwest::Client,
    settings: TwilioSettings,
    /// When each sender may send next.
    next_free: Mutex<Vec<Instant>>,
}

impl TwilioClient {
    pub fn new(settings: TwilioSettings) -> Result<Self> {
        if settings.senders.is_empty() && settings.messaging_service_sid.is_none() {
            return Err(NotifyError::Config(
                "set sms.senders (E.164 numbers) or sms.messaging_service_sid".into(),
            ));
        }
        if !settings.rate_per_sender.is_finite() || settings.rate_per_sender <= 0.0 {
            return Err(NotifyError::Config(
                "sms.rate_per_sender must be above 0 messages per second".into(),
            ));
        }
        let http = crate::http_client()?;
        let slots = settings.senders.len().max(1);
        Ok(Self {
            http,
            settings,
            next_free: Mutex::new(vec![Instant::now(); slots]),
        })
    }

    /// How many sends the pool makes per second.
    pub fn pool_rate(&self) -> f64 {
        self.settings.rate_per_sender * self.settings.senders.len().max(1) as f64
    }

    /// Sends `body` to `to`, waiting for a free sender; answers the provider's id.
    pub async fn send(&self, to: &str, body: &str) -> Result<String, SendError> {
        let segments = count_segments(body);
        if segments.count > self.settings.max_segments {
            return Err(SendError::Permanent(format!(
                "the text takes {} SMS segments ({:?}); sms.max_segments allows {}: shorten the message",
                segments.count, segments.encoding, self.settings.max_segments
            )));
        }
        let sender = self.wait_for_sender().await;
        let mut form: Vec<(&str, &str)> = vec![("To", to), ("Body", body)];
        match (&self.settings.messaging_service_sid, sender) {
            (Some(service), _) => form.push(("MessagingServiceSid", service)),
            (None, Some(from)) => form.push(("From", from)),
            (None, None) => {}
        }
        if let Some(callback) = &self.settings.status_callback {
            form.push(("StatusCallback", callback));
        }
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.settings.base_url.trim_end_matches('/'),
            self.settings.account_sid
        );
        let response = self
            .http
            .post(url)
            .basic_auth(&self.settings.account_sid, Some(&self.settings.auth_token))
            .form(&form)
            .send()
            .await
            .map_err(|error| SendError::Transient {
                reason: format!("the SMS provider did not answer: {error}"),
                retry_after: None,
            })?;
        let status = response.status();
        let retry_after = crate::retry_after(response.headers());
        if status.is_success() {
            let accepted: Accepted =
                response
                    .json()
                    .await
                    .map_err(|error| SendError::Transient {
                        reason: format!("the SMS provider's answer was not understood: {error}"),
                        retry_after: None,
                    })?;
            return Ok(accepted.sid);
        }
        let refused: Refused = response.json().await.unwrap_or(Refused { code: None });
        let reason = format!(
            "the SMS provider refused with HTTP {}{}: {}",
            status.as_u16(),
            refused
                .code
                .map(|code| format!(" (error {code})"))
                .unwrap_or_default(),
            explain(refused.code)
        );
        if status.as_u16() == 429 || refused.code == Some(TOO_MANY_REQUESTS) {
            self.slow_down(retry_after.unwrap_or(Duration::from_secs(1)))
                .await;
            Err(SendError::Transient {
                reason,
                retry_after,
            })
        } else if status.is_server_error() {
            Err(SendError::Transient {
                reason,
                retry_after,
            })
        } else {
            Err(SendError::Permanent(reason))
        }
    }

    /// Waits until the sender that is free soonest may send, and books its next slot.
    async fn wait_for_sender(&self) -> Option<&str> {
        let interval = Duration::from_secs_f64(1.0 / self.settings.rate_per_sender);
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
        self.settings.senders.get(index).map(String::as_str)
    }

    /// After a 429 every sender pauses: the limit is usually the account's.
    async fn slow_down(&self, pause: Duration) {
        let resume = Instant::now() + pause;
        for slot in self.next_free.lock().await.iter_mut() {
            *slot = (*slot).max(resume);
        }
    }
}
