//! From tallies to metrics: one replication's province runs grouped into scopes (overall, tier, unit on each basis, procedure, channel, month) and each scope's metrics and index figures.

use std::collections::BTreeMap;

use super::{Basis, Counts, ProvinceRun};
use crate::scenario::domain::{Channel, Scenario, Tier};
use crate::stats::Histogram;

/// What the three bases of per-tier and per-unit figures count.
pub const BASES: &str = "receiving: each dossier counted at the unit whose desk received it; competent: each dossier counted at the unit competent to resolve it (a commune-filed land dossier resolved at the district counts at the district); holder: late dossiers charged to the unit holding the dossier when its deadline passed (the receiving unit at its desk and in transit from it, the competent unit from its in-tray to the result), over the completed dossiers that passed through the unit";

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
    /// Counter-wait histogram (overall, tier and receiving-unit scopes).
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
                let mut s = Scope {
                    busy: r.busy_monthly[u][m],
                    capacity: r.capacity_monthly[u][m],
                    ..Scope::default()
                };
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
            let (mut receiving, competent) = (on(Basis::Receiving), on(Basis::Competent));
            out.tiers.entry(unit.tier).or_default().add(&receiving);
            out.competent_tiers
                .entry(unit.tier)
                .or_default()
                .add(&competent);
            province.add(&receiving);
            // The unit's own counter-wait quantiles; the tier's come from the
            // (receiving, competent) tier histograms below, so not added above.
            receiving.counter_wait = Some(r.unit_counter_wait[u].to_histogram());
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
