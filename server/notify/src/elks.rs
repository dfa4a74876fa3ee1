//! An SMS client for 46elks, a Swedish provider, so that the failover can be another
//! company than Twilio: `POST {base}/a1/sms` with the form fields `from`, `to`,
//! `message` and `whendelivered` (where 46elks posts delivery reports), authenticated by
//! HTTP Basic with the API username and password. 46elks answers a JSON object with
//! the message's `id`; errors come as 4xx with a short plain-text reason, and 429 asks
//! us to slow down.

use crate::provider::{BasicAuth, SendError, refuse_over_segment_limit};
use crate::sender_pool::SenderPool;
use crate::{NotifyError, Result};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// Settings of a 46elks account.
#[derive(Clone)]
pub struct ElksSettings {
    /// `https://api.46elks.com` for 46elks itself.
    pub base_url: String,
    pub api_username: String,
    pub api_password: String,
    /// E.164 sender numbers; 46elks needs one on every send.
    pub senders: Vec<String>,
    /// Messages per second per sender.
    pub rate_per_sender: f64,
    /// Longer texts are refused rather than sent as many expensive segments.
    pub max_segments: usize,
    /// Where 46elks posts delivery reports: `{public_url}/sms/status/46elks?token=…`.
    pub delivery_report_url: Option<String>,
}

impl fmt::Debug for ElksSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ElksSettings")
            .field("base_url", &self.base_url)
            .field("api_username", &self.api_username)
            .field("api_password", &"(hidden)")
            .field("senders", &self.senders.len())
            .field("rate_per_sender", &self.rate_per_sender)
            .field("max_segments", &self.max_segments)
            .field(
                "delivery_report_url",
                &self
                    .delivery_report_url
                    .as_ref()
                    .map(|_| "(set, with its token)"),
            )
            .finish()
    }
}

/// 46elks' answer to an accepted message; its other fields (`status`, `parts`, `cost`)
/// are not needed to track delivery.
#[derive(Debug, Deserialize)]
struct Accepted {
    id: String,
}

pub struct ElksClient {
    http: reqwest::Client,
    settings: ElksSettings,
    pool: SenderPool,
}

impl ElksClient {
    pub fn new(settings: ElksSettings) -> Result<Self> {
        if settings.senders.is_empty() {
            return Err(NotifyError::Config(
                "46elks needs a sender on every message: set sms.senders (E.164 numbers)".into(),
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

    /// Sends `body` to `to`, waiting for a free sender; answers 46elks' id.
    pub async fn send(&self, to: &str, body: &str) -> Result<String, SendError> {
        refuse_over_segment_limit(body, self.settings.max_segments)?;
        let from = self.pool.wait_for_sender().await.unwrap_or_default();
        let mut form: Vec<(&str, &str)> = vec![("from", from), ("to", to), ("message", body)];
        if let Some(url) = &self.settings.delivery_report_url {
            form.push(("whendelivered", url));
        }
        let url = format!("{}/a1/sms", self.settings.base_url.trim_end_matches('/'));
        let account = BasicAuth {
            provider: "46elks",
            user: &self.settings.api_username,
            password: &self.settings.api_password,
        };
        let response = account.post_form(&self.http, url, &form).await?;
        let status = response.status();
        let retry_after = crate::retry_after(response.headers());
        if status.is_success() {
            let accepted: Accepted = account.accepted(response).await?;
            return Ok(accepted.id);
        }
        let said = response.text().await.unwrap_or_default();
        let reason = format!(
            "46elks refused with HTTP {}: {}",
            status.as_u16(),
            without_numbers(&said)
        );
        if status.as_u16() == 429 {
            self.pool
                .slow_down(retry_after.unwrap_or(Duration::from_secs(1)))
                .await;
            return Err(SendError::Busy {
                reason,
                retry_after,
            });
        }
        // An outage, refused credentials or an account out of credit are 46elks'
        // side, which the failover provider can route around; any other refusal is
        // about this number or text.
        if status.is_server_error()
            || status.as_u16() == 401
            || said.to_lowercase().contains("credit")
        {
            return Err(SendError::Transient {
                reason,
                retry_after,
            });
        }
        Err(SendError::Permanent(reason))
    }
}

/// 46elks' plain-text reason, shortened, with every digit masked: a reason such as
/// "Invalid to number +4670…" must not carry the number into the outbox and the audit.
fn without_numbers(said: &str) -> String {
    let reason: String = said
        .trim()
        .chars()
        .take(120)
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect();
    if reason.is_empty() {
        "no reason given".into()
    } else {
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_keep_no_phone_number() {
        assert_eq!(
            without_numbers("Invalid to number +46701740613\n"),
            "Invalid to number +###########"
        );
        assert_eq!(without_numbers(""), "no reason given");
    }
}
