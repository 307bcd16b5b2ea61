//! The one-stop model: compiles a province into the engine's network and drives it with a router that carries each dossier's life.
//!
//! Per unit there are three stations: the desk (clerks), appraisal
//! (specialists) and approval (leaders), each working its pool's service
//! hours (see [`Calendars`]). Effort is in working minutes of those hours:
//! work in hand at closing is resumed at the next opening (no overtime), so
//! a server keeps its dossier overnight, and a dossier taken in hand after
//! closing is worked from the next opening. Servers therefore stay "on
//! duty" in the kernel and the calendar does the rest: a server free at
//! closing takes the next dossier at once and works it at the next opening,
//! exactly as if it picked it up then (FIFO and priority order are the same;
//! under EDF the pick is made at closing, not at opening), with no capacity
//! events. Utilisation is effort over on-duty server time (servers × the
//! pool's service minutes).
//!
//! **The counter and the in-tray.** The desk serves two queues. Citizens at
//! the counter (in person, and postal dossiers, which are paper handled at
//! the counter) come first; online dossiers wait in an electronic in-tray
//! and are checked in the clerks' slack time, with their own check effort
//! (`online_check_minutes`). This is non-preemptive priority: a clerk who is
//! checking an online dossier when a citizen arrives finishes that check
//! (a few minutes) first. The counter wait is the wait of in-person
//! citizens at their first visit, counted to the next opening when a clerk
//! takes them in hand after closing.
//!
//! Two delay nodes carry the time a dossier spends with the citizen
//! (supplements) and in liên thông transfer between units, and a third the
//! in-tray time between the desk, the specialist and the leader.
//! Two sources feed the province: counter arrivals (in person and post, in
//! the desk's hours, by hour-of-day profile) and online arrivals (any hour);
//! each is one non-homogeneous Poisson stream split over (unit, procedure,
//! channel) by alias sampling, which is exact because Poisson streams superpose.
//!
//! A dossier's life (the [`DossierRouter`]):
//! 1. desk check; incomplete (first visit only) → one written supplement
//!    request, the citizen returns after the supplement delay (in the desk's
//!    hours for paper) and the desk checks again;
//! 2. receipt: the appointment is set from the deadline in working days of
//!    the legal calendar (15:00 cut-off); paper dossiers are digitised
//!    (scanned) with some probability;
//! 3. liên thông transfer to the competent unit when it is another one,
//!    then the in-tray time before a specialist takes it up (assignment);
//! 4. appraisal (then the in-tray time before the leader signs); a deficient
//!    dossier gets one supplement request (the citizen's time is excluded
//!    from the deadline clock by moving the appointment; if the dossier
//!    already had a desk request, this second request makes it late under
//!    the 766 rules);
//! 5. approval, transfer back if needed; completion = result ready for return.
//! 6. late = completed after the appointment; an agency that sees the
//!    dossier still open one working day before the deadline sends an
//!    apology with probability `apology_compliance`.
//!
//! **Who is counted where.** Every figure is kept by *receiving* unit (the
//! desk the dossier was filed at) and by *competent* unit (the unit that
//! resolves it): each (receiving, competent) pair has its own tally cell,
//! so a commune-filed land dossier resolved at the district is in one cell
//! and either basis is a sum of cells. Lateness is also *attributed*, as
//! the national portal does, to the unit holding the dossier when it went
//! past its deadline: the receiving unit while it is at its desk or in
//! transit from it, the competent unit from its in-tray to the result.

pub mod metrics;
pub mod prepare;
pub mod scopes;

use rand_distr::Distribution;
use rand_distr::weighted::WeightedAliasIndex;

use rand::SeedableRng;
use rand_xoshiro::SplitMix64;

use crate::calendar::{DAY, WorkCalendar};
use crate::engine::{
    Arrivals, Class, Customer, Discipline, Dist, Network, NetworkError, Node, NodeId, NodeKind,
    Router, Sampler, Segment, Source, Stream, Streams, Target, mix64, unit,
};
use crate::scenario::domain::{Calendars, Channel, Procedure, Province, Scenario, Tier, Transfer};
use crate::stats::{Histogram, Tally};

/// Minutes in a standard working day (07:30–11:30, 13:30–17:00), for turnaround in working days.
pub const WORKING_DAY_MINUTES: f64 = 450.0;

/// The three staff pools of a unit.
pub const POOLS: [&str; 3] = ["clerks", "specialists", "leaders"];

/// The engine class of a dossier filed at the counter (in person, by post): served first at the desk.
pub const COUNTER: u32 = 0;
/// The engine class of a dossier filed online: checked from the in-tray in the clerks' slack time.
pub const ONLINE: u32 = 1;

/// Where a new dossier of one entry cell goes: its receiving unit,
/// procedure and channel, and (worked out once) its competent unit and
/// tally cell.
#[derive(Clone, Copy, Debug)]
struct EntryCell {
    unit: u32,
    proc: u16,
    channel: Channel,
    comp: u32,
    cell: u32,
}

/// A province compiled for the engine.
pub struct CompiledProvince {
    /// The engine network.
    pub network: Network,
    /// Station of pool `k` of unit `u`: `stations[u][k]`, which is node
    /// `3u + k` (the stations are the first nodes, in unit order; the run
    /// computes it rather than reading this table).
    pub stations: Vec<[NodeId; 3]>,
    citizen: NodeId,
    transfer: NodeId,
    handoff_node: NodeId,
    /// In-tray delay per procedure, working days (`None`: no delay).
    handoff: Vec<Option<Sampler>>,
    /// Entry cells and their alias tables, per source.
    cells: Vec<Vec<EntryCell>>,
    alias: Vec<WeightedAliasIndex<f64>>,
    /// Tally cell per (receiving unit, procedure), at `unit × procedures +
    /// procedure`: the unit's own index when it resolves the procedure
    /// itself, else `units + k` for the `k`-th entry of
    /// [`CompiledProvince::pairs`]. One flat table, so a lookup is one load,
    /// not a row's header and then its data.
    tally_cell: Vec<u32>,
    /// Procedures (the stride of `tally_cell`).
    n_procs: usize,
    /// The (receiving, competent) unit pairs of liên thông cells, in cell order.
    pub pairs: Vec<(u32, u32)>,
    supplement: Vec<Sampler>,
    /// Effort samplers per procedure and pool (working minutes); the desk's is the counter check.
    effort: Vec<[Sampler; 3]>,
    /// The desk's check of an online dossier from the in-tray, per procedure (working minutes).
    online_check: Vec<Sampler>,
    electronic: Sampler,
    paper: Sampler,
    /// Offered load per unit and pool (long-run busy servers over mean servers on duty).
    pub load: Vec<[f64; 3]>,
    /// The end of the run, minutes.
    end: f64,
    /// Working minutes of each pool (and, last, of the legal calendar) over
    /// the whole run, plus one: a duration drawn longer than this ends after
    /// the run whatever its exact length, so it is cut to it (no output
    /// changes, and no arithmetic meets a huge or infinite draw).
    span: [f64; 4],
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
/// Counter arrivals come in the desk's service hours, online ones at any
/// hour. Daily volumes are normalised over the tallied window (after the
/// warm-up), so that the window receives exactly `per_year × horizon / 365`
/// dossiers in expectation.
fn arrival_segments(
    sc: &Scenario,
    end: f64,
    per_year: f64,
    online: bool,
    backlog: f64,
) -> Vec<Segment> {
    let cal = sc.calendars.desk();
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
    /// Compiles province `pi` of `sc` for a run of `end` minutes; `discipline`
    /// orders the specialists' and leaders' queues (the desk always serves
    /// the counter before the online in-tray, first come first served within each).
    pub fn new(
        sc: &Scenario,
        pi: usize,
        end: f64,
        discipline: Discipline,
    ) -> Result<Self, Vec<NetworkError>> {
        let prov: &Province = &sc.provinces[pi];
        let np = sc.procedures.len();
        // Two classes: the counter (served first at the desk) and the online
        // in-tray. The router knows each dossier's procedure and draws its
        // effort itself, so the classes carry only the priority.
        let classes: Vec<Class> = vec![
            Class {
                name: "counter".into(),
                priority: 0,
                due: None,
            },
            Class {
                name: "online".into(),
                priority: 1,
                due: None,
            },
        ];
        let nc = classes.len();
        let mut nodes = Vec::new();
        let mut stations = Vec::new();
        for u in &prov.units {
            let mut ids = [0; 3];
            for (k, pool) in POOLS.iter().enumerate() {
                // The router draws every effort (`service_time`); the node's own table is unused.
                let service = vec![Dist::constant(0.0); nc];
                ids[k] = nodes.len();
                nodes.push(Node {
                    name: format!("{}/{}", u.name, pool),
                    kind: NodeKind::Station {
                        // Always on duty: effort elapses in the pool's service
                        // hours, so a dossier taken in hand after closing is
                        // worked from the next opening, as if picked up then.
                        servers: u.servers[k],
                        discipline: if k == 0 {
                            Discipline::Priority
                        } else {
                            discipline
                        },
                        schedule: None,
                    },
                    service,
                });
            }
            stations.push(ids);
        }
        let zero = vec![Dist::constant(0.0); nc];
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

        // Competent units, tally cells and entry cells.
        let nu = prov.units.len();
        let mut tally_cell = vec![u32::MAX; nu * np];
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let mut cells: Vec<Vec<EntryCell>> = vec![Vec::new(), Vec::new()];
        let mut weights: Vec<Vec<f64>> = vec![Vec::new(), Vec::new()];
        let mut load = vec![[0.0f64; 3]; nu];
        let open_fraction: Vec<f64> = sc
            .calendars
            .service
            .iter()
            .map(|cal| cal.working_minutes_between(0.0, end) / end)
            .collect();
        for (ui, u) in prov.units.iter().enumerate() {
            for (pi_, p) in sc.procedures.iter().enumerate() {
                if p.tier != u.tier {
                    continue;
                }
                let Some(c) = ancestor(&prov.units, ui, p.competent_tier) else {
                    continue;
                };
                let cell = if c == ui {
                    ui as u32
                } else {
                    let pair = (ui as u32, c as u32);
                    let k = pairs.iter().position(|x| *x == pair).unwrap_or_else(|| {
                        pairs.push(pair);
                        pairs.len() - 1
                    });
                    (nu + k) as u32
                };
                tally_cell[ui * np + pi_] = cell;
                let volume = p.volume_per_unit * u.size;
                for (ci, ch) in Channel::ALL.iter().enumerate() {
                    let w = volume * p.channels[ci];
                    if w > 0.0 {
                        let s = usize::from(ch.online());
                        cells[s].push(EntryCell {
                            unit: ui as u32,
                            proc: pi_ as u16,
                            channel: *ch,
                            comp: c as u32,
                            cell,
                        });
                        weights[s].push(w);
                    }
                }
                // Offered work per minute (visits × mean effort), by pool.
                let per_min = volume / (365.0 * DAY);
                let visits = 1.0 + p.incomplete_at_desk + p.incomplete_at_appraisal;
                let online: f64 = p.channels[2] + p.channels[3];
                load[ui][0] += per_min
                    * visits
                    * ((1.0 - online) * p.desk_minutes.mean()
                        + online * p.online_check_minutes.mean());
                load[c][1] +=
                    per_min * (1.0 + p.incomplete_at_appraisal) * p.appraisal_minutes.mean();
                load[c][2] += per_min * p.approval_minutes.mean();
            }
        }
        for (l, u) in load.iter_mut().zip(&prov.units) {
            for ((x, &servers), open) in l.iter_mut().zip(&u.servers).zip(&open_fraction) {
                *x /= f64::from(servers) * open;
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
            let segments = arrival_segments(sc, end, per_year, s == 1, backlog);
            // A window with no counter day (a short run inside Tết) has no counter arrivals.
            if !segments.iter().any(|x| x.rate > 0.0) {
                continue;
            }
            sources.push(Source {
                name: if s == 0 {
                    "counter".into()
                } else {
                    "online".into()
                },
                class: 0,
                node: stations[cells[s][0].unit as usize][0],
                arrivals: Arrivals::Profile { segments },
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
        // The stations are the first nodes, three per unit in unit order, so
        // a station's node and its (unit, pool) are computed, not looked up
        // (see `station` and `station_of`).
        debug_assert!(
            stations
                .iter()
                .enumerate()
                .all(|(u, ids)| (0..3).all(|k| ids[k] == 3 * u + k))
        );
        let mut effort = Vec::with_capacity(np);
        let mut online_check = Vec::with_capacity(np);
        for p in &sc.procedures {
            effort.push([
                sampler(&p.desk_minutes)?,
                sampler(&p.appraisal_minutes)?,
                sampler(&p.approval_minutes)?,
            ]);
            online_check.push(sampler(&p.online_check_minutes)?);
        }
        let routes = vec![vec![Vec::new(); nc]; nodes.len()];
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
            tally_cell,
            n_procs: np,
            pairs,
            supplement: sc
                .procedures
                .iter()
                .map(|p| sampler(&p.supplement_days))
                .collect::<Result<_, _>>()?,
            effort,
            online_check,
            electronic: sampler(&sc.model.electronic_transfer_minutes)?,
            paper: sampler(&sc.model.paper_transfer_minutes)?,
            load,
            end,
            span: [
                sc.calendars.service[0].working_minutes_between(0.0, end) + 1.0,
                sc.calendars.service[1].working_minutes_between(0.0, end) + 1.0,
                sc.calendars.service[2].working_minutes_between(0.0, end) + 1.0,
                sc.calendars.legal.working_minutes_between(0.0, end) + 1.0,
            ],
        })
    }

    /// The station of pool `k` (desk, appraisal, approval) at unit `u`.
    #[inline]
    fn station(&self, u: u32, k: usize) -> NodeId {
        3 * u as usize + k
    }

    /// The (unit, pool) of `node` when it is a station.
    #[inline]
    fn station_of(&self, node: NodeId) -> Option<(usize, usize)> {
        (node < 3 * self.stations.len()).then_some((node / 3, node % 3))
    }

    /// The tally cell of a dossier: its receiving unit's own when that unit
    /// resolves it (no lookup), else its liên thông pair's.
    #[inline]
    fn cell_of(&self, d: &Dossier) -> usize {
        let looked_up = || self.tally_cell[d.unit as usize * self.n_procs + d.proc as usize];
        debug_assert_eq!(looked_up() == d.unit, d.comp == d.unit);
        if d.comp == d.unit {
            d.unit as usize
        } else {
            looked_up() as usize
        }
    }

    /// Number of tally cells: one per unit, then one per liên thông pair.
    pub fn n_cells(&self) -> usize {
        self.stations.len() + self.pairs.len()
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

impl Stage {
    /// Whether the receiving unit (not the competent one) holds the dossier in this stage.
    fn held_by_receiving_unit(self) -> bool {
        matches!(
            self,
            Stage::Desk | Stage::CitizenAtDesk | Stage::Resubmit | Stage::TransferUp
        )
    }
}

/// Bits of [`Dossier::flags`].
const DESK_REQUEST: u8 = 1;
const APPRAISAL_REQUEST: u8 = 2;
const DIGITISED: u8 = 4;
/// Went past its deadline while its receiving unit held it.
const LATE_AT_RECEIVING: u8 = 8;
/// Went past its deadline while its competent unit held it.
const LATE_AT_COMPETENT: u8 = 16;
/// In flight: entered and not yet completed (a slot's record stays after
/// completion until the slot is reused). A bit of the record, not a vector
/// beside it, so that the check touches no other cache line.
const LIVE: u8 = 32;

/// One dossier in flight (64 bytes, aligned: one cache line, so reading
/// ahead one line brings the whole record).
#[derive(Clone, Debug)]
#[repr(align(64))]
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
    /// [`DESK_REQUEST`], [`APPRAISAL_REQUEST`], [`DIGITISED`] and who held it when it went late.
    flags: u8,
    resubmissions: u8,
    receipt: f64,
    appointment: f64,
    request_at: f64,
    citizen_working: f64,
    counter_wait: f64,
}

// The sizes the cache-line alignments of `Dossier` and `Counts` are chosen for.
const _: () = assert!(std::mem::size_of::<Dossier>() == 64);
const _: () = assert!(std::mem::size_of::<Counts>() == 256);

impl Dossier {
    #[inline(always)]
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Counts and sums of one scope (a tally cell, a unit on one basis, a procedure, a tier × channel).
#[derive(Clone, Debug, Default, PartialEq)]
// Four cache lines exactly: a completed dossier adds to every field of two
// scopes, and an unaligned `Counts` straddles five.
#[repr(align(64))]
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
    /// Completed dossiers filed on paper (in person or by post).
    pub paper: u64,
    /// Of which scanned into the system at the desk (digitised).
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
    /// 766 item 4.2: inputs digitised (scanned paper or born digital) and an
    /// e-result where a paper result is required.
    pub digitised_766: u64,
    /// Sum of the dossiers' satisfaction (0–1 each).
    pub satisfaction: f64,
    /// Expected complaints ("dislikes"): the sum of each dossier's complaint probability.
    pub complaints: f64,
    /// Turnaround, working days of the legal calendar (citizen time excluded).
    pub turnaround: Tally,
    /// Counter wait of in-person citizens at their first visit, minutes.
    pub counter_wait: Tally,
}

impl Counts {
    /// Adds the counters and sums of `o` (not its tallies).
    #[inline(always)]
    fn add_counters(&mut self, o: &Counts) {
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
        self.paper += o.paper;
        self.digitised += o.digitised;
        self.e_result += o.e_result;
        self.visits += o.visits;
        self.online_766 += o.online_766;
        self.paper_required += o.paper_required;
        self.e_result_paper += o.e_result_paper;
        self.digitised_766 += o.digitised_766;
        self.satisfaction += o.satisfaction;
        self.complaints += o.complaints;
    }

    /// Adds another scope's counts.
    pub fn merge(&mut self, o: &Counts) {
        self.add_counters(o);
        self.turnaround.merge(&o.turnaround);
        self.counter_wait.merge(&o.counter_wait);
    }
}

/// Which unit a dossier's figures are counted under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Basis {
    /// The unit whose desk received the dossier.
    Receiving,
    /// The unit competent to resolve it.
    Competent,
}

impl Basis {
    /// Lower-case name, as the output files write it.
    pub fn name(self) -> &'static str {
        match self {
            Basis::Receiving => "receiving",
            Basis::Competent => "competent",
        }
    }
}

/// What one province produced in one replication.
#[derive(Clone, Debug, PartialEq)]
pub struct ProvinceRun {
    /// Per tally cell (see [`CompiledProvince::pairs`]): one per unit (the
    /// dossiers it receives and resolves itself), then one per liên thông
    /// (receiving, competent) pair.
    pub cells: Vec<Counts>,
    /// Per tally cell and calendar month of the window (received by month of
    /// arrival, the rest by month of completion); see [`ProvinceRun::months`].
    pub monthly: Vec<Vec<Counts>>,
    /// The (receiving, competent) units of the cells after the units' own.
    pub pairs: Vec<(u32, u32)>,
    /// The calendar months of the window, as (year, month).
    pub months: Vec<(i32, u32)>,
    /// Per procedure.
    pub procedures: Vec<Counts>,
    /// Per receiving tier × channel.
    pub channels: [[Counts; 4]; 3],
    /// Turnaround histogram per (receiving tier, competent tier), working days.
    pub turnaround: [[Histogram; 3]; 3],
    /// Counter-wait histogram per (receiving tier, competent tier), minutes.
    pub counter_wait: [[Histogram; 3]; 3],
    /// Counter-wait histogram per receiving unit, minutes (the units' own
    /// quantiles: a planner's target such as "90% served within 20 minutes at
    /// each commune").
    pub unit_counter_wait: Vec<crate::stats::CoarseHistogram>,
    /// Dossiers open at the end, per tally cell.
    pub open: Vec<u64>,
    /// Of which past their appointment (extended by the citizen's time while
    /// the citizen holds a supplement request), per tally cell.
    pub overdue: Vec<u64>,
    /// Late dossiers attributed to each unit (it held the dossier when the
    /// deadline passed), per unit and month of completion.
    pub late_held: Vec<Vec<u64>>,
    /// Effort minutes started in the window, per unit and pool.
    pub busy: Vec<[f64; 3]>,
    /// On-duty server minutes per unit and pool (servers × the pool's service minutes).
    pub capacity: Vec<[f64; 3]>,
    /// Effort minutes started, per unit, month of the window and pool.
    pub busy_monthly: Vec<Vec<[f64; 3]>>,
    /// On-duty server minutes per unit, month of the window and pool.
    pub capacity_monthly: Vec<Vec<[f64; 3]>>,
    /// Per day since the start (warm-up included) and receiving tier:
    /// dossiers arrived, completed, and completed late.
    pub daily: Vec<[[u32; 3]; 3]>,
    /// Engine events processed.
    pub events: u64,
    /// Dossiers completed over the whole run (warm-up included).
    pub dossiers: u64,
    /// Most dossiers in flight at once.
    pub peak_in_flight: usize,
}

impl ProvinceRun {
    /// Number of units.
    pub fn n_units(&self) -> usize {
        self.late_held.len()
    }

    /// The tally cells of unit `u` on a basis: its own cell and the liên
    /// thông cells where it is the receiving (or the competent) unit.
    pub fn cells_of(&self, u: usize, basis: Basis) -> impl Iterator<Item = usize> + '_ {
        let n = self.n_units();
        std::iter::once(u).chain(
            self.pairs
                .iter()
                .enumerate()
                .filter_map(move |(k, &(r, c))| {
                    let side = match basis {
                        Basis::Receiving => r,
                        Basis::Competent => c,
                    };
                    (side as usize == u).then_some(n + k)
                }),
        )
    }

    /// The (receiving, competent) units of tally cell `cell`.
    pub fn cell_units(&self, cell: usize) -> (usize, usize) {
        let n = self.n_units();
        if cell < n {
            (cell, cell)
        } else {
            let (r, c) = self.pairs[cell - n];
            (r as usize, c as usize)
        }
    }
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
    /// The legal calendar and the pools' service hours.
    cal: &'a Calendars,
    tiers: Vec<Tier>,
    warmup: f64,
    rngs: Rngs,
    arena: Vec<Dossier>,
    /// Month index (into `run.months`) of each day since the start; days before the window map to 0.
    day_month: Vec<u16>,
    /// Counts per procedure × channel; procedures and tier × channel are
    /// summed from them (and cells from `run.monthly`) when the run ends, so
    /// each dossier is recorded in two scopes, not four.
    by_proc: Vec<[Counts; 4]>,
    /// Tier rank of each procedure's receiving units.
    proc_tier: Vec<usize>,
    /// Months of the window (the stride of the three tables below).
    n_months: usize,
    /// [`ProvinceRun::monthly`], [`ProvinceRun::late_held`] and
    /// [`ProvinceRun::busy_monthly`] while the run goes, each in one flat
    /// table at `row × n_months + month` (a lookup is one load, not a row's
    /// header and then its data), split into rows when it ends.
    monthly: Vec<Counts>,
    late_held: Vec<u64>,
    busy_monthly: Vec<[f64; 3]>,
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
        let ncells = cp.n_cells();
        // Calendar months of the tallied window, and each day's month index.
        let first = i64::from(sc.warmup_days);
        let last = first + i64::from(sc.horizon_days);
        let mut months: Vec<(i32, u32)> = Vec::new();
        let mut day_month = Vec::with_capacity(last as usize + 1);
        for day in 0..=last {
            use chrono::Datelike;
            let date = sc.calendars.legal.date(day.max(first));
            let ym = (date.year(), date.month());
            if months.last() != Some(&ym) {
                months.push(ym);
            }
            day_month.push((months.len() - 1) as u16);
        }
        Self {
            sc,
            cp,
            cal: &sc.calendars,
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
            n_months: months.len(),
            monthly: vec![Counts::default(); ncells * months.len()],
            late_held: vec![0; nu * months.len()],
            busy_monthly: vec![[0.0; 3]; nu * months.len()],
            run: ProvinceRun {
                cells: vec![Counts::default(); ncells],
                monthly: Vec::new(),
                pairs: cp.pairs.clone(),
                late_held: Vec::new(),
                busy_monthly: Vec::new(),
                capacity_monthly: vec![vec![[0.0; 3]; months.len()]; nu],
                daily: vec![[[0; 3]; 3]; last as usize + 2],
                months,
                procedures: vec![Counts::default(); sc.procedures.len()],
                channels: Default::default(),
                turnaround: Default::default(),
                counter_wait: Default::default(),
                unit_counter_wait: vec![Default::default(); nu],
                open: vec![0; ncells],
                overdue: vec![0; ncells],
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
        let legal = &*self.cal.legal;
        let d = &mut self.arena[i];
        d.receipt = now;
        d.appointment = legal.appointment(now, p.deadline_days);
        c.due = d.appointment;
        // Inputs are digitised when born digital, or when the paper is scanned.
        if d.channel.online() || unit(&mut d.rng) < p.digitisation {
            d.flags |= DIGITISED;
        }
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
        Target::Node(self.cp.station(d.comp, 1))
    }

    /// Hands the appraised dossier to the leaders (through the in-tray delay, if any).
    fn send_to_approval(&mut self, i: usize) -> Target {
        let d = &mut self.arena[i];
        if self.cp.handoff[d.proc as usize].is_some() {
            d.stage = Stage::HandoffToApproval;
            return Target::Node(self.cp.handoff_node);
        }
        d.stage = Stage::Approval;
        Target::Node(self.cp.station(d.comp, 2))
    }

    fn complete(&mut self, i: usize, now: f64) -> Target {
        let d = self.arena[i].clone();
        self.arena[i].flags &= !LIVE;
        self.run.dossiers += 1;
        let day = (WorkCalendar::day_of(now).max(0) as usize).min(self.run.daily.len() - 1);
        let tier = self.tiers[d.unit as usize].rank();
        self.run.daily[day][tier][1] += 1;
        self.run.daily[day][tier][2] += u32::from(now > d.appointment);
        if now < self.warmup {
            return Target::Exit;
        }
        let p = self.proc(&d);
        let legal = &*self.cal.legal;
        let late = now > d.appointment;
        let app_day = WorkCalendar::day_of(d.appointment);
        // The apology check: one working day before the deadline's day.
        let mut check_day = app_day - 1;
        while !legal.is_working_day(check_day) && check_day > app_day - 30 {
            check_day -= 1;
        }
        let at_risk = now > legal.close_of(check_day);
        let apology = at_risk && unit(&mut self.arena[i].rng) < self.sc.model.apology_compliance;
        let e_result = unit(&mut self.arena[i].rng) < p.e_result;
        let paid_online =
            p.fee && d.channel.online() && unit(&mut self.arena[i].rng) < p.online_payment;
        let visits = match d.channel {
            Channel::InPerson => 1 + u64::from(d.resubmissions),
            _ => 0,
        } + u64::from(!e_result && d.channel != Channel::Postal);
        let turnaround = (legal.working_minutes_between(d.receipt, now) - d.citizen_working)
            .max(0.0)
            / WORKING_DAY_MINUTES;
        let (desk_request, appraisal_request) = (d.has(DESK_REQUEST), d.has(APPRAISAL_REQUEST));
        let second = desk_request && appraisal_request;
        let e_ok = !p.paper_result || e_result;
        let requests = u32::from(desk_request) + u32::from(appraisal_request);
        let sat = &self.sc.index.satisfaction;
        let satisfaction =
            sat.satisfaction(late || second, visits as u32, d.counter_wait, requests);
        let complaint = sat.complaint(satisfaction);
        let paper = d.channel.paper();
        let digitised = d.has(DIGITISED);
        // The dossier's counts, worked out once and added to both scopes.
        let delta = Counts {
            resolved: 1,
            on_time: u64::from(!late),
            early: u64::from(WorkCalendar::day_of(now) < app_day),
            late: u64::from(late),
            late_766: u64::from(late || second),
            late_with_apology: u64::from(late && apology),
            apologies: u64::from(apology),
            supplemented: u64::from(desk_request || appraisal_request),
            second_requests: u64::from(second),
            fee: u64::from(p.fee),
            paid_online: u64::from(paid_online),
            paper: u64::from(paper),
            digitised: u64::from(paper && digitised),
            e_result: u64::from(e_result),
            visits,
            online_766: u64::from(d.channel.online() && e_ok),
            paper_required: u64::from(p.paper_result),
            e_result_paper: u64::from(p.paper_result && e_result),
            digitised_766: u64::from(digitised && e_ok),
            satisfaction,
            complaints: complaint,
            ..Counts::default()
        };
        let record = |c: &mut Counts| {
            c.add_counters(&delta);
            c.turnaround.add(turnaround);
            if !d.counter_wait.is_nan() {
                c.counter_wait.add(d.counter_wait);
            }
        };
        let ch = Channel::ALL
            .iter()
            .position(|c| *c == d.channel)
            .unwrap_or(0);
        record(&mut self.by_proc[d.proc as usize][ch]);
        let m = self.month_of(now);
        let cell = self.cp.cell_of(&d);
        record(&mut self.monthly[cell * self.n_months + m]);
        if late {
            let holder = if d.has(LATE_AT_RECEIVING) {
                d.unit
            } else {
                d.comp
            };
            self.late_held[holder as usize * self.n_months + m] += 1;
        }
        let (rt, ct) = (
            self.tiers[d.unit as usize].rank(),
            self.tiers[d.comp as usize].rank(),
        );
        self.run.turnaround[rt][ct].add(turnaround);
        if !d.counter_wait.is_nan() {
            self.run.counter_wait[rt][ct].add(d.counter_wait);
            self.run.unit_counter_wait[d.unit as usize].add(d.counter_wait);
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
        let nm = self.n_months;
        self.run.monthly = self.monthly.chunks(nm).map(<[_]>::to_vec).collect();
        self.run.late_held = self.late_held.chunks(nm).map(<[_]>::to_vec).collect();
        self.run.busy_monthly = self.busy_monthly.chunks(nm).map(<[_]>::to_vec).collect();
        let end = result.end_time;
        let legal = &*self.cal.legal;
        for d in &self.arena {
            if !d.has(LIVE) {
                continue;
            }
            let cell = self.cp.cell_of(d);
            self.run.open[cell] += 1;
            // Not yet received: no deadline runs.
            if d.stage == Stage::Desk || d.stage == Stage::CitizenAtDesk {
                continue;
            }
            // With the citizen, the clock is stopped: judge the appointment
            // extended by the citizen's time so far.
            let due = if d.stage == Stage::CitizenAtAppraisal {
                legal.add_working_minutes(
                    d.appointment,
                    legal.working_minutes_between(d.request_at, end),
                )
            } else {
                d.appointment
            };
            if due < end {
                self.run.overdue[cell] += 1;
            }
        }
        for (cell, months) in self.run.cells.iter_mut().zip(&self.run.monthly) {
            for m in months {
                cell.merge(m);
            }
        }
        for (p, cells) in self.by_proc.iter().enumerate() {
            for (ch, c) in cells.iter().enumerate() {
                self.run.procedures[p].merge(c);
                self.run.channels[self.proc_tier[p]][ch].merge(c);
            }
        }
        // Servers are on duty in their pool's service hours only.
        let on_duty: Vec<f64> = self
            .cal
            .service
            .iter()
            .map(|cal| {
                cal.working_minutes_between(result.end_time - result.window, result.end_time)
            })
            .collect();
        // On-duty minutes of each pool in each month of the window.
        let mut month_minutes = vec![[0.0f64; 3]; self.run.months.len()];
        let first = WorkCalendar::day_of(result.end_time - result.window).max(0);
        let last = WorkCalendar::day_of(result.end_time);
        for day in first..last {
            let m = self.month_of(day as f64 * DAY);
            let (a, b) = (day as f64 * DAY, (day + 1) as f64 * DAY);
            for (k, cal) in self.cal.service.iter().enumerate() {
                month_minutes[m][k] += cal.working_minutes_between(a, b);
            }
        }
        for (u, ids) in self.cp.stations.iter().enumerate() {
            for (k, &id) in ids.iter().enumerate() {
                if let NodeKind::Station { servers, .. } = self.cp.network.nodes()[id].kind {
                    for (m, minutes) in month_minutes.iter().enumerate() {
                        self.run.capacity_monthly[u][m][k] = f64::from(servers) * minutes[k];
                    }
                }
            }
        }
        for (cap, ids) in self.run.capacity.iter_mut().zip(&self.cp.stations) {
            for ((c, &id), minutes) in cap.iter_mut().zip(ids).zip(&on_duty) {
                if let NodeKind::Station { servers, .. } = self.cp.network.nodes()[id].kind {
                    *c = f64::from(servers) * minutes;
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
        let EntryCell {
            unit: u,
            proc: p,
            channel,
            comp,
            cell,
        } = self.cp.cells[source][k];
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
            flags: LIVE,
            resubmissions: 0,
            receipt: f64::NAN,
            appointment: f64::INFINITY,
            request_at: 0.0,
            citizen_working: 0.0,
            counter_wait: f64::NAN,
        };
        // Records are indexed by the kernel's customer slot (in `c.tag`), so
        // the kernel's and the router's records of an upcoming event can be
        // loaded independently (see `touch`).
        // Slots are dense: a new slot is the next one.
        let i = c.tag as usize;
        if i < self.arena.len() {
            self.arena[i] = d;
        } else {
            debug_assert_eq!(i, self.arena.len());
            self.arena.push(d);
        }
        c.class = if channel.online() { ONLINE } else { COUNTER };
        let day = (WorkCalendar::day_of(now).max(0) as usize).min(self.run.daily.len() - 1);
        self.run.daily[day][self.tiers[u as usize].rank()][0] += 1;
        if counted {
            let ch = Channel::ALL.iter().position(|x| *x == channel).unwrap_or(0);
            let m = self.month_of(now);
            for cnt in [
                &mut self.monthly[cell as usize * self.n_months + m],
                &mut self.by_proc[p as usize][ch],
            ] {
                cnt.received += 1;
                cnt.online += u64::from(channel.online());
                cnt.full_online += u64::from(channel == Channel::OnlineFull);
            }
        }
        self.cp.station(u, 0)
    }

    #[inline(always)]
    fn touch(&self, slot: u32) {
        crate::engine::prefetch(self.arena.as_ptr().wrapping_add(slot as usize));
    }

    fn route(&mut self, _node: NodeId, c: &mut Customer, now: f64) -> Target {
        let i = c.tag as usize;
        let d = self.arena[i].clone();
        let p = self.proc(&d);
        // Lateness is attributed to the unit that held the dossier when its
        // deadline passed: the first stage to end past the appointment (the
        // citizen's time does not count: the appointment moves with it).
        if now > d.appointment
            && !d.has(LATE_AT_RECEIVING | LATE_AT_COMPETENT)
            && d.stage != Stage::CitizenAtAppraisal
        {
            self.arena[i].flags |= if d.stage.held_by_receiving_unit() {
                LATE_AT_RECEIVING
            } else {
                LATE_AT_COMPETENT
            };
        }
        match d.stage {
            Stage::Desk => {
                if d.counter_wait.is_nan() && d.channel == Channel::InPerson {
                    // Taken in hand after closing, the citizen is served at the next opening.
                    self.arena[i].counter_wait = self.cal.desk().next_open(c.started) - c.arrived;
                }
                if !d.has(DESK_REQUEST) && unit(&mut self.arena[i].rng) < p.incomplete_at_desk {
                    let d = &mut self.arena[i];
                    d.flags |= DESK_REQUEST;
                    d.stage = Stage::CitizenAtDesk;
                    return Target::Node(self.cp.citizen);
                }
                self.receipt(i, now, c)
            }
            Stage::CitizenAtDesk => {
                let d = &mut self.arena[i];
                d.stage = Stage::Desk;
                d.resubmissions += 1;
                Target::Node(self.cp.station(d.unit, 0))
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
                Target::Node(self.cp.station(d.comp, 1))
            }
            Stage::HandoffToApproval => {
                self.arena[i].stage = Stage::Approval;
                Target::Node(self.cp.station(d.comp, 2))
            }
            Stage::Appraisal => {
                if !d.has(APPRAISAL_REQUEST)
                    && unit(&mut self.arena[i].rng) < p.incomplete_at_appraisal
                {
                    let d = &mut self.arena[i];
                    d.flags |= APPRAISAL_REQUEST;
                    d.request_at = now;
                    d.stage = Stage::CitizenAtAppraisal;
                    return Target::Node(self.cp.citizen);
                }
                self.send_to_approval(i)
            }
            Stage::CitizenAtAppraisal => {
                // The citizen's time does not count: move the appointment by it.
                let legal = &*self.cal.legal;
                let away = legal.working_minutes_between(d.request_at, now);
                let d = &mut self.arena[i];
                d.citizen_working += away;
                d.appointment = legal.add_working_minutes(d.appointment, away);
                c.due = d.appointment;
                d.resubmissions += 1;
                d.stage = Stage::Resubmit;
                Target::Node(self.cp.station(d.unit, 0))
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
        if let Some((u, k)) = self.cp.station_of(node) {
            // Effort elapses in the pool's service hours: work in hand at
            // closing resumes at the next opening (the server keeps the
            // dossier overnight).
            let hours = &*self.cal.service[k];
            let d = &mut self.arena[c.tag as usize];
            let sampler = if k == 0 && c.class == ONLINE {
                &self.cp.online_check[d.proc as usize]
            } else {
                &self.cp.effort[d.proc as usize][k]
            };
            let mut effort = sampler.sample(&mut d.rng);
            // Work taken in hand after closing starts at the next opening.
            if let Some(sh) = &self.sc.model.shock
                && (sh.start..sh.end).contains(&hours.next_open(now))
            {
                effort /= sh.productivity;
            }
            let effort = effort.min(self.cp.span[k]);
            if now >= self.warmup {
                self.run.busy[u][k] += effort;
                let m = self.month_of(now);
                self.busy_monthly[u * self.n_months + m][k] += effort;
            }
            return Some(hours.add_working_minutes(now, effort) - now);
        }
        let d = self.arena[c.tag as usize].clone();
        if node == self.cp.handoff_node {
            // In-tray days elapse in the service hours of the pool the dossier waits for.
            let k = if d.stage == Stage::HandoffToApproval {
                2
            } else {
                1
            };
            let hours = &*self.cal.service[k];
            let days = self.cp.handoff[d.proc as usize]
                .as_ref()
                .map_or(0.0, |s| s.sample(&mut self.arena[c.tag as usize].rng));
            let minutes = (days * WORKING_DAY_MINUTES).min(self.cp.span[k]);
            return Some(hours.add_working_minutes(now, minutes) - now);
        }
        if node == self.cp.citizen {
            let days =
                self.cp.supplement[d.proc as usize].sample(&mut self.arena[c.tag as usize].rng);
            let mut t = (now + days * DAY).min(self.cp.end + DAY);
            if d.channel.paper() {
                // A paper supplement is brought to the counter in the desk's hours.
                t = self.cal.desk().next_open(t);
            }
            return Some(t - now);
        }
        // Liên thông between agencies runs on the legal calendar.
        let legal = &*self.cal.legal;
        let p = self.proc(&d);
        let t = match p.transfer {
            Transfer::Electronic => {
                // Sent at once in office hours before the cut-off, else at the next working day's opening.
                let day = WorkCalendar::day_of(now);
                let base = if legal.is_working_day(day) && now - day as f64 * DAY < 15.0 * 60.0 {
                    legal.next_open(now)
                } else {
                    legal.next_open((day + 1) as f64 * DAY)
                };
                legal.add_working_minutes(
                    base,
                    self.cp
                        .electronic
                        .sample(&mut self.arena[c.tag as usize].rng)
                        .min(self.cp.span[3]),
                )
            }
            Transfer::Paper => legal.add_working_minutes(
                now,
                self.cp
                    .paper
                    .sample(&mut self.arena[c.tag as usize].rng)
                    .min(self.cp.span[3]),
            ),
        };
        Some(t - now)
    }
}
