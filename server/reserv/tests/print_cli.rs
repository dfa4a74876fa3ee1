//! `reserv print`: a unit's binder written to a file without the web UI, as the
//! operator or as a named account.

mod common;

use common::{reserv, text};

/// The demo municipality in `folder`'s embedded database, as `serve --demo` loads it.
async fn demo_in(folder: &std::path::Path) -> anyhow::Result<()> {
    let config = reserv::Config {
        data_dir: folder.join("data"),
        ..reserv::Config::default()
    };
    let store = reserv::server::open_store(&config).await?;
    anyhow::ensure!(
        reserv::demo::load_if_empty(&store).await?,
        "the folder was not empty"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn print_writes_a_units_binder_as_the_operator_or_an_account() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    demo_in(folder.path()).await?;

    let output = reserv(
        folder.path(),
        &["print", "--unit", "Nattpatrullen", "--out", "natt.html"],
        None,
    )?;
    anyhow::ensure!(output.status.success(), "{}", text(&output.stderr));
    let html = std::fs::read_to_string(folder.path().join("natt.html"))?;
    for title in [
        "Nattillsyn med besök när nattkamerorna inte fungerar",
        "GPS-larm och försvunnen brukare när positioneringen inte fungerar",
        "Larm via telefon när trygghetslarmets vidarekoppling inte fungerar",
    ] {
        anyhow::ensure!(html.contains(title), "the routine '{title}' is printed");
    }
    anyhow::ensure!(
        html.contains("Kritiska verksamheter"),
        "the operator reads the plan's text"
    );

    let output = reserv(
        folder.path(),
        &[
            "print",
            "--unit",
            "Hemtjänst Norr – centrala Norrbyn",
            "--as",
            "underskoterska",
            "--english",
            "--out",
            "norr.html",
        ],
        None,
    )?;
    anyhow::ensure!(output.status.success(), "{}", text(&output.stderr));
    let html = std::fs::read_to_string(folder.path().join("norr.html"))?;
    anyhow::ensure!(html.contains("Fallback binder"), "English labels");
    anyhow::ensure!(
        html.contains("classified above your clearance"),
        "a care worker's binder leaves the sensitive plan text out"
    );

    let output = reserv(
        folder.path(),
        &["print", "--unit", "Ingenstans", "--out", "x.html"],
        None,
    )?;
    anyhow::ensure!(!output.status.success());
    anyhow::ensure!(
        text(&output.stderr).contains("--unit: no unit has the id or name 'Ingenstans'"),
        "{}",
        text(&output.stderr)
    );
    Ok(())
}
