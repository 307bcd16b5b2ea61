//! Output folders written whole or not at all: a lock refuses a second writer, the files go to a fresh staging folder, a manifest naming the run is written last, and the staging folder is swapped into place in one step.
//!
//! A reader of an output folder therefore sees the previous complete set or
//! the new complete set, never a mix: a kill before the swap leaves the old
//! folder untouched (the staging folder is removed by the next writer), a
//! kill after it leaves the new one. On Linux the swap of an existing folder
//! is one `renameat2(RENAME_EXCHANGE)`; where the file system refuses it,
//! the old folder is renamed aside first (a kill between the two renames
//! then leaves no folder, and the previous set under `.<name>.old-*`).

use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ReportError;

/// The files motcua writes into `run` and `compare` output folders. With
/// `--force`, a folder holding nothing else may be replaced; a folder with
/// other files is refused, so that `--force` never deletes a user's files.
pub const KNOWN_FILES: &[&str] = &[
    "summary.json",
    "metrics.csv",
    "index.csv",
    "index_summary.csv",
    "metrics_summary.csv",
    "timeseries.csv",
    "timeseries_summary.csv",
    "comparison.json",
    "comparison.csv",
    "staffing.toml",
    "size.csv",
    "targets.csv",
    "size.json",
    "calibrated.toml",
    "fit.csv",
    "ranges.csv",
    "calibration.json",
    "report.html",
    "SCHEMA.md",
    "manifest.json",
];

/// A name made safe as a single folder name: letters (any script), digits,
/// `-`, `_` and `.`; anything else becomes `-`; no leading dot; at most 100
/// characters; `scenario` when nothing is left.
pub fn folder_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let out: String = out
        .trim_start_matches(['.', '-'])
        .trim_end_matches('-')
        .chars()
        .take(100)
        .collect();
    if out.is_empty() || out == "." || out == ".." {
        "scenario".into()
    } else {
        out
    }
}

/// 64 random bits for file names another user cannot predict (the
/// standard library seeds each `RandomState` from the operating system).
pub fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish()
}

/// One file of a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// File name in the folder.
    pub name: String,
    /// Size, bytes.
    pub bytes: u64,
    /// FNV-1a 64 of its bytes, 16 hex digits (detects a partial or mixed set; not a security hash).
    pub fnv64: String,
}

/// What `manifest.json` says: which run wrote the folder, and its files with checksums.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Manifest {
    /// The motcua version that wrote it.
    pub motcua_version: &'static str,
    /// The command: `run` or `compare`.
    pub command: &'static str,
    /// Scenario name (the base's, for a comparison).
    pub scenario: String,
    /// Fingerprint of the scenario's files as merged (16 hex digits); for a comparison, of the base.
    pub scenario_hash: String,
    /// Master seed.
    pub seed: u64,
    /// Replications.
    pub replications: u64,
    /// The other files of the folder, in the order they were written.
    pub files: Vec<FileEntry>,
}

pub use crate::hash::hex;

/// Counts and checksums what passes through.
struct Summing<W> {
    inner: W,
    bytes: u64,
    hash: crate::hash::Fnv,
}

impl<W: Write> Write for Summing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        self.hash.write(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// An output folder being written: locked, staged, and swapped into place by [`OutputSet::commit`].
#[derive(Debug)]
pub struct OutputSet {
    dir: PathBuf,
    staging: PathBuf,
    _lock: File,
    files: Vec<FileEntry>,
    committed: bool,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Takes the lock of output folder `dir` (a sibling file `.<name>.lock`),
/// refusing when another motcua process holds it. The lock is released
/// when the returned file is dropped, or when the process ends however it ends.
pub fn lock(dir: &Path) -> Result<(File, PathBuf, String), ReportError> {
    let dir = std::path::absolute(dir).map_err(io(dir))?;
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Err(ReportError::BadFolder {
            path: dir.display().to_string(),
            why: "it names no folder; give a folder such as results/run-1".into(),
        });
    };
    let parent = dir.parent().unwrap_or(Path::new("/")).to_path_buf();
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let lock_path = parent.join(format!(".{name}.lock"));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    match file.try_lock() {
        Ok(()) => Ok((file, dir, name)),
        Err(std::fs::TryLockError::WouldBlock) => Err(ReportError::Locked {
            path: dir.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(io(&lock_path)(e)),
    }
}

impl OutputSet {
    /// Locks `dir`, checks it may be written (absent, empty, or with `force`
    /// a folder of motcua outputs only), clears what a killed writer left,
    /// and creates the staging folder beside it. Call it before simulating:
    /// an unwritable or busy folder is reported at once.
    pub fn begin(dir: &Path, force: bool) -> Result<Self, ReportError> {
        let (lock, dir, name) = lock(dir)?;
        let parent = dir.parent().unwrap_or(Path::new("/")).to_path_buf();
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(ReportError::BadFolder {
                    path: dir.display().to_string(),
                    why: "is a symbolic link; name the folder it points to".into(),
                });
            }
            Ok(m) if !m.is_dir() => {
                return Err(ReportError::BadFolder {
                    path: dir.display().to_string(),
                    why: "is a file, not a folder; choose another --out".into(),
                });
            }
            Ok(_) => {
                let mut names = Vec::new();
                for e in std::fs::read_dir(&dir).map_err(io(&dir))? {
                    let e = e.map_err(io(&dir))?;
                    names.push((
                        e.file_name().to_string_lossy().into_owned(),
                        e.file_type().map_err(io(&dir))?.is_file(),
                    ));
                }
                if !names.is_empty() && !force {
                    return Err(ReportError::NotEmpty {
                        path: dir.display().to_string(),
                    });
                }
                if let Some((foreign, _)) = names
                    .iter()
                    .find(|(n, is_file)| !is_file || !KNOWN_FILES.contains(&n.as_str()))
                {
                    return Err(ReportError::Foreign {
                        path: dir.display().to_string(),
                        name: foreign.clone(),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&dir)(e)),
        }
        // Under the lock, staging and aside folders of this name are a killed writer's.
        let prefixes = [format!(".{name}.staging-"), format!(".{name}.old-")];
        for e in std::fs::read_dir(&parent).map_err(io(&parent))?.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if prefixes.iter().any(|p| n.starts_with(p.as_str())) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let staging = loop {
            let p = parent.join(format!(".{name}.staging-{:016x}", random_u64()));
            match std::fs::create_dir(&p) {
                Ok(()) => break p,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io(&parent)(e)),
            }
        };
        Ok(Self {
            dir,
            staging,
            _lock: lock,
            files: Vec::new(),
            committed: false,
        })
    }

    /// The folder the set will be moved to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The staging folder, where the files written so far can be read back.
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// Writes file `name` of the set from `bytes`.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), ReportError> {
        self.write_with(name, |w| w.write_all(bytes))
    }

    /// Writes file `name` of the set from what `fill` writes (streamed, checksummed).
    pub fn write_with(
        &mut self,
        name: &str,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), ReportError> {
        let path = self.staging.join(name);
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io(&path))?;
        let mut w = Summing {
            inner: std::io::BufWriter::new(f),
            bytes: 0,
            hash: crate::hash::Fnv::new(),
        };
        fill(&mut w).map_err(io(&path))?;
        let f = w
            .inner
            .into_inner()
            .map_err(|e| io(&path)(e.into_error()))?;
        f.sync_all().map_err(io(&path))?;
        self.files.push(FileEntry {
            name: name.to_string(),
            bytes: w.bytes,
            fnv64: hex(w.hash.finish()),
        });
        Ok(())
    }

    /// Writes `manifest.json` (with the files written so far) last, then
    /// moves the whole set into place in one step; returns the folder.
    pub fn commit(mut self, mut manifest: Manifest) -> Result<PathBuf, ReportError> {
        manifest.files = self.files.clone();
        let json = serde_json::to_string_pretty(&manifest).map_err(|e| ReportError::Io {
            path: "manifest.json".into(),
            source: std::io::Error::other(e),
        })?;
        self.write("manifest.json", json.as_bytes())?;
        File::open(&self.staging)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.staging))?;
        swap_into_place(&self.staging, &self.dir)?;
        self.committed = true;
        if let Some(parent) = self.dir.parent() {
            let _ = File::open(parent).and_then(|d| d.sync_all());
        }
        Ok(self.dir.clone())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// Moves the staged folder to `dir`, replacing what is there in one step
/// where the system allows it, and removes the old set.
fn swap_into_place(staging: &Path, dir: &Path) -> Result<(), ReportError> {
    if !dir.exists() {
        return std::fs::rename(staging, dir).map_err(io(dir));
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        if renameat_with(CWD, staging, CWD, dir, RenameFlags::EXCHANGE).is_ok() {
            // `staging` now holds the previous set.
            let _ = std::fs::remove_dir_all(staging);
            return Ok(());
        }
    }
    let aside = staging.with_file_name(format!(
        ".{}.old-{:016x}",
        dir.file_name().unwrap_or_default().to_string_lossy(),
        random_u64()
    ));
    std::fs::rename(dir, &aside).map_err(io(dir))?;
    std::fs::rename(staging, dir).map_err(io(dir))?;
    let _ = std::fs::remove_dir_all(&aside);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_one_safe_path_component() {
        assert_eq!(folder_name("baseline"), "baseline");
        assert_eq!(folder_name("../../x"), "x");
        assert_eq!(folder_name("/etc/passwd"), "etc-passwd");
        assert_eq!(folder_name("Tỉnh A, 2025"), "Tỉnh-A-2025");
        assert_eq!(folder_name(".."), "scenario");
        assert_eq!(folder_name(""), "scenario");
        assert_eq!(folder_name("a\0b\nc"), "a-b-c");
        assert!(!folder_name(&"x".repeat(500)).contains('/'));
        assert_eq!(folder_name(&"x".repeat(500)).chars().count(), 100);
    }
}
