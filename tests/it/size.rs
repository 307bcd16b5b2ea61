//! `motcua size`: exact answers on M/M/c networks (Erlang C), the
//! recommendation checked by `motcua run`, local minimality checked one
//! person at a time, and clear errors.

use std::path::{Path, PathBuf};

use motcua::experiment::size::{
    self, NetworkProblem, Options, Problem, ScenarioProblem, ScenarioSpec, parse_target,
};
use motcua::theory;

use super::{fresh_dir, motcua, ok};

fn mmc_file(dir: &Path, lambda: f64) -> (PathBuf, String) {
    std::fs::create_dir_all(dir).unwrap();
    let text = format!(
        "name = \"mmc\"\n[run]\nhorizon = 40000.0\nwarmup = 1000.0\nreplications = 4\nseed = 7\n\n[[node]]\nname = \"desk\"\nservers = 1\nservice = {{ dist = \"exponential\", mean = 1.0 }}\n\n[[source]]\nnode = \"desk\"\narrivals = {{ process = \"poisson\", rate = {lambda:?} }}\n"
    );
    let path = dir.join(format!("mmc-{lambda}.toml"));
    std::fs::write(&path, &text).unwrap();
    (path, text)
}

fn options(reps: u64, confirm: u64) -> Options {
    Options {
        confidence: 0.95,
        replications: reps,
        confirm_replications: confirm,
        cost: vec![1.0],
        max_evaluations: 200,
    }
}

/// The fewest servers with `f(c) <= bound`, from Erlang C.
fn exact_min(lambda: f64, bound: f64, f: impl Fn(&theory::Mmc) -> f64) -> u32 {
    (1..200)
        .find(|&c| f64::from(c) > lambda && f(&theory::mmc(c, lambda, 1.0)) <= bound)
        .unwrap()
}

#[test]
fn on_mmc_networks_the_answer_is_the_exact_erlang_c_minimum_for_several_loads_and_targets() {
    let dir = fresh_dir("size", "mmc");
    // (λ, target, the metric Erlang C gives, the part of it no server count
    // changes: the mean service of 1 in the sojourn w).
    type Metric = fn(&theory::Mmc) -> f64;
    let cases: [(f64, &str, f64, Metric, f64); 5] = [
        (9.0, "wq<=0.1", 0.1, |m| m.wq, 0.0),
        (9.0, "p_wait<=0.2", 0.2, |m| m.p_wait, 0.0),
        (4.0, "wq<=0.05", 0.05, |m| m.wq, 0.0),
        (20.0, "p_wait<=0.35", 0.35, |m| m.p_wait, 0.0),
        (9.0, "w@desk<=1.05", 1.05, |m| m.wq + 1.0, 1.0),
    ];
    for (lambda, target, bound, metric, fixed) in cases {
        let c = exact_min(lambda, bound, metric);
        // The test is only meaningful if the simulation can tell c from c − 1.
        let at = metric(&theory::mmc(c, lambda, 1.0));
        let below = if f64::from(c - 1) > lambda {
            metric(&theory::mmc(c - 1, lambda, 1.0))
        } else {
            f64::INFINITY
        };
        assert!(
            at - fixed < 0.95 * (bound - fixed) && below - fixed > 1.05 * (bound - fixed),
            "{target} at λ = {lambda}: Erlang C gives {at} at c = {c} and {below} at c − 1: too close to the target for a test"
        );
        let (path, text) = mmc_file(&dir, lambda);
        let p = NetworkProblem::new(
            &path,
            &text,
            None,
            vec![parse_target(target).unwrap()],
            &[],
            None,
        )
        .unwrap();
        let out = size::size(&p, &options(4, 8), &indicatif::ProgressBar::hidden()).unwrap();
        assert!(out.feasible, "{target} at λ = {lambda}");
        assert_eq!(
            out.staff,
            vec![c],
            "{target} at λ = {lambda}: Erlang C's minimum is {c} (value {at}, {below} with one fewer)"
        );
        // Local minimality names the target that breaks with one fewer.
        let e = out.evidence[0].as_ref().expect("c > 1 has evidence");
        assert!(
            e.target
                .starts_with(target.split(['<', '>']).next().unwrap())
        );
        assert!(e.mean > bound * 1.0, "{e:?}");
    }
}

#[test]
fn a_target_no_server_count_can_meet_is_reported_as_not_met_naming_it() {
    let dir = fresh_dir("size", "impossible");
    let (path, text) = mmc_file(&dir, 9.0);
    // The sojourn includes the mean service of 1: no server count brings it to 0.5.
    let p = NetworkProblem::new(
        &path,
        &text,
        None,
        vec![parse_target("w@desk<=0.5").unwrap()],
        &[],
        Some(15),
    )
    .unwrap();
    let out = size::size(&p, &options(3, 6), &indicatif::ProgressBar::hidden()).unwrap();
    assert!(!out.feasible);
    assert_eq!(out.staff, vec![15], "it climbs to the cap before giving up");
    assert_eq!(out.stuck.len(), 1);
    assert!(!out.checks[out.stuck[0]].met);
    // The command says so, names the target and exits 1, with its files written.
    let o = dir.join("out");
    let r = motcua(&[
        "size",
        path.to_str().unwrap(),
        "--target",
        "w@desk<=0.5",
        "--max-staff",
        "15",
        "--out",
        o.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(r.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("NOT met"), "{stdout}");
    assert!(stdout.contains("w@desk<=0.5 at desk"), "{stdout}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(o.join("size.json")).unwrap()).unwrap();
    assert_eq!(j["feasible"], false);
    assert_eq!(j["failing"][0]["scope"], "desk");
}

fn column(csv_text: &str, name: &str) -> usize {
    csv_text
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|h| h == name)
        .unwrap()
}

#[test]
fn the_recommendation_meets_its_targets_under_motcua_run_and_one_fewer_anywhere_breaks_one() {
    // Small size: the pools of one district of the baseline, over a
    // shortened year, against its late rate and the counter wait.
    let dir = fresh_dir("size", "baseline");
    let out = dir.join("size");
    let targets = [
        "late_rate@district-3<=0.08",
        "counter_wait_p90_min@district-3<=20",
    ];
    let mut args = vec![
        "size",
        "scenarios/baseline.toml",
        "--scope",
        "district-3",
        "--horizon-days",
        "120",
        "--warmup-days",
        "30",
        "--replications",
        "3",
        "--confirm-replications",
        "6",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    for t in &targets {
        args.push("--target");
        args.push(t);
    }
    let r = motcua(&args);
    ok(&r);
    for f in [
        "staffing.toml",
        "size.csv",
        "targets.csv",
        "size.json",
        "report.html",
        "manifest.json",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("size.json")).unwrap()).unwrap();
    assert_eq!(j["feasible"], true);
    let seed = j["seed"].as_u64().unwrap();
    // The overlay runs, and `motcua run` of it gives the confirmed means
    // exactly (same seed, same replications: the same random numbers).
    let run_dir = dir.join("run");
    let r = motcua(&[
        "run",
        out.join("staffing.toml").to_str().unwrap(),
        "--horizon-days",
        "120",
        "--warmup-days",
        "30",
        "--replications",
        "6",
        "--seed",
        &seed.to_string(),
        "--out",
        run_dir.to_str().unwrap(),
        "--no-report",
        "-q",
    ]);
    ok(&r);
    let summary = std::fs::read_to_string(run_dir.join("metrics_summary.csv")).unwrap();
    let (ku, kb, km, kmean) = (
        column(&summary, "unit"),
        column(&summary, "basis"),
        column(&summary, "metric"),
        column(&summary, "mean"),
    );
    for c in j["checks"].as_array().unwrap() {
        let metric = c["metric"].as_str().unwrap();
        let line = summary
            .lines()
            .find(|l| {
                let f: Vec<&str> = l.split(',').collect();
                f[ku] == "district-3"
                    && f[kb] == "receiving"
                    && f[km] == metric
                    && l.contains(",year,")
            })
            .unwrap_or_else(|| panic!("{metric} of district-3 in metrics_summary.csv"));
        let mean: f64 = line.split(',').nth(kmean).unwrap().parse().unwrap();
        let bound = c["value"].as_f64().unwrap();
        assert!(mean <= bound, "{metric}: {mean} > {bound} under motcua run");
        let confirmed = c["mean"].as_f64().unwrap();
        assert!(
            (mean - confirmed).abs() <= 1e-9 * confirmed.abs().max(1.0),
            "{metric}: run gives {mean}, size confirmed {confirmed}"
        );
    }
    // One fewer in any varied pool (with more than one person), alone,
    // breaks a target at the search's replications.
    let mut sc = motcua::scenario::domain::load(Path::new("scenarios/baseline.toml")).unwrap();
    sc.horizon_days = 120;
    sc.warmup_days = 30;
    let p = ScenarioProblem::new(
        sc,
        seed,
        targets.iter().map(|t| parse_target(t).unwrap()).collect(),
        &ScenarioSpec {
            scope: vec!["district-3".into()],
            ..ScenarioSpec::default()
        },
    )
    .unwrap();
    let staff: Vec<u32> = j["staff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["recommended"].as_u64().unwrap() as u32)
        .collect();
    assert_eq!(staff.len(), 3);
    let reps = j["replications"].as_u64().unwrap();
    let mut checked = 0;
    for v in 0..staff.len() {
        if staff[v] == 1 {
            continue;
        }
        let mut x = staff.clone();
        x[v] -= 1;
        let samples = p.evaluate(&x, 0..reps).unwrap();
        let broken = (0..p.instances().len()).any(|i| {
            let t = &p.targets()[p.instances()[i].target];
            let values: Vec<f64> = samples.iter().map(|s| s.values[i]).collect();
            !size::check_values(&values, t.cmp, t.bound, 0.95).met
        });
        assert!(
            broken,
            "one fewer in pool {v} ({x:?}) still meets every target"
        );
        checked += 1;
    }
    assert!(checked > 0, "the test checks at least one pool");
    // The report shows the recommendation.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Staff sizing of"));
    assert!(html.contains("staff-by-pool"));
}

#[test]
fn targets_parse_with_scopes_and_bad_ones_are_clear_errors() {
    let t = parse_target("late_rate@each-unit <= 0.03").unwrap();
    assert_eq!(t.metric, "late_rate");
    assert_eq!(t.scope, size::Where::Each(None));
    assert_eq!(t.text, "late_rate@each-unit<=0.03");
    let t = parse_target("i766_total@commune>=80").unwrap();
    assert_eq!(t.cmp, size::Cmp::AtLeast);
    assert_eq!(
        t.scope,
        size::Where::Tier(motcua::scenario::domain::Tier::Commune)
    );
    assert_eq!(
        parse_target("late_rate@each-commune<=0.03").unwrap().scope,
        size::Where::Each(Some(motcua::scenario::domain::Tier::Commune))
    );
    assert_eq!(
        parse_target("late_rate<=0.03").unwrap().scope,
        size::Where::Overall
    );
    for bad in ["late_rate", "late_rate<=x", "@commune<=1", "late_rate<=inf"] {
        let e = parse_target(bad).unwrap_err();
        assert!(e.contains(bad), "{e}");
    }
    // Unknown metric and unit: every error at once, with the file, exit 2.
    let r = motcua(&[
        "size",
        "scenarios/baseline.toml",
        "--target",
        "late_rat@each-unit<=0.03",
        "--target",
        "late_rate@comune-1<=0.03",
        "--vary",
        "typists",
    ]);
    assert_eq!(r.status.code(), Some(2));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("scenarios/baseline.toml"), "{e}");
    assert!(e.contains("did you mean `late_rate`"), "{e}");
    assert!(e.contains("did you mean `commune-1`"), "{e}");
    assert!(e.contains("--vary `typists`"), "{e}");
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn sizing_gives_the_same_files_at_one_and_two_threads() {
    let dir = fresh_dir("size", "threads");
    let (path, _) = mmc_file(&dir, 9.0);
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.join(format!("out-{threads}"));
        let r = motcua(&[
            "size",
            path.to_str().unwrap(),
            "--target",
            "wq<=0.1",
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]);
        ok(&r);
        outs.push(out);
    }
    for f in ["size.json", "size.csv", "targets.csv", "staffing.toml"] {
        assert_eq!(
            std::fs::read(outs[0].join(f)).unwrap(),
            std::fs::read(outs[1].join(f)).unwrap(),
            "{f} differs between 1 and 2 threads"
        );
    }
}
