//! The one-stop model and `motcua run`: outputs, determinism, conservation, memory, bad input, calibration.

use std::path::{Path, PathBuf};

use crate::motcua;

use indicatif::ProgressBar;
use motcua::engine::Discipline;
use motcua::model::prepare::prepare;
use motcua::model::scopes::scopes;
use motcua::scenario::domain;

fn temp_dir(name: &str) -> PathBuf {
    crate::fresh_dir("model", name)
}

fn small() -> domain::Scenario {
    domain::load(Path::new("tests/fixtures/small.toml")).unwrap()
}

#[test]
fn the_embedded_baseline_runs_and_writes_summary_and_metrics() {
    let out = temp_dir("baseline");
    let o = motcua(&["run", "--replications", "2", "--out", out.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    for col in [
        "receiving tier",
        "received/yr",
        "late rate % [95% CI]",
        "online",
        "turnaround (wd)",
        "counter wait (min)",
        "specialists busy",
    ] {
        assert!(stdout.contains(col), "missing column {col} in\n{stdout}");
    }
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(v["scenario"], "baseline");
    assert_eq!(v["replications"], 2);
    assert!(v["seed"].is_u64());
    for metric in [
        "received",
        "resolved",
        "late_rate",
        "on_time_rate",
        "online_rate",
        "turnaround_mean_days",
        "counter_wait_mean_min",
        "utilisation_specialists",
    ] {
        for scope in [
            &v["overall"],
            &v["tiers"]["province"],
            &v["tiers"]["district"],
            &v["tiers"]["commune"],
        ] {
            let m = &scope[metric];
            let (mean, lo, hi) = (
                m["mean"].as_f64().unwrap(),
                m["ci_low"].as_f64().unwrap(),
                m["ci_high"].as_f64().unwrap(),
            );
            assert!(lo <= mean && mean <= hi, "{metric}: {m}");
        }
    }
    let late = v["overall"]["late_rate"]["mean"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&late));
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(csv.starts_with(
        "scenario,scenario_hash,seed,replication,province,tier,unit,basis,procedure,channel,period,metric,value,unit_of_measure\n"
    ));
    let hash = v["scenario_hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 16);
    for basis in ["receiving", "competent", "holder"] {
        assert!(csv.contains(&format!(
            "baseline,{hash},1,1,seed-province,commune,commune-82,{basis},,,year,late_rate,"
        )));
    }
    assert!(csv.contains(",,district,,,d-land,,year,late_rate,"));
    assert!(csv.contains(",,commune,,,,online_full,year,received,"));
    assert!(csv.contains(",,commune,,receiving,,,2022-06,utilisation_clerks,"));
    // The set: the data, its summaries, the dictionary, the report and the manifest.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "SCHEMA.md",
            "index.csv",
            "index_summary.csv",
            "manifest.json",
            "metrics.csv",
            "metrics_summary.csv",
            "report.html",
            "summary.json",
            "timeseries.csv",
            "timeseries_summary.csv"
        ]
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["scenario_hash"], v["scenario_hash"]);
    assert_eq!(manifest["files"].as_array().unwrap().len(), 9);
    let isum = std::fs::read_to_string(out.join("index_summary.csv")).unwrap();
    assert!(isum.starts_with(&motcua::report::csv::SUMMARY.join(",")));
    assert!(isum.contains(&format!(
        "baseline,{hash},1,seed-province,commune,commune-7,receiving,,,2022-09,i766_total,"
    )));
    let index = std::fs::read_to_string(out.join("index.csv")).unwrap();
    assert!(index.starts_with(&motcua::report::csv::LONG.join(",")));
    assert!(index.contains(&format!("baseline,{hash},1,0,,,,,,,year,i766_total,")));
    assert!(index.contains(&format!(
        "baseline,{hash},1,1,seed-province,district,district-3,receiving,,,2022-06,par_tthc_share,"
    )));
    assert!(index.contains(&format!(
        "baseline,{hash},1,0,seed-province,,,,,,year,satisfaction,"
    )));
    let ts = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert!(ts.contains(&format!("baseline,{hash},1,0,,,,,,,2022-01-31,backlog,")));
    assert!(ts.contains(&format!(
        "baseline,{hash},1,1,,commune,,receiving,,,2022-12-31,arrivals,"
    )));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_non_empty_output_folder_is_refused_without_force() {
    let out = temp_dir("force");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "precious").unwrap();
    let args = [
        "run",
        "tests/fixtures/small.toml",
        "--replications",
        "2",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = motcua(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("the output folder is not empty; pass --force")
    );
    assert!(!out.join("summary.json").exists());
    // --force replaces a folder of motcua outputs, never a user's files.
    let mut forced = args.to_vec();
    forced.push("--force");
    let o = motcua(&forced);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("holds `keep.txt`, which motcua does not write"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "precious"
    );
    std::fs::remove_file(out.join("keep.txt")).unwrap();
    assert_eq!(motcua(&args).status.code(), Some(0));
    assert_eq!(motcua(&args).status.code(), Some(2), "not empty now");
    assert_eq!(
        motcua(&forced).status.code(),
        Some(0),
        "a run's folder is replaced"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn run_outputs_are_byte_identical_at_one_and_two_threads() {
    let run = |threads: &str| {
        let out = temp_dir(&format!("threads{threads}"));
        let o = motcua(&[
            "run",
            "tests/fixtures/small.toml",
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let files = (
            std::fs::read(out.join("summary.json")).unwrap(),
            std::fs::read(out.join("metrics.csv")).unwrap(),
        );
        std::fs::remove_dir_all(&out).unwrap();
        files
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn received_equals_resolved_plus_open_in_every_unit_without_warm_up() {
    let mut sc = small();
    sc.warmup_days = 0;
    let p = prepare(&sc, Discipline::Fifo).unwrap();
    let runs = p.replication(sc.seed, 0).unwrap();
    let s = scopes(&sc, &runs);
    let mut checked = 0;
    for (_, unit, _, scope) in &s.units {
        let c = &scope.counts;
        assert_eq!(c.received, c.resolved + scope.open, "unit {unit}");
        checked += c.received;
    }
    assert!(checked > 1000);
    // Every late dossier is either with or without an apology; on time and late partition the resolved.
    let o = &s.overall.counts;
    assert_eq!(o.on_time + o.late, o.resolved);
    assert!(o.late_with_apology <= o.late && o.early <= o.on_time);
}

#[test]
fn peak_memory_does_not_grow_with_the_horizon() {
    let mut sc = small();
    let peak = |sc: &domain::Scenario| {
        let p = prepare(sc, Discipline::Fifo).unwrap();
        p.replication(sc.seed, 0)
            .unwrap()
            .iter()
            .map(|r| r.peak_in_flight)
            .sum::<usize>()
    };
    sc.horizon_days = 365;
    let one_year = peak(&sc);
    sc.horizon_days = 5 * 365 - 20;
    let five_years = peak(&sc);
    // Dossiers in flight (hundreds), not dossiers simulated (tens of thousands a year).
    assert!(
        five_years < one_year * 3 / 2,
        "1 year: {one_year}, 5 years: {five_years}"
    );
    assert!(one_year < 5_000, "{one_year}");
}

#[test]
fn an_overloaded_scenario_says_which_pool_and_stops_at_its_memory_bound() {
    let text = std::fs::read_to_string("tests/fixtures/small.toml")
        .unwrap()
        .replace(
            "staff = { clerks = 2, specialists = 4, leaders = 1 }",
            "staff = { clerks = 2, specialists = 1, leaders = 1 }",
        )
        .replace("volume_per_unit = 500", "volume_per_unit = 3000")
        .replace("horizon_days = 60", "horizon_days = 365")
        .replace("seed = 7", "seed = 7\n[model]\nmax_in_flight = 1000");
    let dir = temp_dir("overload");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("overload.toml");
    std::fs::write(&file, text).unwrap();
    let o = motcua(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("warning: tiny / district / specialists: 2 of 2 units overloaded"),
        "{e}"
    );
    assert_eq!(
        e.lines()
            .filter(|l| l.starts_with("warning:") && l.contains("overloaded"))
            .count(),
        1,
        "one warning per pool: {e}"
    );
    assert!(e.contains("more than 1000 customers in the network"), "{e}");
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_scenario_gets_every_error_with_file_and_field_path() {
    let text = std::fs::read_to_string("tests/fixtures/small.toml")
        .unwrap()
        .replace("start = \"2022-03-01\"", "start = \"2022-13-01\"")
        .replace("deadline_days = 1\n", "deadline_days = -2\n")
        .replace("volume_per_unit = 500", "volume_per_unit = 0")
        .replace("incomplete_at_desk = 0.2", "incomplete_at_desk = 1.2")
        .replace(
            "channels = { in_person = 0.9, online_partial = 0.1 }",
            "channels = { in_person = 0.9, online_partial = 0.2 }",
        )
        .replace(
            "tier = \"province\"\ndeadline_days = 5",
            "tier = \"canton\"\ndeadline_days = 5",
        )
        .replace(
            "staff = { clerks = 3, specialists = 6, leaders = 1 }",
            "staff = { clerks = 0, specialists = 6, leaders = 1 }",
        );
    let dir = temp_dir("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, text).unwrap();
    let o = motcua(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    let f = file.display().to_string();
    for needle in [
        format!("{f}: start: malformed date `2022-13-01`; expected YYYY-MM-DD"),
        format!("{f}: procedure[0].deadline_days: must be between 0 and 365 working days (got -2)"),
        format!("{f}: procedure[1].volume_per_unit: must be > 0 dossiers per year (got 0)"),
        format!("{f}: procedure[1].incomplete_at_desk: must be a probability in [0, 1] (got 1.2)"),
        format!("{f}: procedure[1].channels: shares must sum to 1 (got 1.1)"),
        format!(
            "{f}: procedure[2].tier: unknown variant `canton`, expected one of `province`, `district`, `commune`"
        ),
        format!("{f}: province[0].tier[0].staff.clerks: must be > 0 and at most 100000 (got 0)"),
    ] {
        assert!(e.contains(&needle), "missing {needle:?} in:\n{e}");
    }
    assert!(!e.contains("panicked"));
    assert!(
        !dir.join("out").exists(),
        "nothing is written for a bad scenario"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Calibration, not theory: the baseline against the seed province's
/// reported figures (see the README's table). A change that moves these
/// figures out of these bands changed the model's answers.
#[test]
fn the_baseline_reproduces_the_seed_provinces_reported_figures() {
    let sc = domain::baseline().unwrap();
    let p = prepare(&sc, Discipline::Fifo).unwrap();
    let reps =
        motcua::experiment::run::replications(&p, sc.seed, 2, 0, &ProgressBar::hidden()).unwrap();
    let summary = motcua::experiment::run::summarise(&sc, sc.seed, &reps, &p.overloaded);
    let overall = |k: &str| summary.overall[k].mean;
    let tier = |t: &str, k: &str| summary.tiers[t][k].mean;
    // 725,467 dossiers in 10 months, scaled to a year (the README says why not 646,262).
    assert!(
        (overall("received") / 870_560.0 - 1.0).abs() < 0.02,
        "{}",
        overall("received")
    );
    // Reported: 27,114 late of 643,452 resolved = 4.21% (the article rounds it to 4.3%).
    assert!(
        (overall("late_rate") - 0.0421).abs() < 0.005,
        "{}",
        overall("late_rate")
    );
    assert!(
        (overall("online_rate") - 0.288).abs() < 0.01,
        "{}",
        overall("online_rate")
    );
    assert!((tier("district", "online_rate") - 0.20).abs() < 0.01);
    assert!((tier("commune", "online_rate") - 0.30).abs() < 0.01);
    assert!((tier("province", "received") / overall("received") - 0.074).abs() < 0.01);
    assert!((tier("district", "received") / overall("received") - 0.366).abs() < 0.01);
    assert!(p.overloaded.is_empty(), "{:?}", p.overloaded);
}

#[test]
fn bad_index_parameters_are_reported_with_their_field_paths() {
    let text = std::fs::read_to_string("tests/fixtures/small.toml")
        .unwrap()
        .replace(
            "seed = 7",
            "seed = 7\n[index.i766]\nscheme = \"2019\"\n[index.par]\nonline_full_at = 1.5",
        );
    let dir = temp_dir("bad-index");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad-index.toml");
    std::fs::write(&file, &text).unwrap();
    let o = motcua(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("index.i766.scheme: unknown variant `2019`, expected `2022` or `2025`"),
        "{e}"
    );

    let text = text.replace(
        "scheme = \"2019\"",
        "scheme = \"2025\"\nitems = { online_payment = 9.0 }",
    );
    std::fs::write(&file, &text).unwrap();
    let o = motcua(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("index.i766.items: fees_integrated + online_payment must sum to the online_payment group's 10 points"), "{e}");
    assert!(
        e.contains("index.par.online_full_at: must be a threshold in (0, 1] (got 1.5)"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_summary_holds_the_index_scores_per_tier_and_overall() {
    let out = temp_dir("index");
    let o = motcua(&[
        "run",
        "tests/fixtures/small.toml",
        "--replications",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let ix = &v["index"];
    assert_eq!(ix["scheme"], "2025");
    // The district tier receives no dossiers here (its work arrives by liên thông): no score.
    assert!(ix["tiers"]["district"]["i766"]["total"]["mean"].is_null());
    assert_eq!(ix["tiers"]["district"]["i766"]["band"], "n/a");
    for scope in [ix, &ix["tiers"]["commune"], &ix["tiers"]["province"]] {
        let total = scope["i766"]["total"]["mean"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&total), "{scope}");
        let groups: f64 = scope["i766"]["groups"]
            .as_object()
            .unwrap()
            .values()
            .map(|g| g["mean"].as_f64().unwrap())
            .sum();
        assert!((groups - total).abs() < 1e-6, "groups sum to the total");
        assert!(scope["i766"]["band"].is_string());
        assert!((0.0..=1.0).contains(&scope["par_tthc"]["mean"].as_f64().unwrap()));
        assert!((0.0..=1.0).contains(&scope["satisfaction"]["mean"].as_f64().unwrap()));
    }
    assert!(ix["assumptions"].as_str().unwrap().contains("timeliness"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn every_shipped_scenario_and_reform_file_loads() {
    let mut files: Vec<PathBuf> = vec![
        "scenarios/baseline.toml".into(),
        "scenarios/baseline-two-tier.toml".into(),
    ];
    for e in std::fs::read_dir("scenarios/reforms").unwrap() {
        files.push(e.unwrap().path());
    }
    assert!(files.len() >= 8);
    for f in files {
        if let Err(e) = domain::load(&f) {
            panic!("{}: {e}", f.display());
        }
    }
}
