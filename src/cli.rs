//! Command-line definitions (clap) and dispatch: each command parses its arguments, calls one library function, prints; no model logic lives here.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use motcua::commands;
use motcua::experiment::{self, bench, validate};
use motcua::scenario;

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

/// motcua: a parallel discrete-event simulator for the capacity planning of
/// public-service one-stop desks.
#[derive(Debug, Parser)]
#[command(name = "motcua", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where and how a run or comparison writes its set.
#[derive(Debug, clap::Args)]
struct Output {
    /// Output folder (default: results/<scenario-name>, or results/compare-<base-name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace a non-empty output folder of motcua outputs (never a folder holding other files).
    #[arg(long)]
    force: bool,
    /// Do not write report.html.
    #[arg(long)]
    no_report: bool,
    /// Print the summary as JSON on stdout instead of the tables.
    #[arg(long)]
    json: bool,
}

/// Replications, seed, threads and day overrides of a run or comparison.
#[derive(Debug, clap::Args)]
struct Runs {
    /// Replications (default: the scenario's).
    #[arg(long)]
    replications: Option<u64>,
    #[command(flatten)]
    sim: Sim,
    /// Hide the progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Seed, threads and day overrides of every command that simulates a scenario.
#[derive(Debug, clap::Args)]
struct Sim {
    /// Master seed (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Tallied days of each replication, overriding the scenario's `horizon_days` (1–3650).
    #[arg(long)]
    horizon_days: Option<u32>,
    /// Warm-up days, overriding the scenario's `warmup_days` (0–365).
    #[arg(long)]
    warmup_days: Option<u32>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a one-stop scenario (default: the embedded baseline province) and write its results, the data dictionary and report.html.
    Run {
        /// The scenario file (TOML); without it, the embedded baseline.
        scenario: Option<PathBuf>,
        #[command(flatten)]
        runs: Runs,
        #[command(flatten)]
        output: Output,
        /// Queue discipline of the specialists and leaders (default: the scenario's, FIFO unless it says otherwise); the desk always serves the counter first.
        #[arg(long, value_enum)]
        queue: Option<QueueArg>,
    },
    /// Compare reforms with a base scenario (common random numbers, paired 95% CIs); writes comparison.json, comparison.csv and report.html.
    Compare {
        /// The base scenario file.
        base: PathBuf,
        /// One or more reform scenario files (usually `extends` the base).
        #[arg(required = true)]
        reforms: Vec<PathBuf>,
        #[command(flatten)]
        runs: Runs,
        #[command(flatten)]
        output: Output,
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
        /// Write report.html when the sweep is complete.
        #[arg(long)]
        report: bool,
        /// Hide the progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Find the fewest staff that meet service targets, each confirmed at a one-sided confidence; writes staffing.toml (a reform overlay), size.csv, targets.csv, size.json and report.html.
    Size {
        /// The scenario file, or a network file (then the stations' servers are sized).
        file: PathBuf,
        /// A target, METRIC[@SCOPE]<=VALUE or >=VALUE; scope: overall (default), a tier, a unit, each-unit, each-<tier>; for a network a node, each-node. Repeat for several.
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// Pools to vary (clerks, specialists, leaders; default all three); for a network, stations (NAME or node[NAME].servers).
        #[arg(long, value_delimiter = ',')]
        vary: Vec<String>,
        /// Units whose pools vary: tiers or unit names (default every unit).
        #[arg(long, value_delimiter = ',')]
        scope: Vec<String>,
        /// Cost of one person per pool, e.g. clerks=1,specialists=1.3,leaders=2 (default 1 each): the least total cost is sought.
        #[arg(long)]
        cost: Option<String>,
        /// One-sided confidence with which every target must hold.
        #[arg(long, default_value_t = 0.95)]
        confidence: f64,
        /// Replications of each search evaluation (common random numbers).
        #[arg(long, default_value_t = 4)]
        replications: u64,
        /// Replications of the final confirmation.
        #[arg(long, default_value_t = 12)]
        confirm_replications: u64,
        /// The most staff of any varied pool (default: 3 × the larger of the staff given and the analytic start, at least 10).
        #[arg(long)]
        max_staff: Option<u32>,
        /// Give up after this many distinct staffings simulated.
        #[arg(long, default_value_t = 400)]
        max_evaluations: usize,
        #[command(flatten)]
        sim: Sim,
        /// Output folder (default: results/size-<name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace a folder of motcua outputs.
        #[arg(long)]
        force: bool,
        /// Do not write report.html.
        #[arg(long)]
        no_report: bool,
        /// Print size.json on stdout instead of the summary.
        #[arg(long)]
        json: bool,
        /// Print each step of the search on stderr.
        #[arg(long, short)]
        verbose: bool,
        /// Hide the progress display.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Fit a scenario's free parameters to reported figures by history matching (waves of Latin hypercube designs, quadratic emulators, implausibility ≤ 3); writes calibrated.toml (an overlay), fit.csv, ranges.csv and calibration.json.
    Calibrate {
        /// The scenario file.
        scenario: PathBuf,
        /// The targets file: [[target]] metric, scope, value, tolerance; [[parameter]] path, min, max, mode (`motcua schema targets`).
        targets: PathBuf,
        /// Points to simulate over all waves (default 12 per parameter per wave).
        #[arg(long)]
        budget: Option<usize>,
        /// Waves.
        #[arg(long, default_value_t = 3)]
        waves: usize,
        /// Replications per point (common random numbers across points).
        #[arg(long, default_value_t = 2)]
        replications: u64,
        /// Replications of the fitted point's confirmation.
        #[arg(long, default_value_t = 10)]
        confirm_replications: u64,
        #[command(flatten)]
        sim: Sim,
        /// Output folder (default: results/calibrate-<name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace a folder of motcua outputs.
        #[arg(long)]
        force: bool,
        /// With --shard: the wave whose points this shard runs (the earlier waves must be done).
        #[arg(long, requires = "shard")]
        wave: Option<usize>,
        /// Run only shard K of N of --wave (e.g. 2/8; with Slurm, K = SLURM_ARRAY_TASK_ID); a run without it completes what the shards left and writes the outputs.
        #[arg(long, requires = "wave")]
        shard: Option<String>,
        /// Where simulated points are kept, so that a killed run resumes and shards share them (default: the output folder's name with `.points`).
        #[arg(long)]
        store: Option<PathBuf>,
        /// Hide the progress bar and the wave lines.
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
        /// Write report.html into the merged folder.
        #[arg(long)]
        report: bool,
    },
    /// Write a commented, runnable scenario for a province of your shape, with the calibrated baseline's defaults marked as assumptions to replace
    Init {
        /// The file to write (default: <name>.toml)
        file: Option<PathBuf>,
        /// The scenario's and province's name
        #[arg(long, default_value = "my-province")]
        name: String,
        /// Districts (default: one per 10 communes, at least 1)
        #[arg(long)]
        districts: Option<u32>,
        /// Communes
        #[arg(long, default_value_t = 20)]
        communes: u32,
        /// Abolish the district tier as on 1 July 2025 (districts' work and staff move to the communes and the province)
        #[arg(long)]
        two_tier: bool,
        /// Replace an existing file
        #[arg(long)]
        force: bool,
    },
    /// Write report.html into a result folder (a run's, a comparison's or a sweep's) from its files.
    Report {
        /// The result folder.
        dir: PathBuf,
    },
    /// Print a reference as Markdown: the output files (every file, column and metric), or an input format (every field: path, type, unit, default, range, meaning)
    Schema {
        /// Which: outputs, scenario, reform, sweep, network or targets
        #[arg(default_value = "outputs", value_parser = ["outputs", "scenario", "reform", "sweep", "network", "targets"])]
        what: String,
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
    /// Run the benchmark suite (engine-mmc, engine-reference-loop, province-year, nation-year, sweep-scaling) and optionally gate it against a stored run.
    Bench {
        /// Print the suite as JSON (the format `--check` reads).
        #[arg(long)]
        json: bool,
        /// Timed runs of the engine workloads (median reported); province-year and sweep-scaling use up to 3 (sweep-scaling alternates 1 thread and all threads, and its speed-up compares the fastest of each).
        #[arg(long, default_value_t = 11)]
        repeat: usize,
        /// Run only these workloads (engine-mmc, engine-reference-loop, province-year, nation-year, sweep-scaling); default all.
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
        Command::Run {
            scenario,
            runs,
            output,
            queue,
        } => {
            let o = commands::RunOptions {
                file: scenario,
                replications: runs.replications,
                seed: runs.sim.seed,
                out: output.out,
                threads: runs.sim.threads,
                force: output.force,
                queue: queue.map(|q| match q {
                    QueueArg::Fifo => motcua::engine::Discipline::Fifo,
                    QueueArg::Edf => motcua::engine::Discipline::Edf,
                }),
                horizon_days: runs.sim.horizon_days,
                warmup_days: runs.sim.warmup_days,
                report: !output.no_report,
            };
            let quiet = quiet_or_piped(runs.quiet);
            let bar = |n| experiment::progress_bar(n, quiet, "replications");
            let done = commands::run(&o, &bar, &mut |w| tell!("warning: {w}"))?;
            let s = &done.output.summary;
            if output.json {
                say(format_args!("{}\n", serde_json::to_string_pretty(s)?))?;
                return Ok(Outcome::Ok);
            }
            let wall = done.output.wall_s;
            say(format_args!(
                "{}: {} replications of {} days (after {} warm-up days), seed {}\n{}{} dossiers, {} events in {:.2} s ({:.0} dossiers/s, {:.0} events/s)\nwrote {}{}\n",
                done.scenario.name,
                s.replications,
                done.scenario.horizon_days,
                done.scenario.warmup_days,
                s.seed,
                motcua::report::run_table(s),
                s.dossiers,
                s.events,
                wall,
                s.dossiers as f64 / wall,
                s.events as f64 / wall,
                done.dir.display(),
                if o.report {
                    " (open report.html for the charts)"
                } else {
                    ""
                }
            ))?;
            Ok(Outcome::Ok)
        }
        Command::Compare {
            base,
            reforms,
            runs,
            output,
        } => {
            let o = commands::CompareOptions {
                base,
                reforms,
                replications: runs.replications,
                seed: runs.sim.seed,
                out: output.out,
                threads: runs.sim.threads,
                force: output.force,
                horizon_days: runs.sim.horizon_days,
                warmup_days: runs.sim.warmup_days,
                report: !output.no_report,
            };
            let quiet = quiet_or_piped(runs.quiet);
            let bar = |n| experiment::progress_bar(n, quiet, "replications");
            let done = commands::compare(&o, &bar)?;
            for sw in &done.comparison.warnings {
                for w in &sw.warnings {
                    tell!("warning: in {}: {w}", sw.scenario);
                }
            }
            if output.json {
                say(format_args!(
                    "{}\n",
                    serde_json::to_string_pretty(&done.comparison)?
                ))?;
                return Ok(Outcome::Ok);
            }
            say(format_args!(
                "{}wrote {}\n",
                motcua::report::comparison_table(&done.comparison),
                done.dir.display()
            ))?;
            Ok(Outcome::Ok)
        }
        Command::Sweep {
            spec,
            out,
            threads,
            shard,
            force,
            dry_run,
            report,
            quiet,
        } => {
            let shard = match shard {
                Some(s) => s.parse().map_err(anyhow::Error::msg)?,
                None => experiment::sweep::Shard { k: 1, n: 1 },
            };
            let o = commands::SweepOptions {
                spec,
                out,
                threads,
                shard,
                force,
                dry_run,
                report,
            };
            let quiet = quiet_or_piped(quiet);
            let bar = |n| experiment::progress_bar(n, quiet, "points");
            let start = std::time::Instant::now();
            let done = commands::sweep(&o, &bar)?;
            for (i, ws) in &done.warnings {
                for w in ws {
                    tell!("warning: point {i}: {w}");
                }
            }
            let Some(dir) = &done.dir else {
                say(format_args!(
                    "{}: {} points × {} replications; every point's scenario is valid; nothing written\n",
                    done.sweep.name,
                    done.sweep.points.len(),
                    done.sweep.replications
                ))?;
                return Ok(Outcome::Ok);
            };
            say(format_args!(
                "{}: shard {}/{}: {} of its {} points run now ({} already done), {} replications each, in {:.1} s; wrote {}\n",
                done.sweep.name,
                shard.k,
                shard.n,
                done.ran,
                done.mine,
                done.mine - done.ran,
                done.sweep.replications,
                start.elapsed().as_secs_f64(),
                dir.display()
            ))?;
            Ok(Outcome::Ok)
        }
        Command::Merge { dirs, out, report } => {
            commands::merge(&dirs, &out, report)?;
            say(format_args!(
                "merged {} folders into {}\n",
                dirs.len(),
                out.display()
            ))?;
            Ok(Outcome::Ok)
        }
        Command::Size {
            file,
            targets,
            vary,
            scope,
            cost,
            confidence,
            replications,
            confirm_replications,
            max_staff,
            max_evaluations,
            sim,
            out,
            force,
            no_report,
            json,
            verbose,
            quiet,
        } => {
            let o = commands::SizeOptions {
                file,
                targets,
                vary,
                scope,
                cost,
                confidence,
                replications,
                confirm_replications,
                max_staff,
                max_evaluations,
                seed: sim.seed,
                out,
                threads: sim.threads,
                force,
                horizon_days: sim.horizon_days,
                warmup_days: sim.warmup_days,
                report: !no_report,
            };
            let quiet = quiet_or_piped(quiet);
            let bar = |_| experiment::spinner(quiet, "evaluations");
            let step = |s: &experiment::size::Step| {
                if verbose {
                    tell!(
                        "{:<7} {:>3} replications  {:>6} staff  {:>4} missed  {}",
                        s.phase,
                        s.replications,
                        s.staff,
                        s.missed,
                        s.what
                    );
                }
            };
            let done = commands::size(&o, &bar, &step)?;
            let r = &done.result;
            if json {
                say(format_args!("{}\n", serde_json::to_string_pretty(r)?))?;
            } else {
                say(motcua::report::size_summary(r, done.wall_s, &done.dir))?;
            }
            Ok(if r.feasible {
                Outcome::Ok
            } else {
                Outcome::Breached
            })
        }
        Command::Calibrate {
            scenario,
            targets,
            budget,
            waves,
            replications,
            confirm_replications,
            sim,
            out,
            force,
            wave,
            shard,
            store,
            quiet,
        } => {
            let shard = match (shard, wave) {
                (Some(s), Some(w)) => {
                    let s: experiment::sweep::Shard = s.parse().map_err(anyhow::Error::msg)?;
                    Some((s.k, s.n, w))
                }
                _ => None,
            };
            let o = commands::CalibrateOptions {
                shard,
                store,
                scenario,
                targets,
                budget,
                waves,
                replications,
                confirm_replications,
                seed: sim.seed,
                out,
                threads: sim.threads,
                force,
                horizon_days: sim.horizon_days,
                warmup_days: sim.warmup_days,
            };
            let hidden = quiet_or_piped(quiet);
            let bar = |n| experiment::progress_bar(n, hidden, "points");
            let wave = |w: &experiment::calibrate::Wave| {
                if !quiet {
                    tell!(
                        "wave {}: {} points, {} within every tolerance, {:.1}% of the bounds not ruled out, {:.1} s",
                        w.wave,
                        w.points,
                        w.within,
                        100.0 * w.non_implausible_share,
                        w.seconds
                    );
                }
            };
            let done = commands::calibrate(&o, &bar, &wave)?;
            match &done.result {
                experiment::calibrate::Calibrated::Done(c) => {
                    say(motcua::report::calibrate_summary(c, done.wall_s, &done.dir))?;
                    Ok(if c.fitted {
                        Outcome::Ok
                    } else {
                        Outcome::Breached
                    })
                }
                experiment::calibrate::Calibrated::Shard {
                    wave,
                    simulated,
                    of,
                } => {
                    say(format_args!(
                        "wave {wave}: this shard simulated {simulated} of its {of} points in {:.1} s into {}; when every shard is done, run the next wave's shards or the command without --shard\n",
                        done.wall_s,
                        done.dir.display()
                    ))?;
                    Ok(Outcome::Ok)
                }
            }
        }
        Command::Init {
            file,
            name,
            districts,
            communes,
            two_tier,
            force,
        } => {
            let shape = motcua::scenario::init::Shape {
                districts: districts.unwrap_or(communes.div_ceil(10).max(1)),
                name,
                communes,
                two_tier,
            };
            let path = commands::init(&shape, file, force)?;
            say(format_args!(
                "wrote {p}: {d} districts, {c} communes{t}\nrun it with: motcua run {p}\nthen replace each ASSUMPTION with your province's figures (docs/scenario.md)\n",
                p = path.display(),
                d = shape.districts,
                c = shape.communes,
                t = if shape.two_tier {
                    ", district tier abolished"
                } else {
                    ""
                }
            ))?;
            Ok(Outcome::Ok)
        }
        Command::Report { dir } => {
            let t = std::time::Instant::now();
            let path = commands::write_report(&dir)?;
            say(format_args!(
                "wrote {} ({} bytes) in {:.2} s\n",
                path.display(),
                std::fs::metadata(&path).map_or(0, |m| m.len()),
                t.elapsed().as_secs_f64()
            ))?;
            Ok(Outcome::Ok)
        }
        Command::Schema { what } => {
            say(commands::schema(&what)?)?;
            Ok(Outcome::Ok)
        }
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
            "motcua bench, commit {}, {}, {} ({} cores)\n",
            suite.commit, suite.rustc, suite.machine.cpu, suite.machine.cores
        ))?;
        for w in &suite.workloads {
            let counts: Vec<String> = w.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
            say(format_args!(
                "  {:<21} {:>12} {:<17} wall {:.3} s (min {:.3}, max {:.3}, {} runs), {} thread(s), {}, peak {:.0} MiB\n",
                w.name,
                motcua::report::num(w.throughput, 4),
                w.throughput_unit,
                w.wall_s,
                w.min_s,
                w.max_s,
                w.runs_s.len(),
                w.threads,
                counts.join(", "),
                w.peak_rss_mib
            ))?;
        }
        let find = |n: &str| suite.workloads.iter().find(|w| w.name == n);
        if let (Some(engine), Some(reference)) = (find("engine-mmc"), find("engine-reference-loop"))
        {
            say(format_args!(
                "  engine-mmc against the hand-written loop: {:.2}× its speed by medians, {:.2}× by fastest runs (this run; > 1 is faster)\n",
                reference.wall_s / engine.wall_s,
                reference.min_s / engine.min_s
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
