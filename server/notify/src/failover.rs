//! Sending SMS through the primary provider or, while it fails, the failover provider
//! (see [`reserv_domain::sms_failover`] for when traffic moves). Each move is logged
//! and shown through the store to the API; neither says anything about recipients.

use crate::provider::{SendError, SmsProvider};
use reserv_domain::sms_failover::{
    ActiveSmsProvider, Failover, FailoverPolicy, ProviderHealth, ProviderRole, Route, Switch,
};
use reserv_store::OutboxWorker;
use std::sync::{Mutex, PoisonError};

/// The configured SMS providers: one, or a primary with a failover.
pub struct SmsProviders {
    primary: SmsProvider,
    failover: Option<FailoverProvider>,
}

struct FailoverProvider {
    provider: SmsProvider,
    /// Locked for a moment to route or record a send, never across an await: the
    /// sends of a batch run concurrently.
    state: Mutex<Failover>,
}

/// A send a provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The provider that took it, as [`SmsProvider::name`] says.
    pub provider: &'static str,
    pub provider_id: String,
}

impl From<SmsProvider> for SmsProviders {
    fn from(provider: SmsProvider) -> Self {
        Self::single(provider)
    }
}

impl From<crate::twilio::TwilioClient> for SmsProviders {
    fn from(client: crate::twilio::TwilioClient) -> Self {
        Self::single(client)
    }
}

impl From<crate::elks::ElksClient> for SmsProviders {
    fn from(client: crate::elks::ElksClient) -> Self {
        Self::single(client)
    }
}

impl SmsProviders {
    /// Sends through `primary` alone.
    pub fn single(primary: impl Into<SmsProvider>) -> Self {
        Self {
            primary: primary.into(),
            failover: None,
        }
    }

    /// Moves traffic to `failover` when the primary fails, as `policy` says.
    pub fn with_failover(self, failover: impl Into<SmsProvider>, policy: FailoverPolicy) -> Self {
        Self {
            failover: Some(FailoverProvider {
                provider: failover.into(),
                state: Mutex::new(Failover::new(policy)),
            }),
            ..self
        }
    }

    /// The provider that carries traffic now.
    pub fn active(&self) -> ActiveSmsProvider {
        let role = self
            .failover
            .as_ref()
            .map(|failover| failover.lock().active())
            .unwrap_or(ProviderRole::Primary);
        ActiveSmsProvider {
            name: self.provider(role).name().into(),
            role,
            since: None,
        }
    }

    /// How many sends the primary's sender pool makes per second.
    pub fn pool_rate(&self) -> f64 {
        self.primary.pool_rate()
    }

    fn provider(&self, role: ProviderRole) -> &SmsProvider {
        match (role, &self.failover) {
            (ProviderRole::Failover, Some(failover)) => &failover.provider,
            _ => &self.primary,
        }
    }

    /// Sends `body` to `to` through the provider that carries traffic. When that
    /// provider fails and traffic moves because of it, the text goes through the other
    /// provider at once rather than waiting for its retry.
    pub async fn send(
        &self,
        outbox: &OutboxWorker,
        to: &str,
        body: &str,
    ) -> Result<Sent, SendError> {
        let Some(failover) = &self.failover else {
            return self.send_through(ProviderRole::Primary, to, body).await;
        };
        let route = failover.lock().route(outbox.now());
        let sent = self.send_through(route.role, to, body).await;
        let active = self.record(failover, outbox, route, &sent);
        match sent {
            Err(error)
                if error.provider_health() == ProviderHealth::Failing && active != route.role =>
            {
                let route = Route {
                    role: active,
                    probe: false,
                };
                let sent = self.send_through(route.role, to, body).await;
                self.record(failover, outbox, route, &sent);
                sent
            }
            sent => sent,
        }
    }

    async fn send_through(
        &self,
        role: ProviderRole,
        to: &str,
        body: &str,
    ) -> Result<Sent, SendError> {
        let provider = self.provider(role);
        let provider_id = provider.send(to, body).await?;
        Ok(Sent {
            provider: provider.name(),
            provider_id,
        })
    }

    /// Records how the provider of `route` answered; announces a switch it caused.
    /// Answers the provider that carries traffic now.
    fn record(
        &self,
        failover: &FailoverProvider,
        outbox: &OutboxWorker,
        route: Route,
        sent: &Result<Sent, SendError>,
    ) -> ProviderRole {
        let health = match sent {
            Ok(_) => ProviderHealth::Working,
            Err(error) => error.provider_health(),
        };
        let (switch, active) = {
            let mut state = failover.lock();
            (state.record(route, health, outbox.now()), state.active())
        };
        if let Some(switch) = switch {
            self.announce(outbox, switch);
        }
        active
    }

    /// Logs a move of traffic and shows it to the API. No recipient or text is named.
    fn announce(&self, outbox: &OutboxWorker, switch: Switch) {
        let to = self.provider(switch.to).name();
        match switch.to {
            ProviderRole::Failover => tracing::warn!(
                from = self.primary.name(),
                to,
                "the primary SMS provider fails; SMS go through the failover provider until it answers again"
            ),
            ProviderRole::Primary => tracing::info!(
                to,
                "the primary SMS provider answers again; SMS go through it"
            ),
        }
        outbox.show_active_sms_provider(ActiveSmsProvider {
            name: to.into(),
            role: switch.to,
            since: Some(switch.at),
        });
    }
}

impl FailoverProvider {
    fn lock(&self) -> std::sync::MutexGuard<'_, Failover> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
