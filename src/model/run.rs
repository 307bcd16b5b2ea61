//! Running a one-stop scenario: replications in parallel, provinces compiled once, metrics per scope with confidence intervals.

use std::collections::BTreeMap;

use indicatif::ProgressBar;
use serde::Serialize;

use super::{Basis, CompiledProvince, Counts, DossierRouter, POOLS, ProvinceRun};
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
            cells * (months + 1) * counts + p.units.len() as u64 * (months * 8 + 64) + 18 * 1202 * 8
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
    Ok(Prepared {
        scenario: sc,
        provinces,
        overloaded,
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
    pub fn replication(&self, seed: u64, r: u64) -> Result<Vec<ProvinceRun>, ModelError> {
        use rayon::prelude::*;
        let sc = self.scenario;
        self.provinces
            .par_iter()
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
    /// Counter-wait histogram (tier and overall scopes).
    pub counter_wait: Option<Histogram>,
    /// Late dossiers charged to the scope: it held them when their deadline passed.
    pub late_held: u64,
    /// Completed dossiers that passed through the scope (received or resolved there).
    pub handled: u64,
}

impl Scope {
    fn add(&mut self, o: &Scope) {
        self.counts.merge(&o.counts);
        self.open += o.open;
        self.overdue += o.overdue;
        self.late_held += o.late_held;
        self.handled += o.handled;
        for k in 0..3 {
            self.busy[k] += o.busy[k];
            self.capacity[k] += o.capacity[k];
        }
        for (mine, theirs) in [
            (&mut self.turnaround, &o.turnaround),
            (&mut self.counter_wait, &o.counter_wait),
        ] {
            if let Some(h) = theirs {
                mine.get_or_insert_with(Histogram::new).merge(h);
            }
        }
    }

    /// The lateness charged to the scope (holder basis); `per_year` scales counts to a year.
    pub fn holder_metrics(&self, per_year: f64) -> Metrics {
        vec![
            (
                "late_rate",
                if self.handled == 0 {
                    f64::NAN
                } else {
                    self.late_held as f64 / self.handled as f64
                },
            ),
            ("late", self.late_held as f64 * per_year),
            ("handled", self.handled as f64 * per_year),
        ]
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
            ("digitisation_rate", ratio(c.digitised, c.paper)),
            (
                "digitised_with_e_result_rate",
                ratio(c.digitised_766, c.resolved),
            ),
            ("e_result_rate", ratio(c.e_result, c.resolved)),
            ("visits_per_dossier", ratio(c.visits, c.resolved)),
            ("turnaround_mean_days", c.turnaround.mean()),
            ("turnaround_p50_days", q(&self.turnaround, 0.5)),
            ("turnaround_p90_days", q(&self.turnaround, 0.9)),
            ("turnaround_p99_days", q(&self.turnaround, 0.99)),
            ("counter_wait_mean_min", c.counter_wait.mean()),
            ("counter_wait_p90_min", q(&self.counter_wait, 0.9)),
            ("utilisation_clerks", util(0)),
            ("utilisation_specialists", util(1)),
            ("utilisation_leaders", util(2)),
        ]
    }
}

impl Scope {
    /// The simulated rates the indices use; `offered_online` is the share of
    /// the scope's procedures offered online (766 item 3.1).
    pub fn rates(
        &self,
        offered_online: f64,
        ip: &crate::index::IndexParams,
    ) -> crate::index::Rates {
        let c = &self.counts;
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        // An item with nothing to do in the scope (no fee-bearing dossier, no
        // paper result to replace) is met, not failed (assumption).
        let met = |a: f64, b: f64| if b > 0.0 { a / b } else { 1.0 };
        let judged = (c.resolved + self.open) as f64;
        // 766 item 2.1: finished or in progress, within the deadline, over all judged at the period's end.
        let on_time = (c.resolved - c.late_766) as f64 + (self.open - self.overdue) as f64;
        crate::index::Rates {
            on_time_766: ratio(on_time, judged),
            offered_online,
            online_submission: ratio(c.online_766 as f64, c.resolved as f64),
            fees_integrated: ip.i766.fees_integrated,
            online_payment: met(c.paid_online as f64, c.fee as f64),
            e_result: met(c.e_result_paper as f64, c.paper_required as f64),
            digitisation: ratio(c.digitised_766 as f64, c.resolved as f64),
            paper_digitisation: met(c.digitised as f64, c.paper as f64),
            data_reuse: ip.i766.data_reuse,
            late_766: ratio(c.late_766 as f64, c.resolved as f64),
            complaint: ratio(c.complaints, c.resolved as f64),
            apology_cover: met(c.late_with_apology as f64, c.late as f64),
            online: ratio(c.online as f64, c.received as f64),
            satisfaction: ratio(c.satisfaction, c.resolved as f64),
        }
    }

    /// The index figures of the scope: 766 total and groups, PAR share, satisfaction.
    pub fn index_metrics(&self, offered_online: f64, ip: &crate::index::IndexParams) -> Metrics {
        let r = self.rates(offered_online, ip);
        let s = ip.i766.score(&r);
        let mut m: Metrics = vec![("i766_total", s.total)];
        for (g, x) in &s.groups {
            m.push((group_metric(g), *x));
        }
        m.push(("par_tthc_share", ip.par.score(&r).share));
        m.push(("satisfaction", r.satisfaction));
        m.push(("complaint_rate", r.complaint));
        m.push(("on_time_rate_766", r.on_time_766));
        m
    }
}

fn group_metric(g: &str) -> &'static str {
    match g {
        "publicity" => "i766_publicity",
        "timeliness" => "i766_timeliness",
        "online_service" => "i766_online_service",
        "online_payment" => "i766_online_payment",
        "digitisation" => "i766_digitisation",
        _ => "i766_satisfaction",
    }
}

/// Share of procedures received at `tier` (all tiers when `None`) offered online (766 item 3.1).
pub fn offered_online(sc: &Scenario, tier: Option<Tier>) -> f64 {
    let ps: Vec<_> = sc
        .procedures
        .iter()
        .filter(|p| tier.is_none_or(|t| p.tier == t))
        .collect();
    if ps.is_empty() {
        return f64::NAN;
    }
    ps.iter()
        .filter(|p| p.channels[2] + p.channels[3] > 0.0)
        .count() as f64
        / ps.len() as f64
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

/// The scopes of one replication: overall, per tier, per unit, per procedure, per tier × channel.
///
/// Tiers and units come on two bases (see [`Basis`]): `tiers` and `units`
/// count each dossier at its receiving unit, `competent_tiers` and
/// `competent_units` at its competent unit. The holder figures
/// ([`Scope::late_held`], [`Scope::handled`]) are filled on both.
#[derive(Clone, Debug, Default)]
pub struct Scopes {
    /// All provinces together.
    pub overall: Scope,
    /// Per receiving tier present in the scenario.
    pub tiers: BTreeMap<Tier, Scope>,
    /// Per competent tier present in the scenario.
    pub competent_tiers: BTreeMap<Tier, Scope>,
    /// Per (province, unit), by receiving unit.
    pub units: Vec<(String, String, Tier, Scope)>,
    /// Per (province, unit), by competent unit (same order as `units`).
    pub competent_units: Vec<(String, String, Tier, Scope)>,
    /// Per procedure.
    pub procedures: Vec<(String, Tier, Scope)>,
    /// Per (receiving tier, channel).
    pub channels: Vec<(Tier, Channel, Scope)>,
    /// Per province.
    pub provinces: Vec<(String, Scope)>,
    /// All provinces by calendar month (`YYYY-MM`).
    pub months: Vec<(String, Scope)>,
    /// Per receiving tier and month.
    pub tier_months: Vec<(Tier, String, Scope)>,
    /// Per (province, receiving unit) and month.
    pub unit_months: Vec<(String, String, Tier, String, Scope)>,
}

/// Groups one replication's province runs into scopes.
pub fn scopes(sc: &Scenario, runs: &[ProvinceRun]) -> Scopes {
    let mut out = Scopes::default();
    let mut procs: Vec<Scope> = vec![Scope::default(); sc.procedures.len()];
    let mut chans: BTreeMap<(Tier, usize), Scope> = BTreeMap::new();
    let mut months: BTreeMap<String, Scope> = BTreeMap::new();
    let mut tier_months: BTreeMap<(Tier, String), Scope> = BTreeMap::new();
    for (pi, r) in runs.iter().enumerate() {
        let prov = &sc.provinces[pi];
        let labels: Vec<String> = r
            .months
            .iter()
            .map(|(y, mo)| format!("{y:04}-{mo:02}"))
            .collect();
        for (u, unit) in prov.units.iter().enumerate() {
            for (m, label) in labels.iter().enumerate() {
                let mut s = Scope::default();
                for cell in r.cells_of(u, Basis::Receiving) {
                    s.counts.merge(&r.monthly[cell][m]);
                }
                months.entry(label.clone()).or_default().add(&s);
                tier_months
                    .entry((unit.tier, label.clone()))
                    .or_default()
                    .add(&s);
                out.unit_months.push((
                    prov.name.clone(),
                    unit.name.clone(),
                    unit.tier,
                    label.clone(),
                    s,
                ));
            }
        }
        let mut province = Scope::default();
        for (u, unit) in prov.units.iter().enumerate() {
            // Dossiers that passed through the unit: its own cell, and every
            // liên thông cell where it receives or resolves.
            let handled: u64 = r
                .cells_of(u, Basis::Receiving)
                .chain(r.cells_of(u, Basis::Competent).skip(1))
                .map(|cell| r.cells[cell].resolved)
                .sum();
            let late_held: u64 = r.late_held[u].iter().sum();
            let on = |basis: Basis| {
                let mut s = Scope {
                    busy: r.busy[u],
                    capacity: r.capacity[u],
                    late_held,
                    handled,
                    ..Scope::default()
                };
                for cell in r.cells_of(u, basis) {
                    s.counts.merge(&r.cells[cell]);
                    s.open += r.open[cell];
                    s.overdue += r.overdue[cell];
                }
                s
            };
            let (receiving, competent) = (on(Basis::Receiving), on(Basis::Competent));
            out.tiers.entry(unit.tier).or_default().add(&receiving);
            out.competent_tiers
                .entry(unit.tier)
                .or_default()
                .add(&competent);
            province.add(&receiving);
            out.units
                .push((prov.name.clone(), unit.name.clone(), unit.tier, receiving));
            out.competent_units
                .push((prov.name.clone(), unit.name.clone(), unit.tier, competent));
        }
        province.handled = province.counts.resolved;
        out.provinces.push((prov.name.clone(), province));
        for (rt, t) in Tier::ALL.iter().enumerate() {
            for (ct, u) in Tier::ALL.iter().enumerate() {
                let h = Scope {
                    turnaround: Some(r.turnaround[rt][ct].clone()),
                    counter_wait: Some(r.counter_wait[rt][ct].clone()),
                    ..Scope::default()
                };
                if let Some(s) = out.tiers.get_mut(t) {
                    s.add(&h);
                }
                if let Some(s) = out.competent_tiers.get_mut(u) {
                    s.add(&h);
                }
            }
            for (ci, _) in Channel::ALL.iter().enumerate() {
                let cnt = &r.channels[rt][ci];
                if cnt.received > 0 || cnt.resolved > 0 {
                    chans.entry((*t, ci)).or_default().add(&Scope {
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
    // Each dossier once: the overall scope handled what it resolved.
    out.overall.handled = out.overall.counts.resolved;
    // A tier with no units of its own has no competent-basis scope to show.
    out.competent_tiers
        .retain(|_, s| s.counts.received > 0 || s.counts.resolved > 0 || s.open > 0);
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
    out.months = months.into_iter().collect();
    out.tier_months = tier_months
        .into_iter()
        .map(|((t, m), s)| (t, m, s))
        .collect();
    out
}

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
        let range = super::metrics::range_of(name);
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
    /// Units of the figures.
    pub units: &'static str,
}

/// What the three bases of per-tier and per-unit figures count.
pub const BASES: &str = "receiving: each dossier counted at the unit whose desk received it; competent: each dossier counted at the unit competent to resolve it (a commune-filed land dossier resolved at the district counts at the district); holder: late dossiers charged to the unit holding the dossier when its deadline passed (the receiving unit at its desk and in transit from it, the competent unit from its in-tray to the result), over the completed dossiers that passed through the unit";

/// The counting rule of `run`.
pub const RUN_COUNTING_RULE: &str = "dossiers = dossiers completed (result ready for return); events = arrivals and service and delay completions processed by the kernel (staff are always on duty; effort elapses in working time, so there are no capacity events)";

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
    RunSummary {
        scenario: sc.name.clone(),
        scenario_hash: crate::report::output::hex(sc.hash),
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
        units: "received and resolved: dossiers per year; rates: fractions in [0, 1]; turnaround: working days of the legal calendar (citizen time excluded); counter wait: minutes, in-person citizens at their first visit; utilisation: effort minutes over on-duty server minutes (each pool's service hours); intervals: 95% Student-t across replications, clipped to the metric's range, null with one replication",
    }
}

/// The long-format metrics table (`metrics.csv`): one row per replication,
/// scope and metric. Tier and unit rows come on three bases (`basis`:
/// `receiving`, `competent`, `holder`, see [`BASES`]); overall, procedure
/// and channel rows leave `basis` blank.
pub fn metrics_csv(sc: &Scenario, seed: u64, reps: &[Vec<ProvinceRun>]) -> String {
    let per_year = 365.0 / f64::from(sc.horizon_days);
    let mut out = String::from(
        "scenario,scenario_hash,seed,replication,scope,basis,tier,unit,procedure,channel,metric,value\n",
    );
    let name = format!(
        "{},{},{seed}",
        csv_field(&sc.name),
        crate::report::output::hex(sc.hash)
    );
    for (r, runs) in reps.iter().enumerate() {
        let s = scopes(sc, runs);
        let mut rows =
            |scope: &str, basis: &str, tier: &str, unit: &str, proc: &str, ch: &str, m: Metrics| {
                for (metric, value) in m {
                    out.push_str(&format!(
                        "{name},{r},{scope},{basis},{tier},{},{},{ch},{metric},{}\n",
                        csv_field(unit),
                        csv_field(proc),
                        csv_num(value)
                    ));
                }
            };
        let mut overall = s.overall.metrics(per_year);
        overall.extend(s.overall.index_metrics(offered_online(sc, None), &sc.index));
        rows("overall", "", "", "", "", "", overall);
        for (t, sc_) in &s.tiers {
            let mut m = sc_.metrics(per_year);
            m.extend(sc_.index_metrics(offered_online(sc, Some(*t)), &sc.index));
            rows("tier", "receiving", t.name(), "", "", "", m);
        }
        for (t, sc_) in &s.competent_tiers {
            rows(
                "tier",
                "competent",
                t.name(),
                "",
                "",
                "",
                sc_.metrics(per_year),
            );
        }
        for (t, sc_) in &s.tiers {
            rows(
                "tier",
                "holder",
                t.name(),
                "",
                "",
                "",
                sc_.holder_metrics(per_year),
            );
        }
        for (basis, units) in [("receiving", &s.units), ("competent", &s.competent_units)] {
            for (prov, unit, t, sc_) in units {
                rows(
                    "unit",
                    basis,
                    t.name(),
                    &format!("{prov}/{unit}"),
                    "",
                    "",
                    sc_.metrics(per_year),
                );
            }
        }
        for (prov, unit, t, sc_) in &s.units {
            rows(
                "unit",
                "holder",
                t.name(),
                &format!("{prov}/{unit}"),
                "",
                "",
                sc_.holder_metrics(per_year),
            );
        }
        for (id, t, sc_) in &s.procedures {
            rows("procedure", "", t.name(), "", id, "", sc_.metrics(per_year));
        }
        for (t, ch, sc_) in &s.channels {
            rows(
                "channel",
                "",
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

/// Which scope and period a row of index figures describes.
type IndexKey = (&'static str, String, &'static str, String, String);

/// The index figures of every scope and period of one replication, in a fixed order:
/// overall (year, months), provinces, tiers (year, months), units (year, months).
fn index_rows(sc: &Scenario, s: &Scopes) -> Vec<(IndexKey, Metrics)> {
    let ip = &sc.index;
    let all = offered_online(sc, None);
    let tier = |t: Tier| offered_online(sc, Some(t));
    let key = |scope: &'static str, p: &str, t: &'static str, u: &str, period: &str| {
        (scope, p.to_string(), t, u.to_string(), period.to_string())
    };
    let mut rows = vec![(
        key("overall", "", "", "", "year"),
        s.overall.index_metrics(all, ip),
    )];
    for (label, m) in &s.months {
        rows.push((key("overall", "", "", "", label), m.index_metrics(all, ip)));
    }
    for (p, m) in &s.provinces {
        rows.push((key("province", p, "", "", "year"), m.index_metrics(all, ip)));
    }
    for (t, m) in &s.tiers {
        rows.push((
            key("tier", "", t.name(), "", "year"),
            m.index_metrics(tier(*t), ip),
        ));
    }
    for (t, label, m) in &s.tier_months {
        rows.push((
            key("tier", "", t.name(), "", label),
            m.index_metrics(tier(*t), ip),
        ));
    }
    for (p, u, t, m) in &s.units {
        rows.push((
            key("unit", p, t.name(), u, "year"),
            m.index_metrics(tier(*t), ip),
        ));
    }
    for (p, u, t, label, m) in &s.unit_months {
        rows.push((
            key("unit", p, t.name(), u, label),
            m.index_metrics(tier(*t), ip),
        ));
    }
    rows
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// The long-format index table (`index.csv`): per replication, the index
/// figures overall, per province, tier and unit, for the year (`period` =
/// `year`) and each calendar month (`YYYY-MM`, judged on the dossiers
/// completed that month).
pub fn index_csv(sc: &Scenario, seed: u64, reps: &[Vec<ProvinceRun>]) -> String {
    let mut out = String::from(
        "scenario,scenario_hash,seed,replication,scope,province,tier,unit,period,metric,value\n",
    );
    let name = format!(
        "{},{},{seed}",
        csv_field(&sc.name),
        crate::report::output::hex(sc.hash)
    );
    for (r, runs) in reps.iter().enumerate() {
        for ((scope, p, t, u, period), m) in index_rows(sc, &scopes(sc, runs)) {
            for (metric, value) in m {
                out.push_str(&format!(
                    "{name},{r},{scope},{},{t},{},{period},{metric},{}\n",
                    csv_field(&p),
                    csv_field(&u),
                    csv_num(value)
                ));
            }
        }
    }
    out
}

/// The index figures across replications (`index_summary.csv`): for every
/// scope and period of `index.csv`, each metric's mean and 95% CI.
pub fn index_summary_csv(sc: &Scenario, seed: u64, reps: &[Vec<ProvinceRun>]) -> String {
    let mut out = String::from(
        "scenario,scenario_hash,seed,scope,province,tier,unit,period,metric,mean,ci_low,ci_high\n",
    );
    let name = format!(
        "{},{},{seed}",
        csv_field(&sc.name),
        crate::report::output::hex(sc.hash)
    );
    let per_rep: Vec<Vec<(IndexKey, Metrics)>> = reps
        .iter()
        .map(|runs| index_rows(sc, &scopes(sc, runs)))
        .collect();
    let Some(first) = per_rep.first() else {
        return out;
    };
    for (k, (key, _)) in first.iter().enumerate() {
        let metrics: Vec<Metrics> = per_rep.iter().map(|rows| rows[k].1.clone()).collect();
        let (scope, p, t, u, period) = key;
        for (metric, e) in estimates(&metrics) {
            out.push_str(&format!(
                "{name},{scope},{},{t},{},{period},{metric},{},{},{}\n",
                csv_field(p),
                csv_field(u),
                csv_num(e.mean),
                csv_num(e.ci_low),
                csv_num(e.ci_high)
            ));
        }
    }
    out
}
