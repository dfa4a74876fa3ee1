//! `reserv audit verify` and `reserv audit export` as an operator runs them, and the
//! chain surviving a server killed in the middle of its work.

mod common;

use common::{reserv, text};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

async fn database(folder: &Path) -> anyhow::Result<DatabaseConnection> {
    let file = folder.join("data/reserv.db");
    Ok(Database::connect(format!("sqlite://{}", file.display())).await?)
}

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            sql,
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row for {sql}"))?;
    Ok(row.try_get_by_index(0)?)
}

fn an_admin_named_anna(folder: &Path) -> anyhow::Result<()> {
    let output = reserv(
        folder,
        &[
            "user",
            "add",
            "--username",
            "anna",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("krisberedskap-2026\n"),
    )?;
    anyhow::ensure!(output.status.success(), "{}", text(&output.stderr));
    Ok(())
}

#[tokio::test]
async fn verify_names_the_changed_event_and_export_writes_the_hashes() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    an_admin_named_anna(folder.path())?;

    let verified = reserv(folder.path(), &["audit", "verify"], None)?;
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    assert!(text(&verified.stdout).contains("The audit chain is intact: 2 events checked"));

    let export = folder.path().join("export.jsonl");
    let exported = reserv(
        folder.path(),
        &[
            "audit",
            "export",
            "--from",
            "2020-01-01",
            "--out",
            "export.jsonl",
        ],
        None,
    )?;
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&export)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["action"], "chain_started");
    assert_eq!(lines[1]["action"], "create");
    assert_eq!(lines[1]["prev_hash"], lines[0]["hash"]);
    let wrong = reserv(
        folder.path(),
        &["audit", "export", "--to", "i morgon"],
        None,
    )?;
    assert!(!wrong.status.success());
    assert!(
        text(&wrong.stderr).contains("--to: 'i morgon'"),
        "{}",
        text(&wrong.stderr)
    );

    let db = database(folder.path()).await?;
    db.execute_unprepared("DROP TRIGGER audit_events_no_update")
        .await?;
    db.execute_unprepared("UPDATE audit_events SET actor = 'någon annan' WHERE seq = 1")
        .await?;
    let id = count(&db, "SELECT id FROM audit_events WHERE seq = 1").await?;
    db.close().await?;
    let broken = reserv(folder.path(), &["audit", "verify"], None)?;
    assert!(
        !broken.status.success(),
        "a changed event fails verification"
    );
    let message = text(&broken.stderr);
    assert!(
        message.contains(&format!("audit event {id} (position 1,"))
            && message.contains("was changed"),
        "{message}"
    );
    Ok(())
}

fn start_server(folder: &Path, port: u16) -> std::io::Result<Child> {
    Command::new(env!("CARGO_BIN_EXE_reserv"))
        .arg("serve")
        .current_dir(folder)
        .env_remove("DATABASE_URL")
        .env("RESERV_LOG", "warn")
        .env("RESERV_LISTEN", format!("127.0.0.1:{port}"))
        // The administrator signs in with a password alone; second factors are tested
        // in tests/e2e/second_factor.rs.
        .env("RESERV_LOGIN__REQUIRE_SECOND_FACTOR", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

async fn wait_until_up(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the server did not start")
}

/// A server killed with SIGKILL in the middle of a burst of changes and refused
/// sign-ins leaves an intact chain, and every change it committed has its event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_leaves_an_intact_chain() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    an_admin_named_anna(folder.path())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_server(folder.path(), port)?;
    let http = reqwest::Client::new();
    wait_until_up(&http, &base).await?;
    let login: serde_json::Value = http
        .post(format!("{base}/graphql"))
        .json(&serde_json::json!({
            "query": "mutation { login(username: \"anna\", password: \"krisberedskap-2026\") { token } }"
        }))
        .send()
        .await?
        .json()
        .await?;
    let token = login["data"]["login"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    anyhow::ensure!(!token.is_empty(), "{login}");

    let mut burst = vec![];
    for client in 0..8 {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        burst.push(tokio::spawn(async move {
            for round in 0.. {
                let change = http
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({
                        "query": "mutation($input: UnitInput!) { createUnit(input: $input) { id } }",
                        "variables": { "input": { "name": format!("Testkommun {client}-{round}"), "kind": "MUNICIPALITY" } }
                    }))
                    .send()
                    .await;
                let refused = http
                    .post(format!("{base}/graphql"))
                    .json(&serde_json::json!({
                        "query": "mutation { login(username: \"anna\", password: \"fel-lösenord\") { token } }"
                    }))
                    .send()
                    .await;
                if change.is_err() || refused.is_err() {
                    break;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill()?;
    server.wait()?;
    for client in burst {
        client.await?;
    }

    let verified = reserv(folder.path(), &["audit", "verify"], None)?;
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    let db = database(folder.path()).await?;
    let units = count(&db, "SELECT COUNT(*) FROM units").await?;
    let unit_events = count(
        &db,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'create' AND object_type = 'unit' AND outcome = 'success'",
    )
    .await?;
    db.close().await?;
    assert!(units > 0, "the burst committed changes before the kill");
    assert_eq!(
        units, unit_events,
        "every committed change has its event, and no event lacks its change"
    );

    // The restarted server goes on appending to the same chain.
    let mut restarted = start_server(folder.path(), port)?;
    wait_until_up(&http, &base).await?;
    let _ = http
        .post(format!("{base}/graphql"))
        .json(&serde_json::json!({ "query": "mutation { login(username: \"anna\", password: \"fel\") { token } }" }))
        .send()
        .await?;
    restarted.kill()?;
    restarted.wait()?;
    let verified = reserv(folder.path(), &["audit", "verify"], None)?;
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    Ok(())
}
