//! `motcua calibrate`: a known truth recovered from its own outputs, an
//! impossible target set reported with its conflict, `[[edit]]` overlays.

use std::path::Path;

use super::{fresh_dir, motcua, ok};

/// The summary mean of `metric` at a tier (or overall with `tier = ""`).
fn summary_mean(dir: &Path, tier: &str, metric: &str) -> f64 {
    let text = std::fs::read_to_string(dir.join("metrics_summary.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (kt, kb, ku, kp, kc, kper, km, kmean) = (
        col("tier"),
        col("basis"),
        col("unit"),
        col("procedure"),
        col("channel"),
        col("period"),
        col("metric"),
        col("mean"),
    );
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let basis_ok = if tier.is_empty() {
            f[kb].is_empty()
        } else {
            f[kb] == "receiving"
        };
        if f[kt] == tier
            && basis_ok
            && f[ku].is_empty()
            && f[kp].is_empty()
            && f[kc].is_empty()
            && f[kper] == "year"
            && f[km] == metric
        {
            return f[kmean].parse().unwrap();
        }
    }
    panic!("{metric} at `{tier}` not in {}", dir.display());
}

const DAYS: [&str; 4] = ["--horizon-days", "120", "--warmup-days", "30"];

/// Runs `motcua` with `args` (words or paths), quietly and over [`DAYS`].
fn quick(args: &[&dyn AsRef<std::ffi::OsStr>]) -> std::process::Output {
    let mut all: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_str().unwrap().to_string())
        .collect();
    all.push("-q".into());
    all.extend(DAYS.iter().map(|s| s.to_string()));
    motcua(&all.iter().map(String::as_str).collect::<Vec<_>>())
}

fn province(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    ok(&motcua(&[
        "init",
        dir.join("prov.toml").to_str().unwrap(),
        "--districts",
        "3",
        "--communes",
        "20",
    ]));
}

/// A fresh folder `name` with a generated province (`prov.toml`) and `targets` as `targets.toml`.
fn with_targets(name: &str, targets: &str) -> std::path::PathBuf {
    let dir = fresh_dir("calibrate", name);
    province(&dir);
    std::fs::write(dir.join("targets.toml"), targets).unwrap();
    dir
}

/// Calibrates the folder's province to its targets, writing to `out`, with `extra` options.
fn calibrate(dir: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let (scenario, targets) = (dir.join("prov.toml"), dir.join("targets.toml"));
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
        vec![&"calibrate", &scenario, &targets, &"--out", &out];
    args.extend(extra.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
    quick(&args)
}

#[test]
fn a_known_truth_is_recovered_inside_the_ranges_and_the_fit_meets_every_target() {
    let dir = fresh_dir("calibrate", "truth");
    province(&dir);
    // The truth: appraisal efforts × 0.9, desk incompleteness × 1.3.
    std::fs::write(
        dir.join("truth.toml"),
        "extends = \"prov.toml\"\n[[edit]]\npath = \"procedure[*].appraisal_minutes.mean\"\nscale = 0.9\n[[edit]]\npath = \"procedure[*].incomplete_at_desk\"\nscale = 1.3\n",
    )
    .unwrap();
    let truth = dir.join("truth-out");
    ok(&quick(&[
        &"run",
        &dir.join("truth.toml"),
        &"--replications",
        &"10",
        &"--out",
        &truth,
        &"--no-report",
    ]));
    let u = summary_mean(&truth, "commune", "utilisation_specialists");
    let s = summary_mean(&truth, "", "supplement_rate");
    let l = summary_mean(&truth, "commune", "late_rate");
    std::fs::write(
        dir.join("targets.toml"),
        format!(
            "name = \"known-truth\"\n\
             [[target]]\nmetric = \"utilisation_specialists\"\nscope = \"commune\"\nvalue = {u}\ntolerance = 0.01\n\
             [[target]]\nmetric = \"supplement_rate\"\nvalue = {s}\ntolerance = 0.004\n\
             [[target]]\nmetric = \"late_rate\"\nscope = \"commune\"\nvalue = {l}\ntolerance = 0.01\n\
             [[parameter]]\npath = \"procedure[*].appraisal_minutes.mean\"\nmode = \"scale\"\nmin = 0.5\nmax = 1.1\n\
             [[parameter]]\npath = \"procedure[*].incomplete_at_desk\"\nmode = \"scale\"\nmin = 0.5\nmax = 2.0\n"
        ),
    )
    .unwrap();
    let out = dir.join("cal");
    ok(&calibrate(&dir, &out, &[]));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("calibration.json")).unwrap())
            .unwrap();
    assert_eq!(j["result"]["fitted"], true);
    // The truth lies inside each reported range, and the ranges are narrower than the bounds.
    for (k, truth) in [0.9, 1.3].iter().enumerate() {
        let r = &j["result"]["ranges"][k];
        let (low, high) = (r["low"].as_f64().unwrap(), r["high"].as_f64().unwrap());
        assert!(
            low <= *truth && *truth <= high,
            "{}: truth {truth} outside [{low}, {high}]",
            r["path"]
        );
        assert!(r["share_of_bounds"].as_f64().unwrap() < 0.6, "{r}");
    }
    // The fitted overlay runs and meets every target within its tolerance.
    let fit_run = dir.join("fit-run");
    ok(&quick(&[
        &"run",
        &out.join("calibrated.toml"),
        &"--replications",
        &"10",
        &"--out",
        &fit_run,
        &"--no-report",
    ]));
    for (tier, metric, value, tol) in [
        ("commune", "utilisation_specialists", u, 0.01),
        ("", "supplement_rate", s, 0.004),
        ("commune", "late_rate", l, 0.01),
    ] {
        let got = summary_mean(&fit_run, tier, metric);
        assert!(
            (got - value).abs() <= tol,
            "{metric}@{tier}: fitted {got}, target {value} ± {tol}"
        );
    }
    let fit = std::fs::read_to_string(out.join("fit.csv")).unwrap();
    assert_eq!(fit.lines().count(), 4, "{fit}");
    assert!(
        std::fs::read_to_string(out.join("ranges.csv"))
            .unwrap()
            .contains("procedure[*].incomplete_at_desk")
    );
}

#[test]
fn an_impossible_target_set_is_reported_as_not_fittable_naming_the_conflict() {
    // Staff fixed, only the incompleteness free: a supplement rate of 40%
    // needs a high incompleteness and a commune late rate of 0.1% a low one.
    let dir = with_targets(
        "impossible",
        "name = \"impossible\"\n\
         [[target]]\nmetric = \"supplement_rate\"\nvalue = 0.4\ntolerance = 0.01\n\
         [[target]]\nmetric = \"on_time_rate\"\nscope = \"commune\"\nvalue = 0.999\ntolerance = 0.0005\n\
         [[parameter]]\npath = \"procedure[*].incomplete_at_desk\"\nmode = \"scale\"\nmin = 0.5\nmax = 4.0\n",
    );
    let out = dir.join("cal");
    let r = calibrate(&dir, &out, &["--budget", "30"]);
    assert_eq!(
        r.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("NOT fitted"), "{stdout}");
    assert!(
        stdout.contains("on_time_rate@commune"),
        "the failing target is named: {stdout}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("calibration.json")).unwrap())
            .unwrap();
    assert_eq!(j["result"]["fitted"], false);
    let named: Vec<String> = j["result"]["unreachable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .chain(
            j["result"]["conflicts"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|p| {
                    p.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_string())
                }),
        )
        .collect();
    assert!(
        named.iter().any(|n| n == "on_time_rate@commune"),
        "{named:?}"
    );
}

#[test]
fn edit_entries_change_fields_by_path_and_bad_ones_are_all_reported() {
    let dir = fresh_dir("calibrate", "edit");
    province(&dir);
    std::fs::write(
        dir.join("bad.toml"),
        "extends = \"prov.toml\"\n[[edit]]\npath = \"procedure[*].no_such_field\"\nset = 1\n[[edit]]\npath = \"procedure[*].deadline_days\"\nset = 1\nscale = 2\n",
    )
    .unwrap();
    let r = motcua(&["run", dir.join("bad.toml").to_str().unwrap(), "-q"]);
    assert_eq!(r.status.code(), Some(2));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("edit[0].path"), "{e}");
    assert!(e.contains("no_such_field"), "{e}");
    assert!(e.contains("edit[1].set"), "{e}");
    assert!(e.contains("exactly one of set and scale"), "{e}");
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn shards_of_each_wave_then_a_plain_run_give_the_unsharded_calibration() {
    let dir = with_targets(
        "shards",
        "name = \"shards\"\n\
         [[target]]\nmetric = \"supplement_rate\"\nvalue = 0.12\ntolerance = 0.005\n\
         [[parameter]]\npath = \"procedure[*].incomplete_at_desk\"\nmode = \"scale\"\nmin = 0.5\nmax = 2.0\n",
    );
    let (scenario, targets) = (dir.join("prov.toml"), dir.join("targets.toml"));
    let run = |out: &Path, store: &Path, extra: &[&str]| {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
            &"calibrate",
            &scenario,
            &targets,
            &"--waves",
            &"2",
            &"--budget",
            &"12",
            &"--out",
            &out,
            &"--store",
            &store,
        ];
        args.extend(extra.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
        quick(&args)
    };
    let (out, store) = (dir.join("sharded"), dir.join("sharded.points"));
    // Wave 2 cannot start before wave 1 (six design points and the scenario as given) is done.
    let r = run(&out, &store, &["--wave", "2", "--shard", "1/2"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&r.stderr)
            .contains("wave 1 has 7 of its 7 points not yet simulated")
    );
    for wave in ["1", "2"] {
        for shard in ["1/2", "2/2"] {
            ok(&run(&out, &store, &["--wave", wave, "--shard", shard]));
        }
    }
    assert!(!out.exists(), "a shard writes no output set");
    ok(&run(&out, &store, &[]));
    let plain = dir.join("plain");
    ok(&run(&plain, &dir.join("plain.points"), &[]));
    let read = |d: &Path| -> serde_json::Value {
        let j: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("calibration.json")).unwrap())
                .unwrap();
        j["result"].clone()
    };
    let (a, b) = (read(&out), read(&plain));
    for key in ["best", "fit", "ranges", "points", "fitted"] {
        assert_eq!(a[key], b[key], "{key} differs between sharded and plain");
    }
    // After the shards, the plain run simulated only the confirmation.
    assert_eq!(a["replications"], 10);
}

#[test]
fn parameters_the_targets_do_not_constrain_keep_the_values_the_scenario_gives() {
    // A target every point meets: nothing to fit, so the fit must be the
    // scenario as given (apology compliance 0.6 in the file, factor 1).
    let dir = with_targets(
        "least-change",
        "name = \"loose\"\n\
         [[target]]\nmetric = \"received\"\nvalue = 100000\ntolerance = 1e9\n\
         [[parameter]]\npath = \"model.apology_compliance\"\nmode = \"set\"\nmin = 0.2\nmax = 1.0\n\
         [[parameter]]\npath = \"procedure[*].incomplete_at_desk\"\nmode = \"scale\"\nmin = 0.5\nmax = 2.0\n",
    );
    let out = dir.join("out");
    ok(&calibrate(
        &dir,
        &out,
        &[
            "--waves",
            "1",
            "--budget",
            "6",
            "--confirm-replications",
            "2",
        ],
    ));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("calibration.json")).unwrap())
            .unwrap();
    let best: Vec<f64> = j["result"]["best"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        (best[0] - 0.6).abs() < 1e-12,
        "apology compliance {}",
        best[0]
    );
    assert!(
        (best[1] - 1.0).abs() < 1e-12,
        "desk incompleteness factor {}",
        best[1]
    );
    // The design had other points, equally within tolerance.
    assert!(j["result"]["points"].as_array().unwrap().len() > 2);
}
