//! The provider's webhooks: `POST /sms/status`, where the provider reports what became
//! of each SMS. Every request must carry a valid `X-Twilio-Signature`; anything else is
//! refused with 403 and an audit event, and learns nothing.

use crate::signature::verify_twilio_signature;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use reserv_domain::messages::DeliveryState;
use reserv_store::OutboxWorker;
use std::sync::Arc;

struct Webhooks {
    outbox: OutboxWorker,
    auth_token: String,
    /// The public base URL the provider signs, such as `https://reserv.example.se`.
    public_url: String,
}

/// The SMS webhook routes, to be merged into the server's router.
pub fn sms_webhooks(outbox: OutboxWorker, auth_token: String, public_url: String) -> Router {
    let state = Arc::new(Webhooks {
        outbox,
        auth_token,
        public_url: public_url.trim_end_matches('/').to_owned(),
    });
    Router::new()
        .route("/sms/status", post(delivery_status))
        .with_state(state)
}

async fn delivery_status(
    State(hooks): State<Arc<Webhooks>>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> StatusCode {
    let url = format!("{}/sms/status", hooks.public_url);
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !verify_twilio_signature(&hooks.auth_token, &url, &params, signature) {
        if let Err(error) = hooks.outbox.record_refused_webhook("/sms/status").await {
            tracing::error!(%error, "could not audit a refused webhook");
        }
        return StatusCode::FORBIDDEN;
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let (Some(sid), Some(status)) = (param("MessageSid"), param("MessageStatus")) else {
        return StatusCode::BAD_REQUEST;
    };
    let (state, reason) = match status {
        "sent" => (DeliveryState::Sent, None),
        "delivered" => (DeliveryState::Delivered, None),
        "undelivered" | "failed" => (
            DeliveryState::Failed,
            Some(format!(
                "the provider reports the SMS {status} (error {})",
                param("ErrorCode").unwrap_or("none")
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
