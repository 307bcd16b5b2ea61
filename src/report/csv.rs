//! Every CSV file, written with the `csv` crate (quoted where needed) in one schema: long files with a value per replication, summary files with n, mean and interval; both share the same keys.
//!
//! Long: `scenario, scenario_hash, seed, replication, province, tier, unit,
//! basis, procedure, channel, period, metric, value, unit_of_measure`.
//! Summary: the same without `replication`, and `n, mean, ci_low, ci_high`
//! in place of `value`. A dimension that does not apply is blank; a value
//! that is not defined (a rate with nothing to count) is left out, never
//! written empty. `SCHEMA.md` describes every file, column and metric.

use std::io::Write;

use crate::experiment::compare::Comparison;
use crate::experiment::run::Estimate;
use crate::experiment::tables::{Key, Rows};
use crate::model::metrics;

/// The columns of a long file.
pub const LONG: [&str; 14] = [
    "scenario",
    "scenario_hash",
    "seed",
    "replication",
    "province",
    "tier",
    "unit",
    "basis",
    "procedure",
    "channel",
    "period",
    "metric",
    "value",
    "unit_of_measure",
];

/// The columns of a summary file.
pub const SUMMARY: [&str; 16] = [
    "scenario",
    "scenario_hash",
    "seed",
    "province",
    "tier",
    "unit",
    "basis",
    "procedure",
    "channel",
    "period",
    "metric",
    "n",
    "mean",
    "ci_low",
    "ci_high",
    "unit_of_measure",
];

/// The columns of `comparison.csv`.
pub const COMPARISON: [&str; 21] = [
    "scenario",
    "scenario_hash",
    "base",
    "base_hash",
    "seed",
    "province",
    "tier",
    "unit",
    "basis",
    "procedure",
    "channel",
    "period",
    "metric",
    "n",
    "base_mean",
    "reform_mean",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "unpaired_half_width",
    "unit_of_measure",
];

/// Who wrote the rows: the first columns of every row.
#[derive(Clone, Debug)]
pub struct Ident {
    /// Scenario name (for a sweep point, `<sweep>/point-<i>`).
    pub scenario: String,
    /// Scenario fingerprint, 16 hex digits.
    pub scenario_hash: String,
    /// Master seed.
    pub seed: u64,
}

/// A number as the files write it: the shortest exact form, blank when not finite.
pub fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

fn unit_of(metric: &str) -> &'static str {
    metrics::lookup(metric).map_or("", |m| m.unit)
}

fn key_fields(k: &Key) -> [&str; 7] {
    [
        &k.province,
        k.tier,
        &k.unit,
        k.basis,
        &k.procedure,
        k.channel,
        &k.period,
    ]
}

fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// A CSV writer with the long header written.
pub fn long_writer<W: Write>(w: W) -> std::io::Result<csv::Writer<W>> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record(LONG).map_err(csv_io)?;
    Ok(c)
}

/// Writes one replication's rows in the long shape (non-finite values left out).
pub fn write_long_rows<W: Write>(
    c: &mut csv::Writer<W>,
    id: &Ident,
    replication: u64,
    rows: &Rows,
) -> std::io::Result<()> {
    let (seed, rep) = (id.seed.to_string(), replication.to_string());
    for (key, metrics) in rows {
        let k = key_fields(key);
        for (metric, value) in metrics {
            if !value.is_finite() {
                continue;
            }
            c.write_record([
                id.scenario.as_str(),
                &id.scenario_hash,
                &seed,
                &rep,
                k[0],
                k[1],
                k[2],
                k[3],
                k[4],
                k[5],
                k[6],
                metric,
                &num(*value),
                unit_of(metric),
            ])
            .map_err(csv_io)?;
        }
    }
    Ok(())
}

/// Writes a long file: every replication's rows.
pub fn write_long(w: &mut dyn Write, id: &Ident, per_rep: &[Rows]) -> std::io::Result<()> {
    let mut c = long_writer(w)?;
    for (r, rows) in per_rep.iter().enumerate() {
        write_long_rows(&mut c, id, r as u64, rows)?;
    }
    c.flush()
}

/// A CSV writer with the summary header written.
pub fn summary_writer<W: Write>(w: W) -> std::io::Result<csv::Writer<W>> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record(SUMMARY).map_err(csv_io)?;
    Ok(c)
}

/// Writes summarised rows (metrics with no finite value left out).
pub fn write_summary_rows<W: Write>(
    c: &mut csv::Writer<W>,
    id: &Ident,
    rows: &[(Key, Vec<(&'static str, Estimate)>)],
) -> std::io::Result<()> {
    let seed = id.seed.to_string();
    for (key, metrics) in rows {
        let k = key_fields(key);
        for (metric, e) in metrics {
            if e.n == 0 || !e.mean.is_finite() {
                continue;
            }
            c.write_record([
                id.scenario.as_str(),
                &id.scenario_hash,
                &seed,
                k[0],
                k[1],
                k[2],
                k[3],
                k[4],
                k[5],
                k[6],
                metric,
                &e.n.to_string(),
                &num(e.mean),
                &num(e.ci_low),
                &num(e.ci_high),
                unit_of(metric),
            ])
            .map_err(csv_io)?;
        }
    }
    Ok(())
}

/// Writes a summary file.
pub fn write_summary(
    w: &mut dyn Write,
    id: &Ident,
    rows: &[(Key, Vec<(&'static str, Estimate)>)],
) -> std::io::Result<()> {
    let mut c = summary_writer(w)?;
    write_summary_rows(&mut c, id, rows)?;
    c.flush()
}

/// Writes `comparison.csv`: one row per reform, scope, period and metric.
pub fn write_comparison(w: &mut dyn Write, c: &Comparison) -> std::io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(COMPARISON).map_err(csv_io)?;
    let seed = c.seed.to_string();
    for r in &c.reforms {
        for row in &r.rows {
            let k = key_fields(&row.key);
            let d = &row.difference;
            out.write_record([
                r.reform.as_str(),
                &r.reform_hash,
                &c.base,
                &c.base_hash,
                &seed,
                k[0],
                k[1],
                k[2],
                k[3],
                k[4],
                k[5],
                k[6],
                row.metric,
                &d.n.to_string(),
                &num(d.base),
                &num(d.reform),
                &num(d.diff),
                &num(d.ci_low),
                &num(d.ci_high),
                &num(d.unpaired_half_width),
                unit_of(row.metric),
            ])
            .map_err(csv_io)?;
        }
    }
    out.flush()
}

/// Rows of a serializable record type as CSV bytes, with a header row from
/// the field names (the `size` and `calibrate` tables).
pub fn records<T: serde::Serialize>(rows: &[T]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(std::io::Error::other)?;
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}
