//! Command-line definitions (clap) and dispatch; no model logic lives here.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use motcua::experiment::{self, bench, validate};
use motcua::scenario;

/// motcua: a parallel discrete-event simulator for the capacity planning of
/// public-service one-stop desks.
#[derive(Debug, Parser)]
#[command(name = "motcua", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a one-stop scenario (default: the embedded baseline province) and write summary.json and metrics.csv.
    Run {
        /// The scenario file (TOML); without it, the embedded baseline.
        scenario: Option<PathBuf>,
        /// Replications (default: the scenario's).
        #[arg(long)]
        replications: Option<u64>,
        /// Master seed (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: results/<scenario-name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (0 = all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Replace a non-empty output folder of motcua outputs (never a folder holding other files).
        #[arg(long)]
        force: bool,
        /// Queue discipline of the specialists and leaders (default: the scenario's, FIFO unless it says otherwise); the desk always serves the counter first.
        #[arg(long, value_enum)]
        queue: Option<QueueArg>,
        /// Tallied days of each replication, overriding the scenario's `horizon_days` (1–3650).
        #[arg(long)]
        horizon_days: Option<u32>,
        /// Warm-up days, overriding the scenario's `warmup_days` (0–365).
        #[arg(long)]
        warmup_days: Option<u32>,
        /// Hide the progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Compare reforms with a base scenario (common random numbers, paired 95% CIs); writes comparison.json and comparison.csv.
    Compare {
        /// The base scenario file.
        base: PathBuf,
        /// One or more reform scenario files (usually `extends` the base).
        #[arg(required = true)]
        reforms: Vec<PathBuf>,
        /// Replications of each scenario (default: the base's).
        #[arg(long)]
        replications: Option<u64>,
        /// Master seed (default: the base's).
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: results/compare-<base-name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (0 = all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Replace a non-empty output folder of motcua outputs.
        #[arg(long)]
        force: bool,
        /// Tallied days of each replication, overriding the scenarios' `horizon_days` (1–3650).
        #[arg(long)]
        horizon_days: Option<u32>,
        /// Warm-up days, overriding the scenarios' `warmup_days` (0–365).
        #[arg(long)]
        warmup_days: Option<u32>,
        /// Hide the progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run a parameter sweep (grid or Latin hypercube) over scenario or reform fields; resumable and shardable.
    Sweep {
        /// The sweep file (TOML); see scenarios/sweeps/.
        spec: PathBuf,
        /// Output folder (default: results/sweep-<name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (0 = all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Run only shard K of N (1 ≤ K ≤ N), e.g. 2/8; with Slurm, K = SLURM_ARRAY_TASK_ID.
        #[arg(long)]
        shard: Option<String>,
        /// Allow a grid of more than a million points (at most ten million).
        #[arg(long)]
        force: bool,
        /// Build and check every point's scenario, print the plan and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Hide the progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Merge the output folders of a sweep's shards into one, identical to an unsharded run.
    Merge {
        /// Shard output folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The merged output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check the engine against queueing theory (Erlang C, Pollaczek–Khinchine, Jackson, Little); exit 1 if any check fails.
    Validate {
        /// A tenth of the reference size, with a 5% tolerance instead of 2%.
        #[arg(long)]
        quick: bool,
        /// Master seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Worker threads (0 = all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Print the table as JSON.
        #[arg(long)]
        json: bool,
        /// Hide the progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run the benchmark suite (engine-mmc, province-year, nation-year, sweep-scaling) and optionally gate it against a stored run.
    Bench {
        /// Print the suite as JSON (the format `--check` reads).
        #[arg(long)]
        json: bool,
        /// Timed runs of the engine workload (median reported); province-year uses up to 3.
        #[arg(long, default_value_t = 11)]
        repeat: usize,
        /// Run only these workloads (engine-mmc, province-year, nation-year, sweep-scaling); default all.
        #[arg(long = "workload")]
        workloads: Vec<String>,
        /// Compare with a stored `bench --json` file: exit 1 if an answer changed (counts must be equal and outputs bit-identical, read back exactly) or a throughput fell by more than the tolerance.
        #[arg(long)]
        check: Option<PathBuf>,
        /// Allowed throughput fall for --check, percent.
        #[arg(long, default_value_t = 10.0)]
        tolerance: f64,
    },
    /// Run a network file (a generic queueing network) and print per-node statistics.
    Network {
        /// The network file (TOML); see scenarios/validation/.
        file: PathBuf,
        /// Replications (default: the file's).
        #[arg(long)]
        replications: Option<u64>,
        /// Master seed (default: the file's).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (0 = all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Hide the progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
}

/// Queue discipline choice on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum QueueArg {
    /// First come, first served.
    Fifo,
    /// Earliest appointment first.
    Edf,
}

/// What the process should exit with.
pub(crate) enum Outcome {
    /// Everything passed.
    Ok,
    /// A check or threshold was breached.
    Breached,
}

/// Parses arguments and runs the command.
pub(crate) fn run() -> Result<Outcome> {
    let cli = Cli::parse();
    match cli.command {
        Command::Sweep {
            spec,
            out,
            threads,
            shard,
            force,
            dry_run,
            quiet,
        } => cmd_sweep(spec, out, threads, shard, force, dry_run, quiet),
        Command::Merge { dirs, out } => {
            experiment::sweep::merge(&dirs, &out).map_err(anyhow::Error::msg)?;
            say(format_args!(
                "merged {} folders into {}\n",
                dirs.len(),
                out.display()
            ))?;
            Ok(Outcome::Ok)
        }
        Command::Compare {
            base,
            reforms,
            replications,
            seed,
            out,
            threads,
            force,
            horizon_days,
            warmup_days,
            quiet,
        } => cmd_compare(
            base,
            reforms,
            replications,
            seed,
            out,
            threads,
            force,
            (horizon_days, warmup_days),
            quiet,
        ),
        Command::Run {
            scenario,
            replications,
            seed,
            out,
            threads,
            force,
            queue,
            horizon_days,
            warmup_days,
            quiet,
        } => cmd_run(
            scenario,
            replications,
            seed,
            out,
            threads,
            force,
            queue,
            (horizon_days, warmup_days),
            quiet,
        ),
        Command::Validate {
            quick,
            seed,
            threads,
            json,
            quiet,
        } => cmd_validate(quick, seed, threads, json, quiet),
        Command::Bench {
            json,
            repeat,
            workloads,
            check,
            tolerance,
        } => cmd_bench(json, repeat, &workloads, check, tolerance),
        Command::Network {
            file,
            replications,
            seed,
            threads,
            json,
            quiet,
        } => cmd_network(file, replications, seed, threads, json, quiet),
    }
}

/// Writes a line to standard error, ignoring a closed or full stderr (never a panic).
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Standard output failed (a closed pipe, a full disk): the command exits 2
/// without a panic, and without a message for a closed pipe.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub(crate) struct StdoutError(pub(crate) std::io::Error);

/// Writes to standard output, flushing; an error becomes a [`StdoutError`].
fn say(text: impl std::fmt::Display) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    write!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| StdoutError(e).into())
}

fn quiet_or_piped(quiet: bool) -> bool {
    quiet || !std::io::stderr().is_terminal()
}

fn cmd_validate(
    quick: bool,
    seed: u64,
    threads: usize,
    json: bool,
    quiet: bool,
) -> Result<Outcome> {
    let size = if quick {
        validate::Size::Quick
    } else {
        validate::Size::Reference
    };
    let cases = validate::suite(size);
    let pb = experiment::progress_bar(
        validate::total_replications(&cases),
        quiet_or_piped(quiet),
        "replications",
    );
    let start = std::time::Instant::now();
    let outcome = validate::run_suite(&cases, size, seed, threads, &pb)?;
    pb.finish_and_clear();
    if json {
        say(format_args!(
            "{}\n",
            serde_json::to_string_pretty(&outcome)?
        ))?;
    } else {
        say(format_args!(
            "{} in {:.1} s\n",
            motcua::report::validation_table(&outcome),
            start.elapsed().as_secs_f64()
        ))?;
    }
    Ok(if outcome.passed() {
        Outcome::Ok
    } else {
        Outcome::Breached
    })
}

fn cmd_bench(
    json: bool,
    repeat: usize,
    workloads: &[String],
    check: Option<PathBuf>,
    tolerance: f64,
) -> Result<Outcome> {
    anyhow::ensure!(
        tolerance.is_finite() && (0.0..100.0).contains(&tolerance),
        "--tolerance must be a percentage in [0, 100) (got {tolerance})"
    );
    // Read the stored file first: a bad file is an error before anything runs.
    let stored: Option<bench::Suite> = match &check {
        None => None,
        Some(p) => {
            let text = scenario::read_capped(p, false, "json").with_context(|| {
                format!(
                    "{}: cannot read the stored benchmark; write one with `motcua bench --json > FILE`",
                    p.display()
                )
            })?;
            let v: serde_json::Value = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{}: not valid JSON; it must be the output of `motcua bench --json`",
                    p.display()
                )
            })?;
            let version = v.get("suite_version").and_then(serde_json::Value::as_u64);
            anyhow::ensure!(
                version == Some(u64::from(bench::SUITE_VERSION)),
                "{}: written by another version of the suite (suite_version {:?}, this is {}); store a new baseline with `motcua bench --json`",
                p.display(),
                version,
                bench::SUITE_VERSION
            );
            Some(
                serde_json::from_value(v)
                    .with_context(|| format!("{}: not a benchmark suite file", p.display()))?,
            )
        }
    };
    let suite = bench::run_suite(workloads, repeat).map_err(anyhow::Error::msg)?;
    if json {
        say(format_args!("{}\n", serde_json::to_string_pretty(&suite)?))?;
    } else {
        say(format_args!(
            "motcua bench, commit {}, {} ({} cores)\n",
            suite.commit, suite.machine.cpu, suite.machine.cores
        ))?;
        for w in &suite.workloads {
            let counts: Vec<String> = w.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
            say(format_args!(
                "  {:<14} {:>12} {:<17} wall {:.3} s, {} thread(s), {}, peak {:.0} MiB\n",
                w.name,
                motcua::report::num(w.throughput, 4),
                w.throughput_unit,
                w.wall_s,
                w.threads,
                counts.join(", "),
                w.peak_rss_mib
            ))?;
        }
        say(format_args!("  counting rule: {}\n", suite.counting_rule))?;
    }
    if let Some(stored) = stored {
        let regressions = bench::check(&suite, &stored, tolerance, !workloads.is_empty());
        if !regressions.is_empty() {
            for r in &regressions {
                tell!("regression: {r}");
            }
            return Ok(Outcome::Breached);
        }
        tell!(
            "no regression against {} (tolerance {tolerance}%)",
            check.map(|p| p.display().to_string()).unwrap_or_default()
        );
    }
    Ok(Outcome::Ok)
}

fn cmd_network(
    file: PathBuf,
    replications: Option<u64>,
    seed: Option<u64>,
    threads: usize,
    json: bool,
    quiet: bool,
) -> Result<Outcome> {
    let f = scenario::network::load(&file)?;
    let reps = replications.unwrap_or(f.replications);
    anyhow::ensure!(reps >= 1, "--replications must be ≥ 1 (got 0)");
    let seed = seed.unwrap_or(f.seed);
    let pb = experiment::progress_bar(reps, quiet_or_piped(quiet), "replications");
    let results = experiment::run_replications(&f.network, &f.run, seed, reps, threads, &pb)
        .with_context(|| format!("{}: run failed", file.display()))?;
    pb.finish_and_clear();
    let names: Vec<String> = f.network.classes().iter().map(|c| c.name.clone()).collect();
    let s = experiment::summarise(&results, &names, seed, 0.95);
    if json {
        say(format_args!("{}\n", serde_json::to_string_pretty(&s)?))?;
        return Ok(Outcome::Ok);
    }
    say(format_args!(
        "{} — {} replications, seed {}, 95% CI\n",
        f.name, reps, seed
    ))?;
    say(motcua::report::network_table(&s))?;
    Ok(Outcome::Ok)
}

/// Checks a replication count against the documented limit.
fn check_replications(reps: u64, at_least: u64) -> Result<()> {
    let max = scenario::limits::MAX_REPLICATIONS;
    anyhow::ensure!(
        (at_least..=max).contains(&reps),
        "--replications must be between {at_least} and {max} (got {reps})"
    );
    Ok(())
}

/// Applies `--horizon-days` and `--warmup-days` overrides, within the limits a scenario file has.
fn override_days(
    sc: &mut scenario::domain::Scenario,
    horizon: Option<u32>,
    warmup: Option<u32>,
) -> Result<()> {
    if let Some(h) = horizon {
        anyhow::ensure!(
            (1..=3650).contains(&h),
            "--horizon-days must be between 1 and 3650 (got {h})"
        );
        sc.horizon_days = h;
    }
    if let Some(w) = warmup {
        anyhow::ensure!(
            w <= 365,
            "--warmup-days must be between 0 and 365 (got {w})"
        );
        sc.warmup_days = w;
    }
    if horizon.is_some() || warmup.is_some() {
        let errors = scenario::domain::scale_limits(sc);
        if let Some(e) = errors.first() {
            anyhow::bail!("with these days: {}: {}", e.field, e.message);
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn cmd_run(
    file: Option<PathBuf>,
    replications: Option<u64>,
    seed: Option<u64>,
    out: Option<PathBuf>,
    threads: usize,
    force: bool,
    queue: Option<QueueArg>,
    days: (Option<u32>, Option<u32>),
    quiet: bool,
) -> Result<Outcome> {
    use motcua::model::run;
    use motcua::report;
    let mut sc = match &file {
        Some(p) => scenario::domain::load(p)?,
        None => scenario::domain::baseline()?,
    };
    override_days(&mut sc, days.0, days.1)?;
    let reps = replications.unwrap_or(sc.replications);
    check_replications(reps, 1)?;
    let seed = seed.unwrap_or(sc.seed);
    let dir =
        out.unwrap_or_else(|| PathBuf::from("results").join(report::output::folder_name(&sc.name)));
    let discipline = match queue {
        Some(QueueArg::Fifo) => motcua::engine::Discipline::Fifo,
        Some(QueueArg::Edf) => motcua::engine::Discipline::Edf,
        None if sc.model.edf => motcua::engine::Discipline::Edf,
        None => motcua::engine::Discipline::Fifo,
    };
    let label = file.as_ref().map_or_else(
        || "the embedded baseline".to_string(),
        |p| p.display().to_string(),
    );
    let prepared = run::prepare(&sc, discipline).with_context(|| label.clone())?;
    prepared
        .check_replications(reps)
        .with_context(|| label.clone())?;
    // Lock and stage the output folder before simulating: a busy, foreign
    // or unwritable folder is reported now, not after the run.
    let mut set = report::output::OutputSet::begin(&dir, force)?;
    for w in prepared.warnings() {
        tell!(
            "warning: {w} (memory is bounded by model.max_in_flight = {})",
            sc.model.max_in_flight
        );
    }
    let pb = experiment::progress_bar(reps, quiet_or_piped(quiet), "replications");
    let start = std::time::Instant::now();
    let results = prepared
        .run(seed, reps, threads, &pb)
        .with_context(|| label.clone())?;
    pb.finish_and_clear();
    let wall = start.elapsed().as_secs_f64();
    let summary = run::summarise(&sc, seed, &results, &prepared.overloaded);
    set.write(
        "summary.json",
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    set.write(
        "metrics.csv",
        run::metrics_csv(&sc, seed, &results).as_bytes(),
    )?;
    set.write("index.csv", run::index_csv(&sc, seed, &results).as_bytes())?;
    set.write(
        "index_summary.csv",
        run::index_summary_csv(&sc, seed, &results).as_bytes(),
    )?;
    let dir = set.commit(report::output::Manifest {
        motcua_version: env!("CARGO_PKG_VERSION"),
        command: "run",
        scenario: sc.name.clone(),
        scenario_hash: report::output::hex(sc.hash),
        seed,
        replications: reps,
        files: Vec::new(),
    })?;
    say(format_args!(
        "{}: {} replications of {} days (after {} warm-up days), seed {}\n{}{} dossiers, {} events in {:.2} s ({:.0} dossiers/s, {:.0} events/s); wrote {}\n",
        sc.name,
        reps,
        sc.horizon_days,
        sc.warmup_days,
        seed,
        report::run_table(&summary),
        summary.dossiers,
        summary.events,
        wall,
        summary.dossiers as f64 / wall,
        summary.events as f64 / wall,
        dir.display()
    ))?;
    Ok(Outcome::Ok)
}

#[allow(clippy::too_many_arguments)]
fn cmd_compare(
    base: PathBuf,
    reforms: Vec<PathBuf>,
    replications: Option<u64>,
    seed: Option<u64>,
    out: Option<PathBuf>,
    threads: usize,
    force: bool,
    days: (Option<u32>, Option<u32>),
    quiet: bool,
) -> Result<Outcome> {
    use motcua::model::compare;
    use motcua::report;
    let mut b = scenario::domain::load(&base)?;
    override_days(&mut b, days.0, days.1)?;
    let mut rs = Vec::new();
    for p in &reforms {
        let mut r = scenario::domain::load(p)?;
        override_days(&mut r, days.0, days.1)?;
        rs.push(r);
    }
    let reps = replications.unwrap_or(b.replications);
    check_replications(reps, 2)?;
    let seed = seed.unwrap_or(b.seed);
    let dir = out.unwrap_or_else(|| {
        PathBuf::from("results").join(format!("compare-{}", report::output::folder_name(&b.name)))
    });
    let mut set = report::output::OutputSet::begin(&dir, force)?;
    let pb = experiment::progress_bar(reps, quiet_or_piped(quiet), "replications");
    let c = compare::compare(&b, &rs, seed, reps, threads, &pb)
        .with_context(|| format!("{} compared with its reforms", base.display()))?;
    pb.finish_and_clear();
    for sw in &c.warnings {
        for w in &sw.warnings {
            tell!("warning: in {}: {w}", sw.scenario);
        }
    }
    set.write(
        "comparison.json",
        serde_json::to_string_pretty(&c)?.as_bytes(),
    )?;
    set.write("comparison.csv", compare::comparison_csv(&c).as_bytes())?;
    let dir = set.commit(report::output::Manifest {
        motcua_version: env!("CARGO_PKG_VERSION"),
        command: "compare",
        scenario: b.name.clone(),
        scenario_hash: report::output::hex(b.hash),
        seed,
        replications: reps,
        files: Vec::new(),
    })?;
    say(format_args!(
        "{}wrote {}\n",
        report::comparison_table(&c),
        dir.display()
    ))?;
    Ok(Outcome::Ok)
}

fn cmd_sweep(
    spec: PathBuf,
    out: Option<PathBuf>,
    threads: usize,
    shard: Option<String>,
    force: bool,
    dry_run: bool,
    quiet: bool,
) -> Result<Outcome> {
    use experiment::sweep;
    let shard: sweep::Shard = match shard {
        Some(s) => s.parse().map_err(anyhow::Error::msg)?,
        None => sweep::Shard { k: 1, n: 1 },
    };
    let sw = sweep::load(&spec, force)?;
    // Every point's scenario is built and checked before the first runs.
    sweep::check_points(&sw, &spec, threads)?;
    if dry_run {
        say(format_args!(
            "{}: {} points × {} replications; every point's scenario is valid; nothing written\n",
            sw.name,
            sw.points.len(),
            sw.replications
        ))?;
        return Ok(Outcome::Ok);
    }
    let dir = out.unwrap_or_else(|| {
        PathBuf::from("results").join(format!(
            "sweep-{}",
            motcua::report::output::folder_name(&sw.name)
        ))
    });
    let pb = experiment::progress_bar(0, quiet_or_piped(quiet), "points");
    let start = std::time::Instant::now();
    let ran =
        sweep::run(&sw, &dir, shard, threads, &pb, shard.n == 1).map_err(anyhow::Error::msg)?;
    pb.finish_and_clear();
    for (i, ws) in &ran.warnings {
        for w in ws {
            tell!("warning: point {i}: {w}");
        }
    }
    let ran = ran.points;
    let mine = (0..sw.points.len())
        .filter(|i| i % shard.n == shard.k - 1)
        .count();
    say(format_args!(
        "{}: shard {}/{}: {} of its {} points run now ({} already done), {} replications each, in {:.1} s; wrote {}\n",
        sw.name,
        shard.k,
        shard.n,
        ran,
        mine,
        mine - ran,
        sw.replications,
        start.elapsed().as_secs_f64(),
        dir.display()
    ))?;
    Ok(Outcome::Ok)
}
