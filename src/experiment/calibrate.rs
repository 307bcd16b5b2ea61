//! `motcua calibrate`: fit a scenario's free parameters to a province's
//! reported figures by history matching, and say which parameter ranges the
//! figures are consistent with.
//!
//! The method is history matching (Craig, Goldstein, Seheult & Smith 1997;
//! as applied to epidemic models by Andrianakis et al. 2015, "Bayesian
//! history matching of complex infectious disease models using emulation",
//! *PLoS Computational Biology* 11(1):e1003968; the R package hmer, Iskauskas
//! et al. 2024):
//!
//! 1. **wave design**: a Latin hypercube over the parameters' current box
//!    (wave 1: the bounds the targets file gives; later waves: points the
//!    last wave's emulators do not rule out);
//! 2. **emulators**: per target, a quadratic regression (each parameter and
//!    its square, on the box scaled to [0, 1]) fitted by least squares, with
//!    its residual variance as the emulator's error (it includes the
//!    simulation noise);
//! 3. **implausibility** `I_k(x) = |z_k − f̂_k(x)| / sqrt(σ_k² + e_k²)` with
//!    `z_k` the reported value, `σ_k` its tolerance and `e_k²` the emulator's
//!    error; a point is ruled out when `max_k I_k > 3` (Pukelsheim's
//!    three-sigma rule, as in the references);
//! 4. after the last wave, a simulated point is run again with more
//!    replications (common random numbers) and reported with its intervals:
//!    among the points within every tolerance, the one nearest the scenario
//!    as given, so that what the figures do not pin down is left where the
//!    planner put it (a least-change choice among equally good fits; the
//!    first wave simulates the scenario as given as one more point); the
//!    closest point when none is within.
//!
//! When no simulated point is within every tolerance, the fit is reported as
//! failed and the targets that conflict are named: those ruled out on their
//! own, and the pairs whose emulators leave no point together although each
//! alone does.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::Discipline;
use crate::model::prepare::prepare;
use crate::model::scopes::scopes;
use crate::scenario::domain::{RawChain, Scenario, Tier};

/// One reported figure.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// A metric of the catalogue (`motcua schema outputs`).
    pub metric: String,
    /// `overall` (default), a tier, or a unit name.
    #[serde(default = "overall")]
    pub scope: String,
    /// The reported value.
    pub value: f64,
    /// How far the simulated mean may be from it (absolute, same unit).
    pub tolerance: f64,
    /// The period the figure covers (documentation: the scenario's horizon is what is simulated).
    #[serde(default)]
    pub period: String,
    /// Where the figure comes from.
    #[serde(default)]
    pub source: String,
}

fn overall() -> String {
    "overall".into()
}

/// One free parameter.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// A named field path of the scenario (as in sweeps and `[[edit]]`).
    pub path: String,
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// `set` (the value every selected field takes, default) or `scale` (a
    /// factor on the fields' values as given).
    #[serde(default = "set_mode")]
    pub mode: String,
}

fn set_mode() -> String {
    "set".into()
}

/// A targets file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsFile {
    /// Name of the calibration.
    pub name: String,
    /// The reported figures.
    #[serde(rename = "target")]
    pub targets: Vec<TargetSpec>,
    /// The free parameters.
    #[serde(rename = "parameter")]
    pub parameters: Vec<ParamSpec>,
}

/// Reads and checks a targets file: every error at once.
pub fn parse_targets(text: &str) -> Result<TargetsFile, Vec<String>> {
    let t: TargetsFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        vec![match line {
            Some(l) => format!("line {l}: {}", e.message()),
            None => e.message().to_string(),
        }]
    })?;
    let mut errors = Vec::new();
    if t.targets.is_empty() {
        errors.push("no [[target]]: give at least one reported figure".into());
    }
    if t.parameters.is_empty() {
        errors.push("no [[parameter]]: give at least one free parameter".into());
    }
    for (i, x) in t.targets.iter().enumerate() {
        if crate::model::metrics::lookup(&x.metric).is_none() {
            let names = crate::model::metrics::METRICS.iter().map(|m| m.name);
            let close = crate::field::closest(&x.metric, names);
            errors.push(format!(
                "target[{i}].metric: unknown metric `{}`{}; `motcua schema outputs` lists them",
                x.metric,
                close.map_or(String::new(), |c| format!(" (did you mean `{c}`?)"))
            ));
        }
        if !x.value.is_finite() {
            errors.push(format!("target[{i}].value: must be a finite number"));
        }
        if !(x.tolerance.is_finite() && x.tolerance > 0.0) {
            errors.push(format!(
                "target[{i}].tolerance: must be > 0 (the half-width the fit may miss by, in the metric's unit)"
            ));
        }
    }
    for (i, p) in t.parameters.iter().enumerate() {
        if !(p.min.is_finite() && p.max.is_finite() && p.min < p.max) {
            errors.push(format!(
                "parameter[{i}]: min and max must be finite with min < max (got {} and {})",
                p.min, p.max
            ));
        }
        if p.mode != "set" && p.mode != "scale" {
            errors.push(format!(
                "parameter[{i}].mode: `{}` is neither `set` nor `scale`",
                p.mode
            ));
        }
        if p.mode == "scale" && p.min < 0.0 {
            errors.push(format!("parameter[{i}].min: a scale must be ≥ 0"));
        }
    }
    if errors.is_empty() {
        Ok(t)
    } else {
        Err(errors)
    }
}

/// How the calibration runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Waves.
    pub waves: usize,
    /// Points per wave.
    pub points: usize,
    /// Replications per point.
    pub replications: u64,
    /// Replications of the best point's confirmation.
    pub confirm_replications: u64,
    /// Master seed.
    pub seed: u64,
    /// Implausibility cut-off.
    pub cutoff: f64,
    /// Run only shard `k` of `n` (1-based) of wave `w`: `(k, n, w)`; the
    /// earlier waves must be in the store.
    pub shard: Option<(usize, usize, usize)>,
}

/// One simulated point.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// Wave (1-based).
    pub wave: usize,
    /// Parameter values.
    pub x: Vec<f64>,
    /// Per target, the mean over replications.
    pub y: Vec<f64>,
}

/// A per-target quadratic emulator on the unit box.
#[derive(Clone, Debug, Serialize)]
pub struct Emulator {
    /// Coefficients: constant, then per parameter linear and square.
    pub beta: Vec<f64>,
    /// Residual variance (emulator error, simulation noise included).
    pub error_var: f64,
}

fn features(u: &[f64]) -> Vec<f64> {
    let mut f = Vec::with_capacity(1 + 2 * u.len());
    f.push(1.0);
    for &x in u {
        f.push(x);
        f.push(x * x);
    }
    f
}

impl Emulator {
    /// Fits `y ≈ β·features(u)` by least squares (a small ridge keeps it solvable).
    pub fn fit(us: &[Vec<f64>], ys: &[f64]) -> Self {
        let p = 1 + 2 * us.first().map_or(0, Vec::len);
        let mut a = vec![vec![0.0; p]; p];
        let mut b = vec![0.0; p];
        for (u, &y) in us.iter().zip(ys) {
            let f = features(u);
            for i in 0..p {
                b[i] += f[i] * y;
                for j in 0..p {
                    a[i][j] += f[i] * f[j];
                }
            }
        }
        for (i, row) in a.iter_mut().enumerate() {
            row[i] += 1e-9 * (1.0 + row[i]);
        }
        let beta = solve(a, b);
        let n = us.len();
        let rss: f64 = us
            .iter()
            .zip(ys)
            .map(|(u, &y)| (y - dot(&beta, &features(u))).powi(2))
            .sum();
        let dof = n.saturating_sub(p).max(1);
        Self {
            beta,
            error_var: rss / dof as f64,
        }
    }

    /// The emulated value at `u`.
    pub fn predict(&self, u: &[f64]) -> f64 {
        dot(&self.beta, &features(u))
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let piv = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap_or(c);
        a.swap(c, piv);
        b.swap(c, piv);
        let d = a[c][c];
        if d.abs() < 1e-300 {
            continue;
        }
        for r in c + 1..n {
            let k = a[r][c] / d;
            if k != 0.0 {
                let pivot_row = a[c].clone();
                for (x, p) in a[r][c..].iter_mut().zip(&pivot_row[c..]) {
                    *x -= k * p;
                }
                b[r] -= k * b[c];
            }
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        let s: f64 = (c + 1..n).map(|j| a[c][j] * x[j]).sum();
        x[c] = if a[c][c].abs() < 1e-300 {
            0.0
        } else {
            (b[c] - s) / a[c][c]
        };
    }
    x
}

/// What a wave did.
#[derive(Clone, Debug, Serialize)]
pub struct Wave {
    /// 1-based.
    pub wave: usize,
    /// Points simulated.
    pub points: usize,
    /// Points within every tolerance.
    pub within: usize,
    /// Share of the original box its emulators do not rule out.
    pub non_implausible_share: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// A parameter's range consistent with every target.
#[derive(Clone, Debug, Serialize)]
pub struct ParamRange {
    /// Path.
    pub path: String,
    /// `set` or `scale`.
    pub mode: String,
    /// The bounds given.
    pub min: f64,
    /// The bounds given.
    pub max: f64,
    /// Lowest value not ruled out.
    pub low: f64,
    /// Highest value not ruled out.
    pub high: f64,
    /// The fitted value.
    pub fitted: f64,
    /// (high − low) / (max − min): small = the figures pin it down.
    pub share_of_bounds: f64,
}

/// One target at the fitted point.
#[derive(Clone, Debug, Serialize)]
pub struct Fit {
    /// Metric.
    pub metric: String,
    /// Scope.
    pub scope: String,
    /// Reported value.
    pub reported: f64,
    /// Tolerance.
    pub tolerance: f64,
    /// Replications.
    pub n: u64,
    /// Simulated mean.
    pub simulated: f64,
    /// 95% interval.
    pub ci_low: f64,
    /// 95% interval.
    pub ci_high: f64,
    /// |simulated − reported| ≤ tolerance.
    pub within: bool,
}

/// The outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Calibration {
    /// Whether the fitted point meets every target within its tolerance.
    pub fitted: bool,
    /// The fitted parameter values.
    pub best: Vec<f64>,
    /// Each target at the fitted point.
    pub fit: Vec<Fit>,
    /// Each parameter's range consistent with the targets.
    pub ranges: Vec<ParamRange>,
    /// The waves.
    pub waves: Vec<Wave>,
    /// Every simulated point.
    pub points: Vec<Point>,
    /// Targets ruled out on their own (no parameter value reaches them).
    pub unreachable: Vec<String>,
    /// Pairs of targets that each can be met, but not together.
    pub conflicts: Vec<(String, String)>,
    /// Evaluations (points simulated, the confirmation included).
    pub evaluations: usize,
    /// Replications simulated in all.
    pub replications: u64,
}

/// The scenario at parameter values `x`.
pub fn scenario_at(
    chain: &RawChain,
    file: &std::path::Path,
    params: &[ParamSpec],
    x: &[f64],
) -> Result<Scenario, String> {
    let mut c = chain.clone();
    for (p, &v) in params.iter().zip(x) {
        if p.mode == "scale" {
            c.scale(&p.path, v)
        } else {
            c.set(&p.path, v)
        }
        .map_err(|e| format!("parameter `{}`: {e}", p.path))?;
    }
    c.build(file).map_err(|e| e.to_string())
}

fn target_tier(scope: &str) -> Option<Tier> {
    Tier::ALL.into_iter().find(|t| t.name() == scope)
}

/// Simulates `reps` replications of `sc` and returns, per replication, each target's metric.
pub fn measure(
    sc: &Scenario,
    targets: &[TargetSpec],
    seed: u64,
    reps: std::ops::Range<u64>,
) -> Result<Vec<Vec<f64>>, String> {
    let discipline = if sc.model.edf {
        Discipline::Edf
    } else {
        Discipline::Fifo
    };
    let prepared = prepare(sc, discipline).map_err(|e| e.to_string())?;
    reps.map(|r| {
        let runs = prepared.replication(seed, r).map_err(|e| e.to_string())?;
        let s = scopes(sc, &runs);
        Ok(targets
            .iter()
            .map(|t| {
                let m = t.metric.as_str();
                if t.scope == "overall" {
                    super::size::scope_value(sc, &s.overall, m, None)
                } else if let Some(tier) = target_tier(&t.scope) {
                    s.tiers
                        .get(&tier)
                        .map_or(f64::NAN, |x| super::size::scope_value(sc, x, m, Some(tier)))
                } else {
                    s.units
                        .iter()
                        .find(|(_, u, _, _)| u == &t.scope)
                        .map_or(f64::NAN, |(_, _, tier, x)| {
                            super::size::scope_value(sc, x, m, Some(*tier))
                        })
                }
            })
            .collect())
    })
    .collect()
}

fn mean(v: &[f64]) -> f64 {
    let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Runs the waves and the confirmation.
pub fn calibrate(
    chain: &RawChain,
    file: &std::path::Path,
    spec: &TargetsFile,
    o: &Options,
    store: &dyn PointStore,
    progress: &indicatif::ProgressBar,
    on_wave: &(dyn Fn(&Wave) + Sync),
) -> Result<Calibrated, String> {
    let params = &spec.parameters;
    let targets = &spec.targets;
    let d = params.len();
    let to_unit = |x: &[f64]| -> Vec<f64> {
        x.iter()
            .zip(params)
            .map(|(v, p)| (v - p.min) / (p.max - p.min))
            .collect()
    };
    let from_unit = |u: &[f64]| -> Vec<f64> {
        u.iter()
            .zip(params)
            .map(|(v, p)| p.min + v * (p.max - p.min))
            .collect()
    };
    // Every parameter must reach some field before anything runs.
    scenario_at(chain, file, params, &from_unit(&vec![0.5; d]))?;
    // The scenario as given, on the unit box (clamped to the bounds):
    // factor 1 for `scale`; for `set`, the mean of the values the path
    // selects in the scenario.
    let given: Vec<f64> = params
        .iter()
        .map(|p| {
            let x = if p.mode == "scale" {
                1.0
            } else {
                let v = chain
                    .values(&p.path)
                    .map_err(|e| format!("parameter `{}`: {e}", p.path))?;
                v.iter().sum::<f64>() / v.len().max(1) as f64
            };
            Ok(((x - p.min) / (p.max - p.min)).clamp(0.0, 1.0))
        })
        .collect::<Result<_, String>>()?;
    let mut points: Vec<Point> = Vec::new();
    let mut waves = Vec::new();
    let mut emulators: Vec<Emulator> = Vec::new();
    let mut replications = 0u64;
    let mut confirmations = 0usize;
    let unit_box = vec![(0.0, 1.0); d];
    // Candidates to judge the emulators on (fixed across waves).
    let candidates =
        super::sweep::hypercube(4000.max(200 * d), &unit_box, o.seed, "calibrate-candidates");
    let implausibility = |em: &[Emulator], u: &[f64], only: &[usize]| -> f64 {
        only.iter()
            .map(|&k| {
                let t = &targets[k];
                (t.value - em[k].predict(u)).abs() / (t.tolerance.powi(2) + em[k].error_var).sqrt()
            })
            .fold(0.0, f64::max)
    };
    let all: Vec<usize> = (0..targets.len()).collect();
    // Simulates the points `which` of a design, storing each as it is done
    // (a killed run resumes from the store); results in `which` order.
    let simulate = |which: &[usize], design: &[Vec<f64>], keys: &[u64]| {
        which
            .par_iter()
            .map(|&i| {
                let sc = scenario_at(chain, file, params, &from_unit(&design[i]))?;
                let per = measure(&sc, targets, o.seed, 0..o.replications)?;
                let y: Vec<f64> = (0..targets.len())
                    .map(|k| mean(&per.iter().map(|r| r[k]).collect::<Vec<_>>()))
                    .collect();
                store.put(keys[i], &y)?;
                progress.inc(1);
                Ok(y)
            })
            .collect::<Result<Vec<Vec<f64>>, String>>()
    };
    for w in 1..=o.waves {
        let start = std::time::Instant::now();
        let design: Vec<Vec<f64>> = if emulators.is_empty() {
            // The first wave also simulates the scenario as given: when it
            // already meets every target, it is the least change.
            let mut d = super::sweep::hypercube(
                o.points,
                &unit_box,
                o.seed,
                &format!("calibrate-wave-{w}"),
            );
            d.push(given.clone());
            d
        } else {
            // Points the last emulators do not rule out, in design order;
            // when too few are left, the least implausible.
            let pool = super::sweep::hypercube(
                50 * o.points,
                &unit_box,
                o.seed,
                &format!("calibrate-wave-{w}"),
            );
            let mut scored: Vec<(f64, Vec<f64>)> = pool
                .into_iter()
                .map(|u| (implausibility(&emulators, &u, &all), u))
                .collect();
            let mut ok: Vec<Vec<f64>> = scored
                .iter()
                .filter(|(i, _)| *i <= o.cutoff)
                .map(|(_, u)| u.clone())
                .take(o.points)
                .collect();
            if ok.len() < o.points {
                scored.sort_by(|a, b| a.0.total_cmp(&b.0));
                for (_, u) in scored {
                    if ok.len() >= o.points {
                        break;
                    }
                    if !ok.contains(&u) {
                        ok.push(u);
                    }
                }
            }
            ok
        };
        let keys: Vec<u64> = design
            .iter()
            .map(|u| point_key(chain, spec, o, &from_unit(u)))
            .collect();
        let stored: Vec<Option<Vec<f64>>> = keys
            .iter()
            .map(|&k| store.get(k).filter(|y| y.len() == targets.len()))
            .collect();
        let missing: Vec<usize> = (0..design.len()).filter(|&i| stored[i].is_none()).collect();
        if let Some((k, n, shard_wave)) = o.shard {
            if w < shard_wave && !missing.is_empty() {
                return Err(format!(
                    "wave {w} has {} of its {} points not yet simulated: run its shards (--wave {w} --shard K/{n}) first",
                    missing.len(),
                    design.len()
                ));
            }
            if w == shard_wave {
                let mine: Vec<usize> = missing.iter().copied().filter(|i| i % n == k - 1).collect();
                simulate(&mine, &design, &keys)?;
                return Ok(Calibrated::Shard {
                    wave: w,
                    simulated: mine.len(),
                    of: design.len(),
                });
            }
        }
        let fresh = simulate(&missing, &design, &keys)?;
        replications += o.replications * missing.len() as u64;
        let mut fresh = fresh.into_iter();
        let ys: Vec<Vec<f64>> = stored
            .into_iter()
            .map(|y| y.or_else(|| fresh.next()).unwrap_or_default())
            .collect();
        for (u, y) in design.iter().zip(ys) {
            points.push(Point {
                wave: w,
                x: from_unit(u),
                y,
            });
        }
        // Emulators from every point so far.
        let us: Vec<Vec<f64>> = points.iter().map(|p| to_unit(&p.x)).collect();
        emulators = (0..targets.len())
            .map(|k| {
                let (u, y): (Vec<Vec<f64>>, Vec<f64>) = us
                    .iter()
                    .zip(&points)
                    .filter(|(_, p)| p.y[k].is_finite())
                    .map(|(u, p)| (u.clone(), p.y[k]))
                    .unzip();
                Emulator::fit(&u, &y)
            })
            .collect();
        let share = candidates
            .iter()
            .filter(|u| implausibility(&emulators, u, &all) <= o.cutoff)
            .count() as f64
            / candidates.len() as f64;
        let within = points
            .iter()
            .filter(|p| p.wave == w && distance(p, targets) <= 1.0)
            .count();
        let wave = Wave {
            wave: w,
            points: design.len(),
            within,
            non_implausible_share: share,
            seconds: start.elapsed().as_secs_f64(),
        };
        on_wave(&wave);
        waves.push(wave);
    }
    // The point to confirm: among the simulated points within half of every
    // tolerance (a margin for the noise of few replications), else within
    // every tolerance, the one nearest the scenario as given, so that parameters the
    // figures do not pin down stay where the planner put them; else the
    // closest point. Up to three are confirmed with more replications
    // (common random numbers) until one meets every target.
    let order = confirm_order(&points, targets, |x| {
        let u = to_unit(x);
        u.iter()
            .zip(&given)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
    });
    let mut confirmed = None;
    for &i in order.iter().take(3) {
        let x = points[i].x.clone();
        let sc = scenario_at(chain, file, params, &x)?;
        let per = measure(&sc, targets, o.seed, 0..o.confirm_replications)?;
        replications += o.confirm_replications;
        confirmations += 1;
        let fit = fit_of(targets, &per);
        let ok = fit.iter().all(|f| f.within);
        if confirmed.is_none() || ok {
            confirmed = Some((x, fit));
        }
        if ok {
            break;
        }
    }
    let (best, fit) = confirmed.ok_or("no point was simulated")?;
    let fitted = fit.iter().all(|f| f.within);
    // Ranges: the candidates no target rules out.
    let kept: Vec<&Vec<f64>> = candidates
        .iter()
        .filter(|u| implausibility(&emulators, u, &all) <= o.cutoff)
        .collect();
    let ranges = params
        .iter()
        .enumerate()
        .map(|(j, p)| {
            let (lo, hi) = kept
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), u| {
                    (a.min(u[j]), b.max(u[j]))
                });
            let (low, high) = if kept.is_empty() {
                (f64::NAN, f64::NAN)
            } else {
                (p.min + lo * (p.max - p.min), p.min + hi * (p.max - p.min))
            };
            ParamRange {
                path: p.path.clone(),
                mode: p.mode.clone(),
                min: p.min,
                max: p.max,
                low,
                high,
                fitted: best[j],
                share_of_bounds: (high - low) / (p.max - p.min),
            }
        })
        .collect();
    // Conflicts, when the fit fails.
    let name = |k: usize| format!("{}@{}", targets[k].metric, targets[k].scope);
    let reachable = |only: &[usize]| {
        candidates
            .iter()
            .any(|u| implausibility(&emulators, u, only) <= o.cutoff)
    };
    let mut unreachable = Vec::new();
    let mut conflicts = Vec::new();
    if !fitted {
        for k in 0..targets.len() {
            if !reachable(&[k]) {
                unreachable.push(name(k));
            }
        }
        for a in 0..targets.len() {
            for b in a + 1..targets.len() {
                if reachable(&[a]) && reachable(&[b]) && !reachable(&[a, b]) {
                    conflicts.push((name(a), name(b)));
                }
            }
        }
    }
    Ok(Calibrated::Done(Calibration {
        fitted,
        best,
        fit,
        ranges,
        waves,
        evaluations: points.len() + confirmations,
        points,
        unreachable,
        conflicts,
        replications,
    }))
}

/// Where simulated points are kept between runs and shards (keyed by
/// [`point_key`]); the commands keep them as files.
pub trait PointStore: Sync {
    /// The stored means of a point, if it was simulated.
    fn get(&self, key: u64) -> Option<Vec<f64>>;
    /// Stores a point's means.
    fn put(&self, key: u64, y: &[f64]) -> Result<(), String>;
}

/// What a call of [`calibrate`] did.
#[derive(Clone, Debug)]
pub enum Calibrated {
    /// Every wave ran: the calibration.
    Done(Calibration),
    /// One shard of one wave ran (`Options::shard`).
    Shard {
        /// The wave.
        wave: usize,
        /// Points this shard simulated.
        simulated: usize,
        /// Points of the wave.
        of: usize,
    },
}

/// The key of a point: the scenario as merged, the targets, the parameters,
/// the seed, the replications and the point's values.
pub fn point_key(chain: &RawChain, spec: &TargetsFile, o: &Options, x: &[f64]) -> u64 {
    let mut h = crate::hash::Fnv::new();
    h.write(&chain.fingerprint().to_le_bytes());
    for t in &spec.targets {
        h.write(t.metric.as_bytes());
        h.write(b"@");
        h.write(t.scope.as_bytes());
        h.write(b";");
    }
    for p in &spec.parameters {
        h.write(p.path.as_bytes());
        h.write(p.mode.as_bytes());
        h.write(b";");
    }
    h.write(&o.seed.to_le_bytes());
    h.write(&o.replications.to_le_bytes());
    for v in x {
        h.write(&v.to_bits().to_le_bytes());
    }
    h.finish()
}

/// Each target's summary over the confirmation's replications.
fn fit_of(targets: &[TargetSpec], per: &[Vec<f64>]) -> Vec<Fit> {
    targets
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let v: Vec<f64> = per.iter().map(|r| r[k]).collect();
            let s = crate::stats::Summary::from_values(&v, 0.95);
            Fit {
                metric: t.metric.clone(),
                scope: t.scope.clone(),
                reported: t.value,
                tolerance: t.tolerance,
                n: v.len() as u64,
                simulated: s.mean,
                ci_low: s.ci_low,
                ci_high: s.ci_high,
                within: (s.mean - t.value).abs() <= t.tolerance,
            }
        })
        .collect()
}

/// The order in which simulated points are confirmed: those within half of
/// every tolerance, then those within every tolerance, each nearest first to
/// the scenario as given (`prior`, a squared distance), then the rest,
/// closest to the targets first.
fn confirm_order(
    points: &[Point],
    targets: &[TargetSpec],
    prior: impl Fn(&[f64]) -> f64,
) -> Vec<usize> {
    let key = |p: &Point| {
        let d = distance(p, targets);
        let band = if d <= 0.5 {
            0
        } else if d <= 1.0 {
            1
        } else {
            2
        };
        (band, if band < 2 { prior(&p.x) } else { d })
    };
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        let (ka, kb) = (key(&points[a]), key(&points[b]));
        ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(a.cmp(&b))
    });
    order
}

/// The largest distance of a point's means from the targets, in tolerances.
fn distance(p: &Point, targets: &[TargetSpec]) -> f64 {
    targets
        .iter()
        .zip(&p.y)
        .map(|(t, y)| {
            if y.is_finite() {
                (y - t.value).abs() / t.tolerance
            } else {
                f64::INFINITY
            }
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(value: f64, tolerance: f64) -> TargetSpec {
        TargetSpec {
            metric: "late_rate".into(),
            scope: "overall".into(),
            value,
            tolerance,
            period: String::new(),
            source: String::new(),
        }
    }

    fn point(x: f64, y: f64) -> Point {
        Point {
            wave: 1,
            x: vec![x],
            y: vec![y],
        }
    }

    #[test]
    fn confirmation_prefers_the_fitting_point_nearest_the_scenario_as_given() {
        let targets = [target(0.05, 0.01)];
        let points = [
            point(0.3, 0.0501), // closest to the target, far from the prior
            point(0.9, 0.0470), // within half the tolerance, nearest the prior
            point(1.0, 0.0590), // within the tolerance only, at the prior
            point(1.0, 0.0800), // outside: last
        ];
        let prior = |x: &[f64]| (x[0] - 1.0).powi(2);
        assert_eq!(confirm_order(&points, &targets, prior), vec![1, 0, 2, 3]);
    }

    #[test]
    fn without_a_fitting_point_the_closest_is_confirmed_first() {
        let targets = [target(0.05, 0.01)];
        let points = [point(1.0, 0.09), point(0.2, 0.07), point(0.5, 0.08)];
        let prior = |x: &[f64]| (x[0] - 1.0).powi(2);
        assert_eq!(confirm_order(&points, &targets, prior), vec![1, 2, 0]);
    }
}
