//! The outbox worker sends queued SMS through a Twilio-compatible provider: here a mock
//! on loopback that checks what it receives as the real one would (Basic auth, form
//! fields, sender, segment limit) and answers with real-shaped JSON and errors.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use reserv_domain::messages::DeliveryState;
use reserv_notify::DeliveryWorker;
use reserv_notify::twilio::{TwilioClient, TwilioSettings};
use reserv_tests::{id_where, on_every_database};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "test-auth-token";
const SENDERS: [&str; 2] = ["+46766860001", "+46766860002"];
/// Karin Lindqvist's number in the sample: the mock calls it invalid.
const INVALID: &str = "+46701740613";

#[derive(Default)]
pub(crate) struct Provider {
    pub received: Vec<HashMap<String, String>>,
    /// How many requests still get a 429 before the provider accepts again.
    busy: usize,
    /// The provider is down: every request gets a 500.
    pub outage: bool,
    /// Every number is refused as invalid (error 21211), as for a batch of typos.
    pub refuse_every_number: bool,
    /// Requests answered, whatever the answer.
    pub requests: usize,
}

pub(crate) type Shared = Arc<Mutex<Provider>>;

fn twilio_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({ "code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status.as_u16() });
    (status, axum::Json(body)).into_response()
}

async fn create_message(
    State(provider): State<Shared>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    );
    if account != ACCOUNT
        || headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&expected)
    {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let Some(to) = form.get("To").filter(|to| to.starts_with('+')) else {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21604,
            "A 'To' phone number is required.",
        );
    };
    if !form
        .get("From")
        .is_some_and(|from| SENDERS.contains(&from.as_str()))
    {
        return twilio_error(StatusCode::BAD_REQUEST, 21212, "Invalid 'From' number");
    }
    let Some(body) = form.get("Body") else {
        return twilio_error(StatusCode::BAD_REQUEST, 21602, "Message body is required.");
    };
    // Twilio refuses bodies over 1 600 characters.
    if body.chars().count() > 1_600 {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        );
    }
    let mut provider = provider
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    provider.requests += 1;
    if provider.outage {
        return twilio_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            20500,
            "Internal Server Error",
        );
    }
    if to == INVALID || provider.refuse_every_number {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    if provider.busy > 0 {
        provider.busy -= 1;
        let mut response = twilio_error(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests");
        response
            .headers_mut()
            .insert("retry-after", axum::http::HeaderValue::from_static("1"));
        return response;
    }
    provider.received.push(form.clone());
    let sid = format!("SM{:032x}", provider.received.len());
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "sid": sid, "account_sid": ACCOUNT, "to": to, "from": form.get("From"), "body": body,
            "status": "queued", "num_segments": "1", "direction": "outbound-api",
            "uri": format!("/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json"),
        })),
    )
        .into_response()
}

pub(crate) async fn a_mock_provider(busy: usize) -> anyhow::Result<(String, Shared)> {
    let provider: Shared = Arc::new(Mutex::new(Provider {
        busy,
        ..Provider::default()
    }));
    let app = axum::Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(create_message),
        )
        .with_state(provider.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((base, provider))
}

pub(crate) fn settings(base_url: String) -> TwilioSettings {
    TwilioSettings {
        base_url,
        account_sid: ACCOUNT.into(),
        auth_token: TOKEN.into(),
        senders: SENDERS.iter().map(|sender| sender.to_string()).collect(),
        messaging_service_sid: None,
        rate_per_sender: 50.0,
        max_segments: 4,
        status_callback: Some("https://reserv.example.se/sms/status".into()),
    }
}

const ROLL_CALL: &str = "query($id: ID!) { rollCall(messageId: $id) {
    overall { recipients queued sent delivered failed unreachable }
} }";

on_every_database! {
    async fn queued_sms_go_out_through_the_provider_and_confidential_content_stays_home(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let units = lead.data("{ units { id name } }", json!({})).await?;
        let hemtjanst = id_where(&units["units"], "name", "Hemtjänst")?;
        let sent = lead.data(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id reference recipientCount } }",
            json!({ "input": {
                "audience": { "unitIds": [hemtjanst] },
                "bodySv": "Brukaren på Storgatan 4 har skyddad identitet; larmet går via 0921-123 45.",
                "classification": { "confidentiality": 2, "integrity": 1, "availability": 2 },
            } }),
        ).await?;
        let message = sent["sendMessage"].clone();
        let recipients = message["recipientCount"].as_u64().unwrap_or_default() as usize;
        assert!(recipients >= 5, "{message}");

        let (base, provider) = a_mock_provider(1).await?;
        let outbox = server.store()?.outbox_worker("sms test");
        let worker = DeliveryWorker::new(outbox.clone(), TwilioClient::new(settings(base))?);
        assert_eq!(worker.run_once().await?, recipients, "every copy is claimed once");
        assert_eq!(worker.run_once().await?, 0, "the busy one waits for its backoff");

        let received = provider.lock().map(|p| p.received.clone()).unwrap_or_default();
        assert_eq!(received.len(), recipients - 2, "one refused as invalid, one slowed down by a 429");
        let reference = message["reference"].as_str().unwrap_or_default();
        for form in &received {
            let body = &form["Body"];
            assert!(!body.contains("Storgatan") && !body.contains("skyddad"), "confidential text went by SMS: {body}");
            assert!(body.contains(reference), "the SMS names the message: {body}");
            assert_eq!(form.get("StatusCallback").map(String::as_str), Some("https://reserv.example.se/sms/status"));
        }
        let senders: std::collections::BTreeSet<&str> = received.iter().map(|form| form["From"].as_str()).collect();
        assert_eq!(senders.len(), 2, "sends spread over the pool");

        let delivered = format!("SM{:032x}", 1);
        assert!(outbox.record_delivery_status("twilio", &delivered, DeliveryState::Delivered, None).await?);
        assert!(!outbox.record_delivery_status("twilio", "SMunknown", DeliveryState::Delivered, None).await?);
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message["id"] })).await?;
        let overall = &roll_call["rollCall"]["overall"];
        assert_eq!(overall["failed"], 1, "{roll_call}");
        assert_eq!(overall["queued"], 1, "{roll_call}");
        assert_eq!(overall["delivered"], 1, "{roll_call}");
        assert_eq!(overall["sent"], recipients - 3, "{roll_call}");
        Ok(())
    }

    async fn copies_claimed_by_a_worker_that_died_are_claimed_again_after_the_lease(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        lead.data(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
            json!({ "input": { "audience": { "roles": ["CRISIS_LEAD"] }, "bodySv": "Avstämning kl. 15" } }),
        ).await?;
        let store = server.store()?;
        // The first worker claims and is killed before it records anything; its lease
        // (zero here, so that the test need not wait) runs out.
        let died = store.outbox_worker("worker that dies");
        let claimed = died.claim_outbox_batch(100, chrono::Duration::zero()).await?;
        assert!(!claimed.is_empty());
        let next = store.outbox_worker("worker after restart");
        let again = next.claim_outbox_batch(100, chrono::Duration::seconds(60)).await?;
        let ids = |items: &[reserv_store::OutboxItem]| items.iter().map(|item| item.id).collect::<Vec<_>>();
        assert_eq!(ids(&again), ids(&claimed), "every copy is picked up again");
        assert!(again.iter().all(|item| item.attempts == 2), "the retry counts as a second attempt");
        let third = store.outbox_worker("third worker");
        assert!(third.claim_outbox_batch(100, chrono::Duration::seconds(60)).await?.is_empty(), "a live lease is respected");
        Ok(())
    }

    async fn an_outcome_recorded_after_the_lease_ran_out_changes_nothing(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let sent = lead.data(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
            json!({ "input": { "audience": { "roles": ["CRISIS_LEAD"] }, "bodySv": "Avstämning kl. 15" } }),
        ).await?;
        let message = sent["sendMessage"]["id"].clone();
        let store = server.store()?;
        // The slow worker's send outlives its lease (zero here, so that the test need
        // not wait); the next worker claims the copies, sends them and records first.
        let slow = store.outbox_worker("slow worker");
        let claimed = slow.claim_outbox_batch(100, chrono::Duration::zero()).await?;
        assert!(!claimed.is_empty());
        let next = store.outbox_worker("next worker");
        let again = next.claim_outbox_batch(100, chrono::Duration::seconds(60)).await?;
        assert_eq!(again.len(), claimed.len());
        let accepted_as = |items: &[reserv_store::OutboxItem], prefix: &str| {
            items
                .iter()
                .map(|item| {
                    let outcome = reserv_store::SendOutcome::Accepted {
                        provider: "twilio".into(),
                        provider_id: format!("{prefix}{}", item.id),
                    };
                    (item.clone(), outcome)
                })
                .collect::<Vec<_>>()
        };
        // Before the next worker records, the slow one's late outcome is refused as well:
        // the rows carry the new claim.
        let late = slow.record_sends(accepted_as(&claimed, "SMslow")).await?;
        assert_eq!(late.recorded, 0, "{late:?}");
        assert_eq!(late.lost_leases, claimed.iter().map(|item| item.id).collect::<Vec<_>>());
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message })).await?;
        assert_eq!(roll_call["rollCall"]["overall"]["sent"], 0, "{roll_call}");

        let recorded = next.record_sends(accepted_as(&again, "SMnext")).await?;
        assert_eq!(recorded.recorded, again.len(), "{recorded:?}");
        assert!(recorded.lost_leases.is_empty());
        // After it, too: the slow worker's permanent failure neither fails nor moves a copy.
        let failed: Vec<_> = claimed
            .iter()
            .map(|item| (item.clone(), reserv_store::SendOutcome::Permanent { reason: "refused".into() }))
            .collect();
        let late = slow.record_sends(failed).await?;
        assert_eq!((late.recorded, late.lost_leases.len()), (0, claimed.len()), "{late:?}");
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message })).await?;
        let overall = &roll_call["rollCall"]["overall"];
        assert_eq!(overall["sent"], again.len(), "{roll_call}");
        assert_eq!(overall["failed"], 0, "{roll_call}");
        let outbox = store.outbox_worker("status callbacks");
        let first = claimed[0].id;
        assert!(
            outbox.record_delivery_status("twilio", &format!("SMnext{first}"), DeliveryState::Delivered, None).await?,
            "the copy carries the next worker's provider id"
        );
        assert!(
            !outbox.record_delivery_status("twilio", &format!("SMslow{first}"), DeliveryState::Delivered, None).await?,
            "and not the slow one's"
        );
        Ok(())
    }

    async fn status_callbacks_count_only_when_signed_by_the_provider(server: sample_municipality) {
        let lead = server.sign_in_as("krisledare").await?;
        let people = lead.data("{ people(first: 100) { nodes { id name } } }", json!({})).await?;
        let anna = id_where(&people["people"]["nodes"], "name", "Anna Berglund")?;
        let sent = lead.data(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
            json!({ "input": { "audience": { "personIds": [anna] }, "bodySv": "Provmeddelande" } }),
        ).await?;
        let message = sent["sendMessage"]["id"].clone();
        let (base, _provider) = a_mock_provider(0).await?;
        let store = server.store()?;
        let worker = DeliveryWorker::new(store.outbox_worker("sms test"), TwilioClient::new(settings(base))?);
        assert_eq!(worker.run_once().await?, 1);

        let public_url = "https://reserv.example.se";
        let settings = reserv_notify::WebhookSettings {
            auth_token: Some(TOKEN.into()),
            delivery_report_token: None,
            public_url: public_url.into(),
            resident_number: None,
            without_notice: reserv_domain::notices::Localized { sv: "Inget just nu.".into(), en: None },
            max_segments: 4,
        };
        let webhooks = reserv_notify::sms_webhooks(store.outbox_worker("sms webhooks"), store.sms_line(), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, webhooks).await });
        let callback = [("MessageSid", format!("SM{:032x}", 1)), ("MessageStatus", "delivered".to_owned()), ("AccountSid", ACCOUNT.to_owned())];
        let http = reqwest::Client::new();
        let endpoint = format!("http://{address}/sms/status");

        let events_before = store.audit_event_count().await?;
        let forged = http.post(&endpoint).header("X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=").form(&callback).send().await?;
        assert_eq!(forged.status(), 403);
        assert_eq!(store.audit_event_count().await?, events_before + 1, "the refusal is audited");
        let unsigned = http.post(&endpoint).form(&callback).send().await?;
        assert_eq!(unsigned.status(), 403);
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message })).await?;
        assert_eq!(roll_call["rollCall"]["overall"]["delivered"], 0, "{roll_call}");

        let signed = http.post(&endpoint).header("X-Twilio-Signature", sign(&format!("{public_url}/sms/status"), &callback)).form(&callback).send().await?;
        assert_eq!(signed.status(), 204);
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message })).await?;
        assert_eq!(roll_call["rollCall"]["overall"]["delivered"], 1, "{roll_call}");
        Ok(())
    }
}

/// Signs a request as the provider does, written out here independently of Reserv's
/// verifier.
pub(crate) fn sign(url: &str, params: &[(&str, String)]) -> String {
    use hmac::{KeyInit, Mac};
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_owned();
    for (name, value) in sorted {
        data.push_str(name);
        data.push_str(&value);
    }
    let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(TOKEN.as_bytes()) else {
        return String::new();
    };
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}
