//! Load benchmarks of the Reserv server, each a subcommand that prints its setup with its
//! figures: `read-path` (the crisis-day reads over HTTP under concurrent load),
//! `sign-in` (what a password sign-in costs), `activation` (time to commit the
//! total-IT-outage playbook for a generated municipality) and `fan-out` (one message to
//! 10 000 people by SMS and push through the outbox, against a bare reqwest loop) run on
//! a fresh SQLite file and, when `TEST_DATABASE_URL` is set, on a fresh PostgreSQL
//! database as well; `status-page` (the residents' `/status` against nginx serving the static build, both
//! under wrk) on SQLite, since the page reads little from the database.

mod activation;
mod data;
mod fan_out;
mod load;
mod postgres;
mod sign_in;
mod status_page;

/// mimalloc rather than the system allocator: a profile of the read path under load
/// spent about a quarter of its time in glibc malloc (many small GraphQL values).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use postgres::{drop_postgres, fresh_postgres};
use reserv::Config;
use reserv::server::{open_store, start};
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Load benchmarks of the Reserv server")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// The incident page (audited and not) and the full plans tree under concurrent load.
    ReadPath {
        /// Seconds each scenario runs.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent clients.
        #[arg(long, default_value_t = 50)]
        clients: usize,
        /// Units with an approved plan each.
        #[arg(long, default_value_t = 60)]
        units: usize,
        /// Crisis log entries per incident.
        #[arg(long, default_value_t = 500)]
        log_entries: usize,
        /// Serve repeated reads from the read cache (`[read_cache] enabled`).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        read_cache: bool,
    },
    /// What one password sign-in costs, and other requests' latency during a burst.
    SignIn {
        /// Sequential sign-ins measured.
        #[arg(long, default_value_t = 20)]
        logins: usize,
        /// Concurrent sign-ins in the burst.
        #[arg(long, default_value_t = 40)]
        burst: usize,
    },
    /// Time to commit one activation of the total-IT-outage playbook.
    Activation {
        /// Care units with an approved plan each.
        #[arg(long, default_value_t = 60)]
        units: usize,
        /// People in the units' staff, unit managers included.
        #[arg(long, default_value_t = 3000)]
        staff: usize,
        /// Activations timed, each with a new key.
        #[arg(long, default_value_t = 10)]
        rounds: usize,
    },
    /// One message to every staff member by SMS and push, through the outbox to
    /// loopback mocks, against a bare reqwest loop.
    FanOut {
        /// Staff members, each with a phone and a browser subscribed to push.
        #[arg(long, default_value_t = 10_000)]
        recipients: usize,
        /// Copies the worker claims at once.
        #[arg(long, default_value_t = reserv_notify::CLAIM_BATCH)]
        claim_batch: u64,
    },
    /// `/status` against nginx serving the static build of the same page, under wrk.
    StatusPage {
        /// Seconds each server is loaded.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent connections.
        #[arg(long, default_value_t = 100)]
        connections: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Cli { bench } = Cli::parse();
    let (seconds, clients, units, log_entries, read_cache) = match bench {
        Bench::SignIn { logins, burst } => return sign_in::run(logins, burst).await,
        Bench::FanOut {
            recipients,
            claim_batch,
        } => {
            return fan_out::run(&fan_out::Shape {
                recipients,
                claim_batch,
            })
            .await;
        }
        Bench::StatusPage {
            seconds,
            connections,
        } => {
            let shape = status_page::Shape {
                seconds,
                connections,
            };
            return status_page::run(&shape).await;
        }
        Bench::Activation {
            units,
            staff,
            rounds,
        } => {
            let shape = activation::Shape {
                units,
                staff,
                rounds,
            };
            return activation::run(&shape).await;
        }
        Bench::ReadPath {
            seconds,
            clients,
            units,
            log_entries,
            read_cache,
        } => (seconds, clients, units, log_entries, read_cache),
    };
    let shape = data::Shape {
        units,
        log_entries,
        tasks: 40,
    };
    let run = load::Run {
        duration: Duration::from_secs(seconds),
        clients,
    };
    println!("reserv-bench read-path");
    print_machine("");
    println!(
        "  data: {} units with an approved plan each (5 activities, 4 routines of 6 steps); two incidents with {} log entries and {} tasks (confidentiality 2 and 1)",
        shape.units, shape.log_entries, shape.tasks
    );
    println!(
        "  load: {} concurrent clients, each signed in with its own session, {} s per scenario, HTTP/1.1 on loopback; read cache {}",
        run.clients,
        seconds,
        if read_cache { "on" } else { "off" }
    );
    read_path("SQLite (embedded file)", None, &shape, &run, read_cache).await?;
    if let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") {
        let (url, name) = fresh_postgres(&admin_url).await?;
        let outcome = read_path("PostgreSQL", Some(url), &shape, &run, read_cache).await;
        drop_postgres(&admin_url, &name).await?;
        outcome?;
    }
    Ok(())
}

async fn read_path(
    label: &str,
    database_url: Option<String>,
    shape: &data::Shape,
    run: &load::Run,
    read_cache: bool,
) -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let mut config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: folder.path().to_path_buf(),
        database_url,
        log: "warn".into(),
        ..Config::default()
    };
    // The read path is measured, not sign-in: the crisis lead signs in with a password
    // alone, as in the demo.
    config.login.demo_default();
    config.read_cache.enabled = read_cache;
    let store = open_store(&config).await?;
    let server = start(&config, store.clone()).await?;
    let base_url = format!("http://{}", server.address);
    let prepared = data::generate(&store, shape).await?;
    // Every client its own session, as fifty people on a crisis day (the same account
    // and access, so that they share kept answers as fifty crisis leads would).
    let mut tokens = Vec::with_capacity(run.clients);
    for _ in 0..run.clients {
        tokens.push(load::sign_in(&base_url, data::LEAD, data::PASSWORD).await?);
    }
    println!("\n{label}");
    let incident = "query($id: ID!) { incident(id: $id) { id title state severity commander { name } \
        units { id name } systems { id name } log { id kind text author occurredAt } \
        tasks { id title state dueAt assignee { name } } } }";
    let plans = "{ plans(first: 50) { edges { node { id title versions { id state activities { id name \
        dependencies { id kind system { name } } routines { id title steps { who what when } \
        materials { name } } } } } } } }";
    let events_before = store.audit_event_count().await?;
    let audited = run
        .drive(
            &base_url,
            &tokens,
            incident,
            serde_json::json!({ "id": prepared.sensitive_incident }),
        )
        .await?;
    audited.print("(a) incident, confidentiality 2 (read audited)");
    println!(
        "      read events written during (a): {} for {} answered requests (one untimed)",
        store.audit_event_count().await? - events_before,
        audited.answered() + 1
    );
    let plain = run
        .drive(
            &base_url,
            &tokens,
            incident,
            serde_json::json!({ "id": prepared.internal_incident }),
        )
        .await?;
    plain.print("(b) incident, confidentiality 1 (not audited)");
    let tree = run
        .drive(&base_url, &tokens, plans, serde_json::json!({}))
        .await?;
    tree.print("(c) plans(first: 50), full tree");
    // What the server and this in-process load generator cost around any answer: the
    // session, the data version, HTTP on loopback, the client reading the body.
    let floor = run
        .drive(
            &base_url,
            &tokens,
            "{ me { username } }",
            serde_json::json!({}),
        )
        .await?;
    floor.print("(floor) { me { username } }, nothing audited");
    println!(
        "  throughput a/b: {:.2} (auditing costs {:.0} %)",
        audited.per_second() / plain.per_second(),
        (1.0 - audited.per_second() / plain.per_second()) * 100.0
    );
    let report = store.verify_audit_chain().await?;
    println!(
        "  audit chain after the run: {} events, {}",
        report.checked,
        report
            .fault
            .map_or("intact".to_owned(), |fault| fault.to_string())
    );
    server.stop().await?;
    Ok(())
}

/// The machine and build line every benchmark starts with; `note` adds to the build.
fn print_machine(note: &str) {
    println!(
        "  machine: {} cores; build: {}{note}",
        std::thread::available_parallelism().map_or(0, usize::from),
        if cfg!(debug_assertions) {
            "debug (figures are not representative)"
        } else {
            "release"
        }
    );
}
