//! Every metric means what its name says: counter waits, digitisation, bases of attribution, overdue dossiers, intervals, warnings and per-class network figures.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use motcua::engine::Discipline;
use motcua::experiment::run::{Estimate, summarise};
use motcua::model::prepare::prepare;
use motcua::model::scopes::scopes;
use motcua::scenario::domain::{self, Scenario, Tier};

use crate::motcua;

fn dir(name: &str) -> PathBuf {
    let d = crate::fresh_dir("truth", name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn small() -> Scenario {
    domain::load(Path::new("tests/fixtures/small.toml")).unwrap()
}

/// The small fixture with `from` replaced by `to` in its text, loaded from `d`.
fn small_with(d: &Path, edits: &[(&str, &str)]) -> Scenario {
    let mut text = std::fs::read_to_string("tests/fixtures/small.toml").unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "the fixture has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    let file = d.join("s.toml");
    std::fs::write(&file, text).unwrap();
    domain::load(&file).unwrap()
}

#[test]
fn the_digitisation_rate_counts_scanned_paper_over_paper_and_not_born_digital_dossiers() {
    // `licence` is 70% online and never scans paper: its digitisation rate is
    // 0, while 766 item 4.2 (digitised inputs with an e-result) counts its
    // born-digital dossiers.
    let sc = small();
    let p = prepare(&sc, Discipline::Fifo).unwrap();
    let runs = p.replication(sc.seed, 0).unwrap();
    let s = scopes(&sc, &runs);
    let (_, _, licence) = s
        .procedures
        .iter()
        .find(|(id, _, _)| id == "licence")
        .unwrap();
    let m: std::collections::BTreeMap<_, _> = licence.metrics(1.0).into_iter().collect();
    assert_eq!(m["digitisation_rate"], 0.0);
    assert!(
        (m["digitised_with_e_result_rate"] - 0.7).abs() < 0.03,
        "{}",
        m["digitised_with_e_result_rate"]
    );
    // `certify` scans half its paper dossiers.
    let (_, _, certify) = s
        .procedures
        .iter()
        .find(|(id, _, _)| id == "certify")
        .unwrap();
    let m: std::collections::BTreeMap<_, _> = certify.metrics(1.0).into_iter().collect();
    assert!(
        (m["digitisation_rate"] - 0.5).abs() < 0.03,
        "{}",
        m["digitisation_rate"]
    );
    // The PAR criterion reads the same digitisation rate.
    let r = certify.rates(1.0, &sc.index);
    assert_eq!(r.paper_digitisation, m["digitisation_rate"]);
}

#[test]
fn every_dossier_is_counted_once_by_receiving_and_once_by_competent_unit() {
    // In the fixture, `land` is filed at the communes and resolved at the
    // districts, which have no procedure of their own.
    let sc = small();
    let p = prepare(&sc, Discipline::Fifo).unwrap();
    let runs = p.replication(sc.seed, 1).unwrap();
    let s = scopes(&sc, &runs);
    let sum = |units: &[(String, String, Tier, motcua::model::scopes::Scope)],
               f: fn(&motcua::model::Counts) -> u64| {
        units.iter().map(|u| f(&u.3.counts)).sum::<u64>()
    };
    for f in [
        (|c: &motcua::model::Counts| c.received) as fn(&motcua::model::Counts) -> u64,
        |c| c.resolved,
        |c| c.late,
    ] {
        assert_eq!(sum(&s.units, f), f(&s.overall.counts));
        assert_eq!(sum(&s.competent_units, f), f(&s.overall.counts));
    }
    let land = &s
        .procedures
        .iter()
        .find(|(id, _, _)| id == "land")
        .unwrap()
        .2;
    let district_competent = &s.competent_tiers[&Tier::District];
    assert_eq!(district_competent.counts.received, land.counts.received);
    assert_eq!(district_competent.counts.late, land.counts.late);
    assert_eq!(s.tiers[&Tier::District].counts.received, 0);
    assert_eq!(
        s.competent_tiers[&Tier::Commune].counts.resolved,
        s.tiers[&Tier::Commune].counts.resolved - land.counts.resolved
    );
    // Every late dossier is charged to exactly one holder.
    let held: u64 = s.units.iter().map(|u| u.3.late_held).sum();
    assert_eq!(held, s.overall.counts.late);
    assert!(
        land.counts.late > 0,
        "the fixture must make some land dossiers late"
    );
    // A district handles only land dossiers; a commune handles its own and
    // the land dossiers it sends.
    let district_handled: u64 = s
        .units
        .iter()
        .filter(|u| u.2 == Tier::District)
        .map(|u| u.3.handled)
        .sum();
    assert_eq!(district_handled, land.counts.resolved);
    // The summary says which basis is which.
    let reps =
        motcua::experiment::run::replications(&p, sc.seed, 2, 1, &ProgressBar::hidden()).unwrap();
    let summary = summarise(&sc, sc.seed, &reps, &p.overloaded);
    assert!(summary.bases.contains("receiving:") && summary.bases.contains("holder:"));
    assert!(summary.competent_tiers["district"]["late_rate"].mean > 0.0);
    assert!(summary.holder_tiers["district"]["late_rate"].mean > 0.0);
}

#[test]
fn a_dossier_with_the_citizen_is_judged_against_its_extended_appointment() {
    // Every land dossier gets a supplement request at appraisal and the
    // citizen keeps it for 1,000 days: the clock is stopped, so at the end
    // these dossiers are open but not overdue.
    let d = dir("overdue");
    let sc = small_with(
        &d,
        &[
            (
                "incomplete_at_appraisal = 0.2",
                "incomplete_at_appraisal = 1.0\nsupplement_days = { dist = \"constant\", value = 1000.0 }",
            ),
            ("deadline_days = 10", "deadline_days = 30"),
            ("horizon_days = 60", "horizon_days = 150"),
        ],
    );
    let p = prepare(&sc, Discipline::Fifo).unwrap();
    let runs = p.replication(sc.seed, 0).unwrap();
    let s = scopes(&sc, &runs);
    let district = &s.competent_tiers[&Tier::District];
    assert!(district.open > 300, "{}", district.open);
    // Only dossiers already late when the request went out can be overdue.
    assert!(
        (district.overdue as f64) < 0.05 * district.open as f64,
        "{} of {} open land dossiers judged overdue",
        district.overdue,
        district.open
    );
}

#[test]
fn one_replication_prints_no_interval_and_rate_intervals_stay_inside_zero_and_one() {
    let out = dir("one-rep");
    let o = motcua(&[
        "run",
        "tests/fixtures/small.toml",
        "--replications",
        "1",
        "--out",
        out.join("r").to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("(n = 1, no interval)"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("r/summary.json")).unwrap()).unwrap();
    let late = &v["overall"]["late_rate"];
    assert_eq!(late["n"], 1);
    assert!(
        late["ci_low"].is_null() && late["ci_high"].is_null(),
        "{late}"
    );
    // A rate near 1 whose Student-t interval would pass 1 is clipped.
    let e = Estimate::of("on_time_rate", &[1.0, 1.0, 0.98]);
    assert!(e.ci_high <= 1.0 && e.ci_low < e.mean, "{e:?}");
    let e = Estimate::of("late_rate", &[0.0, 0.0, 0.02]);
    assert!(e.ci_low >= 0.0, "{e:?}");
    // Counts are never negative; points stay within their group.
    assert!(Estimate::of("overdue_at_end", &[0.0, 0.0, 3.0]).ci_low >= 0.0);
    assert!(Estimate::of("i766_total", &[99.9, 100.0, 100.0]).ci_high <= 100.0);
}

#[test]
fn compare_warns_once_per_overloaded_pool_and_writes_the_warnings_to_its_json() {
    let d = dir("compare-overload");
    let reform = d.join("half-district-specialists.toml");
    std::fs::write(
        &reform,
        format!(
            "extends = {:?}\n[[reform]]\nkind = \"staffing\"\ntier = \"district\"\npool = \"specialists\"\nscale = 0.25\n",
            std::fs::canonicalize("tests/fixtures/small.toml")
                .unwrap()
                .display()
                .to_string()
        ),
    )
    .unwrap();
    let out = d.join("out");
    let o = motcua(&[
        "compare",
        "tests/fixtures/small.toml",
        reform.to_str().unwrap(),
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
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        e.matches("warning:").count(),
        1,
        "one warning for the district specialists of the reform: {e}"
    );
    assert!(
        e.contains(
            "in half-district-specialists: tiny / district / specialists: 2 of 2 units overloaded"
        ),
        "{e}"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("comparison.json")).unwrap()).unwrap();
    let w = &v["warnings"][0];
    assert_eq!(w["scenario"], "half-district-specialists");
    assert_eq!(w["warnings"][0]["pool"], "specialists");
    assert_eq!(w["warnings"][0]["units"], 2);
}

#[test]
fn network_reports_erlang_c_waiting_probability_and_cobhams_per_class_waits() {
    let o = motcua(&[
        "network",
        "scenarios/validation/mmc.toml",
        "--json",
        "--replications",
        "6",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = &v["nodes"][0]["p_wait"];
    let erlang_c = motcua::theory::mmc(10, 9.0, 1.0).p_wait;
    assert!(
        p["ci_low"].as_f64().unwrap() <= erlang_c && erlang_c <= p["ci_high"].as_f64().unwrap(),
        "P(wait) {p} against Erlang C {erlang_c}"
    );
    let o = motcua(&["network", "scenarios/validation/priority.toml", "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let classes = v["nodes"][0]["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 2);
    for (c, name, wq) in [
        (&classes[0], "high", 4.0 / 3.0),
        (&classes[1], "low", 20.0 / 3.0),
    ] {
        assert_eq!(c["name"], name);
        let w = &c["wait"];
        assert!(
            w["ci_low"].as_f64().unwrap() <= wq && wq <= w["ci_high"].as_f64().unwrap(),
            "{name}: {w} against Cobham's {wq}"
        );
        assert!((c["p_wait"]["mean"].as_f64().unwrap() - 0.8).abs() < 0.01);
    }
    let o = motcua(&["network", "scenarios/validation/priority.toml"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("P(wait)") && table.contains("desk / low"),
        "{table}"
    );
}
