//! `/status` under a crowd of residents, against nginx serving the static build of the
//! same page, both driven by wrk in the same run. The demo municipality with its
//! playbooks' advice and one current notice with a hotline; the per-client rate limit
//! is lifted, since wrk calls from one address and the limit is not what is measured.

use anyhow::{Context, bail};
use reserv::server::{open_store, start};
use reserv::{Config, demo};
use serde_json::json;
use std::num::NonZeroU32;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

pub struct Shape {
    pub seconds: u64,
    pub connections: usize,
}

/// What one wrk run measured.
struct WrkFigures {
    per_second: f64,
    p50: String,
    p99: String,
    non_2xx: u64,
}

pub async fn run(shape: &Shape) -> anyhow::Result<()> {
    for tool in ["wrk", "nginx"] {
        if which(tool).is_none() {
            bail!("{tool} is missing: apt-get install -y wrk nginx-light");
        }
    }
    let folder = tempfile::tempdir()?;
    let mut config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: folder.path().join("data"),
        log: "warn".into(),
        ..Config::default()
    };
    config.login.demo_default();
    config.fallback.requests_per_minute = NonZeroU32::MAX;
    let store = open_store(&config).await?;
    demo::load_if_empty(&store).await?;
    let playbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbooks");
    reserv::playbooks::import(&store, &playbooks).await?;
    let server = start(&config, store.clone()).await?;
    let reserv_url = format!("http://{}/status", server.address);
    publish_a_notice(&format!("http://{}", server.address)).await?;

    let site = folder.path().join("site");
    reserv_fallback::build_site(&store, &site, store.now(), 30).await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut nginx = start_nginx(folder.path(), &site, port).await?;
    let nginx_url = format!("http://127.0.0.1:{port}/index.html");

    let live = reqwest::get(&reserv_url).await?.text().await?;
    let fallback = reqwest::get(&nginx_url).await?.text().await?;
    println!("reserv-bench status-page");
    crate::print_machine("; wrk and nginx from Debian, on the same machine");
    println!(
        "  data: the demo municipality, 9 playbooks' advice, one current notice; /status is {} bytes, the static index.html {} bytes",
        live.len(),
        fallback.len()
    );
    println!(
        "  load: wrk -t2 -c{} -d{}s --latency, HTTP/1.1 keep-alive on loopback; nginx: worker_processes auto, access_log off; the per-client rate limit lifted",
        shape.connections, shape.seconds
    );
    let outcome = async {
        let ours = wrk(&reserv_url, shape).await?;
        print_figures("Reserv /status (live, server-rendered)", &ours);
        let theirs = wrk(&nginx_url, shape).await?;
        print_figures("nginx, the static build of the same page", &theirs);
        println!(
            "  Reserv / nginx throughput: {:.2} (aim: at least 0.5)",
            ours.per_second / theirs.per_second
        );
        anyhow::Ok(())
    }
    .await;
    nginx.kill().await.ok();
    server.stop().await?;
    outcome
}

async fn publish_a_notice(base_url: &str) -> anyhow::Result<()> {
    let token = crate::load::sign_in(base_url, "kommunikator", "Demo-kommunikator-2026").await?;
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{base_url}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation($input: NoticeInput!) { publishNotice(input: $input) { id } }",
            "variables": { "input": {
                "confidentiality": 0,
                "headline": { "sv": "Hemtjänstens besök kan bli försenade", "en": "Home care visits may be late" },
                "body": {
                    "sv": "Kommunens IT-system fungerar inte. Hemtjänsten gör alla besök enligt papperslistor.\n\nOm ditt besök är mer än en halvtimme sent, ring hemtjänstens reservnummer.",
                    "en": "The municipality's IT systems are down. Home care makes every visit from paper lists."
                },
                "services": [{ "name": { "sv": "Hemtjänstens besök", "en": "Home care visits" }, "state": "DISRUPTED" }],
                "hotlines": [{ "name": { "sv": "Hemtjänsten", "en": "Home care" }, "phone": "070-174 06 90",
                               "openingHours": { "sv": "Dygnet runt", "en": "Around the clock" } }],
            } },
        }))
        .send()
        .await?
        .json()
        .await?;
    if answer["errors"].is_array() {
        bail!("the notice was not published: {answer}");
    }
    Ok(())
}

async fn start_nginx(
    folder: &Path,
    site: &Path,
    port: u16,
) -> anyhow::Result<tokio::process::Child> {
    let conf = folder.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\nworker_processes auto;\npid {pid};\nerror_log {log} warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  include /etc/nginx/mime.types;\n  access_log off;\n\
             client_body_temp_path {tmp};\n  proxy_temp_path {tmp};\n  fastcgi_temp_path {tmp};\n  uwsgi_temp_path {tmp};\n  scgi_temp_path {tmp};\n\
             server {{ listen 127.0.0.1:{port}; root {root}; }}\n}}\n",
            pid = folder.join("nginx.pid").display(),
            log = folder.join("nginx-error.log").display(),
            tmp = folder.display(),
            root = site.display(),
        ),
    )?;
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(folder)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start nginx")?;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(child);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("nginx did not start listening on port {port}")
}

async fn wrk(url: &str, shape: &Shape) -> anyhow::Result<WrkFigures> {
    let output = Command::new("wrk")
        .args(["-t2", &format!("-c{}", shape.connections)])
        .arg(format!("-d{}s", shape.seconds))
        .arg("--latency")
        .arg(url)
        .output()
        .await
        .context("cannot run wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .map(|rest| {
                rest.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
    };
    Ok(WrkFigures {
        per_second: field("Requests/sec:")
            .and_then(|value| value.parse().ok())
            .with_context(|| format!("no Requests/sec in wrk's output: {text}"))?,
        p50: field("50%").unwrap_or_default(),
        p99: field("99%").unwrap_or_default(),
        non_2xx: field("Non-2xx or 3xx responses:")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0),
    })
}

fn print_figures(label: &str, figures: &WrkFigures) {
    println!(
        "  {label}: {:.0} req/s, p50 {}, p99 {}{}",
        figures.per_second,
        figures.p50,
        figures.p99,
        if figures.non_2xx > 0 {
            format!(", {} answers were not 2xx/3xx", figures.non_2xx)
        } else {
            String::new()
        }
    );
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|folder| Path::new(folder).join(tool))
        .find(|path| path.is_file())
}
