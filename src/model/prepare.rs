//! Preparing a scenario to run: each province compiled into the engine's network, overloads found before the run, and one replication of every province.

use serde::Serialize;

use super::{CompiledProvince, Counts, DossierRouter, POOLS, ProvinceRun};
use crate::calendar::DAY;
use crate::engine::{Discipline, NetworkError, RunConfig, RunError, Streams, run_with};
use crate::scenario::domain::Scenario;

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
    /// The tallies of the run would not fit the memory limit.
    #[error("{what} would hold about {mib} MiB of tallies, over the limit of {limit} MiB; {hint}")]
    TooLarge {
        /// What would be too large.
        what: String,
        /// Estimated size, MiB.
        mib: u64,
        /// The limit, MiB.
        limit: u64,
        /// What to do instead.
        hint: &'static str,
    },
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

/// The overloaded pools of one (province, tier, pool), grouped: the warning
/// a user sees once per pool, not once per unit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OverloadWarning {
    /// Province.
    pub province: String,
    /// Tier.
    pub tier: &'static str,
    /// Pool.
    pub pool: &'static str,
    /// Units of the tier whose pool is overloaded.
    pub units: usize,
    /// Units of the tier.
    pub of_units: usize,
    /// Lowest offered load over capacity among them.
    pub rho_min: f64,
    /// Highest offered load over capacity among them.
    pub rho_max: f64,
    /// The unit with the highest load.
    pub worst_unit: String,
}

impl std::fmt::Display for OverloadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let load = if (self.rho_max - self.rho_min) < 0.005 {
            format!("{:.0}%", 100.0 * self.rho_max)
        } else {
            format!("{:.0}–{:.0}%", 100.0 * self.rho_min, 100.0 * self.rho_max)
        };
        write!(
            f,
            "{} / {} / {}: {} of {} units overloaded (offered load {load} of capacity; worst: {}); their backlog grows all run: add {} or lower the load",
            self.province,
            self.tier,
            self.pool,
            self.units,
            self.of_units,
            self.worst_unit,
            self.pool
        )
    }
}

/// Groups per-unit overloads into one warning per (province, tier, pool), in scenario order.
pub fn overload_warnings(sc: &Scenario, overloads: &[Overload]) -> Vec<OverloadWarning> {
    let mut out: Vec<OverloadWarning> = Vec::new();
    for o in overloads {
        let Some(prov) = sc.provinces.iter().find(|p| p.name == o.province) else {
            continue;
        };
        let Some(tier) = prov.units.iter().find(|u| u.name == o.unit).map(|u| u.tier) else {
            continue;
        };
        match out
            .iter_mut()
            .find(|w| w.province == o.province && w.tier == tier.name() && w.pool == o.pool)
        {
            Some(w) => {
                w.units += 1;
                w.rho_min = w.rho_min.min(o.rho);
                if o.rho > w.rho_max {
                    w.rho_max = o.rho;
                    w.worst_unit = o.unit.clone();
                }
            }
            None => out.push(OverloadWarning {
                province: o.province.clone(),
                tier: tier.name(),
                pool: o.pool,
                units: 1,
                of_units: prov.units.iter().filter(|u| u.tier == tier).count(),
                rho_min: o.rho,
                rho_max: o.rho,
                worst_unit: o.unit.clone(),
            }),
        }
    }
    out
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
    /// Estimated tally memory of one replication, bytes.
    pub tally_bytes: u64,
    /// Province indices, most dossiers expected first: the order in which
    /// [`Prepared::replication`] hands provinces to threads.
    heaviest_first: Vec<usize>,
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
    let months = u64::from(sc.warmup_days + sc.horizon_days) / 28 + 2;
    let tally_bytes: u64 = provinces
        .iter()
        .zip(&sc.provinces)
        .map(|(cp, p)| {
            let cells = cp.n_cells() as u64;
            let counts = std::mem::size_of::<Counts>() as u64;
            cells * (months + 1) * counts
                + p.units.len() as u64 * (months * 8 + 64 + 1202 * 8)
                + 18 * 1202 * 8
        })
        .sum();
    let limit = crate::scenario::limits::MAX_TALLY_BYTES;
    if tally_bytes > limit / 4 {
        return Err(ModelError::TooLarge {
            what: "one replication".into(),
            mib: tally_bytes >> 20,
            limit: (limit / 4) >> 20,
            hint: "shorten the horizon or split the scenario",
        });
    }
    let mut cfg = RunConfig::horizon(end, f64::from(sc.warmup_days) * DAY);
    cfg.max_in_flight = sc.model.max_in_flight;
    // Dossiers spend days in delays: one-minute buckets keep the event heap
    // to the next minute's events (measured: 0.5–2 minutes are equally fast,
    // 5 minutes 3% and 15 minutes 7% slower, finer than 0.25 slower again).
    cfg.bucket_width = 1.0;
    // The router keeps its own tallies per dossier.
    cfg.per_class = false;
    cfg.sojourn_tallies = false;
    // Expected dossiers per time unit of each province.
    let expected: Vec<f64> = provinces
        .iter()
        .map(|cp| {
            let sources = cp.network.sources().iter();
            sources.map(|s| s.arrivals.mean_rate()).sum()
        })
        .collect();
    let mut heaviest_first: Vec<usize> = (0..provinces.len()).collect();
    heaviest_first.sort_by(|&a, &b| expected[b].total_cmp(&expected[a]).then(a.cmp(&b)));
    Ok(Prepared {
        scenario: sc,
        provinces,
        overloaded,
        heaviest_first,
        cfg,
        tally_bytes,
    })
}

impl Prepared<'_> {
    /// Checks that `n` replications' tallies fit [`crate::scenario::limits::MAX_TALLY_BYTES`]
    /// (`run` keeps every replication's tallies for its outputs).
    pub fn check_replications(&self, n: u64) -> Result<(), ModelError> {
        let limit = crate::scenario::limits::MAX_TALLY_BYTES;
        let total = self.tally_bytes.saturating_mul(n);
        if total > limit {
            return Err(ModelError::TooLarge {
                what: format!("{n} replications"),
                mib: total >> 20,
                limit: limit >> 20,
                hint: "use fewer replications, or a sweep (which keeps one point per thread in memory)",
            });
        }
        Ok(())
    }

    /// The overload warnings of the scenario, one per (province, tier, pool).
    pub fn warnings(&self) -> Vec<OverloadWarning> {
        overload_warnings(self.scenario, &self.overloaded)
    }

    /// Runs one replication of every province. Provinces exchange no
    /// dossiers, so they run in parallel (on the current rayon pool); the
    /// results come back in province order whatever the thread count.
    ///
    /// Threads take the provinces one at a time from a shared list, most
    /// expected dossiers first (greedy list scheduling in longest-first
    /// order, Graham 1969, "Bounds on multiprocessing timing anomalies",
    /// SIAM J. Appl. Math. 17(2)): the last province to finish is a small
    /// one, so no thread waits long on another at the end. A province's
    /// random streams depend on its index only, so the order changes no
    /// result. On an error no further province is started, and the error of
    /// the first failed province (in province order) is returned.
    pub fn replication(&self, seed: u64, r: u64) -> Result<Vec<ProvinceRun>, ModelError> {
        use rayon::prelude::*;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
        let sc = self.scenario;
        let run_one = |pi: usize| {
            let cp = &self.provinces[pi];
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
        };
        let (next, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
        let workers = rayon::current_num_threads().min(self.provinces.len());
        let mut done: Vec<(usize, Result<ProvinceRun, ModelError>)> = (0..workers)
            .into_par_iter()
            .flat_map_iter(|_| {
                std::iter::from_fn(|| {
                    if failed.load(Relaxed) {
                        return None;
                    }
                    let &pi = self.heaviest_first.get(next.fetch_add(1, Relaxed))?;
                    let result = run_one(pi);
                    failed.fetch_or(result.is_err(), Relaxed);
                    Some((pi, result))
                })
            })
            .collect();
        done.sort_by_key(|(pi, _)| *pi);
        done.into_iter().map(|(_, result)| result).collect()
    }
}
