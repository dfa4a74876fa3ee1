//! The `[sms]` section of the configuration: the Twilio-compatible provider the outbox
//! worker sends through. Without it Reserv runs and says that SMS is off.

use crate::config::{ConfigError, read_secret};
use reserv_domain::notices::Localized;
use reserv_domain::phone::E164;
use reserv_domain::sms::SmsCapacity;
use reserv_notify::WebhookSettings;
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
    /// The residents' information number: SMS to it are answered with the current
    /// public notice; SMS to any other number are staff commands.
    #[serde(default, deserialize_with = "phone_number")]
    pub resident_number: Option<String>,
    /// What the residents' SMS and phone lines say when no notice is current (Swedish).
    #[serde(default = "default_without_notice_sv")]
    pub resident_text_without_notice: String,
    /// The same in English, for the phone line's English choice.
    #[serde(default = "default_without_notice_en")]
    pub resident_text_without_notice_en: String,
}

/// A phone number as written in TOML or in the environment, where
/// `RESERV_SMS__RESIDENT_NUMBER=+46766860099` reaches us as the integer 46766860099:
/// the `+` is put back, since an E.164 number always has one.
fn phone_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Text(String),
        Number(u64),
    }
    match Option::<Written>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Written::Text(text)) => Ok(Some(text)),
        // A country code and a national number have ten digits or more; fewer means the
        // leading 0 of a national number ("0766…") was dropped, and "+766…" would be a
        // number in another country.
        Some(Written::Number(number)) if number >= 1_000_000_000 => Ok(Some(format!("+{number}"))),
        Some(Written::Number(_)) => Err(serde::de::Error::custom(
            "write the number with + and the country code (+46766860099), or in quotes",
        )),
    }
}

fn default_without_notice_sv() -> String {
    "Kommunen har inga störningar att meddela just nu. Vid fara för liv eller hälsa, ring 112."
        .into()
}
fn default_without_notice_en() -> String {
    "The municipality has no disruptions to report right now. If a life is in danger, call 112."
        .into()
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
            .field("resident_number", &self.resident_number.is_some())
            .finish()
    }
}

/// A number from the configuration in E.164 form, the error naming `key`.
fn phone(key: &str, written: &str) -> Result<E164, ConfigError> {
    E164::parse(key, written).map_err(|error| ConfigError::new(error.to_string()))
}

impl SmsConfig {
    /// The settings of the provider's webhooks, when `public_url` says where the
    /// provider reaches this server.
    pub fn webhook_settings(&self) -> Result<Option<WebhookSettings>, ConfigError> {
        let Some(public_url) = &self.public_url else {
            return Ok(None);
        };
        let twilio = self.twilio_settings()?;
        Ok(Some(WebhookSettings {
            auth_token: twilio.auth_token,
            public_url: public_url.clone(),
            resident_number: self.resident_number()?,
            without_notice: Localized {
                sv: self.resident_text_without_notice.clone(),
                en: Some(self.resident_text_without_notice_en.clone()),
            },
            max_segments: self.max_segments,
        }))
    }

    /// The residents' number in E.164 form, however it was written.
    fn resident_number(&self) -> Result<Option<E164>, ConfigError> {
        self.resident_number
            .as_deref()
            .map(|number| phone("sms.resident_number", number))
            .transpose()
    }

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
        self.resident_number()?;
        for (key, text) in [
            (
                "sms.resident_text_without_notice",
                &self.resident_text_without_notice,
            ),
            (
                "sms.resident_text_without_notice_en",
                &self.resident_text_without_notice_en,
            ),
        ] {
            if text.trim().is_empty() || text.chars().count() > 300 {
                return Err(ConfigError::new(format!(
                    "{key} must be 1 to 300 characters: it is what residents hear and read when no notice is published"
                )));
            }
        }
        let senders = self
            .senders
            .iter()
            .enumerate()
            .map(|(index, sender)| {
                phone(&format!("sms.senders[{index}]"), sender).map(String::from)
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
