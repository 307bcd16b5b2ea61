//! The discrete-event kernel: runs one replication of a [`Network`] and tallies per-node and network statistics.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use serde::Serialize;

use super::dist::unit;
use super::network::{Discipline, Network, NodeId, NodeKind, RouteTable, Target};
use super::queue::{EventQueue, order_key, order_key_time};
use super::stream::{Stream, Streams};
use crate::stats::Tally;

/// Customer slots from which the loop reads ahead the records of the
/// events likely to come next (see `Sim::touch_upcoming`): below it the
/// records (the kernel's and a router's, about 100 bytes a customer) stay
/// in the core's nearest caches and reading ahead only adds instructions.
const READ_AHEAD_MIN: usize = 4096;

/// A customer in flight (40 bytes). `tag` is free for the model that drives the kernel.
///
/// Customers live in slots numbered from 0; a slot is reused once its
/// customer leaves, so slot numbers stay below the most customers ever in
/// flight at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Customer {
    /// Class index (a router may switch it; the next node samples service for the new class).
    pub class: u32,
    /// Free for the driving model; it holds the customer's slot when
    /// [`Router::entry`] is called, so a model can index its own records by slot.
    pub tag: u32,
    /// Time the customer entered the network.
    pub created: f64,
    /// Time the customer entered its current node.
    pub arrived: f64,
    /// Time its service at the current node started.
    pub started: f64,
    /// Due time (for earliest-deadline-first queues; `+∞` when none).
    pub due: f64,
}

/// Decides where a customer goes after a node. The kernel is generic over it
/// (monomorphised, no dynamic dispatch), so richer models can route on their
/// own state while reusing the kernel.
pub trait Router {
    /// The next target of `customer`, who has just finished at `node` at time `now`.
    fn route(&mut self, node: NodeId, customer: &mut Customer, now: f64) -> Target;

    /// The node a new customer from `source` enters (it may also set the
    /// customer's class and tag); by default the source's own node.
    #[inline(always)]
    fn entry(
        &mut self,
        _source: usize,
        _customer: &mut Customer,
        _now: f64,
        node: NodeId,
    ) -> NodeId {
        node
    }

    /// Overrides the service (or delay) time of `customer` starting at
    /// `node` at `now`; `None` (the default) draws from the node's distribution.
    #[inline(always)]
    fn service_time(&mut self, _node: NodeId, _customer: &Customer, _now: f64) -> Option<f64> {
        None
    }

    /// A hint that the customer in `slot` is likely to be routed soon: a
    /// router may read its own record of that customer so that the memory is
    /// in cache by then. It must not change any state (the default does
    /// nothing). The kernel gives these hints only once a run has used
    /// 4,096 customer slots or more: below that the records stay in cache.
    #[inline(always)]
    fn touch(&self, _slot: u32) {}
}

impl<R: Router + ?Sized> Router for &mut R {
    #[inline]
    fn route(&mut self, node: NodeId, customer: &mut Customer, now: f64) -> Target {
        (**self).route(node, customer, now)
    }
    #[inline]
    fn entry(&mut self, source: usize, customer: &mut Customer, now: f64, node: NodeId) -> NodeId {
        (**self).entry(source, customer, now, node)
    }
    #[inline]
    fn service_time(&mut self, node: NodeId, customer: &Customer, now: f64) -> Option<f64> {
        (**self).service_time(node, customer, now)
    }
    #[inline]
    fn touch(&self, slot: u32) {
        (**self).touch(slot);
    }
}

/// Routes by the network's probability tables, one random stream per node.
#[derive(Clone, Debug)]
pub struct TableRouter<'a> {
    tables: &'a [RouteTable],
    n_classes: usize,
    rngs: Vec<Stream>,
}

impl<'a> TableRouter<'a> {
    /// The router of `net` for one replication.
    pub fn new(net: &'a Network, streams: &Streams) -> Self {
        Self {
            tables: &net.tables,
            n_classes: net.n_classes,
            rngs: (0..net.nodes().len())
                .map(|i| streams.stream("route", &[i as u64]))
                .collect(),
        }
    }
}

impl Router for TableRouter<'_> {
    #[inline]
    fn route(&mut self, node: NodeId, customer: &mut Customer, _now: f64) -> Target {
        match &self.tables[node * self.n_classes + customer.class as usize] {
            RouteTable::Exit => Target::Exit,
            RouteTable::Always(t) => *t,
            RouteTable::Random { cum, targets } => {
                let u = unit(&mut self.rngs[node]);
                match cum.iter().position(|&c| u < c) {
                    Some(i) => targets[i],
                    None => Target::Exit,
                }
            }
        }
    }
}

/// When a replication starts tallying and when it stops.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunConfig {
    /// Stop at this time (time units; `f64::INFINITY` for no limit).
    pub horizon: f64,
    /// Statistics are reset at this time; only what happens after it is tallied.
    pub warmup: f64,
    /// Stop once this many customers have left the network (counted from time 0).
    pub max_customers: Option<u64>,
    /// Fail rather than hold more than this many customers at once (a memory bound).
    pub max_in_flight: usize,
    /// Width of the event queue's time buckets (`f64::INFINITY`: a plain
    /// heap). Models with many customers in long delays set it to keep the
    /// heap small; results do not depend on it.
    pub bucket_width: f64,
    /// Tally waits and sojourns per (node, class) in multi-class networks
    /// ([`NodeResult::classes`]); models that keep their own tallies turn it off.
    pub per_class: bool,
    /// Tally each node's waits and sojourns ([`NodeResult::wait`],
    /// [`NodeResult::sojourn`], [`NodeResult::waited`]) and the network
    /// sojourn ([`RunResult::network_sojourn`]); when off they stay empty
    /// (counts, time averages and busy times are kept either way). Models
    /// that keep their own tallies turn it off (1.5% of the instructions of
    /// a province-year).
    pub sojourn_tallies: bool,
}

impl RunConfig {
    /// Run until `horizon`, tallying after `warmup`.
    pub fn horizon(horizon: f64, warmup: f64) -> Self {
        Self {
            horizon,
            warmup,
            max_customers: None,
            max_in_flight: 10_000_000,
            bucket_width: f64::INFINITY,
            per_class: true,
            sojourn_tallies: true,
        }
    }

    /// Run until `n` customers have left the network, with no warm-up.
    pub fn customers(n: u64) -> Self {
        Self {
            horizon: f64::INFINITY,
            warmup: 0.0,
            max_customers: Some(n),
            max_in_flight: 10_000_000,
            bucket_width: f64::INFINITY,
            per_class: true,
            sojourn_tallies: true,
        }
    }
}

/// Why a replication stopped early.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RunError {
    /// More customers in flight than the configured bound.
    #[error(
        "more than {limit} customers in the network at time {time:.1}: the system is overloaded and the backlog keeps growing; fullest node: {node} ({count} customers); add capacity or lower the load"
    )]
    Overloaded {
        /// The bound.
        limit: usize,
        /// When it was hit.
        time: f64,
        /// The node holding the most customers.
        node: String,
        /// How many it held.
        count: usize,
    },
    /// The configuration can never stop.
    #[error("the run has neither a finite horizon nor a customer limit, so it would never stop")]
    Unbounded,
}

/// What one node saw after the warm-up.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeResult {
    /// Node name.
    pub name: String,
    /// Customers who entered.
    pub arrivals: u64,
    /// Customers who left.
    pub departures: u64,
    /// Waits in queue before service (stations; zero for delays), time units.
    #[serde(skip)]
    pub wait: Tally,
    /// Customers whose wait was positive.
    pub waited: u64,
    /// Time from entering to leaving the node.
    #[serde(skip)]
    pub sojourn: Tally,
    /// Time-average number waiting (Lq).
    pub mean_queue: f64,
    /// Time-average number in the node (L).
    pub mean_in_node: f64,
    /// Time-average busy servers over time-average capacity (stations; `NaN` for delays).
    pub utilisation: f64,
    /// Server-busy time in the window (time units × servers).
    pub busy_time: f64,
    /// Server-on-duty time in the window (time units × servers; 0 for delays).
    pub capacity_time: f64,
    /// Per class, in class order, when the network has more than one class (else empty).
    pub classes: Vec<ClassResult>,
}

/// What one node saw of one class after the warm-up (multi-class networks).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClassResult {
    /// Customers of the class who left the node.
    pub departures: u64,
    /// Their waits in queue before service (stations; zero for delays).
    #[serde(skip)]
    pub wait: Tally,
    /// Customers of the class whose wait was positive.
    pub waited: u64,
    /// Their time from entering to leaving the node.
    #[serde(skip)]
    pub sojourn: Tally,
}

/// What one replication produced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunResult {
    /// Per node, in network order.
    pub nodes: Vec<NodeResult>,
    /// Sojourn in the network of customers who left after the warm-up.
    #[serde(skip)]
    pub network_sojourn: Tally,
    /// Time-average number of customers in the network.
    pub mean_in_network: f64,
    /// Customers who entered the network after the warm-up.
    pub network_arrivals: u64,
    /// Length of the tallied window (end − warm-up), time units.
    pub window: f64,
    /// Time the run ended.
    pub end_time: f64,
    /// Events processed over the whole run: source arrivals, service and
    /// delay completions, capacity changes (the warm-up reset is not counted).
    pub events: u64,
    /// Customers who left the network over the whole run.
    pub customers: u64,
    /// Most customers in flight at once (the customer arena's high-water
    /// mark): memory is bounded by this, not by the customers simulated.
    pub peak_in_flight: usize,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Done { node: u32, cust: u32 },
    Capacity { node: u32 },
}

/// An [`Ev`] packed into 8 bytes, so heap entries stay at 24 bytes:
/// bits 62–63 the kind, 32–61 the node, 0–31 the customer.
#[derive(Clone, Copy, Debug)]
struct PackedEv(u64);

impl PackedEv {
    #[inline(always)]
    fn done(node: usize, cust: u32) -> Self {
        Self(((node as u64) << 32) | u64::from(cust))
    }
    #[inline(always)]
    fn capacity(node: usize) -> Self {
        Self((1 << 62) | ((node as u64) << 32))
    }
    #[inline(always)]
    fn unpack(self) -> Ev {
        let node = ((self.0 >> 32) & 0x3FFF_FFFF) as u32;
        if self.0 >> 62 == 0 {
            Ev::Done {
                node,
                cust: self.0 as u32,
            }
        } else {
            Ev::Capacity { node }
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Keyed {
    key: f64,
    seq: u64,
    cust: u32,
}
impl PartialEq for Keyed {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Keyed {
    fn cmp(&self, o: &Self) -> Ordering {
        o.key
            .total_cmp(&self.key)
            .then_with(|| o.seq.cmp(&self.seq))
    }
}

#[derive(Debug)]
enum WaitQueue {
    Fifo(VecDeque<u32>),
    Keyed { heap: BinaryHeap<Keyed>, seq: u64 },
}

impl WaitQueue {
    #[inline]
    fn len(&self) -> usize {
        match self {
            WaitQueue::Fifo(q) => q.len(),
            WaitQueue::Keyed { heap, .. } => heap.len(),
        }
    }
    #[inline]
    fn push(&mut self, cust: u32, key: f64) {
        match self {
            WaitQueue::Fifo(q) => q.push_back(cust),
            WaitQueue::Keyed { heap, seq } => {
                heap.push(Keyed {
                    key,
                    seq: *seq,
                    cust,
                });
                *seq += 1;
            }
        }
    }
    #[inline]
    fn pop(&mut self) -> Option<u32> {
        match self {
            WaitQueue::Fifo(q) => q.pop_front(),
            WaitQueue::Keyed { heap, .. } => heap.pop().map(|k| k.cust),
        }
    }
}

/// A node's state. The fields every arrival and departure touches come
/// first, within one cache line (the struct is aligned to it); the queue of
/// waiting customers, the random stream and the tallies follow. With
/// hundreds of nodes the states outgrow the nearest cache, and fields
/// spread over four lines cost up to four misses an event where one line
/// costs one. (Counting the waiting customers in the first line too, so
/// that an empty queue is never read, measured 7% slower on M/M/c.)
#[repr(C, align(64))]
struct NodeState {
    capacity: u32,
    busy: u32,
    station: bool,
    discipline: Discipline,
    arrivals: u64,
    departures: u64,
    /// Customers served at once (wait 0), added to `wait` when the run ends.
    zero_waits: u64,
    q_area: f64,
    busy_area: f64,
    // The rest: the queue, the schedule and the kernel's own tallies.
    queue: WaitQueue,
    rng: Stream,
    sched_pos: usize,
    last: f64,
    cap_area: f64,
    waited: u64,
    wait: Tally,
    sojourn: Tally,
}

const _: () = assert!(std::mem::offset_of!(NodeState, queue) <= 64);

/// Time integrals use the exact sample-path identity: the area under a
/// counting process over a window is Σ(leave time) − Σ(enter time), with the
/// items present at the window's edges counted from/to the edge. So each
/// transition costs one addition, not an update of every integral per event.
impl NodeState {
    fn reset(&mut self, now: f64) {
        self.q_area = -(self.queue.len() as f64) * now;
        self.busy_area = -f64::from(self.busy) * now;
        self.cap_area = 0.0;
        self.last = now;
        self.arrivals = 0;
        self.departures = 0;
        self.waited = 0;
        self.zero_waits = 0;
        self.wait = Tally::new();
        self.sojourn = Tally::new();
    }

    /// Accrues capacity·time up to `now` (called when the capacity changes).
    #[inline]
    fn flush_capacity(&mut self, now: f64) {
        self.cap_area += f64::from(self.capacity) * (now - self.last);
        self.last = now;
    }

    /// Closes the integrals and tallies at the end of the window.
    fn close(&mut self, now: f64) {
        self.wait.add_repeated(0.0, self.zero_waits);
        self.zero_waits = 0;
        self.q_area += self.queue.len() as f64 * now;
        self.busy_area += f64::from(self.busy) * now;
        self.flush_capacity(now);
    }
}

/// Per (node, class) tallies of a multi-class network.
#[derive(Clone, Debug, Default)]
struct ClassStat {
    departures: u64,
    waited: u64,
    /// Served at once (wait 0), added to `wait` when the run ends.
    zero_waits: u64,
    wait: Tally,
    sojourn: Tally,
}

struct SourceState {
    /// Order key (time, sequence) of the next arrival; see [`order_key`].
    key: u128,
    rng: Stream,
    /// Where the arrival profile's search starts (see [`crate::engine::ArrivalGen::next_after_from`]).
    hint: usize,
}

/// The tallies of `node` × `class`, when the run keeps them (the check of
/// the empty case first, so that runs without them skip the index).
#[inline(always)]
fn class_stat(
    stats: &mut [ClassStat],
    n_classes: usize,
    node: NodeId,
    class: usize,
) -> Option<&mut ClassStat> {
    if stats.is_empty() {
        return None;
    }
    stats.get_mut(node * n_classes + class)
}

/// One replication in progress.
struct Sim<'a, R: Router> {
    net: &'a Network,
    router: R,
    now: f64,
    events: EventQueue<PackedEv>,
    sources: Vec<SourceState>,
    next_source: usize,
    nodes: Vec<NodeState>,
    /// Per (node, class) tallies, `node * n_classes + class`; empty for single-class networks.
    class_stats: Vec<ClassStat>,
    due_rngs: Vec<Stream>,
    customers: Vec<Customer>,
    free: Vec<u32>,
    max_in_flight: usize,
    in_net: u64,
    net_area: f64,
    net_arrivals: u64,
    net_sojourn: Tally,
    stats_start: f64,
    /// Order key of the warm-up reset (`u128::MAX` once done or when there is none).
    warmup_key: u128,
    /// See [`RunConfig::sojourn_tallies`].
    sojourn_tallies: bool,
    n_events: u64,
    n_customers: u64,
}

/// Runs one replication of `net` with its probability routing.
pub fn run(net: &Network, cfg: &RunConfig, streams: Streams) -> Result<RunResult, RunError> {
    run_with(net, TableRouter::new(net, &streams), cfg, streams)
}

/// Runs one replication of `net` with a custom router.
pub fn run_with<R: Router>(
    net: &Network,
    router: R,
    cfg: &RunConfig,
    streams: Streams,
) -> Result<RunResult, RunError> {
    if !cfg.horizon.is_finite() && cfg.max_customers.is_none() {
        return Err(RunError::Unbounded);
    }
    let mut sim = Sim::new(net, router, cfg, &streams);
    sim.run(cfg)?;
    Ok(sim.finish())
}

impl<'a, R: Router> Sim<'a, R> {
    fn new(net: &'a Network, router: R, cfg: &RunConfig, streams: &Streams) -> Self {
        let mut events = EventQueue::with_buckets(cfg.bucket_width);
        let mut nodes = Vec::with_capacity(net.nodes().len());
        for (i, node) in net.nodes().iter().enumerate() {
            let rng = streams.stream("service", &[i as u64]);
            let (station, discipline, capacity, schedule) = match &node.kind {
                NodeKind::Station {
                    servers,
                    discipline,
                    schedule,
                } => {
                    let cap = schedule.as_ref().map_or(*servers, |s| s[0].servers);
                    (true, *discipline, cap, schedule.as_ref())
                }
                NodeKind::Delay => (false, Discipline::Fifo, u32::MAX, None),
            };
            if let Some(s) = schedule {
                events.push(s[0].duration, PackedEv::capacity(i));
            }
            let queue = match discipline {
                Discipline::Fifo => WaitQueue::Fifo(VecDeque::new()),
                _ => WaitQueue::Keyed {
                    heap: BinaryHeap::new(),
                    seq: 0,
                },
            };
            nodes.push(NodeState {
                station,
                discipline,
                capacity: if station { capacity } else { 0 },
                busy: 0,
                queue,
                rng,
                sched_pos: 0,
                last: 0.0,
                q_area: 0.0,
                busy_area: 0.0,
                cap_area: 0.0,
                arrivals: 0,
                departures: 0,
                waited: 0,
                zero_waits: 0,
                wait: Tally::new(),
                sojourn: Tally::new(),
            });
        }
        // The warm-up reset is not an event in the queue: a lone event a
        // month ahead would make the bucketed queue jump to its bucket at the
        // first refill and hold every earlier event in one large heap. It
        // keeps its place in the order (a sequence number taken here, as a
        // push would) and the loop resets before the first event after it.
        let warmup_key = if cfg.warmup > 0.0 {
            order_key(cfg.warmup, events.reserve_seq())
        } else {
            u128::MAX
        };
        let mut sources = Vec::with_capacity(net.sources().len());
        for (i, arr) in net.arrivals.iter().enumerate() {
            let mut rng = streams.stream("arrival", &[i as u64]);
            let mut hint = 0;
            let next = arr.next_after_from(0.0, &mut hint, &mut rng);
            let key = order_key(next, events.reserve_seq());
            sources.push(SourceState { key, rng, hint });
        }
        let due_rngs = (0..net.classes().len())
            .map(|k| streams.stream("due", &[k as u64]))
            .collect();
        let class_stats = if cfg.per_class && net.n_classes > 1 {
            vec![ClassStat::default(); net.nodes().len() * net.n_classes]
        } else {
            Vec::new()
        };
        let mut sim = Self {
            net,
            router,
            now: 0.0,
            events,
            sources,
            next_source: 0,
            nodes,
            class_stats,
            due_rngs,
            customers: Vec::with_capacity(1024),
            free: Vec::with_capacity(1024),
            max_in_flight: cfg.max_in_flight,
            in_net: 0,
            net_area: 0.0,
            net_arrivals: 0,
            net_sojourn: Tally::new(),
            stats_start: 0.0,
            warmup_key,
            sojourn_tallies: cfg.sojourn_tallies,
            n_events: 0,
            n_customers: 0,
        };
        sim.pick_next_source();
        sim
    }

    #[inline]
    fn pick_next_source(&mut self) {
        let mut best = 0;
        for i in 1..self.sources.len() {
            if self.sources[i].key < self.sources[best].key {
                best = i;
            }
        }
        self.next_source = best;
    }

    fn run(&mut self, cfg: &RunConfig) -> Result<(), RunError> {
        let max_customers = cfg.max_customers.unwrap_or(u64::MAX);
        // Keys after every key at the horizon's time: a key exceeds it
        // exactly when its time exceeds the horizon (times order as
        // `total_cmp`, and every sequence number is below `u64::MAX`).
        // (A NaN horizon never stops the run and −0 is 0, as with `t > horizon`.)
        let horizon_key = match cfg.horizon {
            h if h.is_nan() => u128::MAX,
            h => order_key(h + 0.0, u64::MAX),
        };
        let mut control = self.warmup_key.min(horizon_key);
        loop {
            // One integer compare orders the next arrival against the heap top.
            let src_key = self.sources[self.next_source].key;
            // The heap top is looked up once: its key here, its event below.
            let (top, key) = match self.events.peek_keyed() {
                Some((k, ev)) if k < src_key => (Some(ev), k),
                _ => (None, src_key),
            };
            // One compare against the earlier of the horizon and the
            // warm-up reset decides whether either is due.
            if key > control {
                if order_key_time(key) > cfg.horizon {
                    self.now = cfg.horizon;
                    break;
                }
                self.now = order_key_time(self.warmup_key);
                self.warmup_key = u128::MAX;
                control = horizon_key;
                self.reset_stats();
                continue;
            }
            self.now = order_key_time(key);
            let Some(ev) = top else {
                self.n_events += 1;
                self.arrival(self.next_source)?;
                continue;
            };
            // Reading ahead pays only when the records outgrow the
            // core's nearest caches; below that it is only instructions.
            if self.customers.len() >= READ_AHEAD_MIN {
                self.touch_upcoming();
            }
            match ev.unpack() {
                Ev::Done { node, cust } => {
                    // `done` removes or replaces the heap top itself.
                    self.n_events += 1;
                    self.done(node as usize, cust);
                    if self.n_customers >= max_customers {
                        break;
                    }
                }
                Ev::Capacity { node } => {
                    self.events.pop_top();
                    self.n_events += 1;
                    self.capacity_change(node as usize);
                }
            }
        }
        Ok(())
    }

    /// Loads the customers of the events that may come next (the heap top's
    /// children) and lets the router do the same with its records, so that
    /// their cache misses overlap with the current event's work.
    #[inline(always)]
    fn touch_upcoming(&self) {
        for ev in self.events.upcoming() {
            if let Ev::Done { cust, .. } = ev.unpack() {
                // The kernel's record and the router's.
                super::prefetch(self.customers.as_ptr().wrapping_add(cust as usize));
                self.router.touch(cust);
            }
        }
    }

    #[inline(always)]
    fn arrival(&mut self, i: usize) -> Result<(), RunError> {
        let now = self.now;
        let net = self.net;
        let spec = &net.sources()[i];
        let class = spec.class;
        let due = match &net.due[class] {
            Some(s) => now + s.sample(&mut self.due_rngs[class]),
            None => f64::INFINITY,
        };
        // The slot `alloc` will give (the last freed one, else a new one).
        let slot = self
            .free
            .last()
            .copied()
            .unwrap_or(self.customers.len() as u32);
        let mut c = Customer {
            class: class as u32,
            tag: slot,
            created: now,
            arrived: now,
            started: now,
            due,
        };
        let node = self.router.entry(i, &mut c, now, spec.node);
        let cust = self.alloc(c)?;
        self.net_area -= now;
        self.in_net += 1;
        self.net_arrivals += 1;
        let src = &mut self.sources[i];
        let next = net.arrivals[i].next_after_from(now, &mut src.hint, &mut src.rng);
        src.key = order_key(next, self.events.reserve_seq());
        if self.sources.len() > 1 {
            self.pick_next_source();
        }
        self.enter(node, cust);
        Ok(())
    }

    #[inline(always)]
    fn alloc(&mut self, c: Customer) -> Result<u32, RunError> {
        if let Some(i) = self.free.pop() {
            self.customers[i as usize] = c;
            return Ok(i);
        }
        if self.customers.len() >= self.max_in_flight {
            let (node, count) = self
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (i, n.queue.len() + n.busy as usize))
                .max_by_key(|x| x.1)
                .unwrap_or((0, 0));
            return Err(RunError::Overloaded {
                limit: self.max_in_flight,
                time: self.now,
                node: self.net.nodes()[node].name.clone(),
                count,
            });
        }
        self.customers.push(c);
        Ok((self.customers.len() - 1) as u32)
    }

    #[inline(always)]
    fn enter(&mut self, node: NodeId, cust: u32) {
        let now = self.now;
        let c = &mut self.customers[cust as usize];
        c.arrived = now;
        let class = c.class as usize;
        let due = c.due;
        let n = &mut self.nodes[node];
        n.arrivals += 1;
        if !n.station || n.busy < n.capacity {
            n.busy += 1;
            n.busy_area -= now;
            n.zero_waits += 1;
            if let Some(cs) = class_stat(&mut self.class_stats, self.net.n_classes, node, class) {
                cs.zero_waits += 1;
            }
            c.started = now;
            let s = match self.router.service_time(node, c, now) {
                Some(s) => s,
                None => self.net.service[node * self.net.n_classes + class].sample(&mut n.rng),
            };
            self.events.push(now + s, PackedEv::done(node, cust));
        } else {
            let key = match n.discipline {
                Discipline::Fifo => 0.0,
                Discipline::Priority => f64::from(self.net.classes()[class].priority),
                Discipline::Edf => due,
            };
            n.q_area -= now;
            n.queue.push(cust, key);
        }
    }

    /// Starts service of the next waiting customer at `node`, if a server is
    /// free; returns its completion (time, event) for the caller to schedule.
    #[inline(always)]
    fn start_next(&mut self, node: NodeId) -> Option<(f64, PackedEv)> {
        let now = self.now;
        let n = &mut self.nodes[node];
        if n.busy >= n.capacity {
            return None;
        }
        let next = n.queue.pop()?;
        let c = &mut self.customers[next as usize];
        c.started = now;
        let w = now - c.arrived;
        if self.sojourn_tallies {
            n.wait.add(w);
            n.waited += u64::from(w > 0.0);
        }
        if let Some(cs) = class_stat(
            &mut self.class_stats,
            self.net.n_classes,
            node,
            c.class as usize,
        ) {
            cs.wait.add(w);
            cs.waited += u64::from(w > 0.0);
        }
        n.q_area += now;
        n.busy_area -= now;
        n.busy += 1;
        let s = match self.router.service_time(node, c, now) {
            Some(s) => s,
            None => {
                self.net.service[node * self.net.n_classes + c.class as usize].sample(&mut n.rng)
            }
        };
        Some((now + s, PackedEv::done(node, next)))
    }

    #[inline(always)]
    fn done(&mut self, node: NodeId, cust: u32) {
        let now = self.now;
        let n = &mut self.nodes[node];
        n.departures += 1;
        n.busy -= 1;
        n.busy_area += now;
        let station = n.station;
        let c = &mut self.customers[cust as usize];
        if self.sojourn_tallies {
            n.sojourn.add(now - c.arrived);
        }
        if let Some(cs) = class_stat(
            &mut self.class_stats,
            self.net.n_classes,
            node,
            c.class as usize,
        ) {
            cs.departures += 1;
            cs.sojourn.add(now - c.arrived);
        }
        let created = c.created;
        let target = self.router.route(node, c, now);
        // The completion being processed is still the heap top: replace it
        // with the next service's completion (one sift), or remove it.
        match if station { self.start_next(node) } else { None } {
            Some((t, ev)) => {
                self.events.replace_top(t, ev);
            }
            None => self.events.pop_top(),
        }
        match target {
            Target::Node(j) => self.enter(j, cust),
            Target::Exit => {
                self.net_area += now;
                self.in_net -= 1;
                if self.sojourn_tallies {
                    self.net_sojourn.add(now - created);
                }
                self.free.push(cust);
                self.n_customers += 1;
            }
        }
    }

    fn capacity_change(&mut self, node: NodeId) {
        let now = self.now;
        let NodeKind::Station {
            schedule: Some(segs),
            ..
        } = &self.net.nodes()[node].kind
        else {
            return;
        };
        let n = &mut self.nodes[node];
        n.flush_capacity(now);
        n.sched_pos = (n.sched_pos + 1) % segs.len();
        let seg = segs[n.sched_pos];
        n.capacity = seg.servers;
        self.events
            .push(now + seg.duration, PackedEv::capacity(node));
        while let Some((t, ev)) = self.start_next(node) {
            self.events.push(t, ev);
        }
    }

    fn reset_stats(&mut self) {
        let now = self.now;
        for n in &mut self.nodes {
            n.reset(now);
        }
        for cs in &mut self.class_stats {
            *cs = ClassStat::default();
        }
        self.net_area = -(self.in_net as f64) * now;
        self.net_arrivals = 0;
        self.net_sojourn = Tally::new();
        self.stats_start = now;
    }

    fn finish(mut self) -> RunResult {
        let now = self.now;
        self.net_area += self.in_net as f64 * now;
        let window = now - self.stats_start;
        let per = |x: f64| if window > 0.0 { x / window } else { f64::NAN };
        let nc = self.net.n_classes;
        let class_stats = std::mem::take(&mut self.class_stats);
        let sojourn_tallies = self.sojourn_tallies;
        let nodes = self
            .nodes
            .iter_mut()
            .zip(self.net.nodes())
            .enumerate()
            .map(|(i, (n, spec))| {
                if !sojourn_tallies {
                    // The waits stay empty, those of customers served at once too.
                    n.zero_waits = 0;
                }
                n.close(now);
                let classes = class_stats
                    .get(i * nc..(i + 1) * nc)
                    .unwrap_or_default()
                    .iter()
                    .map(|cs| {
                        let mut wait = cs.wait;
                        wait.add_repeated(0.0, cs.zero_waits);
                        ClassResult {
                            departures: cs.departures,
                            wait,
                            waited: cs.waited,
                            sojourn: cs.sojourn,
                        }
                    })
                    .collect();
                NodeResult {
                    name: spec.name.clone(),
                    arrivals: n.arrivals,
                    departures: n.departures,
                    wait: n.wait,
                    waited: n.waited,
                    sojourn: n.sojourn,
                    mean_queue: per(n.q_area),
                    mean_in_node: per(n.q_area + n.busy_area),
                    utilisation: if n.station {
                        n.busy_area / n.cap_area
                    } else {
                        f64::NAN
                    },
                    busy_time: n.busy_area,
                    capacity_time: n.cap_area,
                    classes,
                }
            })
            .collect();
        RunResult {
            nodes,
            network_sojourn: self.net_sojourn,
            mean_in_network: per(self.net_area),
            network_arrivals: self.net_arrivals,
            window,
            end_time: now,
            events: self.n_events,
            customers: self.n_customers,
            peak_in_flight: self.customers.len(),
        }
    }
}
