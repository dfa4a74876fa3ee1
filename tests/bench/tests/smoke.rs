//! The benchmark must keep working: a one-second run on a tiny data set completes,
//! every request succeeds, and the audit chain it leaves verifies. It measures nothing.

use std::process::Command;

#[test]
fn a_short_read_path_run_completes_without_failures() -> std::io::Result<()> {
    let output = Command::new(env!("CARGO_BIN_EXE_reserv-bench"))
        .args([
            "read-path",
            "--seconds",
            "1",
            "--clients",
            "2",
            "--units",
            "2",
            "--log-entries",
            "5",
        ])
        .env_remove("TEST_DATABASE_URL")
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
