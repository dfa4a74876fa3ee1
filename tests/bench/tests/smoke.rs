//! The benchmark must keep working: a one-second run on a tiny data set completes,
//! every request succeeds, and the audit chain it leaves verifies; a short sign-in run
//! prints its figures, and so does a fan-out to 20 people. They measure nothing.

use std::process::Command;

/// Runs the benchmark on SQLite alone with `args`; its output when it succeeded.
fn run_bench(args: &[&str]) -> std::io::Result<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_reserv-bench"))
        .args(args)
        .env_remove("TEST_DATABASE_URL")
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(stdout)
}

#[test]
fn a_short_read_path_run_completes_without_failures() -> std::io::Result<()> {
    let stdout = run_bench(&[
        "read-path",
        "--seconds",
        "1",
        "--clients",
        "2",
        "--units",
        "2",
        "--log-entries",
        "5",
    ])?;
    for scenario in ["(a) incident", "(b) incident", "(c) plans"] {
        let line = stdout
            .lines()
            .find(|line| line.contains(scenario))
            .unwrap_or_default();
        assert!(line.contains(", 0 failed)"), "{scenario}: {stdout}");
    }
    assert!(
        stdout.contains("audit chain after the run") && stdout.contains("intact"),
        "{stdout}"
    );
    Ok(())
}

#[test]
fn a_short_sign_in_run_prints_its_figures() -> std::io::Result<()> {
    let stdout = run_bench(&["sign-in", "--logins", "2", "--burst", "3"])?;
    for figure in [
        "argon2id: m = 19456 KiB",
        "one login at a time (2 sign-ins): p50",
        "3 logins at once",
        "/healthz during the burst",
    ] {
        assert!(stdout.contains(figure), "{figure}: {stdout}");
    }
    Ok(())
}

#[test]
fn a_small_fan_out_delivers_every_copy_and_prints_its_figures() -> std::io::Result<()> {
    // The run itself fails unless the worker and the bare loop each deliver every copy.
    let stdout = run_bench(&["fan-out", "--recipients", "20"])?;
    for figure in [
        "outbox written: 40 copies",
        "outbox worker: all 40 delivered",
        "bare reqwest loop: 40 requests",
        "outbox worker / bare loop:",
    ] {
        assert!(stdout.contains(figure), "{figure}: {stdout}");
    }
    Ok(())
}
