//! The commands of the `motcua` program as library functions: each checks its inputs, runs its experiment and writes its output set; the binary parses the arguments, calls one of these and prints.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;

use crate::engine::Discipline;
use crate::experiment::compare::Comparison;
use crate::experiment::run::RunOutput;
use crate::experiment::sweep::{self, Shard};
use crate::model::prepare::{ModelError, prepare};
use crate::report::{self, ReportError, files, output};
use crate::scenario::domain::{self, Scenario};
use crate::scenario::{ScenarioError, limits};

/// Why a command failed: the boundary error of the commands.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A file could not be used.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The model could not run (named with its file).
    #[error("{context}: {source}")]
    Model {
        /// Which file or scenario.
        context: String,
        /// What went wrong.
        source: ModelError,
    },
    /// Output could not be written.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// A command-line value is out of range, or a sweep failed.
    #[error("{0}")]
    Input(String),
}

fn model(context: &str) -> impl Fn(ModelError) -> CommandError + '_ {
    move |source| CommandError::Model {
        context: context.to_string(),
        source,
    }
}

/// Checks a replication count against the documented limit.
fn check_replications(reps: u64, at_least: u64) -> Result<(), CommandError> {
    let max = limits::MAX_REPLICATIONS;
    if (at_least..=max).contains(&reps) {
        Ok(())
    } else {
        Err(CommandError::Input(format!(
            "--replications must be between {at_least} and {max} (got {reps})"
        )))
    }
}

/// Applies `--horizon-days` and `--warmup-days`, within the limits a scenario file has.
fn override_days(
    sc: &mut Scenario,
    horizon: Option<u32>,
    warmup: Option<u32>,
) -> Result<(), CommandError> {
    if let Some(h) = horizon {
        if !(1..=3650).contains(&h) {
            return Err(CommandError::Input(format!(
                "--horizon-days must be between 1 and 3650 (got {h})"
            )));
        }
        sc.horizon_days = h;
    }
    if let Some(w) = warmup {
        if w > 365 {
            return Err(CommandError::Input(format!(
                "--warmup-days must be between 0 and 365 (got {w})"
            )));
        }
        sc.warmup_days = w;
    }
    if (horizon.is_some() || warmup.is_some())
        && let Some(e) = domain::scale_limits(sc).first()
    {
        return Err(CommandError::Input(format!(
            "with these days: {}: {}",
            e.field, e.message
        )));
    }
    Ok(())
}

fn discipline(sc: &Scenario, queue: Option<Discipline>) -> Discipline {
    queue.unwrap_or(if sc.model.edf {
        Discipline::Edf
    } else {
        Discipline::Fifo
    })
}

/// What `run` is asked to do.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The scenario file (the embedded baseline without one).
    pub file: Option<PathBuf>,
    /// Replications (default: the scenario's).
    pub replications: Option<u64>,
    /// Master seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Output folder (default `results/<scenario name>`).
    pub out: Option<PathBuf>,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Replace a folder of motcua outputs.
    pub force: bool,
    /// Queue discipline of the back office (default: the scenario's).
    pub queue: Option<Discipline>,
    /// Tallied days, overriding the scenario's.
    pub horizon_days: Option<u32>,
    /// Warm-up days, overriding the scenario's.
    pub warmup_days: Option<u32>,
    /// Write `report.html`.
    pub report: bool,
}

/// What `run` did.
#[derive(Debug)]
pub struct RunDone {
    /// The scenario run (with any day overrides).
    pub scenario: Scenario,
    /// Its results.
    pub output: RunOutput,
    /// Where the set was written.
    pub dir: PathBuf,
}

/// Runs a scenario and writes its output set. `progress` makes the progress
/// bar for a number of replications; `warn` receives each warning before
/// the simulation starts.
pub fn run(
    o: &RunOptions,
    progress: &dyn Fn(u64) -> ProgressBar,
    warn: &mut dyn FnMut(String),
) -> Result<RunDone, CommandError> {
    let mut sc = match &o.file {
        Some(p) => domain::load(p)?,
        None => domain::baseline()?,
    };
    override_days(&mut sc, o.horizon_days, o.warmup_days)?;
    let reps = o.replications.unwrap_or(sc.replications);
    check_replications(reps, 1)?;
    let seed = o.seed.unwrap_or(sc.seed);
    let label = o.file.as_ref().map_or_else(
        || "the embedded baseline".to_string(),
        |p| p.display().to_string(),
    );
    let dir = o
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(output::folder_name(&sc.name)));
    let prepared = prepare(&sc, discipline(&sc, o.queue)).map_err(model(&label))?;
    prepared.check_replications(reps).map_err(model(&label))?;
    // Lock and stage the output folder before simulating: a busy, foreign
    // or unwritable folder is reported now, not after the run.
    let mut set = output::OutputSet::begin(&dir, o.force)?;
    for w in prepared.warnings() {
        warn(format!(
            "{w} (memory is bounded by model.max_in_flight = {})",
            sc.model.max_in_flight
        ));
    }
    for a in &sc.assumptions {
        warn(format!("default used: {a}"));
    }
    let pb = progress(reps);
    let out = crate::experiment::run::run(&prepared, seed, reps, o.threads, &pb)
        .map_err(model(&label))?;
    pb.finish_and_clear();
    for n in &out.summary.notes {
        warn(n.clone());
    }
    files::write_run(&mut set, &sc, &out, o.report)?;
    let dir = set.commit(files::run_manifest(&sc, &out))?;
    drop(prepared);
    Ok(RunDone {
        scenario: sc,
        output: out,
        dir,
    })
}

/// What `compare` is asked to do.
#[derive(Clone, Debug, Default)]
pub struct CompareOptions {
    /// The base scenario file.
    pub base: PathBuf,
    /// Reform files.
    pub reforms: Vec<PathBuf>,
    /// Replications (default: the base's).
    pub replications: Option<u64>,
    /// Master seed (default: the base's).
    pub seed: Option<u64>,
    /// Output folder (default `results/compare-<base name>`).
    pub out: Option<PathBuf>,
    /// Worker threads.
    pub threads: usize,
    /// Replace a folder of motcua outputs.
    pub force: bool,
    /// Tallied days, overriding the scenarios'.
    pub horizon_days: Option<u32>,
    /// Warm-up days, overriding the scenarios'.
    pub warmup_days: Option<u32>,
    /// Write `report.html`.
    pub report: bool,
}

/// What `compare` did.
#[derive(Debug)]
pub struct CompareDone {
    /// The comparison.
    pub comparison: Comparison,
    /// Where the set was written.
    pub dir: PathBuf,
}

/// Compares reforms with a base and writes the output set.
pub fn compare(
    o: &CompareOptions,
    progress: &dyn Fn(u64) -> ProgressBar,
) -> Result<CompareDone, CommandError> {
    let mut b = domain::load(&o.base)?;
    override_days(&mut b, o.horizon_days, o.warmup_days)?;
    let mut rs = Vec::new();
    for p in &o.reforms {
        let mut r = domain::load(p)?;
        override_days(&mut r, o.horizon_days, o.warmup_days)?;
        rs.push(r);
    }
    let reps = o.replications.unwrap_or(b.replications);
    check_replications(reps, 2)?;
    let seed = o.seed.unwrap_or(b.seed);
    let dir = o.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(format!("compare-{}", output::folder_name(&b.name)))
    });
    let mut set = output::OutputSet::begin(&dir, o.force)?;
    let pb = progress(reps);
    let label = format!("{} compared with its reforms", o.base.display());
    let c = crate::experiment::compare::compare(&b, &rs, seed, reps, o.threads, &pb)
        .map_err(model(&label))?;
    pb.finish_and_clear();
    files::write_comparison_set(&mut set, &c, o.report)?;
    let dir = set.commit(files::comparison_manifest(&c))?;
    Ok(CompareDone { comparison: c, dir })
}

/// What `sweep` is asked to do.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// The sweep file.
    pub spec: PathBuf,
    /// Output folder (default `results/sweep-<name>`).
    pub out: Option<PathBuf>,
    /// Worker threads.
    pub threads: usize,
    /// The shard to run.
    pub shard: Shard,
    /// Allow more than a million points.
    pub force: bool,
    /// Check every point and write nothing.
    pub dry_run: bool,
    /// Write `report.html` when the sweep is complete.
    pub report: bool,
}

/// What `sweep` did.
#[derive(Debug)]
pub struct SweepDone {
    /// The sweep.
    pub sweep: sweep::Sweep,
    /// Points run now (0 for a dry run).
    pub ran: usize,
    /// Points of this shard.
    pub mine: usize,
    /// Overload warnings per point.
    pub warnings: Vec<(usize, Vec<crate::model::prepare::OverloadWarning>)>,
    /// The output folder (none for a dry run).
    pub dir: Option<PathBuf>,
}

/// Runs (or with `dry_run`, checks) a sweep.
pub fn sweep(
    o: &SweepOptions,
    progress: &dyn Fn(u64) -> ProgressBar,
) -> Result<SweepDone, CommandError> {
    let sw = sweep::load(&o.spec, o.force)?;
    // Every point's scenario is built and checked before the first runs.
    sweep::check_points(&sw, &o.spec, o.threads)?;
    let mine = (0..sw.points.len())
        .filter(|i| i % o.shard.n == o.shard.k - 1)
        .count();
    if o.dry_run {
        return Ok(SweepDone {
            sweep: sw,
            ran: 0,
            mine,
            warnings: Vec::new(),
            dir: None,
        });
    }
    let dir = o.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(format!("sweep-{}", output::folder_name(&sw.name)))
    });
    let pb = progress(0);
    let complete = o.shard.n == 1;
    let ran = report::sweep::run(&sw, &dir, o.shard, o.threads, &pb, complete)
        .map_err(CommandError::Input)?;
    pb.finish_and_clear();
    if complete && o.report {
        write_report(&dir)?;
    }
    Ok(SweepDone {
        sweep: sw,
        ran: ran.points,
        mine,
        warnings: ran.warnings,
        dir: Some(dir),
    })
}

/// Merges sweep shards into `out` (and writes its report with `report`).
pub fn merge(dirs: &[PathBuf], out: &Path, report: bool) -> Result<(), CommandError> {
    report::sweep::merge(dirs, out).map_err(CommandError::Input)?;
    if report {
        write_report(out)?;
    }
    Ok(())
}

/// Writes `report.html` into a result folder (a run's, a comparison's or a
/// sweep's), from its files; returns the page's path.
pub fn write_report(dir: &Path) -> Result<PathBuf, CommandError> {
    if dir.join("sweep.json").exists() {
        let _lock = output::lock(dir)?;
        let html = report::html::report_for(dir)?;
        let path = dir.join("report.html");
        report::write_atomic(&path, html.as_bytes())?;
        return Ok(path);
    }
    // A run's or a comparison's set: staged again with its report, swapped in whole.
    let text = crate::scenario::read_capped(&dir.join("manifest.json"), false, "json")?;
    let old: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        CommandError::Input(format!(
            "{}: not a motcua manifest ({e}); is this a result folder?",
            dir.join("manifest.json").display()
        ))
    })?;
    let mut set = output::OutputSet::begin(dir, true)?;
    for f in old["files"].as_array().into_iter().flatten() {
        let name = f["name"].as_str().unwrap_or_default();
        if name == "report.html" || !output::KNOWN_FILES.contains(&name) {
            continue;
        }
        let bytes = std::fs::read(dir.join(name)).map_err(|source| ReportError::Io {
            path: dir.join(name).display().to_string(),
            source,
        })?;
        set.write(name, &bytes)?;
    }
    let html = report::html::report_for(set.staging())?;
    set.write("report.html", html.as_bytes())?;
    let command = match old["command"].as_str() {
        Some("compare") => "compare",
        _ => "run",
    };
    let dir = set.commit(output::Manifest {
        motcua_version: env!("CARGO_PKG_VERSION"),
        command,
        scenario: old["scenario"].as_str().unwrap_or_default().to_string(),
        scenario_hash: old["scenario_hash"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        seed: old["seed"].as_u64().unwrap_or_default(),
        replications: old["replications"].as_u64().unwrap_or_default(),
        files: Vec::new(),
    })?;
    Ok(dir.join("report.html"))
}

/// The data dictionary (`motcua schema`).
pub fn schema(what: &str) -> Result<String, CommandError> {
    if what == "outputs" {
        return Ok(report::schema::markdown());
    }
    crate::scenario::reference::by_name(what)
        .map(report::schema::reference_markdown)
        .ok_or_else(|| {
            CommandError::Input(format!(
                "no reference named `{what}`; choose outputs, scenario, reform, sweep or network"
            ))
        })
}

/// Writes the scenario `motcua init` makes for `shape` to `file` (default
/// `<name>.toml`), refusing an existing file without `force`; returns its path.
pub fn init(
    shape: &crate::scenario::init::Shape,
    file: Option<PathBuf>,
    force: bool,
) -> Result<PathBuf, CommandError> {
    crate::scenario::init::check(shape).map_err(CommandError::Input)?;
    let path = file.unwrap_or_else(|| PathBuf::from(format!("{}.toml", shape.name)));
    if path.exists() && !force {
        return Err(CommandError::Input(format!(
            "{}: exists; choose another file or add --force to replace it",
            path.display()
        )));
    }
    report::write_atomic(&path, crate::scenario::init::template(shape).as_bytes())?;
    Ok(path)
}

/// What `size` is asked to do.
#[derive(Clone, Debug)]
pub struct SizeOptions {
    /// The scenario or network file.
    pub file: PathBuf,
    /// Targets, `METRIC[@SCOPE]<=VALUE` or `>=VALUE`.
    pub targets: Vec<String>,
    /// Pools to vary (`clerks`, `specialists`, `leaders`), or for a network
    /// the stations (`NAME` or `node[NAME].servers`); default all.
    pub vary: Vec<String>,
    /// Units whose pools vary: tiers or unit names (default all).
    pub scope: Vec<String>,
    /// Cost of one person per pool, `POOL=W,...` (default 1 each).
    pub cost: Option<String>,
    /// One-sided confidence of every target.
    pub confidence: f64,
    /// Replications of each search evaluation.
    pub replications: u64,
    /// Replications of the confirmation.
    pub confirm_replications: u64,
    /// The most staff of any varied pool.
    pub max_staff: Option<u32>,
    /// The most evaluations.
    pub max_evaluations: usize,
    /// Master seed (default: the file's).
    pub seed: Option<u64>,
    /// Output folder (default `results/size-<name>`).
    pub out: Option<PathBuf>,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Replace a folder of motcua outputs.
    pub force: bool,
    /// Tallied days, overriding the scenario's.
    pub horizon_days: Option<u32>,
    /// Warm-up days, overriding the scenario's.
    pub warmup_days: Option<u32>,
    /// Write `report.html`.
    pub report: bool,
}

/// What `size` did.
#[derive(Debug)]
pub struct SizeDone {
    /// What was written to `size.json`.
    pub result: report::size::SizeJson,
    /// Where the set was written.
    pub dir: PathBuf,
    /// Wall-clock seconds of the search.
    pub wall_s: f64,
}

fn parse_cost(text: Option<&str>, pools: &[&str]) -> Result<Vec<f64>, CommandError> {
    let mut cost = vec![1.0; pools.len()];
    let Some(text) = text else {
        return Ok(cost);
    };
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| {
            CommandError::Input(format!(
                "--cost `{part}`: expected POOL=WEIGHT; hint: --cost clerks=1,specialists=1.3,leaders=2"
            ))
        })?;
        let i = pools.iter().position(|p| *p == k.trim()).ok_or_else(|| {
            CommandError::Input(format!(
                "--cost `{part}`: unknown pool `{}`; the pools are {}",
                k.trim(),
                pools.join(", ")
            ))
        })?;
        cost[i] = v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|w| w.is_finite() && *w > 0.0)
            .ok_or_else(|| {
                CommandError::Input(format!("--cost `{part}`: the weight must be a number > 0"))
            })?;
    }
    Ok(cost)
}

/// Sizes the staff of a scenario (or the servers of a network file) to the
/// targets and writes the size set; see [`crate::experiment::size`].
pub fn size(
    o: &SizeOptions,
    progress: &dyn Fn(u64) -> ProgressBar,
    on_step: &(dyn Fn(&crate::experiment::size::Step) + Sync),
) -> Result<SizeDone, CommandError> {
    use crate::experiment::size::{self as sz, Problem};
    if o.targets.is_empty() {
        return Err(CommandError::Input(
            "give at least one --target; hint: --target 'late_rate@each-unit<=0.03'".into(),
        ));
    }
    if !(o.confidence > 0.5 && o.confidence < 1.0) {
        return Err(CommandError::Input(format!(
            "--confidence must be in (0.5, 1) (got {})",
            o.confidence
        )));
    }
    check_replications(o.replications, 2)?;
    check_replications(o.confirm_replications, o.replications)?;
    if o.max_staff == Some(0) {
        return Err(CommandError::Input("--max-staff must be ≥ 1".into()));
    }
    let mut errors = Vec::new();
    let targets: Vec<sz::Target> = o
        .targets
        .iter()
        .filter_map(|t| sz::parse_target(t).map_err(|e| errors.push(e)).ok())
        .collect();
    let text = crate::scenario::read_capped(&o.file, false, "toml")?;
    let is_network = toml::from_str::<toml::Table>(&text)
        .map(|t| t.contains_key("node"))
        .unwrap_or(false);
    let label = o.file.display().to_string();
    let fail = |errors: Vec<String>| {
        CommandError::Input(format!("{label}: cannot size:\n  {}", errors.join("\n  ")))
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(o.threads)
        .build()
        .map_err(|e| CommandError::Input(e.to_string()))?;
    let start = std::time::Instant::now();
    let opts = |pools: &[&str]| -> Result<sz::Options, CommandError> {
        Ok(sz::Options {
            confidence: o.confidence,
            replications: o.replications,
            confirm_replications: o.confirm_replications,
            cost: parse_cost(o.cost.as_deref(), pools)?,
            max_evaluations: o.max_evaluations,
        })
    };
    let pb = progress(0);
    let (json, staffing, set) = if is_network {
        if o.horizon_days.is_some() || o.warmup_days.is_some() || !o.scope.is_empty() {
            return Err(CommandError::Input(
                "--horizon-days, --warmup-days and --scope are for scenario files; a network file gives its own [run]".into(),
            ));
        }
        let p = sz::NetworkProblem::new(&o.file, &text, o.seed, targets, &o.vary, o.max_staff)
            .map_err(|mut e| {
                errors.append(&mut e);
                fail(std::mem::take(&mut errors))
            })?;
        if !errors.is_empty() {
            return Err(fail(errors));
        }
        let so = opts(p.pools())?;
        let name = p.file().name.clone();
        let dir = o.out.clone().unwrap_or_else(|| {
            PathBuf::from("results").join(format!("size-{}", output::folder_name(&name)))
        });
        let set = output::OutputSet::begin(&dir, o.force)?;
        let out = pool
            .install(|| sz::size_with(&p, &so, &pb, on_step))
            .map_err(|e| CommandError::Input(format!("{label}: {e}")))?;
        let cx = report::size::SizeContext {
            name: name.clone(),
            scenario_hash: {
                let mut h = crate::hash::Fnv::new();
                h.write(text.as_bytes());
                crate::hash::hex(h.finish())
            },
            seed: p.seed(),
            confidence: o.confidence,
            replications: o.replications,
            cost: so.cost.clone(),
            staffing_toml: String::new(),
            kind: "network",
        };
        let header = format!(
            "{name} with the servers found by motcua size ({}); run it with `motcua network`.\n",
            p.targets()
                .iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let body = p.text_with(&out.staff);
        let staffing = format!(
            "{}{body}",
            header
                .lines()
                .map(|l| format!("# {l}\n"))
                .collect::<String>()
        );
        (report::size::size_json(&p, &out, &cx), staffing, set)
    } else {
        if o.max_staff
            .is_some_and(|m| f64::from(m) > limits::MAX_SERVERS)
        {
            return Err(CommandError::Input(format!(
                "--max-staff must be at most {}",
                limits::MAX_SERVERS
            )));
        }
        let mut sc = domain::load(&o.file)?;
        override_days(&mut sc, o.horizon_days, o.warmup_days)?;
        let mut pools = Vec::new();
        for v in &o.vary {
            for name in v.split(',').filter(|s| !s.trim().is_empty()) {
                match sz::POOLS.iter().position(|p| *p == name.trim()) {
                    Some(k) if !pools.contains(&k) => pools.push(k),
                    Some(_) => {}
                    None => errors.push(format!(
                        "--vary `{name}`: not a pool; the pools are clerks, specialists and leaders"
                    )),
                }
            }
        }
        let spec = sz::ScenarioSpec {
            pools,
            scope: o.scope.clone(),
            max_staff: o.max_staff,
        };
        let seed = o.seed.unwrap_or(sc.seed);
        let name = sc.name.clone();
        let hash = crate::hash::hex(sc.hash);
        let multi = sc.provinces.len() > 1;
        let p = sz::ScenarioProblem::new(sc, seed, targets, &spec).map_err(|mut e| {
            errors.append(&mut e);
            fail(std::mem::take(&mut errors))
        })?;
        if !errors.is_empty() {
            return Err(fail(errors));
        }
        let so = opts(p.pools())?;
        let dir = o.out.clone().unwrap_or_else(|| {
            PathBuf::from("results").join(format!("size-{}", output::folder_name(&name)))
        });
        let set = output::OutputSet::begin(&dir, o.force)?;
        let out = pool
            .install(|| sz::size_with(&p, &so, &pb, on_step))
            .map_err(|e| CommandError::Input(format!("{label}: {e}")))?;
        let header = format!(
            "The staff found by motcua size for {name}: the fewest meeting {} at one-sided confidence {} (seed {seed}).\nRun it with `motcua run`, or compare it with the scenario with `motcua compare`.",
            p.targets()
                .iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            o.confidence
        );
        let staffing = report::size::staffing_overlay(&p, &out, &o.file, &dir, multi, &header);
        let cx = report::size::SizeContext {
            name: name.clone(),
            scenario_hash: hash,
            seed,
            confidence: o.confidence,
            replications: o.replications,
            cost: so.cost.clone(),
            staffing_toml: staffing.clone(),
            kind: "scenario",
        };
        (report::size::size_json(&p, &out, &cx), staffing, set)
    };
    pb.finish_and_clear();
    let wall_s = start.elapsed().as_secs_f64();
    let (json, staffing, mut set) = (json, staffing, set);
    report::size::write_size_set(&mut set, &json, &staffing, o.report)?;
    let dir = set.commit(report::size::size_manifest(&json))?;
    Ok(SizeDone {
        result: json,
        dir,
        wall_s,
    })
}

/// What `calibrate` is asked to do.
#[derive(Clone, Debug)]
pub struct CalibrateOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The targets file.
    pub targets: PathBuf,
    /// Total points over the waves (default 12 per parameter per wave).
    pub budget: Option<usize>,
    /// Waves.
    pub waves: usize,
    /// Replications per point.
    pub replications: u64,
    /// Replications of the fitted point's confirmation.
    pub confirm_replications: u64,
    /// Master seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Output folder (default `results/calibrate-<name>`).
    pub out: Option<PathBuf>,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Replace a folder of motcua outputs.
    pub force: bool,
    /// Tallied days, overriding the scenario's.
    pub horizon_days: Option<u32>,
    /// Warm-up days, overriding the scenario's.
    pub warmup_days: Option<u32>,
    /// Run only shard K of N of one wave: `(k, n, wave)`.
    pub shard: Option<(usize, usize, usize)>,
    /// Where simulated points are kept (default `results/calibrate-<name>.points`).
    pub store: Option<PathBuf>,
}

/// What `calibrate` did.
#[derive(Debug)]
pub struct CalibrateDone {
    /// The outcome (a shard's, or the calibration).
    pub result: crate::experiment::calibrate::Calibrated,
    /// The targets file.
    pub spec: crate::experiment::calibrate::TargetsFile,
    /// Where the set was written (the point store for a shard).
    pub dir: PathBuf,
    /// Wall-clock seconds.
    pub wall_s: f64,
}

/// Calibrates a scenario to reported figures and writes the calibration set.
pub fn calibrate(
    o: &CalibrateOptions,
    progress: &dyn Fn(u64) -> ProgressBar,
    on_wave: &(dyn Fn(&crate::experiment::calibrate::Wave) + Sync),
) -> Result<CalibrateDone, CommandError> {
    use crate::experiment::calibrate as cal;
    check_replications(o.replications, 1)?;
    check_replications(o.confirm_replications, 2)?;
    if !(1..=20).contains(&o.waves) {
        return Err(CommandError::Input(format!(
            "--waves must be between 1 and 20 (got {})",
            o.waves
        )));
    }
    let text = crate::scenario::read_capped(&o.targets, false, "toml")?;
    let label = o.targets.display().to_string();
    let spec = cal::parse_targets(&text).map_err(|e| {
        CommandError::Input(format!("{label}: cannot calibrate:\n  {}", e.join("\n  ")))
    })?;
    let scen_text = crate::scenario::read_capped(&o.scenario, false, "toml")?;
    let mut chain =
        domain::RawChain::read(&o.scenario, &scen_text, crate::scenario::Origin::Named)?;
    for (key, v) in [
        ("horizon_days", o.horizon_days),
        ("warmup_days", o.warmup_days),
    ] {
        if let Some(v) = v {
            chain
                .table
                .insert(key.into(), toml::Value::Integer(i64::from(v)));
        }
    }
    let base = chain.clone().build(&o.scenario)?;
    let seed = o.seed.unwrap_or(base.seed);
    let d = spec.parameters.len();
    let points = o.budget.map_or(12 * d.max(2), |b| (b / o.waves).max(d + 2));
    let opts = cal::Options {
        waves: o.waves,
        points,
        replications: o.replications,
        confirm_replications: o.confirm_replications,
        seed,
        cutoff: 3.0,
        shard: o.shard,
    };
    if let Some((k, n, w)) = o.shard
        && !(k >= 1 && k <= n && w >= 1 && w <= o.waves)
    {
        return Err(CommandError::Input(format!(
            "--shard {k}/{n} of --wave {w}: need 1 ≤ K ≤ N and 1 ≤ wave ≤ --waves ({})",
            o.waves
        )));
    }
    let dir = o.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(format!("calibrate-{}", output::folder_name(&spec.name)))
    });
    let store_dir = o.store.clone().unwrap_or_else(|| {
        let mut name = dir.file_name().unwrap_or_default().to_os_string();
        name.push(".points");
        dir.with_file_name(name)
    });
    let store = report::calibrate::FileStore::new(&store_dir)?;
    let mut set = if o.shard.is_none() {
        Some(output::OutputSet::begin(&dir, o.force)?)
    } else {
        None
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(o.threads)
        .build()
        .map_err(|e| CommandError::Input(e.to_string()))?;
    let pb = progress((points * o.waves) as u64);
    let start = std::time::Instant::now();
    let result = pool
        .install(|| cal::calibrate(&chain, &o.scenario, &spec, &opts, &store, &pb, on_wave))
        .map_err(|e| CommandError::Input(format!("{label}: {e}")))?;
    pb.finish_and_clear();
    let wall_s = start.elapsed().as_secs_f64();
    let (result, mut set) = match (result, set.take()) {
        (cal::Calibrated::Done(c), Some(set)) => (c, set),
        (other, _) => {
            return Ok(CalibrateDone {
                result: other,
                spec,
                dir: store_dir,
                wall_s,
            });
        }
    };
    let header = format!(
        "{} fitted by motcua calibrate to {} ({} waves of {} points, seed {seed}): {}.\nRun it with `motcua run`; fit.csv and ranges.csv say how well and how firmly.",
        base.name,
        o.targets.display(),
        o.waves,
        points,
        if result.fitted {
            "every target within its tolerance"
        } else {
            "NOT every target within its tolerance"
        }
    );
    let overlay = report::calibrate::overlay(&spec, &result, &o.scenario, &dir, &header);
    let j = report::calibrate::CalibrationJson {
        command: "calibrate",
        name: &spec.name,
        scenario: &base.name,
        scenario_hash: crate::hash::hex(base.hash),
        seed,
        replications: o.replications,
        confirm_replications: o.confirm_replications,
        cutoff: opts.cutoff,
        targets: &spec,
        result: &result,
    };
    report::calibrate::write_set(&mut set, &j, &overlay)?;
    let dir = set.commit(report::calibrate::manifest(&j))?;
    Ok(CalibrateDone {
        result: cal::Calibrated::Done(result),
        spec,
        dir,
        wall_s,
    })
}
