//! Playbooks in use: imported from a folder, listed with the problems of their files,
//! and kept in their last good version while a file is broken.

use reserv_tests::on_every_database;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const PLAYBOOKS: &str = "{ playbooks { id title titleEn kind file importedAt problems { line column field message } } }";
const DOOR_LOCKS: &str = "digitala-las-ur-funktion";

fn shipped(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../playbooks")
        .join(file)
}

fn playbook<'a>(listed: &'a Value, id: &str) -> Option<&'a Value> {
    listed["playbooks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|playbook| playbook["id"] == id)
}

fn folder_with_door_locks(text: &str) -> anyhow::Result<tempfile::TempDir> {
    let folder = tempfile::tempdir()?;
    std::fs::write(folder.path().join(format!("{DOOR_LOCKS}.yaml")), text)?;
    Ok(folder)
}

async fn import(server: &reserv_tests::TestServer, folder: &Path) -> anyhow::Result<()> {
    reserv::playbooks::import(&server.store()?, folder).await?;
    Ok(())
}

on_every_database! {
    async fn a_broken_file_keeps_the_last_good_playbook_in_use_and_says_what_is_wrong(server: sample_municipality) {
        let good = std::fs::read_to_string(shipped(&format!("{DOOR_LOCKS}.yaml")))?;
        let folder = folder_with_door_locks(&good)?;
        import(&server, folder.path()).await?;
        let lead = server.sign_in_as("krisledare").await?;
        let listed = lead.data(PLAYBOOKS, json!({})).await?;
        let imported = playbook(&listed, DOOR_LOCKS).cloned().unwrap_or_default();
        assert_eq!(imported["title"], "Digitala nyckelfria lås fungerar inte", "{listed}");
        assert_eq!(imported["titleEn"], "Digital keyless locks not working");
        assert_eq!(imported["kind"], "IT_OUTAGE");
        assert_eq!(imported["problems"], json!([]));

        let broken = good
            .replacen("    role: unit_manager", "    role: enhetschef", 1)
            .replacen("  sv: Digitala nyckelfria lås fungerar inte", "  sv: Låsen har slutat fungera", 1);
        let line = broken.lines().position(|line| line == "    role: enhetschef").map_or(0, |index| index + 1);
        std::fs::write(folder.path().join(format!("{DOOR_LOCKS}.yaml")), &broken)?;
        import(&server, folder.path()).await?;
        let listed = lead.data(PLAYBOOKS, json!({})).await?;
        let kept = playbook(&listed, DOOR_LOCKS).cloned().unwrap_or_default();
        assert_eq!(kept["title"], imported["title"], "the version in use is the last good one: {listed}");
        assert_eq!(kept["importedAt"], imported["importedAt"]);
        assert_eq!(kept["problems"][0]["line"], json!(line), "{listed}");
        assert_eq!(kept["problems"][0]["field"], "tasks[0].role");
        assert!(kept["problems"][0]["message"].as_str().is_some_and(|message| message.contains("unknown role \"enhetschef\"")), "{listed}");

        std::fs::write(folder.path().join("ny-rutin.yaml"), "id: ny-rutin\ntitle:\n  en: Only English\n")?;
        import(&server, folder.path()).await?;
        let problems = lead.data("{ playbookProblems { file line field message } }", json!({})).await?;
        let files: Vec<&str> = problems["playbookProblems"].as_array().into_iter().flatten().filter_map(|problem| problem["file"].as_str()).collect();
        assert_eq!(files, [format!("{DOOR_LOCKS}.yaml").as_str(), "ny-rutin.yaml"], "a file that never passed is listed too: {problems}");

        std::fs::write(folder.path().join(format!("{DOOR_LOCKS}.yaml")), &good)?;
        std::fs::remove_file(folder.path().join("ny-rutin.yaml"))?;
        import(&server, folder.path()).await?;
        let listed = lead.data(PLAYBOOKS, json!({})).await?;
        assert_eq!(playbook(&listed, DOOR_LOCKS).map(|fixed| fixed["problems"].clone()), Some(json!([])), "{listed}");
        let problems = lead.data("{ playbookProblems { file } }", json!({})).await?;
        assert_eq!(problems["playbookProblems"], json!([]));
        Ok(())
    }

    async fn care_workers_do_not_see_the_playbooks(server: sample_municipality) {
        let worker = server.sign_in_as("underskoterska").await?;
        let (code, message) = worker.error(PLAYBOOKS, json!({})).await?;
        assert_eq!(code, "FORBIDDEN", "{message}");
        let manager = server.sign_in_as("enhetschef").await?;
        assert_eq!(manager.data(PLAYBOOKS, json!({})).await?["playbooks"], json!([]));
        Ok(())
    }
}
