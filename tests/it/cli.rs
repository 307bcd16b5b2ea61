//! The `motcua` command as users call it: exit codes, error messages, outputs.

use std::path::PathBuf;
use std::process::Output;

use crate::motcua;

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("motcua-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn validate_quick_prints_the_table_and_exits_zero() {
    let o = motcua(&["validate", "--quick"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    for col in [
        "case",
        "metric",
        "analytic",
        "simulated",
        "95% CI",
        "rel. error",
        "pass",
    ] {
        assert!(out.contains(col), "missing column {col}");
    }
    assert!(out.contains("0 failed"));
    assert!(!out.contains("FAIL"));
}

/// `motcua bench --json` with `args` after it, which must succeed; its JSON.
fn bench_json(args: &[&str]) -> serde_json::Value {
    let o = motcua(&[&["bench", "--json"], args].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn bench_json_reports_throughput_with_its_counts() {
    let v = bench_json(&["--repeat", "1", "--workload", "engine-mmc"]);
    assert_eq!(v["suite_version"], 1);
    assert!(v["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(v["commit"].is_string());
    let w = &v["workloads"][0];
    assert_eq!(w["name"], "engine-mmc");
    assert_eq!(w["counts"]["customers"], 1_000_000);
    assert_eq!(w["threads"], 1);
    // Every customer arrives and completes service once: 2 events each, give or take those in flight.
    let events = w["counts"]["events"].as_u64().unwrap();
    assert!((2_000_000..2_000_100).contains(&events), "{events}");
    assert!(w["wall_s"].as_f64().unwrap() > 0.0 && w["throughput"].as_f64().unwrap() > 0.0);
    assert!(w["peak_rss_mib"].as_f64().unwrap() > 0.0);
    assert!(v["counting_rule"].as_str().unwrap().contains("events ="));
}

#[test]
fn the_engine_and_the_hand_written_loop_each_report_every_run_and_the_same_queue() {
    let v = bench_json(&[
        "--repeat",
        "3",
        "--workload",
        "engine-reference-loop",
        "--workload",
        "engine-mmc",
    ]);
    let w = v["workloads"].as_array().unwrap();
    // In the suite's order, whatever the order asked.
    assert_eq!(w[0]["name"], "engine-mmc");
    assert_eq!(w[1]["name"], "engine-reference-loop");
    for w in w {
        assert_eq!(w["runs_s"].as_array().unwrap().len(), 3, "{w}");
        assert_eq!(w["counts"]["customers"], 1_000_000);
        // Both run the same M/M/10 at ρ = 0.9, whose Erlang C mean wait is
        // 0.6687; at this load 10⁶ customers pin it to within a few
        // percent (the engine's 0.670, the loop's 0.715 with this seed).
        let wq = w["outputs"]["mean_wait"].as_f64().unwrap();
        assert!((wq / 0.6687 - 1.0).abs() < 0.1, "{wq}");
    }
}

#[test]
fn sweep_scaling_times_every_pair_and_compares_the_fastest_runs() {
    let v = bench_json(&["--repeat", "2", "--workload", "sweep-scaling"]);
    let w = &v["workloads"][0];
    assert_eq!(w["name"], "sweep-scaling");
    assert_eq!(w["counts"]["replications"], 4);
    // The same four replication-years as the stored runs (an answer, not a timing).
    assert_eq!(w["counts"]["dossiers"], 3_669_241);
    // Two pairs: two all-thread runs, their spread, and a speed-up from the fastest of each.
    let runs: Vec<f64> = w["runs_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let (min, wall, max) = (
        w["min_s"].as_f64().unwrap(),
        w["wall_s"].as_f64().unwrap(),
        w["max_s"].as_f64().unwrap(),
    );
    assert!(runs.iter().all(|&r| r > 0.0 && r >= min && r <= max));
    assert!(min <= wall && wall <= max);
    assert_eq!(min, runs.iter().copied().fold(f64::INFINITY, f64::min));
    // A timing (not gated, and not asserted beyond being one): the fastest
    // one-thread run over the fastest all-thread run.
    let speedup = w["outputs"]["speedup"].as_f64().unwrap();
    assert!(speedup.is_finite() && speedup > 0.0, "{speedup}");
}

#[test]
fn bench_check_passes_against_itself_and_fails_when_an_answer_changes() {
    let stored = temp_file("bench.json", "");
    let o = motcua(&[
        "bench",
        "--json",
        "--repeat",
        "1",
        "--workload",
        "engine-mmc",
    ]);
    assert_eq!(o.status.code(), Some(0));
    std::fs::write(&stored, &o.stdout).unwrap();
    // Timings vary on a shared machine: a wide tolerance checks the answers only.
    let o = motcua(&[
        "bench",
        "--repeat",
        "1",
        "--workload",
        "engine-mmc",
        "--check",
        stored.to_str().unwrap(),
        "--tolerance",
        "95",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&stored)
        .unwrap()
        .replace("\"customers\": 1000000", "\"customers\": 999999");
    std::fs::write(&stored, text).unwrap();
    let o = motcua(&[
        "bench",
        "--repeat",
        "1",
        "--workload",
        "engine-mmc",
        "--check",
        stored.to_str().unwrap(),
        "--tolerance",
        "95",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("regression: engine-mmc: customers changed from 999999 to 1000000"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_malformed_or_foreign_bench_file_is_exit_code_two() {
    let o = motcua(&["bench", "--check", "no/such/bench.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/bench.json: cannot read the stored benchmark"));
    let bad = temp_file("bad-bench.json", "{ not json");
    let o = motcua(&["bench", "--check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not valid JSON"));
    let old = temp_file(
        "old-bench.json",
        "{\"suite_version\": 0, \"workloads\": []}",
    );
    let o = motcua(&["bench", "--check", old.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("another version of the suite"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_malformed_network_file_gets_every_error_with_its_path_and_exit_code_two() {
    let p = temp_file(
        "bad.toml",
        r#"
[run]
horizon = 100.0
replications = 0
[[node]]
name = "desk"
servers = 0
service = { dist = "gamma", mean = 1.0, sd = -1.0 }
route = [{ to = "office", p = 0.2 }]
[[source]]
node = "desk"
class = "vip"
arrivals = { process = "poisson", rate = 1.0 }
"#,
    );
    let o = motcua(&["network", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    let file = p.display().to_string();
    for needle in [
        format!("{file}: run.replications: must be between 1 and 10000 (got 0)"),
        format!("{file}: node[0].servers: must be ≥ 1 (got 0)"),
        format!("{file}: node[0].service.sd: must be a finite number > 0 (got -1)"),
        format!("{file}: node[0].route[0].to: unknown node `office`; expected one of: desk"),
        format!("{file}: source[0].class: unknown class `vip`"),
    ] {
        assert!(e.contains(&needle), "missing {needle:?} in:\n{e}");
    }
    assert!(!e.contains("panicked"));
}

#[test]
fn an_unknown_key_and_a_wrong_type_are_reported_together() {
    let p = temp_file(
        "typo.toml",
        r#"
[run]
horizon = "long"
[[node]]
name = "desk"
servers = 1
sevrice = { dist = "exponential", mean = 1.0 }
[[source]]
node = "desk"
arrivals = { process = "poisson", rate = 0.5 }
"#,
    );
    let o = motcua(&["network", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("run.horizon: invalid type: string \"long\", expected f64"),
        "{e}"
    );
    assert!(
        e.contains("node[0].sevrice: unknown field `sevrice`"),
        "{e}"
    );
}

#[test]
fn an_unstable_network_is_refused_before_it_runs() {
    let p = temp_file(
        "overload.toml",
        r#"
[run]
horizon = 1.0e6
[[node]]
name = "desk"
servers = 2
service = { dist = "exponential", mean = 1.0 }
[[source]]
node = "desk"
arrivals = { process = "poisson", rate = 2.5 }
"#,
    );
    let o = motcua(&["network", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("node[0]: offered load 2.500 of capacity (ρ = 1.250 ≥ 1)"),
        "{e}"
    );
    assert!(e.contains("add servers"), "{e}");
}

#[test]
fn a_missing_file_is_a_clear_error_not_a_panic() {
    let o = motcua(&["network", "no/such/file.toml"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("no/such/file.toml: cannot read the file"), "{e}");
}

#[test]
fn every_shipped_validation_network_runs() {
    for entry in std::fs::read_dir("scenarios/validation").unwrap() {
        let p = entry.unwrap().path();
        let o = motcua(&["network", p.to_str().unwrap(), "--replications", "2", "-q"]);
        assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), stderr(&o));
    }
}
