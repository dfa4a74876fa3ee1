//! The providers' webhooks: `POST /sms/status`, where a Twilio-compatible provider
//! reports what became of each SMS; `POST /sms/status/46elks`, 46elks' delivery reports;
//! `POST /sms/inbound`, the SMS people send to Reserv's numbers
//! ([`crate::inbound_sms`]); and `POST /voice/inbound`, the residents' phone line
//! ([`crate::voice`]). Every Twilio request must carry a valid `X-Twilio-Signature` over
//! the public URL it was sent to. 46elks signs nothing, so its reports must carry the
//! secret token Reserv put in the callback URL it gave 46elks. Anything else is refused
//! with 403 and an audit event, and learns nothing.

use crate::provider::{ELKS, TWILIO};
use crate::signature::{callback_token_matches, verify_twilio_signature};
use crate::{inbound_sms, voice};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use reserv_domain::messages::DeliveryState;
use reserv_domain::notices::Localized;
use reserv_domain::phone::E164;
use reserv_store::{OutboxWorker, SmsLine};
use serde::Deserialize;
use std::sync::Arc;

/// What the webhooks need besides the store.
#[derive(Clone)]
pub struct WebhookSettings {
    /// The Twilio-compatible provider's auth token, which keys its signatures; `None`
    /// when no such provider is configured, and then its webhooks refuse everything.
    pub auth_token: Option<String>,
    /// The secret in 46elks' delivery report URL (`?token=…`); `None` when 46elks is
    /// not configured, and then its reports are refused.
    pub delivery_report_token: Option<String>,
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
            .field("auth_token", &self.auth_token.as_ref().map(|_| "(hidden)"))
            .field(
                "delivery_report_token",
                &self.delivery_report_token.as_ref().map(|_| "(hidden)"),
            )
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
        if let Some(auth_token) = &self.settings.auth_token
            && verify_twilio_signature(auth_token, &url, params, signature)
        {
            return true;
        }
        self.refused(uri, "missing or wrong X-Twilio-Signature")
            .await;
        false
    }

    /// Audits a refused request.
    async fn refused(&self, uri: &Uri, reason: &str) {
        if let Err(error) = self.outbox.record_refused_webhook(uri.path(), reason).await {
            tracing::error!(%error, "could not audit a refused webhook");
        }
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
        .route("/sms/status/46elks", post(elks_delivery_report))
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
        .record_delivery_status(TWILIO, sid, state, reason)
        .await
    {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(error) => {
            tracing::error!(%error, "could not record a delivery status");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The query string of 46elks' delivery report URL.
#[derive(Deserialize)]
struct ReportToken {
    token: Option<String>,
}

/// A 46elks delivery report: `id`, `status` (`sent`, `delivered` or `failed`) and, when
/// delivered, `delivered` (the time). 46elks retries until it gets a 2xx, so a report
/// for a copy Reserv does not know is still acknowledged.
async fn elks_delivery_report(
    State(hooks): State<Arc<Webhooks>>,
    uri: Uri,
    Query(query): Query<ReportToken>,
    Form(params): Form<Params>,
) -> StatusCode {
    let token_matches = match (&hooks.settings.delivery_report_token, &query.token) {
        (Some(expected), Some(given)) => callback_token_matches(expected, given),
        _ => false,
    };
    if !token_matches {
        hooks
            .refused(
                &uri,
                "missing or wrong token in 46elks' delivery report URL",
            )
            .await;
        return StatusCode::FORBIDDEN;
    }
    let (Some(id), Some(status)) = (param(&params, "id"), param(&params, "status")) else {
        return StatusCode::BAD_REQUEST;
    };
    let (state, reason) = match status {
        "sent" => (DeliveryState::Sent, None),
        "delivered" => (DeliveryState::Delivered, None),
        "failed" => (
            DeliveryState::Failed,
            Some("46elks reports the SMS failed".to_owned()),
        ),
        _ => return StatusCode::NO_CONTENT,
    };
    match hooks
        .outbox
        .record_delivery_status(ELKS, id, state, reason)
        .await
    {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(error) => {
            tracing::error!(%error, "could not record a delivery report");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
