//! Comparing reforms with a base scenario: common random numbers and paired confidence intervals.
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

use super::run::{Metrics, ModelError, OverloadWarning, Prepared, offered_online, prepare, scopes};
use crate::engine::Discipline;
use crate::experiment::replicate;
use crate::scenario::domain::{Scenario, Tier};
use crate::stats::{Summary, t_quantile};

/// The metrics a comparison reports.
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

/// One metric of one scope: base, reform, and their difference.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Difference {
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
}

/// One reform against the base.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReformComparison {
    /// Reform scenario name.
    pub reform: String,
    /// Fingerprint of the reform's files, 16 hex digits.
    pub reform_hash: String,
    /// Scope (`overall` or a tier) → metric → difference.
    pub scopes: BTreeMap<String, BTreeMap<&'static str, Difference>>,
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
    /// What the scopes mean: `overall`, a tier (by receiving tier),
    /// `competent:<tier>` (by competent tier) and `holder:<tier>` (lateness
    /// charged to the tier holding the dossier when its deadline passed).
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

/// The key metrics of every scope of one replication: `overall` and each tier.
fn key_metrics(
    p: &Prepared<'_>,
    seed: u64,
    r: u64,
) -> Result<BTreeMap<String, Metrics>, ModelError> {
    let sc = p.scenario;
    let runs = p.replication(seed, r)?;
    let s = scopes(sc, &runs);
    let per_year = 365.0 / f64::from(sc.horizon_days);
    let pick = |mut m: Metrics, idx: Metrics| {
        m.extend(idx);
        m.retain(|(k, _)| KEY_METRICS.contains(k));
        m
    };
    let mut out = BTreeMap::new();
    out.insert(
        "overall".to_string(),
        pick(
            s.overall.metrics(per_year),
            s.overall.index_metrics(offered_online(sc, None), &sc.index),
        ),
    );
    for (t, scope) in &s.tiers {
        out.insert(
            t.name().to_string(),
            pick(
                scope.metrics(per_year),
                scope.index_metrics(offered_online(sc, Some(*t)), &sc.index),
            ),
        );
        let mut late = scope.holder_metrics(per_year);
        late.retain(|(k, _)| *k == "late_rate");
        out.insert(format!("holder:{}", t.name()), late);
    }
    for (t, scope) in &s.competent_tiers {
        let mut late = scope.metrics(per_year);
        late.retain(|(k, _)| *k == "late_rate");
        out.insert(format!("competent:{}", t.name()), late);
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
    type RepMetrics = (BTreeMap<String, Metrics>, Vec<BTreeMap<String, Metrics>>);
    let reps: Vec<RepMetrics> = replicate(n, threads, progress, |r| {
        let b = key_metrics(&pb, seed, r)?;
        let rs = pr
            .iter()
            .map(|p| key_metrics(p, seed, r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, ModelError>((b, rs))
    })?
    .into_iter()
    .collect::<Result<_, _>>()?;
    let t = t_quantile(0.95, (n.max(2) - 1) as f64);
    let t_unpaired = t_quantile(0.95, (2 * n.max(2) - 2) as f64);
    let mut out = Vec::new();
    for (k, sc) in reforms.iter().enumerate() {
        let mut scopes_out = BTreeMap::new();
        let Some((first, _)) = reps.first() else {
            break;
        };
        for scope in first.keys() {
            if !reps
                .iter()
                .all(|(b, rs)| b.contains_key(scope) && rs[k].contains_key(scope))
            {
                continue;
            }
            let mut metrics = BTreeMap::new();
            for (mi, (name, _)) in first[scope].iter().enumerate() {
                let b: Vec<f64> = reps.iter().map(|(b, _)| b[scope][mi].1).collect();
                let r: Vec<f64> = reps.iter().map(|(_, rs)| rs[k][scope][mi].1).collect();
                let d: Vec<f64> = b.iter().zip(&r).map(|(x, y)| y - x).collect();
                if d.iter().any(|x| !x.is_finite()) {
                    continue;
                }
                let (sb, sr, sd) = (
                    Summary::from_values(&b, 0.95),
                    Summary::from_values(&r, 0.95),
                    Summary::from_values(&d, 0.95),
                );
                let half = if n >= 2 {
                    t * sd.sd / (n as f64).sqrt()
                } else {
                    f64::INFINITY
                };
                let unpaired = if n >= 2 {
                    t_unpaired * ((sb.sd * sb.sd + sr.sd * sr.sd) / n as f64).sqrt()
                } else {
                    f64::INFINITY
                };
                metrics.insert(
                    *name,
                    Difference {
                        base: sb.mean,
                        reform: sr.mean,
                        diff: sd.mean,
                        ci_low: sd.mean - half,
                        ci_high: sd.mean + half,
                        unpaired_half_width: unpaired,
                    },
                );
            }
            scopes_out.insert(scope.clone(), metrics);
        }
        out.push(ReformComparison {
            reform: sc.name.clone(),
            reform_hash: crate::report::output::hex(sc.hash),
            scopes: scopes_out,
        });
    }
    Ok(Comparison {
        base: base.name.clone(),
        base_hash: crate::report::output::hex(base.hash),
        scopes: COMPARE_SCOPES,
        warnings,
        seed,
        replications: n,
        reforms: out,
    })
}

/// The long-format comparison table (`comparison.csv`).
pub fn comparison_csv(c: &Comparison) -> String {
    let mut out = String::from(
        "base,base_hash,reform,reform_hash,seed,scope,metric,base_mean,reform_mean,diff,diff_ci_low,diff_ci_high,unpaired_half_width\n",
    );
    let num = |x: f64| {
        if x.is_finite() {
            format!("{x}")
        } else {
            String::new()
        }
    };
    for r in &c.reforms {
        for (scope, m) in &r.scopes {
            for (metric, d) in m {
                out.push_str(&format!(
                    "{},{},{},{},{},{scope},{metric},{},{},{},{},{},{}\n",
                    c.base,
                    c.base_hash,
                    r.reform,
                    r.reform_hash,
                    c.seed,
                    num(d.base),
                    num(d.reform),
                    num(d.diff),
                    num(d.ci_low),
                    num(d.ci_high),
                    num(d.unpaired_half_width)
                ));
            }
        }
    }
    out
}

/// What the scopes of a comparison mean.
pub const COMPARE_SCOPES: &str = "overall: all dossiers; <tier>: by receiving tier (where the dossier was filed); competent:<tier>: by the tier that resolves it; holder:<tier>: late dossiers charged to the tier holding them when the deadline passed, over the dossiers that passed through it";

/// Scope names in display order.
pub fn scope_order() -> Vec<String> {
    let mut v = vec!["overall".to_string()];
    v.extend(Tier::ALL.iter().map(|t| t.name().to_string()));
    v.extend(Tier::ALL.iter().map(|t| format!("competent:{}", t.name())));
    v.extend(Tier::ALL.iter().map(|t| format!("holder:{}", t.name())));
    v
}
