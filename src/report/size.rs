//! The files of a `size` output folder: `staffing.toml` (the recommendation,
//! ready for `run` and `compare`), `size.csv` (per unit and pool),
//! `targets.csv` (every target at every scope it is checked on), `size.json`
//! (all of it, with the search log and the work spent) and `report.html`.

use std::path::Path;

use serde::Serialize;

use super::ReportError;
use super::output::{Manifest, OutputSet};
use crate::experiment::size::{Check, Evidence, Outcome, Problem, Step, Target};

/// What the folder describes besides the outcome.
#[derive(Clone, Debug)]
pub struct SizeContext {
    /// Scenario (or network) name.
    pub name: String,
    /// Fingerprint of its files (16 hex digits).
    pub scenario_hash: String,
    /// Master seed.
    pub seed: u64,
    /// One-sided confidence of the targets.
    pub confidence: f64,
    /// Replications of each search evaluation.
    pub replications: u64,
    /// Cost of one person per pool kind.
    pub cost: Vec<f64>,
    /// The recommendation as a file: a reform overlay (scenario) or the network file.
    pub staffing_toml: String,
    /// `scenario` or `network`.
    pub kind: &'static str,
}

/// One row of `size.csv`.
#[derive(Clone, Debug, Serialize)]
pub struct StaffRow {
    /// Province (empty for a network).
    pub province: String,
    /// Unit or station.
    pub unit: String,
    /// Tier (empty for a network).
    pub tier: String,
    /// Pool.
    pub pool: String,
    /// Offered load, servers of working time.
    pub offered_load: f64,
    /// Staff as given.
    pub current: u32,
    /// Square-root staffing start.
    pub analytic_start: u32,
    /// Recommended staff.
    pub recommended: u32,
    /// Recommended − current.
    pub change: i64,
    /// The cap of the search.
    pub cap: u32,
    /// Utilisation at the recommendation.
    pub utilisation: f64,
    /// The target that breaks with one person fewer (`target @ scope`).
    pub remove_one_breaks: String,
    /// That target's mean with one person fewer.
    pub remove_one_mean: f64,
    /// Other removals at the same time that could affect that scope (0: alone).
    pub remove_one_with_others: Option<usize>,
}

/// One row of `targets.csv`.
#[derive(Clone, Debug, Serialize)]
pub struct TargetRow {
    /// The target as written.
    pub target: String,
    /// Metric.
    pub metric: String,
    /// The scope it is checked on.
    pub scope: String,
    /// `<=` or `>=`.
    pub cmp: &'static str,
    /// The target's value.
    pub value: f64,
    /// Replications with an observation.
    pub n: u64,
    /// Mean at the recommendation.
    pub mean: f64,
    /// Two-sided interval at the confidence level.
    pub ci_low: f64,
    /// Two-sided interval at the confidence level.
    pub ci_high: f64,
    /// One-sided bound compared with the value.
    pub one_sided: f64,
    /// Whether it holds.
    pub met: bool,
    /// Whether removing someone breaks it (it limits the recommendation).
    pub binding: bool,
    /// When missed for good: why (`staff no longer moves it` or `every pool that could help is at the cap`).
    pub why_missed: String,
}

/// Totals of one pool kind (per tier for a scenario).
#[derive(Clone, Debug, Serialize)]
pub struct Total {
    /// Tier (empty for a network).
    pub tier: String,
    /// Pool.
    pub pool: String,
    /// Staff as given.
    pub current: u64,
    /// Recommended.
    pub recommended: u64,
}

/// `size.json`.
#[derive(Clone, Debug, Serialize)]
pub struct SizeJson {
    /// `size`.
    pub command: &'static str,
    /// `scenario` or `network`.
    pub kind: &'static str,
    /// Scenario name.
    pub scenario: String,
    /// Fingerprint.
    pub scenario_hash: String,
    /// Master seed.
    pub seed: u64,
    /// One-sided confidence.
    pub confidence: f64,
    /// The targets.
    pub targets: Vec<Target>,
    /// Whether every target holds at the recommendation.
    pub feasible: bool,
    /// Total staff of the varied pools, as given.
    pub current_staff: u64,
    /// Total recommended.
    pub recommended_staff: u64,
    /// Total cost as given (people × cost per pool).
    pub current_cost: f64,
    /// Total cost recommended.
    pub recommended_cost: f64,
    /// Per tier and pool.
    pub totals: Vec<Total>,
    /// Targets that limit the recommendation (removing someone breaks them).
    pub binding: Vec<String>,
    /// Targets missed with every pool that could help at the cap (when not feasible).
    pub failing: Vec<TargetRow>,
    /// Replications of each search evaluation.
    pub replications: u64,
    /// Replications of the confirmation.
    pub confirm_replications: u64,
    /// Distinct staffings simulated.
    pub evaluations: usize,
    /// Replications simulated in all (each a province-year, or one network run).
    pub simulated: u64,
    /// What one simulated replication is.
    pub simulated_unit: &'static str,
    /// Engine events simulated in all.
    pub events: u64,
    /// log10 of the points of a plain grid over the same space (every
    /// varied pool from 1 to its cap).
    pub grid_points_log10: f64,
    /// log10 of the replications that grid would simulate at the search's replications per point.
    pub grid_simulated_log10: f64,
    /// Per unit and pool.
    pub staff: Vec<StaffRow>,
    /// Every target at every scope.
    pub checks: Vec<TargetRow>,
    /// The search, step by step.
    pub log: Vec<Step>,
}

/// Builds `size.json` from the outcome.
pub fn size_json(p: &dyn Problem, o: &Outcome, cx: &SizeContext) -> SizeJson {
    let vars = p.vars();
    let groups = p.groups();
    let targets = p.targets();
    let ins = p.instances();
    let binding_of = |e: &Option<Evidence>| {
        e.as_ref()
            .map(|e| (e.target.clone(), e.scope.clone(), e.mean, e.with_others))
    };
    let staff: Vec<StaffRow> = vars
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let g = &groups[v.group];
            let b = binding_of(&o.evidence[i]);
            StaffRow {
                province: g.province.clone(),
                unit: g.name.clone(),
                tier: g.tier.map_or(String::new(), |t| t.name().to_string()),
                pool: p.pools()[v.pool].to_string(),
                offered_load: v.offered,
                current: v.current,
                analytic_start: v.start,
                recommended: o.staff[i],
                change: i64::from(o.staff[i]) - i64::from(v.current),
                cap: v.cap,
                utilisation: o.utilisation[i],
                remove_one_breaks: b
                    .as_ref()
                    .map_or(String::new(), |(t, s, _, _)| format!("{t} @ {s}")),
                remove_one_mean: b.as_ref().map_or(f64::NAN, |x| x.2),
                remove_one_with_others: b.map(|x| x.3),
            }
        })
        .collect();
    let binding_pairs: std::collections::BTreeSet<(String, String)> = o
        .evidence
        .iter()
        .flatten()
        .map(|e| (e.target.clone(), e.scope.clone()))
        .collect();
    let row = |i: usize, c: &Check| {
        let t = &targets[ins[i].target];
        TargetRow {
            target: t.text.clone(),
            metric: t.metric.clone(),
            scope: ins[i].scope.clone(),
            cmp: match t.cmp {
                crate::experiment::size::Cmp::AtMost => "<=",
                crate::experiment::size::Cmp::AtLeast => ">=",
            },
            value: t.bound,
            n: c.n,
            mean: c.mean,
            ci_low: c.ci_low,
            ci_high: c.ci_high,
            one_sided: c.one_sided,
            met: c.met,
            binding: binding_pairs.contains(&(t.text.clone(), ins[i].scope.clone())),
            why_missed: match o.stuck.iter().position(|&k| k == i) {
                Some(k) if o.flat.get(k) == Some(&true) && c.met_by_mean(t) => format!(
                    "its mean meets the value but its one-sided bound does not with {} replications: raise --confirm-replications",
                    c.n
                ),
                Some(k) if o.flat.get(k) == Some(&true) => {
                    "staff no longer moves it (fixed delays or deadlines, not queues)".into()
                }
                Some(_) => "every pool that could help is at the cap".into(),
                None => String::new(),
            },
        }
    };
    let checks: Vec<TargetRow> = o
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| row(i, c))
        .collect();
    let mut totals: Vec<Total> = Vec::new();
    for (i, v) in vars.iter().enumerate() {
        let tier = groups[v.group]
            .tier
            .map_or(String::new(), |t| t.name().to_string());
        let pool = p.pools()[v.pool].to_string();
        match totals.iter_mut().find(|t| t.tier == tier && t.pool == pool) {
            Some(t) => {
                t.current += u64::from(v.current);
                t.recommended += u64::from(o.staff[i]);
            }
            None => totals.push(Total {
                tier,
                pool,
                current: u64::from(v.current),
                recommended: u64::from(o.staff[i]),
            }),
        }
    }
    let cost = |x: &dyn Fn(usize) -> u32| -> f64 {
        vars.iter()
            .enumerate()
            .map(|(i, v)| f64::from(x(i)) * cx.cost.get(v.pool).copied().unwrap_or(1.0))
            .sum()
    };
    let grid_points_log10: f64 = vars.iter().map(|v| f64::from(v.cap).log10()).sum();
    let mut binding: Vec<String> = o
        .evidence
        .iter()
        .flatten()
        .map(|e| e.target.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    binding.sort();
    SizeJson {
        command: "size",
        kind: cx.kind,
        scenario: cx.name.clone(),
        scenario_hash: cx.scenario_hash.clone(),
        seed: cx.seed,
        confidence: cx.confidence,
        targets: targets.to_vec(),
        feasible: o.feasible,
        current_staff: vars.iter().map(|v| u64::from(v.current)).sum(),
        recommended_staff: o.staff.iter().map(|&x| u64::from(x)).sum(),
        current_cost: cost(&|i| vars[i].current),
        recommended_cost: cost(&|i| o.staff[i]),
        totals,
        binding,
        failing: if o.feasible {
            Vec::new()
        } else {
            o.stuck.iter().map(|&i| row(i, &o.checks[i])).collect()
        },
        replications: cx.replications,
        confirm_replications: o.confirm_replications,
        evaluations: o.evaluations,
        simulated: o.replications,
        simulated_unit: p.unit_of_work(),
        events: o.events,
        grid_points_log10,
        grid_simulated_log10: grid_points_log10 + (cx.replications as f64).log10(),
        staff,
        checks,
        log: o.log.clone(),
    }
}

/// Writes the size set: `staffing.toml`, `size.csv`, `targets.csv`,
/// `size.json` and, with `report`, `report.html`.
pub fn write_size_set(
    set: &mut OutputSet,
    j: &SizeJson,
    staffing_toml: &str,
    report: bool,
) -> Result<(), ReportError> {
    set.write("staffing.toml", staffing_toml.as_bytes())?;
    set.write_with("size.csv", |w| w.write_all(&super::csv::records(&j.staff)?))?;
    set.write_with("targets.csv", |w| {
        w.write_all(&super::csv::records(&j.checks)?)
    })?;
    let json = serde_json::to_vec_pretty(j).map_err(|e| ReportError::Io {
        path: "size.json".into(),
        source: std::io::Error::other(e),
    })?;
    set.write("size.json", &json)?;
    if report {
        let html = super::html::size_report(set.staging())?;
        set.write("report.html", html.as_bytes())?;
    }
    Ok(())
}

/// The manifest of a size set.
pub fn size_manifest(j: &SizeJson) -> Manifest {
    Manifest {
        motcua_version: env!("CARGO_PKG_VERSION"),
        command: "size",
        scenario: j.scenario.clone(),
        scenario_hash: j.scenario_hash.clone(),
        seed: j.seed,
        replications: j.confirm_replications,
        files: Vec::new(),
    }
}

/// The recommendation as a reform overlay of the scenario at `scenario`
/// (`extends` is relative to `out_dir`, where the overlay is written).
pub fn staffing_overlay(
    p: &dyn Problem,
    o: &Outcome,
    scenario: &Path,
    out_dir: &Path,
    multi_province: bool,
    header: &str,
) -> String {
    let s = |x: &str| toml::Value::String(x.to_string()).to_string();
    let mut out = String::new();
    for line in header.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!("extends = {}\n", s(&relative(scenario, out_dir))));
    let vars = p.vars();
    let groups = p.groups();
    for (i, v) in vars.iter().enumerate() {
        if o.staff[i] == v.current {
            continue;
        }
        let g = &groups[v.group];
        out.push_str("\n[[reform]]\nkind = \"staffing\"\n");
        if multi_province {
            out.push_str(&format!("province = {}\n", s(&g.province)));
        }
        out.push_str(&format!(
            "unit = {}\npool = {}\nset = {}  # was {}\n",
            s(&g.name),
            s(p.pools()[v.pool]),
            o.staff[i],
            v.current
        ));
    }
    out
}

/// The path of `file` as seen from folder `dir` (for an `extends` written into `dir`).
pub fn relative(file: &Path, dir: &Path) -> String {
    let abs = |x: &Path| {
        std::path::absolute(x)
            .map(|a| normalise(&a))
            .unwrap_or_else(|_| x.to_path_buf())
    };
    let target = abs(file);
    let rel = pathdiff::diff_paths(&target, abs(dir)).unwrap_or(target);
    rel.to_string_lossy().replace('\\', "/")
}

/// Removes `.` and `..` components lexically.
fn normalise(p: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}
