//! `reserv-bench fan-out`: one message to every staff member of a generated directory,
//! each with a phone and a browser subscribed to web push, delivered by the outbox
//! worker to a Twilio-compatible mock and a push service mock on loopback that answer at
//! once (no rate limit). Times writing the outbox (the `sendMessage` use case to its
//! commit), the worker until every copy is recorded as sent, and the same mocks driven
//! by a bare reqwest loop with the worker's concurrency, for comparison. On SQLite and,
//! when `TEST_DATABASE_URL` is set, on PostgreSQL.

use crate::postgres::{drop_postgres, fresh_postgres};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use base64::Engine;
use futures_util::StreamExt;
use reserv::Config;
use reserv::server::open_store;
use reserv_domain::access::{Principal, Role, RoleGrant};
use reserv_domain::messages::{Audience, NewMessage};
use reserv_domain::people::{Language, PersonRequest};
use reserv_notify::DeliveryWorker;
use reserv_notify::push::{PushClient, PushSettings, VapidKey};
use reserv_notify::twilio::{TwilioClient, TwilioSettings};
use reserv_store::{NewAccount, Store};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use web_push_native::WebPushBuilder;
use web_push_native::jwt_simple::{
    self,
    algorithms::{ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair},
    claims::Claims,
};
use web_push_native::p256::SecretKey;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

const ACCOUNT: &str = "ACbench0123456789abcdef0123456789";
const BODY: &str = "Samling i kommunhuset kl. 15. Svara OK när du läst.";
/// Push subscriptions written per INSERT while generating the directory.
const ROWS_PER_INSERT: usize = 500;

pub struct Shape {
    pub recipients: usize,
    pub claim_batch: u64,
}

pub async fn run(shape: &Shape) -> anyhow::Result<()> {
    println!("reserv-bench fan-out");
    crate::print_machine("");
    println!(
        "  data: {} staff, each with a phone and one browser subscribed to web push; one message to everyone = {} outbox copies",
        shape.recipients,
        shape.recipients * 2
    );
    println!(
        "  delivery: the outbox worker in process (claims of {}, the next claimed while one sends, {} sends in flight, outcomes recorded as they finish), SMS to a Twilio-compatible mock and push (RFC 8291 encrypted, VAPID signed) to a push service mock, both on loopback answering at once; no rate limit",
        shape.claim_batch,
        reserv_notify::SEND_CONCURRENCY
    );
    println!(
        "  comparison: the same {} requests to the same mocks from a bare reqwest loop, {} at a time, doing the work the protocols need and nothing of Reserv's: each push payload encrypted for its browser (RFC 8291: a fresh key pair, ECDH, HKDF, AES-GCM), one VAPID signature for the push service reused, each SMS a form with Basic auth",
        shape.recipients * 2,
        reserv_notify::SEND_CONCURRENCY
    );
    measure("SQLite (embedded file)", None, shape).await?;
    if let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") {
        let (url, name) = fresh_postgres(&admin_url).await?;
        let outcome = measure("PostgreSQL", Some(url), shape).await;
        drop_postgres(&admin_url, &name).await?;
        outcome?;
    }
    Ok(())
}

async fn measure(label: &str, database_url: Option<String>, shape: &Shape) -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let config = Config {
        data_dir: folder.path().to_path_buf(),
        database_url: database_url.clone(),
        log: "warn".into(),
        ..Config::default()
    };
    let store = open_store(&config).await?;
    let (mocks, counted) = mocks().await?;
    let generating = Instant::now();
    let browser = Browser {
        key: SecretKey::from_slice(&rand::random::<[u8; 32]>())?,
        auth: rand::random(),
    };
    directory(&store, &config, &mocks.push, &browser, shape.recipients).await?;
    println!(
        "\n{label}\n  generated in {:.1} s",
        generating.elapsed().as_secs_f64()
    );

    let operator = Principal::operator("fan-out bench");
    let writing = Instant::now();
    let message = store
        .send_message(
            &operator,
            NewMessage {
                incident_id: None,
                audience: Audience {
                    everyone: true,
                    ..Audience::default()
                },
                body_sv: BODY.into(),
                body_en: None,
                classification: None,
                escalate_after_minutes: None,
            },
        )
        .await?;
    let written = writing.elapsed();
    let copies = shape.recipients * 2;
    println!(
        "  outbox written: {copies} copies for message {} in {:.0} ms (aim: under 1 000 ms)",
        message.reference(),
        written.as_secs_f64() * 1000.0
    );

    let worker = DeliveryWorker::new(
        store.outbox_worker("fan-out bench"),
        TwilioClient::new(TwilioSettings {
            base_url: mocks.sms.clone(),
            account_sid: ACCOUNT.into(),
            auth_token: "bench-token".into(),
            senders: vec!["+46766860001".into()],
            messaging_service_sid: None,
            rate_per_sender: 1_000_000.0,
            max_segments: 4,
            status_callback: None,
        })?,
    )
    .with_push(PushClient::new(PushSettings {
        key: VapidKey::generate(),
        subject: "mailto:bench@example.se".into(),
        ttl: Duration::from_secs(3600),
    })?)
    .with_claim_batch(shape.claim_batch);
    let delivering = Instant::now();
    let mut handled = 0;
    loop {
        let round = worker.run_once().await?;
        if round == 0 {
            break;
        }
        handled += round;
    }
    let delivered = delivering.elapsed();
    let received = counted.load(Ordering::Relaxed);
    anyhow::ensure!(
        handled == copies && received == copies,
        "the worker handled {handled} and the mocks received {received} of {copies} copies"
    );
    let ours = copies as f64 / delivered.as_secs_f64();
    println!(
        "  outbox worker: all {copies} delivered in {:.2} s = {ours:.0} messages/s",
        delivered.as_secs_f64()
    );
    let phases = worker.phases();
    println!(
        "    its database work (overlapping the sends): {} claims in {:.0} ms ({:.1} ms each), {} recordings in {:.0} ms ({:.1} ms each); claims waited {:.0} ms for room",
        phases.claims,
        phases.claiming.as_secs_f64() * 1000.0,
        phases.claiming.as_secs_f64() * 1000.0 / phases.claims.max(1) as f64,
        phases.recordings,
        phases.recording.as_secs_f64() * 1000.0,
        phases.recording.as_secs_f64() * 1000.0 / phases.recordings.max(1) as f64,
        phases.waiting_for_room.as_secs_f64() * 1000.0,
    );

    counted.store(0, Ordering::Relaxed);
    let bare = bare_loop(&mocks, &browser, shape.recipients).await?;
    let received = counted.load(Ordering::Relaxed);
    anyhow::ensure!(
        received == copies,
        "the bare loop's mocks received {received} of {copies}"
    );
    let theirs = copies as f64 / bare.as_secs_f64();
    println!(
        "  bare reqwest loop: {copies} requests in {:.2} s = {theirs:.0} messages/s",
        bare.as_secs_f64()
    );
    println!(
        "  outbox worker / bare loop: {:.0} % (aim: at least 80 %)",
        ours / theirs * 100.0
    );
    Ok(())
}

struct Mocks {
    sms: String,
    push: String,
}

/// The browser every staff member subscribed from: one key pair and secret for all,
/// since the mock does not decrypt.
struct Browser {
    key: SecretKey,
    auth: [u8; 16],
}

/// The SMS provider and the push service, answering every request at once as accepted
/// and counting them together.
async fn mocks() -> anyhow::Result<(Mocks, Arc<AtomicUsize>)> {
    let counted = Arc::new(AtomicUsize::new(0));
    let sms_count = counted.clone();
    let sms = axum::Router::new().route(
        "/2010-04-01/Accounts/{account}/Messages.json",
        post(move || {
            let number = sms_count.fetch_add(1, Ordering::Relaxed);
            async move {
                (
                    StatusCode::CREATED,
                    axum::Json(serde_json::json!({ "sid": format!("SM{number:032x}"), "status": "queued" })),
                )
            }
        }),
    );
    let push_count = counted.clone();
    let push = axum::Router::new().route(
        "/push/{device}",
        post(move || {
            let number = push_count.fetch_add(1, Ordering::Relaxed);
            async move {
                (
                    StatusCode::CREATED,
                    [("location", format!("/messages/{number}"))],
                )
                    .into_response()
            }
        }),
    );
    Ok((
        Mocks {
            sms: serve(sms).await?,
            push: serve(push).await?,
        },
        counted,
    ))
}

async fn serve(app: axum::Router) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

/// `count` staff members with mobile numbers, each with a browser subscribed to push.
/// The subscriptions are written by
/// SQL under one account, since registering them one by one would need an account per
/// person and is not what is measured.
async fn directory(
    store: &Store,
    config: &Config,
    push_base: &str,
    browser: &Browser,
    count: usize,
) -> anyhow::Result<()> {
    let operator = Principal::operator("fan-out bench");
    let account = store
        .create_account(
            &operator,
            NewAccount {
                username: "bench".into(),
                password: Some("bench-password-0123".into()),
                person_id: None,
                grants: vec![RoleGrant::new(Role::Viewer, None)?],
            },
        )
        .await?
        .id;
    let mut people = Vec::with_capacity(count);
    for number in 0..count {
        let person = store
            .create_person(
                &operator,
                PersonRequest {
                    name: format!("Personal {number}"),
                    title: None,
                    phone: Some(format!("+4670{}", 1_000_000 + number)),
                    email: None,
                    external_id: None,
                    language: Language::Sv,
                    external: false,
                    organisation: None,
                    unit_ids: Vec::new(),
                    confidentiality: None,
                },
            )
            .await?;
        people.push(person.id.0);
    }
    let base64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let p256dh = base64url.encode(browser.key.public_key().to_encoded_point(false).as_bytes());
    let auth = base64url.encode(browser.auth);
    let url = match &config.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", config.data_dir.join("reserv.db").display()),
    };
    let db = Database::connect(url).await?;
    let backend = db.get_database_backend();
    let now = chrono::Utc::now();
    for chunk in people.chunks(ROWS_PER_INSERT) {
        let mut rows = Vec::with_capacity(chunk.len());
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 6);
        for person in chunk {
            let first = values.len();
            let placeholders: Vec<String> = (1..=6)
                .map(|offset| match backend {
                    DbBackend::Postgres => format!("${}", first + offset),
                    _ => "?".to_owned(),
                })
                .collect();
            rows.push(format!("({})", placeholders.join(", ")));
            values.extend([
                account.0.into(),
                (*person).into(),
                format!("{push_base}/push/{person}").into(),
                p256dh.clone().into(),
                auth.clone().into(),
                now.into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO push_subscriptions (account_id, person_id, endpoint, p256dh, auth, created_at) VALUES {}",
            rows.join(", ")
        );
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    db.close().await?;
    Ok(())
}

/// The same requests as the worker's, from a plain reqwest client with the worker's
/// concurrency, doing what the protocols need and nothing else: SMS forms with Basic
/// auth; push payloads of the worker's shape, each encrypted for the browser (RFC
/// 8291), with one VAPID signature (RFC 8292) for the push service, as a client may
/// reuse it until it expires.
async fn bare_loop(mocks: &Mocks, browser: &Browser, count: usize) -> anyhow::Result<Duration> {
    let http = reqwest::Client::new();
    let sms_url = format!("{}/2010-04-01/Accounts/{ACCOUNT}/Messages.json", mocks.sms);
    let payload = serde_json::json!({
        "messageId": "1",
        "reference": "M1",
        "title": "Meddelande från krisledningen",
        "body": BODY,
    })
    .to_string();
    let browser_key = browser.key.public_key();
    let browser_auth = web_push_native::Auth::clone_from_slice(&browser.auth);
    let started = Instant::now();
    let vapid = ES256KeyPair::generate();
    let claims = Claims::create(jwt_simple::prelude::Duration::from_hours(12))
        .with_audience(mocks.push.clone())
        .with_subject("mailto:bench@example.se");
    let authorization = format!(
        "vapid t={}, k={}",
        vapid.sign(claims)?,
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(vapid.public_key().public_key().to_bytes_uncompressed())
    );
    let sms_url: Arc<str> = sms_url.into();
    let push_url: Arc<str> = mocks.push.as_str().into();
    let payload: Arc<str> = payload.into();
    let authorization: Arc<str> = authorization.into();
    // Each request a task of its own, as the worker sends, so that both spread their
    // work over every core.
    let requests = (0..count * 2).map(|number| {
        let http = http.clone();
        let sms_url = sms_url.clone();
        let push_url = push_url.clone();
        let payload = payload.clone();
        let authorization = authorization.clone();
        tokio::spawn(async move {
            if number % 2 == 0 {
                // The provider's message id, which every client keeps for the status
                // callbacks, is in the JSON answer.
                let answer: serde_json::Value = http
                    .post(&*sms_url)
                    .basic_auth(ACCOUNT, Some("bench-token"))
                    .form(&[
                        ("To", format!("+4670{}", 1_000_000 + number / 2)),
                        ("From", "+46766860001".to_owned()),
                        ("Body", BODY.to_owned()),
                    ])
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                anyhow::ensure!(answer["sid"].is_string(), "no message id in {answer}");
                return Ok(());
            }
            let response = {
                let endpoint = format!("{push_url}/push/{number}").parse()?;
                let request = WebPushBuilder::new(endpoint, browser_key, browser_auth)
                    .build(payload.as_bytes().to_vec())?;
                let mut request = reqwest::Request::try_from(request)?;
                let headers = request.headers_mut();
                headers.insert(reqwest::header::AUTHORIZATION, authorization.parse()?);
                headers.insert("ttl", 3600.into());
                headers.insert("urgency", reqwest::header::HeaderValue::from_static("high"));
                http.execute(request).await?.error_for_status()?
            };
            // The push service names the message it accepted in `Location`.
            anyhow::ensure!(
                response.headers().contains_key(reqwest::header::LOCATION),
                "no Location from the push service"
            );
            Ok::<_, anyhow::Error>(())
        })
    });
    let mut sent =
        futures_util::stream::iter(requests).buffer_unordered(reserv_notify::SEND_CONCURRENCY);
    while let Some(outcome) = sent.next().await {
        outcome??;
    }
    Ok(started.elapsed())
}
