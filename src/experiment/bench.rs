//! The throughput benchmark: the M/M/c reference workload, timed on one thread.

use std::time::Instant;

use serde::Serialize;

use crate::engine::{Dist, Network, NetworkBuilder, RunConfig, Streams, run};

/// How events and customers are counted.
pub const COUNTING_RULE: &str = "customers = customers who left the network; events = source arrivals + service completions + capacity changes processed by the kernel (the warm-up reset is not counted)";

/// The network of `engine-mmc`: an M/M/c queue with c = 10, λ = 9, μ = 1,
/// run until 10⁶ customers have left, on the calling thread.
pub fn mmc_network() -> Network {
    let mut b = NetworkBuilder::new();
    let s = b.station("station", 10, Dist::exponential(1.0));
    b.poisson(s, 9.0);
    match b.build() {
        Ok(n) => n,
        Err(e) => unreachable!("the reference M/M/c network is valid: {e:?}"),
    }
}

/// `engine-reference-loop`: the same M/M/c queue and stopping rule as
/// `engine-mmc`, written as the plain loop one would write by hand (a binary
/// heap of events, a FIFO queue of arrival times, the same random number
/// generator and exponential draws, no statistics): the bar a general engine
/// should clear. Returns (customers, events, sum of waits) of one run.
pub fn reference_loop(c: u32, lambda: f64, mean_service: f64, customers: u64) -> (u64, u64, f64) {
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, VecDeque};
    let streams = Streams::new(1, 0);
    let mut arrivals_rng = streams.stream("reference-arrivals", &[]);
    let mut service_rng = streams.stream("reference-service", &[]);
    let sampler = |d: Dist| match d.sampler() {
        Ok(s) => s,
        Err(e) => unreachable!("an exponential with a positive mean is valid: {e:?}"),
    };
    let inter = sampler(Dist::exponential(1.0 / lambda));
    let service = sampler(Dist::exponential(mean_service));
    // Non-negative times order as their bit patterns; the low bit of the
    // key says which kind of event (0 arrival, 1 departure).
    let key = |t: f64, departure: bool| Reverse((t.to_bits(), departure));
    let mut heap = BinaryHeap::new();
    heap.push(key(inter.sample(&mut arrivals_rng), false));
    let mut queue: VecDeque<f64> = VecDeque::new();
    let (mut busy, mut done, mut events, mut waits) = (0u32, 0u64, 0u64, 0.0);
    while let Some(Reverse((bits, departure))) = heap.pop() {
        let now = f64::from_bits(bits);
        events += 1;
        if departure {
            done += 1;
            if done >= customers {
                break;
            }
            match queue.pop_front() {
                Some(arrived) => {
                    waits += now - arrived;
                    heap.push(key(now + service.sample(&mut service_rng), true));
                }
                None => busy -= 1,
            }
        } else {
            heap.push(key(now + inter.sample(&mut arrivals_rng), false));
            if busy < c {
                busy += 1;
                heap.push(key(now + service.sample(&mut service_rng), true));
            } else {
                queue.push_back(now);
            }
        }
    }
    (done, events, waits)
}

/// The version of the suite's workloads and JSON; `--check` refuses files of another version.
pub const SUITE_VERSION: u32 = 1;

/// The national scenario (`scenarios/nation-2025.toml`), embedded for the `nation-year` workload.
pub const NATION: &str = include_str!("../../scenarios/nation-2025.toml");

/// The workloads of the suite, in order.
pub const WORKLOADS: [&str; 5] = [
    "engine-mmc",
    "engine-reference-loop",
    "province-year",
    "nation-year",
    "sweep-scaling",
];

/// One workload's figures.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Workload {
    /// Workload name.
    pub name: String,
    /// What it counts (customers or dossiers, events, points): must match exactly for the same seed.
    pub counts: std::collections::BTreeMap<String, u64>,
    /// Key outputs (mean wait, late rate): must match exactly for the same seed.
    pub outputs: std::collections::BTreeMap<String, f64>,
    /// Wall time of the (median) run, seconds.
    pub wall_s: f64,
    /// Every timed run's wall time, seconds, in the order they ran.
    #[serde(default)]
    pub runs_s: Vec<f64>,
    /// The fastest run, seconds.
    #[serde(default)]
    pub min_s: f64,
    /// The slowest run, seconds.
    #[serde(default)]
    pub max_s: f64,
    /// Throughput of the (median) run.
    pub throughput: f64,
    /// Unit of the throughput.
    pub throughput_unit: String,
    /// Threads used.
    pub threads: usize,
    /// Peak resident memory of the process after the workload, MiB.
    pub peak_rss_mib: f64,
}

impl Workload {
    /// A workload's entry from its timed runs (in the order they ran): the
    /// median, fastest and slowest run, and the throughput of the median run
    /// for `amount` of `unit` done in a run.
    fn from_runs(
        name: &str,
        counts: &[(&str, u64)],
        output: (&str, f64),
        runs_s: Vec<f64>,
        (amount, unit): (f64, &str),
        threads: usize,
    ) -> Self {
        let (min_s, wall_s, max_s) = spread(&runs_s);
        Self {
            name: name.into(),
            counts: counts.iter().map(|&(k, v)| (k.to_string(), v)).collect(),
            outputs: [(output.0.to_string(), output.1)].into(),
            wall_s,
            runs_s,
            min_s,
            max_s,
            throughput: amount / wall_s,
            throughput_unit: unit.into(),
            threads,
            peak_rss_mib: peak_rss_mib(),
        }
    }
}

/// The machine a suite ran on.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
}

/// A run of the suite (`motcua bench --json`).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Suite {
    /// Suite version.
    pub suite_version: u32,
    /// Commit of the code, embedded when the binary was built (`unknown`
    /// outside a git checkout).
    pub commit: String,
    /// The compiler that built the binary.
    #[serde(default)]
    pub rustc: String,
    /// The machine.
    pub machine: Machine,
    /// How events and customers are counted.
    pub counting_rule: String,
    /// The workloads.
    pub workloads: Vec<Workload>,
}

/// Peak resident memory of this process so far, MiB (`VmHWM`; 0 where unavailable).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn machine() -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
    }
}

/// The commit the binary was built from (embedded by `build.rs`).
pub const COMMIT: &str = env!("MOTCUA_COMMIT");

/// The compiler that built the binary (embedded by `build.rs`).
pub const RUSTC: &str = env!("MOTCUA_RUSTC");

/// Min, median and max of a set of timings.
fn spread(walls: &[f64]) -> (f64, f64, f64) {
    let mut v = walls.to_vec();
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

/// The entry of a one-stop workload from its provinces' runs (of the last
/// timed run) and every run's wall time: dossiers, events and the late rate.
fn one_stop(
    name: &str,
    sc: &crate::scenario::domain::Scenario,
    runs: &[crate::model::ProvinceRun],
    walls: Vec<f64>,
    threads: usize,
) -> Workload {
    let s = crate::model::scopes::scopes(sc, runs);
    let dossiers: u64 = runs.iter().map(|r| r.dossiers).sum();
    let events: u64 = runs.iter().map(|r| r.events).sum();
    let late = s.overall.counts.late as f64 / s.overall.counts.resolved as f64;
    Workload::from_runs(
        name,
        &[("dossiers", dossiers), ("events", events)],
        ("late_rate", late),
        walls,
        (dossiers as f64, "dossiers/s"),
        threads,
    )
}

/// Runs the named workloads (all when empty), each `repeat` times where it is cheap.
pub fn run_suite(names: &[String], repeat: usize) -> Result<Suite, String> {
    use crate::engine::Discipline;
    use crate::model::prepare::prepare;
    let want = |n: &str| names.is_empty() || names.iter().any(|x| x == n);
    for n in names {
        if !WORKLOADS.contains(&n.as_str()) {
            return Err(format!(
                "unknown workload `{n}`; expected one of {}",
                WORKLOADS.join(", ")
            ));
        }
    }
    let mut workloads = Vec::new();
    let (engine, by_hand) = (want("engine-mmc"), want("engine-reference-loop"));
    if engine || by_hand {
        // The engine and the hand-written loop are timed in turn, run by
        // run, so that a load that comes and goes on a shared machine falls
        // on both alike and their ratio stays fair; each has one untimed
        // warm-up run first.
        let net = mmc_network();
        let cfg = RunConfig::customers(1_000_000);
        let engine_run = || run(&net, &cfg, Streams::new(1, 0)).map_err(|e| e.to_string());
        let by_hand_run = || reference_loop(10, 9.0, 1.0, 1_000_000);
        let mut last = engine.then(engine_run).transpose()?;
        let mut last_by_hand = by_hand.then(by_hand_run);
        let (mut walls, mut walls_by_hand) = (Vec::new(), Vec::new());
        for _ in 0..repeat.max(1) {
            if engine {
                let t = Instant::now();
                last = Some(engine_run()?);
                walls.push(t.elapsed().as_secs_f64());
            }
            if by_hand {
                let t = Instant::now();
                last_by_hand = Some(by_hand_run());
                walls_by_hand.push(t.elapsed().as_secs_f64());
            }
        }
        if let Some(r) = last {
            workloads.push(Workload::from_runs(
                "engine-mmc",
                &[("customers", r.customers), ("events", r.events)],
                ("mean_wait", r.nodes[0].wait.mean()),
                walls,
                (r.customers as f64, "customers/s"),
                1,
            ));
        }
        if let Some((customers, events, waits)) = last_by_hand {
            workloads.push(Workload::from_runs(
                "engine-reference-loop",
                &[("customers", customers), ("events", events)],
                ("mean_wait", waits / customers as f64),
                walls_by_hand,
                (customers as f64, "customers/s"),
                1,
            ));
        }
    }
    let sc = crate::scenario::domain::baseline().map_err(|e| e.to_string())?;
    if want("province-year") {
        let p = prepare(&sc, Discipline::Fifo).map_err(|e| e.to_string())?;
        let mut walls = Vec::new();
        let mut last = None;
        // One replication-year of the baseline on the calling thread.
        for _ in 0..repeat.clamp(1, 3) {
            let t = Instant::now();
            let runs = p.replication(sc.seed, 0).map_err(|e| e.to_string())?;
            walls.push(t.elapsed().as_secs_f64());
            last = Some(runs);
        }
        let runs = last.unwrap_or_default();
        workloads.push(one_stop("province-year", &sc, &runs, walls, 1));
    }
    if want("nation-year") {
        // One replication-year of the nation: 34 provinces in parallel on all threads.
        let nation = crate::scenario::domain::parse(
            std::path::Path::new("scenarios/nation-2025.toml (embedded)"),
            NATION,
        )
        .map_err(|e| e.to_string())?;
        let p = prepare(&nation, Discipline::Fifo).map_err(|e| e.to_string())?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let t = Instant::now();
        let reps =
            super::run::replications(&p, nation.seed, 1, cores, &indicatif::ProgressBar::hidden())
                .map_err(|e| e.to_string())?;
        let wall = t.elapsed().as_secs_f64();
        workloads.push(one_stop(
            "nation-year",
            &nation,
            &reps[0],
            vec![wall],
            cores,
        ));
    }
    if want("sweep-scaling") {
        // Four replication-years of the baseline, on 1 thread and on all
        // threads, alternated (up to 3 pairs): the speed-up is the ratio of
        // the fastest runs, the least disturbed by a shared machine's load
        // (one pair alone moved between 1.75× and 2.01× in one hour).
        let p = prepare(&sc, Discipline::Fifo).map_err(|e| e.to_string())?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let (mut one, mut all) = (Vec::new(), Vec::new());
        let mut dossiers = 0;
        for _ in 0..repeat.clamp(1, 3) {
            for (k, threads) in [1, cores].into_iter().enumerate() {
                let t = Instant::now();
                let reps = super::run::replications(
                    &p,
                    sc.seed,
                    4,
                    threads,
                    &indicatif::ProgressBar::hidden(),
                )
                .map_err(|e| e.to_string())?;
                let wall = t.elapsed().as_secs_f64();
                if k == 0 { &mut one } else { &mut all }.push(wall);
                dossiers = reps.iter().flatten().map(|r| r.dossiers).sum();
            }
        }
        let speedup = spread(&one).0 / spread(&all).0;
        workloads.push(Workload::from_runs(
            "sweep-scaling",
            &[("replications", 4), ("dossiers", dossiers)],
            ("speedup", speedup),
            all,
            (4.0, "province-years/s"),
            cores,
        ));
    }
    Ok(Suite {
        suite_version: SUITE_VERSION,
        commit: COMMIT.into(),
        rustc: RUSTC.into(),
        machine: machine(),
        counting_rule: COUNTING_RULE.into(),
        workloads,
    })
}

/// Compares a suite run with a stored one: counts and key outputs must be
/// equal (an answer changed), throughput may not fall by more than
/// `tolerance_pct`. With `subset`, stored workloads that were not run are
/// skipped; otherwise a missing one is a regression. Returns one message per regression.
pub fn check(current: &Suite, stored: &Suite, tolerance_pct: f64, subset: bool) -> Vec<String> {
    let mut out = Vec::new();
    for old in &stored.workloads {
        let Some(new) = current.workloads.iter().find(|w| w.name == old.name) else {
            if !subset {
                out.push(format!("{}: in the stored file but not run now", old.name));
            }
            continue;
        };
        for (k, v) in &old.counts {
            if new.counts.get(k) != Some(v) {
                out.push(format!(
                    "{}: {k} changed from {v} to {} (the answer changed)",
                    old.name,
                    new.counts.get(k).map_or("none".into(), |x| x.to_string())
                ));
            }
        }
        for (k, v) in &old.outputs {
            // The speed-up is a timing, not an answer.
            if k == "speedup" {
                continue;
            }
            let now = new.outputs.get(k).copied().unwrap_or(f64::NAN);
            if now.to_bits() != v.to_bits() {
                out.push(format!(
                    "{}: {k} changed from {v} to {now} (the answer changed)",
                    old.name
                ));
            }
        }
        let floor = old.throughput * (1.0 - tolerance_pct / 100.0);
        if new.throughput < floor {
            out.push(format!(
                "{}: throughput fell from {:.0} to {:.0} {} ({:+.1}%, tolerance {}%)",
                old.name,
                old.throughput,
                new.throughput,
                old.throughput_unit,
                100.0 * (new.throughput / old.throughput - 1.0),
                tolerance_pct
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stored_answer_reads_back_bit_for_bit() {
        // serde_json's default float parser is not correctly rounded: this
        // late rate, stored by `bench --json`, read back one ulp off and
        // failed the gate against itself. `float_roundtrip` makes it exact.
        let mut xs = vec![0.043_800_858_072_504_244_f64, 0.043_044_630_294_338_08];
        let mut s = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            s = crate::engine::mix64(s);
            xs.push((s >> 11) as f64 / (1u64 << 53) as f64);
        }
        for x in xs {
            let text = serde_json::to_string(&x).unwrap();
            let back: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{text}");
        }
    }
}
