//! An SMS client for Twilio's Messages API and providers that copy it:
//! `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json` with the form fields
//! `To`, `From` (or `MessagingServiceSid`), `Body` and `StatusCallback`, authenticated by
//! HTTP Basic with the account SID and auth token.
//!
//! Sends are spread over the pool of sender numbers, each held to its configured rate;
//! a 429 (Twilio error 20429) slows the pool down and the worker retries later.

use crate::provider::{BasicAuth, SendError, refuse_over_segment_limit};
use crate::sender_pool::SenderPool;
use crate::{NotifyError, Result};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

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
        Some(20003) => "the provider refused the account SID and auth token",
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
    pool: SenderPool,
}

impl TwilioClient {
    pub fn new(settings: TwilioSettings) -> Result<Self> {
        if settings.senders.is_empty() && settings.messaging_service_sid.is_none() {
            return Err(NotifyError::Config(
                "set sms.senders (E.164 numbers) or sms.messaging_service_sid".into(),
            ));
        }
        let pool = SenderPool::new(
            settings.senders.clone(),
            settings.rate_per_sender,
            "sms.rate_per_sender",
        )?;
        Ok(Self {
            http: crate::http_client()?,
            settings,
            pool,
        })
    }

    /// How many sends the pool makes per second.
    pub fn pool_rate(&self) -> f64 {
        self.pool.rate()
    }

    /// Sends `body` to `to`, waiting for a free sender; answers the provider's id.
    pub async fn send(&self, to: &str, body: &str) -> Result<String, SendError> {
        refuse_over_segment_limit(body, self.settings.max_segments)?;
        let sender = self.pool.wait_for_sender().await;
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
        let account = BasicAuth {
            provider: "the SMS provider",
            user: &self.settings.account_sid,
            password: &self.settings.auth_token,
        };
        let response = account.post_form(&self.http, url, &form).await?;
        let status = response.status();
        let retry_after = crate::retry_after(response.headers());
        if status.is_success() {
            let accepted: Accepted = account.accepted(response).await?;
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
            self.pool
                .slow_down(retry_after.unwrap_or(Duration::from_secs(1)))
                .await;
            Err(SendError::Busy {
                reason,
                retry_after,
            })
        } else if status.is_server_error() || matches!(status.as_u16(), 401 | 403) {
            // An outage or an account the provider no longer takes (credentials,
            // suspension): the provider's fault, which a failover provider can route
            // around, and which a fixed configuration cures on a retry.
            Err(SendError::Transient {
                reason,
                retry_after,
            })
        } else {
            Err(SendError::Permanent(reason))
        }
    }
}
