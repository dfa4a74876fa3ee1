//! Running the `reserv` command as an operator would, for the CLI tests.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `reserv ARGS` in `folder`, feeding `stdin` if given.
pub fn reserv(
    folder: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> std::io::Result<Output> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reserv"))
        .args(args)
        .current_dir(folder)
        .env_remove("DATABASE_URL")
        .env("RESERV_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(text.as_bytes())?;
    }
    child.wait_with_output()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
