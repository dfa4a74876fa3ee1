//! The shipped playbooks and the published schema.

use reserv_playbooks::{check_folder, json_schema};
use std::path::PathBuf;

fn playbooks_folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../playbooks")
}

#[test]
fn the_shipped_playbooks_pass_the_check() -> std::io::Result<()> {
    let report = check_folder(&playbooks_folder(), None)?;
    let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let mut ids: Vec<&str> = report
        .playbooks
        .iter()
        .map(|playbook| playbook.id.as_str())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "digitala-las-ur-funktion",
            "it-avbrott-cyberattack",
            "lakemedelssignering-nere",
            "personalbrist",
            "personuppgiftsincident",
            "stromavbrott-solgarden",
            "trygghetslarm-ur-funktion",
            "varmebolja",
            "verksamhetssystem-vard-nere",
        ],
        "every shipped scenario is there, each once"
    );
    Ok(())
}

#[test]
fn the_published_schema_matches_the_format() -> std::io::Result<()> {
    let published = std::fs::read_to_string(playbooks_folder().join("schema.json"))?;
    assert!(
        published == json_schema(),
        "playbooks/schema.json is out of date: run `cargo run -p reserv -- playbook schema > playbooks/schema.json`"
    );
    Ok(())
}
