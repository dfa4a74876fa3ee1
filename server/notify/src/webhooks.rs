//! The provider's webhooks: `POST /sms/status`, where the provider reports what became
//! of each SMS; `POST /sms/inbound`, the SMS people send to Reserv's numbers
//! ([`crate::inbound_sms`]); and `POST /voice/inbound`, the residents' phone line
//! ([`crate::voice`]). Every request must carry a valid `X-Twilio-Signature` over the
//! public URL it was sent to; anything else is refused with 403 and an audit event, and
//! learns nothing.

use crate::signature::verify_twilio_signature;
use crate::{inbound_sms, voice};
use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use reserv_domain::messages::DeliveryState;
use reserv_domain::notices::Localized;
use reserv_domain::phone::E164;
use reserv_store::{OutboxWorker, SmsLine};
use std::sync::Arc;

/// What the webhooks need besides the store.
#[derive(Clone)]
pub struct WebhookSettings {
    /// The provider's auth token, which keys the signatures.
    pub auth_token: String,
    /// The public base URL the provider signs, such as `https://reserv.example.se`.
    pub public_url: String,
    /// The residents' information number: SMS to it get the public notice, whatever
    /// they say. SMS to any other number are staff commands.
    pub resident_number: Option<E164>,
    /// What residents are told when no notice is current.
    pub without_notice: Localized,
    /// The most SMS segments an answer to staff may take.
    pub max_segments: usize,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("auth_token", &"(hidden)")
            .field("public_url", &self.public_url)
            .field("resident_number", &self.resident_number.is_some())
            .field("max_segments", &self.max_segments)
            .finish()
    }
}

pub(crate) struct Webhooks {
    pub outbox: OutboxWorker,
    pub line: SmsLine,
    pub settings: WebhookSettings,
}

/// The form fields of a webhook request, in the order they came.
pub(crate) type Params = Vec<(String, String)>;

pub(crate) fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

impl Webhooks {
    /// Whether the request to `uri` with `params` carries the provider's signature over
    /// the full public URL, query string included. When it does not, the refusal is
    /// audited.
    pub async fn verified(&self, uri: &Uri, headers: &HeaderMap, params: &Params) -> bool {
        let path_and_query = uri
            .path_and_query()
            .map(|path| path.as_str())
            .unwrap_or_else(|| uri.path());
        let url = format!("{}{path_and_query}", self.settings.public_url);
        let signature = headers
            .get("x-twilio-signature")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if verify_twilio_signature(&self.settings.auth_token, &url, params, signature) {
            return true;
        }
        if let Err(error) = self.outbox.record_refused_webhook(uri.path()).await {
            tracing::error!(%error, "could not audit a refused webhook");
        }
        false
    }

    /// A URL on this server as the provider reaches it, for TwiML to point back to.
    pub fn public(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.settings.public_url)
    }
}

/// The provider's webhook routes, to be merged into the server's router.
pub fn sms_webhooks(outbox: OutboxWorker, line: SmsLine, mut settings: WebhookSettings) -> Router {
    settings.public_url = settings.public_url.trim_end_matches('/').to_owned();
    let state = Arc::new(Webhooks {
        outbox,
        line,
        settings,
    });
    Router::new()
        .route("/sms/status", post(delivery_status))
        .route("/sms/inbound", post(inbound_sms::inbound_sms))
        .route("/voice/inbound", post(voice::inbound_call))
        .with_state(state)
}

async fn delivery_status(
    State(hooks): State<Arc<Webhooks>>,
    uri: Uri,
    headers: HeaderMap,
    Form(params): Form<Params>,
) -> StatusCode {
    if !hooks.verified(&uri, &headers, &params).await {
        return StatusCode::FORBIDDEN;
    }
    let (Some(sid), Some(status)) = (
        param(&params, "MessageSid"),
        param(&params, "MessageStatus"),
    ) else {
        return StatusCode::BAD_REQUEST;
    };
    let (state, reason) = match status {
        "sent" => (DeliveryState::Sent, None),
        "delivered" => (DeliveryState::Delivered, None),
        "undelivered" | "failed" => (
            DeliveryState::Failed,
            Some(format!(
                "the provider reports the SMS {status} (error {})",
                param(&params, "ErrorCode").unwrap_or("none")
            )),
        ),
        // queued, sending, accepted: nothing new for the roll-call.
        _ => return StatusCode::NO_CONTENT,
    };
    match hooks
        .outbox
        .record_delivery_status(sid, state, reason)
        .await
    {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(error) => {
            tracing::error!(%error, "could not record a delivery status");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
