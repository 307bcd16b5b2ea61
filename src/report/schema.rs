//! The data dictionary: every output file, its columns, and every metric with its unit, range and definition (`motcua schema`, and `SCHEMA.md` beside every output).

use crate::model::metrics::{METRICS, Range};

/// The files of the output folders, with what each holds.
pub const FILES: &[(&str, &str)] = &[
    (
        "summary.json",
        "run: the scenario, its hash, seed and replications; each metric overall and per tier (by receiving, competent and holder tier) as {n, mean, ci_low, ci_high}; the index scores overall, per tier, province and month; overload warnings; `assumptions` (influential defaults the scenario left out and the values used) and `notes` (a tier whose late rate is exactly 0 or 1, with the likely reason); counting rule and units",
    ),
    (
        "metrics.csv",
        "run, long: each replication's metrics overall, per tier and unit on the three bases, per procedure and tier × channel (period `year`), and overall and per tier per calendar month (period `YYYY-MM`)",
    ),
    (
        "metrics_summary.csv",
        "run, summary of metrics.csv across replications",
    ),
    (
        "index.csv",
        "run, long: each replication's 766 total and groups, PAR share, satisfaction and complaint rate, overall, per province, tier and unit, for the year and each month",
    ),
    (
        "index_summary.csv",
        "run, summary of index.csv across replications",
    ),
    (
        "timeseries.csv",
        "run, long: each replication's daily backlog, arrivals, completions and late completions, overall and per receiving tier (period `YYYY-MM-DD`; the warm-up is excluded)",
    ),
    (
        "timeseries_summary.csv",
        "run, summary of timeseries.csv across replications",
    ),
    (
        "comparison.json",
        "compare: for each reform, every compared metric overall and per tier (three bases), for the year and each month, with the paired 95% interval of the difference; overload warnings",
    ),
    (
        "comparison.csv",
        "compare: the same as comparison.json, one row per reform, scope, period and metric",
    ),
    (
        "results.csv",
        "sweep, long: each point's and replication's metrics and index figures overall and per tier for the year; `scenario` is `<sweep>/point-<i>`",
    ),
    (
        "summary.csv",
        "sweep, summary of results.csv across each point's replications",
    ),
    (
        "points.csv",
        "sweep: each point's scenario name, hash, seed and axis values (join on `scenario`)",
    ),
    (
        "staffing.toml",
        "size: the recommendation as a reform overlay extending the sized scenario (`staffing` reforms with `set`), ready for `run` and `compare`; for a network file, the file with the servers found",
    ),
    (
        "size.csv",
        "size: per unit and pool, the offered load, the staff given, the square-root start, the recommendation, its change, the cap, the utilisation at the recommendation, and the target that breaks with one person fewer (with how many other removals were made at once: 0 = alone)",
    ),
    (
        "targets.csv",
        "size: every target at every scope it is checked on, at the recommendation: replications, mean, two-sided interval and the one-sided bound at the stated confidence, whether it is met, whether it binds, and why a missed target cannot be met",
    ),
    (
        "size.json",
        "size: the targets, the verdict, totals per tier and pool, staff cost, binding targets, the evaluations and replications spent against a plain grid over the same space, size.csv and targets.csv rows, and the search log",
    ),
    (
        "calibrated.toml",
        "calibrate: the fit as an overlay extending the calibrated scenario (`[[edit]]` entries), ready for `run` and `compare`",
    ),
    (
        "fit.csv",
        "calibrate: each target at the fitted point: metric, scope, reported value, tolerance, replications, simulated mean, 95% interval, and whether the mean is within the tolerance",
    ),
    (
        "ranges.csv",
        "calibrate: each free parameter's bounds, the range its values take among the points no target rules out (implausibility ≤ 3), the fitted value, and the share of the bounds left (small: the figures pin it down)",
    ),
    (
        "calibration.json",
        "calibrate: the targets file, the seed, the waves (points, points within every tolerance, share not ruled out, seconds), every simulated point, the fit, the ranges, and the targets that cannot be met or conflict",
    ),
    (
        "report.html",
        "one self-contained page of charts and tables (inline SVG, no script, no network)",
    ),
    (
        "manifest.json",
        "written last: the command, scenario, scenario hash, seed, replications and each file's size and FNV-1a checksum; a folder without it is not a complete set",
    ),
    ("SCHEMA.md", "this data dictionary"),
];

/// The columns of the long and summary shapes, with their meaning.
pub const COLUMNS: &[(&str, &str)] = &[
    (
        "scenario",
        "scenario name (the reform's, in comparison.csv; `<sweep>/point-<i>` in sweep files)",
    ),
    (
        "scenario_hash",
        "fingerprint of the scenario's files as merged, 16 hex digits",
    ),
    (
        "seed",
        "master seed of the run (of the point, in sweep files)",
    ),
    (
        "replication",
        "replication number, from 0 (long files only)",
    ),
    ("province", "province name (province and unit rows)"),
    ("tier", "`province`, `district` or `commune`"),
    ("unit", "unit name, unique within its province (unit rows)"),
    (
        "basis",
        "for tier and unit rows: `receiving` (the desk that received the dossier), `competent` (the unit that resolves it) or `holder` (lateness charged to the unit holding the dossier when its deadline passed)",
    ),
    ("procedure", "procedure id (procedure rows)"),
    (
        "channel",
        "`in_person`, `postal`, `online_partial` or `online_full` (channel rows)",
    ),
    (
        "period",
        "`year` for the tallied window, `YYYY-MM` for a calendar month (the first and last may be partial), `YYYY-MM-DD` for a day",
    ),
    ("metric", "metric name (see the metrics below)"),
    (
        "value",
        "the metric's value in that replication (long files; rows with no defined value are left out)",
    ),
    ("n", "replications with a value (summary files)"),
    ("mean", "mean across replications (summary files)"),
    (
        "ci_low, ci_high",
        "95% Student-t interval across replications, clipped to the metric's range; blank with one replication",
    ),
    ("unit_of_measure", "the metric's unit"),
];

fn range_text(r: Range) -> String {
    match r {
        Range::Fraction => "0–1".into(),
        Range::NonNegative => "≥ 0".into(),
        Range::Between(a, b) => format!("{a}–{b}"),
    }
}

/// The data dictionary as Markdown.
pub fn markdown() -> String {
    let mut s = String::from(
        "# motcua output schema\n\nEvery long-format file shares one schema: `scenario, scenario_hash, seed, replication, province, tier, unit, basis, procedure, channel, period, metric, value, unit_of_measure`. Summary files have the same keys without `replication`, and `n, mean, ci_low, ci_high` in place of `value`. A dimension that does not apply is blank. `comparison.csv` has the keys of the reform, the base's name and hash, and `n, base_mean, reform_mean, diff, diff_ci_low, diff_ci_high, unpaired_half_width`.\n\n## Files\n\n| file | holds |\n|---|---|\n",
    );
    for (f, d) in FILES {
        s.push_str(&format!("| `{f}` | {d} |\n"));
    }
    s.push_str("\n## Columns\n\n| column | meaning |\n|---|---|\n");
    for (c, d) in COLUMNS {
        s.push_str(&format!("| `{c}` | {d} |\n"));
    }
    s.push_str("\n## Metrics\n\n| metric | unit | range | definition |\n|---|---|---|---|\n");
    for m in METRICS {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            m.name,
            m.unit,
            range_text(m.range),
            m.definition
        ));
    }
    s
}

/// An input format's reference as Markdown (`motcua schema scenario`, `docs/<name>.md`).
pub fn reference_markdown(r: &crate::scenario::reference::Reference) -> String {
    use std::fmt::Write as _;
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {}\n\n<!-- Generated by `motcua schema {}`; do not edit: a test fails when it is out of date. -->\n\n{}\n",
        r.title, r.name, r.intro
    );
    for s in r.sections {
        let _ = writeln!(out, "## {}\n", s.title);
        if !s.note.is_empty() {
            let _ = writeln!(out, "{}\n", s.note);
        }
        if !s.example.is_empty() {
            let _ = writeln!(out, "```toml\n{}\n```\n", s.example);
        }
        if s.fields.is_empty() {
            continue;
        }
        out.push_str(
            "| path | type | unit | default | allowed | meaning |\n|---|---|---|---|---|---|\n",
        );
        for f in s.fields {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} |",
                f.path,
                cell(f.ty),
                cell(f.unit),
                cell(f.default),
                cell(f.range),
                cell(f.meaning)
            );
        }
        out.push('\n');
    }
    out
}
