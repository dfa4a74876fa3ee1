//! The `[sms]` section of the configuration: the Twilio-compatible provider the outbox
//! worker sends through. Without it Reserv runs and says that SMS is off.

use crate::config::{ConfigError, read_secret};
use reserv_domain::phone::E164;
use reserv_domain::sms::SmsCapacity;
use reserv_notify::twilio::TwilioSettings;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Settings of the SMS provider, from TOML `[sms]` or `RESERV_SMS__<KEY>`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// `twilio`, the only provider so far (46elks is issue 7's next step).
    #[serde(default = "default_provider")]
    pub provider: String,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: Option<String>,
    /// A file holding the auth token, for secrets mounted as files.
    pub auth_token_file: Option<PathBuf>,
    /// Sender numbers, spread over evenly; written as people write them or in E.164.
    #[serde(default)]
    pub senders: Vec<String>,
    pub messaging_service_sid: Option<String>,
    /// Messages per second per sender; an ordinary number manages about 1.
    #[serde(default = "default_rate")]
    pub rate_per_sender: f64,
    /// Texts longer than this many segments are refused.
    #[serde(default = "default_max_segments")]
    pub max_segments: usize,
    /// This server's base URL as the provider sees it, for status callbacks.
    pub public_url: Option<String>,
    /// The residents' information number (inbound handling is still to come).
    pub resident_number: Option<String>,
}

fn default_provider() -> String {
    "twilio".into()
}
fn default_base_url() -> String {
    "https://api.twilio.com".into()
}
fn default_rate() -> f64 {
    1.0
}
fn default_max_segments() -> usize {
    4
}

impl std::fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsConfig")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "(hidden)"))
            .field("auth_token_file", &self.auth_token_file)
            .field("senders", &self.senders.len())
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("rate_per_sender", &self.rate_per_sender)
            .field("max_segments", &self.max_segments)
            .field("public_url", &self.public_url)
            .finish()
    }
}

impl SmsConfig {
    /// What the pool carries, for the estimates crisis leads see before sending.
    pub fn capacity(&self) -> SmsCapacity {
        SmsCapacity {
            senders: self.senders.len().max(1),
            rate_per_sender: self.rate_per_sender,
            max_segments: self.max_segments,
        }
    }

    /// The provider settings, reading the token file if one is named.
    pub fn twilio_settings(&self) -> Result<TwilioSettings, ConfigError> {
        if self.provider != "twilio" {
            return Err(ConfigError::new(format!(
                "sms.provider: '{}' is not supported yet; use twilio",
                self.provider
            )));
        }
        let auth_token = read_secret(
            "sms.auth_token",
            self.auth_token.as_ref(),
            self.auth_token_file.as_ref(),
        )?
        .ok_or_else(|| ConfigError::new("sms: set auth_token or auth_token_file".into()))?;
        let senders = self
            .senders
            .iter()
            .enumerate()
            .map(|(index, sender)| {
                E164::parse(&format!("sms.senders[{index}]"), sender)
                    .map(String::from)
                    .map_err(|error| ConfigError::new(error.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !(1..=10).contains(&self.max_segments) {
            return Err(ConfigError::new(format!(
                "sms.max_segments must be 1 to 10, not {}",
                self.max_segments
            )));
        }
        Ok(TwilioSettings {
            base_url: self.base_url.clone(),
            account_sid: self.account_sid.clone(),
            auth_token,
            senders,
            messaging_service_sid: self.messaging_service_sid.clone(),
            rate_per_sender: self.rate_per_sender,
            max_segments: self.max_segments,
            status_callback: self
                .public_url
                .as_deref()
                .map(|url| format!("{}/sms/status", url.trim_end_matches('/'))),
        })
    }
}
