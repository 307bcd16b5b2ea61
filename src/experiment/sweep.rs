//! Parameter sweeps: a grid or Latin hypercube over any numeric scenario or reform field, deterministic shards, resumable point files and a merge.
//!
//! A sweep file names a base scenario (with or without reforms), its axes and
//! its replications:
//!
//! ```toml
//! name = "staffing-x-online"
//! base = "../reforms/fee-waiver-online.toml"
//! replications = 10
//! seed = 1
//! [[axis]]
//! path = "commune.staff.clerks"
//! values = [2, 3, 4]
//! [[axis]]
//! path = "reform[online_uptake].scale"
//! range = { from = 1.0, to = 2.0, step = 0.5 }
//! ```
//!
//! Point `i` is run with master seed `mix64(seed ^ mix64(i))`, so its results
//! never depend on which other points run, on the shard, or on the thread
//! count. Each finished point is written atomically to `points/`; a re-run
//! skips finished points; the combined `results.csv` and `summary.csv` are
//! built from the point files, identically by `sweep` and by `merge`.

use std::path::{Path, PathBuf};

use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::run::Estimate;
use super::tables::{Key, Rows, index_rows, metrics_rows, summarise};
use crate::engine::{Discipline, Streams, mix64};
use crate::model::prepare::{OverloadWarning, prepare};
use crate::model::scopes::scopes;
use crate::scenario::domain::RawChain;
use crate::scenario::{FieldError, Origin, ScenarioError, parse_table, read, typed, typed_array};

/// A linear range of axis values.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// First value.
    pub from: f64,
    /// Last value (included when the steps land on it).
    pub to: f64,
    /// Step (non-zero, with the sign of `to − from`).
    pub step: f64,
}

/// A logarithmic range of axis values.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRange {
    /// First value (> 0).
    pub from: f64,
    /// Last value (> 0).
    pub to: f64,
    /// Number of points (≥ 2).
    pub points: usize,
}

/// One axis of a grid.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAxis {
    /// Field path, e.g. `procedure[3].deadline_days` or `reform[0].add`.
    pub path: String,
    /// Explicit values.
    pub values: Option<Vec<f64>>,
    /// A linear range.
    pub range: Option<Range>,
    /// A logarithmic range.
    pub log: Option<LogRange>,
}

/// A field of a Latin hypercube.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LhsField {
    /// Field path.
    pub path: String,
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
}

/// A Latin hypercube of `samples` points over several fields.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLhs {
    /// Number of points.
    pub samples: usize,
    /// The fields and their bounds.
    pub fields: Vec<LhsField>,
}

/// A validated sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// Name.
    pub name: String,
    /// The base scenario, read but not resolved.
    pub base: RawChain,
    /// The base scenario file.
    pub base_path: PathBuf,
    /// The swept field paths (the columns of the outputs).
    pub paths: Vec<String>,
    /// The points: one value per path.
    pub points: Vec<Vec<f64>>,
    /// Replications per point.
    pub replications: u64,
    /// Sweep seed.
    pub seed: u64,
    /// A fingerprint of everything that decides the sweep's results: the
    /// whole `extends` chain of the base as merged, the reforms, the paths,
    /// every point's values, the replications, the seed and the motcua
    /// version. Resume and merge refuse point files of another fingerprint.
    pub fingerprint: u64,
    /// Fingerprint of the base chain alone (see [`Sweep::scenario_hash`]).
    base_hash: u64,
}

impl Sweep {
    /// The fingerprint of point `i`'s scenario: the base chain, the paths and the point's values.
    pub fn scenario_hash(&self, i: usize) -> u64 {
        let mut h = crate::hash::Fnv::new();
        h.write(&self.base_hash.to_le_bytes());
        for (p, x) in self.paths.iter().zip(&self.points[i]) {
            h.write(p.as_bytes());
            h.write(&x.to_bits().to_le_bytes());
        }
        h.finish()
    }

    /// The master seed of point `i`.
    pub fn point_seed(&self, i: usize) -> u64 {
        mix64(self.seed ^ mix64(i as u64))
    }

    /// Point `i`'s scenario, built and validated.
    pub fn point_scenario(&self, i: usize) -> Result<crate::scenario::domain::Scenario, String> {
        let mut chain = self.base.clone();
        for (p, x) in self.paths.iter().zip(&self.points[i]) {
            chain.set(p, *x).map_err(|e| format!("{p}: {e}"))?;
        }
        chain.build(&self.base_path).map_err(|e| e.to_string())
    }

    /// What point `i` sets, as `path = value, ...`.
    pub fn describe(&self, i: usize) -> String {
        self.paths
            .iter()
            .zip(&self.points[i])
            .map(|(p, x)| format!("{p} = {x}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The most points a sweep may have without `--force`.
pub const MAX_POINTS: usize = crate::scenario::limits::MAX_POINTS_UNFORCED;

fn axis_values(a: &RawAxis, at: &str, errors: &mut Vec<FieldError>) -> Vec<f64> {
    let given = [a.values.is_some(), a.range.is_some(), a.log.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if given != 1 {
        errors.push(FieldError::new(
            at,
            "give exactly one of `values`, `range` and `log`",
        ));
        return Vec::new();
    }
    if let Some(v) = &a.values {
        if v.is_empty() {
            errors.push(FieldError::new(
                format!("{at}.values"),
                "is empty: give at least one value",
            ));
        }
        if let Some(bad) = v.iter().find(|x| !x.is_finite()) {
            errors.push(FieldError::new(
                format!("{at}.values"),
                format!("must be finite numbers (got {bad})"),
            ));
        }
        return v.clone();
    }
    if let Some(r) = &a.range {
        if !(r.from.is_finite() && r.to.is_finite()) {
            errors.push(FieldError::new(
                format!("{at}.range"),
                format!(
                    "`from` and `to` must be finite numbers (got {}, {})",
                    r.from, r.to
                ),
            ));
            return Vec::new();
        }
        let span = r.to - r.from;
        if !(r.step.is_finite() && r.step != 0.0)
            || (span != 0.0 && span.signum() != r.step.signum())
        {
            errors.push(FieldError::new(
                format!("{at}.range.step"),
                format!(
                    "must be non-zero with the sign of `to − from` (from {}, to {}, step {})",
                    r.from, r.to, r.step
                ),
            ));
            return Vec::new();
        }
        let steps = (span / r.step + 1e-9).floor();
        let n = if steps.is_finite() && steps < MAX_POINTS as f64 {
            steps as usize + 1
        } else {
            usize::MAX
        };
        if n > MAX_POINTS {
            errors.push(FieldError::new(
                format!("{at}.range"),
                format!("has more than {MAX_POINTS} values; widen the step"),
            ));
            return Vec::new();
        }
        return (0..n).map(|i| r.from + i as f64 * r.step).collect();
    }
    if let Some(l) = &a.log {
        if !(l.from > 0.0
            && l.to > 0.0
            && l.from.is_finite()
            && l.to.is_finite()
            && (2..=MAX_POINTS).contains(&l.points))
        {
            errors.push(FieldError::new(
                format!("{at}.log"),
                format!(
                    "needs finite from > 0, to > 0 and 2 ≤ points ≤ {MAX_POINTS} (got {}, {}, {})",
                    l.from, l.to, l.points
                ),
            ));
            return Vec::new();
        }
        let (a0, a1) = (l.from.ln(), l.to.ln());
        return (0..l.points)
            .map(|i| (a0 + (a1 - a0) * i as f64 / (l.points - 1) as f64).exp())
            .collect();
    }
    Vec::new()
}

fn check_path(base: &RawChain, path: &str, at: &str, errors: &mut Vec<FieldError>) {
    if let Err(why) = base.clone().set(path, 0.0) {
        errors.push(FieldError::new(
            at,
            format!("cannot address the numeric field `{path}`: {why}"),
        ));
    }
}

/// Reads and validates a sweep file; `force` allows more than [`MAX_POINTS`] points.
pub fn load(path: &Path, force: bool) -> Result<Sweep, ScenarioError> {
    let text = read(path, Origin::Named)?;
    let mut table = parse_table(path, &text, Origin::Named)?;
    let mut errors = Vec::new();
    let invalid = |errors| ScenarioError::Invalid {
        path: path.to_owned(),
        errors,
    };
    let name: Option<String> = table
        .remove("name")
        .and_then(|v| typed("name", v, &mut errors));
    let base: Option<String> = table
        .remove("base")
        .and_then(|v| typed("base", v, &mut errors));
    let replications: i64 = table
        .remove("replications")
        .and_then(|v| typed("replications", v, &mut errors))
        .unwrap_or(10);
    let seed: u64 = table
        .remove("seed")
        .and_then(|v| typed("seed", v, &mut errors))
        .unwrap_or(1);
    let lhs: Option<RawLhs> = table
        .remove("lhs")
        .and_then(|v| typed("lhs", v, &mut errors));
    let axes: Vec<Option<RawAxis>> = typed_array(&mut table, "axis", &mut errors);
    let _ = table.remove("description");
    for k in table.keys() {
        errors.push(FieldError::new(
            k.clone(),
            "unknown key; expected name, description, base, replications, seed, axis, lhs",
        ));
    }
    if !(1..=crate::scenario::limits::MAX_REPLICATIONS as i64).contains(&replications) {
        errors.push(FieldError::new(
            "replications",
            format!(
                "must be between 1 and {} (got {replications})",
                crate::scenario::limits::MAX_REPLICATIONS
            ),
        ));
    }
    if let Some(n) = &name
        && (n.is_empty() || n.chars().count() > crate::scenario::limits::MAX_NAME_CHARS)
    {
        errors.push(FieldError::new(
            "name",
            format!(
                "must have 1 to {} characters",
                crate::scenario::limits::MAX_NAME_CHARS
            ),
        ));
    }
    let Some(base) = base else {
        errors.push(FieldError::new(
            "base",
            "missing: name the base scenario, e.g. base = \"../baseline.toml\"",
        ));
        return Err(invalid(errors));
    };
    let base_path = path.parent().unwrap_or(Path::new("")).join(&base);
    let base_text = match read(&base_path, Origin::Referenced) {
        Ok(t) => t,
        Err(e) => {
            let why = match e {
                ScenarioError::Io { source, .. } => source.to_string(),
                ScenarioError::Refused { why, .. } => why,
                other => other.to_string(),
            };
            errors.push(FieldError::new(
                "base",
                format!(
                    "cannot read `{}`: {why}; the path is relative to the sweep file",
                    base_path.display()
                ),
            ));
            return Err(invalid(errors));
        }
    };
    let chain = RawChain::read(&base_path, &base_text, Origin::Referenced)?;
    let mut paths = Vec::new();
    let mut values = Vec::new();
    for (i, a) in axes.iter().enumerate() {
        let Some(a) = a else { continue };
        let at = format!("axis[{i}]");
        check_path(&chain, &a.path, &format!("{at}.path"), &mut errors);
        paths.push(a.path.clone());
        values.push(axis_values(a, &at, &mut errors));
    }
    let mut points: Vec<Vec<f64>> = Vec::new();
    if !values.is_empty() {
        let total = values
            .iter()
            .map(Vec::len)
            .try_fold(1usize, |acc, n| acc.checked_mul(n))
            .unwrap_or(usize::MAX);
        let hard = crate::scenario::limits::MAX_POINTS;
        if total > hard {
            errors.push(FieldError::new(
                "axis",
                format!("the grid has more than {hard} points, the limit even with --force; split the sweep"),
            ));
        } else if total > MAX_POINTS && !force {
            errors.push(FieldError::new("axis", format!("the grid has {total} points, more than {MAX_POINTS}; pass --force to run it anyway")));
        } else if errors.is_empty() {
            points.push(Vec::new());
            for v in &values {
                points = points
                    .iter()
                    .flat_map(|p| v.iter().map(move |x| [p.clone(), vec![*x]].concat()))
                    .collect();
            }
        }
    }
    if let Some(l) = &lhs {
        if !values.is_empty() {
            errors.push(FieldError::new(
                "lhs",
                "give either [[axis]] entries or [lhs], not both",
            ));
        }
        let hard = crate::scenario::limits::MAX_POINTS;
        if l.samples == 0 {
            errors.push(FieldError::new("lhs.samples", "must be ≥ 1 (got 0)"));
        } else if l.samples > hard {
            errors.push(FieldError::new(
                "lhs.samples",
                format!(
                    "must be at most {hard} (got {}), the limit even with --force",
                    l.samples
                ),
            ));
        } else if l.samples > MAX_POINTS && !force {
            errors.push(FieldError::new(
                "lhs.samples",
                format!(
                    "{} samples is more than {MAX_POINTS}; pass --force to run them anyway",
                    l.samples
                ),
            ));
        }
        for (j, f) in l.fields.iter().enumerate() {
            check_path(
                &chain,
                &f.path,
                &format!("lhs.fields[{j}].path"),
                &mut errors,
            );
            if !(f.min.is_finite() && f.max.is_finite() && f.min < f.max) {
                errors.push(FieldError::new(
                    format!("lhs.fields[{j}]"),
                    format!("needs min < max (got {}, {})", f.min, f.max),
                ));
            }
            paths.push(f.path.clone());
        }
        if errors.is_empty() {
            points = latin_hypercube(l, seed);
        }
    }
    if values.is_empty() && lhs.is_none() {
        errors.push(FieldError::new(
            "axis",
            "the sweep needs at least one [[axis]] or an [lhs]",
        ));
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    if points.is_empty() {
        return Err(invalid(vec![FieldError::new(
            "axis",
            "the sweep has no point; give each axis at least one value",
        )]));
    }
    let base_hash = chain.fingerprint();
    let mut h = crate::hash::Fnv::new();
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    h.write(&base_hash.to_le_bytes());
    h.write(&(replications as u64).to_le_bytes());
    h.write(&seed.to_le_bytes());
    for p in &paths {
        h.write(p.as_bytes());
        h.write(b"\x00");
    }
    for pt in &points {
        for x in pt {
            h.write(&x.to_bits().to_le_bytes());
        }
    }
    let fingerprint = h.finish();
    Ok(Sweep {
        name: name.unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        }),
        base: chain,
        base_path,
        paths,
        points,
        replications: replications.max(1) as u64,
        seed,
        fingerprint,
        base_hash,
    })
}

/// A Latin hypercube: each field's range cut into `samples` strata, one
/// point per stratum, strata shuffled independently per field (seeded).
fn latin_hypercube(l: &RawLhs, seed: u64) -> Vec<Vec<f64>> {
    let ranges: Vec<(f64, f64)> = l.fields.iter().map(|f| (f.min, f.max)).collect();
    hypercube(l.samples, &ranges, seed, "latin-hypercube")
}

/// A Latin hypercube of `n` points over `ranges` (one stratum per point
/// per field, strata shuffled independently per field), from the stream
/// `name` of `seed`.
pub fn hypercube(n: usize, ranges: &[(f64, f64)], seed: u64, name: &str) -> Vec<Vec<f64>> {
    let mut rng = Streams::new(seed, 0).stream(name, &[]);
    let mut cols: Vec<Vec<f64>> = Vec::new();
    for &(min, max) in ranges {
        let f = LhsField {
            path: String::new(),
            min,
            max,
        };
        let mut strata: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            strata.swap(i, j);
        }
        cols.push(
            strata
                .iter()
                .map(|&s| {
                    f.min + (f.max - f.min) * (s as f64 + crate::engine::unit(&mut rng)) / n as f64
                })
                .collect(),
        );
    }
    (0..n)
        .map(|i| cols.iter().map(|c| c[i]).collect())
        .collect()
}

/// A shard: this process runs the points whose index is `k − 1` modulo `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based shard number.
    pub k: usize,
    /// Number of shards.
    pub n: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("malformed shard `{s}`: expected K/N with 1 ≤ K ≤ N, e.g. 2/8");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

/// Builds and validates every point's scenario (in parallel on `threads`
/// threads) before any point runs: a value the scenario refuses is reported
/// with the sweep file, the point and what it sets, and nothing is written.
pub fn check_points(sw: &Sweep, path: &Path, threads: usize) -> Result<(), ScenarioError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ScenarioError::Invalid {
            path: path.to_owned(),
            errors: vec![FieldError::new("", format!("cannot start threads: {e}"))],
        })?;
    let bad: Vec<(usize, String)> = pool.install(|| {
        (0..sw.points.len())
            .into_par_iter()
            .filter_map(|i| sw.point_scenario(i).err().map(|e| (i, e)))
            .collect()
    });
    if bad.is_empty() {
        return Ok(());
    }
    let shown = 20;
    let mut errors: Vec<FieldError> = bad
        .iter()
        .take(shown)
        .map(|(i, e)| {
            FieldError::new(
                format!("point {i} ({})", sw.describe(*i)),
                format!("the scenario refuses it: {}", e.replace('\n', " ")),
            )
        })
        .collect();
    if bad.len() > shown {
        errors.push(FieldError::new(
            "",
            format!("and {} more points the scenario refuses", bad.len() - shown),
        ));
    }
    Err(ScenarioError::Invalid {
        path: path.to_owned(),
        errors,
    })
}

/// What one point produced: its tables per replication (overall and per
/// tier, for the year: the metrics and index rows), their summary, and its
/// overload warnings.
#[derive(Clone, Debug)]
pub struct PointResult {
    /// The point's index.
    pub point: usize,
    /// Each replication's rows.
    pub rows: Vec<Rows>,
    /// The rows across replications.
    pub summary: Vec<(Key, Vec<(&'static str, Estimate)>)>,
    /// Overloaded pools of the point.
    pub warnings: Vec<OverloadWarning>,
}

/// Runs point `i`: its replications in parallel or in turn.
pub fn run_point(sw: &Sweep, i: usize, parallel_reps: bool) -> Result<PointResult, String> {
    let sc = sw
        .point_scenario(i)
        .map_err(|e| format!("point {i} ({}): {e}", sw.describe(i)))?;
    let prepared = prepare(
        &sc,
        if sc.model.edf {
            Discipline::Edf
        } else {
            Discipline::Fifo
        },
    )
    .map_err(|e| format!("point {i}: {e}"))?;
    let warnings = prepared.warnings();
    let seed = sw.point_seed(i);
    let one = |r: u64| -> Result<Rows, String> {
        let runs = prepared
            .replication(seed, r)
            .map_err(|e| format!("point {i}: {e}"))?;
        let s = scopes(&sc, &runs);
        Ok(metrics_rows(&sc, &s)
            .into_iter()
            .chain(index_rows(&sc, &s))
            .filter(|(k, _)| k.period == "year" && matches!(k.scope(), "overall" | "tier"))
            .collect())
    };
    let rows: Vec<Rows> = if parallel_reps {
        (0..sw.replications)
            .into_par_iter()
            .map(one)
            .collect::<Result<_, String>>()?
    } else {
        (0..sw.replications)
            .map(one)
            .collect::<Result<_, String>>()?
    };
    Ok(PointResult {
        point: i,
        summary: summarise(&rows),
        rows,
        warnings,
    })
}

/// Runs the points `todo` on `threads` threads and hands each result to
/// `save` as it finishes (the report layer writes it); returns the overload
/// warnings per point (only points with some), in point order.
pub fn run(
    sw: &Sweep,
    todo: &[usize],
    threads: usize,
    progress: &indicatif::ProgressBar,
    save: &(dyn Fn(PointResult) -> Result<(), String> + Sync),
) -> Result<Vec<(usize, Vec<OverloadWarning>)>, String> {
    progress.set_length(todo.len() as u64);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    // Points in parallel when there are enough of them, each point's
    // replications in turn: at most `threads` points are in memory at once.
    // With fewer points than threads, one point at a time, replications in parallel.
    let parallel_reps = todo.len() < pool.current_num_threads();
    let warnings = std::sync::Mutex::new(Vec::new());
    pool.install(|| {
        let each = |&i: &usize| {
            let result = run_point(sw, i, parallel_reps)?;
            if !result.warnings.is_empty()
                && let Ok(mut all) = warnings.lock()
            {
                all.push((i, result.warnings.clone()));
            }
            save(result)?;
            progress.inc(1);
            Ok::<_, String>(())
        };
        if parallel_reps {
            todo.iter().try_for_each(each)
        } else {
            todo.par_iter().try_for_each(each)
        }
    })?;
    let mut warnings = warnings.into_inner().unwrap_or_default();
    warnings.sort_by_key(|(i, _)| *i);
    Ok(warnings)
}
