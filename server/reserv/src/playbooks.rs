//! Loading the playbook folder into use, at start and from the command line.

use crate::Config;
use anyhow::Context;
use reserv_domain::access::Principal;
use reserv_playbooks::{Catalogue, check_folder};
use reserv_store::{PlaybookImport, Store};
use std::path::Path;

/// What the database holds that playbooks may name: routine keys of the plans in force,
/// unit names and IT system names.
pub async fn catalogue(store: &Store) -> anyhow::Result<Catalogue> {
    let operator = Principal::operator("playbook check");
    Ok(Catalogue {
        routine_keys: store.routine_keys_in_force(&operator).await?,
        unit_names: store
            .units(&operator)
            .await?
            .into_iter()
            .map(|unit| unit.name)
            .collect(),
        system_names: store
            .systems(&operator)
            .await?
            .into_iter()
            .map(|system| system.name)
            .collect(),
    })
}

/// Checks `folder` against the database and puts the playbooks that pass into use; the
/// problems of the others are stored for the API and logged, and their last good
/// versions stay in use.
pub async fn import(store: &Store, folder: &Path) -> anyhow::Result<PlaybookImport> {
    let catalogue = catalogue(store).await?;
    let report = check_folder(folder, Some(&catalogue)).with_context(|| {
        format!(
            "playbooks_dir: cannot read the playbooks in {}",
            folder.display()
        )
    })?;
    for problem in &report.problems {
        tracing::warn!(%problem, "playbook not imported; its last good version stays in use");
    }
    let imported = store
        .import_playbooks(&Principal::operator("playbook import"), &report)
        .await?;
    tracing::info!(
        folder = %folder.display(),
        imported = imported.imported.len(),
        problems = imported.problems,
        "playbooks imported"
    );
    Ok(imported)
}

/// The import at start: a deployment without a playbook folder runs without playbooks.
pub async fn import_at_start(config: &Config, store: &Store) -> anyhow::Result<()> {
    if config.playbooks_dir.is_dir() {
        import(store, &config.playbooks_dir).await?;
    } else {
        tracing::warn!(
            folder = %config.playbooks_dir.display(),
            "no playbook folder; no playbooks were imported (set playbooks_dir)"
        );
    }
    Ok(())
}
