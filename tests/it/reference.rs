//! The input reference (`motcua schema scenario|reform|sweep|network`, `docs/*.md`)
//! is complete and current: an unknown key put at every level of each format
//! makes the parser list the fields it accepts there, and those must be exactly
//! the fields the reference documents at that level.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use motcua::scenario::reference::{self, Reference};

/// The names the parser lists in its "unknown field" error for the key `zz`.
fn accepted(error: &str) -> BTreeSet<String> {
    let line = error
        .lines()
        .find(|l| l.contains("zz"))
        .unwrap_or_else(|| panic!("no error about `zz` in:\n{error}"));
    if line.contains("there are no fields") {
        return BTreeSet::new();
    }
    let after = line
        .split_once("expected")
        .unwrap_or_else(|| panic!("no list in: {line}"))
        .1;
    let after = after.split(" in `").next().unwrap_or(after);
    if after.contains('`') {
        after
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    } else {
        after
            .trim()
            .trim_start_matches("one of")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// The fields `r` documents directly under `prefix` (`procedure[].`, `calendar.`, `` for the top).
fn documented(r: &Reference, prefix: &str) -> BTreeSet<String> {
    r.sections
        .iter()
        .flat_map(|s| s.fields)
        .filter_map(|f| f.path.strip_prefix(prefix))
        .filter(|rest| !rest.contains('.') && !rest.contains('['))
        .map(str::to_string)
        .collect()
}

fn check(r: &Reference, prefix: &str, error: String, extra: &[&str]) {
    let mut got = accepted(&error);
    got.extend(extra.iter().map(|s| s.to_string()));
    assert_eq!(
        got,
        documented(r, prefix),
        "{}: the fields at `{prefix}` differ between the parser (left) and the reference (right)",
        r.name
    );
}

fn small() -> String {
    std::fs::read_to_string("tests/fixtures/small.toml").unwrap()
}

fn scenario_error(extra: &str) -> String {
    let text = format!("{}\n{extra}\n", small());
    match motcua::scenario::domain::parse(Path::new("probe.toml"), &text) {
        Ok(_) => panic!("the probe was accepted:\n{extra}"),
        Err(e) => e.to_string(),
    }
}

const PROCEDURE: &str = "[[procedure]]\nid = \"probe\"\ntier = \"commune\"\ndeadline_days = 1\nvolume_per_unit = 10\nchannels = { in_person = 1.0 }\ndesk_minutes = { dist = \"constant\", value = 1 }\nappraisal_minutes = { dist = \"constant\", value = 1 }\napproval_minutes = { dist = \"constant\", value = 1 }\n";

#[test]
fn the_scenario_reference_documents_exactly_the_fields_the_parser_accepts() {
    let r = &reference::SCENARIO;
    // The top level lists its keys by hand; `extends` and `reform` are read before it.
    let top = format!("zz = 1\n{}", small());
    let e = motcua::scenario::domain::parse(Path::new("probe.toml"), &top)
        .unwrap_err()
        .to_string();
    check(r, "", e, &["extends", "reform"]);
    for table in [
        "calendar",
        "profiles",
        "model",
        "index",
        "index.i766",
        "index.i766.thresholds",
        "index.i766.items",
        "index.par",
        "index.satisfaction",
    ] {
        check(
            r,
            &format!("{table}."),
            scenario_error(&format!("[{table}]\nzz = 1")),
            &[],
        );
    }
    check(
        r,
        "index.i766.bands[].",
        scenario_error("[[index.i766.bands]]\nname = \"x\"\nmin = 0\nzz = 1"),
        &[],
    );
    check(
        r,
        "procedure[].",
        scenario_error(&format!("{PROCEDURE}zz = 1")),
        &[],
    );
    check(
        r,
        "procedure[].channels.",
        scenario_error(&PROCEDURE.replace("{ in_person = 1.0 }", "{ in_person = 1.0, zz = 1 }")),
        &[],
    );
    check(
        r,
        "province[].",
        scenario_error(
            "[[province]]\nname = \"p2\"\nzz = 1\n[[province.tier]]\ntier = \"commune\"\nunits = 1\nstaff = { clerks = 1, specialists = 1, leaders = 1 }",
        ),
        &[],
    );
    check(
        r,
        "province[].tier[].",
        scenario_error(
            "[[province]]\nname = \"p2\"\n[[province.tier]]\ntier = \"commune\"\nunits = 1\nzz = 1\nstaff = { clerks = 1, specialists = 1, leaders = 1 }",
        ),
        &[],
    );
    check(
        r,
        "province[].tier[].staff.",
        scenario_error(
            "[[province]]\nname = \"p2\"\n[[province.tier]]\ntier = \"commune\"\nunits = 1\nstaff = { clerks = 1, specialists = 1, leaders = 1, zz = 1 }",
        ),
        &[],
    );
    check(
        r,
        "province[].tier[].unit[].",
        scenario_error(
            "[[province]]\nname = \"p2\"\n[[province.tier]]\ntier = \"commune\"\nstaff = { clerks = 1, specialists = 1, leaders = 1 }\n[[province.tier.unit]]\nname = \"u\"\nzz = 1",
        ),
        &[],
    );
    // Every kind of distribution.
    for (kind, fields) in [
        ("constant", "value = 1"),
        ("exponential", "mean = 1"),
        ("erlang", "k = 2, mean = 1"),
        ("gamma", "mean = 1, sd = 1"),
        ("lognormal", "mean = 1, sd = 1"),
        ("triangular", "min = 0, mode = 1, max = 2"),
        ("uniform", "min = 0, max = 1"),
        ("truncated_normal", "mean = 1, sd = 1"),
        ("empirical", "values = [1], weights = [1]"),
    ] {
        let probe = PROCEDURE.replace(
            "desk_minutes = { dist = \"constant\", value = 1 }",
            &format!("desk_minutes = {{ dist = \"{kind}\", {fields}, zz = 1 }}"),
        );
        check(r, &format!("{kind}."), scenario_error(&probe), &[]);
    }
    // Every distribution kind the parser knows is documented.
    let e =
        scenario_error(&PROCEDURE.replacen("dist = \"constant\", value = 1", "dist = \"zz\"", 1));
    let kinds: BTreeSet<String> = e
        .lines()
        .find(|l| l.contains("zz"))
        .unwrap()
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|k| *k != "zz" && !k.contains('.'))
        .map(str::to_string)
        .collect();
    let documented_kinds: BTreeSet<String> = r
        .sections
        .iter()
        .find(|s| s.title == "Distributions")
        .unwrap()
        .fields
        .iter()
        .map(|f| f.path.split('.').next().unwrap().to_string())
        .collect();
    assert_eq!(kinds, documented_kinds, "{e}");
}

#[test]
fn the_reform_reference_documents_every_kind_and_its_fields() {
    let r = &reference::REFORM;
    let e = scenario_error("[[reform]]\nkind = \"zz\"");
    let kinds: BTreeSet<String> = e
        .lines()
        .find(|l| l.contains("zz"))
        .unwrap()
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|k| *k != "zz" && *k != "kind")
        .map(str::to_string)
        .collect();
    let titles: BTreeSet<String> = r.sections.iter().map(|s| s.title.to_string()).collect();
    assert_eq!(kinds, titles, "{e}");
    for kind in &kinds {
        check(
            r,
            &format!("{kind}."),
            scenario_error(&format!("[[reform]]\nkind = \"{kind}\"\nzz = 1")),
            &[],
        );
    }
}

fn write(name: &str, text: &str) -> PathBuf {
    let d = crate::fresh_dir("reference", name);
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("probe.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn sweep_error(extra: &str) -> String {
    let base = std::fs::canonicalize("tests/fixtures/small.toml").unwrap();
    let p = write(
        "sweep",
        &format!(
            "name = \"s\"\nbase = {:?}\n{extra}\n",
            base.display().to_string()
        ),
    );
    match motcua::experiment::sweep::load(&p, false) {
        Ok(_) => panic!("the probe was accepted:\n{extra}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_sweep_reference_documents_exactly_the_fields_the_parser_accepts() {
    let r = &reference::SWEEP;
    check(r, "", sweep_error("zz = 1"), &[]);
    let axis = "[[axis]]\npath = \"commune.staff.clerks\"\n";
    check(
        r,
        "axis[].",
        sweep_error(&format!("{axis}values = [1]\nzz = 1")),
        &[],
    );
    check(
        r,
        "axis[].range.",
        sweep_error(&format!(
            "{axis}range = {{ from = 1, to = 2, step = 1, zz = 1 }}"
        )),
        &[],
    );
    check(
        r,
        "axis[].log.",
        sweep_error(&format!(
            "{axis}log = {{ from = 1, to = 2, points = 2, zz = 1 }}"
        )),
        &[],
    );
    check(
        r,
        "lhs.",
        sweep_error(
            "[lhs]\nsamples = 2\nzz = 1\n[[lhs.fields]]\npath = \"commune.staff.clerks\"\nmin = 1\nmax = 2",
        ),
        &[],
    );
    check(
        r,
        "lhs.fields[].",
        sweep_error(
            "[lhs]\nsamples = 2\n[[lhs.fields]]\npath = \"commune.staff.clerks\"\nmin = 1\nmax = 2\nzz = 1",
        ),
        &[],
    );
}

fn network_error(text: &str) -> String {
    match motcua::scenario::network::parse(Path::new("probe.toml"), text) {
        Ok(_) => panic!("the probe was accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_network_reference_documents_exactly_the_fields_the_parser_accepts() {
    let r = &reference::NETWORK;
    let ok = std::fs::read_to_string("scenarios/validation/priority.toml").unwrap();
    check(r, "", network_error(&format!("zz = 1\n{ok}")), &[]);
    check(
        r,
        "run.",
        network_error(&ok.replacen("[run]\n", "[run]\nzz = 1\n", 1)),
        &[],
    );
    check(
        r,
        "class[].",
        network_error(&ok.replacen("[[class]]\n", "[[class]]\nzz = 1\n", 1)),
        &[],
    );
    check(
        r,
        "node[].",
        network_error(&ok.replacen("[[node]]\n", "[[node]]\nzz = 1\n", 1)),
        &[],
    );
    check(
        r,
        "node[].route[].",
        network_error(&format!(
            "{ok}\n[[node]]\nname = \"x\"\nservers = 1\nservice = {{ dist = \"constant\", value = 1 }}\nroute = [{{ to = \"exit\", p = 1.0, zz = 1 }}]\n"
        )),
        &[],
    );
    check(
        r,
        "source[].",
        network_error(&ok.replacen("[[source]]\n", "[[source]]\nzz = 1\n", 1)),
        &[],
    );
}

#[test]
fn the_generated_docs_are_current() {
    for r in reference::all() {
        let want = motcua::report::schema::reference_markdown(r);
        let file = format!("docs/{}.md", r.name);
        let have = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            have == want,
            "{file} is out of date; regenerate it with `cargo run --release -- schema {} > {file}`",
            r.name
        );
    }
    let outputs = std::fs::read_to_string("docs/outputs.md").unwrap_or_default();
    assert!(
        outputs == motcua::report::schema::markdown(),
        "docs/outputs.md is out of date; regenerate it with `cargo run --release -- schema outputs > docs/outputs.md`"
    );
}

#[test]
fn the_limits_the_reference_quotes_are_the_codes() {
    let text: String = reference::all()
        .iter()
        .map(|r| motcua::report::schema::reference_markdown(r))
        .collect();
    for (what, value) in reference::quoted_limits() {
        let shown = format_thousands(value);
        assert!(
            text.contains(&shown),
            "the reference does not quote the limit of {what} ({shown})"
        );
    }
}

fn format_thousands(x: f64) -> String {
    let s = format!("{}", x as i64);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What the README promises a new planner: `motcua init`, then `motcua run`,
/// on the first attempt, with non-zero late rates in every tier.
#[test]
fn a_province_written_by_init_runs_on_the_first_attempt_with_plausible_late_rates() {
    let d = crate::fresh_dir("reference", "init");
    std::fs::create_dir_all(&d).unwrap();
    for (args, tiers) in [
        (
            vec!["--districts", "3", "--communes", "20"],
            vec!["province", "district", "commune"],
        ),
        (
            vec!["--communes", "20", "--two-tier"],
            vec!["province", "commune"],
        ),
    ] {
        let file = d.join("p.toml");
        let mut init = vec!["init", file.to_str().unwrap(), "--force"];
        init.extend(&args);
        let o = crate::motcua(&init);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.matches("ASSUMPTION").count() >= 10,
            "defaults are marked"
        );
        let out = d.join("out");
        let o = crate::motcua(&[
            "run",
            file.to_str().unwrap(),
            "--replications",
            "2",
            "--out",
            out.to_str().unwrap(),
            "--force",
            "--json",
            "--no-report",
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let found: Vec<&str> = s["tiers"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for t in &tiers {
            assert!(found.contains(t), "{args:?}: no {t} tier in {found:?}");
            let late = s["tiers"][t]["late_rate"]["mean"].as_f64().unwrap();
            assert!(
                (0.002..0.2).contains(&late),
                "{args:?}: the {t} late rate is {late}, not a plausible one"
            );
        }
        assert_eq!(found.len(), tiers.len(), "{found:?}");
    }
    // A bad shape is a clear error.
    let o = crate::motcua(&[
        "init",
        d.join("x.toml").to_str().unwrap(),
        "--communes",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--communes must be between 1 and"));
}

/// An omitted `handoff_days` silently meant zero: now `run` says which
/// influential defaults it used, `summary.json` lists them, and a tier whose
/// late rate is exactly 0 gets a note saying why that is likely.
#[test]
fn influential_defaults_are_announced_once_and_listed_in_the_summary() {
    let d = crate::fresh_dir("reference", "defaults");
    std::fs::create_dir_all(&d).unwrap();
    let text: String = small()
        .lines()
        .filter(|l| !l.starts_with("handoff_days"))
        .map(|l| {
            if l.starts_with("deadline_days") {
                "deadline_days = 200".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let file = d.join("no-handoff.toml");
    std::fs::write(&file, text).unwrap();
    let out = d.join("out");
    let o = crate::motcua(&[
        "run",
        file.to_str().unwrap(),
        "--replications",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--no-report",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let said = stderr
        .lines()
        .filter(|l| l.contains("default used: procedure.handoff_days"))
        .count();
    assert_eq!(said, 1, "said once:\n{stderr}");
    assert!(
        stderr.contains("left out in 3 procedure(s) (certify, land, licence): used 0 working days"),
        "{stderr}"
    );
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let listed: Vec<&str> = s["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        listed
            .iter()
            .any(|a| a.starts_with("procedure.handoff_days")),
        "{listed:?}"
    );
    let notes = s["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("exactly 0")
                && n.as_str().unwrap().contains("handoff_days left out")),
        "{notes:?}"
    );
    // The shipped baseline states every influential field: no default is announced.
    let o = crate::motcua(&[
        "run",
        "--replications",
        "1",
        "--horizon-days",
        "20",
        "--out",
        d.join("base").to_str().unwrap(),
        "--no-report",
        "--quiet",
    ]);
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("default used"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn targets_error(text: &str) -> String {
    match motcua::experiment::calibrate::parse_targets(text) {
        Ok(_) => panic!("the probe was accepted:\n{text}"),
        Err(e) => e.join("\n"),
    }
}

#[test]
fn the_targets_reference_documents_exactly_the_fields_the_parser_accepts() {
    let r = &reference::TARGETS;
    let target = "[[target]]\nmetric = \"late_rate\"\nvalue = 0.04\ntolerance = 0.01\n";
    let param = "[[parameter]]\npath = \"procedure[*].deadline_days\"\nmin = 1\nmax = 2\n";
    check(
        r,
        "",
        targets_error(&format!("name = \"x\"\nzz = 1\n{target}{param}")),
        &[],
    );
    check(
        r,
        "target[].",
        targets_error(&format!("name = \"x\"\n{target}zz = 1\n{param}")),
        &[],
    );
    check(
        r,
        "parameter[].",
        targets_error(&format!("name = \"x\"\n{target}{param}zz = 1\n")),
        &[],
    );
}
