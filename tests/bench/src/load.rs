//! A small closed-loop load generator: each client sends its next request as soon as
//! the last one is answered, for a fixed time, and every latency is kept for the
//! percentiles.

use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub struct Run {
    pub duration: Duration,
    pub clients: usize,
}

pub struct Figures {
    latencies: Vec<Duration>,
    elapsed: Duration,
    failures: usize,
}

impl Figures {
    /// Requests answered without error.
    pub fn answered(&self) -> u64 {
        self.latencies.len() as u64
    }

    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, share: f64) -> Duration {
        let index = ((self.latencies.len() as f64 * share).ceil() as usize).saturating_sub(1);
        self.latencies.get(index).copied().unwrap_or_default()
    }

    pub fn print(&self, label: &str) {
        println!(
            "  {label}: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms ({} requests, {} failed)",
            self.per_second(),
            self.percentile(0.50).as_secs_f64() * 1000.0,
            self.percentile(0.99).as_secs_f64() * 1000.0,
            self.latencies.len(),
            self.failures
        );
    }
}

impl Run {
    /// Sends `query` from every client until the time is up; client `i` uses session
    /// `tokens[i % tokens.len()]`.
    pub async fn drive(
        &self,
        base_url: &str,
        tokens: &[String],
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Figures> {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(self.clients)
            .build()?;
        // One untimed request first: it must succeed, or the figures would be of errors.
        let first = tokens.first().context("no session to send with")?;
        let check = send(&http, base_url, first, &body).await?;
        if check.get("errors").is_some() {
            bail!("the benchmark query fails: {check}");
        }
        let started = Instant::now();
        let deadline = started + self.duration;
        let mut clients = vec![];
        for client in 0..self.clients {
            let (http, url, token, body) = (
                http.clone(),
                base_url.to_owned(),
                tokens[client % tokens.len()].clone(),
                body.clone(),
            );
            clients.push(tokio::spawn(async move {
                let mut latencies = vec![];
                let mut failures = 0;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match send_timed(&http, &url, &token, &body).await {
                        Ok(true) => latencies.push(sent.elapsed()),
                        _ => failures += 1,
                    }
                }
                (latencies, failures)
            }));
        }
        let mut figures = Figures {
            latencies: vec![],
            elapsed: Duration::ZERO,
            failures: 0,
        };
        for client in clients {
            let (latencies, failures) = client.await?;
            figures.latencies.extend(latencies);
            figures.failures += failures;
        }
        figures.elapsed = started.elapsed();
        figures.latencies.sort();
        Ok(figures)
    }
}

fn request(
    http: &reqwest::Client,
    base_url: &str,
    token: &str,
    body: &str,
) -> reqwest::RequestBuilder {
    http.post(format!("{base_url}/graphql"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
}

async fn send(
    http: &reqwest::Client,
    base_url: &str,
    token: &str,
    body: &str,
) -> anyhow::Result<Value> {
    Ok(request(http, base_url, token, body)
        .send()
        .await?
        .json()
        .await?)
}

/// A timed request reads the answer's bytes without parsing them (true when it
/// succeeded): the client shares the
/// machine with the server, and parsing every answer would take cores from the server
/// that is being measured.
async fn send_timed(
    http: &reqwest::Client,
    base_url: &str,
    token: &str,
    body: &str,
) -> anyhow::Result<bool> {
    let answer = request(http, base_url, token, body).send().await?;
    let succeeded = answer.status().is_success();
    Ok(succeeded && !has_errors(&answer.bytes().await?))
}

/// Whether a GraphQL answer carries errors. Quotes inside JSON strings are escaped, so
/// an unescaped `"errors":` can only be the answer's own key. A SIMD substring search:
/// a byte-by-byte scan of a 100 kB answer took a sixth of the machine's time in the
/// load generator, not in the server it measures.
fn has_errors(answer: &[u8]) -> bool {
    memchr::memmem::find(answer, b"\"errors\":").is_some()
}

pub async fn sign_in(base_url: &str, username: &str, password: &str) -> anyhow::Result<String> {
    let answer = reqwest::Client::new()
        .post(format!("{base_url}/graphql"))
        .json(&json!({
            "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
            "variables": { "u": username, "p": password },
        }))
        .send()
        .await?
        .json::<Value>()
        .await?;
    answer["data"]["login"]["token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("sign-in failed: {answer}"))
}
