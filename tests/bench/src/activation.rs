//! `reserv-bench activation`: how long the one action at 03:00 takes. Generates a
//! municipality of care units with approved plans and their staff, loads the
//! total-IT-outage playbook and times `activate_playbook` (the store use case the
//! GraphQL mutation calls) from start to commit, once per round with a new key, on
//! SQLite and, when `TEST_DATABASE_URL` is set, on PostgreSQL.

use crate::data;
use crate::postgres::{drop_postgres, fresh_postgres};
use anyhow::{Context, bail};
use reserv::Config;
use reserv::server::open_store;
use reserv_domain::access::{Principal, Role, RoleGrant};
use reserv_store::{ActivationRequest, NewAccount, Store};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PLAYBOOK: &str = "it-avbrott-cyberattack";
/// The system whose outage the playbook names as its trigger; the check wants it to exist.
const TRIGGER_SYSTEM: &str = "Identitetstjänst och inloggning";
/// Routines per unit plan, taken in turn from the playbook's list.
const ROUTINES_PER_UNIT: usize = 5;

pub struct Shape {
    pub units: usize,
    pub staff: usize,
    pub rounds: usize,
}

pub async fn run(shape: &Shape) -> anyhow::Result<()> {
    let file = playbook_file();
    let source = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let playbook = reserv_playbooks::check_source(&file, &source, None)
        .map_err(|problems| anyhow::anyhow!("{} does not read: {problems:?}", file.display()))?;
    let keys: Vec<&str> = playbook.routines.iter().map(|key| key.as_str()).collect();
    println!("reserv-bench activation");
    crate::print_machine("");
    println!(
        "  data: {} care units with an approved plan each ({ROUTINES_PER_UNIT} of the playbook's {} routines, 6 steps each), a unit manager account per unit, {} staff in the directory",
        shape.units,
        keys.len(),
        shape.staff
    );
    println!(
        "  timed: activate_playbook({PLAYBOOK}) for every planned unit, in process, from the call to the commit; {} rounds, each a new incident and key",
        shape.rounds
    );
    measure("SQLite (embedded file)", None, shape, &keys).await?;
    if let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") {
        let (url, name) = fresh_postgres(&admin_url).await?;
        let outcome = measure("PostgreSQL", Some(url), shape, &keys).await;
        drop_postgres(&admin_url, &name).await?;
        outcome?;
    }
    Ok(())
}

fn playbook_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../playbooks/{PLAYBOOK}.yaml"))
}

async fn measure(
    label: &str,
    database_url: Option<String>,
    shape: &Shape,
    keys: &[&str],
) -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let config = Config {
        data_dir: folder.path().to_path_buf(),
        database_url,
        log: "warn".into(),
        ..Config::default()
    };
    let store = open_store(&config).await?;
    let generating = Instant::now();
    let lead = municipality(&store, shape, keys).await?;
    load_playbook(&store, folder.path()).await?;
    println!(
        "\n{label}\n  generated in {:.1} s",
        generating.elapsed().as_secs_f64()
    );
    let mut times = Vec::with_capacity(shape.rounds);
    let mut last = None;
    for round in 1..=shape.rounds {
        let started = Instant::now();
        let activation = store.activate_playbook(&lead, request(round)).await?;
        times.push(started.elapsed());
        last = Some(activation);
    }
    let activation = last.context("give at least one round")?;
    if activation.plans.len() != shape.units {
        bail!(
            "{} of {} units were activated",
            activation.plans.len(),
            shape.units
        );
    }
    println!(
        "  one activation: {} plans, {} checklist runs, {} tasks, {} message drafts, one crisis log entry per plan, task and draft",
        activation.plans.len(),
        activation.runs.len(),
        activation.tasks_created,
        activation.drafts_created
    );
    let replay = Instant::now();
    let again = store
        .activate_playbook(&lead, request(shape.rounds))
        .await?;
    let replay = replay.elapsed();
    if !again.replayed {
        bail!("the repeated key was not answered as a replay");
    }
    times.sort();
    println!(
        "  to commit: min {} · median {} · max {} (aim: under 500 ms)",
        millis(times[0]),
        millis(times[times.len() / 2]),
        millis(times[times.len() - 1])
    );
    println!("  replay of a used key: {}", millis(replay));
    Ok(())
}

/// The activation of every planned unit for round `round`, keyed by the round.
fn request(round: usize) -> ActivationRequest {
    ActivationRequest {
        playbook_id: PLAYBOOK.into(),
        unit_ids: vec![],
        severity: None,
        exercise: false,
        note: Some(format!("Bänkprov, varv {round}")),
        idempotency_key: format!("bank-{round}"),
        incident_id: None,
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// Units with plans, a manager account each and their staff; returns the crisis lead.
async fn municipality(store: &Store, shape: &Shape, keys: &[&str]) -> anyhow::Result<Principal> {
    let operator = Principal::operator("benchmark");
    let skeleton = data::skeleton(store, &operator).await?;
    data::a_system(store, &operator, TRIGGER_SYSTEM).await?;
    let per_unit = shape.staff / shape.units.max(1);
    for number in 1..=shape.units {
        let unit_keys: Vec<Option<&str>> = (0..ROUTINES_PER_UNIT)
            .map(|index| Some(keys[(number * ROUTINES_PER_UNIT + index) % keys.len()]))
            .collect();
        let unit = data::a_planned_unit(store, &operator, &skeleton, number, &unit_keys).await?;
        let manager = data::a_person(
            store,
            &operator,
            &format!("Enhetschef {number}"),
            "Enhetschef",
            vec![unit],
        )
        .await?;
        store
            .create_account(
                &operator,
                NewAccount {
                    username: format!("chef{number}"),
                    password: Some(data::PASSWORD.into()),
                    person_id: Some(manager),
                    grants: vec![RoleGrant {
                        role: Role::UnitManager,
                        unit: Some(unit),
                        raised_clearance: None,
                    }],
                },
            )
            .await?;
        for member in 1..per_unit {
            data::a_person(
                store,
                &operator,
                &format!("Medarbetare {number}-{member}"),
                "Undersköterska",
                vec![unit],
            )
            .await?;
        }
    }
    Ok(store.principal_by_username(&operator, data::LEAD).await?)
}

/// Loads the playbook alone from a copy of its file, checked against the generated data.
async fn load_playbook(store: &Store, scratch: &Path) -> anyhow::Result<()> {
    let folder = scratch.join("playbooks");
    std::fs::create_dir_all(&folder)?;
    std::fs::copy(playbook_file(), folder.join(format!("{PLAYBOOK}.yaml")))?;
    let loaded = reserv::playbooks::import(store, &folder).await?;
    if !loaded.imported.iter().any(|id| id == PLAYBOOK) {
        bail!(
            "the playbook did not load against the generated data ({} problems)",
            loaded.problems
        );
    }
    Ok(())
}
