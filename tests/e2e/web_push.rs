//! Web push to the PWA: the outbox worker encrypts each message for the browser
//! (RFC 8291, aes128gcm) and signs the request with the server's VAPID key (RFC 8292).
//! The push service here is a mock on loopback that checks what a real one checks (the
//! ES256 signature against the key in the header, the audience, TTL, Urgency and the
//! content encoding), and the test decrypts the payload with the browser's private key
//! as the browser would.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use reserv_notify::DeliveryWorker;
use reserv_notify::push::PushClient;
use reserv_tests::{Client, id_where, on_every_database};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use web_push_native::jwt_simple::prelude::{
    ECDSAP256PublicKeyLike, ES256PublicKey, HashSet, NoCustomClaims, VerificationOptions,
};
use web_push_native::p256::SecretKey;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

/// What the mock push service received and refused.
#[derive(Default)]
struct PushService {
    origin: String,
    /// (device, encrypted body) of each accepted push.
    accepted: Vec<(String, Vec<u8>)>,
    /// Why requests were refused, when a check failed.
    refused: Vec<String>,
    /// How many requests to the device `busy` still get a 429.
    busy: usize,
}

type Shared = Arc<Mutex<PushService>>;

/// Checks a push request as a push service does; answers the reason it is refused.
fn check(origin: &str, headers: &HeaderMap) -> Result<(), String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let authorization = header("authorization");
    let (token, key) = authorization
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .ok_or(format!("not a VAPID authorization: {authorization}"))?;
    let key = BASE64URL.decode(key).map_err(|e| format!("k: {e}"))?;
    let public = ES256PublicKey::from_bytes(&key).map_err(|e| format!("k: {e}"))?;
    let options = VerificationOptions {
        allowed_audiences: Some(HashSet::from([origin.to_owned()])),
        ..VerificationOptions::default()
    };
    let claims = public
        .verify_token::<NoCustomClaims>(token, Some(options))
        .map_err(|e| format!("the JWT does not verify: {e}"))?;
    if !claims
        .subject
        .is_some_and(|subject| subject.starts_with("mailto:"))
    {
        return Err("no mailto: subject".into());
    }
    let valid_for = claims
        .expires_at
        .map(|at| at.as_secs())
        .unwrap_or_default()
        .saturating_sub(chrono::Utc::now().timestamp() as u64);
    if !(60..=24 * 3600).contains(&valid_for) {
        return Err(format!(
            "the JWT is valid for {valid_for} s; at most 24 h is allowed"
        ));
    }
    if header("ttl").parse::<u64>().unwrap_or_default() == 0 {
        return Err("no TTL".into());
    }
    if header("urgency") != "high" {
        return Err(format!("urgency '{}'", header("urgency")));
    }
    if header("content-encoding") != "aes128gcm" {
        return Err(format!("content-encoding '{}'", header("content-encoding")));
    }
    Ok(())
}

async fn receive(
    State(service): State<Shared>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap) {
    let mut service = service
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Err(reason) = check(&service.origin, &headers) {
        service.refused.push(reason);
        return (StatusCode::FORBIDDEN, HeaderMap::new());
    }
    if device == "gone" {
        return (StatusCode::GONE, HeaderMap::new());
    }
    if device == "busy" && service.busy > 0 {
        service.busy -= 1;
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", axum::http::HeaderValue::from_static("30"));
        return (StatusCode::TOO_MANY_REQUESTS, headers);
    }
    service.accepted.push((device.clone(), body.to_vec()));
    let mut headers = HeaderMap::new();
    if let Ok(location) = format!(
        "{}/message/{device}-{}",
        service.origin,
        service.accepted.len()
    )
    .parse()
    {
        headers.insert("location", location);
    }
    (StatusCode::CREATED, headers)
}

async fn a_mock_push_service() -> anyhow::Result<(String, Shared)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let service: Shared = Arc::new(Mutex::new(PushService {
        origin: origin.clone(),
        busy: 1,
        ..PushService::default()
    }));
    let app = axum::Router::new()
        .route("/push/{device}", post(receive))
        .with_state(service.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((origin, service))
}

/// A browser's side of a subscription: its key pair and authentication secret.
struct Browser {
    endpoint: String,
    secret: SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new(origin: &str, device: &str) -> anyhow::Result<Self> {
        Ok(Self {
            endpoint: format!("{origin}/push/{device}"),
            secret: SecretKey::from_slice(&rand::random::<[u8; 32]>())?,
            auth: rand::random(),
        })
    }

    async fn subscribe(&self, client: &Client) -> anyhow::Result<Value> {
        let public = self.secret.public_key().to_encoded_point(false);
        client
            .data(
                "mutation($e: String!, $k: String!, $a: String!) { registerPushSubscription(endpoint: $e, p256dh: $k, auth: $a) { id endpoint } }",
                json!({ "e": self.endpoint, "k": BASE64URL.encode(public.as_bytes()), "a": BASE64URL.encode(self.auth) }),
            )
            .await
    }

    /// What the service worker would get in its `push` event.
    fn decrypt(&self, body: &[u8]) -> anyhow::Result<Value> {
        let auth = web_push_native::Auth::clone_from_slice(&self.auth);
        let plain = web_push_native::decrypt(body.to_vec(), &self.secret, &auth)
            .map_err(|error| anyhow::anyhow!("cannot decrypt the push: {error}"))?;
        Ok(serde_json::from_slice(&plain)?)
    }
}

const SEND: &str =
    "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id reference } }";
const MINE: &str = "{ myPushSubscriptions { endpoint lastSuccess } }";

fn accepted_for(service: &Shared, device: &str) -> Vec<Vec<u8>> {
    service
        .lock()
        .map(|service| {
            service
                .accepted
                .iter()
                .filter(|(to, _)| to == device)
                .map(|(_, body)| body.clone())
                .collect()
        })
        .unwrap_or_default()
}

on_every_database! {
    async fn a_message_is_pushed_encrypted_and_signed_and_a_gone_browser_is_forgotten(server: sample_municipality) {
        let (origin, service) = a_mock_push_service().await?;
        let linnea = server.sign_in_as("underskoterska").await?;
        let key = linnea.data("{ pushPublicKey }", json!({})).await?;
        let key = key["pushPublicKey"].as_str().unwrap_or_default().to_owned();
        assert_eq!(BASE64URL.decode(&key)?.len(), 65, "an uncompressed P-256 point: {key}");

        let phone = Browser::new(&origin, "phone")?;
        let gone = Browser::new(&origin, "gone")?;
        let busy = Browser::new(&origin, "busy")?;
        for browser in [&phone, &gone, &busy] {
            browser.subscribe(&linnea).await?;
        }
        // Registering the same browser again replaces it rather than pushing twice.
        phone.subscribe(&linnea).await?;
        let mine = linnea.data(MINE, json!({})).await?;
        assert_eq!(mine["myPushSubscriptions"].as_array().map(Vec::len), Some(3), "{mine}");

        let lead = server.sign_in_as("krisledare").await?;
        let people = lead.data("{ people(first: 100) { nodes { id name } } }", json!({})).await?;
        let person = id_where(&people["people"]["nodes"], "name", "Linnea Isaksson")?;
        let open = lead.data(SEND, json!({ "input": {
            "audience": { "personIds": [person] },
            "bodySv": "Hej {namn}, samling i personalrummet kl. 14.",
        } })).await?;
        let open = &open["sendMessage"];

        let store = server.store()?;
        let worker = DeliveryWorker::push_only(
            store.outbox_worker("push test"),
            PushClient::new(server.config.push_settings()?)?,
        );
        assert_eq!(worker.run_once().await?, 3, "one copy per browser; the SMS is not this worker's");
        assert_eq!(worker.run_once().await?, 0, "the busy one waits for Retry-After");
        let refused = service.lock().map(|s| s.refused.clone()).unwrap_or_default();
        assert!(refused.is_empty(), "the push service refused: {refused:?}");

        let pushed = accepted_for(&service, "phone");
        assert_eq!(pushed.len(), 1);
        let payload = phone.decrypt(&pushed[0])?;
        assert_eq!(payload, json!({
            "messageId": open["id"],
            "reference": open["reference"],
            "title": format!("Krismeddelande {}", open["reference"].as_str().unwrap_or_default()),
            "body": "Hej Linnea Isaksson, samling i personalrummet kl. 14.",
        }));

        let mine = linnea.data(MINE, json!({})).await?;
        let endpoints: Vec<&str> = mine["myPushSubscriptions"].as_array().into_iter().flatten()
            .filter_map(|s| s["endpoint"].as_str()).collect();
        assert_eq!(endpoints, [phone.endpoint.as_str(), busy.endpoint.as_str()], "the browser answering 410 is removed");
        assert!(mine["myPushSubscriptions"][0]["lastSuccess"].is_string(), "{mine}");
        let states = server.select_text(&format!(
            "SELECT channel || ':' || state FROM outbox WHERE message_id = {} ORDER BY id", open["id"].as_str().unwrap_or("0")
        )).await?;
        assert_eq!(states, ["sms:queued", "push:sent", "push:failed", "push:queued"], "SMS stays queued while SMS is off");
        let roll_call = lead.data("query($id: ID!) { rollCall(messageId: $id) { overall { sent queued failed } } }", json!({ "id": open["id"] })).await?;
        assert_eq!(roll_call["rollCall"]["overall"]["sent"], 1, "a push accepted counts for the person: {roll_call}");

        // Above confidentiality 1 the push says only that there is a message.
        let secret = lead.data(SEND, json!({ "input": {
            "audience": { "personIds": [person] },
            "bodySv": "Brukaren på Storgatan 4 har skyddad identitet.",
            "classification": { "confidentiality": 2, "integrity": 1, "availability": 1 },
        } })).await?;
        let reference = secret["sendMessage"]["reference"].as_str().unwrap_or_default().to_owned();
        assert_eq!(worker.run_once().await?, 2, "the two browsers left get a copy, the gone one none");
        let pushed = accepted_for(&service, "phone");
        let payload = phone.decrypt(&pushed[1])?;
        assert_eq!(payload["body"], format!("Nytt meddelande från krisledningen ({reference})"));
        assert!(!payload.to_string().contains("Storgatan"), "{payload}");
        Ok(())
    }

    async fn a_person_registers_and_removes_only_their_own_browsers(server: sample_municipality) {
        let linnea = server.sign_in_as("underskoterska").await?;
        let phone = Browser::new("https://push.example.net", "linnea")?;
        phone.subscribe(&linnea).await?;
        let (code, text) = linnea.error(
            "mutation { registerPushSubscription(endpoint: \"https://push.example.net/x\", p256dh: \"kort\", auth: \"kort\") { id } }",
            json!({}),
        ).await?;
        assert_eq!(code, "VALIDATION", "{text}");
        assert!(text.contains("p256dh"), "the error names the field: {text}");
        let remove = "mutation($e: String!) { removePushSubscription(endpoint: $e) }";
        let other = server.sign_in_as("enhetschef").await?;
        let removed = other.data(remove, json!({ "e": phone.endpoint })).await?;
        assert_eq!(removed["removePushSubscription"], false, "another person's browser is left alone");
        let removed = linnea.data(remove, json!({ "e": phone.endpoint })).await?;
        assert_eq!(removed["removePushSubscription"], true);
        let mine = linnea.data(MINE, json!({})).await?;
        assert_eq!(mine["myPushSubscriptions"], json!([]));
        // A leaver's browser gets nothing once their account is disabled.
        phone.subscribe(&linnea).await?;
        let admin = server.sign_in_as("admin").await?;
        let accounts = admin.data("{ accounts(first: 100) { edges { node { id username } } } }", json!({})).await?;
        let nodes: Vec<Value> = accounts["accounts"]["edges"].as_array().into_iter().flatten().map(|edge| edge["node"].clone()).collect();
        let account = id_where(&Value::Array(nodes), "username", "underskoterska")?;
        admin.data(
            "mutation($id: ID!) { setAccountDisabled(id: $id, disabled: true) { disabled } }",
            json!({ "id": account }),
        ).await?;
        let lead = server.sign_in_as("krisledare").await?;
        lead.data(SEND, json!({ "input": { "audience": { "everyone": true }, "bodySv": "Avstämning kl. 15" } })).await?;
        let pushes = server.select_text("SELECT channel FROM outbox WHERE channel = 'push'").await?;
        assert!(pushes.is_empty(), "no push to a disabled account's browser: {pushes:?}");
        let audited = server.select_text(
            "SELECT action FROM audit_events WHERE object_type = 'push_subscription' ORDER BY id",
        ).await?;
        assert!(audited.iter().filter(|action| *action == "register").count() >= 1, "{audited:?}");
        assert!(audited.iter().any(|action| action == "remove"), "{audited:?}");
        Ok(())
    }
}
