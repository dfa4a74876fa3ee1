//! `reserv playbook …`: checking playbook files as an editor writes them.

use anyhow::bail;
use reserv::{Config, playbooks, server};
use reserv_playbooks::{Catalogue, check_folder};
use std::path::Path;

/// Checks every playbook of `folder`, printing each problem as `file:line:column: field:
/// message`; fails when there is any. Names of routines, units and systems are checked
/// against the configured database when there is one.
pub async fn check(config: &Config, folder: &Path, without_database: bool) -> anyhow::Result<()> {
    let catalogue = if without_database {
        None
    } else {
        catalogue(config).await?
    };
    let report = check_folder(folder, catalogue.as_ref()).map_err(|error| {
        anyhow::anyhow!("cannot read the playbooks in {}: {error}", folder.display())
    })?;
    for problem in &report.problems {
        println!("{problem}");
    }
    if catalogue.is_none() {
        println!(
            "Names of routines, units and IT systems were not checked: no database is configured{}.",
            if without_database {
                " (--without-database)"
            } else {
                ""
            }
        );
    }
    let passed = report.playbooks.len();
    println!(
        "{} playbook files in {}: {passed} passed, {}.",
        report.files,
        folder.display(),
        problems(report.problems.len())
    );
    if report.files == 0 {
        bail!("{} holds no playbook files (*.yaml)", folder.display());
    }
    if !report.problems.is_empty() {
        bail!("the playbooks have {}", problems(report.problems.len()));
    }
    Ok(())
}

/// What the deployment's database holds, or `None` when no database is configured: an
/// explicit URL counts, and so does the embedded default once it exists.
async fn catalogue(config: &Config) -> anyhow::Result<Option<Catalogue>> {
    let configured = config
        .database_url
        .as_deref()
        .is_some_and(|url| !url.trim().is_empty())
        || config.data_dir.join("reserv.db").exists();
    if !configured {
        return Ok(None);
    }
    let store = server::open_store(config).await?;
    Ok(Some(playbooks::catalogue(&store).await?))
}

/// Imports `folder` into the configured database.
pub async fn import(config: &Config, folder: &Path) -> anyhow::Result<()> {
    let store = server::open_store(config).await?;
    let imported = playbooks::import(&store, folder).await?;
    println!(
        "Imported {} playbooks from {}: {}.",
        imported.imported.len(),
        folder.display(),
        imported.imported.join(", ")
    );
    if imported.problems > 0 {
        bail!(
            "{}; the files with problems were not imported (run `reserv playbook check {}`)",
            problems(imported.problems),
            folder.display()
        );
    }
    Ok(())
}

fn problems(count: usize) -> String {
    match count {
        1 => "1 problem".to_owned(),
        count => format!("{count} problems"),
    }
}
