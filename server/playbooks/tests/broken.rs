//! A folder of broken playbooks: every problem is found, with its file, line, column and
//! field, and none of the broken playbooks is taken.

use reserv_playbooks::{Catalogue, Problem, check_folder};
use std::path::PathBuf;

fn broken_folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/broken")
}

fn catalogue() -> Catalogue {
    Catalogue {
        routine_keys: ["lakemedel-signeringslista".to_owned()].into(),
        unit_names: [
            "Hemtjänst".to_owned(),
            "Solgårdens vård- och omsorgsboende".to_owned(),
        ]
        .into(),
        system_names: ["Digitala nyckelfria lås".to_owned()].into(),
    }
}

fn problem_in<'a>(problems: &'a [Problem], file: &str, field: &str) -> Option<&'a Problem> {
    problems
        .iter()
        .find(|problem| problem.file.ends_with(file) && problem.field == field)
}

#[test]
fn every_problem_is_reported_where_it_is() -> std::io::Result<()> {
    let report = check_folder(&broken_folder(), Some(&catalogue()))?;
    let listing: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    let listing = listing.join("\n");
    // (file, field, line, column, words the message must hold)
    let expected: &[(&str, &str, u64, u64, &str)] = &[
        ("a-broken-yaml.yaml", "", 4, 2, "did not find expected key"),
        (
            "b-unknown-role.yaml",
            "tasks[0].role",
            11,
            11,
            "unknown role \"sjukskoterska\"; use one of admin, crisis_lead",
        ),
        (
            "c-bad-duration.yaml",
            "tasks[0].due_in",
            12,
            13,
            "\"en halvtimme\" is not a duration",
        ),
        ("d-missing-swedish.yaml", "", 3, 3, "missing field `sv`"),
        (
            "e-empty-swedish-and-placeholder.yaml",
            "tasks[0].title.sv",
            10,
            11,
            "Swedish text is missing",
        ),
        (
            "e-empty-swedish-and-placeholder.yaml",
            "messages[0].text.sv",
            17,
            11,
            "no placeholder {{ brukare }}",
        ),
        ("g-duplicate-two.yaml", "id", 1, 5, "already used by"),
        (
            "h-unknown-references.yaml",
            "triggers[0].system_down",
            6,
            5,
            "no IT system named \"Journalsystemet\"",
        ),
        (
            "h-unknown-references.yaml",
            "applies_to.within[0]",
            8,
            12,
            "no unit named \"Hemtjänsten\"",
        ),
        (
            "h-unknown-references.yaml",
            "routines[1]",
            11,
            5,
            "no plan has a routine with the key \"dorrlas-papper\"",
        ),
    ];
    for (file, field, line, column, words) in expected {
        let found = problem_in(&report.problems, file, field);
        assert!(
            found.is_some_and(|problem| problem.line == *line
                && problem.column == *column
                && problem.message.contains(words)),
            "expected {file}:{line}:{column} {field}: …{words}…, got:\n{listing}"
        );
    }
    assert_eq!(report.problems.len(), expected.len(), "{listing}");
    assert_eq!(report.files, 8);
    let taken: Vec<&str> = report
        .playbooks
        .iter()
        .map(|playbook| playbook.id.as_str())
        .collect();
    assert_eq!(
        taken,
        ["samma-id"],
        "only the first of the two with one id passes"
    );
    Ok(())
}

#[test]
fn without_a_catalogue_names_are_not_checked() -> std::io::Result<()> {
    let report = check_folder(&broken_folder(), None)?;
    assert!(
        problem_in(&report.problems, "h-unknown-references.yaml", "routines[1]").is_none(),
        "{:?}",
        report.problems
    );
    assert!(
        report
            .playbooks
            .iter()
            .any(|playbook| playbook.id == "okanda-namn")
    );
    Ok(())
}
