//! A sweep's output folder: locked, resumable, with checksummed point files, and the combined tables in the one schema.
//!
//! `points/point-<i>.csv` holds a point's lines: `P,` its identity and axis
//! values, `R,` its long rows, `S,` its summary rows, and last `C,<point>,
//! <sweep fingerprint>,<checksum>`, which resume and merge verify. The
//! combined `results.csv` (long shape), `summary.csv` (summary shape) and
//! `points.csv` (each point's scenario, hash, seed and axis values; join it
//! on `scenario`) are built from the point files, identically by `sweep`
//! and by `merge`. A point's scenario is named `<sweep>/point-<i>`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::csv::{Ident, write_long_rows, write_summary_rows};
use super::output::lock;
use super::{write_atomic, write_atomic_with};
use crate::experiment::sweep::{PointResult, Shard, Sweep};
use crate::hash::{Fnv, hex};

/// What a sweep folder holds (`sweep.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Sweep name.
    pub name: String,
    /// Fingerprint of everything that decides the sweep's results.
    pub fingerprint: u64,
    /// Total points of the sweep.
    pub points: usize,
    /// Swept paths.
    pub paths: Vec<String>,
    /// Replications per point.
    pub replications: u64,
    /// Sweep seed.
    pub seed: u64,
}

/// Reads a folder's `sweep.json` (size-capped), naming the file in every error.
fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let path = dir.join("sweep.json");
    let text = crate::scenario::read_capped(&path, false, "json").map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not a sweep manifest ({e}); the folder is damaged or not a sweep folder",
            path.display()
        )
    })
}

fn point_file(dir: &Path, i: usize) -> PathBuf {
    dir.join("points").join(format!("point-{i:07}.csv"))
}

/// The scenario name of point `i` of sweep `name`.
pub fn point_name(name: &str, i: usize) -> String {
    format!("{name}/point-{i}")
}

/// Each CSV record on its own line (names hold no line breaks), prefixed with `tag`.
fn tagged(buf: Vec<u8>, tag: &str, out: &mut String) {
    for line in String::from_utf8_lossy(&buf).lines() {
        out.push_str(tag);
        out.push_str(line);
        out.push('\n');
    }
}

/// The text of a point file.
fn point_text(sw: &Sweep, r: &PointResult) -> Result<String, String> {
    let i = r.point;
    let id = Ident {
        scenario: point_name(&sw.name, i),
        scenario_hash: hex(sw.scenario_hash(i)),
        seed: sw.point_seed(i),
    };
    let io = |e: std::io::Error| e.to_string();
    let mut text = String::new();
    let mut p = csv::WriterBuilder::new().from_writer(Vec::new());
    let mut record = vec![
        i.to_string(),
        id.scenario.clone(),
        id.scenario_hash.clone(),
        id.seed.to_string(),
    ];
    record.extend(sw.points[i].iter().map(|x| format!("{x}")));
    p.write_record(&record).map_err(|e| e.to_string())?;
    tagged(p.into_inner().map_err(|e| e.to_string())?, "P,", &mut text);
    let mut body = Vec::new();
    for (rep, rows) in r.rows.iter().enumerate() {
        write_long_rows(&mut body, &id, rep as u64, rows).map_err(io)?;
    }
    tagged(body, "R,", &mut text);
    let mut body = Vec::new();
    write_summary_rows(&mut body, &id, &r.summary).map_err(io)?;
    tagged(body, "S,", &mut text);
    let mut h = Fnv::new();
    h.write(text.as_bytes());
    text.push_str(&format!(
        "C,{i},{},{}\n",
        hex(sw.fingerprint),
        hex(h.finish())
    ));
    Ok(text)
}

/// Reads point file `i` of `dir` and checks it: valid UTF-8, complete (its
/// checksum line matches its content) and of the sweep `fingerprint`.
/// Returns the content without the checksum line; every error names the file.
pub fn read_point(dir: &Path, i: usize, fingerprint: u64) -> Result<String, String> {
    let path = point_file(dir, i);
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{}: not UTF-8 (bad bytes at byte {}); the file is damaged: delete it and run its shard again",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    let body_end = text.trim_end_matches('\n').rfind('\n').map_or(0, |k| k + 1);
    let (body, last) = text.split_at(body_end);
    let parts: Vec<&str> = last.trim_end().split(',').collect();
    let damaged = |why: &str| {
        format!(
            "{}: {why}; the file is damaged or from another sweep: delete it and run its shard again",
            path.display()
        )
    };
    if parts.len() != 4 || parts[0] != "C" || parts[1] != i.to_string() {
        return Err(damaged("has no checksum line for this point"));
    }
    if parts[2] != hex(fingerprint) {
        return Err(damaged(
            "belongs to another sweep (its fingerprint differs)",
        ));
    }
    let mut h = Fnv::new();
    h.write(body.as_bytes());
    if parts[3] != hex(h.finish()) {
        return Err(damaged("does not match its checksum (truncated or edited)"));
    }
    Ok(body.to_string())
}

/// What a sweep run did: the points it ran and the overload warnings of each.
#[derive(Clone, Debug, Default)]
pub struct Ran {
    /// Points run now.
    pub points: usize,
    /// Overloaded pools per point (only points with some), in point order.
    pub warnings: Vec<(usize, Vec<crate::model::prepare::OverloadWarning>)>,
}

/// Runs the points of `shard` not already in `dir/points`, on `threads`
/// threads, under the folder's lock; with `combine_after`, then writes the
/// combined tables (see [`combine`]). Returns what ran.
pub fn run(
    sw: &Sweep,
    dir: &Path,
    shard: Shard,
    threads: usize,
    progress: &indicatif::ProgressBar,
    combine_after: bool,
) -> Result<Ran, String> {
    // One writer per sweep folder; held until the run returns.
    let _lock = lock(dir).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir.join("points"))
        .map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    let manifest = Manifest {
        name: sw.name.clone(),
        fingerprint: sw.fingerprint,
        points: sw.points.len(),
        paths: sw.paths.clone(),
        replications: sw.replications,
        seed: sw.seed,
    };
    let mpath = dir.join("sweep.json");
    if mpath.exists() {
        let old = read_manifest(dir)?;
        if old.fingerprint != manifest.fingerprint {
            return Err(format!(
                "{}: this folder holds another sweep (`{}`, or this one before a change to its files); use a new --out folder",
                dir.display(),
                old.name
            ));
        }
    } else if std::fs::read_dir(dir.join("points"))
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .next()
        .is_some()
    {
        return Err(format!(
            "{}: holds point files but no sweep.json; use a new --out folder",
            dir.display()
        ));
    }
    write_atomic(
        &mpath,
        serde_json::to_string_pretty(&manifest)
            .map_err(|e| e.to_string())?
            .as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    // Finished points are kept only if they check out.
    let mut todo = Vec::new();
    for i in (0..sw.points.len()).filter(|i| i % shard.n == shard.k - 1) {
        if point_file(dir, i).exists() {
            read_point(dir, i, sw.fingerprint)?;
        } else {
            todo.push(i);
        }
    }
    let save = |r: PointResult| -> Result<(), String> {
        let text = point_text(sw, &r)?;
        write_atomic(&point_file(dir, r.point), text.as_bytes()).map_err(|e| e.to_string())
    };
    let warnings = crate::experiment::sweep::run(sw, &todo, threads, progress, &save)?;
    if combine_after {
        combine(dir)?;
    }
    Ok(Ran {
        points: todo.len(),
        warnings,
    })
}

/// Writes `results.csv`, `summary.csv` and `points.csv` from the point files
/// of `dir` (all points must be there, each checked against its checksum and
/// the sweep's fingerprint); the same bytes whichever process ran them.
pub fn combine(dir: &Path) -> Result<(), String> {
    let m = read_manifest(dir)?;
    for i in 0..m.points {
        if !point_file(dir, i).exists() {
            return Err(format!(
                "{}: point {i} is missing; run its shard, then merge",
                dir.display()
            ));
        }
    }
    let mut header = csv::Writer::from_writer(Vec::new());
    let mut cols = vec![
        "point".to_string(),
        "scenario".into(),
        "scenario_hash".into(),
        "seed".into(),
    ];
    cols.extend(m.paths.iter().cloned());
    header.write_record(&cols).map_err(|e| e.to_string())?;
    let points_header =
        String::from_utf8_lossy(&header.into_inner().map_err(|e| e.to_string())?).into_owned();
    // Stream the point files into the combined tables: memory does not grow with the points.
    let stream = |tag: &str, header: String, out: &str| -> Result<(), String> {
        let mut bad: Option<String> = None;
        let r = write_atomic_with(&dir.join(out), |w| {
            w.write_all(header.as_bytes())?;
            for i in 0..m.points {
                let text = match read_point(dir, i, m.fingerprint) {
                    Ok(t) => t,
                    Err(e) => {
                        bad = Some(e);
                        return Err(std::io::Error::other("bad point file"));
                    }
                };
                for line in text.lines() {
                    if let Some(row) = line.strip_prefix(tag) {
                        w.write_all(row.as_bytes())?;
                        w.write_all(b"\n")?;
                    }
                }
            }
            Ok(())
        });
        match (bad, r) {
            (Some(e), _) => Err(e),
            (None, r) => r.map_err(|e| e.to_string()),
        }
    };
    stream("R,", super::csv::LONG.join(",") + "\n", "results.csv")?;
    stream("S,", super::csv::SUMMARY.join(",") + "\n", "summary.csv")?;
    stream("P,", points_header, "points.csv")?;
    Ok(())
}

/// Merges shard folders into `out`: checks they hold the same sweep, copies
/// their point files (each checked), and combines. `out` must be new, or a
/// folder of the same sweep.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<(), String> {
    let mut manifest: Option<Manifest> = None;
    for d in dirs {
        let m = read_manifest(d)?;
        if let Some(first) = &manifest {
            if first.fingerprint != m.fingerprint {
                return Err(format!(
                    "{}: holds sweep `{}`, which differs from `{}` in {}; merge only shards of one sweep",
                    d.display(),
                    m.name,
                    first.name,
                    dirs[0].display()
                ));
            }
        } else {
            manifest = Some(m);
        }
    }
    let Some(m) = manifest else {
        return Err("give at least one shard folder".into());
    };
    let _lock = lock(out).map_err(|e| e.to_string())?;
    if out.join("sweep.json").exists() {
        let old = read_manifest(out)?;
        if old.fingerprint != m.fingerprint {
            return Err(format!(
                "{}: holds another sweep (`{}`); merge into a new folder",
                out.display(),
                old.name
            ));
        }
    } else if out.exists()
        && std::fs::read_dir(out)
            .map_err(|e| format!("{}: {e}", out.display()))?
            .next()
            .is_some()
    {
        return Err(format!(
            "{}: is not empty and holds no sweep; merge into a new folder",
            out.display()
        ));
    }
    std::fs::create_dir_all(out.join("points")).map_err(|e| format!("{}: {e}", out.display()))?;
    write_atomic(
        &out.join("sweep.json"),
        serde_json::to_string_pretty(&m)
            .map_err(|e| e.to_string())?
            .as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    for i in 0..m.points {
        let dst = point_file(out, i);
        if dst.exists() {
            read_point(out, i, m.fingerprint)?;
            continue;
        }
        if let Some(d) = dirs.iter().find(|d| point_file(d, i).exists()) {
            read_point(d, i, m.fingerprint)?;
            let src = point_file(d, i);
            let bytes = std::fs::read(&src).map_err(|e| format!("{}: {e}", src.display()))?;
            write_atomic(&dst, &bytes).map_err(|e| e.to_string())?;
        }
    }
    combine(out)
}
