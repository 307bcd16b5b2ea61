//! Reforms as overlays and `motcua compare`: what each reform changes, common random numbers, bad input.

use std::path::{Path, PathBuf};

use crate::motcua;

use indicatif::ProgressBar;
use motcua::experiment::compare::compare;
use motcua::scenario::domain::{self, Channel, Scenario, Tier, Transfer};

fn dir(name: &str) -> PathBuf {
    let d = crate::fresh_dir("reform", name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fixture() -> PathBuf {
    std::fs::canonicalize("tests/fixtures/small.toml").unwrap()
}

/// Writes a reform file extending the small fixture and loads it.
fn with_reforms(d: &Path, name: &str, reforms: &str) -> Result<Scenario, String> {
    let file = d.join(format!("{name}.toml"));
    std::fs::write(
        &file,
        format!("extends = {:?}\n{reforms}", fixture().display().to_string()),
    )
    .unwrap();
    domain::load(&file).map_err(|e| e.to_string())
}

fn base() -> Scenario {
    domain::load(&fixture()).unwrap()
}

fn proc<'a>(sc: &'a Scenario, id: &str) -> &'a domain::Procedure {
    sc.procedures.iter().find(|p| p.id == id).unwrap()
}

#[test]
fn a_reform_file_takes_its_name_from_its_file_and_keeps_the_base_otherwise() {
    let d = dir("name");
    let sc = with_reforms(&d, "identity", "").unwrap();
    assert_eq!(sc.name, "identity");
    assert_eq!(sc.procedures, base().procedures);
    assert_eq!(sc.provinces, base().provinces);
}

#[test]
fn decentralise_moves_the_procedure_and_keeps_the_volume() {
    let d = dir("decentralise");
    let sc = with_reforms(
        &d,
        "r",
        "[[reform]]\nkind = \"decentralise\"\nprocedures = [\"licence\"]\nto_tier = \"commune\"\n",
    )
    .unwrap();
    let (b, r) = (
        proc(&base(), "licence").clone(),
        proc(&sc, "licence").clone(),
    );
    assert_eq!((r.tier, r.competent_tier), (Tier::Commune, Tier::Commune));
    // One province unit → six communes: the same total volume.
    assert!((r.volume_per_unit * 6.0 - b.volume_per_unit).abs() < 1e-9);
    assert_eq!(proc(&sc, "land"), proc(&base(), "land"));
    assert_eq!(r.deadline_days, b.deadline_days);
}

#[test]
fn deadlines_scale_and_set_only_what_they_name() {
    let d = dir("deadlines");
    let sc = with_reforms(
        &d,
        "r",
        "[[reform]]\nkind = \"deadlines\"\nscale = 0.7\nprocedures = [\"land\", \"licence\"]\n[[reform]]\nkind = \"deadlines\"\nset = { certify = 2 }\n",
    )
    .unwrap();
    assert_eq!(proc(&sc, "land").deadline_days, 7);
    assert_eq!(proc(&sc, "licence").deadline_days, 4); // 3.5 rounds to 4
    assert_eq!(proc(&sc, "certify").deadline_days, 2);
    assert_eq!(
        proc(&sc, "land").volume_per_unit,
        proc(&base(), "land").volume_per_unit
    );
}

#[test]
fn staffing_adds_to_the_named_pool_of_the_named_tier_only() {
    let d = dir("staffing");
    let sc = with_reforms(
        &d,
        "r",
        "[[reform]]\nkind = \"staffing\"\ntier = \"commune\"\npool = \"clerks\"\nadd = 1\n",
    )
    .unwrap();
    for (b, r) in base().provinces[0].units.iter().zip(&sc.provinces[0].units) {
        if b.tier == Tier::Commune {
            assert_eq!(r.servers, [b.servers[0] + 1, b.servers[1], b.servers[2]]);
        } else {
            assert_eq!(r.servers, b.servers);
        }
    }
}

#[test]
fn saturday_opening_opens_the_desk_on_saturday_mornings_only() {
    let d = dir("saturday");
    let sc = with_reforms(&d, "r", "[[reform]]\nkind = \"saturday_opening\"\n").unwrap();
    let (b, c) = (&base().calendars, &sc.calendars);
    // 2022-03-05 is a Saturday: day 4 after the start (2022-03-01).
    assert_eq!(b.desk().periods(4).len(), 0);
    assert_eq!(c.desk().periods(4).len(), 1);
    assert_eq!(c.desk().periods(0), b.desk().periods(0));
    assert_eq!(c.desk().periods(5).len(), 0, "Sunday stays closed");
    // The back office keeps its week unless the reform says so.
    assert_eq!(c.service[1].periods(4).len(), 0);
    assert_eq!(c.service[2].periods(4).len(), 0);
    let sc = with_reforms(
        &d,
        "r2",
        "[[reform]]\nkind = \"saturday_opening\"\nback_office = true\n",
    )
    .unwrap();
    assert_eq!(sc.calendars.service[1].periods(4).len(), 1);
}

#[test]
fn saturday_opening_never_moves_a_deadline() {
    // A 3-working-day dossier received on Wednesday 2 March 2022 at 10:00 is
    // due on Monday 7 March at 17:00, with or without Saturday service.
    let d = dir("saturday-deadline");
    let sc = with_reforms(&d, "r", "[[reform]]\nkind = \"saturday_opening\"\n").unwrap();
    let wednesday_10 = 1.0 * 1440.0 + 600.0;
    let monday_17 = 6.0 * 1440.0 + 1020.0;
    for s in [base(), sc] {
        assert_eq!(s.calendars.legal.appointment(wednesday_10, 3), monday_17);
        assert!(
            !s.calendars.legal.is_working_day(4),
            "Saturday is not a working day"
        );
    }
}

#[test]
fn online_uptake_moves_counter_shares_online_and_upgrades_partial_services() {
    let d = dir("online");
    let sc = with_reforms(&d, "r", "[[reform]]\nkind = \"online_uptake\"\nprocedures = [\"certify\"]\nset = 0.6\nupgrade_partial = true\n").unwrap();
    let c = proc(&sc, "certify").channels;
    assert!((c.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!((c[3] - 0.6).abs() < 1e-12 && c[2] == 0.0);
    // The counter keeps its in-person/postal split (0.6 : 0.1).
    assert!((c[0] / c[1] - 6.0).abs() < 1e-9);
    assert_eq!(proc(&sc, "land").channels, proc(&base(), "land").channels);
    let _ = Channel::ALL;
}

#[test]
fn data_reuse_edf_and_transfer_reforms_change_their_parameters() {
    let d = dir("misc");
    let sc = with_reforms(
        &d,
        "r",
        "[[reform]]\nkind = \"data_reuse\"\nincomplete_scale = 0.5\n[[reform]]\nkind = \"edf_queues\"\n[[reform]]\nkind = \"transfer_delays\"\nprocedures = [\"land\"]\ntransfer = \"electronic\"\n",
    )
    .unwrap();
    assert!((proc(&sc, "land").incomplete_at_desk - 0.1).abs() < 1e-12);
    assert!((proc(&sc, "land").incomplete_at_appraisal - 0.1).abs() < 1e-12);
    assert!(sc.model.edf && !base().model.edf);
    assert_eq!(proc(&sc, "land").transfer, Transfer::Electronic);
    assert_eq!(proc(&base(), "land").transfer, Transfer::Paper);
}

#[test]
fn an_identity_reform_gives_exactly_zero_difference_on_every_metric() {
    let d = dir("identity-cmp");
    let id = with_reforms(&d, "identity", "").unwrap();
    let c = compare(&base(), &[id], 7, 4, 0, &ProgressBar::hidden()).unwrap();
    let mut n = 0;
    for row in &c.reforms[0].rows {
        assert_eq!(row.difference.diff, 0.0, "{:?} {}", row.key, row.metric);
        n += 1;
    }
    assert!(n > 30);
}

#[test]
fn common_random_numbers_make_the_paired_interval_narrower_than_the_unpaired_one() {
    let d = dir("crn");
    let r = with_reforms(
        &d,
        "plus-one",
        "[[reform]]\nkind = \"staffing\"\ntier = \"commune\"\npool = \"clerks\"\nadd = 1\n",
    )
    .unwrap();
    let c = compare(&base(), &[r], 7, 6, 0, &ProgressBar::hidden()).unwrap();
    for metric in ["turnaround_mean_days", "late_rate", "resolved"] {
        let d = *c.reforms[0].get("overall", metric).unwrap();
        let paired = (d.ci_high - d.ci_low) / 2.0;
        assert!(
            paired < d.unpaired_half_width,
            "{metric}: paired {paired} vs unpaired {}",
            d.unpaired_half_width
        );
    }
}

#[test]
fn compare_outputs_are_byte_identical_at_one_and_two_threads() {
    let d = dir("cmp-threads");
    let reform = d.join("r.toml");
    std::fs::write(
        &reform,
        format!(
            "extends = {:?}\n[[reform]]\nkind = \"deadlines\"\nscale = 0.7\n",
            fixture().display().to_string()
        ),
    )
    .unwrap();
    let run = |threads: &str| {
        let out = d.join(format!("out{threads}"));
        let o = motcua(&[
            "compare",
            "tests/fixtures/small.toml",
            reform.to_str().unwrap(),
            "--replications",
            "3",
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
        (
            std::fs::read(out.join("comparison.json")).unwrap(),
            std::fs::read(out.join("comparison.csv")).unwrap(),
        )
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn bad_reforms_name_the_file_the_reform_and_the_field() {
    let d = dir("bad");
    let cases: [(&str, &str); 6] = [
        (
            "[[reform]]\nkind = \"deadlines\"\nscale = 0.7\nprocedures = [\"nope\"]\n",
            "reform[0].procedures[0]: no procedure matches `nope`",
        ),
        (
            "[[reform]]\nkind = \"staffing\"\nunit = \"nowhere\"\nadd = 1\n",
            "reform[0].unit: matches no unit",
        ),
        (
            "[[reform]]\nkind = \"staffing\"\npool = \"janitors\"\nadd = 1\n",
            "reform[0].pool: unknown variant `janitors`",
        ),
        (
            "[[reform]]\nkind = \"decentralise\"\nprocedures = [\"certify\"]\nto_tier = \"commune\"\n",
            "reform[0].to_tier: procedure `certify` is already received at the commune tier: a move from a tier to itself",
        ),
        (
            "[[reform]]\nkind = \"deadlines\"\nset = { land = 5 }\n[[reform]]\nkind = \"deadlines\"\nset = { land = 8 }\n",
            "reform[1].set.land: reform[0] set this deadline to 5: the reforms contradict each other",
        ),
        (
            "[[reform]]\nkind = \"abolish_everything\"\n",
            "reform[0].kind: unknown variant `abolish_everything`",
        ),
    ];
    for (k, (text, needle)) in cases.iter().enumerate() {
        let file = d.join(format!("bad{k}.toml"));
        std::fs::write(
            &file,
            format!("extends = {:?}\n{text}", fixture().display().to_string()),
        )
        .unwrap();
        let o = motcua(&[
            "run",
            file.to_str().unwrap(),
            "--out",
            d.join("out").to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "case {k}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            e.contains(&format!("{}: {needle}", file.display())),
            "case {k}: missing {needle:?} in\n{e}"
        );
        assert!(!e.contains("panicked"));
    }
}

#[test]
fn an_extends_cycle_and_a_missing_base_are_clear_errors() {
    let d = dir("cycle");
    std::fs::write(d.join("a.toml"), "extends = \"b.toml\"\n").unwrap();
    std::fs::write(d.join("b.toml"), "extends = \"a.toml\"\n").unwrap();
    let o = motcua(&[
        "run",
        d.join("a.toml").to_str().unwrap(),
        "--out",
        d.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("extends: `a.toml` makes a cycle"), "{e}");

    std::fs::write(d.join("c.toml"), "extends = \"missing.toml\"\n").unwrap();
    let o = motcua(&[
        "run",
        d.join("c.toml").to_str().unwrap(),
        "--out",
        d.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("c.toml: extends: cannot read the base scenario"),
        "{e}"
    );
}

#[test]
fn abolishing_the_district_tier_remaps_procedures_moves_staff_and_keeps_volumes() {
    let d = dir("abolish");
    let sc = with_reforms(&d, "r", "[[reform]]\nkind = \"abolish_district\"\nto_communes = 0.5\nremap = { land = \"province\" }\n").unwrap();
    let b = base();
    let units = &sc.provinces[0].units;
    assert!(units.iter().all(|u| u.tier != Tier::District));
    assert_eq!(units.len(), b.provinces[0].units.len() - 2);
    // Communes now report to the province.
    assert!(
        units
            .iter()
            .filter(|u| u.tier == Tier::Commune)
            .all(|u| u.parent == Some(0))
    );
    // `land` was received at the commune and resolved at the district: now resolved at the province.
    assert_eq!(
        (proc(&sc, "land").tier, proc(&sc, "land").competent_tier),
        (Tier::Commune, Tier::Province)
    );
    assert_eq!(proc(&sc, "certify"), proc(&b, "certify"));
    // Staff: the two districts' 2×4 specialists, half to the communes and half to the province.
    let spec = |sc: &Scenario, t: Tier| {
        sc.provinces[0]
            .units
            .iter()
            .filter(|u| u.tier == t)
            .map(|u| u.servers[1])
            .sum::<u32>()
    };
    assert_eq!(spec(&sc, Tier::Province), spec(&b, Tier::Province) + 4);
    let gained = spec(&sc, Tier::Commune) as i64 - spec(&b, Tier::Commune) as i64;
    assert!(
        (3..=6).contains(&gained),
        "communes gained {gained} specialists (4 spread with rounding)"
    );
}

#[test]
fn merging_provinces_gives_one_province_with_every_unit() {
    let d = dir("merge");
    let two = d.join("two.toml");
    let text = std::fs::read_to_string(fixture()).unwrap();
    let second =
        text[text.find("[[province]]").unwrap()..].replace("name = \"tiny\"", "name = \"other\"");
    std::fs::write(&two, format!("{text}\n{second}")).unwrap();
    let file = d.join("merged.toml");
    std::fs::write(
        &file,
        "extends = \"two.toml\"\n[[reform]]\nkind = \"merge_provinces\"\nname = \"big\"\n",
    )
    .unwrap();
    let sc = domain::load(&file).unwrap();
    assert_eq!(sc.provinces.len(), 1);
    assert_eq!(sc.provinces[0].name, "big");
    assert_eq!(
        sc.provinces[0].units.len(),
        2 * base().provinces[0].units.len()
    );
    assert!(
        sc.provinces[0]
            .units
            .iter()
            .any(|u| u.name == "other/commune-6")
    );
    // Parents point inside the merged list: the second copy's communes report to its districts.
    let u = sc.provinces[0]
        .units
        .iter()
        .position(|u| u.name == "other/commune-1")
        .unwrap();
    let parent = sc.provinces[0].units[u].parent.unwrap();
    assert_eq!(sc.provinces[0].units[parent].name, "other/district-1");
    let one = domain::load(&fixture()).unwrap();
    let p = motcua::model::prepare::prepare(&sc, motcua::engine::Discipline::Fifo).unwrap();
    assert_eq!(p.provinces.len(), 1);
    let _ = one;
}

#[test]
fn abolishing_a_tier_that_is_not_there_or_remapping_to_it_is_refused() {
    let d = dir("abolish-bad");
    let e = with_reforms(&d, "r", "[[reform]]\nkind = \"abolish_district\"\ndefault = \"district\"\nremap = { certify = \"province\" }\n").unwrap_err();
    assert!(
        e.contains(
            "reform[0].default: must be `commune` or `province`: a move from a tier to itself"
        ),
        "{e}"
    );
    assert!(
        e.contains("reform[0].remap.certify: procedure `certify` is not a district procedure"),
        "{e}"
    );
    let e = with_reforms(
        &d,
        "r2",
        "[[reform]]\nkind = \"abolish_district\"\n[[reform]]\nkind = \"abolish_district\"\n",
    )
    .unwrap_err();
    assert!(
        e.contains("reform[1].kind: the scenario has no district tier to abolish"),
        "{e}"
    );
}

#[test]
fn a_transition_shock_raises_lateness_and_brings_its_backlog() {
    let d = dir("shock");
    let shocked = with_reforms(
        &d,
        "shock",
        "[[reform]]\nkind = \"transition_shock\"\nfrom = \"2022-03-15\"\nweeks = 4\nproductivity = 0.5\nbacklog = 800\n",
    )
    .unwrap();
    let sh = shocked.model.shock.clone().unwrap();
    assert_eq!(sh.start, 14.0 * 1440.0);
    assert_eq!(sh.end - sh.start, 28.0 * 1440.0);
    let c = compare(&base(), &[shocked], 7, 4, 0, &ProgressBar::hidden()).unwrap();
    let r = &c.reforms[0];
    let o = |m: &str| *r.get("overall", m).unwrap();
    // The backlog arrives inside the tallied window (after the 10 warm-up days).
    assert!(
        (o("received").diff * 60.0 / 365.0 - 800.0).abs() < 120.0,
        "{:?}",
        o("received")
    );
    assert!(o("late_rate").ci_low > 0.0, "{:?}", o("late_rate"));
    assert!(o("utilisation_specialists").ci_low > 0.0);
}

#[test]
fn a_shock_outside_the_run_or_with_bad_values_is_refused() {
    let d = dir("shock-bad");
    let e = with_reforms(
        &d,
        "r",
        "[[reform]]\nkind = \"transition_shock\"\nfrom = \"2030-01-01\"\nweeks = 0\nproductivity = 1.5\n",
    )
    .unwrap_err();
    assert!(
        e.contains("reform[0].from: 2030-01-01 is outside the run"),
        "{e}"
    );
    assert!(
        e.contains("reform[0].weeks: must be between 1 and 520 (got 0)"),
        "{e}"
    );
    assert!(
        e.contains("reform[0].productivity: must be between 0.05 and 1 (got 1.5)"),
        "{e}"
    );
}
