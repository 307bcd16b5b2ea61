//! The reform laws: every shipped reform moves its metrics the way policy and queueing theory say.
//!
//! Each law is a paired comparison with common random numbers (the base and
//! the reform replay the same replications), asserting a *sign* through the
//! paired 95% Student-t interval of the difference, never a point estimate:
//! "never raises" means the interval is not entirely above zero, "lowers"
//! means it is entirely below. The runs are short (90 tallied days of the
//! baseline province, 6 replications): the laws are directions, not pins.
//! No parameter is tuned to make a law pass; these are kept apart from the
//! calibration pins in `model.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use motcua::engine::Discipline;
use motcua::model::prepare::prepare;
use motcua::model::scopes::{Metrics, scopes};
use motcua::scenario::domain::{self, Scenario};
use motcua::stats::{Summary, t_quantile};

/// Replications per comparison.
const REPS: u64 = 6;
/// Tallied days per replication (after the scenario's warm-up).
const HORIZON: u32 = 90;

fn dir(name: &str) -> PathBuf {
    let d = crate::fresh_dir("laws", name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn shorten(mut sc: Scenario) -> Scenario {
    sc.horizon_days = HORIZON;
    sc
}

fn baseline() -> Scenario {
    shorten(domain::load(Path::new("scenarios/baseline.toml")).unwrap())
}

fn shipped(name: &str) -> Scenario {
    shorten(domain::load(&PathBuf::from(format!("scenarios/reforms/{name}.toml"))).unwrap())
}

/// A reform of the baseline written inline (`[[reform]]` entries, or top-level overrides first).
fn inline(name: &str, body: &str) -> Scenario {
    let d = dir(name);
    let file = d.join(format!("{name}.toml"));
    let base = std::fs::canonicalize("scenarios/baseline.toml").unwrap();
    std::fs::write(
        &file,
        format!("extends = {:?}\n{body}", base.display().to_string()),
    )
    .unwrap();
    shorten(domain::load(&file).unwrap())
}

/// The paired difference (reform − base) of a metric in a scope.
#[derive(Clone, Copy, Debug)]
struct Diff {
    base: f64,
    reform: f64,
    mean: f64,
    low: f64,
    high: f64,
}

/// Scope (`overall`, `tier:<t>`, `competent:<t>`, `holder:<t>`, `unit:<name>`,
/// `competent-unit:<name>`) → metric → paired difference.
type Paired = BTreeMap<String, BTreeMap<&'static str, Diff>>;

fn metrics_of(sc: &Scenario, r: u64) -> BTreeMap<String, Metrics> {
    let discipline = if sc.model.edf {
        Discipline::Edf
    } else {
        Discipline::Fifo
    };
    let p = prepare(sc, discipline).unwrap();
    let runs = p.replication(sc.seed, r).unwrap();
    let s = scopes(sc, &runs);
    let mut out = BTreeMap::new();
    out.insert("overall".to_string(), s.overall.metrics(1.0));
    for (t, x) in &s.tiers {
        out.insert(format!("tier:{}", t.name()), x.metrics(1.0));
        out.insert(format!("holder:{}", t.name()), x.holder_metrics(1.0));
    }
    for (t, x) in &s.competent_tiers {
        out.insert(format!("competent:{}", t.name()), x.metrics(1.0));
    }
    for (_, u, _, x) in &s.units {
        out.insert(format!("unit:{u}"), x.metrics(1.0));
    }
    for (_, u, _, x) in &s.competent_units {
        out.insert(format!("competent-unit:{u}"), x.metrics(1.0));
    }
    out
}

/// The baseline's replications, run once for every law.
fn baseline_runs() -> &'static [BTreeMap<String, Metrics>] {
    static RUNS: std::sync::OnceLock<Vec<BTreeMap<String, Metrics>>> = std::sync::OnceLock::new();
    RUNS.get_or_init(|| {
        let base = baseline();
        (0..REPS).map(|r| metrics_of(&base, r)).collect()
    })
}

/// Paired differences against the baseline (the common base of most laws).
fn against_baseline(reform: &Scenario) -> Paired {
    let f: Vec<_> = (0..REPS).map(|r| metrics_of(reform, r)).collect();
    differences(baseline_runs(), &f)
}

fn paired(base: &Scenario, reform: &Scenario) -> Paired {
    let b: Vec<_> = (0..REPS).map(|r| metrics_of(base, r)).collect();
    let f: Vec<_> = (0..REPS).map(|r| metrics_of(reform, r)).collect();
    differences(&b, &f)
}

fn differences(b: &[BTreeMap<String, Metrics>], f: &[BTreeMap<String, Metrics>]) -> Paired {
    let t = t_quantile(0.95, (REPS - 1) as f64);
    let mut out = Paired::new();
    for (scope, metrics) in &b[0] {
        if !f.iter().all(|x| x.contains_key(scope)) {
            continue;
        }
        for (k, (name, _)) in metrics.iter().enumerate() {
            let pairs: Vec<(f64, f64)> = (0..REPS as usize)
                .map(|r| (b[r][scope][k].1, f[r][scope][k].1))
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            if pairs.len() < 2 {
                continue;
            }
            let d: Vec<f64> = pairs.iter().map(|(x, y)| y - x).collect();
            let s = Summary::from_values(&d, 0.95);
            let half = t * s.sd / (d.len() as f64).sqrt();
            let mean_of = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
            out.entry(scope.clone()).or_default().insert(
                *name,
                Diff {
                    base: mean_of(pairs.iter().map(|p| p.0).collect()),
                    reform: mean_of(pairs.iter().map(|p| p.1).collect()),
                    mean: s.mean,
                    low: s.mean - half,
                    high: s.mean + half,
                },
            );
        }
    }
    out
}

fn get<'a>(p: &'a Paired, scope: &str, metric: &str) -> &'a Diff {
    p.get(scope)
        .and_then(|m| m.get(metric))
        .unwrap_or_else(|| panic!("no {metric} in scope {scope}"))
}

/// The metric does not rise: the paired interval is not entirely above zero.
fn never_raises(p: &Paired, scope: &str, metric: &str, what: &str) {
    let d = get(p, scope, metric);
    assert!(d.low <= 0.0, "{what}: {scope} {metric} rose: {d:?}");
}

/// The metric does not fall: the paired interval is not entirely below zero.
fn never_lowers(p: &Paired, scope: &str, metric: &str, what: &str) {
    let d = get(p, scope, metric);
    assert!(d.high >= 0.0, "{what}: {scope} {metric} fell: {d:?}");
}

/// The metric falls: the paired interval is entirely below zero.
fn lowers(p: &Paired, scope: &str, metric: &str, what: &str) {
    let d = get(p, scope, metric);
    assert!(d.high < 0.0, "{what}: {scope} {metric} did not fall: {d:?}");
}

const TIERS: [&str; 3] = ["province", "district", "commune"];

#[test]
fn more_staff_in_any_pool_never_raises_that_units_late_rate_or_counter_wait() {
    for pool in ["clerks", "specialists", "leaders"] {
        for unit in ["district-1", "commune-5", "province-1"] {
            let r = inline(
                &format!("plus-{pool}-{unit}"),
                &format!(
                    "[[reform]]\nkind = \"staffing\"\nunit = \"{unit}\"\npool = \"{pool}\"\nadd = 1\n"
                ),
            );
            let p = against_baseline(&r);
            let what = format!("one more {pool} at {unit}");
            // Turnaround is not a law: it runs from receipt, which faster
            // desks move earlier while the back office sets the completion.
            for scope in [format!("unit:{unit}"), format!("competent-unit:{unit}")] {
                never_raises(&p, &scope, "late_rate", &what);
                never_raises(&p, &scope, "late_rate_766", &what);
            }
            never_raises(&p, &format!("unit:{unit}"), "counter_wait_mean_min", &what);
        }
    }
    // The shipped reform: one more clerk in every commune centre.
    let p = against_baseline(&shipped("commune-staff-plus-one"));
    let what = "commune-staff-plus-one";
    for scope in [
        "tier:commune",
        "competent:commune",
        "holder:commune",
        "overall",
    ] {
        never_raises(&p, scope, "late_rate", what);
    }
    lowers(&p, "tier:commune", "counter_wait_mean_min", what);
    never_raises(&p, "overall", "counter_wait_mean_min", what);
}

#[test]
fn saturday_opening_never_raises_the_late_rate_and_lowers_the_counter_wait() {
    for (name, r) in [
        ("saturday-opening", shipped("saturday-opening")),
        (
            "saturday-opening with the back office",
            inline(
                "saturday-back-office",
                "[[reform]]\nkind = \"saturday_opening\"\nback_office = true\n",
            ),
        ),
    ] {
        let p = against_baseline(&r);
        never_raises(&p, "overall", "late_rate", name);
        never_raises(&p, "overall", "late_rate_766", name);
        for t in TIERS {
            never_raises(&p, &format!("tier:{t}"), "late_rate", name);
            never_raises(&p, &format!("holder:{t}"), "late_rate", name);
            never_raises(&p, &format!("tier:{t}"), "counter_wait_mean_min", name);
        }
        lowers(&p, "overall", "counter_wait_mean_min", name);
    }
}

#[test]
fn a_deadline_cut_never_lowers_the_late_rate_and_an_extension_never_raises_it() {
    let cut = against_baseline(&shipped("deadline-cut-30"));
    let longer = against_baseline(&inline(
        "deadline-plus-30",
        "[[reform]]\nkind = \"deadlines\"\nscale = 1.3\n",
    ));
    for scope in ["overall", "tier:province", "tier:district", "tier:commune"] {
        never_lowers(&cut, scope, "late_rate", "deadline-cut-30");
        never_lowers(&cut, scope, "late_rate_766", "deadline-cut-30");
        never_raises(&longer, scope, "late_rate", "deadlines × 1.3");
    }
    // The work is unchanged: so is the counter.
    let d = get(&cut, "overall", "counter_wait_mean_min");
    assert_eq!(d.mean, 0.0, "{d:?}");
}

#[test]
fn more_online_uptake_never_raises_the_counter_wait_when_staff_are_unchanged() {
    for (name, r) in [
        ("fee-waiver-online", shipped("fee-waiver-online")),
        (
            "online × 1.2, no upgrade",
            inline(
                "online-1.2",
                "[[reform]]\nkind = \"online_uptake\"\nscale = 1.2\n",
            ),
        ),
    ] {
        let p = against_baseline(&r);
        never_raises(&p, "overall", "counter_wait_mean_min", name);
        for t in TIERS {
            never_raises(&p, &format!("tier:{t}"), "counter_wait_mean_min", name);
        }
        // Uptake moves dossiers online: the online rate rises, the volume stays.
        let online = get(&p, "overall", "online_rate");
        assert!(online.low > 0.0, "{name}: {online:?}");
    }
    // Done-when of the model audit: at most half a minute more at the counter overall.
    let p = against_baseline(&shipped("fee-waiver-online"));
    assert!(get(&p, "overall", "counter_wait_mean_min").mean <= 0.5);
}

#[test]
fn data_reuse_never_raises_the_supplement_rate() {
    let p = against_baseline(&inline(
        "data-reuse",
        "[[reform]]\nkind = \"data_reuse\"\nincomplete_scale = 0.5\n",
    ));
    for scope in ["overall", "tier:province", "tier:district", "tier:commune"] {
        never_raises(&p, scope, "supplement_rate", "data reuse");
        never_raises(&p, scope, "second_request_rate", "data reuse");
    }
    lowers(&p, "overall", "supplement_rate", "data reuse");
}

#[test]
fn faster_lien_thong_transfers_never_raise_the_late_rate() {
    let p = against_baseline(&shipped("land-tax-linkage"));
    for scope in [
        "overall",
        "tier:commune",
        "competent:district",
        "holder:commune",
    ] {
        never_raises(&p, scope, "late_rate", "land-tax-linkage");
    }
}

/// Received dossiers in the window of one replication, summed over replications.
fn received(sc: &Scenario) -> f64 {
    (0..REPS)
        .map(|r| {
            metrics_of(sc, r)["overall"]
                .iter()
                .find(|(k, _)| *k == "received")
                .map_or(0.0, |x| x.1)
        })
        .sum()
}

#[test]
fn moving_procedures_between_tiers_conserves_the_total_volume() {
    let total = received(&baseline());
    for (name, r) in [
        (
            "decentralise-to-commune",
            shipped("decentralise-to-commune"),
        ),
        (
            "abolish_district",
            inline(
                "abolish",
                "[[reform]]\nkind = \"abolish_district\"\ndefault = \"commune\"\n",
            ),
        ),
    ] {
        // The same yearly volume per source: the same arrival stream, to rounding.
        let moved = received(&r);
        assert!(
            (moved / total - 1.0).abs() < 1e-3,
            "{name}: {moved} received against {total}"
        );
    }
    // The shipped two-tier reform adds its transition backlog (5,000 dossiers
    // on its first day) and nothing else; its base starts on the same date.
    let base_2025 = shorten(domain::load(Path::new("scenarios/baseline-2025.toml")).unwrap());
    let per_rep = (received(&shipped("two-tier-2025")) - received(&base_2025)) / REPS as f64;
    let sd = (5000.0f64 / REPS as f64).sqrt();
    assert!(
        (per_rep - 5000.0).abs() < 4.0 * sd + 5.0,
        "two-tier-2025 adds {per_rep} dossiers per replication, not its 5,000 backlog"
    );
}

#[test]
fn the_identity_reform_changes_nothing() {
    let p = paired(&baseline(), &shipped("identity"));
    for (scope, metrics) in &p {
        for (metric, d) in metrics {
            assert_eq!(d.mean, 0.0, "{scope} {metric}: {d:?}");
            assert_eq!(d.base.to_bits(), d.reform.to_bits(), "{scope} {metric}");
        }
    }
}

#[test]
fn every_shipped_reform_is_checked_by_a_law() {
    // A new reform file needs a law above (or a reason here why none applies).
    let covered = [
        "commune-staff-plus-one",
        "deadline-cut-30",
        "decentralise-to-commune",
        "fee-waiver-online",
        "identity",
        "land-tax-linkage",
        "saturday-opening",
        "two-tier-2025",
    ];
    let mut shipped: Vec<String> = std::fs::read_dir("scenarios/reforms")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    shipped.sort();
    assert_eq!(shipped, covered);
}
