//! Experiments: replications in parallel with rayon, the analytic validation suite and the throughput benchmark.

pub mod bench;
pub mod calibrate;
pub mod compare;
pub mod run;
pub mod size;
pub mod sweep;
pub mod tables;
pub mod validate;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

use crate::engine::{Network, RunConfig, RunError, RunResult, Streams, run};
use crate::stats::Summary;

/// Runs `f(replication)` for replications `0..n` on `threads` threads
/// (0 = all cores) and returns the results in replication order.
///
/// Each replication draws only from its own streams, so the results do not
/// depend on the thread count or on scheduling.
pub fn replicate<T, F>(
    n: u64,
    threads: usize,
    progress: &ProgressBar,
    f: F,
) -> Result<Vec<T>, rayon::ThreadPoolBuildError>
where
    T: Send,
    F: Fn(u64) -> T + Sync,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    Ok(pool.install(|| {
        (0..n)
            .into_par_iter()
            .map(|r| {
                let out = f(r);
                progress.inc(1);
                out
            })
            .collect()
    }))
}

/// A progress bar on stderr showing replications done and the ETA; hidden
/// when `quiet` or when stderr is not a terminal.
pub fn progress_bar(len: u64, quiet: bool, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{bar:30}} {{pos}}/{{len}} {what} [{{elapsed_precise}} < {{eta_precise}}]"
    )) {
        pb.set_style(style);
    }
    pb
}

/// A spinner on stderr for a search of unknown length: the count done, the
/// elapsed time and a message (the phase); hidden when `quiet` or when
/// stderr is not a terminal.
pub fn spinner(quiet: bool, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{spinner}} {{pos}} {what} [{{elapsed_precise}}] {{msg}}"
    )) {
        pb.set_style(style);
    }
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    pb
}

/// Why an experiment failed at run time.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A replication stopped with an error.
    #[error("replication {replication}: {source}")]
    Run {
        /// Which replication.
        replication: u64,
        /// What went wrong.
        source: RunError,
    },
    /// The thread pool could not be built.
    #[error("cannot start the worker threads: {0}; try a smaller --threads")]
    Threads(#[from] rayon::ThreadPoolBuildError),
}

/// Per-node statistics across replications.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeSummary {
    /// Node name.
    pub name: String,
    /// Mean wait in queue.
    pub wait: Summary,
    /// Mean sojourn at the node.
    pub sojourn: Summary,
    /// Time-average number waiting.
    pub queue: Summary,
    /// Time-average number at the node.
    pub in_node: Summary,
    /// Utilisation (stations only; `NaN` for delays).
    pub utilisation: Summary,
    /// Throughput: departures per time unit.
    pub throughput: Summary,
    /// Probability that a customer waits: customers who waited ÷ customers
    /// whose service started (stations; 0 for delays). Erlang C for M/M/c.
    pub p_wait: Summary,
    /// Per class, when the network has more than one class (else empty).
    pub classes: Vec<ClassSummary>,
}

/// One class at one node, across replications.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassSummary {
    /// Class name.
    pub name: String,
    /// Mean wait in queue.
    pub wait: Summary,
    /// Mean sojourn at the node.
    pub sojourn: Summary,
    /// Probability of waiting.
    pub p_wait: Summary,
    /// Throughput: departures of the class per time unit.
    pub throughput: Summary,
}

/// The summary of replicated runs of a network.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkSummary {
    /// Replications.
    pub replications: u64,
    /// Master seed.
    pub seed: u64,
    /// Confidence level of the intervals.
    pub level: f64,
    /// Per node.
    pub nodes: Vec<NodeSummary>,
    /// Mean sojourn in the network.
    pub network_sojourn: Summary,
    /// Time-average number in the network.
    pub in_network: Summary,
    /// Total events over all replications.
    pub events: u64,
    /// Total customers who left the network over all replications.
    pub customers: u64,
}

/// Runs `replications` of `net` and returns each replication's result, in order.
pub fn run_replications(
    net: &Network,
    cfg: &RunConfig,
    seed: u64,
    replications: u64,
    threads: usize,
    progress: &ProgressBar,
) -> Result<Vec<RunResult>, ExperimentError> {
    replicate(replications, threads, progress, |r| {
        run(net, cfg, Streams::new(seed, r))
    })?
    .into_iter()
    .enumerate()
    .map(|(r, x)| {
        x.map_err(|source| ExperimentError::Run {
            replication: r as u64,
            source,
        })
    })
    .collect()
}

/// Summarises replicated results with Student-t intervals at `level`;
/// `class_names` name the classes of per-class figures (in class order).
pub fn summarise(
    results: &[RunResult],
    class_names: &[String],
    seed: u64,
    level: f64,
) -> NetworkSummary {
    let col = |f: &dyn Fn(&RunResult) -> f64| {
        let v: Vec<f64> = results.iter().map(f).collect();
        Summary::from_values(&v, level)
    };
    let ratio = |a: u64, b: u64| {
        if b == 0 {
            f64::NAN
        } else {
            a as f64 / b as f64
        }
    };
    let n_nodes = results.first().map_or(0, |r| r.nodes.len());
    let nodes = (0..n_nodes)
        .map(|i| {
            let n_classes = results[0].nodes[i].classes.len();
            NodeSummary {
                name: results[0].nodes[i].name.clone(),
                wait: col(&|r| r.nodes[i].wait.mean()),
                sojourn: col(&|r| r.nodes[i].sojourn.mean()),
                queue: col(&|r| r.nodes[i].mean_queue),
                in_node: col(&|r| r.nodes[i].mean_in_node),
                utilisation: col(&|r| r.nodes[i].utilisation),
                throughput: col(&|r| r.nodes[i].departures as f64 / r.window),
                p_wait: col(&|r| ratio(r.nodes[i].waited, r.nodes[i].wait.count())),
                classes: (0..n_classes)
                    .map(|k| ClassSummary {
                        name: class_names.get(k).cloned().unwrap_or_default(),
                        wait: col(&|r| r.nodes[i].classes[k].wait.mean()),
                        sojourn: col(&|r| r.nodes[i].classes[k].sojourn.mean()),
                        p_wait: col(&|r| {
                            let c = &r.nodes[i].classes[k];
                            ratio(c.waited, c.wait.count())
                        }),
                        throughput: col(&|r| r.nodes[i].classes[k].departures as f64 / r.window),
                    })
                    .collect(),
            }
        })
        .collect();
    NetworkSummary {
        replications: results.len() as u64,
        seed,
        level,
        nodes,
        network_sojourn: col(&|r| r.network_sojourn.mean()),
        in_network: col(&|r| r.mean_in_network),
        events: results.iter().map(|r| r.events).sum(),
        customers: results.iter().map(|r| r.customers).sum(),
    }
}
