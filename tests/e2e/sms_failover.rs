//! A second SMS provider, 46elks, behind the same outbox worker: sends through it with
//! its delivery reports, traffic moving to it while the Twilio-compatible primary fails
//! and back when the primary answers again, and the webhooks' limit per client address.
//! The 46elks mock on loopback checks what the real API requires (Basic auth with the
//! API username and password, the form fields `from`, `to`, `message`,
//! `whendelivered`) and answers with 46elks-shaped JSON and plain-text errors.

use crate::sms_delivery::{Shared, a_mock_provider, settings};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use reserv_domain::sms_failover::FailoverPolicy;
use reserv_notify::DeliveryWorker;
use reserv_notify::elks::{ElksClient, ElksSettings};
use reserv_notify::failover::SmsProviders;
use reserv_notify::twilio::TwilioClient;
use reserv_tests::{
    Client, ELKS_REPORT_TOKEN, STAFF_NUMBER, TestServer, id_where, on_every_database,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const ELKS_USERNAME: &str = "u0123456789abcdef0123456789abcdef";
const ELKS_PASSWORD: &str = "elks-test-password";
/// The delivery report URL Reserv gives 46elks in these tests.
const REPORT_URL: &str =
    "https://reserv.example.se/sms/status/46elks?token=elks-report-token-0123456789";
/// Karin Lindqvist's number in the sample: 46elks calls it invalid too.
const INVALID: &str = "+46701740613";

#[derive(Default)]
struct Elks {
    received: Vec<HashMap<String, String>>,
}

type SharedElks = Arc<Mutex<Elks>>;

async fn send_sms(
    State(elks): State<SharedElks>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{ELKS_USERNAME}:{ELKS_PASSWORD}"))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&expected) {
        return (
            StatusCode::UNAUTHORIZED,
            "API access requires Basic HTTP authentication",
        )
            .into_response();
    }
    let field = |name: &str| form.get(name).filter(|value| !value.is_empty());
    if field("from") != Some(&STAFF_NUMBER.to_owned()) {
        return (StatusCode::BAD_REQUEST, "Invalid from number").into_response();
    }
    let Some(to) =
        field("to").filter(|to| to.starts_with('+') && to[1..].chars().all(|c| c.is_ascii_digit()))
    else {
        return (StatusCode::BAD_REQUEST, "Missing key to").into_response();
    };
    let Some(message) = field("message") else {
        return (StatusCode::BAD_REQUEST, "Missing key message").into_response();
    };
    if field("whendelivered").map(String::as_str) != Some(REPORT_URL) {
        return (
            StatusCode::BAD_REQUEST,
            "whendelivered is not the expected URL",
        )
            .into_response();
    }
    if to == INVALID {
        return (StatusCode::BAD_REQUEST, format!("Invalid to number {to}")).into_response();
    }
    let mut elks = elks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    elks.received.push(form.clone());
    let id = format!("s{:032x}", elks.received.len());
    axum::Json(json!({
        "status": "created", "direction": "outgoing", "from": STAFF_NUMBER,
        "created": "2026-12-07T14:00:00.000000", "parts": 1, "to": to,
        "cost": 3500, "message": message, "id": id,
    }))
    .into_response()
}

async fn a_mock_46elks() -> anyhow::Result<(String, SharedElks)> {
    let elks: SharedElks = Arc::default();
    let app = axum::Router::new()
        .route("/a1/sms", post(send_sms))
        .with_state(elks.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((base, elks))
}

fn elks_client(base_url: String) -> anyhow::Result<ElksClient> {
    Ok(ElksClient::new(ElksSettings {
        base_url,
        api_username: ELKS_USERNAME.into(),
        api_password: ELKS_PASSWORD.into(),
        senders: vec![STAFF_NUMBER.into()],
        rate_per_sender: 50.0,
        max_segments: 4,
        delivery_report_url: Some(REPORT_URL.into()),
    })?)
}

/// Twilio first, 46elks after three failures in a row, the primary tried again after
/// `retry_ms`.
fn twilio_failing_over_to_46elks(
    twilio: String,
    elks: String,
    retry_ms: i64,
) -> anyhow::Result<SmsProviders> {
    Ok(
        SmsProviders::single(TwilioClient::new(settings(twilio))?).with_failover(
            elks_client(elks)?,
            FailoverPolicy {
                failures_before_switch: std::num::NonZeroU32::MIN.saturating_add(2),
                primary_retry_after: chrono::Duration::milliseconds(retry_ms),
            },
        ),
    )
}

/// A worker sending through a Twilio mock first and a 46elks mock after three
/// failures in a row, trying Twilio again every 300 ms.
async fn a_worker_with_twilio_failing_over_to_46elks(
    server: &TestServer,
) -> anyhow::Result<(DeliveryWorker, Shared, SharedElks)> {
    let (twilio_base, twilio) = a_mock_provider(0).await?;
    let (elks_base, elks) = a_mock_46elks().await?;
    let worker = DeliveryWorker::new(
        server.store()?.outbox_worker("sms test"),
        twilio_failing_over_to_46elks(twilio_base, elks_base, 300)?,
    );
    Ok((worker, twilio, elks))
}

fn elks_received(elks: &SharedElks) -> Vec<HashMap<String, String>> {
    elks.lock()
        .map(|elks| elks.received.clone())
        .unwrap_or_default()
}

fn twilio_received(provider: &Shared) -> usize {
    provider
        .lock()
        .map(|provider| provider.received.len())
        .unwrap_or_default()
}

/// Sends a message to the five crisis leads; answers its id.
async fn a_message_to_the_crisis_leads(lead: &Client, body: &str) -> anyhow::Result<Value> {
    let sent = lead
        .data(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
            json!({ "input": { "audience": { "roles": ["CRISIS_LEAD"] }, "bodySv": body } }),
        )
        .await?;
    Ok(sent["sendMessage"]["id"].clone())
}

/// Each sent SMS copy as `provider:state`, sorted.
async fn sms_copies(server: &TestServer) -> anyhow::Result<Vec<String>> {
    let mut copies = server
        .select_text(
            "SELECT COALESCE(provider, 'none') || ':' || state FROM outbox WHERE channel = 'sms'",
        )
        .await?;
    copies.sort();
    Ok(copies)
}

fn count(copies: &[String], wanted: &str) -> usize {
    copies.iter().filter(|copy| copy.as_str() == wanted).count()
}

const SMS_CHANNEL: &str = "{ smsChannel { enabled activeProvider onFailover activeSince } }";

const ROLL_CALL: &str =
    "query($id: ID!) { rollCall(messageId: $id) { overall { sent delivered failed } } }";

on_every_database! {
    async fn a_text_goes_out_through_46elks_and_its_delivery_report_counts(server: sample_municipality_with_46elks_failover) {
        let lead = server.sign_in_as("krisledare").await?;
        let people = lead.data("{ people(first: 100) { nodes { id name } } }", json!({})).await?;
        let nodes = &people["people"]["nodes"];
        let anna = id_where(nodes, "name", "Anna Berglund")?;
        let karin = id_where(nodes, "name", "Karin Lindqvist")?;
        let sent = lead.data(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
            json!({ "input": { "audience": { "personIds": [anna, karin] }, "bodySv": "Provmeddelande via 46elks: åäö" } }),
        ).await?;
        let message = sent["sendMessage"]["id"].clone();

        let (base, elks) = a_mock_46elks().await?;
        let worker = DeliveryWorker::new(server.store()?.outbox_worker("sms test"), elks_client(base)?);
        assert_eq!(worker.run_once().await?, 2);
        let received = elks_received(&elks);
        assert_eq!(received.len(), 1, "Karin's number is refused: {received:?}");
        assert_eq!(received[0]["to"], "+46701740605");
        assert!(received[0]["message"].contains("Provmeddelande via 46elks: åäö"), "{:?}", received[0]);
        assert_eq!(sms_copies(&server).await?, vec!["46elks:sent", "none:failed"]);
        let reasons = server.select_text("SELECT last_error FROM outbox WHERE state = 'failed'").await?;
        assert!(reasons.iter().all(|reason| reason.contains("Invalid to number") && !reason.contains("1740613")), "{reasons:?}");

        let http = reqwest::Client::new();
        let report = [("id", "s00000000000000000000000000000001"), ("status", "delivered"), ("delivered", "2026-12-07T14:00:05.000000")];
        let endpoint = format!("{}/sms/status/46elks", server.base_url);
        let events_before = server.store()?.audit_event_count().await?;
        let forged = http.post(format!("{endpoint}?token=elks-report-token-0123456788")).form(&report).send().await?;
        assert_eq!(forged.status(), 403);
        let without = http.post(&endpoint).form(&report).send().await?;
        assert_eq!(without.status(), 403);
        assert_eq!(server.store()?.audit_event_count().await?, events_before + 2, "each refusal is audited");
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message })).await?;
        assert_eq!(roll_call["rollCall"]["overall"]["delivered"], 0, "{roll_call}");

        let outbox = server.store()?.outbox_worker("sms test");
        assert!(
            !outbox.record_delivery_status("twilio", report[0].1, reserv_domain::messages::DeliveryState::Delivered, None).await?,
            "another provider's report never moves a copy 46elks sent"
        );
        let genuine = http.post(format!("{endpoint}?token={ELKS_REPORT_TOKEN}")).form(&report).send().await?;
        assert_eq!(genuine.status(), 204);
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message })).await?;
        assert_eq!(roll_call["rollCall"]["overall"], json!({ "sent": 0, "delivered": 1, "failed": 1 }), "{roll_call}");
        Ok(())
    }

    async fn while_the_primary_fails_texts_go_through_46elks_and_come_back_when_it_recovers(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let (worker, twilio, elks) = a_worker_with_twilio_failing_over_to_46elks(&server).await?;
        let channel = lead.data(SMS_CHANNEL, json!({})).await?;
        assert_eq!(channel["smsChannel"], json!({ "enabled": true, "activeProvider": "twilio", "onFailover": false, "activeSince": null }));

        // The primary is down: its first three failures move traffic, and the copies
        // failing from then on go out through 46elks at once.
        twilio.lock().map(|mut twilio| twilio.outage = true).ok();
        a_message_to_the_crisis_leads(&lead, "Stabsläge: samling kl. 10").await?;
        let texts = worker.run_once().await?;
        assert!(texts >= 4, "{texts}");
        assert_eq!(elks_received(&elks).len(), texts - 2, "the two failures before the switch wait for their retry");
        let channel = lead.data(SMS_CHANNEL, json!({})).await?;
        assert_eq!(channel["smsChannel"]["activeProvider"], "46elks", "{channel}");
        assert_eq!(channel["smsChannel"]["onFailover"], true, "{channel}");
        assert!(channel["smsChannel"]["activeSince"].is_string(), "{channel}");

        // Their backoff passes (moved here rather than slept through): the failover
        // carries them too, while the primary's cool-down runs.
        server.execute_sql("UPDATE outbox SET next_attempt_at = created_at WHERE state = 'queued'").await?;
        assert_eq!(worker.run_once().await?, 2);
        assert_eq!(elks_received(&elks).len(), texts);
        assert_eq!(count(&sms_copies(&server).await?, "46elks:sent"), texts);
        assert_eq!(twilio_received(&twilio), 0);

        // The primary recovers. After the cool-down the first send probes it, the
        // sends beside the probe still go to 46elks, and from then on the primary
        // carries all.
        twilio.lock().map(|mut twilio| twilio.outage = false).ok();
        tokio::time::sleep(std::time::Duration::from_millis(350)).await;
        a_message_to_the_crisis_leads(&lead, "Stabsläge: samling flyttad till kl. 11").await?;
        assert_eq!(worker.run_once().await?, texts);
        assert_eq!(twilio_received(&twilio), 1, "one probe");
        assert_eq!(elks_received(&elks).len(), 2 * texts - 1);
        let channel = lead.data(SMS_CHANNEL, json!({})).await?;
        assert_eq!(channel["smsChannel"]["activeProvider"], "twilio", "{channel}");
        assert_eq!(channel["smsChannel"]["onFailover"], false, "{channel}");

        a_message_to_the_crisis_leads(&lead, "Stabsläge avslutat").await?;
        assert_eq!(worker.run_once().await?, texts);
        assert_eq!(twilio_received(&twilio), 1 + texts);
        assert_eq!(elks_received(&elks).len(), 2 * texts - 1);
        let copies = sms_copies(&server).await?;
        assert_eq!(count(&copies, "twilio:sent"), 1 + texts, "{copies:?}");
        assert_eq!(count(&copies, "46elks:sent"), 2 * texts - 1, "{copies:?}");
        Ok(())
    }

    async fn a_primary_refusing_connections_fails_over_too(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let closed = format!("http://127.0.0.1:{}", reserv_tests::free_port()?);
        let (elks_base, elks) = a_mock_46elks().await?;
        let worker = DeliveryWorker::new(
            server.store()?.outbox_worker("sms test"),
            twilio_failing_over_to_46elks(closed, elks_base, 60_000)?,
        );
        a_message_to_the_crisis_leads(&lead, "Telefonin ligger nere").await?;
        let texts = worker.run_once().await?;
        assert!(texts >= 4, "{texts}");
        assert_eq!(elks_received(&elks).len(), texts - 2);
        let channel = lead.data(SMS_CHANNEL, json!({})).await?;
        assert_eq!(channel["smsChannel"]["activeProvider"], "46elks", "{channel}");
        let reasons = server.select_text("SELECT last_error FROM outbox WHERE state = 'queued'").await?;
        assert_eq!(reasons.len(), 2);
        assert!(reasons.iter().all(|reason| reason.contains("did not answer")), "{reasons:?}");
        Ok(())
    }

    async fn invalid_numbers_do_not_move_traffic(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let (worker, twilio, elks) = a_worker_with_twilio_failing_over_to_46elks(&server).await?;
        twilio.lock().map(|mut twilio| twilio.refuse_every_number = true).ok();
        let message = a_message_to_the_crisis_leads(&lead, "Felskrivna nummer").await?;
        let texts = worker.run_once().await?;
        assert!(texts >= 4, "{texts}");
        assert_eq!(twilio.lock().map(|twilio| twilio.requests).unwrap_or_default(), texts);
        assert!(elks_received(&elks).is_empty(), "a refused number says nothing about the provider");
        let channel = lead.data(SMS_CHANNEL, json!({})).await?;
        assert_eq!(channel["smsChannel"]["activeProvider"], "twilio", "{channel}");
        let roll_call = lead.data(ROLL_CALL, json!({ "id": message })).await?;
        assert_eq!(roll_call["rollCall"]["overall"]["failed"], texts, "{roll_call}");
        Ok(())
    }

    async fn the_webhooks_are_limited_per_client_address(server: sms_webhooks_allowing_three_requests_a_minute) {
        let http = reqwest::Client::new();
        let inbound = [("From", "+46701740605"), ("To", STAFF_NUMBER), ("Body", "OK"), ("MessageSid", "SM1")];
        for _ in 0..3 {
            let unsigned = http.post(format!("{}/sms/inbound", server.base_url)).form(&inbound).send().await?;
            assert_eq!(unsigned.status(), 403);
        }
        for path in ["/sms/inbound", "/sms/status", "/sms/status/46elks", "/voice/inbound"] {
            let limited = http.post(format!("{}{path}", server.base_url)).form(&inbound).send().await?;
            assert_eq!(limited.status(), 429, "{path}");
            assert_eq!(limited.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("20"), "{path}");
        }
        let health = http.get(format!("{}/healthz", server.base_url)).send().await?;
        assert_eq!(health.status(), 200, "only the webhooks are limited");
        Ok(())
    }
}
