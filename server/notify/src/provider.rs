//! The SMS providers Reserv sends through, behind one type so that the outbox worker
//! and the failover never ask which company they talk to: Twilio (and providers with
//! its API) or 46elks.

use crate::Result;
use crate::elks::{ElksClient, ElksSettings};
use crate::twilio::{TwilioClient, TwilioSettings};
use reserv_domain::sms::count_segments;
use reserv_domain::sms_failover::ProviderHealth;
use std::time::Duration;

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider is down, unreachable or refuses our account: worth retrying, and
    /// a reason to move to the failover provider.
    #[error("{reason}")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The provider works but asks us to slow down (429): retried later, and no reason
    /// to leave the provider.
    #[error("{reason}")]
    Busy {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help: the number, the recipient or the text is refused.
    #[error("{0}")]
    Permanent(String),
}

impl SendError {
    /// What this error says about the provider: only its own failures count, never a
    /// recipient's invalid number.
    pub fn provider_health(&self) -> ProviderHealth {
        match self {
            SendError::Transient { .. } => ProviderHealth::Failing,
            SendError::Busy { .. } | SendError::Permanent(_) => ProviderHealth::Working,
        }
    }
}

/// Refuses a text longer than `max_segments` before any provider is asked.
pub(crate) fn refuse_over_segment_limit(body: &str, max_segments: usize) -> Result<(), SendError> {
    let segments = count_segments(body);
    if segments.count > max_segments {
        return Err(SendError::Permanent(format!(
            "the text takes {} SMS segments ({:?}); sms.max_segments allows {}: shorten the message",
            segments.count, segments.encoding, max_segments
        )));
    }
    Ok(())
}

/// The providers' names, as configured and recorded on each copy they send.
pub(crate) const TWILIO: &str = "twilio";
pub(crate) const ELKS: &str = "46elks";

/// An account at a provider's API, as both providers authenticate: HTTP Basic.
pub(crate) struct BasicAuth<'a> {
    /// The provider as the crisis staff know it, for reasons on the outbox row.
    pub provider: &'a str,
    pub user: &'a str,
    pub password: &'a str,
}

impl BasicAuth<'_> {
    /// Posts `form` to `url`; a provider that does not answer is a transient failure.
    pub async fn post_form(
        &self,
        http: &reqwest::Client,
        url: String,
        form: &[(&str, &str)],
    ) -> Result<reqwest::Response, SendError> {
        http.post(url)
            .basic_auth(self.user, Some(self.password))
            .form(form)
            .send()
            .await
            .map_err(|error| SendError::Transient {
                reason: format!("{} did not answer: {error}", self.provider),
                retry_after: None,
            })
    }

    /// Reads the JSON answer to an accepted message; one not understood is a
    /// transient failure of the provider's.
    pub async fn accepted<T: serde::de::DeserializeOwned>(
        &self,
        response: reqwest::Response,
    ) -> Result<T, SendError> {
        response.json().await.map_err(|error| SendError::Transient {
            reason: format!("{}'s answer was not understood: {error}", self.provider),
            retry_after: None,
        })
    }
}

/// The settings of one provider, as the configuration names it.
#[derive(Debug, Clone)]
pub enum ProviderSettings {
    Twilio(TwilioSettings),
    Elks(ElksSettings),
}

/// One configured SMS provider.
pub enum SmsProvider {
    Twilio(TwilioClient),
    Elks(ElksClient),
}

impl SmsProvider {
    /// The client for the provider `settings` describe.
    pub fn connect(settings: ProviderSettings) -> Result<Self> {
        Ok(match settings {
            ProviderSettings::Twilio(settings) => SmsProvider::Twilio(TwilioClient::new(settings)?),
            ProviderSettings::Elks(settings) => SmsProvider::Elks(ElksClient::new(settings)?),
        })
    }

    /// The provider's kind as configured and recorded on each copy it sends.
    pub fn name(&self) -> &'static str {
        match self {
            SmsProvider::Twilio(_) => TWILIO,
            SmsProvider::Elks(_) => ELKS,
        }
    }

    /// How many sends its sender pool makes per second.
    pub fn pool_rate(&self) -> f64 {
        match self {
            SmsProvider::Twilio(client) => client.pool_rate(),
            SmsProvider::Elks(client) => client.pool_rate(),
        }
    }

    /// Sends `body` to `to`; answers the provider's id for the message.
    pub async fn send(&self, to: &str, body: &str) -> Result<String, SendError> {
        match self {
            SmsProvider::Twilio(client) => client.send(to, body).await,
            SmsProvider::Elks(client) => client.send(to, body).await,
        }
    }
}

impl From<TwilioClient> for SmsProvider {
    fn from(client: TwilioClient) -> Self {
        SmsProvider::Twilio(client)
    }
}

impl From<ElksClient> for SmsProvider {
    fn from(client: ElksClient) -> Self {
        SmsProvider::Elks(client)
    }
}
