//! The throughput benchmark: the M/M/c reference workload, timed on one thread.

use std::time::Instant;

use serde::Serialize;

use crate::engine::{Dist, NetworkBuilder, RunConfig, RunError, Streams, run};

/// How events and customers are counted.
pub const COUNTING_RULE: &str = "customers = customers who left the network; events = source arrivals + service completions + capacity changes processed by the kernel (the warm-up reset is not counted)";

/// The result of one benchmark workload.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchResult {
    /// Workload name.
    pub name: String,
    /// Customers who left the network in one run.
    pub customers: u64,
    /// Events processed in one run.
    pub events: u64,
    /// Median wall time of one run, seconds.
    pub wall_s: f64,
    /// Customers per second (median run).
    pub customers_per_s: f64,
    /// Events per second (median run).
    pub events_per_s: f64,
    /// Threads used.
    pub threads: usize,
    /// Timed runs (the median is reported).
    pub repeats: usize,
    /// Fastest run, seconds.
    pub wall_s_min: f64,
    /// Mean wait in queue of the last run (a fingerprint of the answer; the
    /// same seed must give the same value).
    pub mean_wait: f64,
    /// The counting rule.
    pub counting_rule: &'static str,
}

/// Runs `engine-mmc`: an M/M/c queue with c = 10, λ = 9, μ = 1 until 10⁶
/// customers have left, on the calling thread, `repeats` times (after one
/// untimed warm-up run); reports the median.
pub fn engine_mmc(repeats: usize) -> Result<BenchResult, RunError> {
    let mut b = NetworkBuilder::new();
    let s = b.station("station", 10, Dist::exponential(1.0));
    b.poisson(s, 9.0);
    let net = match b.build() {
        Ok(n) => n,
        Err(e) => unreachable!("the reference M/M/c network is valid: {e:?}"),
    };
    let cfg = RunConfig::customers(1_000_000);
    let repeats = repeats.max(1);
    let mut last = run(&net, &cfg, Streams::new(1, 0))?;
    let mut walls = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        last = run(&net, &cfg, Streams::new(1, 0))?;
        walls.push(t.elapsed().as_secs_f64());
    }
    walls.sort_by(f64::total_cmp);
    let wall_s = walls[walls.len() / 2];
    Ok(BenchResult {
        name: "engine-mmc".into(),
        customers: last.customers,
        events: last.events,
        wall_s,
        customers_per_s: last.customers as f64 / wall_s,
        events_per_s: last.events as f64 / wall_s,
        threads: 1,
        repeats,
        wall_s_min: walls[0],
        mean_wait: last.nodes[0].wait.mean(),
        counting_rule: COUNTING_RULE,
    })
}
