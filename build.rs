//! Embeds the commit and the compiler version in the binary, for the
//! benchmark's JSON: read when the binary is built, not from the folder it
//! later runs in. A build outside a git checkout (a source archive) says
//! `unknown`, or what `MOTCUA_COMMIT` says when it is set.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The files whose change means another commit or another dirty state:
/// HEAD, the branch it points to, the packed refs and the index. Only
/// existing files are named (cargo reruns the script on every build for a
/// path that does not exist).
fn git_files() -> Vec<PathBuf> {
    let Some(dir) = run("git", &["rev-parse", "--git-dir"]).map(PathBuf::from) else {
        return Vec::new();
    };
    let mut files = vec![dir.join("HEAD"), dir.join("index"), dir.join("packed-refs")];
    if let Ok(head) = std::fs::read_to_string(dir.join("HEAD"))
        && let Some(r) = head.trim().strip_prefix("ref: ")
    {
        files.push(dir.join(r));
    }
    files.retain(|f| Path::new(f).exists());
    files
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MOTCUA_COMMIT");
    let given = std::env::var("MOTCUA_COMMIT")
        .ok()
        .filter(|s| !s.is_empty());
    let commit = given.unwrap_or_else(|| {
        run("git", &["rev-parse", "--short=12", "HEAD"]).map_or_else(
            || "unknown".to_string(),
            |c| {
                let dirty = run("git", &["status", "--porcelain", "--untracked-files=no"])
                    .is_some_and(|s| !s.is_empty());
                if dirty { format!("{c}-dirty") } else { c }
            },
        )
    });
    for f in git_files() {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = run(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=MOTCUA_COMMIT={commit}");
    println!("cargo:rustc-env=MOTCUA_RUSTC={version}");
}
