//! Parameter sweeps: shards and merge, resume, and bad input.

use std::path::PathBuf;

use crate::{motcua, ok};

use motcua::experiment::sweep;

fn dir(name: &str) -> PathBuf {
    crate::fresh_dir("sweep", name)
}

#[test]
fn merged_shards_are_byte_identical_to_the_unsharded_sweep() {
    let (all, s1, s2, merged) = (dir("all"), dir("s1"), dir("s2"), dir("merged"));
    ok(&motcua(&[
        "sweep",
        "tests/fixtures/sweep.toml",
        "--out",
        all.to_str().unwrap(),
        "--threads",
        "2",
        "-q",
    ]));
    ok(&motcua(&[
        "sweep",
        "tests/fixtures/sweep.toml",
        "--out",
        s1.to_str().unwrap(),
        "--shard",
        "1/2",
        "--threads",
        "1",
        "-q",
    ]));
    ok(&motcua(&[
        "sweep",
        "tests/fixtures/sweep.toml",
        "--out",
        s2.to_str().unwrap(),
        "--shard",
        "2/2",
        "-q",
    ]));
    ok(&motcua(&[
        "merge",
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]));
    for f in ["results.csv", "summary.csv"] {
        let a = std::fs::read(all.join(f)).unwrap();
        assert_eq!(a, std::fs::read(merged.join(f)).unwrap(), "{f}");
        assert!(a.len() > 1000);
    }
    // Each shard ran its own points only.
    assert_eq!(std::fs::read_dir(s1.join("points")).unwrap().count(), 2);
    for d in [all, s1, s2, merged] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn a_rerun_skips_finished_points_and_gives_the_same_results() {
    let d = dir("resume");
    ok(&motcua(&[
        "sweep",
        "tests/fixtures/sweep.toml",
        "--out",
        d.to_str().unwrap(),
        "-q",
    ]));
    let first = std::fs::read(d.join("results.csv")).unwrap();
    // A killed run leaves finished points only: drop one and re-run.
    std::fs::remove_file(d.join("points").join("point-0000002.csv")).unwrap();
    let out = ok(&motcua(&[
        "sweep",
        "tests/fixtures/sweep.toml",
        "--out",
        d.to_str().unwrap(),
        "-q",
    ]));
    assert!(
        out.contains("1 of its 4 points run now (3 already done)"),
        "{out}"
    );
    assert_eq!(std::fs::read(d.join("results.csv")).unwrap(), first);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn the_shipped_sweeps_load() {
    for f in [
        "scenarios/sweeps/commune-staffing-x-online.toml",
        "scenarios/sweeps/deadline-cut-x-decentralised.toml",
    ] {
        let sw = sweep::load(std::path::Path::new(f), false).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(sw.points.len(), 9, "{f}");
    }
}

#[test]
fn a_latin_hypercube_puts_one_point_in_each_stratum_of_each_field() {
    let d = dir("lhs");
    std::fs::create_dir_all(&d).unwrap();
    let base = std::fs::canonicalize("tests/fixtures/small.toml").unwrap();
    let f = d.join("lhs.toml");
    std::fs::write(
        &f,
        format!(
            "base = {:?}\n[lhs]\nsamples = 10\nfields = [{{ path = \"model.apology_compliance\", min = 0.0, max = 1.0 }}, {{ path = \"procedure[0].volume_per_unit\", min = 1000, max = 2000 }}]\n",
            base.display().to_string()
        ),
    )
    .unwrap();
    // The fixture has no [model] table: add one so the field exists.
    let text = std::fs::read_to_string(&base).unwrap();
    let base2 = d.join("base.toml");
    std::fs::write(
        &base2,
        text.replace("seed = 7", "seed = 7\n[model]\napology_compliance = 0.8"),
    )
    .unwrap();
    std::fs::write(
        &f,
        std::fs::read_to_string(&f)
            .unwrap()
            .replace(&base.display().to_string(), "base.toml"),
    )
    .unwrap();
    let sw = sweep::load(&f, false).unwrap();
    assert_eq!(sw.points.len(), 10);
    for (j, (lo, hi)) in [(0.0, 1.0), (1000.0, 2000.0)].into_iter().enumerate() {
        let mut strata: Vec<usize> = sw
            .points
            .iter()
            .map(|p| (((p[j] - lo) / (hi - lo)) * 10.0) as usize)
            .collect();
        strata.sort_unstable();
        assert_eq!(strata, (0..10).collect::<Vec<_>>());
    }
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn bad_sweeps_and_shards_are_clear_errors_that_touch_nothing() {
    let d = dir("bad");
    std::fs::create_dir_all(&d).unwrap();
    let base = std::fs::canonicalize("tests/fixtures/small.toml")
        .unwrap()
        .display()
        .to_string();
    let cases = [
        (
            "[[axis]]\npath = \"province[0].tier[2].staff.clerk\"\nvalues = [1]\n",
            "no field `clerk` in `province[tiny].tier[commune].staff`; the fields there are: clerks, leaders, specialists; did you mean `clerks`?",
        ),
        (
            // A tier that is not there lists the tiers of that province and
            // never suggests another one's staff.
            "[[axis]]\npath = \"province[tiny].tier[comune].staff.clerks\"\nvalues = [1]\n",
            "there is no `comune` in `province[tiny].tier`; the names there are: province, district, commune; did you mean `commune`?",
        ),
        (
            "[[axis]]\npath = \"province[big].tier[commune].staff.clerks\"\nvalues = [1]\n",
            "there is no `big` in `province`; the names there are: tiny",
        ),
        (
            "[[axis]]\npath = \"procedure[lnd].deadline_days\"\nvalues = [1]\n",
            "did you mean `land`?",
        ),
        (
            "[[axis]]\npath = \"procedure[1].deadline_days\"\nvalues = []\n",
            "axis[0].values: is empty",
        ),
        (
            "[[axis]]\npath = \"procedure[1].deadline_days\"\nrange = { from = 1, to = 5, step = 0 }\n",
            "axis[0].range.step: must be non-zero",
        ),
        (
            "[[axis]]\npath = \"procedure[1].deadline_days\"\nrange = { from = 1, to = 5, step = -1 }\n",
            "axis[0].range.step: must be non-zero with the sign",
        ),
        (
            "[[axis]]\npath = \"procedure[1].deadline_days\"\nrange = { from = 0, to = 1500, step = 1 }\n[[axis]]\npath = \"procedure[0].deadline_days\"\nrange = { from = 0, to = 1500, step = 1 }\n",
            "more than 1000000; pass --force",
        ),
    ];
    for (k, (text, needle)) in cases.iter().enumerate() {
        let f = d.join(format!("bad{k}.toml"));
        std::fs::write(&f, format!("base = {base:?}\n{text}")).unwrap();
        let out = d.join(format!("out{k}"));
        let o = motcua(&["sweep", f.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "case {k}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(needle), "case {k}: missing {needle:?} in\n{e}");
        assert!(!out.exists(), "case {k}: nothing is written");
    }
    for spec in ["0/0", "3/2", "1", "a/b"] {
        let o = motcua(&[
            "sweep",
            "tests/fixtures/sweep.toml",
            "--shard",
            spec,
            "--out",
            d.join("x").to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{spec}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("malformed shard"),
            "{spec}"
        );
    }
    // Merging shards of two different sweeps.
    let other = d.join("other.toml");
    std::fs::write(
        &other,
        std::fs::read_to_string("tests/fixtures/sweep.toml")
            .unwrap()
            .replace("seed = 3", "seed = 4")
            .replace("base = \"small.toml\"", &format!("base = {base:?}")),
    )
    .unwrap();
    let (a, b) = (d.join("a"), d.join("b"));
    ok(&motcua(&[
        "sweep",
        "tests/fixtures/sweep.toml",
        "--shard",
        "1/2",
        "--out",
        a.to_str().unwrap(),
        "-q",
    ]));
    ok(&motcua(&[
        "sweep",
        other.to_str().unwrap(),
        "--shard",
        "2/2",
        "--out",
        b.to_str().unwrap(),
        "-q",
    ]));
    let o = motcua(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        d.join("m").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("merge only shards of one sweep"));
    assert!(!d.join("m").exists());
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn named_positional_and_shorthand_paths_set_the_same_fields() {
    use motcua::scenario::{Origin, domain::RawChain};
    let file = std::path::Path::new("tests/fixtures/small.toml");
    let text = std::fs::read_to_string(file).unwrap();
    let chain = RawChain::read(file, &text, Origin::Named).unwrap();
    let with = |paths: &[&str]| {
        let mut c = chain.clone();
        for p in paths {
            assert_eq!(c.set(p, 7.0), Ok(1), "{p}");
        }
        c.fingerprint()
    };
    let positional = with(&[
        "province[0].tier[2].staff.clerks",
        "procedure[0].deadline_days",
    ]);
    assert_eq!(
        positional,
        with(&[
            "province[tiny].tier[commune].staff.clerks",
            "procedure[certify].deadline_days"
        ])
    );
    assert_eq!(
        positional,
        with(&["commune.staff.clerks", "procedure[certify].deadline_days"])
    );
    assert_ne!(positional, chain.fingerprint());
    // Every listed path can be set, and lists names where they are unique.
    let paths = chain.numeric_paths();
    assert!(paths.contains(&"province[tiny].tier[district].staff.specialists".to_string()));
    for p in &paths {
        assert_eq!(chain.clone().set(p, 1.0), Ok(1), "{p}");
    }
}
