//! The `[sms]` section of the configuration: the provider the outbox worker sends
//! through (Twilio or a provider with its API, or 46elks) and, under `[sms.failover]`,
//! a second provider that takes over while the first fails. Without `[sms]` Reserv runs
//! and says that SMS is off.

use crate::config::{ConfigError, read_secret};
use chrono::Duration;
use reserv_domain::notices::Localized;
use reserv_domain::phone::E164;
use reserv_domain::sms::SmsCapacity;
use reserv_domain::sms_failover::FailoverPolicy;
use reserv_notify::WebhookSettings;
use reserv_notify::elks::ElksSettings;
use reserv_notify::provider::ProviderSettings;
use reserv_notify::twilio::TwilioSettings;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::path::PathBuf;

/// Settings of the SMS provider, from TOML `[sms]` or `RESERV_SMS__<KEY>`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// `twilio` (and providers with its API) or `46elks`.
    #[serde(default = "default_provider")]
    pub provider: String,
    /// The provider's API; by default Twilio's or 46elks' own.
    pub base_url: Option<String>,
    /// Twilio's account SID, or 46elks' API username.
    pub account_sid: String,
    /// Twilio's auth token, or 46elks' API password.
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
    /// The secret 46elks must put back in its delivery report URL, which it cannot
    /// sign; needed when a 46elks provider is configured with `public_url`.
    pub delivery_report_token: Option<String>,
    pub delivery_report_token_file: Option<PathBuf>,
    /// Failures of this provider in a row that move traffic to `[sms.failover]`.
    #[serde(default = "default_failover_after")]
    pub failover_after: NonZeroU32,
    /// How long the failover carries traffic before this provider is tried again.
    #[serde(default = "default_failover_retry_seconds")]
    pub failover_retry_seconds: NonZeroU32,
    /// Requests per minute each client address may make to the SMS and voice webhooks.
    #[serde(default = "default_webhook_requests_per_minute")]
    pub webhook_requests_per_minute: NonZeroU32,
    /// A second provider, ideally another company, for when this one fails.
    pub failover: Option<SmsFailoverConfig>,
}

/// The provider `[sms.failover]` names: the keys of `[sms]` that belong to a provider
/// account. Texts, numbers and webhooks stay those of `[sms]`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsFailoverConfig {
    #[serde(default = "default_provider")]
    pub provider: String,
    pub base_url: Option<String>,
    pub account_sid: String,
    pub auth_token: Option<String>,
    pub auth_token_file: Option<PathBuf>,
    #[serde(default)]
    pub senders: Vec<String>,
    pub messaging_service_sid: Option<String>,
    #[serde(default = "default_rate")]
    pub rate_per_sender: f64,
}

impl std::fmt::Debug for SmsFailoverConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsFailoverConfig")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "(hidden)"))
            .field("auth_token_file", &self.auth_token_file)
            .field("senders", &self.senders.len())
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("rate_per_sender", &self.rate_per_sender)
            .finish()
    }
}

/// One provider account, as `[sms]` or `[sms.failover]` gives it.
struct Account<'a> {
    /// `sms` or `sms.failover`, to name keys in errors.
    section: &'static str,
    provider: &'a str,
    base_url: Option<&'a String>,
    account_sid: &'a str,
    auth_token: Option<&'a String>,
    auth_token_file: Option<&'a PathBuf>,
    senders: &'a [String],
    messaging_service_sid: Option<&'a String>,
    rate_per_sender: f64,
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
    TWILIO.into()
}
fn default_failover_after() -> NonZeroU32 {
    NonZeroU32::MIN.saturating_add(2)
}
fn default_failover_retry_seconds() -> NonZeroU32 {
    NonZeroU32::MIN.saturating_add(59)
}
/// Generous: a send to 2 000 people brings two status callbacks each within minutes,
/// from the few addresses of one provider.
fn default_webhook_requests_per_minute() -> NonZeroU32 {
    NonZeroU32::MIN.saturating_add(5_999)
}

const TWILIO: &str = "twilio";
const ELKS: &str = "46elks";
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
            .field(
                "delivery_report_token",
                &self.delivery_report_token.as_ref().map(|_| "(hidden)"),
            )
            .field(
                "delivery_report_token_file",
                &self.delivery_report_token_file,
            )
            .field("failover_after", &self.failover_after)
            .field("failover_retry_seconds", &self.failover_retry_seconds)
            .field(
                "webhook_requests_per_minute",
                &self.webhook_requests_per_minute,
            )
            .field("failover", &self.failover)
            .finish()
    }
}

/// A number from the configuration in E.164 form, the error naming `key`.
fn phone(key: &str, written: &str) -> Result<E164, ConfigError> {
    E164::parse(key, written).map_err(|error| ConfigError::new(error.to_string()))
}

impl SmsConfig {
    /// Checks every SMS setting, reading the secret files, so that a mistake stops the
    /// start with the key named rather than the first crisis message.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.primary_settings()?;
        self.failover_settings()?;
        self.webhook_settings()?;
        Ok(())
    }

    /// The settings of the providers' webhooks, when `public_url` says where the
    /// providers reach this server.
    pub fn webhook_settings(&self) -> Result<Option<WebhookSettings>, ConfigError> {
        let Some(public_url) = &self.public_url else {
            return Ok(None);
        };
        let accounts = self.accounts();
        let twilio = accounts
            .iter()
            .find(|account| account.provider == TWILIO)
            .map(|account| account.auth_token())
            .transpose()?;
        Ok(Some(WebhookSettings {
            auth_token: twilio,
            delivery_report_token: self.delivery_report_token()?,
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

    /// When traffic moves to the failover provider and back.
    pub fn failover_policy(&self) -> FailoverPolicy {
        FailoverPolicy {
            failures_before_switch: self.failover_after,
            primary_retry_after: Duration::seconds(i64::from(self.failover_retry_seconds.get())),
        }
    }

    /// The `[sms]` provider's settings, reading the token file if one is named.
    pub fn primary_settings(&self) -> Result<ProviderSettings, ConfigError> {
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
        if !(1..=10).contains(&self.max_segments) {
            return Err(ConfigError::new(format!(
                "sms.max_segments must be 1 to 10, not {}",
                self.max_segments
            )));
        }
        self.provider_settings(&self.primary_account())
    }

    /// The `[sms.failover]` provider's settings, when one is configured.
    pub fn failover_settings(&self) -> Result<Option<ProviderSettings>, ConfigError> {
        self.failover_account()
            .map(|account| self.provider_settings(&account))
            .transpose()
    }

    fn primary_account(&self) -> Account<'_> {
        Account {
            section: "sms",
            provider: &self.provider,
            base_url: self.base_url.as_ref(),
            account_sid: &self.account_sid,
            auth_token: self.auth_token.as_ref(),
            auth_token_file: self.auth_token_file.as_ref(),
            senders: &self.senders,
            messaging_service_sid: self.messaging_service_sid.as_ref(),
            rate_per_sender: self.rate_per_sender,
        }
    }

    fn failover_account(&self) -> Option<Account<'_>> {
        self.failover.as_ref().map(|failover| Account {
            section: "sms.failover",
            provider: &failover.provider,
            base_url: failover.base_url.as_ref(),
            account_sid: &failover.account_sid,
            auth_token: failover.auth_token.as_ref(),
            auth_token_file: failover.auth_token_file.as_ref(),
            senders: &failover.senders,
            messaging_service_sid: failover.messaging_service_sid.as_ref(),
            rate_per_sender: failover.rate_per_sender,
        })
    }

    fn accounts(&self) -> Vec<Account<'_>> {
        std::iter::once(self.primary_account())
            .chain(self.failover_account())
            .collect()
    }

    /// The token in 46elks' delivery report URL; required when 46elks sends and the
    /// reports have somewhere to go.
    fn delivery_report_token(&self) -> Result<Option<String>, ConfigError> {
        let token = read_secret(
            "sms.delivery_report_token",
            self.delivery_report_token.as_ref(),
            self.delivery_report_token_file.as_ref(),
        )?;
        let elks = self
            .accounts()
            .iter()
            .any(|account| account.provider == ELKS);
        match token {
            Some(token)
                if token.len() < 16
                    || !token
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c)) =>
            {
                Err(ConfigError::new(
                    "sms.delivery_report_token must be at least 16 letters, digits, '-', '_', '.' or '~' (it goes into a URL): it is all that keeps forged delivery reports out".into(),
                ))
            }
            None if elks && self.public_url.is_some() => Err(ConfigError::new(
                "sms.delivery_report_token: 46elks signs nothing, so set a random secret (at least 16 characters) that Reserv puts in the delivery report URL it gives 46elks".into(),
            )),
            token => Ok(token),
        }
    }

    fn provider_settings(&self, account: &Account<'_>) -> Result<ProviderSettings, ConfigError> {
        let section = account.section;
        let auth_token = account.auth_token()?;
        let senders = account
            .senders
            .iter()
            .enumerate()
            .map(|(index, sender)| {
                phone(&format!("{section}.senders[{index}]"), sender).map(String::from)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let public_url = self
            .public_url
            .as_deref()
            .map(|url| url.trim_end_matches('/'));
        match account.provider {
            TWILIO => Ok(ProviderSettings::Twilio(TwilioSettings {
                base_url: account
                    .base_url
                    .cloned()
                    .unwrap_or_else(|| "https://api.twilio.com".into()),
                account_sid: account.account_sid.to_owned(),
                auth_token,
                senders,
                messaging_service_sid: account.messaging_service_sid.cloned(),
                rate_per_sender: account.rate_per_sender,
                max_segments: self.max_segments,
                status_callback: public_url.map(|url| format!("{url}/sms/status")),
            })),
            ELKS => {
                if account.messaging_service_sid.is_some() {
                    return Err(ConfigError::new(format!(
                        "{section}.messaging_service_sid is Twilio's; 46elks sends from {section}.senders"
                    )));
                }
                if senders.is_empty() {
                    return Err(ConfigError::new(format!(
                        "{section}.senders: 46elks needs at least one sender number"
                    )));
                }
                let token = self.delivery_report_token()?;
                Ok(ProviderSettings::Elks(ElksSettings {
                    base_url: account
                        .base_url
                        .cloned()
                        .unwrap_or_else(|| "https://api.46elks.com".into()),
                    api_username: account.account_sid.to_owned(),
                    api_password: auth_token,
                    senders,
                    rate_per_sender: account.rate_per_sender,
                    max_segments: self.max_segments,
                    delivery_report_url: public_url
                        .zip(token)
                        .map(|(url, token)| format!("{url}/sms/status/46elks?token={token}")),
                }))
            }
            other => Err(ConfigError::new(format!(
                "{section}.provider: '{other}' is not a provider Reserv knows; use twilio or 46elks"
            ))),
        }
    }
}

impl Account<'_> {
    fn auth_token(&self) -> Result<String, ConfigError> {
        let section = self.section;
        read_secret(
            &format!("{section}.auth_token"),
            self.auth_token,
            self.auth_token_file,
        )?
        .ok_or_else(|| {
            ConfigError::new(format!(
                "{section}: set auth_token or auth_token_file (for 46elks: the API password)"
            ))
        })
    }
}
