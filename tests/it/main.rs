//! Integration tests: one binary, grouped by subject (ripgrep style).

mod architecture;
mod calibrate;
mod cli;
mod determinism;
mod engine;
mod hostile;
mod laws;
mod model;
mod mutants;
mod queue_fuzz;
mod reference;
mod reform;
mod report;
mod size;
mod sweep;
mod theory;
mod truth;

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the `motcua` binary with `args`.
pub(crate) fn motcua(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Asserts that a `motcua` run exited 0 (showing its output when it did
/// not) and returns its stdout.
pub(crate) fn ok(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A per-process temporary path `motcua-<group>-<pid>-<name>`, removed if it exists (not created).
pub(crate) fn fresh_dir(group: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("motcua-{group}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}
