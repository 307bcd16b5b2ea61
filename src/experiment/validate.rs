//! The analytic validation suite: the engine against Erlang C, Pollaczek–Khinchine, Jackson networks and Little's law.
//!
//! Each check runs independent replications and passes when the analytic
//! value lies inside the replications' confidence interval **and** the
//! relative error of the mean is within the stated tolerance (2% at the
//! reference size, 5% at the quick size used by `cargo test`).
//!
//! The intervals are simultaneous 95% intervals over all the checks of the
//! suite (Bonferroni: each check's interval is at level 1 − 0.05/K for K
//! checks), so a correct engine fails the suite by chance at most 5% of the
//! time, however many checks there are. Per-check 95% intervals would make a
//! suite of 25 checks fail by chance about 72% of the time.

use indicatif::ProgressBar;
use serde::Serialize;

use super::{ExperimentError, run_replications};
use crate::engine::{Dist, Network, NetworkBuilder, RunConfig, RunResult, mix64};
use crate::stats::Summary;
use crate::theory::{mg1_wq, mmc};

/// How large the validation runs are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// About 20 million customers per case: every check within 2%.
    Reference,
    /// A tenth of that, for `cargo test` and `validate --quick`: within 5%.
    Quick,
}

impl Size {
    /// The relative-error tolerance at this size.
    pub fn tolerance(self) -> f64 {
        match self {
            Size::Reference => 0.02,
            Size::Quick => 0.05,
        }
    }
    fn scale(self) -> f64 {
        match self {
            Size::Reference => 1.0,
            Size::Quick => 0.2,
        }
    }
    fn replications(self) -> u64 {
        match self {
            Size::Reference => 20,
            Size::Quick => 10,
        }
    }
}

type Extract = Box<dyn Fn(&RunResult) -> f64 + Send + Sync>;

/// One quantity compared with its analytic value.
pub struct Check {
    /// What is compared (e.g. `Wq`).
    pub metric: String,
    /// The analytic value.
    pub analytic: f64,
    /// The denominator of the relative error (the analytic value, or a
    /// reference magnitude when the analytic value is 0).
    pub scale: f64,
    extract: Extract,
}

/// A network with its run settings and checks.
pub struct Case {
    /// Short name (`mm1-rho0.9`).
    pub name: String,
    /// The network.
    pub network: Network,
    /// Run settings per replication.
    pub cfg: RunConfig,
    /// Replications.
    pub replications: u64,
    /// The checks.
    pub checks: Vec<Check>,
}

fn check(
    metric: &str,
    analytic: f64,
    f: impl Fn(&RunResult) -> f64 + Send + Sync + 'static,
) -> Check {
    Check {
        metric: metric.into(),
        analytic,
        scale: analytic,
        extract: Box::new(f),
    }
}

fn single(c: u32, lambda: f64, service: Dist) -> Network {
    let mut b = NetworkBuilder::new();
    let s = b.station("station", c, service);
    b.poisson(s, lambda);
    match b.build() {
        Ok(n) => n,
        Err(e) => unreachable!("built-in validation network is valid: {e:?}"),
    }
}

fn mmc_case(name: &str, c: u32, lambda: f64, horizon: f64, warmup: f64, size: Size) -> Case {
    let th = mmc(c, lambda, 1.0);
    let mut checks = vec![
        check("Wq", th.wq, |r| r.nodes[0].wait.mean()),
        check("W", th.w, |r| r.nodes[0].sojourn.mean()),
        check("Lq (time-average)", th.lq, |r| r.nodes[0].mean_queue),
        check("utilisation", th.rho, |r| r.nodes[0].utilisation),
    ];
    if c > 1 {
        checks.push(check("P(wait) (Erlang C)", th.p_wait, |r| {
            r.nodes[0].waited as f64 / r.nodes[0].wait.count() as f64
        }));
    }
    Case {
        name: name.into(),
        network: single(c, lambda, Dist::exponential(1.0)),
        cfg: RunConfig::horizon(horizon * size.scale(), warmup * size.scale()),
        replications: size.replications(),
        checks,
    }
}

/// The suite: M/M/1 (ρ = 0.5, 0.9), M/M/10 (λ = 9), M/M/3 (ρ = 0.7), M/D/1
/// (ρ = 0.9), M/G/1 with lognormal service, an open Jackson network
/// commune → district → province, and Little's law.
pub fn suite(size: Size) -> Vec<Case> {
    let s = size.scale();
    let reps = size.replications();
    let mut cases = vec![
        mmc_case("M/M/1 rho=0.5", 1, 0.5, 2.0e6, 1.0e3, size),
        mmc_case("M/M/1 rho=0.9", 1, 0.9, 1.2e6, 2.0e4, size),
        mmc_case("M/M/10 lambda=9", 10, 9.0, 1.2e5, 2.0e3, size),
        mmc_case("M/M/3 rho=0.7", 3, 2.1, 5.0e5, 5.0e3, size),
    ];

    // M/D/1, ρ = 0.9, μ = 1: Wq = ρ / (2μ(1 − ρ)) = 4.5.
    cases.push(Case {
        name: "M/D/1 rho=0.9".into(),
        network: single(1, 0.9, Dist::constant(1.0)),
        cfg: RunConfig::horizon(1.2e6 * s, 2.0e4 * s),
        replications: reps,
        checks: vec![check("Wq (P-K)", mg1_wq(0.9, 1.0, 1.0), |r| {
            r.nodes[0].wait.mean()
        })],
    });

    // M/G/1, lognormal service with mean 1 and sd 1.5, λ = 0.8: Wq = λE[S²]/(2(1 − ρ)) = 6.5.
    let logn = Dist::Lognormal { mean: 1.0, sd: 1.5 };
    let wq = mg1_wq(0.8, logn.mean(), logn.second_moment());
    cases.push(Case {
        name: "M/G/1 lognormal cv=1.5 rho=0.8".into(),
        network: single(1, 0.8, logn),
        cfg: RunConfig::horizon(1.3e6 * s, 2.0e4 * s),
        replications: reps,
        checks: vec![check("Wq (P-K)", wq, |r| r.nodes[0].wait.mean())],
    });

    // Open Jackson network: commune (c = 3), district (c = 2), province (c = 2),
    // μ = 1 everywhere, outside arrivals 2.0 / 0.8 / 0.5, commune → district
    // with p = 0.3, district → province with p = 0.5. Traffic equations:
    // λ = (2.0, 0.8 + 0.6, 0.5 + 0.7) = (2.0, 1.4, 1.2). Each station is an
    // independent M/M/c (Jackson's theorem); the network's mean sojourn is
    // Σ L_i / Σ λ0 by Little's law.
    let mut b = NetworkBuilder::new();
    let c = b.station("commune", 3, Dist::exponential(1.0));
    let d = b.station("district", 2, Dist::exponential(1.0));
    let p = b.station("province", 2, Dist::exponential(1.0));
    b.poisson(c, 2.0).poisson(d, 0.8).poisson(p, 0.5);
    b.route(c, 0, d, 0.3).route(d, 0, p, 0.5);
    let jackson = match b.build() {
        Ok(n) => n,
        Err(e) => unreachable!("built-in Jackson network is valid: {e:?}"),
    };
    let stations = [(3u32, 2.0f64), (2, 1.4), (2, 1.2)];
    let th: Vec<_> = stations.iter().map(|&(c, l)| mmc(c, l, 1.0)).collect();
    let mut checks: Vec<Check> = ["commune", "district", "province"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            check(&format!("Wq {name}"), th[i].wq, move |r| {
                r.nodes[i].wait.mean()
            })
        })
        .collect();
    let sojourn = th.iter().map(|t| t.l).sum::<f64>() / 3.3;
    checks.push(check("network mean sojourn", sojourn, |r| {
        r.network_sojourn.mean()
    }));
    cases.push(Case {
        name: "Jackson commune>district>province".into(),
        network: jackson,
        cfg: RunConfig::horizon(3.0e5 * s, 3.0e3 * s),
        replications: reps,
        checks,
    });

    // Little's law at an M/M/3, ρ = 0.7: the time-average number at the
    // node against λW (analytic), and the sample-path identity L = λ̂Ŵ
    // within each replication (their difference should be 0).
    let th = mmc(3, 2.1, 1.0);
    let little = Check {
        metric: "L - lambda_hat*W_hat (per run)".into(),
        analytic: 0.0,
        scale: th.l,
        extract: Box::new(|r: &RunResult| {
            let n = &r.nodes[0];
            n.mean_in_node - (n.arrivals as f64 / r.window) * n.sojourn.mean()
        }),
    };
    cases.push(Case {
        name: "Little's law M/M/3".into(),
        network: single(3, 2.1, Dist::exponential(1.0)),
        cfg: RunConfig::horizon(5.0e5 * s, 5.0e3 * s),
        replications: reps,
        checks: vec![
            check("L (time-average) vs lambda*W", th.l, |r| {
                r.nodes[0].mean_in_node
            }),
            little,
        ],
    });
    cases
}

/// One row of the validation table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Case name.
    pub case: String,
    /// Metric.
    pub metric: String,
    /// Analytic value.
    pub analytic: f64,
    /// Replications' mean and simultaneous confidence interval.
    pub simulated: Summary,
    /// |mean − analytic| / scale.
    pub rel_error: f64,
    /// Inside the interval and within the tolerance.
    pub pass: bool,
}

/// The outcome of the suite.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// One row per check.
    pub rows: Vec<Row>,
    /// Relative-error tolerance.
    pub tolerance: f64,
    /// Simultaneous confidence level over all checks.
    pub family_level: f64,
    /// Per-check level (Bonferroni).
    pub check_level: f64,
    /// Customers simulated in all.
    pub customers: u64,
    /// Events processed in all.
    pub events: u64,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|r| r.pass)
    }
}

/// Total replications of a suite (for a progress bar).
pub fn total_replications(cases: &[Case]) -> u64 {
    cases.iter().map(|c| c.replications).sum()
}

/// Runs the suite on `threads` threads (0 = all cores).
pub fn run_suite(
    cases: &[Case],
    size: Size,
    seed: u64,
    threads: usize,
    progress: &ProgressBar,
) -> Result<Report, ExperimentError> {
    let k = cases.iter().map(|c| c.checks.len()).sum::<usize>().max(1);
    let family_level = 0.95;
    let check_level = 1.0 - (1.0 - family_level) / k as f64;
    let tolerance = size.tolerance();
    let mut rows = Vec::new();
    let (mut customers, mut events) = (0, 0);
    for (ci, case) in cases.iter().enumerate() {
        // Each case gets its own master seed, so cases are independent.
        let case_seed = mix64(seed ^ mix64(ci as u64));
        let results = run_replications(
            &case.network,
            &case.cfg,
            case_seed,
            case.replications,
            threads,
            progress,
        )?;
        customers += results.iter().map(|r| r.customers).sum::<u64>();
        events += results.iter().map(|r| r.events).sum::<u64>();
        for chk in &case.checks {
            let values: Vec<f64> = results.iter().map(|r| (chk.extract)(r)).collect();
            let simulated = Summary::from_values(&values, check_level);
            let rel_error = (simulated.mean - chk.analytic).abs() / chk.scale.abs();
            rows.push(Row {
                case: case.name.clone(),
                metric: chk.metric.clone(),
                analytic: chk.analytic,
                simulated,
                rel_error,
                pass: simulated.contains(chk.analytic) && rel_error <= tolerance,
            });
        }
    }
    Ok(Report {
        rows,
        tolerance,
        family_level,
        check_level,
        customers,
        events,
    })
}
