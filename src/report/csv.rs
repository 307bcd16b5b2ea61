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
use crate::model::scopes::Metrics;

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

/// Appends `field` as the `csv` crate writes it in a record of several
/// fields: as it is, or quoted (with inner quotes doubled) when it holds a
/// delimiter, a quote or a line break. The crate itself quotes the rare
/// field that needs it, so the rule is the crate's.
fn push_field(out: &mut Vec<u8>, field: &str) -> std::io::Result<()> {
    if !field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.extend_from_slice(field.as_bytes());
        return Ok(());
    }
    // A record of this one field (its closing quote is written with the
    // record's end), without the line break.
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([field]).map_err(csv_io)?;
    let line = w.into_inner().map_err(|e| e.into_error())?;
    out.extend_from_slice(line.strip_suffix(b"\n").unwrap_or(&line));
    Ok(())
}

/// Appends fields, each followed by a comma.
fn push_fields<'a>(
    out: &mut Vec<u8>,
    fields: impl IntoIterator<Item = &'a str>,
) -> std::io::Result<()> {
    for f in fields {
        push_field(out, f)?;
        out.push(b',');
    }
    Ok(())
}

/// Appends a number as [`num`] writes it (without the `String`).
fn push_num(out: &mut Vec<u8>, x: f64) {
    if x.is_finite() {
        // Writing into a `Vec` cannot fail.
        let _ = write!(out, "{x}");
    }
}

/// Keys whose rows are gathered before they are handed to the file's
/// writer (a few tens of kilobytes).
const KEYS_PER_WRITE: usize = 256;
/// Bytes of `comparison.csv` rows (one key each) gathered before they are
/// handed to the file's writer.
const BYTES_PER_WRITE: usize = 1 << 16;

/// A header line of `columns`.
fn header(columns: &[&str]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_field(&mut out, c)?;
    }
    out.push(b'\n');
    Ok(out)
}

/// Appends one replication's rows in the long shape (non-finite values
/// left out) to `out`, as the `csv` crate would write them: the fields a
/// key's rows share are escaped once per key, not once per row.
pub fn write_long_rows(
    out: &mut Vec<u8>,
    id: &Ident,
    replication: u64,
    rows: &[(Key, Metrics)],
) -> std::io::Result<()> {
    let mut shared = Vec::new();
    push_fields(&mut shared, [id.scenario.as_str(), &id.scenario_hash])?;
    let _ = write!(shared, "{},{replication},", id.seed);
    let at = shared.len();
    for (key, metrics) in rows {
        shared.truncate(at);
        push_fields(&mut shared, key_fields(key))?;
        for (metric, value) in metrics {
            if !value.is_finite() {
                continue;
            }
            out.extend_from_slice(&shared);
            push_field(out, metric)?;
            out.push(b',');
            push_num(out, *value);
            out.push(b',');
            push_field(out, unit_of(metric))?;
            out.push(b'\n');
        }
    }
    Ok(())
}

/// Writes a long file: every replication's rows.
pub fn write_long(w: &mut dyn Write, id: &Ident, per_rep: &[Rows]) -> std::io::Result<()> {
    w.write_all(&header(&LONG)?)?;
    let mut buf = Vec::new();
    for (r, rows) in per_rep.iter().enumerate() {
        for keys in rows.chunks(KEYS_PER_WRITE) {
            write_long_rows(&mut buf, id, r as u64, keys)?;
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.flush()
}

/// Appends summarised rows (metrics with no finite value left out) to
/// `out`, as the `csv` crate would write them.
pub fn write_summary_rows(
    out: &mut Vec<u8>,
    id: &Ident,
    rows: &[(Key, Vec<(&'static str, Estimate)>)],
) -> std::io::Result<()> {
    let mut shared = Vec::new();
    push_fields(&mut shared, [id.scenario.as_str(), &id.scenario_hash])?;
    let _ = write!(shared, "{},", id.seed);
    let at = shared.len();
    for (key, metrics) in rows {
        shared.truncate(at);
        push_fields(&mut shared, key_fields(key))?;
        for (metric, e) in metrics {
            if e.n == 0 || !e.mean.is_finite() {
                continue;
            }
            out.extend_from_slice(&shared);
            push_field(out, metric)?;
            let _ = write!(out, ",{},", e.n);
            push_num(out, e.mean);
            out.push(b',');
            push_num(out, e.ci_low);
            out.push(b',');
            push_num(out, e.ci_high);
            out.push(b',');
            push_field(out, unit_of(metric))?;
            out.push(b'\n');
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
    w.write_all(&header(&SUMMARY)?)?;
    let mut buf = Vec::new();
    for keys in rows.chunks(KEYS_PER_WRITE) {
        write_summary_rows(&mut buf, id, keys)?;
        w.write_all(&buf)?;
        buf.clear();
    }
    w.flush()
}

/// Writes `comparison.csv`: one row per reform, scope, period and metric
/// (assembled as the long and summary rows are).
pub fn write_comparison(w: &mut dyn Write, c: &Comparison) -> std::io::Result<()> {
    w.write_all(&header(&COMPARISON)?)?;
    let (mut buf, mut shared) = (Vec::new(), Vec::new());
    for r in &c.reforms {
        shared.clear();
        push_fields(
            &mut shared,
            [r.reform.as_str(), &r.reform_hash, &c.base, &c.base_hash],
        )?;
        let _ = write!(shared, "{},", c.seed);
        let at = shared.len();
        let mut last = None;
        for row in &r.rows {
            if last != Some(&row.key) {
                shared.truncate(at);
                push_fields(&mut shared, key_fields(&row.key))?;
                last = Some(&row.key);
            }
            let d = &row.difference;
            buf.extend_from_slice(&shared);
            push_field(&mut buf, row.metric)?;
            let _ = write!(buf, ",{},", d.n);
            for x in [d.base, d.reform, d.diff, d.ci_low, d.ci_high] {
                push_num(&mut buf, x);
                buf.push(b',');
            }
            push_num(&mut buf, d.unpaired_half_width);
            buf.push(b',');
            push_field(&mut buf, unit_of(row.metric))?;
            buf.push(b'\n');
            if buf.len() >= BYTES_PER_WRITE {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    w.write_all(&buf)?;
    w.flush()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts the crate quotes and texts it leaves alone.
    const HOSTILE: [&str; 10] = [
        "",
        "plain",
        "a,b",
        "say \"hi\"",
        "two\nlines",
        "cr\rlf",
        "\"",
        "# not a comment",
        "  spaced  ",
        "Hà Nội, xã Đông",
    ];

    fn key(i: usize) -> Key {
        let h = |k: usize| HOSTILE[(i + k) % HOSTILE.len()].to_string();
        Key {
            province: h(0),
            tier: "district",
            unit: h(3),
            basis: "receiving",
            procedure: h(5),
            channel: "online_full",
            period: h(7),
        }
    }

    fn ident(i: usize) -> Ident {
        Ident {
            scenario: HOSTILE[i % HOSTILE.len()].to_string(),
            scenario_hash: "0123456789abcdef".into(),
            seed: 42 + i as u64,
        }
    }

    const VALUES: [f64; 7] = [
        0.0417,
        -3.5,
        1e-300,
        12345678.9,
        f64::NAN,
        7.0,
        f64::INFINITY,
    ];

    /// One record the old way, through `csv::Writer::write_record`: the
    /// fields before the key, the key's seven columns, the fields after.
    fn by_the_crate_record(
        c: &mut csv::Writer<Vec<u8>>,
        before: &[&str],
        key: &Key,
        after: &[&str],
    ) {
        let fields = before
            .iter()
            .copied()
            .chain(key_fields(key))
            .chain(after.iter().copied());
        c.write_record(fields).unwrap();
    }

    /// The old way: every field through `csv::Writer::write_record`.
    fn by_the_crate_long(id: &Ident, per_rep: &[Rows]) -> Vec<u8> {
        let mut c = csv::Writer::from_writer(Vec::new());
        c.write_record(LONG).unwrap();
        for (r, rows) in per_rep.iter().enumerate() {
            for (k, metrics) in rows {
                for (metric, value) in metrics.iter().filter(|(_, v)| v.is_finite()) {
                    by_the_crate_record(
                        &mut c,
                        &[
                            &id.scenario,
                            &id.scenario_hash,
                            &id.seed.to_string(),
                            &r.to_string(),
                        ],
                        k,
                        &[metric, &num(*value), unit_of(metric)],
                    );
                }
            }
        }
        c.into_inner().unwrap()
    }

    #[test]
    fn long_rows_are_byte_for_byte_what_the_csv_crate_writes() {
        for i in 0..HOSTILE.len() {
            let id = ident(i);
            let per_rep: Vec<Rows> = (0..3)
                .map(|r| {
                    (0..700)
                        .map(|k| {
                            let metrics = ["late_rate", "received", "turnaround_mean_days"]
                                .iter()
                                .enumerate()
                                .map(|(m, name)| (*name, VALUES[(k + m + r) % VALUES.len()]))
                                .collect();
                            (key(i + k), metrics)
                        })
                        .collect()
                })
                .collect();
            let mut ours = Vec::new();
            write_long(&mut ours, &id, &per_rep).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&by_the_crate_long(&id, &per_rep))
            );
        }
    }

    #[test]
    fn summary_rows_are_byte_for_byte_what_the_csv_crate_writes() {
        for i in 0..HOSTILE.len() {
            let id = ident(i);
            let rows: Vec<(Key, Vec<(&'static str, Estimate)>)> = (0..600)
                .map(|k| {
                    let e = |m: usize| Estimate {
                        n: (k + m) % 4,
                        mean: VALUES[(k + m) % VALUES.len()],
                        ci_low: VALUES[(k + m + 1) % VALUES.len()],
                        ci_high: VALUES[(k + m + 2) % VALUES.len()],
                    };
                    (key(i + k), vec![("late_rate", e(0)), ("received", e(1))])
                })
                .collect();
            let mut ours = Vec::new();
            write_summary(&mut ours, &id, &rows).unwrap();
            let mut c = csv::Writer::from_writer(Vec::new());
            c.write_record(SUMMARY).unwrap();
            for (k, metrics) in &rows {
                for (metric, e) in metrics {
                    if e.n == 0 || !e.mean.is_finite() {
                        continue;
                    }
                    by_the_crate_record(
                        &mut c,
                        &[&id.scenario, &id.scenario_hash, &id.seed.to_string()],
                        k,
                        &[
                            metric,
                            &e.n.to_string(),
                            &num(e.mean),
                            &num(e.ci_low),
                            &num(e.ci_high),
                            unit_of(metric),
                        ],
                    );
                }
            }
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&c.into_inner().unwrap())
            );
        }
    }

    #[test]
    fn comparison_rows_are_byte_for_byte_what_the_csv_crate_writes() {
        use crate::experiment::compare::{Difference, ReformComparison, Row};
        let reforms = (0..HOSTILE.len())
            .map(|i| ReformComparison {
                reform: HOSTILE[i].to_string(),
                reform_hash: format!("{i:016x}"),
                rows: (0..200)
                    .map(|k| {
                        let v = |m: usize| VALUES[(k + m) % VALUES.len()];
                        Row {
                            // Two metrics a key, as the comparison lists them.
                            key: key(i + k / 2),
                            metric: ["late_rate", "received"][k % 2],
                            difference: Difference {
                                n: k % 11,
                                base: v(0),
                                reform: v(1),
                                diff: v(2),
                                ci_low: v(3),
                                ci_high: v(4),
                                unpaired_half_width: v(5),
                                base_half_width: v(6),
                                reform_half_width: v(0),
                            },
                        }
                    })
                    .collect(),
            })
            .collect();
        let c = Comparison {
            base: "base, \"quoted\"".into(),
            base_hash: "fedcba9876543210".into(),
            scopes: "all",
            warnings: Vec::new(),
            seed: 11,
            replications: 3,
            reforms,
        };
        let mut ours = Vec::new();
        write_comparison(&mut ours, &c).unwrap();
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(COMPARISON).unwrap();
        for r in &c.reforms {
            for row in &r.rows {
                let d = &row.difference;
                by_the_crate_record(
                    &mut out,
                    &[
                        &r.reform,
                        &r.reform_hash,
                        &c.base,
                        &c.base_hash,
                        &c.seed.to_string(),
                    ],
                    &row.key,
                    &[
                        row.metric,
                        &d.n.to_string(),
                        &num(d.base),
                        &num(d.reform),
                        &num(d.diff),
                        &num(d.ci_low),
                        &num(d.ci_high),
                        &num(d.unpaired_half_width),
                        unit_of(row.metric),
                    ],
                );
            }
        }
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&out.into_inner().unwrap())
        );
    }
}
