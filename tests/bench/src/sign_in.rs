//! `reserv-bench sign-in`: what one password sign-in costs, and whether a burst of them
//! (shift change) stalls other requests. Prints the argon2 parameters, the latency of
//! sequential `login` mutations over HTTP, and `/healthz` latency while a burst of
//! concurrent sign-ins runs; then two-step sign-ins (password, then a TOTP code) of
//! accounts with an authenticator app.

use crate::load::sign_in;
use anyhow::Context;
use reserv::Config;
use reserv::server::{open_store, start};
use reserv_domain::access::{Principal, Role, RoleGrant};
use reserv_store::NewAccount;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const USERNAME: &str = "skiftbyte";
const PASSWORD: &str = "bänkprov-för-inloggning";

/// Runs the benchmark with `logins` sequential sign-ins and a burst of `burst` at once.
pub async fn run(logins: usize, burst: usize) -> anyhow::Result<()> {
    println!("reserv-bench sign-in");
    crate::print_machine(" (argon2 is compiled optimised in both)");
    println!(
        "  argon2id: m = {} KiB, t = {}, p = {}; hashes at once: one per core (login.hash_concurrency = 0)",
        reserv_store::ARGON2_MEMORY_KIB,
        reserv_store::ARGON2_ITERATIONS,
        reserv_store::ARGON2_LANES
    );
    let folder = tempfile::tempdir()?;
    let mut config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: folder.path().to_path_buf(),
        log: "warn".into(),
        ..Config::default()
    };
    // The burst comes from one address; it is not guessing and must not be locked.
    config.login.address_attempts = std::num::NonZeroU32::MAX;
    // The password step is what is measured; `login` is the one-step sign-in.
    config.login.demo_default();
    let store = open_store(&config).await?;
    create_viewer(&store, USERNAME).await?;
    let server = start(&config, store.clone()).await?;
    let base_url = format!("http://{}", server.address);
    // One sign-in first, so that connections and caches are warm.
    sign_in(&base_url, USERNAME, PASSWORD).await?;

    let mut sequential = Vec::with_capacity(logins);
    for _ in 0..logins {
        let started = Instant::now();
        sign_in(&base_url, USERNAME, PASSWORD).await?;
        sequential.push(started.elapsed());
    }
    print_latencies(
        &format!("one login at a time ({logins} sign-ins)"),
        &mut sequential,
    );

    let started = Instant::now();
    let burst_tasks: Vec<_> = (0..burst)
        .map(|_| {
            let base_url = base_url.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                sign_in(&base_url, USERNAME, PASSWORD).await?;
                anyhow::Ok(started.elapsed())
            })
        })
        .collect();
    let mut health = Vec::new();
    let http = reqwest::Client::new();
    while !burst_tasks.iter().all(tokio::task::JoinHandle::is_finished) {
        let asked = Instant::now();
        http.get(format!("{base_url}/healthz"))
            .send()
            .await?
            .error_for_status()?;
        health.push(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut during_burst = Vec::with_capacity(burst);
    for task in burst_tasks {
        during_burst.push(task.await??);
    }
    let whole = started.elapsed();
    print_latencies(
        &format!(
            "{burst} logins at once (whole burst {} ms)",
            whole.as_millis()
        ),
        &mut during_burst,
    );
    print_latencies("/healthz during the burst", &mut health);

    let mut two_step = Vec::with_capacity(logins);
    for number in 0..logins {
        two_step.push(totp_sign_in(&store, &base_url, number).await?);
    }
    print_latencies(
        &format!("signIn + completeSignIn with a TOTP code, one at a time ({logins} sign-ins)"),
        &mut two_step,
    );
    server.stop().await?;
    Ok(())
}

/// Creates an account with an authenticator app (enrolled over GraphQL as a person
/// would) and times its two-step sign-in: `signIn` with the password, then
/// `completeSignIn` with the app's current code. Each account signs in once, since a
/// code is used up for its time step.
async fn totp_sign_in(
    store: &reserv_store::Store,
    base_url: &str,
    number: usize,
) -> anyhow::Result<Duration> {
    let username = format!("{USERNAME}-totp-{number}");
    create_viewer(store, &username).await?;
    let token = sign_in(base_url, &username, PASSWORD).await?;
    let enrolment = graphql(
        base_url,
        Some(&token),
        "mutation { beginTotpEnrolment { otpauthUrl } }",
        json!({}),
    )
    .await?;
    let url = enrolment["beginTotpEnrolment"]["otpauthUrl"]
        .as_str()
        .context("no otpauth URL")?;
    let app = totp_rs::Totp::from_url(url)?;
    graphql(
        base_url,
        Some(&token),
        "mutation($code: String!) { confirmTotpEnrolment(code: $code) }",
        json!({ "code": app.generate_current().to_string() }),
    )
    .await?;

    let started = Instant::now();
    let challenge = graphql(
        base_url,
        None,
        "mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { secondFactor { challenge } } }",
        json!({ "u": username, "p": PASSWORD }),
    )
    .await?;
    let challenge = challenge["signIn"]["secondFactor"]["challenge"]
        .as_str()
        .context("signIn asked for no second factor")?
        .to_owned();
    graphql(
        base_url,
        None,
        "mutation($c: String!, $code: String) { completeSignIn(challenge: $c, code: $code) { token } }",
        // The enrolment used up this time step's code; the server accepts the next
        // step's as clock drift, as it would from a phone a few seconds ahead.
        json!({ "c": challenge, "code": app.generate(next_step()?).to_string() }),
    )
    .await?;
    Ok(started.elapsed())
}

/// The time 30 seconds from now, in Unix seconds: the next TOTP time step.
fn next_step() -> anyhow::Result<u64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        + 30)
}

/// An account with the benchmark's password that may only read.
async fn create_viewer(store: &reserv_store::Store, username: &str) -> anyhow::Result<()> {
    store
        .create_account(
            &Principal::operator("bench"),
            NewAccount {
                username: username.to_owned(),
                password: Some(PASSWORD.into()),
                person_id: None,
                grants: vec![RoleGrant {
                    role: Role::Viewer,
                    unit: None,
                    raised_clearance: None,
                }],
            },
        )
        .await?;
    Ok(())
}

/// Sends one GraphQL request, with a session token when given; its `data`, or the
/// errors as a failure.
async fn graphql(
    base_url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let mut request = reqwest::Client::new()
        .post(format!("{base_url}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer: Value = request.send().await?.json().await?;
    if let Some(errors) = answer.get("errors") {
        anyhow::bail!("{query}: {errors}");
    }
    Ok(answer["data"].clone())
}

fn print_latencies(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |fraction: f64| {
        let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
        samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "  {label}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} samples)",
        at(0.5),
        at(0.99),
        at(1.0),
        samples.len()
    );
}
