//! Comparing reforms with a base scenario: common random numbers and paired confidence intervals, for the year and each month.
//!
//! Replication `r` of the base and of every reform draw from the same
//! streams (same master seed, same replication, same purposes), so arrivals
//! and decisions coincide wherever the reform leaves the model's structure
//! alone. The difference of a metric is estimated from the per-replication
//! differences (a paired Student-t interval), which is narrower than the
//! unpaired interval whenever the runs are positively correlated; both are
//! reported.

use std::collections::BTreeMap;

use indicatif::ProgressBar;
use serde::Serialize;

use super::replicate;
use super::tables::{Key, index_rows, metrics_rows};
use crate::engine::Discipline;
use crate::model::prepare::{ModelError, OverloadWarning, Prepared, prepare};
use crate::model::scopes::scopes;
use crate::scenario::domain::{Scenario, Tier};
use crate::stats::{Summary, t_quantile};

/// The metrics a comparison reports for the year.
pub const KEY_METRICS: [&str; 16] = [
    "received",
    "resolved",
    "late_rate",
    "on_time_rate",
    "late_rate_766",
    "online_rate",
    "full_online_rate",
    "turnaround_mean_days",
    "counter_wait_mean_min",
    "counter_wait_p90_min",
    "utilisation_clerks",
    "utilisation_specialists",
    "utilisation_leaders",
    "i766_total",
    "par_tthc_share",
    "satisfaction",
];

/// The metrics a comparison reports for each calendar month.
pub const MONTHLY_METRICS: [&str; 4] = [
    "late_rate",
    "i766_total",
    "counter_wait_mean_min",
    "utilisation_specialists",
];

/// One metric of one scope: base, reform, and their difference.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Difference {
    /// Replications paired.
    pub n: usize,
    /// Base mean.
    pub base: f64,
    /// Reform mean.
    pub reform: f64,
    /// Mean difference (reform − base).
    pub diff: f64,
    /// Paired 95% interval of the difference.
    pub ci_low: f64,
    /// Paired 95% interval of the difference.
    pub ci_high: f64,
    /// Half-width of the unpaired (Welch) 95% interval, for comparison.
    pub unpaired_half_width: f64,
    /// Half-width of the base's own 95% interval.
    pub base_half_width: f64,
    /// Half-width of the reform's own 95% interval.
    pub reform_half_width: f64,
}

/// A compared metric: its key, its name and the difference.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The scope and period.
    pub key: Key,
    /// Metric name.
    pub metric: &'static str,
    /// The comparison.
    #[serde(flatten)]
    pub difference: Difference,
}

/// One reform against the base.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReformComparison {
    /// Reform scenario name.
    pub reform: String,
    /// Fingerprint of the reform's files, 16 hex digits.
    pub reform_hash: String,
    /// Every compared metric, overall and per tier (three bases), for the year and each month.
    pub rows: Vec<Row>,
}

impl ReformComparison {
    /// The row of `metric` in the scope named as the table names it
    /// (`overall`, a tier, `competent:<tier>`, `holder:<tier>`), for the year.
    pub fn get(&self, scope: &str, metric: &str) -> Option<&Difference> {
        self.rows
            .iter()
            .find(|r| r.metric == metric && r.key.period == "year" && scope_name(&r.key) == scope)
            .map(|r| &r.difference)
    }
}

/// The overload warnings of one compared scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioWarnings {
    /// Scenario name.
    pub scenario: String,
    /// One warning per overloaded (province, tier, pool).
    pub warnings: Vec<OverloadWarning>,
}

/// The result of `compare` (`comparison.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Base scenario name.
    pub base: String,
    /// Fingerprint of the base's files, 16 hex digits.
    pub base_hash: String,
    /// What the scopes mean.
    pub scopes: &'static str,
    /// Overloaded pools of the base and of each reform (only scenarios with some).
    pub warnings: Vec<ScenarioWarnings>,
    /// Master seed.
    pub seed: u64,
    /// Replications of each scenario.
    pub replications: u64,
    /// One entry per reform, in the order given.
    pub reforms: Vec<ReformComparison>,
}

/// What the scopes of a comparison mean.
pub const COMPARE_SCOPES: &str = "overall: all dossiers; <tier>: by receiving tier (where the dossier was filed); competent:<tier>: by the tier that resolves it; holder:<tier>: late dossiers charged to the tier holding them when the deadline passed, over the dossiers that passed through it; each for the year and each calendar month";

/// The name a table gives the scope of a key: `overall`, a tier (receiving), `competent:<tier>` or `holder:<tier>`.
pub fn scope_name(k: &Key) -> String {
    match (k.tier, k.basis) {
        ("", _) => "overall".into(),
        (t, "receiving") | (t, "") => t.into(),
        (t, b) => format!("{b}:{t}"),
    }
}

/// Scope names in display order.
pub fn scope_order() -> Vec<String> {
    let mut v = vec!["overall".to_string()];
    v.extend(Tier::ALL.iter().map(|t| t.name().to_string()));
    v.extend(Tier::ALL.iter().map(|t| format!("competent:{}", t.name())));
    v.extend(Tier::ALL.iter().map(|t| format!("holder:{}", t.name())));
    v
}

/// The compared values of one replication: (key, metric) → value, in table order.
type Values = Vec<((Key, &'static str), f64)>;

fn values(p: &Prepared<'_>, seed: u64, r: u64) -> Result<Values, ModelError> {
    let sc = p.scenario;
    let runs = p.replication(seed, r)?;
    let s = scopes(sc, &runs);
    let mut out = Values::new();
    for (key, metrics) in metrics_rows(sc, &s).into_iter().chain(index_rows(sc, &s)) {
        if !matches!(key.scope(), "overall" | "tier") {
            continue;
        }
        let wanted: &[&str] = if key.period == "year" {
            &KEY_METRICS
        } else {
            &MONTHLY_METRICS
        };
        for (m, v) in metrics {
            if wanted.contains(&m) {
                out.push(((key.clone(), m), v));
            }
        }
    }
    Ok(out)
}

fn discipline(sc: &Scenario) -> Discipline {
    if sc.model.edf {
        Discipline::Edf
    } else {
        Discipline::Fifo
    }
}

/// Runs `base` and each of `reforms` for `n` replications with common random numbers.
pub fn compare(
    base: &Scenario,
    reforms: &[Scenario],
    seed: u64,
    n: u64,
    threads: usize,
    progress: &ProgressBar,
) -> Result<Comparison, ModelError> {
    let pb = prepare(base, discipline(base))?;
    let pr: Vec<Prepared<'_>> = reforms
        .iter()
        .map(|s| prepare(s, discipline(s)))
        .collect::<Result<_, _>>()?;
    let warnings = std::iter::once(&pb)
        .chain(&pr)
        .map(|p| ScenarioWarnings {
            scenario: p.scenario.name.clone(),
            warnings: p.warnings(),
        })
        .filter(|w| !w.warnings.is_empty())
        .collect();
    // Each replication runs the base and every reform on the same streams.
    type Rep = (Values, Vec<Values>);
    let reps: Vec<Rep> = replicate(n, threads, progress, |r| {
        let b = values(&pb, seed, r)?;
        let rs = pr
            .iter()
            .map(|p| values(p, seed, r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, ModelError>((b, rs))
    })?
    .into_iter()
    .collect::<Result<_, _>>()?;
    let t = t_quantile(0.95, (n.max(2) - 1) as f64);
    let t_unpaired = t_quantile(0.95, (2 * n.max(2) - 2) as f64);
    let mut out = Vec::new();
    for (k, sc) in reforms.iter().enumerate() {
        // (key, metric) → values across replications, for each side.
        let collect = |side: &dyn Fn(&Rep) -> &Values| {
            let mut m: BTreeMap<(Key, &'static str), Vec<f64>> = BTreeMap::new();
            for rep in &reps {
                for (km, v) in side(rep) {
                    m.entry(km.clone()).or_default().push(*v);
                }
            }
            m
        };
        let b = collect(&|rep: &Rep| &rep.0);
        let r = collect(&|rep: &Rep| &rep.1[k]);
        let mut rows = Vec::new();
        // In the base's table order.
        let Some((first, _)) = reps.first() else {
            break;
        };
        for (km, _) in first {
            let (Some(bv), Some(rv)) = (b.get(km), r.get(km)) else {
                continue;
            };
            if bv.len() != rv.len() || bv.iter().chain(rv).any(|x| !x.is_finite()) {
                continue;
            }
            let d: Vec<f64> = bv.iter().zip(rv).map(|(x, y)| y - x).collect();
            let (sb, sr, sd) = (
                Summary::from_values(bv, 0.95),
                Summary::from_values(rv, 0.95),
                Summary::from_values(&d, 0.95),
            );
            let m = d.len();
            let half = if m >= 2 {
                t * sd.sd / (m as f64).sqrt()
            } else {
                f64::NAN
            };
            let unpaired = if m >= 2 {
                t_unpaired * ((sb.sd * sb.sd + sr.sd * sr.sd) / m as f64).sqrt()
            } else {
                f64::NAN
            };
            rows.push(Row {
                key: km.0.clone(),
                metric: km.1,
                difference: Difference {
                    n: m,
                    base: sb.mean,
                    reform: sr.mean,
                    diff: sd.mean,
                    ci_low: sd.mean - half,
                    ci_high: sd.mean + half,
                    unpaired_half_width: unpaired,
                    base_half_width: sb.half_width(),
                    reform_half_width: sr.half_width(),
                },
            });
        }
        out.push(ReformComparison {
            reform: sc.name.clone(),
            reform_hash: crate::hash::hex(sc.hash),
            rows,
        });
    }
    Ok(Comparison {
        base: base.name.clone(),
        base_hash: crate::hash::hex(base.hash),
        scopes: COMPARE_SCOPES,
        warnings,
        seed,
        replications: n,
        reforms: out,
    })
}
