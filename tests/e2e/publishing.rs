//! Publishing the fallback site: a notice written over GraphQL reaches the configured
//! folder, S3 bucket (a real S3-compatible server, moto, on loopback) or command within
//! seconds, how each target is doing shows in `fallbackPublishStatus`, and the published
//! site served by nginx still answers when Reserv's own server is stopped.

use anyhow::Context;
use reserv::config::{S3TargetConfig, TargetConfig};
use reserv_tests::{Client, free_port, on_every_database};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const STATUS: &str = "{ fallbackPublishStatus { target lastSuccess lastFailure lastError } }";

/// Polls `check` every 100 ms for up to 15 s.
async fn eventually<F, Fut>(what: &str, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    for _ in 0..150 {
        if check().await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{what} did not happen within 15 seconds")
}

async fn status(client: &Client) -> anyhow::Result<Value> {
    Ok(client.data(STATUS, json!({})).await?["fallbackPublishStatus"][0].clone())
}

async fn publish(communicator: &Client, headline: &str) -> anyhow::Result<()> {
    communicator
        .data(
            "mutation($input: NoticeInput!) { publishNotice(input: $input) { id } }",
            json!({ "input": {
                "confidentiality": 0,
                "headline": { "sv": headline },
                "body": { "sv": "Ring upplysningen om du undrar över ditt besök." },
                "hotlines": [{
                    "name": { "sv": "Upplysningstelefon" },
                    "phone": "+46923650000",
                    "openingHours": { "sv": "Vardagar 07–22" }
                }]
            } }),
        )
        .await?;
    Ok(())
}

/// The body of `url`, or empty when it does not answer 200.
async fn body_of(url: &str) -> String {
    match reqwest::get(url).await {
        Ok(response) if response.status().is_success() => response.text().await.unwrap_or_default(),
        _ => String::new(),
    }
}

/// A program a test needs from the machine, or an error that says how to install it.
fn spawn(program: &str, args: &[&str], install: &str) -> anyhow::Result<Child> {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!("{program} is needed for this test: {install} (.ci/run installs it)")
        })
}

/// Starts moto's S3-compatible server on `port` and waits until it answers.
async fn start_s3(port: u16) -> anyhow::Result<Child> {
    let server = spawn(
        "moto_server",
        &["-H", "127.0.0.1", "-p", &port.to_string()],
        "pip install 'moto[server]'",
    )?;
    let url = format!("http://127.0.0.1:{port}/");
    eventually("moto to start", || async {
        Ok(reqwest::get(&url).await.is_ok())
    })
    .await?;
    Ok(server)
}

async fn create_bucket(port: u16) -> anyhow::Result<()> {
    let response = reqwest::Client::new()
        .put(format!("http://127.0.0.1:{port}/reserv-status"))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "creating the bucket: {}",
        response.status()
    );
    Ok(())
}

/// A file of the published site as read from the bucket with the site's credentials
/// (moto keeps buckets private), with its content type; empty when it is not there.
async fn from_bucket(port: u16, name: &str) -> anyhow::Result<(String, Option<String>)> {
    use object_store::{Attribute, ObjectStoreExt};
    let bucket = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(format!("http://127.0.0.1:{port}"))
        .with_allow_http(true)
        .with_bucket_name("reserv-status")
        .with_region("eu-north-1")
        .with_access_key_id("reserv")
        .with_secret_access_key("testhemlighet")
        .build()?;
    let Ok(found) = bucket
        .get(&object_store::path::Path::from(format!("kris/{name}")))
        .await
    else {
        return Ok((String::new(), None));
    };
    let content_type = found
        .attributes
        .get(&Attribute::ContentType)
        .map(|value| value.to_string());
    let bytes = found.bytes().await?;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), content_type))
}

fn s3_port(server: &reserv_tests::TestServer) -> anyhow::Result<u16> {
    match server.config.fallback.targets.first() {
        Some(TargetConfig::S3(S3TargetConfig {
            endpoint: Some(endpoint),
            ..
        })) => Ok(endpoint
            .rsplit(':')
            .next()
            .context("the endpoint has a port")?
            .parse()?),
        other => anyhow::bail!("the fixture publishes to S3, not {other:?}"),
    }
}

/// nginx serving `root` on a free loopback port, in the foreground, as an unprivileged
/// static host would; returns the process and its base URL.
fn start_nginx(root: &Path, scratch: &Path) -> anyhow::Result<(Child, String)> {
    let port = free_port()?;
    let conf = scratch.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\nmaster_process off;\npid {pid};\nerror_log {log} warn;\nevents {{}}\nhttp {{\n  include /etc/nginx/mime.types;\n  access_log off;\n  client_body_temp_path {tmp};\n  proxy_temp_path {tmp};\n  fastcgi_temp_path {tmp};\n  uwsgi_temp_path {tmp};\n  scgi_temp_path {tmp};\n  server {{\n    listen 127.0.0.1:{port};\n    root {root};\n    index index.html;\n  }}\n}}\n",
            pid = scratch.join("nginx.pid").display(),
            log = scratch.join("nginx-error.log").display(),
            tmp = scratch.display(),
            root = root.display(),
        ),
    )?;
    let nginx = spawn(
        "nginx",
        &[
            "-c",
            &conf.display().to_string(),
            "-p",
            &scratch.display().to_string(),
        ],
        "apt-get install -y nginx-light",
    )?;
    Ok((nginx, format!("http://127.0.0.1:{port}")))
}

on_every_database! {
    async fn a_new_notice_reaches_the_folder_within_seconds(server: publishing_to_a_folder) {
        let communicator = server.sign_in_as("kommunikator").await?;
        communicator
            .data(
                "mutation($input: NoticeInput!) { publishNotice(input: $input) { id } }",
                json!({ "input": {
                    "confidentiality": 0,
                    "headline": { "sv": "Vattenläcka på Solgården" },
                    "body": { "sv": "Boendet har vatten igen från kl. 14." }
                } }),
            )
            .await?;
        let index = server.config.data_dir.join("site/index.html");
        eventually("publishing the notice", || async {
            Ok(std::fs::read_to_string(&index).unwrap_or_default().contains("Vattenläcka på Solgården"))
        })
        .await?;
        let published = status(&communicator).await?;
        assert!(published["target"].as_str().unwrap_or_default().starts_with("dir "), "{published}");
        assert!(published["lastSuccess"].is_string(), "{published}");
        assert!(published["lastError"].is_null(), "{published}");
        let (code, _) = server.sign_in_as("lasare").await?.error(STATUS, json!({})).await?;
        assert_eq!(code, "FORBIDDEN", "viewers do not see the publishing status");
        Ok(())
    }

    async fn a_failing_target_is_retried_and_reported(server: publishing_to_a_broken_target) {
        let communicator = server.sign_in_as("kommunikator").await?;
        eventually("a recorded failure", || async {
            Ok(status(&communicator).await?["lastError"].is_string())
        })
        .await?;
        let failed = status(&communicator).await?;
        assert!(failed["lastSuccess"].is_null(), "{failed}");
        assert!(failed["lastError"].as_str().unwrap_or_default().contains("/dev/null"), "{failed}");
        let (status, _) = (reqwest::get(format!("{}/status", server.base_url)).await?.status(), ());
        assert_eq!(status, reqwest::StatusCode::OK, "the live page does not wait for publishing");
        Ok(())
    }

    async fn a_notice_reaches_an_s3_bucket_and_publishing_recovers_when_it_returns(server: publishing_to_s3) {
        let communicator = server.sign_in_as("kommunikator").await?;
        let port = s3_port(&server)?;
        // Nothing answers at the endpoint yet: the first publication fails and says so.
        eventually("a recorded failure", || async {
            Ok(status(&communicator).await?["lastError"].is_string())
        })
        .await?;
        let failed = status(&communicator).await?;
        assert!(failed["target"].as_str().is_some_and(|t| t.starts_with("s3 reserv-status/kris")), "{failed}");
        assert!(!failed.to_string().contains("testhemlighet"), "the secret never shows: {failed}");

        let s3 = start_s3(port).await?;
        create_bucket(port).await?;
        publish(&communicator, "Hemtjänsten kör efter papperslistor").await?;
        let published = eventually("the notice in the bucket", || async {
            Ok(from_bucket(port, "index.html").await?.0.contains("Hemtjänsten kör efter papperslistor"))
        })
        .await;
        if let Err(error) = published {
            anyhow::bail!("{error}; the target reports {}", status(&communicator).await?);
        }
        let (_, content_type) = from_bucket(port, "index.html").await?;
        assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
        let (feed, _) = from_bucket(port, "status.json").await?;
        assert!(feed.contains("Hemtjänsten kör efter papperslistor"), "{feed}");
        assert!(status(&communicator).await?["lastSuccess"].is_string());

        // The S3 server goes away (its buckets with it) and comes back empty.
        drop(s3);
        publish(&communicator, "Larmcentralen nås på reservnummer").await?;
        eventually("a failure after the success", || async {
            let now = status(&communicator).await?;
            Ok(now["lastFailure"].as_str() > now["lastSuccess"].as_str())
        })
        .await?;
        let _s3 = start_s3(port).await?;
        create_bucket(port).await?;
        publish(&communicator, "Trygghetslarmen fungerar igen").await?;
        eventually("the newest notice after recovery", || async {
            Ok(from_bucket(port, "index.html").await?.0.contains("Trygghetslarmen fungerar igen"))
        })
        .await?;
        let recovered = status(&communicator).await?;
        assert!(recovered["lastSuccess"].as_str() > recovered["lastFailure"].as_str(), "{recovered}");
        Ok(())
    }

    async fn a_command_target_gets_a_complete_copy_of_the_site(server: publishing_through_a_command) {
        let communicator = server.sign_in_as("kommunikator").await?;
        publish(&communicator, "Dörrlåsen öppnas med nyckel").await?;
        let copied = server.config.data_dir.join("copied");
        eventually("the copy made by the command", || async {
            Ok(std::fs::read_to_string(copied.join("index.html")).unwrap_or_default().contains("Dörrlåsen öppnas med nyckel"))
        })
        .await?;
        for file in ["en.html", "status.json", "status.atom", "status.en.atom"] {
            assert!(copied.join(file).is_file(), "{file} was handed to the command");
        }
        let published = status(&communicator).await?;
        assert_eq!(published["target"], "command sh");
        assert!(published["lastSuccess"].is_string() && published["lastError"].is_null(), "{published}");
        Ok(())
    }

    async fn a_failing_command_is_reported_with_its_error_output(server: publishing_through_a_failing_command) {
        let communicator = server.sign_in_as("kommunikator").await?;
        eventually("a recorded failure", || async {
            Ok(status(&communicator).await?["lastError"].is_string())
        })
        .await?;
        let failed = status(&communicator).await?;
        let error = failed["lastError"].as_str().unwrap_or_default();
        assert!(error.contains("webbservern svarar inte") && error.contains("exit status: 3"), "{failed}");
        Ok(())
    }

    async fn the_site_served_by_nginx_answers_when_the_server_is_stopped(server: publishing_to_a_folder) {
        let communicator = server.sign_in_as("kommunikator").await?;
        publish(&communicator, "Kommunens IT är nere efter ett angrepp").await?;
        let site = server.config.data_dir.join("site");
        eventually("the notice in the folder", || async {
            Ok(std::fs::read_to_string(site.join("index.html")).unwrap_or_default().contains("Kommunens IT är nere"))
        })
        .await?;
        let scratch = tempfile::tempdir()?;
        let (_nginx, nginx_url) = start_nginx(&site, scratch.path())?;
        eventually("nginx to start", || async { Ok(!body_of(&nginx_url).await.is_empty()) }).await?;

        server.stop_server().await?;
        assert!(reqwest::get(format!("{}/status", server.base_url)).await.is_err(), "Reserv's server is gone");
        let page = body_of(&format!("{nginx_url}/")).await;
        assert!(page.contains("Kommunens IT är nere efter ett angrepp"), "{page}");
        assert!(page.contains("Upplysningstelefon") && page.contains("tel:+46923650000"), "the hotline is on the page: {page}");
        let english = body_of(&format!("{nginx_url}/en.html")).await;
        assert!(english.contains("+46923650000"), "{english}");
        let json = body_of(&format!("{nginx_url}/status.json")).await;
        assert!(json.contains("Kommunens IT är nere efter ett angrepp"), "{json}");
        Ok(())
    }
}
