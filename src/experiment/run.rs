//! The `run` experiment: replications of a scenario in parallel, and their summary across replications with confidence intervals (`summary.json`).

use std::collections::BTreeMap;

use indicatif::ProgressBar;
use serde::Serialize;

use super::replicate;
use super::tables::{self, Rows};
use crate::model::ProvinceRun;
use crate::model::prepare::{ModelError, Overload, OverloadWarning, Prepared, overload_warnings};
use crate::model::scopes::{BASES, Metrics, Scope, Scopes, offered_online, scopes};
use crate::scenario::domain::{Scenario, Tier};
use crate::stats::Summary;

/// What a run produced: its summary and its tables, one per replication.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The summary across replications (`summary.json`).
    pub summary: RunSummary,
    /// The metrics table of each replication.
    pub metrics: Vec<Rows>,
    /// The index table of each replication.
    pub index: Vec<Rows>,
    /// The daily time series of each replication.
    pub timeseries: Vec<Rows>,
    /// Wall-clock time of the simulation, seconds.
    pub wall_s: f64,
}

/// Runs `n` replications of `p` and tabulates them.
pub fn run(
    p: &Prepared<'_>,
    seed: u64,
    n: u64,
    threads: usize,
    progress: &ProgressBar,
) -> Result<RunOutput, ModelError> {
    let sc = p.scenario;
    let start = std::time::Instant::now();
    let reps = replications(p, seed, n, threads, progress)?;
    let wall_s = start.elapsed().as_secs_f64();
    let all: Vec<Scopes> = reps.iter().map(|r| scopes(sc, r)).collect();
    Ok(RunOutput {
        summary: summarise_scopes(sc, seed, &reps, &all, &p.overloaded),
        metrics: all.iter().map(|s| tables::metrics_rows(sc, s)).collect(),
        index: all.iter().map(|s| tables::index_rows(sc, s)).collect(),
        timeseries: reps
            .iter()
            .map(|r| tables::timeseries_rows(sc, r))
            .collect(),
        wall_s,
    })
}

/// Runs `n` replications of a prepared scenario on `threads` threads (0 =
/// all cores); results in replication order, the same at any thread count.
pub fn replications(
    p: &Prepared<'_>,
    seed: u64,
    n: u64,
    threads: usize,
    progress: &ProgressBar,
) -> Result<Vec<Vec<ProvinceRun>>, ModelError> {
    replicate(n, threads, progress, |r| p.replication(seed, r))?
        .into_iter()
        .collect()
}

/// The index section of `summary.json` for one scope.
#[derive(Clone, Debug, Serialize)]
pub struct IndexSummary {
    /// The 766 index.
    pub i766: I766Summary,
    /// PAR procedure criteria, share of their partial maximum.
    pub par_tthc: Estimate,
    /// PAR group of the mean share ("A", "B", "below B").
    pub par_group: &'static str,
    /// Mean satisfaction of the simulated experience (SIPAS-like model).
    pub satisfaction: Estimate,
    /// Complaint ("dislike") rate used in 766 item 5.4.
    pub complaint_rate: Estimate,
}

/// The 766 figures of one scope.
#[derive(Clone, Debug, Serialize)]
pub struct I766Summary {
    /// Total out of 100.
    pub total: Estimate,
    /// Points per group.
    pub groups: BTreeMap<&'static str, Estimate>,
    /// Rating band of the mean total.
    pub band: String,
}

fn index_summary(per_rep: &[Metrics], ip: &crate::index::IndexParams) -> IndexSummary {
    let e = estimates(per_rep);
    let get = |k: &str| e.get(k).copied().unwrap_or(Estimate::NONE);
    let groups = e
        .iter()
        .filter(|(k, _)| k.starts_with("i766_") && **k != "i766_total")
        .map(|(k, v)| (k.trim_start_matches("i766_"), *v))
        .collect::<BTreeMap<_, _>>();
    let par = get("par_tthc_share");
    IndexSummary {
        i766: I766Summary {
            total: get("i766_total"),
            band: ip.i766.band(get("i766_total").mean),
            groups,
        },
        par_tthc: par,
        par_group: if !par.mean.is_finite() {
            "n/a"
        } else if par.mean >= ip.par.group_a {
            "A"
        } else if par.mean >= ip.par.group_b {
            "B"
        } else {
            "below B"
        },
        satisfaction: get("satisfaction"),
        complaint_rate: get("complaint_rate"),
    }
}

/// The `index` section of `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct IndexSection {
    /// The 766 scheme used.
    pub scheme: crate::index::Scheme,
    /// All tiers together.
    #[serde(flatten)]
    pub overall: IndexSummary,
    /// Per tier.
    pub tiers: BTreeMap<&'static str, IndexSummary>,
    /// Per province.
    pub provinces: BTreeMap<String, IndexSummary>,
    /// All provinces by calendar month (`YYYY-MM`; the first and last months may be partial).
    pub months: BTreeMap<String, IndexSummary>,
    /// What is assumed rather than sourced.
    pub assumptions: &'static str,
}

/// What the index figures assume.
pub const INDEX_ASSUMPTIONS: &str = "items with nothing to do in a scope (no fee-bearing dossier for 3.6, no paper result for 4.1, no late dossier for apologies) count as met; the curve from on-time rate to the 20 timeliness points is not published: points are linear up to index.i766.timeliness_full_at (default 1.0); publicity (group 1), feedback items 5.1-5.3, fees integrated (3.5) and data reuse (4.3) are scenario inputs, not simulated; item points inside groups other than 5.4 = 6, the rating bands, the PAR criterion weights and the satisfaction model are assumptions (parameters under [index])";

/// A metric across replications: its mean and, with two replications or
/// more, its 95% Student-t interval, clipped to the values the metric can
/// take (a rate's interval stays inside [0, 1]). With one replication there
/// is no interval: `ci_low` and `ci_high` are `NaN` (`null` in JSON).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// Replications with a finite value.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Lower end of the 95% interval (`NaN` when `n < 2`).
    pub ci_low: f64,
    /// Upper end of the 95% interval (`NaN` when `n < 2`).
    pub ci_high: f64,
}

impl Estimate {
    /// An estimate of nothing (no finite value).
    pub const NONE: Estimate = Estimate {
        n: 0,
        mean: f64::NAN,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
    };

    /// The estimate of metric `name` from its replication values (non-finite values dropped).
    pub fn of(name: &str, values: &[f64]) -> Self {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        let s = Summary::from_values(&v, 0.95);
        let range = crate::model::metrics::range_of(name);
        let (ci_low, ci_high) = if v.len() < 2 {
            (f64::NAN, f64::NAN)
        } else {
            (range.clip(s.ci_low), range.clip(s.ci_high))
        };
        Estimate {
            n: v.len(),
            mean: s.mean,
            ci_low,
            ci_high,
        }
    }

    /// Whether there is an interval (two replications or more).
    pub fn has_interval(&self) -> bool {
        self.n >= 2 && self.ci_low.is_finite() && self.ci_high.is_finite()
    }
}

/// Metrics of a scope across replications.
pub type EstimateSet = BTreeMap<&'static str, Estimate>;

/// Summarises one scope across replications (values that are not finite in some replication are dropped).
pub fn estimates(per_rep: &[Metrics]) -> EstimateSet {
    let mut out = BTreeMap::new();
    let Some(first) = per_rep.first() else {
        return out;
    };
    for (k, (name, _)) in first.iter().enumerate() {
        let v: Vec<f64> = per_rep.iter().map(|m| m[k].1).collect();
        out.insert(*name, Estimate::of(name, &v));
    }
    out
}

/// The machine-readable summary of a run (`summary.json`).
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// Scenario name.
    pub scenario: String,
    /// Fingerprint of the scenario's files, 16 hex digits.
    pub scenario_hash: String,
    /// Master seed.
    pub seed: u64,
    /// Replications.
    pub replications: u64,
    /// Tallied days per replication.
    pub horizon_days: u32,
    /// Warm-up days cut.
    pub warmup_days: u32,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// All tiers.
    pub overall: EstimateSet,
    /// Per tier, by receiving tier: each dossier at the tier whose desk received it.
    pub tiers: BTreeMap<&'static str, EstimateSet>,
    /// Per tier, by competent tier: each dossier at the tier that resolves it.
    pub competent_tiers: BTreeMap<&'static str, EstimateSet>,
    /// Per tier, lateness charged to the tier holding each dossier when its
    /// deadline passed (`late_rate` = late dossiers charged ÷ completed
    /// dossiers that passed through the tier).
    pub holder_tiers: BTreeMap<&'static str, EstimateSet>,
    /// What `tiers`, `competent_tiers` and `holder_tiers` count.
    pub bases: &'static str,
    /// Index scores (per tier: by receiving tier).
    pub index: IndexSection,
    /// Pools whose offered load reaches their capacity, one entry per unit.
    pub overloaded: Vec<Overload>,
    /// The same, grouped per (province, tier, pool): what the warnings say.
    pub warnings: Vec<OverloadWarning>,
    /// Events processed, all replications.
    pub events: u64,
    /// Dossiers completed, all replications (warm-up included).
    pub dossiers: u64,
    /// How events and dossiers are counted.
    pub counting_rule: &'static str,
    /// Influential defaults the scenario relies on (fields left out whose
    /// default changes results materially).
    pub assumptions: Vec<String>,
    /// Notes on figures that are likely a sign of a mis-specified scenario
    /// (a tier whose late rate is exactly 0 or 1).
    pub notes: Vec<String>,
    /// Units of the figures.
    pub units: &'static str,
}

/// A note for each receiving tier whose late rate is exactly 0 or 1, with
/// the likely reason.
fn extreme_late_rates(sc: &Scenario, tiers: &BTreeMap<&'static str, EstimateSet>) -> Vec<String> {
    let no_handoff = sc.assumptions.iter().any(|a| a.contains("handoff_days"));
    tiers
        .iter()
        .filter_map(|(t, e)| {
            let late = e.get("late_rate")?;
            if late.n == 0 || !(late.mean == 0.0 || late.mean == 1.0) {
                return None;
            }
            Some(if late.mean == 0.0 {
                format!(
                    "the late rate of the {t} tier is exactly 0 in every replication: every dossier finishes well inside its deadline, which real desks rarely do; likely causes: {}deadlines long against the efforts, or staff far above the load (see the utilisation)",
                    if no_handoff {
                        "handoff_days left out (no in-tray time at all), "
                    } else {
                        ""
                    }
                )
            } else {
                format!(
                    "the late rate of the {t} tier is exactly 1: no dossier meets its deadline; likely causes: deadlines of 0 days, efforts in hours written as minutes, or staff far below the load (see the overload warnings)"
                )
            })
        })
        .collect()
}

/// The counting rule of `run`.
pub const RUN_COUNTING_RULE: &str = "dossiers = dossiers completed (result ready for return); events = arrivals and service and delay completions processed by the kernel (staff are always on duty; effort elapses in working time, so there are no capacity events)";

/// Builds the summary from every replication's province runs.
pub fn summarise(
    sc: &Scenario,
    seed: u64,
    reps: &[Vec<ProvinceRun>],
    overloaded: &[Overload],
) -> RunSummary {
    let all: Vec<Scopes> = reps.iter().map(|r| scopes(sc, r)).collect();
    summarise_scopes(sc, seed, reps, &all, overloaded)
}

/// [`summarise`] from scopes already grouped (one per replication).
fn summarise_scopes(
    sc: &Scenario,
    seed: u64,
    reps: &[Vec<ProvinceRun>],
    all: &[Scopes],
    overloaded: &[Overload],
) -> RunSummary {
    let per_year = 365.0 / f64::from(sc.horizon_days);
    let overall: Vec<Metrics> = all.iter().map(|s| s.overall.metrics(per_year)).collect();
    let mut tiers = BTreeMap::new();
    let ip = &sc.index;
    let mut index_tiers = BTreeMap::new();
    let mut competent_tiers = BTreeMap::new();
    let mut holder_tiers = BTreeMap::new();
    for t in Tier::ALL {
        let in_tier: Vec<&Scope> = all.iter().filter_map(|s| s.tiers.get(&t)).collect();
        if in_tier.is_empty() {
            continue;
        }
        let m: Vec<Metrics> = in_tier.iter().map(|s| s.metrics(per_year)).collect();
        tiers.insert(t.name(), estimates(&m));
        let off = offered_online(sc, Some(t));
        let im: Vec<Metrics> = in_tier.iter().map(|s| s.index_metrics(off, ip)).collect();
        index_tiers.insert(t.name(), index_summary(&im, ip));
        let held: Vec<Metrics> = in_tier.iter().map(|s| s.holder_metrics(per_year)).collect();
        holder_tiers.insert(t.name(), estimates(&held));
        let comp: Vec<Metrics> = all
            .iter()
            .filter_map(|s| s.competent_tiers.get(&t))
            .map(|s| s.metrics(per_year))
            .collect();
        if comp.len() == all.len() {
            competent_tiers.insert(t.name(), estimates(&comp));
        }
    }
    let off = offered_online(sc, None);
    let index_overall: Vec<Metrics> = all
        .iter()
        .map(|s| s.overall.index_metrics(off, ip))
        .collect();
    let mut provinces = BTreeMap::new();
    for (k, p) in sc.provinces.iter().enumerate() {
        let m: Vec<Metrics> = all
            .iter()
            .map(|s| s.provinces[k].1.index_metrics(off, ip))
            .collect();
        provinces.insert(p.name.clone(), index_summary(&m, ip));
    }
    let mut months = BTreeMap::new();
    if let Some(first) = all.first() {
        for (k, (label, _)) in first.months.iter().enumerate() {
            let m: Vec<Metrics> = all
                .iter()
                .map(|s| s.months[k].1.index_metrics(off, ip))
                .collect();
            months.insert(label.clone(), index_summary(&m, ip));
        }
    }
    let index = IndexSection {
        scheme: ip.i766.scheme,
        overall: index_summary(&index_overall, ip),
        tiers: index_tiers,
        provinces,
        months,
        assumptions: INDEX_ASSUMPTIONS,
    };
    let notes = extreme_late_rates(sc, &tiers);
    RunSummary {
        scenario: sc.name.clone(),
        scenario_hash: crate::hash::hex(sc.hash),
        seed,
        replications: reps.len() as u64,
        horizon_days: sc.horizon_days,
        warmup_days: sc.warmup_days,
        confidence: 0.95,
        overall: estimates(&overall),
        tiers,
        competent_tiers,
        holder_tiers,
        bases: BASES,
        index,
        overloaded: overloaded.to_vec(),
        warnings: overload_warnings(sc, overloaded),
        events: reps.iter().flatten().map(|r| r.events).sum(),
        dossiers: reps.iter().flatten().map(|r| r.dossiers).sum(),
        counting_rule: RUN_COUNTING_RULE,
        assumptions: sc.assumptions.clone(),
        notes,
        units: "received and resolved: dossiers per year; rates: fractions in [0, 1]; turnaround: working days of the legal calendar (citizen time excluded); counter wait: minutes, in-person citizens at their first visit; utilisation: effort minutes over on-duty server minutes (each pool's service hours); intervals: 95% Student-t across replications, clipped to the metric's range, null with one replication",
    }
}
