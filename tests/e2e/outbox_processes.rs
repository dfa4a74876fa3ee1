//! The outbox proved against the real `reserv` binary run as child processes: a server
//! killed with SIGKILL in the middle of a 2 000-recipient send and started again loses
//! no recipient, and two servers on one PostgreSQL database share a send without
//! sending any copy twice. The SMS provider is a Twilio-compatible mock on loopback in
//! the test process that checks the account and form fields and records every text.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use reserv_domain::access::Principal;
use reserv_domain::people::{Language, PersonRequest};
use reserv_tests::{
    Backend, Client, ProcessDatabase, SMS_AUTH_TOKEN, ServerProcess, free_port, sms_through,
};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const SENDER_A: &str = "+46766860001";
const SENDER_B: &str = "+46766860002";

/// One text as the provider received it.
#[derive(Debug, Clone)]
struct Text {
    to: String,
    from: String,
    body: String,
}

#[derive(Default)]
struct Provider {
    received: Vec<Text>,
}

type Shared = Arc<Mutex<Provider>>;

fn received(provider: &Shared) -> Vec<Text> {
    provider
        .lock()
        .map(|provider| provider.received.clone())
        .unwrap_or_default()
}

fn refuse(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "code": code, "message": message, "status": status.as_u16() })),
    )
        .into_response()
}

/// The provider's Messages endpoint, taking `delay` per text as a real API does, so that
/// a kill lands while texts are in flight.
async fn create_message(
    State((provider, delay)): State<(Shared, Duration)>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{SMS_AUTH_TOKEN}"))
    );
    if account != ACCOUNT
        || headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            != Some(&expected)
    {
        return refuse(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let (Some(to), Some(from), Some(body)) = (form.get("To"), form.get("From"), form.get("Body"))
    else {
        return refuse(
            StatusCode::BAD_REQUEST,
            21604,
            "To, From and Body are required.",
        );
    };
    if !to.starts_with('+') || ![SENDER_A, SENDER_B].contains(&from.as_str()) {
        return refuse(StatusCode::BAD_REQUEST, 21212, "Invalid 'To' or 'From'");
    }
    tokio::time::sleep(delay).await;
    let sid = {
        let mut provider = provider
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        provider.received.push(Text {
            to: to.clone(),
            from: from.clone(),
            body: body.clone(),
        });
        format!("SM{:032x}", provider.received.len())
    };
    (
        StatusCode::CREATED,
        axum::Json(json!({ "sid": sid, "account_sid": ACCOUNT, "to": to, "from": from, "status": "queued" })),
    )
        .into_response()
}

async fn a_provider_taking(delay: Duration) -> anyhow::Result<(String, Shared)> {
    let provider = Shared::default();
    let app = axum::Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(create_message),
        )
        .with_state((provider.clone(), delay));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((base, provider))
}

/// Adds `count` staff members with mobile numbers +46 70 100 00 00 onwards.
async fn staff_with_phones(database: &ProcessDatabase, count: usize) -> anyhow::Result<()> {
    let store = database.open_store().await?;
    let operator = Principal::operator("outbox test");
    for number in 0..count {
        store
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
    }
    Ok(())
}

const BODY: &str = "Samling i kommunhuset kl. 15. Svara OK när du läst.";

/// Sends [`BODY`] to everyone through the server at `base_url`; answers the number of
/// recipients.
async fn send_to_everyone(base_url: &str) -> anyhow::Result<usize> {
    let lead = Client::anonymous_at(base_url)
        .sign_in_as("krisledare")
        .await?;
    let sent = lead
        .data(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { recipientCount } }",
            json!({ "input": { "audience": { "everyone": true }, "bodySv": BODY } }),
        )
        .await?;
    Ok(sent["sendMessage"]["recipientCount"]
        .as_u64()
        .unwrap_or_default() as usize)
}

/// Each SMS copy in the outbox as `destination state lease`, where lease is `leased`
/// while a worker holds it.
async fn sms_copies(database: &ProcessDatabase) -> anyhow::Result<Vec<(String, String, bool)>> {
    let rows = database
        .select_text(
            "SELECT destination || ' ' || state || ' ' || \
             CASE WHEN lease_until IS NULL THEN 'free' ELSE 'leased' END \
             FROM outbox WHERE channel = 'sms'",
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let mut parts = row.split(' ');
            let destination = parts.next().unwrap_or_default().to_owned();
            let state = parts.next().unwrap_or_default().to_owned();
            (destination, state, parts.next() == Some("leased"))
        })
        .collect())
}

/// Waits until no SMS copy is queued any more.
async fn until_every_copy_is_final(
    database: &ProcessDatabase,
    within: Duration,
) -> anyhow::Result<Vec<(String, String, bool)>> {
    let deadline = Instant::now() + within;
    loop {
        let copies = sms_copies(database).await?;
        let queued = copies
            .iter()
            .filter(|(_, state, _)| state == "queued")
            .count();
        if queued == 0 {
            return Ok(copies);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{queued} of {} copies still queued after {within:?}",
            copies.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How often each number received the text.
fn texts_per_number(texts: &[Text]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for text in texts {
        *counts.entry(text.to.as_str()).or_default() += 1;
    }
    counts
}

const PEOPLE_IN_CRASH: usize = 2_000;

async fn a_server_killed_mid_send_loses_no_recipient(backend: Backend) -> anyhow::Result<()> {
    let database = ProcessDatabase::with_sample_municipality(backend).await?;
    let outcome = async {
        staff_with_phones(&database, PEOPLE_IN_CRASH).await?;
        let (base, provider) = a_provider_taking(Duration::from_millis(2)).await?;
        let mut config = database.config("server", format!("127.0.0.1:{}", free_port()?).parse()?)?;
        config.sms = Some(sms_through(&base, &[SENDER_A]));
        // Short, so that the restarted server takes the killed one's copies within the test.
        config.outbox.lease_seconds = std::num::NonZeroU32::MIN.saturating_add(1);

        let mut first = ServerProcess::start(&config).await?;
        let recipients = send_to_everyone(&first.base_url).await?;
        assert!(recipients >= PEOPLE_IN_CRASH, "{recipients} recipients");
        let deadline = Instant::now() + Duration::from_secs(30);
        while received(&provider).len() < recipients / 4 {
            anyhow::ensure!(Instant::now() < deadline, "the provider got too few texts in 30 s");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        first.kill()?;
        let at_kill = received(&provider).len();
        let copies = sms_copies(&database).await?;
        let claimed_at_kill = copies
            .iter()
            .filter(|(_, state, leased)| state == "queued" && *leased)
            .count();
        assert!(at_kill < recipients, "the kill came after the send ended ({at_kill} texts)");
        println!(
            "killed with SIGKILL after {at_kill} of {recipients} texts; {claimed_at_kill} copies claimed and unrecorded"
        );

        config.listen = format!("127.0.0.1:{}", free_port()?).parse()?;
        let _second = ServerProcess::start(&config).await?;
        let copies = until_every_copy_is_final(&database, Duration::from_secs(40)).await?;

        let texts = received(&provider);
        let per_number = texts_per_number(&texts);
        for (destination, state, leased) in &copies {
            assert_eq!(state, "sent", "the copy to {destination}");
            assert!(!leased, "the copy to {destination} is left claimed");
            assert!(per_number.contains_key(destination.as_str()), "{destination} got nothing");
        }
        assert_eq!(copies.len(), recipients);
        assert_eq!(per_number.len(), recipients, "texts went to numbers nobody was sent to");
        assert!(
            texts.iter().all(|text| text.body.contains(BODY) && text.from == SENDER_A),
            "a text was changed or sent from another number"
        );
        let duplicates = texts.len() - per_number.len();
        println!(
            "{} texts for {recipients} recipients: {duplicates} duplicates (at most {claimed_at_kill} claimed at the kill, claim batch {})",
            texts.len(),
            reserv_notify::CLAIM_BATCH
        );
        assert!(
            duplicates <= claimed_at_kill,
            "{duplicates} duplicates, more than the {claimed_at_kill} copies claimed at the kill"
        );
        // The worker claims the next batch while one sends: two batches at most.
        assert!(claimed_at_kill as u64 <= 2 * reserv_notify::CLAIM_BATCH);
        if backend == Backend::Postgres {
            the_send_refreshed_the_outbox_statistics(&database, recipients).await?;
        }
        Ok(())
    }
    .await;
    database.finish().await?;
    outcome
}

/// A send to thousands refreshes PostgreSQL's statistics of the outbox at once (an
/// ANALYZE by the server, not autovacuum's), so that claims walk the due index instead
/// of sorting every queued copy: the planner then counts at least the copies queued.
async fn the_send_refreshed_the_outbox_statistics(
    database: &ProcessDatabase,
    queued: usize,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = database
            .select_text(
                "SELECT s.analyze_count::text || ' ' || c.reltuples::bigint::text \
                 FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
                 WHERE s.relname = 'outbox'",
            )
            .await?;
        let (analyzed, estimate) = found
            .first()
            .and_then(|row| row.split_once(' '))
            .map(|(count, rows)| (count.parse::<i64>(), rows.parse::<i64>()))
            .map_or((0, -1), |(count, rows)| {
                (count.unwrap_or(0), rows.unwrap_or(-1))
            });
        if analyzed >= 1 && estimate >= queued as i64 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "after a send of {queued} copies the outbox was analysed {analyzed} times and the planner estimates {estimate} rows"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(postgres_tests)]
const PEOPLE_FOR_TWO: usize = 500;

/// Two servers, each sending from its own number, take the copies of one send from one
/// PostgreSQL database.
#[cfg(postgres_tests)]
async fn two_servers_share_a_send_and_send_each_copy_once(backend: Backend) -> anyhow::Result<()> {
    let database = ProcessDatabase::with_sample_municipality(backend).await?;
    let outcome = async {
        staff_with_phones(&database, PEOPLE_FOR_TWO).await?;
        // Slow enough that the send outlasts the other worker's idle second several
        // times over: about eleven batches of 50 at 250 ms each, had one server alone.
        let (base, provider) = a_provider_taking(Duration::from_millis(250)).await?;
        let mut config_a = database.config("a", format!("127.0.0.1:{}", free_port()?).parse()?)?;
        config_a.sms = Some(sms_through(&base, &[SENDER_A]));
        let mut config_b = database.config("b", format!("127.0.0.1:{}", free_port()?).parse()?)?;
        config_b.sms = Some(sms_through(&base, &[SENDER_B]));
        let a = ServerProcess::start(&config_a).await?;
        let _b = ServerProcess::start(&config_b).await?;

        let recipients = send_to_everyone(&a.base_url).await?;
        assert!(recipients >= PEOPLE_FOR_TWO, "{recipients} recipients");
        let copies = until_every_copy_is_final(&database, Duration::from_secs(40)).await?;
        assert!(
            copies
                .iter()
                .all(|(_, state, leased)| state == "sent" && !leased)
        );

        let texts = received(&provider);
        let per_number = texts_per_number(&texts);
        let twice: Vec<_> = per_number.iter().filter(|(_, count)| **count > 1).collect();
        assert!(twice.is_empty(), "sent more than once: {twice:?}");
        assert_eq!(per_number.len(), recipients, "every recipient once");
        let from_a = texts.iter().filter(|text| text.from == SENDER_A).count();
        let from_b = texts.iter().filter(|text| text.from == SENDER_B).count();
        println!(
            "{recipients} recipients, each texted once: {from_a} by server A, {from_b} by server B"
        );
        assert!(
            from_a > 0 && from_b > 0,
            "one server did all the work ({from_a} / {from_b})"
        );
        Ok(())
    }
    .await;
    database.finish().await?;
    outcome
}

mod sqlite {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_killed_mid_send_loses_no_recipient() -> anyhow::Result<()> {
        super::a_server_killed_mid_send_loses_no_recipient(Backend::Sqlite).await
    }

    #[cfg(not(postgres_tests))]
    #[test]
    fn two_servers_share_a_send_and_send_each_copy_once() {
        println!(
            "skipped on SQLite: one writer; set TEST_DATABASE_URL to run two servers on PostgreSQL"
        );
    }
}

#[cfg(postgres_tests)]
mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_killed_mid_send_loses_no_recipient() -> anyhow::Result<()> {
        super::a_server_killed_mid_send_loses_no_recipient(Backend::Postgres).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_servers_share_a_send_and_send_each_copy_once() -> anyhow::Result<()> {
        super::two_servers_share_a_send_and_send_each_copy_once(Backend::Postgres).await
    }
}
