//! `reserv playbook check` as an editor runs it: the shipped playbooks fit the demo
//! municipality, and a wrong name is reported with its file, line and field.

mod common;

use common::{reserv, text};
use reserv::{Config, demo, server};
use std::path::{Path, PathBuf};

fn shipped_playbooks() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../playbooks")
}

/// The demo municipality in `folder/data`, where `reserv` run in `folder` finds it.
async fn demo_database(folder: &Path) -> anyhow::Result<()> {
    let config = Config {
        data_dir: folder.join("data"),
        ..Config::default()
    };
    let store = server::open_store(&config).await?;
    anyhow::ensure!(
        demo::load_if_empty(&store).await?,
        "the database was not empty"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_playbooks_fit_the_demo_municipality() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    demo_database(folder.path()).await?;
    let playbooks = shipped_playbooks();
    let output = reserv(
        folder.path(),
        &["playbook", "check", &playbooks.to_string_lossy()],
        None,
    )?;
    let printed = text(&output.stdout);
    assert!(output.status.success(), "{printed}{}", text(&output.stderr));
    assert!(
        !printed.contains("not checked"),
        "names are checked against the database: {printed}"
    );
    assert!(printed.contains(", 0 problems."), "{printed}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routine_key_the_plans_lack_is_reported_with_its_place() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    demo_database(folder.path()).await?;
    let edited = folder.path().join("edited");
    std::fs::create_dir(&edited)?;
    let shipped =
        std::fs::read_to_string(shipped_playbooks().join("digitala-las-ur-funktion.yaml"))?;
    let wrong = shipped.replacen(
        "  - telefonkontakt-brukare-anhoriga",
        "  - telefonkontakt-brukare",
        1,
    );
    anyhow::ensure!(
        wrong != shipped,
        "the playbook no longer names the routine this test changes"
    );
    let line = wrong
        .lines()
        .position(|line| line == "  - telefonkontakt-brukare")
        .map_or(0, |index| index + 1);
    std::fs::write(edited.join("las.yaml"), wrong)?;

    let output = reserv(folder.path(), &["playbook", "check", "edited"], None)?;
    let printed = text(&output.stdout);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.contains(&format!(
            "las.yaml:{line}:5: routines[1]: no plan has a routine with the key \"telefonkontakt-brukare\""
        )),
        "{printed}"
    );
    assert!(
        text(&output.stderr).contains("the playbooks have 1 problem"),
        "{}",
        text(&output.stderr)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_puts_the_shipped_playbooks_into_use() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    demo_database(folder.path()).await?;
    let playbooks = shipped_playbooks();
    let output = reserv(
        folder.path(),
        &["playbook", "import", &playbooks.to_string_lossy()],
        None,
    )?;
    let printed = text(&output.stdout);
    assert!(output.status.success(), "{printed}{}", text(&output.stderr));
    assert!(printed.contains("digitala-las-ur-funktion"), "{printed}");
    Ok(())
}
