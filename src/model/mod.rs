//! The one-stop model: compiles a province into the engine's network and drives it with a router that carries each dossier's life.
//!
//! Per unit there are three stations: the desk (clerks), appraisal
//! (specialists) and approval (leaders), each working office hours only.
//! Effort is in working minutes: work in hand at closing is resumed at the
//! next opening (no overtime), so a server keeps its dossier overnight, and
//! a dossier taken in hand after closing is worked from the next opening.
//! Servers therefore stay "on duty" in the kernel and the calendar does the
//! rest: a server free at closing takes the next dossier at once and works
//! it at the next opening, exactly as if it picked it up then (FIFO and
//! priority order are the same; under EDF the pick is made at closing, not
//! at opening), with no capacity events. The first-visit desk wait counts to
//! the next opening. Utilisation is effort over on-duty server time
//! (servers × working minutes). Two delay nodes carry the time a dossier spends
//! with the citizen (supplements) and in liên thông transfer between units.
//! Two sources feed the province: counter arrivals (in person and post, in
//! office hours, by hour-of-day profile) and online arrivals (any hour);
//! each is one non-homogeneous Poisson stream split over (unit, procedure,
//! channel) by alias sampling, which is exact because Poisson streams superpose.
//!
//! A dossier's life (the [`DossierRouter`]):
//! 1. desk check; incomplete (first visit only) → one written supplement
//!    request, the citizen returns after the supplement delay (in office
//!    hours for paper) and the desk checks again;
//! 2. receipt: the appointment is set from the deadline in working days
//!    (15:00 cut-off); paper dossiers are digitised with some probability;
//! 3. liên thông transfer to the competent unit when it is another one,
//!    then the in-tray time before a specialist takes it up (assignment);
//! 4. appraisal (then the in-tray time before the leader signs); a deficient dossier gets one supplement request (the
//!    citizen's time is excluded from the deadline clock by moving the
//!    appointment; if the dossier already had a desk request, this second
//!    request makes it late under the 766 rules);
//! 5. approval, transfer back if needed; completion = result ready for return.
//! 6. late = completed after the appointment; an agency that sees the
//!    dossier still open one working day before the deadline sends an
//!    apology with probability `apology_compliance`.

pub mod compare;
pub mod run;

use rand_distr::Distribution;
use rand_distr::weighted::WeightedAliasIndex;

use rand::SeedableRng;
use rand_xoshiro::SplitMix64;

use crate::calendar::{DAY, WorkCalendar};
use crate::engine::{
    Arrivals, Class, Customer, Discipline, Dist, Network, NetworkError, Node, NodeId, NodeKind,
    Router, Sampler, Segment, Source, Stream, Streams, Target, mix64, unit,
};
use crate::scenario::domain::{Channel, Procedure, Province, Scenario, Tier, Transfer};
use crate::stats::{Histogram, Tally};

/// Minutes in a standard working day (07:30–11:30, 13:30–17:00), for turnaround in working days.
pub const WORKING_DAY_MINUTES: f64 = 450.0;

/// The three staff pools of a unit.
pub const POOLS: [&str; 3] = ["clerks", "specialists", "leaders"];

/// A province compiled for the engine.
pub struct CompiledProvince {
    /// The engine network.
    pub network: Network,
    /// Station of pool `k` of unit `u`: `stations[u][k]`.
    pub stations: Vec<[NodeId; 3]>,
    citizen: NodeId,
    transfer: NodeId,
    handoff_node: NodeId,
    /// In-tray delay per procedure, working days (`None`: no delay).
    handoff: Vec<Option<Sampler>>,
    /// Entry cells (unit, procedure, channel) and their alias tables, per source.
    cells: Vec<Vec<(u32, u16, Channel)>>,
    alias: Vec<WeightedAliasIndex<f64>>,
    /// Competent unit per (receiving unit, procedure).
    competent: Vec<Vec<u32>>,
    supplement: Vec<Sampler>,
    /// Effort samplers per procedure and pool (working minutes).
    effort: Vec<[Sampler; 3]>,
    /// Node → (unit, pool) for stations.
    station_of: Vec<Option<(u32, u8)>>,
    electronic: Sampler,
    paper: Sampler,
    /// Offered load per unit and pool (long-run busy servers over mean servers on duty).
    pub load: Vec<[f64; 3]>,
}

/// The first ancestor of `u` at tier `t` (or `u` itself).
fn ancestor(units: &[crate::scenario::domain::Unit], mut u: usize, t: Tier) -> Option<usize> {
    loop {
        if units[u].tier == t {
            return Some(u);
        }
        u = units[u].parent?;
    }
}

fn sampler(d: &Dist) -> Result<Sampler, Vec<NetworkError>> {
    d.sampler().map_err(|es| {
        es.into_iter()
            .map(|error| NetworkError::Dist {
                place: "scenario".into(),
                error,
            })
            .collect()
    })
}

/// Arrival-rate segments over `[0, end)` for a yearly volume `per_year`.
///
/// Daily volumes are normalised over the tallied window (after the warm-up),
/// so that the window receives exactly `per_year × horizon / 365` dossiers in expectation.
fn arrival_segments(
    sc: &Scenario,
    end: f64,
    per_year: f64,
    online: bool,
    backlog: f64,
) -> Vec<Segment> {
    let cal = &sc.calendar;
    // A transition shock's backlog arrives on its first working day (any day online).
    let backlog_day = sc.model.shock.as_ref().filter(|_| backlog > 0.0).map(|sh| {
        let d = WorkCalendar::day_of(sh.start);
        if online {
            d
        } else {
            cal.add_working_days(d, 0)
        }
    });
    let days = (end / DAY).ceil() as i64;
    let pr = &sc.profiles;
    let day_weight = |d: i64| {
        let date = cal.date(d);
        use chrono::Datelike;
        let w = pr.month[date.month0() as usize]
            * pr.weekday[date.weekday().num_days_from_monday() as usize];
        if online || cal.is_working_day(d) {
            w
        } else {
            0.0
        }
    };
    let first = i64::from(sc.warmup_days).min(days - 1);
    let mean_w = (first..days).map(day_weight).sum::<f64>() / (days - first) as f64;
    let mut segs = Vec::new();
    let mut cursor = 0.0;
    let push = |s: f64, e: f64, rate: f64, segs: &mut Vec<Segment>, cursor: &mut f64| {
        if s > *cursor {
            segs.push(Segment {
                duration: s - *cursor,
                rate: 0.0,
            });
        }
        if e > s {
            segs.push(Segment {
                duration: e - s,
                rate,
            });
            *cursor = e;
        }
    };
    for d in 0..days {
        let w = day_weight(d);
        if w <= 0.0 || mean_w <= 0.0 {
            continue;
        }
        let volume =
            per_year / 365.0 * w / mean_w + if backlog_day == Some(d) { backlog } else { 0.0 };
        let base = d as f64 * DAY;
        if online {
            let total: f64 = pr.online_hour.iter().sum::<f64>() * 60.0;
            for (h, &hw) in pr.online_hour.iter().enumerate() {
                let s = base + h as f64 * 60.0;
                push(
                    s,
                    (s + 60.0).min(end),
                    volume * hw / total,
                    &mut segs,
                    &mut cursor,
                );
            }
        } else {
            // Office pieces split at hour boundaries, weighted by the hour profile.
            let mut pieces = Vec::new();
            for (s, e) in cal.open_intervals(base, base + DAY) {
                let mut a = s;
                while a < e {
                    let h = ((a - base) / 60.0).floor();
                    let b = (base + (h + 1.0) * 60.0).min(e);
                    pieces.push((a, b, pr.hour[h as usize]));
                    a = b;
                }
            }
            let total: f64 = pieces.iter().map(|(a, b, w)| (b - a) * w).sum();
            if total <= 0.0 {
                // The hour profile is zero over the office hours: spread evenly.
                let open: f64 = pieces.iter().map(|(a, b, _)| b - a).sum();
                for (a, b, _) in pieces {
                    push(a, b, volume / open, &mut segs, &mut cursor);
                }
            } else {
                for (a, b, hw) in pieces {
                    push(a, b, volume * hw / total, &mut segs, &mut cursor);
                }
            }
        }
        if cursor >= end {
            break;
        }
    }
    segs.push(Segment {
        duration: 1e15,
        rate: 0.0,
    });
    segs
}

impl CompiledProvince {
    /// Compiles province `pi` of `sc` for a run of `end` minutes.
    pub fn new(
        sc: &Scenario,
        pi: usize,
        end: f64,
        discipline: Discipline,
    ) -> Result<Self, Vec<NetworkError>> {
        let prov: &Province = &sc.provinces[pi];
        let cal = &sc.calendar;
        let np = sc.procedures.len();
        let classes: Vec<Class> = sc
            .procedures
            .iter()
            .map(|p| Class {
                name: p.id.clone(),
                priority: 0,
                due: None,
            })
            .collect();
        let mut nodes = Vec::new();
        let mut stations = Vec::new();
        for u in &prov.units {
            let mut ids = [0; 3];
            for (k, pool) in POOLS.iter().enumerate() {
                let service = sc
                    .procedures
                    .iter()
                    .map(|p| match k {
                        0 => p.desk_minutes.clone(),
                        1 => p.appraisal_minutes.clone(),
                        _ => p.approval_minutes.clone(),
                    })
                    .collect();
                ids[k] = nodes.len();
                nodes.push(Node {
                    name: format!("{}/{}", u.name, pool),
                    kind: NodeKind::Station {
                        // Always on duty: effort elapses in working time, so a
                        // dossier taken in hand after closing is worked from the
                        // next opening, as if picked up then.
                        servers: u.servers[k],
                        discipline,
                        schedule: None,
                    },
                    service,
                });
            }
            stations.push(ids);
        }
        let zero = vec![Dist::constant(0.0); np];
        let citizen = nodes.len();
        nodes.push(Node {
            name: "citizen".into(),
            kind: NodeKind::Delay,
            service: zero.clone(),
        });
        let transfer = nodes.len();
        nodes.push(Node {
            name: "transfer".into(),
            kind: NodeKind::Delay,
            service: zero.clone(),
        });
        let handoff_node = nodes.len();
        nodes.push(Node {
            name: "in-tray".into(),
            kind: NodeKind::Delay,
            service: zero,
        });

        // Competent units and entry cells.
        let mut competent = vec![vec![u32::MAX; np]; prov.units.len()];
        let mut cells: Vec<Vec<(u32, u16, Channel)>> = vec![Vec::new(), Vec::new()];
        let mut weights: Vec<Vec<f64>> = vec![Vec::new(), Vec::new()];
        let mut load = vec![[0.0f64; 3]; prov.units.len()];
        let open_fraction = cal.working_minutes_between(0.0, end) / end;
        for (ui, u) in prov.units.iter().enumerate() {
            for (pi_, p) in sc.procedures.iter().enumerate() {
                if p.tier != u.tier {
                    continue;
                }
                let Some(c) = ancestor(&prov.units, ui, p.competent_tier) else {
                    continue;
                };
                competent[ui][pi_] = c as u32;
                let volume = p.volume_per_unit * u.size;
                for (ci, ch) in Channel::ALL.iter().enumerate() {
                    let w = volume * p.channels[ci];
                    if w > 0.0 {
                        let s = usize::from(ch.online());
                        cells[s].push((ui as u32, pi_ as u16, *ch));
                        weights[s].push(w);
                    }
                }
                // Offered work per minute (visits × mean effort), by pool.
                let per_min = volume / (365.0 * DAY);
                let desk_visits = 1.0 + p.incomplete_at_desk + p.incomplete_at_appraisal;
                load[ui][0] += per_min * desk_visits * p.desk_minutes.mean();
                load[c][1] +=
                    per_min * (1.0 + p.incomplete_at_appraisal) * p.appraisal_minutes.mean();
                load[c][2] += per_min * p.approval_minutes.mean();
            }
        }
        for (l, u) in load.iter_mut().zip(&prov.units) {
            for (x, &servers) in l.iter_mut().zip(&u.servers) {
                *x /= f64::from(servers) * open_fraction;
            }
        }
        let mut sources = Vec::new();
        let mut alias = Vec::new();
        let mut kept_cells = Vec::new();
        let all_year: f64 = weights.iter().flatten().sum();
        for s in 0..2 {
            let per_year: f64 = weights[s].iter().sum();
            if per_year <= 0.0 {
                continue;
            }
            let backlog = sc
                .model
                .shock
                .as_ref()
                .map_or(0.0, |sh| sh.backlog * per_year / all_year);
            sources.push(Source {
                name: if s == 0 {
                    "counter".into()
                } else {
                    "online".into()
                },
                class: 0,
                node: stations[cells[s][0].0 as usize][0],
                arrivals: Arrivals::Profile {
                    segments: arrival_segments(sc, end, per_year, s == 1, backlog),
                },
            });
            alias.push(WeightedAliasIndex::new(weights[s].clone()).map_err(|e| {
                vec![NetworkError::Dist {
                    place: "arrival mix".into(),
                    error: crate::engine::DistError {
                        field: "weights".into(),
                        message: e.to_string(),
                    },
                }]
            })?);
            kept_cells.push(std::mem::take(&mut cells[s]));
        }
        let mut station_of = vec![None; nodes.len()];
        for (u, ids) in stations.iter().enumerate() {
            for (k, &id) in ids.iter().enumerate() {
                station_of[id] = Some((u as u32, k as u8));
            }
        }
        let effort = sc
            .procedures
            .iter()
            .map(|p| {
                Ok([
                    sampler(&p.desk_minutes)?,
                    sampler(&p.appraisal_minutes)?,
                    sampler(&p.approval_minutes)?,
                ])
            })
            .collect::<Result<Vec<_>, Vec<NetworkError>>>()?;
        let routes = vec![vec![Vec::new(); np]; nodes.len()];
        let network = Network::new_checked(classes, nodes, sources, routes, false)?;
        Ok(Self {
            network,
            stations,
            citizen,
            transfer,
            handoff_node,
            handoff: sc
                .procedures
                .iter()
                .map(|p| match &p.handoff_days {
                    Dist::Constant { value } if *value == 0.0 => Ok(None),
                    d => sampler(d).map(Some),
                })
                .collect::<Result<_, _>>()?,
            cells: kept_cells,
            alias,
            competent,
            supplement: sc
                .procedures
                .iter()
                .map(|p| sampler(&p.supplement_days))
                .collect::<Result<_, _>>()?,
            effort,
            station_of,
            electronic: sampler(&sc.model.electronic_transfer_minutes)?,
            paper: sampler(&sc.model.paper_transfer_minutes)?,
            load,
        })
    }
}

/// Where a dossier is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Desk,
    CitizenAtDesk,
    Resubmit,
    TransferUp,
    HandoffToAppraisal,
    Appraisal,
    HandoffToApproval,
    CitizenAtAppraisal,
    Approval,
    TransferDown,
}

#[derive(Clone, Debug)]
struct Dossier {
    /// The dossier's own random stream: every decision and duration of its
    /// life is drawn from it, so a dossier meets the same luck in a base
    /// scenario and in a reform whatever order the units process it in
    /// (common random numbers by attribute sampling).
    rng: SplitMix64,
    unit: u32,
    comp: u32,
    proc: u16,
    channel: Channel,
    stage: Stage,
    desk_request: bool,
    appraisal_request: bool,
    digitised: bool,
    resubmissions: u8,
    receipt: f64,
    appointment: f64,
    request_at: f64,
    citizen_working: f64,
    desk_wait: f64,
}

/// Counts and sums of one scope (a unit, a procedure, a tier × channel).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    /// Dossiers received (first desk arrival) in the window.
    pub received: u64,
    /// Of which online.
    pub online: u64,
    /// Of which fully online.
    pub full_online: u64,
    /// Dossiers completed in the window.
    pub resolved: u64,
    /// Completed on or before the appointment.
    pub on_time: u64,
    /// Completed on a day before the appointment day.
    pub early: u64,
    /// Completed after the appointment.
    pub late: u64,
    /// Late under the 766 rules: late, or given a second supplement request.
    pub late_766: u64,
    /// Late and covered by an apology letter sent in time.
    pub late_with_apology: u64,
    /// Apology letters sent.
    pub apologies: u64,
    /// Completed dossiers that had at least one supplement request.
    pub supplemented: u64,
    /// Completed dossiers with a second request.
    pub second_requests: u64,
    /// Fee-bearing completed dossiers.
    pub fee: u64,
    /// Of which paid online.
    pub paid_online: u64,
    /// Completed dossiers digitised (paper scanned, or born digital).
    pub digitised: u64,
    /// Completed dossiers with an electronic result.
    pub e_result: u64,
    /// In-person visits of completed dossiers.
    pub visits: u64,
    /// Online submissions counted as 766 item 3.3 does (with an e-result where a paper result is required).
    pub online_766: u64,
    /// Completed dossiers of procedures that require a paper result.
    pub paper_required: u64,
    /// Of which with an e-result (766 item 4.1).
    pub e_result_paper: u64,
    /// Digitised with an e-result where a paper result is required (766 item 4.2).
    pub digitised_766: u64,
    /// Sum of the dossiers' satisfaction (0–1 each).
    pub satisfaction: f64,
    /// Expected complaints ("dislikes"): the sum of each dossier's complaint probability.
    pub complaints: f64,
    /// Turnaround, working days (citizen time excluded).
    pub turnaround: Tally,
    /// Wait at the first desk visit, minutes.
    pub desk_wait: Tally,
}

impl Counts {
    /// Adds another scope's counts.
    pub fn merge(&mut self, o: &Counts) {
        self.received += o.received;
        self.online += o.online;
        self.full_online += o.full_online;
        self.resolved += o.resolved;
        self.on_time += o.on_time;
        self.early += o.early;
        self.late += o.late;
        self.late_766 += o.late_766;
        self.late_with_apology += o.late_with_apology;
        self.apologies += o.apologies;
        self.supplemented += o.supplemented;
        self.second_requests += o.second_requests;
        self.fee += o.fee;
        self.paid_online += o.paid_online;
        self.digitised += o.digitised;
        self.e_result += o.e_result;
        self.visits += o.visits;
        self.online_766 += o.online_766;
        self.paper_required += o.paper_required;
        self.e_result_paper += o.e_result_paper;
        self.digitised_766 += o.digitised_766;
        self.satisfaction += o.satisfaction;
        self.complaints += o.complaints;
        self.turnaround.merge(&o.turnaround);
        self.desk_wait.merge(&o.desk_wait);
    }
}

/// What one province produced in one replication.
#[derive(Clone, Debug, PartialEq)]
pub struct ProvinceRun {
    /// Per receiving unit.
    pub units: Vec<Counts>,
    /// Per receiving unit and calendar month of the window (received by
    /// month of arrival, the rest by month of completion); see [`ProvinceRun::months`].
    pub monthly: Vec<Vec<Counts>>,
    /// The calendar months of the window, as (year, month).
    pub months: Vec<(i32, u32)>,
    /// Per procedure.
    pub procedures: Vec<Counts>,
    /// Per tier × channel.
    pub channels: [[Counts; 4]; 3],
    /// Turnaround histogram per tier, working days.
    pub turnaround: [Histogram; 3],
    /// First-visit desk wait histogram per tier, minutes.
    pub desk_wait: [Histogram; 3],
    /// Dossiers open at the end, per receiving unit.
    pub open: Vec<u64>,
    /// Of which past their appointment.
    pub overdue: Vec<u64>,
    /// Effort minutes started in the window, per unit and pool.
    pub busy: Vec<[f64; 3]>,
    /// On-duty server minutes per unit and pool.
    pub capacity: Vec<[f64; 3]>,
    /// Engine events processed.
    pub events: u64,
    /// Dossiers completed over the whole run (warm-up included).
    pub dossiers: u64,
    /// Most dossiers in flight at once.
    pub peak_in_flight: usize,
}

/// Random streams of the router, one per purpose.
struct Rngs {
    mix: Vec<Stream>,
    /// Seed of the per-dossier streams of this province and replication.
    dossier: u64,
    /// Dossiers created per source, for the per-dossier seeds.
    created: Vec<u64>,
}

/// Carries each dossier's life through the engine and tallies the outcome.
pub struct DossierRouter<'a> {
    sc: &'a Scenario,
    cp: &'a CompiledProvince,
    tiers: Vec<Tier>,
    warmup: f64,
    rngs: Rngs,
    arena: Vec<Dossier>,
    live: Vec<bool>,
    /// Month index (into `run.months`) of each day since the start; days before the window map to 0.
    day_month: Vec<u16>,
    /// Counts per procedure × channel; procedures and tier × channel are
    /// summed from them (and units from `run.monthly`) when the run ends, so
    /// each dossier is recorded in two scopes, not four.
    by_proc: Vec<[Counts; 4]>,
    /// Tier rank of each procedure's receiving units.
    proc_tier: Vec<usize>,
    /// Tallies.
    run: ProvinceRun,
}

impl<'a> DossierRouter<'a> {
    /// A router for province `pi` in one replication.
    pub fn new(
        sc: &'a Scenario,
        pi: usize,
        cp: &'a CompiledProvince,
        streams: &Streams,
        warmup: f64,
    ) -> Self {
        let p = pi as u64;
        let units = &sc.provinces[pi].units;
        let nu = units.len();
        // Calendar months of the tallied window, and each day's month index.
        let first = i64::from(sc.warmup_days);
        let last = first + i64::from(sc.horizon_days);
        let mut months: Vec<(i32, u32)> = Vec::new();
        let mut day_month = Vec::with_capacity(last as usize + 1);
        for day in 0..=last {
            use chrono::Datelike;
            let date = sc.calendar.date(day.max(first));
            let ym = (date.year(), date.month());
            if months.last() != Some(&ym) {
                months.push(ym);
            }
            day_month.push((months.len() - 1) as u16);
        }
        Self {
            sc,
            cp,
            tiers: units.iter().map(|u| u.tier).collect(),
            warmup,
            rngs: Rngs {
                mix: (0..cp.alias.len())
                    .map(|k| streams.stream("arrival-mix", &[p, k as u64]))
                    .collect(),
                dossier: streams.seed_of("dossier", &[p]),
                created: vec![0; cp.alias.len()],
            },
            arena: Vec::with_capacity(1024),
            live: Vec::with_capacity(1024),
            run: ProvinceRun {
                units: vec![Counts::default(); nu],
                monthly: vec![vec![Counts::default(); months.len()]; nu],
                months,
                procedures: vec![Counts::default(); sc.procedures.len()],
                channels: Default::default(),
                turnaround: Default::default(),
                desk_wait: Default::default(),
                open: vec![0; nu],
                overdue: vec![0; nu],
                busy: vec![[0.0; 3]; nu],
                capacity: vec![[0.0; 3]; nu],
                events: 0,
                dossiers: 0,
                peak_in_flight: 0,
            },
            day_month,
            by_proc: vec![Default::default(); sc.procedures.len()],
            proc_tier: sc.procedures.iter().map(|p| p.tier.rank()).collect(),
        }
    }

    fn proc(&self, d: &Dossier) -> &'a Procedure {
        &self.sc.procedures[d.proc as usize]
    }

    /// After the desk accepts a complete dossier: set the clock and move on.
    fn receipt(&mut self, i: usize, now: f64, c: &mut Customer) -> Target {
        let d = self.arena[i].clone();
        let p = self.proc(&d);
        let cal = &self.sc.calendar;
        let d = &mut self.arena[i];
        d.receipt = now;
        d.appointment = cal.appointment(now, p.deadline_days);
        c.due = d.appointment;
        d.digitised = d.channel.online() || unit(&mut d.rng) < p.digitisation;
        if d.comp != d.unit {
            d.stage = Stage::TransferUp;
            Target::Node(self.cp.transfer)
        } else {
            self.send_to_appraisal(i)
        }
    }

    /// Hands the dossier to the competent unit's specialists (through the in-tray delay, if any).
    fn send_to_appraisal(&mut self, i: usize) -> Target {
        let d = &mut self.arena[i];
        if self.cp.handoff[d.proc as usize].is_some() {
            d.stage = Stage::HandoffToAppraisal;
            return Target::Node(self.cp.handoff_node);
        }
        d.stage = Stage::Appraisal;
        Target::Node(self.cp.stations[d.comp as usize][1])
    }

    /// Hands the appraised dossier to the leaders (through the in-tray delay, if any).
    fn send_to_approval(&mut self, i: usize) -> Target {
        let d = &mut self.arena[i];
        if self.cp.handoff[d.proc as usize].is_some() {
            d.stage = Stage::HandoffToApproval;
            return Target::Node(self.cp.handoff_node);
        }
        d.stage = Stage::Approval;
        Target::Node(self.cp.stations[d.comp as usize][2])
    }

    fn complete(&mut self, i: usize, now: f64) -> Target {
        let d = self.arena[i].clone();
        self.live[i] = false;
        self.run.dossiers += 1;
        if now < self.warmup {
            return Target::Exit;
        }
        let p = self.proc(&d);
        let cal = &self.sc.calendar;
        let late = now > d.appointment;
        let app_day = WorkCalendar::day_of(d.appointment);
        // The apology check: one working day before the deadline's day.
        let mut check_day = app_day - 1;
        while !cal.is_working_day(check_day) && check_day > app_day - 30 {
            check_day -= 1;
        }
        let at_risk = now > cal.close_of(check_day);
        let apology = at_risk && unit(&mut self.arena[i].rng) < self.sc.model.apology_compliance;
        let e_result = unit(&mut self.arena[i].rng) < p.e_result;
        let paid_online =
            p.fee && d.channel.online() && unit(&mut self.arena[i].rng) < p.online_payment;
        let visits = match d.channel {
            Channel::InPerson => 1 + u64::from(d.resubmissions),
            _ => 0,
        } + u64::from(!e_result && d.channel != Channel::Postal);
        let turnaround = (cal.working_minutes_between(d.receipt, now) - d.citizen_working).max(0.0)
            / WORKING_DAY_MINUTES;
        let tier = self.tiers[d.unit as usize].rank();
        let second = d.desk_request && d.appraisal_request;
        let e_ok = !p.paper_result || e_result;
        let requests = u32::from(d.desk_request) + u32::from(d.appraisal_request);
        let sat = &self.sc.index.satisfaction;
        let satisfaction = sat.satisfaction(late || second, visits as u32, d.desk_wait, requests);
        let complaint = sat.complaint(satisfaction);
        let record = |c: &mut Counts| {
            c.resolved += 1;
            c.on_time += u64::from(!late);
            c.early += u64::from(WorkCalendar::day_of(now) < app_day);
            c.late += u64::from(late);
            c.late_766 += u64::from(late || second);
            c.late_with_apology += u64::from(late && apology);
            c.apologies += u64::from(apology);
            c.supplemented += u64::from(d.desk_request || d.appraisal_request);
            c.second_requests += u64::from(second);
            c.fee += u64::from(p.fee);
            c.paid_online += u64::from(paid_online);
            c.digitised += u64::from(d.digitised);
            c.e_result += u64::from(e_result);
            c.visits += visits;
            c.online_766 += u64::from(d.channel.online() && e_ok);
            c.paper_required += u64::from(p.paper_result);
            c.e_result_paper += u64::from(p.paper_result && e_result);
            c.digitised_766 += u64::from(d.digitised && e_ok);
            c.satisfaction += satisfaction;
            c.complaints += complaint;
            c.turnaround.add(turnaround);
            if !d.desk_wait.is_nan() {
                c.desk_wait.add(d.desk_wait);
            }
        };
        let ch = Channel::ALL
            .iter()
            .position(|c| *c == d.channel)
            .unwrap_or(0);
        record(&mut self.by_proc[d.proc as usize][ch]);
        let m = self.month_of(now);
        record(&mut self.run.monthly[d.unit as usize][m]);
        self.run.turnaround[tier].add(turnaround);
        if !d.desk_wait.is_nan() {
            self.run.desk_wait[tier].add(d.desk_wait);
        }
        Target::Exit
    }

    /// The month index of time `t` within the window.
    fn month_of(&self, t: f64) -> usize {
        let day = WorkCalendar::day_of(t).max(0) as usize;
        usize::from(
            *self
                .day_month
                .get(day)
                .or(self.day_month.last())
                .unwrap_or(&0),
        )
    }

    /// Closes the run: counts open and overdue dossiers and takes the pool times from the engine.
    pub fn finish(mut self, result: &crate::engine::RunResult) -> ProvinceRun {
        let end = result.end_time;
        for (i, d) in self.arena.iter().enumerate() {
            if self.live[i] {
                self.run.open[d.unit as usize] += 1;
                if d.stage != Stage::Desk && d.stage != Stage::CitizenAtDesk && d.appointment < end
                {
                    self.run.overdue[d.unit as usize] += 1;
                }
            }
        }
        for (unit, months) in self.run.units.iter_mut().zip(&self.run.monthly) {
            for m in months {
                unit.merge(m);
            }
        }
        for (p, cells) in self.by_proc.iter().enumerate() {
            for (ch, c) in cells.iter().enumerate() {
                self.run.procedures[p].merge(c);
                self.run.channels[self.proc_tier[p]][ch].merge(c);
            }
        }
        // Servers are on duty in working time only.
        let on_duty = self
            .sc
            .calendar
            .working_minutes_between(result.end_time - result.window, result.end_time);
        for (cap, ids) in self.run.capacity.iter_mut().zip(&self.cp.stations) {
            for (c, &id) in cap.iter_mut().zip(ids) {
                if let NodeKind::Station { servers, .. } = self.cp.network.nodes()[id].kind {
                    *c = f64::from(servers) * on_duty;
                }
            }
        }
        self.run.events = result.events;
        self.run.peak_in_flight = self.arena.len();
        self.run
    }
}

impl Router for DossierRouter<'_> {
    fn entry(&mut self, source: usize, c: &mut Customer, now: f64, _node: NodeId) -> NodeId {
        let k = self.cp.alias[source].sample(&mut self.rngs.mix[source]);
        let (u, p, channel) = self.cp.cells[source][k];
        let comp = self.cp.competent[u as usize][p as usize];
        let counted = now >= self.warmup;
        let n = self.rngs.created[source];
        self.rngs.created[source] += 1;
        let seed = mix64(self.rngs.dossier ^ mix64(((source as u64) << 56) ^ n));
        let d = Dossier {
            rng: SplitMix64::seed_from_u64(seed),
            unit: u,
            comp,
            proc: p,
            channel,
            stage: Stage::Desk,
            desk_request: false,
            appraisal_request: false,
            digitised: false,
            resubmissions: 0,
            receipt: f64::NAN,
            appointment: f64::INFINITY,
            request_at: 0.0,
            citizen_working: 0.0,
            desk_wait: f64::NAN,
        };
        // Records are indexed by the kernel's customer slot (in `c.tag`), so
        // the kernel's and the router's records of an upcoming event can be
        // loaded independently (see `touch`).
        // Slots are dense: a new slot is the next one.
        let i = c.tag as usize;
        if i < self.arena.len() {
            self.arena[i] = d;
            self.live[i] = true;
        } else {
            debug_assert_eq!(i, self.arena.len());
            self.arena.push(d);
            self.live.push(true);
        }
        c.class = u32::from(p);
        if counted {
            let ch = Channel::ALL.iter().position(|x| *x == channel).unwrap_or(0);
            let m = self.month_of(now);
            for cnt in [
                &mut self.run.monthly[u as usize][m],
                &mut self.by_proc[p as usize][ch],
            ] {
                cnt.received += 1;
                cnt.online += u64::from(channel.online());
                cnt.full_online += u64::from(channel == Channel::OnlineFull);
            }
        }
        self.cp.stations[u as usize][0]
    }

    #[inline(always)]
    fn touch(&self, slot: u32) {
        std::hint::black_box(self.arena.get(slot as usize).map(|d| d.stage));
    }

    fn route(&mut self, _node: NodeId, c: &mut Customer, now: f64) -> Target {
        let i = c.tag as usize;
        let d = self.arena[i].clone();
        let p = self.proc(&d);
        match d.stage {
            Stage::Desk => {
                if d.desk_wait.is_nan() && d.channel == Channel::InPerson {
                    // Taken in hand after closing, the citizen is served at the next opening.
                    self.arena[i].desk_wait = self.sc.calendar.next_open(c.started) - c.arrived;
                }
                if !d.desk_request && unit(&mut self.arena[i].rng) < p.incomplete_at_desk {
                    let d = &mut self.arena[i];
                    d.desk_request = true;
                    d.stage = Stage::CitizenAtDesk;
                    return Target::Node(self.cp.citizen);
                }
                self.receipt(i, now, c)
            }
            Stage::CitizenAtDesk => {
                let d = &mut self.arena[i];
                d.stage = Stage::Desk;
                d.resubmissions += 1;
                Target::Node(self.cp.stations[d.unit as usize][0])
            }
            Stage::Resubmit => {
                if d.comp != d.unit {
                    self.arena[i].stage = Stage::TransferUp;
                    return Target::Node(self.cp.transfer);
                }
                self.send_to_appraisal(i)
            }
            Stage::TransferUp => self.send_to_appraisal(i),
            Stage::HandoffToAppraisal => {
                self.arena[i].stage = Stage::Appraisal;
                Target::Node(self.cp.stations[d.comp as usize][1])
            }
            Stage::HandoffToApproval => {
                self.arena[i].stage = Stage::Approval;
                Target::Node(self.cp.stations[d.comp as usize][2])
            }
            Stage::Appraisal => {
                if !d.appraisal_request && unit(&mut self.arena[i].rng) < p.incomplete_at_appraisal
                {
                    let d = &mut self.arena[i];
                    d.appraisal_request = true;
                    d.request_at = now;
                    d.stage = Stage::CitizenAtAppraisal;
                    return Target::Node(self.cp.citizen);
                }
                self.send_to_approval(i)
            }
            Stage::CitizenAtAppraisal => {
                // The citizen's time does not count: move the appointment by it.
                let cal = &self.sc.calendar;
                let away = cal.working_minutes_between(d.request_at, now);
                let d = &mut self.arena[i];
                d.citizen_working += away;
                d.appointment = cal.add_working_minutes(d.appointment, away);
                c.due = d.appointment;
                d.resubmissions += 1;
                d.stage = Stage::Resubmit;
                Target::Node(self.cp.stations[d.unit as usize][0])
            }
            Stage::Approval => {
                if d.comp != d.unit {
                    self.arena[i].stage = Stage::TransferDown;
                    return Target::Node(self.cp.transfer);
                }
                self.complete(i, now)
            }
            Stage::TransferDown => self.complete(i, now),
        }
    }

    fn service_time(&mut self, node: NodeId, c: &Customer, now: f64) -> Option<f64> {
        let cal = &self.sc.calendar;
        if let Some((u, k)) = self.cp.station_of[node] {
            // Effort elapses in working time: work in hand at closing resumes
            // at the next opening (the server keeps the dossier overnight).
            let k = usize::from(k);
            let rng = &mut self.arena[c.tag as usize].rng;
            let mut effort = self.cp.effort[c.class as usize][k].sample(rng);
            // Work taken in hand after closing starts at the next opening.
            if let Some(sh) = &self.sc.model.shock
                && (sh.start..sh.end).contains(&cal.next_open(now))
            {
                effort /= sh.productivity;
            }
            if now >= self.warmup {
                self.run.busy[u as usize][k] += effort;
            }
            return Some(cal.add_working_minutes(now, effort) - now);
        }
        let d = self.arena[c.tag as usize].clone();
        if node == self.cp.handoff_node {
            let days = self.cp.handoff[d.proc as usize]
                .as_ref()
                .map_or(0.0, |s| s.sample(&mut self.arena[c.tag as usize].rng));
            return Some(cal.add_working_minutes(now, days * WORKING_DAY_MINUTES) - now);
        }
        if node == self.cp.citizen {
            let days =
                self.cp.supplement[d.proc as usize].sample(&mut self.arena[c.tag as usize].rng);
            let mut t = now + days * DAY;
            if d.channel.paper() {
                t = cal.next_open(t);
            }
            return Some(t - now);
        }
        let p = self.proc(&d);
        let t = match p.transfer {
            Transfer::Electronic => {
                // Sent at once in office hours before the cut-off, else at the next working day's opening.
                let day = WorkCalendar::day_of(now);
                let base = if cal.is_working_day(day) && now - day as f64 * DAY < 15.0 * 60.0 {
                    cal.next_open(now)
                } else {
                    cal.next_open((day + 1) as f64 * DAY)
                };
                cal.add_working_minutes(
                    base,
                    self.cp
                        .electronic
                        .sample(&mut self.arena[c.tag as usize].rng),
                )
            }
            Transfer::Paper => cal.add_working_minutes(
                now,
                self.cp.paper.sample(&mut self.arena[c.tag as usize].rng),
            ),
        };
        Some(t - now)
    }
}
