//! The mutation harness: mutants of every shipped scenario, reform, sweep and network file must exit 0, or exit 2 naming the file, with no panic, within a time and memory bound.
//!
//! Mutants are derived deterministically from each file: a value replaced
//! by zero, a negative, a huge or a non-finite number, another type; a key
//! deleted; the text truncated; bad bytes or a NUL inserted; a line
//! duplicated. Valid mutants run briefly: `run` one replication of a week,
//! `sweep --dry-run`, `network` one replication.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Mutants per file.
const PER_FILE: usize = 30;
/// Wall-clock bound per mutant.
const BOUND: Duration = Duration::from_secs(60);
/// Virtual-memory bound per mutant, KiB (8 GiB).
const MEMORY_KIB: u64 = 8 << 20;

/// A small deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 17
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Paths of every leaf of a TOML value, as (key path, parent is table) steps.
fn leaves(v: &toml::Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                prefix.push(Step::Key(k.clone()));
                out.push(prefix.clone());
                leaves(x, prefix, out);
                prefix.pop();
            }
        }
        toml::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                prefix.push(Step::Index(i));
                out.push(prefix.clone());
                leaves(x, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn get_mut<'a>(v: &'a mut toml::Value, path: &[Step]) -> Option<&'a mut toml::Value> {
    let mut cur = v;
    for s in path {
        cur = match s {
            Step::Key(k) => cur.as_table_mut()?.get_mut(k)?,
            Step::Index(i) => cur.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(cur)
}

fn remove(v: &mut toml::Value, path: &[Step]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    if let Some(p) = get_mut(v, parent) {
        match (last, p) {
            (Step::Key(k), toml::Value::Table(t)) => {
                t.remove(k);
            }
            (Step::Index(i), toml::Value::Array(a)) if *i < a.len() => {
                a.remove(*i);
            }
            _ => {}
        }
    }
}

/// Replacement values: zero, negatives, huge, non-finite, wrong types.
fn replacement(k: usize) -> toml::Value {
    use toml::Value as V;
    match k % 14 {
        0 => V::Integer(0),
        1 => V::Integer(-1),
        2 => V::Float(1e300),
        3 => V::Float(-1e300),
        4 => V::Float(f64::NAN),
        5 => V::Float(f64::INFINITY),
        6 => V::Integer(1_000_000_000),
        7 => V::Integer(i64::MAX),
        8 => V::String("x".into()),
        9 => V::Boolean(true),
        10 => V::Array(vec![]),
        11 => V::Table(toml::Table::new()),
        12 => V::Float(1e-300),
        _ => V::String("../../../etc/passwd".into()),
    }
}

/// The file's text with relative `extends` / `base` made absolute, so that a
/// mutant written elsewhere still finds its base.
fn anchored(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let dir = std::fs::canonicalize(file.parent().unwrap()).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(rest) = t
            .strip_prefix("extends = \"")
            .or_else(|| t.strip_prefix("base = \""))
        {
            let key = if t.starts_with("extends") {
                "extends"
            } else {
                "base"
            };
            let rel = rest.trim_end_matches('"');
            let abs = dir.join(rel);
            out.push_str(&format!("{key} = {:?}\n", abs.display().to_string()));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A TOML document of a table value (a `Value`'s own `to_string` gives an inline table).
fn document(v: &toml::Value) -> Vec<u8> {
    match v {
        toml::Value::Table(t) => toml::to_string(t).unwrap_or_default().into_bytes(),
        other => other.to_string().into_bytes(),
    }
}

/// `PER_FILE` mutants of `file` (as bytes).
fn mutants(file: &Path, seed: u64) -> Vec<Vec<u8>> {
    let text = anchored(file);
    let value: toml::Value = toml::Value::Table(text.parse::<toml::Table>().unwrap());
    let mut paths = Vec::new();
    leaves(&value, &mut Vec::new(), &mut paths);
    let mut rng = Lcg(seed);
    let mut out = Vec::new();
    for m in 0..PER_FILE {
        let bytes = match m % 6 {
            0..=2 => {
                let mut v = value.clone();
                let p = &paths[rng.below(paths.len())];
                if let Some(slot) = get_mut(&mut v, p) {
                    *slot = replacement(rng.below(14));
                }
                document(&v)
            }
            3 => {
                let mut v = value.clone();
                remove(&mut v, &paths[rng.below(paths.len())]);
                document(&v)
            }
            4 => {
                let mut b = text.clone().into_bytes();
                let at = rng.below(b.len());
                if rng.below(2) == 0 {
                    b.truncate(at);
                } else {
                    let bad: &[u8] = match rng.below(3) {
                        0 => &[0xff, 0xfe],
                        1 => &[0],
                        _ => b"\n[[[",
                    };
                    b.splice(at..at, bad.iter().copied());
                }
                b
            }
            _ => {
                let lines: Vec<&str> = text.lines().collect();
                let i = rng.below(lines.len());
                let mut t: Vec<&str> = lines.clone();
                t.insert(i, lines[i]);
                (t.join("\n") + "\n").into_bytes()
            }
        };
        out.push(bytes);
    }
    out
}

#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    refused: usize,
    failures: Vec<String>,
    /// Why mutants were refused: the first error line, file name removed.
    reasons: Vec<String>,
}

fn run_one(kind: &str, mutant: &Path, out: &Path, tally: &mut Tally) {
    let m = mutant.to_str().unwrap();
    let o = out.to_str().unwrap();
    let args: Vec<&str> = match kind {
        "scenario" => vec![
            "run",
            m,
            "--replications",
            "1",
            "--horizon-days",
            "7",
            "--warmup-days",
            "0",
            "--threads",
            "1",
            "--out",
            o,
            "-q",
        ],
        "sweep" => vec!["sweep", m, "--dry-run", "--threads", "1", "-q"],
        _ => vec!["network", m, "--replications", "1", "--threads", "1", "-q"],
    };
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_motcua"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    let name = mutant.file_name().unwrap().to_string_lossy().into_owned();
    match status.and_then(|s| s.code()) {
        _ if status.is_none() => tally.failures.push(format!("{name}: ran past {BOUND:?}")),
        Some(0) => tally.ok += 1,
        Some(2) if err.contains(&name) && !err.contains("panicked") => {
            tally.refused += 1;
            let line = err
                .lines()
                .nth(1)
                .or(err.lines().next())
                .unwrap_or_default();
            tally
                .reasons
                .push(line.replace(mutant.to_str().unwrap_or_default(), "F"));
        }
        code => tally.failures.push(format!("{name}: exit {code:?}: {err}")),
    }
}

#[test]
fn mutants_of_every_shipped_file_exit_cleanly_within_their_bounds() {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for folder in [
        "scenarios",
        "scenarios/reforms",
        "scenarios/sweeps",
        "scenarios/validation",
    ] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        found.sort();
        for p in found {
            // What the file is, from its keys: a sweep names a base and axes,
            // a network has [run] and nodes, the rest are scenarios.
            let t: toml::Table = std::fs::read_to_string(&p).unwrap().parse().unwrap();
            let kind = if t.contains_key("base") {
                "sweep"
            } else if t.contains_key("node") {
                "network"
            } else {
                "scenario"
            };
            files.push((kind.to_string(), p));
        }
    }
    let work = crate::fresh_dir("mutants", "all");
    std::fs::create_dir_all(&work).unwrap();
    let mut jobs = Vec::new();
    for (fi, (kind, file)) in files.iter().enumerate() {
        for (mi, bytes) in mutants(file, 0x9e37_79b9 ^ fi as u64)
            .into_iter()
            .enumerate()
        {
            let stem = file.file_stem().unwrap().to_string_lossy();
            let m = work.join(format!("{stem}-m{mi:02}.toml"));
            std::fs::write(&m, bytes).unwrap();
            jobs.push((kind.clone(), m, work.join(format!("out-{fi}-{mi}"))));
        }
    }
    // Two workers, as CI has two cores.
    let results: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|w| {
                let jobs = &jobs;
                s.spawn(move || {
                    let mut t = Tally::default();
                    for (k, m, o) in jobs.iter().skip(w).step_by(2) {
                        run_one(k, m, o, &mut t);
                    }
                    t
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok: usize = results.iter().map(|t| t.ok).sum();
    let refused: usize = results.iter().map(|t| t.refused).sum();
    let failures: Vec<&String> = results.iter().flat_map(|t| &t.failures).collect();
    eprintln!(
        "mutation harness: {} files, {} mutants: {ok} ran (exit 0), {refused} refused (exit 2 naming the file), {} failures",
        files.len(),
        jobs.len(),
        failures.len()
    );
    if std::env::var_os("MOTCUA_MUTANT_REASONS").is_some() {
        for t in &results {
            for r in &t.reasons {
                eprintln!("refused: {r}");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} mutants failed:\n{}",
        failures.len(),
        jobs.len(),
        failures
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        ok > 0 && refused > 0,
        "the mutants must exercise both outcomes"
    );
    let _ = std::fs::remove_dir_all(&work);
}
