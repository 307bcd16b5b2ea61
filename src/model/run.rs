//! Running a one-stop scenario: replications in parallel, provinces compiled once, metrics per scope with confidence intervals.

use std::collections::BTreeMap;

use indicatif::ProgressBar;
use serde::Serialize;

use super::{CompiledProvince, Counts, DossierRouter, POOLS, ProvinceRun};
use crate::calendar::DAY;
use crate::engine::{Discipline, NetworkError, RunConfig, RunError, Streams, run_with};
use crate::experiment::replicate;
use crate::scenario::domain::{Channel, Scenario, Tier};
use crate::stats::{Histogram, Summary};

/// Why a scenario could not be run: the boundary error of a model run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The province could not be compiled into a network.
    #[error("province `{province}`: cannot build its network: {}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Compile {
        /// Province name.
        province: String,
        /// What went wrong.
        errors: Vec<NetworkError>,
    },
    /// A replication stopped (e.g. its backlog hit the memory bound).
    #[error(
        "province `{province}`, replication {replication}: {source}; see the overload warnings above, raise staff or set model.max_in_flight"
    )]
    Run {
        /// Province name.
        province: String,
        /// Replication.
        replication: u64,
        /// What went wrong.
        source: RunError,
    },
    /// The thread pool could not be built.
    #[error("cannot start the worker threads: {0}; try a smaller --threads")]
    Threads(#[from] rayon::ThreadPoolBuildError),
}

/// A staff pool whose offered load reaches its capacity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overload {
    /// Province.
    pub province: String,
    /// Unit.
    pub unit: String,
    /// Pool.
    pub pool: &'static str,
    /// Offered load over capacity.
    pub rho: f64,
}

/// A compiled scenario, ready to replicate.
pub struct Prepared<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// One compiled network per province.
    pub provinces: Vec<CompiledProvince>,
    /// Pools with ρ ≥ 1: their backlog grows without bound.
    pub overloaded: Vec<Overload>,
    cfg: RunConfig,
}

/// Compiles every province of `sc`.
pub fn prepare(sc: &Scenario, discipline: Discipline) -> Result<Prepared<'_>, ModelError> {
    let end = f64::from(sc.warmup_days + sc.horizon_days) * DAY;
    let mut provinces = Vec::new();
    let mut overloaded = Vec::new();
    for (pi, p) in sc.provinces.iter().enumerate() {
        let cp = CompiledProvince::new(sc, pi, end, discipline).map_err(|errors| {
            ModelError::Compile {
                province: p.name.clone(),
                errors,
            }
        })?;
        for (u, l) in cp.load.iter().enumerate() {
            for k in 0..3 {
                if l[k] >= 1.0 {
                    overloaded.push(Overload {
                        province: p.name.clone(),
                        unit: p.units[u].name.clone(),
                        pool: POOLS[k],
                        rho: l[k],
                    });
                }
            }
        }
        provinces.push(cp);
    }
    let mut cfg = RunConfig::horizon(end, f64::from(sc.warmup_days) * DAY);
    cfg.max_in_flight = sc.model.max_in_flight;
    // Dossiers spend days in delays: hourly buckets keep the event heap small.
    cfg.bucket_width = 60.0;
    Ok(Prepared {
        scenario: sc,
        provinces,
        overloaded,
        cfg,
    })
}

impl Prepared<'_> {
    /// Runs one replication of every province.
    pub fn replication(&self, seed: u64, r: u64) -> Result<Vec<ProvinceRun>, ModelError> {
        let sc = self.scenario;
        self.provinces
            .iter()
            .enumerate()
            .map(|(pi, cp)| {
                let streams = Streams::new(seed, r);
                let mut router = DossierRouter::new(sc, pi, cp, &streams, self.cfg.warmup);
                let result =
                    run_with(&cp.network, &mut router, &self.cfg, streams).map_err(|source| {
                        ModelError::Run {
                            province: sc.provinces[pi].name.clone(),
                            replication: r,
                            source,
                        }
                    })?;
                Ok(router.finish(&result))
            })
            .collect()
    }

    /// Runs `n` replications on `threads` threads (0 = all cores); results in replication order.
    pub fn run(
        &self,
        seed: u64,
        n: u64,
        threads: usize,
        progress: &ProgressBar,
    ) -> Result<Vec<Vec<ProvinceRun>>, ModelError> {
        replicate(n, threads, progress, |r| self.replication(seed, r))?
            .into_iter()
            .collect()
    }
}

/// The metrics of one scope of one replication, in a fixed order.
pub type Metrics = Vec<(&'static str, f64)>;

/// Everything tallied for one scope, merged over units and provinces.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Counts.
    pub counts: Counts,
    /// Open at the end.
    pub open: u64,
    /// Overdue at the end.
    pub overdue: u64,
    /// Effort minutes per pool.
    pub busy: [f64; 3],
    /// On-duty server minutes per pool.
    pub capacity: [f64; 3],
    /// Turnaround histogram (tier and overall scopes).
    pub turnaround: Option<Histogram>,
    /// Desk-wait histogram (tier and overall scopes).
    pub desk_wait: Option<Histogram>,
}

impl Scope {
    fn add(&mut self, o: &Scope) {
        self.counts.merge(&o.counts);
        self.open += o.open;
        self.overdue += o.overdue;
        for k in 0..3 {
            self.busy[k] += o.busy[k];
            self.capacity[k] += o.capacity[k];
        }
        for (mine, theirs) in [
            (&mut self.turnaround, &o.turnaround),
            (&mut self.desk_wait, &o.desk_wait),
        ] {
            if let Some(h) = theirs {
                mine.get_or_insert_with(Histogram::new).merge(h);
            }
        }
    }

    /// The scope's metrics; `per_year` scales counts to a year.
    pub fn metrics(&self, per_year: f64) -> Metrics {
        let c = &self.counts;
        let ratio = |a: u64, b: u64| {
            if b == 0 {
                f64::NAN
            } else {
                a as f64 / b as f64
            }
        };
        let q = |h: &Option<Histogram>, p: f64| h.as_ref().map_or(f64::NAN, |h| h.quantile(p));
        let util = |k: usize| {
            if self.capacity[k] > 0.0 {
                self.busy[k] / self.capacity[k]
            } else {
                f64::NAN
            }
        };
        vec![
            ("received", c.received as f64 * per_year),
            ("resolved", c.resolved as f64 * per_year),
            ("open_at_end", self.open as f64),
            ("overdue_at_end", self.overdue as f64),
            ("late_rate", ratio(c.late, c.resolved)),
            ("on_time_rate", ratio(c.on_time, c.resolved)),
            ("early_rate", ratio(c.early, c.resolved)),
            ("late_rate_766", ratio(c.late_766, c.resolved)),
            (
                "late_with_apology_rate",
                ratio(c.late_with_apology, c.resolved),
            ),
            (
                "late_without_apology_rate",
                ratio(c.late - c.late_with_apology, c.resolved),
            ),
            ("apology_rate", ratio(c.apologies, c.resolved)),
            ("supplement_rate", ratio(c.supplemented, c.resolved)),
            ("second_request_rate", ratio(c.second_requests, c.resolved)),
            ("online_rate", ratio(c.online, c.received)),
            ("full_online_rate", ratio(c.full_online, c.received)),
            ("online_payment_rate", ratio(c.paid_online, c.fee)),
            ("digitisation_rate", ratio(c.digitised, c.resolved)),
            ("e_result_rate", ratio(c.e_result, c.resolved)),
            ("visits_per_dossier", ratio(c.visits, c.resolved)),
            ("turnaround_days_mean", c.turnaround.mean()),
            ("turnaround_days_p50", q(&self.turnaround, 0.5)),
            ("turnaround_days_p90", q(&self.turnaround, 0.9)),
            ("turnaround_days_p99", q(&self.turnaround, 0.99)),
            ("desk_wait_min_mean", c.desk_wait.mean()),
            ("desk_wait_min_p90", q(&self.desk_wait, 0.9)),
            ("utilisation_clerks", util(0)),
            ("utilisation_specialists", util(1)),
            ("utilisation_leaders", util(2)),
        ]
    }
}

/// The scopes of one replication: overall, per tier, per unit, per procedure, per tier × channel.
#[derive(Clone, Debug, Default)]
pub struct Scopes {
    /// All provinces together.
    pub overall: Scope,
    /// Per tier present in the scenario.
    pub tiers: BTreeMap<Tier, Scope>,
    /// Per (province, unit).
    pub units: Vec<(String, String, Tier, Scope)>,
    /// Per procedure.
    pub procedures: Vec<(String, Tier, Scope)>,
    /// Per (tier, channel).
    pub channels: Vec<(Tier, Channel, Scope)>,
}

/// Groups one replication's province runs into scopes.
pub fn scopes(sc: &Scenario, runs: &[ProvinceRun]) -> Scopes {
    let mut out = Scopes::default();
    let mut procs: Vec<Scope> = vec![Scope::default(); sc.procedures.len()];
    let mut chans: BTreeMap<(Tier, usize), Scope> = BTreeMap::new();
    for (pi, r) in runs.iter().enumerate() {
        let prov = &sc.provinces[pi];
        for (u, unit) in prov.units.iter().enumerate() {
            let s = Scope {
                counts: r.units[u].clone(),
                open: r.open[u],
                overdue: r.overdue[u],
                busy: r.busy[u],
                capacity: r.capacity[u],
                turnaround: None,
                desk_wait: None,
            };
            out.tiers.entry(unit.tier).or_default().add(&s);
            out.units
                .push((prov.name.clone(), unit.name.clone(), unit.tier, s));
        }
        for t in Tier::ALL {
            if let Some(s) = out.tiers.get_mut(&t) {
                s.add(&Scope {
                    turnaround: Some(r.turnaround[t.rank()].clone()),
                    desk_wait: Some(r.desk_wait[t.rank()].clone()),
                    ..Scope::default()
                });
            }
            for (ci, _) in Channel::ALL.iter().enumerate() {
                let cnt = &r.channels[t.rank()][ci];
                if cnt.received > 0 || cnt.resolved > 0 {
                    chans.entry((t, ci)).or_default().add(&Scope {
                        counts: cnt.clone(),
                        ..Scope::default()
                    });
                }
            }
        }
        for (k, c) in r.procedures.iter().enumerate() {
            procs[k].add(&Scope {
                counts: c.clone(),
                ..Scope::default()
            });
        }
    }
    for s in out.tiers.values() {
        out.overall.add(s);
    }
    out.procedures = sc
        .procedures
        .iter()
        .zip(procs)
        .map(|(p, s)| (p.id.clone(), p.tier, s))
        .collect();
    out.channels = chans
        .into_iter()
        .map(|((t, ci), s)| (t, Channel::ALL[ci], s))
        .collect();
    out
}

/// A metric across replications.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// Mean.
    pub mean: f64,
    /// Lower end of the 95% interval.
    pub ci_low: f64,
    /// Upper end of the 95% interval.
    pub ci_high: f64,
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
        let v: Vec<f64> = per_rep
            .iter()
            .map(|m| m[k].1)
            .filter(|x| x.is_finite())
            .collect();
        let s = Summary::from_values(&v, 0.95);
        let fix = |x: f64| if x.is_finite() { x } else { s.mean };
        out.insert(
            *name,
            Estimate {
                mean: s.mean,
                ci_low: fix(s.ci_low),
                ci_high: fix(s.ci_high),
            },
        );
    }
    out
}

/// The machine-readable summary of a run (`summary.json`).
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// Scenario name.
    pub scenario: String,
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
    /// Per tier.
    pub tiers: BTreeMap<&'static str, EstimateSet>,
    /// Pools whose offered load reaches their capacity.
    pub overloaded: Vec<Overload>,
    /// Events processed, all replications.
    pub events: u64,
    /// Dossiers completed, all replications (warm-up included).
    pub dossiers: u64,
    /// How events and dossiers are counted.
    pub counting_rule: &'static str,
    /// Units of the figures.
    pub units: &'static str,
}

/// The counting rule of `run`.
pub const RUN_COUNTING_RULE: &str = "dossiers = dossiers completed (result ready for return); events = arrivals, service and delay completions, and staff-capacity changes processed by the kernel";

/// Builds the summary from every replication's province runs.
pub fn summarise(
    sc: &Scenario,
    seed: u64,
    reps: &[Vec<ProvinceRun>],
    overloaded: &[Overload],
) -> RunSummary {
    let per_year = 365.0 / f64::from(sc.horizon_days);
    let all: Vec<Scopes> = reps.iter().map(|r| scopes(sc, r)).collect();
    let overall: Vec<Metrics> = all.iter().map(|s| s.overall.metrics(per_year)).collect();
    let mut tiers = BTreeMap::new();
    for t in Tier::ALL {
        let m: Vec<Metrics> = all
            .iter()
            .filter_map(|s| s.tiers.get(&t))
            .map(|s| s.metrics(per_year))
            .collect();
        if !m.is_empty() {
            tiers.insert(t.name(), estimates(&m));
        }
    }
    RunSummary {
        scenario: sc.name.clone(),
        seed,
        replications: reps.len() as u64,
        horizon_days: sc.horizon_days,
        warmup_days: sc.warmup_days,
        confidence: 0.95,
        overall: estimates(&overall),
        tiers,
        overloaded: overloaded.to_vec(),
        events: reps.iter().flatten().map(|r| r.events).sum(),
        dossiers: reps.iter().flatten().map(|r| r.dossiers).sum(),
        counting_rule: RUN_COUNTING_RULE,
        units: "received and resolved: dossiers per year; rates: fractions in [0, 1]; turnaround: working days (citizen time excluded); desk wait: minutes, in-person dossiers at their first visit; utilisation: effort minutes over on-duty server minutes",
    }
}

/// The long-format metrics table (`metrics.csv`): one row per replication, scope and metric.
pub fn metrics_csv(sc: &Scenario, reps: &[Vec<ProvinceRun>]) -> String {
    let per_year = 365.0 / f64::from(sc.horizon_days);
    let mut out =
        String::from("scenario,replication,scope,tier,unit,procedure,channel,metric,value\n");
    let esc = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let name = esc(&sc.name);
    for (r, runs) in reps.iter().enumerate() {
        let s = scopes(sc, runs);
        let mut rows = |scope: &str, tier: &str, unit: &str, proc: &str, ch: &str, m: Metrics| {
            for (metric, value) in m {
                let v = if value.is_finite() {
                    format!("{value}")
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "{name},{r},{scope},{tier},{},{},{ch},{metric},{v}\n",
                    esc(unit),
                    esc(proc)
                ));
            }
        };
        rows("overall", "", "", "", "", s.overall.metrics(per_year));
        for (t, sc_) in &s.tiers {
            rows("tier", t.name(), "", "", "", sc_.metrics(per_year));
        }
        for (prov, unit, t, sc_) in &s.units {
            rows(
                "unit",
                t.name(),
                &format!("{prov}/{unit}"),
                "",
                "",
                sc_.metrics(per_year),
            );
        }
        for (id, t, sc_) in &s.procedures {
            rows("procedure", t.name(), "", id, "", sc_.metrics(per_year));
        }
        for (t, ch, sc_) in &s.channels {
            rows(
                "channel",
                t.name(),
                "",
                "",
                ch.name(),
                sc_.metrics(per_year),
            );
        }
    }
    out
}
