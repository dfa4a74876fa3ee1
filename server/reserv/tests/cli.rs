//! The `reserv` command as an operator runs it: in a working folder, with the embedded
//! database under `./data/`.

mod common;

use common::{reserv, text};
use std::process::Command;

#[test]
fn migrate_creates_the_embedded_database() -> std::io::Result<()> {
    let folder = tempfile::tempdir()?;
    let output = reserv(folder.path(), &["migrate"], None)?;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(folder.path().join("data/reserv.db").exists());
    Ok(())
}

#[test]
fn user_add_generates_a_password_once_or_reads_it_from_stdin() -> std::io::Result<()> {
    let folder = tempfile::tempdir()?;
    let output = reserv(
        folder.path(),
        &["user", "add", "--username", "anna", "--role", "crisis_lead"],
        None,
    )?;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains("Created the account anna (crisis_lead)"),
        "{stdout}"
    );
    let password = stdout
        .lines()
        .find_map(|line| line.strip_prefix("Its password, shown only now: "));
    assert_eq!(password.map(str::len), Some(20), "{stdout}");

    let output = reserv(
        folder.path(),
        &[
            "user",
            "add",
            "--username",
            "bertil",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        Some("ett-långt-lösenord-för-bertil\n"),
    )?;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        !stdout.contains("shown only now"),
        "a given password is never printed: {stdout}"
    );

    let again = reserv(
        folder.path(),
        &["user", "add", "--username", "anna", "--role", "viewer"],
        None,
    )?;
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("the username 'anna' is taken"),
        "{}",
        text(&again.stderr)
    );
    Ok(())
}

#[test]
fn a_unit_role_needs_a_unit_that_exists() -> std::io::Result<()> {
    let folder = tempfile::tempdir()?;
    let without = reserv(
        folder.path(),
        &[
            "user",
            "add",
            "--username",
            "karin",
            "--role",
            "unit_manager",
        ],
        None,
    )?;
    assert!(
        text(&without.stderr).contains("unit: the role unit_manager needs a unit"),
        "{}",
        text(&without.stderr)
    );
    let unknown = reserv(
        folder.path(),
        &[
            "user",
            "add",
            "--username",
            "karin",
            "--role",
            "unit_manager",
            "--unit",
            "Finns inte",
        ],
        None,
    )?;
    assert!(
        text(&unknown.stderr).contains("--unit: no unit has the id or name 'Finns inte'"),
        "{}",
        text(&unknown.stderr)
    );
    Ok(())
}

#[test]
fn invalid_configuration_names_the_key() -> std::io::Result<()> {
    let folder = tempfile::tempdir()?;
    std::fs::write(
        folder.path().join("reserv.toml"),
        "listen = \"127.0.0.1:8080\"\nsesion_hours = 4\n",
    )?;
    let output = reserv(folder.path(), &["migrate"], None)?;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("sesion_hours"),
        "{}",
        text(&output.stderr)
    );
    assert!(!folder.path().join("data").exists(), "nothing was created");
    Ok(())
}

#[test]
fn a_database_url_of_another_kind_is_refused() -> std::io::Result<()> {
    let folder = tempfile::tempdir()?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_reserv"));
    let output = command
        .args(["migrate"])
        .current_dir(folder.path())
        .env("DATABASE_URL", "mysql://root@localhost/reserv")
        .output()?;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("the scheme 'mysql' is not supported"),
        "{}",
        text(&output.stderr)
    );
    Ok(())
}

#[test]
fn fallback_build_writes_the_static_site() -> std::io::Result<()> {
    let folder = tempfile::tempdir()?;
    let output = reserv(folder.path(), &["fallback", "build", "--out", "site"], None)?;
    assert!(output.status.success(), "{}", text(&output.stderr));
    for file in [
        "index.html",
        "en.html",
        "status.json",
        "status.atom",
        "status.en.atom",
    ] {
        assert!(folder.path().join("site").join(file).exists(), "{file}");
    }
    let index = std::fs::read_to_string(folder.path().join("site/index.html"))?;
    assert!(index.contains("Driftstörningar och information"), "{index}");
    Ok(())
}
