//! Hostile input: no input crashes, hangs, leaks a file's content or writes outside its folder, and an output folder is never half one run and half another.
//!
//! One test per class of problem; the mutation harness is in `mutants.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::motcua;

fn dir(name: &str) -> PathBuf {
    let d = crate::fresh_dir("hostile", name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The small fixture as text, with `edits` applied (each must match).
fn small(edits: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string("tests/fixtures/small.toml").unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "the fixture has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    text
}

/// Runs motcua in `cwd` with a time bound; panics past it.
fn motcua_in(cwd: &Path, args: &[&str], bound: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > bound {
            let _ = child.kill();
            panic!("motcua {args:?} ran past {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A refusal: exit 2, the file named, no panic.
fn refused(o: &Output, file: &Path, needle: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(!e.contains("panicked"), "{e}");
    let name = file.file_name().unwrap().to_string_lossy();
    assert!(e.contains(name.as_ref()), "the error must name {name}: {e}");
    assert!(e.contains(needle), "missing {needle:?} in: {e}");
}

fn run_file(d: &Path, name: &str, text: &str) -> (PathBuf, Output) {
    let f = d.join(name);
    std::fs::write(&f, text).unwrap();
    let out = d.join(format!("out-{name}"));
    let o = motcua_in(
        d,
        &[
            "run",
            f.to_str().unwrap(),
            "--replications",
            "1",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ],
        Duration::from_secs(60),
    );
    (f, o)
}

#[test]
fn huge_durations_are_refused_or_cut_and_never_panic_or_hang() {
    let d = dir("huge");
    for (what, edit, needle) in [
        (
            "approval 1e15 minutes",
            (
                "approval_minutes = { dist = \"exponential\", mean = 2.0 }",
                "approval_minutes = { dist = \"constant\", value = 1e15 }",
            ),
            "procedure[0].approval_minutes: its mean is 1e15 working minutes, over the limit",
        ),
        (
            "handoff 1e9 days",
            (
                "handoff_days = { dist = \"lognormal\", mean = 0.2, sd = 0.2 }",
                "handoff_days = { dist = \"constant\", value = 1e9 }",
            ),
            "procedure[0].handoff_days: its mean is 1e9 working days, over the limit",
        ),
        (
            "supplement mean 1e300",
            (
                "incomplete_at_desk = 0.1\n",
                "incomplete_at_desk = 0.1\nsupplement_days = { dist = \"exponential\", mean = 1e300 }\n",
            ),
            "procedure[0].supplement_days",
        ),
        (
            "lognormal that cannot be sampled",
            (
                "appraisal_minutes = { dist = \"lognormal\", mean = 12.0, sd = 8.0 }",
                "appraisal_minutes = { dist = \"lognormal\", mean = 1e-300, sd = 1e300 }",
            ),
            "procedure[0].appraisal_minutes.",
        ),
    ] {
        let (f, o) = run_file(&d, "h.toml", &small(&[edit]));
        refused(&o, &f, needle);
        let _ = what;
    }
    let text = small(&[(
        "seed = 7",
        "seed = 7\n[[reform]]\nkind = \"transition_shock\"\nfrom = \"2022-03-05\"\nweeks = 2\nproductivity = 1e-12",
    )]);
    let (f, o) = run_file(&d, "shock.toml", &text);
    refused(&o, &f, "reform[0].productivity: must be between 0.05 and 1");
    // Large but allowed: ten years in the in-tray, and heavy tails whose
    // draws overflow. The run finishes quickly (what lies past the end of
    // the run is cut to it) and says so with exit 0.
    let text = small(&[
        (
            "handoff_days = { dist = \"lognormal\", mean = 0.2, sd = 0.2 }",
            "handoff_days = { dist = \"constant\", value = 3650.0 }",
        ),
        (
            "appraisal_minutes = { dist = \"lognormal\", mean = 120.0, sd = 120.0 }",
            "appraisal_minutes = { dist = \"lognormal\", mean = 100.0, sd = 1e6 }",
        ),
    ]);
    let start = Instant::now();
    let (_, o) = run_file(&d, "long.toml", &text);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn counts_past_their_limits_are_refused_before_anything_is_allocated() {
    let d = dir("counts");
    for (units, needle) in [
        (
            "9223372036854775807",
            "must be between 1 and 20000 (got 9223372036854775807)",
        ),
        ("1000000000", "must be between 1 and 20000 (got 1000000000)"),
    ] {
        let (f, o) = run_file(
            &d,
            "units.toml",
            &small(&[("units = 6", &format!("units = {units}"))]),
        );
        refused(&o, &f, needle);
    }
    let o = motcua(&[
        "run",
        "--replications",
        "1000000000",
        "--out",
        d.join("r").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--replications must be between 1 and 10000"),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("r").exists(), "nothing is written");
    // The same through a sweep axis: refused before the first point runs.
    let sweep = d.join("units-sweep.toml");
    let fixture = std::fs::canonicalize("tests/fixtures/small.toml").unwrap();
    std::fs::write(
        &sweep,
        format!(
            "base = {:?}\nreplications = 1\n[[axis]]\npath = \"province[0].tier[2].units\"\nvalues = [6, 1e9]\n",
            fixture.display().to_string()
        ),
    )
    .unwrap();
    let out = d.join("sw");
    let o = motcua(&[
        "sweep",
        sweep.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    refused(
        &o,
        &sweep,
        "point 1 (province[0].tier[2].units = 1000000000)",
    );
    assert!(
        !out.exists(),
        "nothing is written before every point checks out"
    );
}

#[test]
fn inputs_cannot_ask_for_unbounded_memory() {
    let d = dir("memory");
    let (f, o) = run_file(
        &d,
        "inflight.toml",
        &small(&[(
            "seed = 7",
            "seed = 7\n[model]\nmax_in_flight = 1000000000000",
        )]),
    );
    refused(
        &o,
        &f,
        "model.max_in_flight: must be between 1000 and 20000000",
    );
    for target in ["/dev/zero", "/dev/urandom"] {
        let (f, o) = run_file(&d, "zero.toml", &format!("extends = {target:?}\n"));
        refused(&o, &f, "must be a .toml file");
    }
    // A big file named on the command line.
    let big = d.join("big.toml");
    let mut text = small(&[]);
    text.push_str(&format!("# {}\n", "x".repeat(5 << 20)));
    std::fs::write(&big, text).unwrap();
    let o = motcua(&[
        "run",
        big.to_str().unwrap(),
        "--out",
        d.join("o").to_str().unwrap(),
    ]);
    refused(&o, &big, "over the limit of 4 MiB");
    let o = motcua(&["bench", "--check", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    // An empirical distribution past its value count.
    let values: Vec<String> = (0..100_001).map(|i| format!("{i}.0")).collect();
    let weights = vec!["1.0"; 100_001].join(",");
    let (f, o) = run_file(
        &d,
        "empirical.toml",
        &small(&[(
            "approval_minutes = { dist = \"exponential\", mean = 2.0 }",
            &format!(
                "approval_minutes = {{ dist = \"empirical\", values = [{}], weights = [{weights}] }}",
                values.join(",")
            ),
        )]),
    );
    refused(&o, &f, "at most 100000 values (got 100001)");
    // A Latin hypercube of 10¹⁰ samples is refused at once.
    let sweep = d.join("lhs.toml");
    let fixture = std::fs::canonicalize("tests/fixtures/small.toml").unwrap();
    std::fs::write(
        &sweep,
        format!(
            "base = {:?}\n[lhs]\nsamples = 10000000000\nfields = [{{ path = \"procedure[0].deadline_days\", min = 1, max = 5 }}]\n",
            fixture.display().to_string()
        ),
    )
    .unwrap();
    let start = Instant::now();
    let o = motcua(&["sweep", sweep.to_str().unwrap(), "--force", "--dry-run"]);
    refused(&o, &sweep, "lhs.samples: must be at most 10000000");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn errors_never_show_the_content_of_a_file_the_user_did_not_name() {
    let d = dir("leak");
    let (f, o) = run_file(&d, "passwd.toml", "extends = \"/etc/passwd\"\n");
    refused(&o, &f, "must be a .toml file");
    assert!(!stderr(&o).contains("root:"), "{}", stderr(&o));
    let (_, o) = run_file(&d, "environ.toml", "extends = \"/proc/self/environ\"\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("PATH="), "{}", stderr(&o));
    // A .toml base that is not valid TOML: its place, not its lines.
    std::fs::write(d.join("secret.toml"), "token = hunter2-SECRET\n").unwrap();
    let (_, o) = run_file(&d, "over.toml", "extends = \"secret.toml\"\n");
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        e.contains("secret.toml: not valid TOML: at line 1, column 9"),
        "{e}"
    );
    assert!(!e.contains("hunter2"), "{e}");
    // A valid .toml base with a bad value: the field and the rule, not the value.
    std::fs::write(
        d.join("secret2.toml"),
        small(&[("start = \"2022-03-01\"", "start = \"SECRET-VALUE\"")]),
    )
    .unwrap();
    let (_, o) = run_file(&d, "over2.toml", "extends = \"secret2.toml\"\n");
    let e = stderr(&o);
    assert!(e.contains("secret2.toml: start: malformed date"), "{e}");
    assert!(!e.contains("SECRET-VALUE"), "{e}");
    // The file the user named is quoted, to help them fix it.
    let (_, o) = run_file(&d, "mine.toml", "name = \"x\"\nstart = 2022-13-01\n");
    assert!(stderr(&o).contains("start = 2022-13-01"), "{}", stderr(&o));
}

#[test]
fn names_never_write_outside_the_results_folder() {
    let d = dir("escape");
    let (f, o) = run_file(
        &d,
        "n.toml",
        &small(&[("name = \"small\"", "name = \"../../escaped\"")]),
    );
    refused(&o, &f, "name: must not contain `/`");
    // A sweep's name becomes one folder under results/.
    let sweep = d.join("s.toml");
    let fixture = std::fs::canonicalize("tests/fixtures/small.toml").unwrap();
    std::fs::write(
        &sweep,
        format!(
            "name = \"../../escaped-sweep\"\nbase = {:?}\nreplications = 1\n[[axis]]\npath = \"procedure[0].deadline_days\"\nvalues = [1]\n",
            fixture.display().to_string()
        ),
    )
    .unwrap();
    let o = motcua_in(&d, &["sweep", "s.toml", "-q"], Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(d.join("results/sweep-escaped-sweep/results.csv").exists());
    assert!(!d.parent().unwrap().join("escaped-sweep").exists());
    assert!(!Path::new("/tmp/escaped-sweep").exists());
}

#[test]
fn outputs_never_follow_a_symbolic_link_planted_in_the_folder() {
    let d = dir("symlink");
    let victim = d.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("summary.json")).unwrap();
    let o = motcua(&[
        "run",
        "tests/fixtures/small.toml",
        "--replications",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("holds `summary.json`, which motcua does not write"));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    // The output folder itself as a link.
    let link = d.join("link");
    std::os::unix::fs::symlink(&d, &link).unwrap();
    let o = motcua(&[
        "run",
        "tests/fixtures/small.toml",
        "--replications",
        "2",
        "--out",
        link.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a symbolic link"), "{}", stderr(&o));
    // A point file replaced by a link to the victim is refused on resume, and never written through.
    let sweep_out = d.join("sw");
    let o = motcua(&[
        "sweep",
        "tests/fixtures/sweep.toml",
        "--out",
        sweep_out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let p0 = sweep_out.join("points/point-0000000.csv");
    std::fs::remove_file(&p0).unwrap();
    std::os::unix::fs::symlink(&victim, &p0).unwrap();
    let o = motcua(&[
        "sweep",
        "tests/fixtures/sweep.toml",
        "--out",
        sweep_out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("point-0000000.csv"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

/// Checks that `dir` holds one complete output set: a manifest whose files
/// all exist with their sizes and checksums, and nothing else. Returns its seed.
fn complete_set(dir: &Path) -> u64 {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("a manifest"))
            .unwrap();
    let files = m["files"].as_array().unwrap();
    let mut names = vec!["manifest.json".to_string()];
    for f in files {
        let name = f["name"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(bytes.len() as u64, f["bytes"].as_u64().unwrap(), "{name}");
        let mut h = motcua::hash::Fnv::new();
        h.write(&bytes);
        assert_eq!(
            format!("{:016x}", h.finish()),
            f["fnv64"].as_str().unwrap(),
            "{name}"
        );
        names.push(name.to_string());
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    names.sort();
    assert_eq!(
        on_disk, names,
        "the folder holds exactly the manifest's files"
    );
    m["seed"].as_u64().unwrap()
}

#[test]
fn a_kill_at_any_moment_leaves_the_previous_set_or_the_new_one_never_a_mix() {
    let d = dir("kill");
    let out = d.join("out");
    let outs = out.to_str().unwrap();
    let base = [
        "run",
        "--replications",
        "3",
        "--horizon-days",
        "120",
        "--out",
        outs,
        "-q",
    ];
    let mut first = base.to_vec();
    first.extend(["--seed", "1"]);
    assert_eq!(motcua(&first).status.code(), Some(0));
    assert_eq!(complete_set(&out), 1);
    // Time an uninterrupted re-run, then kill re-runs at moments spread over it.
    let mut again = base.to_vec();
    again.extend(["--seed", "2", "--force"]);
    let t = Instant::now();
    assert_eq!(motcua(&again).status.code(), Some(0));
    let full = t.elapsed();
    assert_eq!(complete_set(&out), 2);
    // Kill re-runs at moments spread from early in the simulation to past
    // the end of the writing. Concurrent tests can make a re-run slower than
    // the timed one, so if no kill came after the swap (or none before), more
    // are made later (or earlier) until each outcome has been seen.
    let mut seen = std::collections::BTreeSet::new();
    let mut seed = 3u64;
    let mut kill_after = |fraction: f64, seen: &mut std::collections::BTreeSet<bool>| {
        let seed_arg = seed.to_string();
        let mut args = base.to_vec();
        args.extend(["--seed", seed_arg.as_str(), "--force"]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(fraction));
        let _ = child.kill();
        let _ = child.wait();
        let s = complete_set(&out);
        // A complete set (checked above): the new one, or an earlier one.
        assert!(s <= seed, "set {s} after killing the writer of {seed}");
        seen.insert(s == seed);
        seed += 1;
    };
    for k in 0..16 {
        kill_after(0.3 + 0.9 * f64::from(k) / 15.0, &mut seen);
    }
    for fraction in [1.5, 2.0, 3.0, 5.0, 8.0] {
        if seen.contains(&true) {
            break;
        }
        kill_after(fraction, &mut seen);
    }
    for fraction in [0.1, 0.03, 0.01] {
        if seen.contains(&false) {
            break;
        }
        kill_after(fraction, &mut seen);
    }
    // Both outcomes happened: some kills came before the swap, some after.
    assert_eq!(seen.len(), 2, "kills before and after the swap: {seen:?}");
    // The next writer clears what a killed one left, and the lock is free.
    let mut last = base.to_vec();
    last.extend(["--seed", "99", "--force"]);
    assert_eq!(motcua(&last).status.code(), Some(0));
    assert_eq!(complete_set(&out), 99);
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("staging") || n.contains(".old-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_killed_sweep_resumes_to_the_same_results_and_never_shows_a_partial_point() {
    let d = dir("kill-sweep");
    let whole = d.join("whole");
    let o = motcua(&[
        "sweep",
        "tests/fixtures/sweep.toml",
        "--out",
        whole.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cut = d.join("cut");
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args([
            "sweep",
            "tests/fixtures/sweep.toml",
            "--out",
            cut.to_str().unwrap(),
            "-q",
            "--threads",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let _ = child.kill();
    let _ = child.wait();
    // Every point file present is complete.
    let fp: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cut.join("sweep.json")).unwrap()).unwrap();
    let fingerprint = fp["fingerprint"].as_u64().unwrap();
    for i in 0..4 {
        if cut.join(format!("points/point-{i:07}.csv")).exists() {
            motcua::report::sweep::read_point(&cut, i, fingerprint).unwrap();
        }
    }
    let o = motcua(&[
        "sweep",
        "tests/fixtures/sweep.toml",
        "--out",
        cut.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["results.csv", "summary.csv"] {
        assert_eq!(
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(cut.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn two_writers_to_one_folder_cannot_both_succeed() {
    let d = dir("writers");
    let out = d.join("out");
    let outs = out.to_str().unwrap();
    let mut long = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["run", "--replications", "2", "--out", outs, "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let o = motcua(&[
        "run",
        "tests/fixtures/small.toml",
        "--out",
        outs,
        "--force",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("another motcua process is writing this folder"),
        "{}",
        stderr(&o)
    );
    assert!(long.wait().unwrap().success());
    complete_set(&out);
    // An unwritable folder is found before the simulation, not after it.
    let t = Instant::now();
    let o = motcua(&["run", "--out", "/proc/motcua-cannot-write-here"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "found before simulating"
    );
}

#[test]
fn sweeps_refuse_stale_corrupt_or_foreign_points() {
    let d = dir("stale");
    // A chain: sweep → mid.toml → base.toml. Editing the base changes the sweep.
    std::fs::write(d.join("base.toml"), small(&[])).unwrap();
    std::fs::write(d.join("mid.toml"), "extends = \"base.toml\"\n").unwrap();
    std::fs::write(
        d.join("sw.toml"),
        "base = \"mid.toml\"\nreplications = 1\n[[axis]]\npath = \"procedure[0].deadline_days\"\nvalues = [1, 2]\n",
    )
    .unwrap();
    let out = d.join("out");
    let outs = out.to_str().unwrap();
    let sw = d.join("sw.toml");
    let sws = sw.to_str().unwrap();
    assert_eq!(
        motcua(&["sweep", sws, "--out", outs, "-q"]).status.code(),
        Some(0)
    );
    std::fs::write(
        d.join("base.toml"),
        small(&[(
            "staff = { clerks = 3, specialists = 6, leaders = 1 }",
            "staff = { clerks = 4, specialists = 6, leaders = 1 }",
        )]),
    )
    .unwrap();
    let o = motcua(&["sweep", sws, "--out", outs, "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("holds another sweep"), "{}", stderr(&o));
    // Merge into a folder of another sweep.
    let other = d.join("other");
    assert_eq!(
        motcua(&["sweep", sws, "--out", other.to_str().unwrap(), "-q"])
            .status
            .code(),
        Some(0)
    );
    let o = motcua(&["merge", other.to_str().unwrap(), "--out", outs]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("holds another sweep"), "{}", stderr(&o));
    // A truncated point file, and one with bad bytes: refused, naming the file.
    let p1 = other.join("points/point-0000001.csv");
    let text = std::fs::read(&p1).unwrap();
    std::fs::write(&p1, &text[..text.len() / 2]).unwrap();
    let o = motcua(&[
        "merge",
        other.to_str().unwrap(),
        "--out",
        d.join("m1").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("point-0000001.csv"), "{}", stderr(&o));
    let mut bad = text.clone();
    bad[10] = 0xff;
    std::fs::write(&p1, &bad).unwrap();
    let o = motcua(&[
        "merge",
        other.to_str().unwrap(),
        "--out",
        d.join("m2").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("point-0000001.csv: not UTF-8"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_sweeps_are_refused_before_anything_runs() {
    let d = dir("badsweep");
    let fixture = std::fs::canonicalize("tests/fixtures/small.toml").unwrap();
    let base = format!(
        "base = {:?}\nreplications = 1\n",
        fixture.display().to_string()
    );
    for (axis, needle) in [
        (
            "[[axis]]\npath = \"procedure[0].deadline_days\"\nrange = { from = 1, to = inf, step = 1 }\n",
            "axis[0].range: `from` and `to` must be finite numbers",
        ),
        (
            "[[axis]]\npath = \"procedure[0].deadline_days\"\nvalues = [1, -2]\n",
            "point 1 (procedure[0].deadline_days = -2): the scenario refuses it",
        ),
        (
            "[[axis]]\npath = \"procedure[0].deadline_days\"\nvalues = [3.5]\n",
            "point 0 (procedure[0].deadline_days = 3.5)",
        ),
    ] {
        let f = d.join("s.toml");
        std::fs::write(&f, format!("{base}{axis}")).unwrap();
        let out = d.join("out");
        let o = motcua(&["sweep", f.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        refused(&o, &f, needle);
        assert!(!out.exists(), "nothing is written");
    }
}

#[test]
fn duplicate_names_contradicting_reforms_and_dates_as_ids_are_refused() {
    let d = dir("structure");
    for (text, needle) in [
        (
            small(&[(
                "units = 2\n",
                "unit = [{ name = \"commune-1\" }, { name = \"d2\" }]\n",
            )]),
            "two units are named `commune-1`",
        ),
        (
            {
                let t = small(&[]);
                let p = &t[t.find("[[province]]").unwrap()..];
                format!("{t}\n{p}")
            },
            "duplicate province name",
        ),
        (
            small(&[("id = \"certify\"", "id = 2022-01-01")]),
            "procedure[0].id: must be a string in quotes (got a datetime)",
        ),
        (
            small(&[(
                "seed = 7",
                "seed = 7\n[[reform]]\nkind = \"online_uptake\"\nset = 0.3\n[[reform]]\nkind = \"online_uptake\"\nset = 0.6\n",
            )]),
            "reform[0] set the online share of `certify` to 0.3: the reforms contradict each other",
        ),
    ] {
        let (f, o) = run_file(&d, "s.toml", &text);
        refused(&o, &f, needle);
    }
}

#[test]
fn every_error_of_every_file_is_reported_at_once_and_in_its_own_file() {
    let d = dir("all-at-once");
    // The base has a bad staff count; the overlay a bad horizon. Both, each in its file.
    std::fs::write(
        d.join("base.toml"),
        small(&[(
            "staff = { clerks = 3, specialists = 6, leaders = 1 }",
            "staff = { clerks = 0, specialists = 6, leaders = 1 }",
        )]),
    )
    .unwrap();
    let (f, o) = run_file(
        &d,
        "over.toml",
        "extends = \"base.toml\"\nhorizon_days = 0\n",
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        e.contains(&format!(
            "{}: horizon_days: must be between 1 and 3650",
            f.display()
        )),
        "{e}"
    );
    assert!(
        e.contains("base.toml: province[0].tier[0].staff.clerks: must be > 0"),
        "{e}"
    );
    assert!(e.contains("in 2 files"), "{e}");
    // Three missing required fields, reported together.
    let text = small(&[
        (
            "desk_minutes = { dist = \"lognormal\", mean = 8.0, sd = 4.0 }\n",
            "",
        ),
        (
            "appraisal_minutes = { dist = \"lognormal\", mean = 12.0, sd = 8.0 }\n",
            "",
        ),
        (
            "approval_minutes = { dist = \"exponential\", mean = 2.0 }\n",
            "",
        ),
    ]);
    let (_, o) = run_file(&d, "missing.toml", &text);
    let e = stderr(&o);
    for f in ["desk_minutes", "appraisal_minutes", "approval_minutes"] {
        assert!(e.contains(&format!("procedure[0].{f}: missing")), "{e}");
    }
    // A network's zero interarrival is blamed on the source, not on `route`.
    let net = d.join("net.toml");
    std::fs::write(
        &net,
        "[run]\nhorizon = 100.0\n[[node]]\nname = \"a\"\nservers = 1\nservice = { dist = \"exponential\", mean = 1.0 }\n[[source]]\nnode = \"a\"\narrivals = { process = \"renewal\", interarrival = { dist = \"constant\", value = 0.0 } }\n",
    )
    .unwrap();
    let o = motcua(&["network", net.to_str().unwrap()]);
    refused(
        &o,
        &net,
        "source[0].arrivals.interarrival: must have a mean gap > 0",
    );
    // A full standard output: exit 2, no panic.
    if Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args([
                "network",
                "scenarios/validation/mm1.toml",
                "--replications",
                "2",
            ])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
    // A closed pipe: exit 2 quietly.
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args([
            "network",
            "scenarios/validation/mm1.toml",
            "--replications",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

#[test]
fn bench_check_passes_against_its_own_fresh_output() {
    let d = dir("bench");
    let o = motcua(&[
        "bench",
        "--json",
        "--repeat",
        "1",
        "--workload",
        "province-year",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let f = d.join("b.json");
    std::fs::write(&f, &o.stdout).unwrap();
    let o = motcua(&[
        "bench",
        "--repeat",
        "1",
        "--workload",
        "province-year",
        "--check",
        f.to_str().unwrap(),
        "--tolerance",
        "99",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn the_readme_lists_every_limit_with_its_value() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    for (name, value, _) in motcua::scenario::limits::table() {
        assert!(
            readme.contains(&format!("| {name} | {value} |")),
            "README's limits table lacks `{name}` = {value}"
        );
    }
}

#[test]
fn a_killed_comparison_leaves_the_previous_set_or_the_new_one() {
    let d = dir("kill-compare");
    let out = d.join("out");
    let outs = out.to_str().unwrap();
    let args = |seed: &'static str| {
        vec![
            "compare",
            "tests/fixtures/small.toml",
            "scenarios/reforms/identity.toml",
            "--replications",
            "4",
            "--out",
            outs,
            "-q",
            "--force",
            "--seed",
            seed,
        ]
    };
    // The reform extends the baseline, not the fixture: a heavier run to kill.
    assert_eq!(motcua(&args("1")).status.code(), Some(0));
    assert_eq!(complete_set(&out), 1);
    let t = Instant::now();
    assert_eq!(motcua(&args("2")).status.code(), Some(0));
    let full = t.elapsed();
    for (k, seed) in ["3", "4", "5", "6", "7", "8"].into_iter().enumerate() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(args(seed))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(0.2 + 0.2 * k as f64));
        let _ = child.kill();
        let _ = child.wait();
        complete_set(&out);
    }
}
