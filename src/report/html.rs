//! `report.html`: one self-contained page of charts (inline SVG) and tables, built from the files of a run, comparison or sweep folder.
//!
//! The page is made from the folder's own files (`summary.json` and the
//! summary CSVs, `comparison.json`, a sweep's `summary.csv` and
//! `points.csv`), so its numbers are the files' numbers. No script, no
//! external resource: it opens offline and prints to PDF. The key figures
//! carry their exact values in `data-value` attributes, for tests.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use super::ReportError;
use super::svg::{self, Point, Series, esc, tier_colour};

/// A row of a summary CSV.
#[derive(Clone, Debug)]
pub struct SummaryRow {
    /// Province.
    pub province: String,
    /// Tier.
    pub tier: String,
    /// Unit.
    pub unit: String,
    /// Basis.
    pub basis: String,
    /// Procedure.
    pub procedure: String,
    /// Channel.
    pub channel: String,
    /// Period.
    pub period: String,
    /// Metric.
    pub metric: String,
    /// Replications.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Lower 95% bound (none with one replication).
    pub ci_low: Option<f64>,
    /// Upper 95% bound.
    pub ci_high: Option<f64>,
}

impl SummaryRow {
    fn point(&self) -> Point {
        Point {
            mean: self.mean,
            lo: self.ci_low.unwrap_or(f64::NAN),
            hi: self.ci_high.unwrap_or(f64::NAN),
        }
    }
}

fn io(path: &Path) -> impl Fn(String) -> ReportError + '_ {
    move |e| ReportError::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(e),
    }
}

/// Largest output file the report reads, bytes (the nation's largest summary is about 140 MB).
const MAX_OUTPUT_BYTES: u64 = 1 << 30;

/// Reads one of motcua's own output files: a regular file of at most [`MAX_OUTPUT_BYTES`].
fn read_output(path: &Path) -> Result<String, ReportError> {
    let meta = std::fs::metadata(path).map_err(|source| ReportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    if !meta.is_file() || meta.len() > MAX_OUTPUT_BYTES {
        return Err(io(path)(format!(
            "not a regular file of at most {} MiB",
            MAX_OUTPUT_BYTES >> 20
        )));
    }
    std::fs::read_to_string(path).map_err(|source| ReportError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Reads a summary CSV (the summary shape, or a sweep's `summary.csv`):
/// the columns are found by name in the header (others are ignored), and
/// each record is read into one reused buffer, its fields taken by
/// position (a fifth fewer instructions than deserialising each record by
/// name).
pub fn read_summary(path: &Path) -> Result<Vec<SummaryRow>, ReportError> {
    let text = read_output(path)?;
    let bad = |e: String| io(path)(format!("not a summary table: {e}"));
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("missing field `{name}`")))
    };
    // The summary shape's columns from `province` to `ci_high`.
    let names = &super::csv::SUMMARY[3..15];
    let mut at = [0; 12];
    for (a, name) in at.iter_mut().zip(names) {
        *a = col(name)?;
    }
    let mut rec = csv::StringRecord::new();
    let mut rows = Vec::new();
    while r.read_record(&mut rec).map_err(|e| bad(e.to_string()))? {
        let line = rec.position().map_or(0, csv::Position::line);
        let field = |k: usize| rec.get(at[k]).unwrap_or_default();
        let number = |k: usize| -> Result<Option<f64>, ReportError> {
            let v = field(k);
            if v.is_empty() {
                return Ok(None);
            }
            v.parse()
                .map(Some)
                .map_err(|e| bad(format!("line {line}, field `{}`: {e}: {v:?}", names[k])))
        };
        rows.push(SummaryRow {
            province: field(0).to_string(),
            tier: field(1).to_string(),
            unit: field(2).to_string(),
            basis: field(3).to_string(),
            procedure: field(4).to_string(),
            channel: field(5).to_string(),
            period: field(6).to_string(),
            metric: field(7).to_string(),
            n: field(8)
                .parse()
                .map_err(|e| bad(format!("line {line}, field `n`: {e}: {:?}", field(8))))?,
            mean: number(9)?.ok_or_else(|| bad(format!("line {line}, field `mean`: empty")))?,
            ci_low: number(10)?,
            ci_high: number(11)?,
        });
    }
    Ok(rows)
}

fn read_json(path: &Path) -> Result<serde_json::Value, ReportError> {
    let text = read_output(path)?;
    serde_json::from_str(&text).map_err(|e| io(path)(format!("not valid JSON: {e}")))
}

const STYLE: &str = r#"
body { font-family: 'Noto Sans', 'DejaVu Sans', Arial, sans-serif; margin: 0 auto; max-width: 800px; padding: 16px; color: #111; }
h1 { font-size: 24px; margin: 8px 0; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
.meta { color: #444; font-size: 13px; } .figures { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.figure { border: 1px solid #ccc; border-radius: 6px; padding: 8px 12px; min-width: 140px; }
.figure .v { font-size: 22px; font-weight: 600; } .figure .l { font-size: 12px; color: #555; }
table.numbers { border-collapse: collapse; font-size: 12px; margin: 6px 0 18px; }
table.numbers th, table.numbers td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
table.numbers th:first-child, table.numbers td:first-child { text-align: left; }
.warn { color: #8a3b00; } .note { font-size: 12px; color: #555; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 8px 0; }
@media print { h2 { break-after: avoid; } svg.chart, table.numbers { break-inside: avoid; } }
"#;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"generator\" content=\"motcua {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n<footer class=\"note\">Made by motcua {} from the files of this folder. Intervals are 95% Student-t intervals across replications.</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(title),
        env!("CARGO_PKG_VERSION")
    )
}

/// A table of rows of cells (the first column left-aligned).
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table class=\"numbers\"><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// `mean [lo, hi]` in a scale and decimals (no interval with one replication).
fn ci(p: &Point, scale: f64, d: usize) -> String {
    if !p.mean.is_finite() {
        return "–".into();
    }
    if p.lo.is_finite() && p.hi.is_finite() {
        format!(
            "{:.d$} [{:.d$}, {:.d$}]",
            p.mean * scale,
            p.lo * scale,
            p.hi * scale
        )
    } else {
        format!("{:.d$}", p.mean * scale)
    }
}

fn est(v: &serde_json::Value) -> Option<Point> {
    let mean = v.get("mean")?.as_f64()?;
    Some(Point {
        mean,
        lo: v.get("ci_low").and_then(|x| x.as_f64()).unwrap_or(f64::NAN),
        hi: v
            .get("ci_high")
            .and_then(|x| x.as_f64())
            .unwrap_or(f64::NAN),
    })
}

fn figure(
    id: &str,
    label: &str,
    v: &serde_json::Value,
    scale: f64,
    unit: &str,
    d: usize,
) -> String {
    let Some(p) = est(v) else {
        return String::new();
    };
    format!(
        "<div class=\"figure\"><div class=\"v\" id=\"{id}\" data-value=\"{}\">{:.d$}{unit}</div><div class=\"l\">{}<br>95% CI {}</div></div>\n",
        p.mean,
        p.mean * scale,
        esc(label),
        if p.lo.is_finite() {
            ci(&p, scale, d)
        } else {
            "none (one replication)".into()
        }
    )
}

/// The tiers present, top first.
fn tiers_in(v: &serde_json::Value) -> Vec<String> {
    ["province", "district", "commune"]
        .iter()
        .filter(|t| v["tiers"].get(**t).is_some())
        .map(|t| t.to_string())
        .collect()
}

/// The months of a summary table, in order.
fn months(rows: &[SummaryRow]) -> Vec<String> {
    let mut m: Vec<String> = rows
        .iter()
        .filter(|r| r.period.len() == 7)
        .map(|r| r.period.clone())
        .collect();
    m.sort();
    m.dedup();
    m
}

/// One series per tier (and overall) of `metric` over `periods`, from summary rows.
fn period_series(
    rows: &[SummaryRow],
    metric: &str,
    periods: &[String],
    tiers: &[String],
) -> Vec<Series> {
    let mut index: BTreeMap<(&str, &str), Point> = BTreeMap::new();
    for r in rows.iter().filter(|r| {
        r.metric == metric
            && r.unit.is_empty()
            && r.procedure.is_empty()
            && r.channel.is_empty()
            && r.province.is_empty()
            && (r.basis.is_empty() || r.basis == "receiving")
    }) {
        index.insert((r.tier.as_str(), r.period.as_str()), r.point());
    }
    let mut out = Vec::new();
    for t in tiers.iter().map(String::as_str).chain(["overall"]) {
        let key = if t == "overall" { "" } else { t };
        let points: Vec<Option<Point>> = periods
            .iter()
            .map(|p| index.get(&(key, p.as_str())).copied())
            .collect();
        if points.iter().any(Option::is_some) {
            out.push(Series {
                name: t.to_string(),
                colour: tier_colour(t).to_string(),
                points,
            });
        }
    }
    out
}

/// A table of series over periods.
fn series_table(periods: &[String], series: &[Series], scale: f64, d: usize) -> String {
    let mut headers = vec!["period"];
    headers.extend(series.iter().map(|s| s.name.as_str()));
    let rows: Vec<Vec<String>> = periods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut r = vec![p.clone()];
            r.extend(
                series
                    .iter()
                    .map(|s| s.points[i].map_or("–".into(), |p| ci(&p, scale, d))),
            );
            r
        })
        .collect();
    table(&headers, &rows)
}

/// The report of a run folder.
pub fn run_report(dir: &Path) -> Result<String, ReportError> {
    let s = read_json(&dir.join("summary.json"))?;
    let metrics = read_summary(&dir.join("metrics_summary.csv"))?;
    let index = read_summary(&dir.join("index_summary.csv"))?;
    let series = read_summary(&dir.join("timeseries_summary.csv"))?;
    let tiers = tiers_in(&s);
    let name = s["scenario"].as_str().unwrap_or_default();
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>{}</h1>\n<p class=\"meta\">scenario hash <code>{}</code> · seed {} · {} replications of {} days after {} warm-up days (the warm-up is not counted)</p>",
        esc(name),
        esc(s["scenario_hash"].as_str().unwrap_or_default()),
        s["seed"],
        s["replications"],
        s["horizon_days"],
        s["warmup_days"]
    );
    let o = &s["overall"];
    let ix = &s["index"];
    b.push_str("<div class=\"figures\">\n");
    b.push_str(&figure(
        "fig-late-rate",
        "late rate, all dossiers",
        &o["late_rate"],
        100.0,
        "%",
        2,
    ));
    b.push_str(&figure(
        "fig-on-time",
        "on time",
        &o["on_time_rate"],
        100.0,
        "%",
        2,
    ));
    b.push_str(&figure(
        "fig-766",
        &format!("766 index ({})", ix["i766"]["band"].as_str().unwrap_or("")),
        &ix["i766"]["total"],
        1.0,
        "",
        1,
    ));
    b.push_str(&figure(
        "fig-counter-wait",
        "counter wait, minutes",
        &o["counter_wait_mean_min"],
        1.0,
        "",
        1,
    ));
    b.push_str(&figure(
        "fig-received",
        "dossiers received per year",
        &o["received"],
        1.0,
        "",
        0,
    ));
    b.push_str("</div>\n");

    // Late rate by tier on the three bases.
    let bases = [
        ("receiving", "tiers"),
        ("competent", "competent_tiers"),
        ("holder", "holder_tiers"),
    ];
    let mut cats: Vec<String> = tiers.clone();
    cats.push("overall".into());
    let by_tier: Vec<Series> = bases
        .iter()
        .enumerate()
        .map(|(k, (name, key))| Series {
            name: format!("by {name}"),
            colour: svg::PALETTE[[0, 4, 3][k]].to_string(),
            points: cats
                .iter()
                .map(|t| {
                    if t == "overall" {
                        if k == 0 { est(&o["late_rate"]) } else { None }
                    } else {
                        est(&s[*key][t]["late_rate"])
                    }
                })
                .collect(),
        })
        .collect();
    b.push_str("<h2>Late rate by tier</h2>\n<p class=\"note\">By receiving tier (where the dossier was filed), by competent tier (the tier that resolves it), and charged to the tier holding the dossier when its deadline passed.</p>\n");
    b.push_str(&svg::bars(
        "late-rate-by-tier",
        "Late rate by tier, 95% CI",
        &cats,
        &by_tier,
        "late rate (%)",
        100.0,
    ));
    b.push_str(&table(
        &["tier", "by receiving", "by competent", "charged to holder"],
        &cats
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut r = vec![t.clone()];
                r.extend(
                    by_tier
                        .iter()
                        .map(|s| s.points[i].map_or("–".into(), |p| ci(&p, 100.0, 2))),
                );
                r
            })
            .collect::<Vec<_>>(),
    ));

    // Late rate by unit: the units with the highest rate.
    let mut units: Vec<&SummaryRow> = metrics
        .iter()
        .filter(|r| {
            r.metric == "late_rate"
                && !r.unit.is_empty()
                && r.basis == "receiving"
                && r.period == "year"
        })
        .collect();
    units.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    let total_units = units.len();
    units.truncate(20);
    b.push_str(&format!(
        "<h2>Late rate by unit</h2>\n<p class=\"note\">The {} units (of {total_units}) with the highest late rate, by receiving unit; every unit is in metrics_summary.csv.</p>\n",
        units.len()
    ));
    let unit_rows: Vec<(String, String, Point)> = units
        .iter()
        .map(|r| {
            (
                format!("{} · {}", r.tier, r.unit),
                tier_colour(&r.tier).to_string(),
                r.point(),
            )
        })
        .collect();
    b.push_str(&svg::forest(
        "late-rate-by-unit",
        "Late rate by unit, 95% CI",
        &unit_rows,
        "late rate (%)",
        100.0,
        false,
    ));
    b.push_str(&table(
        &["unit", "province", "late rate (%)"],
        &units
            .iter()
            .map(|r| {
                vec![
                    format!("{} · {}", r.tier, r.unit),
                    r.province.clone(),
                    ci(&r.point(), 100.0, 2),
                ]
            })
            .collect::<Vec<_>>(),
    ));

    // Monthly late rate and 766.
    let ms = months(&metrics);
    let late = period_series(&metrics, "late_rate", &ms, &tiers);
    b.push_str("<h2>Late rate by month</h2>\n");
    b.push_str("<p class=\"note\">The first and last months are partial when the tallied window starts or ends inside them; a month with no completed dossier is blank.</p>\n");
    b.push_str(&svg::lines(
        "monthly-late-rate",
        "Late rate by month and tier, 95% band",
        &ms,
        &late,
        "late rate (%)",
        100.0,
        1,
        true,
    ));
    b.push_str(&series_table(&ms, &late, 100.0, 2));
    let im = months(&index);
    let i766 = period_series(&index, "i766_total", &im, &tiers);
    b.push_str("<h2>766 index by month</h2>\n");
    b.push_str(&svg::lines(
        "monthly-766",
        "766 index by month and tier, 95% band",
        &im,
        &i766,
        "766 score (points of 100)",
        1.0,
        1,
        false,
    ));
    b.push_str(&series_table(&im, &i766, 1.0, 1));

    // Backlog over the year.
    let mut days: Vec<String> = series
        .iter()
        .filter(|r| r.metric == "backlog")
        .map(|r| r.period.clone())
        .collect();
    days.sort();
    days.dedup();
    let backlog = period_series(&series, "backlog", &days, &tiers);
    b.push_str("<h2>Backlog</h2>\n<p class=\"note\">Dossiers arrived and not yet completed, at the end of each day (the warm-up's included).</p>\n");
    b.push_str(&svg::lines(
        "backlog",
        "Backlog at the end of each day, 95% band",
        &days,
        &backlog,
        "dossiers open",
        1.0,
        (days.len() / 6).max(1),
        true,
    ));
    let month_ends: Vec<usize> = (0..days.len())
        .filter(|&i| i + 1 == days.len() || days[i + 1].get(..7) != days[i].get(..7))
        .collect();
    let end_labels: Vec<String> = month_ends.iter().map(|&i| days[i].clone()).collect();
    let end_series: Vec<Series> = backlog
        .iter()
        .map(|s| Series {
            name: s.name.clone(),
            colour: s.colour.clone(),
            points: month_ends.iter().map(|&i| s.points[i]).collect(),
        })
        .collect();
    b.push_str(&series_table(&end_labels, &end_series, 1.0, 0));

    // Utilisation per pool.
    let pools = ["clerks", "specialists", "leaders"];
    let util: Vec<Series> = pools
        .iter()
        .enumerate()
        .map(|(k, p)| Series {
            name: p.to_string(),
            colour: svg::PALETTE[k + 3].to_string(),
            points: tiers
                .iter()
                .map(|t| est(&s["tiers"][t][format!("utilisation_{p}")]))
                .collect(),
        })
        .collect();
    b.push_str("<h2>Utilisation by pool</h2>\n<p class=\"note\">Effort minutes over on-duty server minutes in each pool's service hours.</p>\n");
    b.push_str(&svg::bars(
        "utilisation",
        "Utilisation by tier and pool, 95% CI",
        &tiers,
        &util,
        "utilisation (%)",
        100.0,
    ));
    b.push_str(&table(
        &["tier", "clerks (%)", "specialists (%)", "leaders (%)"],
        &tiers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut r = vec![t.clone()];
                r.extend(
                    util.iter()
                        .map(|s| s.points[i].map_or("–".into(), |p| ci(&p, 100.0, 1))),
                );
                r
            })
            .collect::<Vec<_>>(),
    ));

    // Turnaround distribution.
    let stats = [
        ("mean", "turnaround_mean_days"),
        ("p50", "turnaround_p50_days"),
        ("p90", "turnaround_p90_days"),
        ("p99", "turnaround_p99_days"),
    ];
    let turn: Vec<Series> = stats
        .iter()
        .enumerate()
        .map(|(k, (label, m))| Series {
            name: label.to_string(),
            colour: svg::PALETTE[k].to_string(),
            points: tiers.iter().map(|t| est(&s["tiers"][t][*m])).collect(),
        })
        .collect();
    b.push_str("<h2>Turnaround</h2>\n<p class=\"note\">From receipt to completion, in working days, the citizen's time excluded: mean and percentiles.</p>\n");
    b.push_str(&svg::bars(
        "turnaround",
        "Turnaround by tier: mean, median, 90th and 99th percentiles",
        &tiers,
        &turn,
        "working days",
        1.0,
    ));
    b.push_str(&table(
        &["tier", "mean", "p50", "p90", "p99"],
        &tiers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut r = vec![t.clone()];
                r.extend(
                    turn.iter()
                        .map(|s| s.points[i].map_or("–".into(), |p| ci(&p, 1.0, 2))),
                );
                r
            })
            .collect::<Vec<_>>(),
    ));

    // Counter wait.
    let waits = [
        ("mean", "counter_wait_mean_min"),
        ("p90", "counter_wait_p90_min"),
    ];
    let wait_cats = cats.clone();
    let wait: Vec<Series> = waits
        .iter()
        .enumerate()
        .map(|(k, (label, m))| Series {
            name: label.to_string(),
            colour: svg::PALETTE[k + 4].to_string(),
            points: wait_cats
                .iter()
                .map(|t| {
                    if t == "overall" {
                        est(&o[*m])
                    } else {
                        est(&s["tiers"][t][*m])
                    }
                })
                .collect(),
        })
        .collect();
    b.push_str("<h2>Counter wait</h2>\n<p class=\"note\">Wait of in-person citizens at the counter at their first visit, minutes.</p>\n");
    b.push_str(&svg::bars(
        "counter-wait",
        "Counter wait by tier, 95% CI",
        &wait_cats,
        &wait,
        "minutes",
        1.0,
    ));
    b.push_str(&table(
        &["tier", "mean (min)", "p90 (min)"],
        &wait_cats
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut r = vec![t.clone()];
                r.extend(
                    wait.iter()
                        .map(|s| s.points[i].map_or("–".into(), |p| ci(&p, 1.0, 1))),
                );
                r
            })
            .collect::<Vec<_>>(),
    ));

    // The 766 index by group.
    // The scheme's groups in its order, with their maxima (Decision 766; the 2025 DVCQG scheme splits out payment).
    let scheme = ix["scheme"].as_str().unwrap_or("2025");
    let maxima: &[(&str, f64)] = if scheme == "2022" {
        &[
            ("publicity", 18.0),
            ("timeliness", 20.0),
            ("online_service", 22.0),
            ("digitisation", 22.0),
            ("satisfaction", 18.0),
        ]
    } else {
        &[
            ("publicity", 18.0),
            ("timeliness", 20.0),
            ("online_service", 12.0),
            ("online_payment", 10.0),
            ("digitisation", 22.0),
            ("satisfaction", 18.0),
        ]
    };
    let groups: Vec<String> = maxima
        .iter()
        .filter(|(g, _)| ix["i766"]["groups"].get(*g).is_some())
        .map(|(g, _)| g.to_string())
        .collect();
    let group_series: Vec<Series> = tiers
        .iter()
        .map(|t| (t.as_str(), &ix["tiers"][t]))
        .chain([("overall", ix)])
        // A tier that receives nothing has no score (only its inputs): leave it out.
        .filter(|(_, node)| est(&node["i766"]["total"]).is_some_and(|p| p.mean.is_finite()))
        .map(|(t, node)| Series {
            name: t.to_string(),
            colour: tier_colour(t).to_string(),
            points: groups
                .iter()
                .map(|g| est(&node["i766"]["groups"][g]))
                .collect(),
        })
        .collect();
    b.push_str(&format!(
        "<h2>766 index by group</h2>\n<p class=\"note\">Scheme {}; publicity and the feedback items are scenario inputs, not simulated.</p>\n",
        esc(ix["scheme"].as_str().unwrap_or(""))
    ));
    b.push_str(&svg::bars(
        "index-groups",
        "766 index points by group and tier",
        &groups,
        &group_series,
        "points",
        1.0,
    ));
    b.push_str(&table(
        &["group", "of"]
            .into_iter()
            .chain(group_series.iter().map(|s| s.name.as_str()))
            .collect::<Vec<_>>(),
        &groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let max = maxima
                    .iter()
                    .find(|(m, _)| m == g)
                    .map_or(f64::NAN, |(_, x)| *x);
                let mut r = vec![g.clone(), format!("{max}")];
                r.extend(
                    group_series
                        .iter()
                        .map(|s| s.points[i].map_or("–".into(), |p| ci(&p, 1.0, 2))),
                );
                r
            })
            .collect::<Vec<_>>(),
    ));

    // Warnings and assumptions.
    b.push_str("<h2>Warnings and assumptions</h2>\n");
    let warnings = s["warnings"].as_array().cloned().unwrap_or_default();
    if warnings.is_empty() {
        b.push_str(
            "<p>No staff pool is overloaded (every offered load is below its capacity).</p>\n",
        );
    } else {
        b.push_str("<ul class=\"warn\">\n");
        for w in &warnings {
            let _ = writeln!(
                b,
                "<li>{} / {} / {}: {} of {} units overloaded (offered load up to {:.0}% of capacity; worst: {})</li>",
                esc(w["province"].as_str().unwrap_or("")),
                esc(w["tier"].as_str().unwrap_or("")),
                esc(w["pool"].as_str().unwrap_or("")),
                w["units"],
                w["of_units"],
                100.0 * w["rho_max"].as_f64().unwrap_or(f64::NAN),
                esc(w["worst_unit"].as_str().unwrap_or(""))
            );
        }
        b.push_str("</ul>\n");
    }
    let _ = writeln!(
        b,
        "<p class=\"note\">Index: {}.</p><p class=\"note\">Bases: {}.</p><p class=\"note\">Counting: {}.</p>",
        esc(ix["assumptions"].as_str().unwrap_or("")),
        esc(s["bases"].as_str().unwrap_or("")),
        esc(s["counting_rule"].as_str().unwrap_or(""))
    );
    Ok(page(&format!("{name}: motcua report"), &b))
}

/// The scope label of a comparison row.
fn scope_label(row: &serde_json::Value) -> String {
    let tier = row["key"]["tier"].as_str().unwrap_or("");
    let basis = row["key"]["basis"].as_str().unwrap_or("");
    match (tier, basis) {
        ("", _) => "overall".into(),
        (t, "") => t.into(),
        (t, b) => format!("{t} ({b})"),
    }
}

/// The scope of a comparison row by receiving tier ("overall", a tier, or
/// empty for the other bases): the monthly lines follow the receiving tier.
fn receiving_scope(row: &serde_json::Value) -> &str {
    let tier = row["key"]["tier"].as_str().unwrap_or("");
    match (tier, row["key"]["basis"].as_str().unwrap_or("")) {
        ("", _) => "overall",
        (t, "receiving") | (t, "") => t,
        _ => "",
    }
}

/// The report of a comparison folder.
pub fn comparison_report(dir: &Path) -> Result<String, ReportError> {
    let c = read_json(&dir.join("comparison.json"))?;
    let base = c["base"].as_str().unwrap_or_default();
    let reforms = c["reforms"].as_array().cloned().unwrap_or_default();
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>Reforms against {}</h1>\n<p class=\"meta\">base hash <code>{}</code> · seed {} · {} replications · common random numbers: each difference is paired replication by replication</p>",
        esc(base),
        esc(c["base_hash"].as_str().unwrap_or("")),
        c["seed"],
        c["replications"]
    );
    let metrics = [
        (
            "late_rate",
            "late rate",
            100.0,
            "difference in late rate (percentage points)",
            3,
        ),
        (
            "counter_wait_mean_min",
            "counter wait",
            1.0,
            "difference in counter wait (minutes)",
            2,
        ),
        (
            "i766_total",
            "766 index",
            1.0,
            "difference in the 766 index (points)",
            2,
        ),
        (
            "utilisation_specialists",
            "specialists' utilisation",
            100.0,
            "difference in utilisation (percentage points)",
            2,
        ),
        (
            "turnaround_mean_days",
            "turnaround",
            1.0,
            "difference in mean turnaround (working days)",
            3,
        ),
    ];
    b.push_str("<h2>Paired differences</h2>\n<p class=\"note\">Reform minus base, with the paired 95% interval; an interval that crosses the dashed line is not a sign either way. A tier is counted by receiving tier (where the dossier was filed), by competent tier (the tier that resolves it) or charged to the holder (the tier holding the dossier when its deadline passed); a reform that moves procedures between tiers changes the three differently.</p>\n");
    for (metric, label, scale, x_title, d) in metrics {
        let mut rows = Vec::new();
        let mut table_rows = Vec::new();
        for r in &reforms {
            let name = r["reform"].as_str().unwrap_or("");
            for row in r["rows"].as_array().into_iter().flatten() {
                if row["metric"] != metric || row["key"]["period"] != "year" {
                    continue;
                }
                let p = Point {
                    mean: row["diff"].as_f64().unwrap_or(f64::NAN),
                    lo: row["ci_low"].as_f64().unwrap_or(f64::NAN),
                    hi: row["ci_high"].as_f64().unwrap_or(f64::NAN),
                };
                let scope = scope_label(row);
                let tier = row["key"]["tier"].as_str().unwrap_or("");
                rows.push((
                    format!("{name} · {scope}"),
                    tier_colour(if tier.is_empty() { "overall" } else { tier }).to_string(),
                    p,
                ));
                table_rows.push(vec![
                    name.to_string(),
                    scope,
                    format!("{:.d$}", row["base"].as_f64().unwrap_or(f64::NAN) * scale),
                    format!("{:.d$}", row["reform"].as_f64().unwrap_or(f64::NAN) * scale),
                    ci(&p, scale, d),
                ]);
            }
        }
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(b, "<h3>{}</h3>", esc(label));
        b.push_str(&svg::forest(
            &format!("forest-{metric}"),
            &format!("{label}: reform − base, paired 95% CI"),
            &rows,
            x_title,
            scale,
            true,
        ));
        b.push_str(&table(
            &["reform", "scope", "base", "reform", "difference [95% CI]"],
            &table_rows,
        ));
    }
    // Monthly lines: base and each reform, with their bands.
    b.push_str("<h2>Month by month</h2>\n<p class=\"note\">Base and reforms by calendar month, each with its own 95% band.</p>\n");
    for (metric, label, scale, y_title) in [
        ("late_rate", "Late rate", 100.0, "late rate (%)"),
        ("i766_total", "766 index", 1.0, "766 score (points of 100)"),
    ] {
        for scope in ["overall", "province", "district", "commune"] {
            let mut periods: Vec<String> = Vec::new();
            let mut sides: Vec<(String, BTreeMap<String, Point>)> = Vec::new();
            let mut base_side: BTreeMap<String, Point> = BTreeMap::new();
            for r in &reforms {
                let mut mine = BTreeMap::new();
                for row in r["rows"].as_array().into_iter().flatten() {
                    let period = row["key"]["period"].as_str().unwrap_or("");
                    if row["metric"] != metric || period.len() != 7 || receiving_scope(row) != scope
                    {
                        continue;
                    }
                    periods.push(period.to_string());
                    let half = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
                    let (bm, rm) = (half("base"), half("reform"));
                    base_side.insert(
                        period.into(),
                        Point {
                            mean: bm,
                            lo: bm - half("base_half_width"),
                            hi: bm + half("base_half_width"),
                        },
                    );
                    mine.insert(
                        period.to_string(),
                        Point {
                            mean: rm,
                            lo: rm - half("reform_half_width"),
                            hi: rm + half("reform_half_width"),
                        },
                    );
                }
                sides.push((r["reform"].as_str().unwrap_or("").to_string(), mine));
            }
            periods.sort();
            periods.dedup();
            if periods.is_empty() {
                continue;
            }
            let mut series = vec![Series {
                name: format!("{base} (base)"),
                colour: "#444444".into(),
                points: periods.iter().map(|p| base_side.get(p).copied()).collect(),
            }];
            for (k, (name, m)) in sides.iter().enumerate() {
                series.push(Series {
                    name: name.clone(),
                    colour: svg::PALETTE[(k + 1) % svg::PALETTE.len()].to_string(),
                    points: periods.iter().map(|p| m.get(p).copied()).collect(),
                });
            }
            let id = format!("monthly-{metric}-{scope}");
            b.push_str(&svg::lines(
                &id,
                &format!("{label} by month, {scope}"),
                &periods,
                &series,
                y_title,
                scale,
                1,
                metric == "late_rate",
            ));
            b.push_str(&series_table(&periods, &series, scale, 2));
        }
    }
    let warnings = c["warnings"].as_array().cloned().unwrap_or_default();
    if !warnings.is_empty() {
        b.push_str("<h2>Warnings</h2>\n<ul class=\"warn\">\n");
        for sw in &warnings {
            for w in sw["warnings"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    b,
                    "<li>in {}: {} / {} / {}: {} of {} units overloaded</li>",
                    esc(sw["scenario"].as_str().unwrap_or("")),
                    esc(w["province"].as_str().unwrap_or("")),
                    esc(w["tier"].as_str().unwrap_or("")),
                    esc(w["pool"].as_str().unwrap_or("")),
                    w["units"],
                    w["of_units"]
                );
            }
        }
        b.push_str("</ul>\n");
    }
    let _ = writeln!(
        b,
        "<p class=\"note\">Scopes: {}.</p>",
        esc(c["scopes"].as_str().unwrap_or(""))
    );
    Ok(page(&format!("Reforms against {base}: motcua report"), &b))
}

/// The report of a sweep folder: each key metric against each axis, and a heatmap of the first two axes.
pub fn sweep_report(dir: &Path) -> Result<String, ReportError> {
    let m = read_json(&dir.join("sweep.json"))?;
    // Checks the file has the summary shape before it is read by column.
    let summary = read_summary(&dir.join("summary.csv"))?;
    let points_path = dir.join("points.csv");
    let text = read_output(&points_path)?;
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let paths: Vec<String> = r
        .headers()
        .map_err(|e| io(&points_path)(e.to_string()))?
        .iter()
        .skip(4)
        .map(str::to_string)
        .collect();
    // scenario name → axis values.
    let mut axes: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| io(&points_path)(e.to_string()))?;
        let vals: Vec<f64> = rec
            .iter()
            .skip(4)
            .map(|x| x.parse().unwrap_or(f64::NAN))
            .collect();
        axes.insert(rec.get(1).unwrap_or("").to_string(), vals);
    }
    let name = m["name"].as_str().unwrap_or("sweep");
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>Sweep {}</h1>\n<p class=\"meta\">{} points × {} replications · seed {} · axes: {}</p>",
        esc(name),
        m["points"],
        m["replications"],
        m["seed"],
        esc(&paths.join(", "))
    );
    let metrics = [
        ("late_rate", "late rate (%)", 100.0),
        ("counter_wait_mean_min", "counter wait (minutes)", 1.0),
        ("i766_total", "766 index (points)", 1.0),
        (
            "utilisation_specialists",
            "specialists' utilisation (%)",
            100.0,
        ),
    ];
    let _ = summary;
    let mut by_point: BTreeMap<(String, String), Point> = BTreeMap::new();
    // The sweep's summary.csv names each point in its `scenario` column.
    let text = read_output(&dir.join("summary.csv"))?;
    let mut rr = csv::Reader::from_reader(text.as_bytes());
    for rec in rr.records() {
        let rec = rec.map_err(|e| io(dir)(e.to_string()))?;
        let get = |k: usize| rec.get(k).unwrap_or("");
        // scenario, scenario_hash, seed, province, tier, unit, basis, procedure, channel, period, metric, n, mean, ci_low, ci_high
        if !get(4).is_empty() || get(9) != "year" {
            continue;
        }
        let p = Point {
            mean: get(12).parse().unwrap_or(f64::NAN),
            lo: get(13).parse().unwrap_or(f64::NAN),
            hi: get(14).parse().unwrap_or(f64::NAN),
        };
        by_point.insert((get(0).to_string(), get(10).to_string()), p);
    }
    for (ai, axis) in paths.iter().enumerate() {
        let mut values: Vec<f64> = axes.values().map(|v| v[ai]).collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        let labels: Vec<String> = values.iter().map(|v| format!("{v}")).collect();
        b.push_str(&format!("<h2>Against {}</h2>\n", esc(axis)));
        for (metric, y_title, scale) in metrics {
            // One series per combination of the other axes (at most 6).
            let mut groups: BTreeMap<String, Vec<Option<Point>>> = BTreeMap::new();
            for (scenario, v) in &axes {
                let others: Vec<String> = paths
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != ai)
                    .map(|(k, p)| format!("{p} = {}", v[k]))
                    .collect();
                let label = if others.is_empty() {
                    "all points".into()
                } else {
                    others.join(", ")
                };
                let slot = groups
                    .entry(label)
                    .or_insert_with(|| vec![None; values.len()]);
                if let (Some(pos), Some(p)) = (
                    values.iter().position(|x| x.to_bits() == v[ai].to_bits()),
                    by_point.get(&(scenario.clone(), metric.to_string())),
                ) {
                    slot[pos] = Some(*p);
                }
            }
            let series: Vec<Series> = groups
                .into_iter()
                .take(6)
                .enumerate()
                .map(|(k, (name, points))| Series {
                    name,
                    colour: svg::PALETTE[k % svg::PALETTE.len()].to_string(),
                    points,
                })
                .collect();
            let id = format!("sweep-{metric}-axis{ai}");
            b.push_str(&svg::lines(
                &id,
                &format!("{y_title} against {axis}, 95% band"),
                &labels,
                &series,
                y_title,
                scale,
                (labels.len() / 12).max(1),
                true,
            ));
            b.push_str(&series_table(&labels, &series, scale, 2));
        }
    }
    if paths.len() >= 2 {
        let xs: Vec<f64> = {
            let mut v: Vec<f64> = axes.values().map(|v| v[0]).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        let ys: Vec<f64> = {
            let mut v: Vec<f64> = axes.values().map(|v| v[1]).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        for (metric, title, scale) in metrics {
            // Mean over the other axes of each (axis 0, axis 1) cell.
            let mut cells = vec![vec![(0.0, 0usize); xs.len()]; ys.len()];
            for (scenario, v) in &axes {
                if let (Some(i), Some(j), Some(p)) = (
                    xs.iter().position(|x| x.to_bits() == v[0].to_bits()),
                    ys.iter().position(|y| y.to_bits() == v[1].to_bits()),
                    by_point.get(&(scenario.clone(), metric.to_string())),
                ) {
                    cells[j][i].0 += p.mean;
                    cells[j][i].1 += 1;
                }
            }
            let values: Vec<Vec<Option<f64>>> = cells
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|(s, n)| (*n > 0).then(|| s / *n as f64))
                        .collect()
                })
                .collect();
            b.push_str(&format!("<h2>Heatmap: {}</h2>\n", esc(title)));
            b.push_str(&svg::heatmap(
                &format!("heatmap-{metric}"),
                &format!("{title} over {} × {}", paths[0], paths[1]),
                &xs.iter().map(|x| format!("{x}")).collect::<Vec<_>>(),
                &ys.iter().map(|y| format!("{y}")).collect::<Vec<_>>(),
                &values,
                &paths[0],
                &paths[1],
                scale,
            ));
        }
    }
    Ok(page(&format!("Sweep {name}: motcua report"), &b))
}

/// The report of a size folder, from its `size.json`: the recommendation
/// per tier and pool against the staff as given, the targets at the
/// recommendation (with the one-sided bound each is confirmed by) and the
/// units whose staff changes.
pub fn size_report(dir: &Path) -> Result<String, ReportError> {
    let m = read_json(&dir.join("size.json"))?;
    let name = m["scenario"].as_str().unwrap_or("scenario");
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    let mut b = String::new();
    let feasible = m["feasible"].as_bool().unwrap_or(false);
    let targets: Vec<String> = m["targets"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let _ = writeln!(
        b,
        "<h1>Staff sizing of {}</h1>\n<p class=\"meta\">targets {} · one-sided confidence {} · seed {} · {} evaluations, {} {} simulated ({} replications each, {} to confirm)</p>",
        esc(name),
        esc(&targets.join(", ")),
        f(&m["confidence"]),
        m["seed"],
        m["evaluations"],
        m["simulated"],
        esc(m["simulated_unit"].as_str().unwrap_or("")),
        m["replications"],
        m["confirm_replications"]
    );
    let cur = f(&m["current_staff"]);
    let rec = f(&m["recommended_staff"]);
    let _ = writeln!(
        b,
        "<div class=\"figures\"><div class=\"figure\"><div class=\"v\" id=\"recommended\" data-value=\"{rec}\">{rec:.0}</div><div class=\"l\">staff recommended<br>{cur:.0} as given ({:+.0})</div></div><div class=\"figure\"><div class=\"v\" id=\"verdict\">{}</div><div class=\"l\">every target at the stated confidence</div></div></div>",
        rec - cur,
        if feasible { "met" } else { "NOT met" }
    );
    if !feasible {
        b.push_str("<p class=\"warn\">The targets cannot be met within the staff cap: every pool that could help is at its cap. The failing targets are in size.json under failing.</p>\n");
    }
    let totals = m["totals"].as_array().cloned().unwrap_or_default();
    let cats: Vec<String> = totals
        .iter()
        .map(|t| {
            let tier = t["tier"].as_str().unwrap_or("");
            let pool = t["pool"].as_str().unwrap_or("");
            if tier.is_empty() {
                pool.to_string()
            } else {
                format!("{tier} {pool}")
            }
        })
        .collect();
    b.push_str("<h2>Staff per tier and pool</h2>\n");
    // One chart per tier (pools side by side), so that labels stay short.
    let mut tiers: Vec<&str> = Vec::new();
    for t in &totals {
        let tier = t["tier"].as_str().unwrap_or("");
        if !tiers.contains(&tier) {
            tiers.push(tier);
        }
    }
    for tier in tiers {
        let of: Vec<&serde_json::Value> = totals
            .iter()
            .filter(|t| t["tier"].as_str().unwrap_or("") == tier)
            .collect();
        let pools: Vec<String> = of
            .iter()
            .map(|t| t["pool"].as_str().unwrap_or("").to_string())
            .collect();
        let pts = |key: &str| -> Vec<Option<Point>> {
            of.iter()
                .map(|t| {
                    Some(Point {
                        mean: f(&t[key]),
                        lo: f64::NAN,
                        hi: f64::NAN,
                    })
                })
                .collect()
        };
        let (id, title) = if tier.is_empty() {
            (
                "staff-by-pool".to_string(),
                "Servers per station: as given and recommended".to_string(),
            )
        } else {
            (
                format!("staff-by-pool-{tier}"),
                format!("{tier}: staff per pool, as given and recommended"),
            )
        };
        b.push_str(&svg::bars(
            &id,
            &title,
            &pools,
            &[
                Series {
                    name: "as given".into(),
                    colour: "#9aa5b1".into(),
                    points: pts("current"),
                },
                Series {
                    name: "recommended".into(),
                    colour: "#1f6feb".into(),
                    points: pts("recommended"),
                },
            ],
            "people",
            1.0,
        ));
    }
    let rows: Vec<Vec<String>> = totals
        .iter()
        .zip(&cats)
        .map(|(t, c)| {
            vec![
                c.clone(),
                format!("{}", t["current"]),
                format!("{}", t["recommended"]),
                format!("{:+}", f(&t["recommended"]) - f(&t["current"])),
            ]
        })
        .collect();
    b.push_str(&table(
        &["tier and pool", "as given", "recommended", "change"],
        &rows,
    ));
    b.push_str("<h2>Targets at the recommendation</h2>\n");
    let checks = m["checks"].as_array().cloned().unwrap_or_default();
    let mut rows = Vec::new();
    for t in &targets {
        let of: Vec<&serde_json::Value> = checks
            .iter()
            .filter(|c| c["target"].as_str() == Some(t.as_str()))
            .collect();
        let met = of
            .iter()
            .filter(|c| c["met"].as_bool() == Some(true))
            .count();
        let binding = of
            .iter()
            .filter(|c| c["binding"].as_bool() == Some(true))
            .count();
        let at_most = of.first().is_none_or(|c| c["cmp"].as_str() == Some("<="));
        let worst = of
            .iter()
            .filter(|c| f(&c["one_sided"]).is_finite())
            .max_by(|a, b| {
                let (x, y) = (f(&a["one_sided"]), f(&b["one_sided"]));
                if at_most {
                    x.total_cmp(&y)
                } else {
                    y.total_cmp(&x)
                }
            });
        rows.push(vec![
            t.clone(),
            format!("{met} of {}", of.len()),
            format!("{binding}"),
            worst.map_or("–".into(), |c| {
                format!(
                    "{} at {} (mean {})",
                    super::num(f(&c["one_sided"]), 4),
                    c["scope"].as_str().unwrap_or(""),
                    super::num(f(&c["mean"]), 4)
                )
            }),
        ]);
    }
    b.push_str(&table(
        &[
            "target",
            "scopes met",
            "binding scopes",
            "tightest one-sided bound",
        ],
        &rows,
    ));
    let staff = m["staff"].as_array().cloned().unwrap_or_default();
    let changed: Vec<Vec<String>> = staff
        .iter()
        .filter(|r| f(&r["change"]) != 0.0)
        .map(|r| {
            vec![
                r["unit"].as_str().unwrap_or("").to_string(),
                r["pool"].as_str().unwrap_or("").to_string(),
                format!("{}", r["current"]),
                format!("{}", r["recommended"]),
                format!("{:.0}%", 100.0 * f(&r["utilisation"])),
                r["remove_one_breaks"].as_str().unwrap_or("").to_string(),
            ]
        })
        .collect();
    let _ = writeln!(
        b,
        "<h2>Pools whose staff changes ({} of {})</h2>",
        changed.len(),
        staff.len()
    );
    b.push_str(&table(
        &[
            "unit",
            "pool",
            "as given",
            "recommended",
            "utilisation",
            "one fewer breaks",
        ],
        &changed,
    ));
    b.push_str("<p class=\"note\">A target is met when its one-sided Student-t bound across replications is on the right side of its value. \"One fewer breaks\" names the target no longer met with one person fewer in that pool (the local minimality check); size.csv lists every pool.</p>\n");
    Ok(page(&format!("Sizing {name}: motcua report"), &b))
}

/// The report of any result folder: a run's, a comparison's or a sweep's.
pub fn report_for(dir: &Path) -> Result<String, ReportError> {
    if dir.join("summary.json").exists() {
        run_report(dir)
    } else if dir.join("comparison.json").exists() {
        comparison_report(dir)
    } else if dir.join("sweep.json").exists() {
        sweep_report(dir)
    } else if dir.join("size.json").exists() {
        size_report(dir)
    } else {
        Err(ReportError::BadFolder {
            path: dir.display().to_string(),
            why: "holds no run, comparison or sweep results (no summary.json, comparison.json or sweep.json)".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::run::Estimate;
    use crate::experiment::tables::Key;
    use crate::report::csv::{Ident, write_summary};

    /// A file of its own in the temporary folder, removed when dropped.
    struct Scratch(std::path::PathBuf);
    impl Scratch {
        fn new(name: &str, bytes: &[u8]) -> Self {
            let p = std::env::temp_dir().join(format!("motcua-html-{}-{name}", std::process::id()));
            std::fs::write(&p, bytes).unwrap();
            Self(p)
        }
    }
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn a_summary_file_reads_back_as_it_was_written() {
        let id = Ident {
            scenario: "a, \"quoted\"\nname".into(),
            scenario_hash: "0123456789abcdef".into(),
            seed: 7,
        };
        let texts = ["", "Hà Nội, xã Đông", "say \"hi\"", "two\nlines", "plain"];
        let values = [0.0417, -3.5, 1e-300, 12345678.9, 0.1 + 0.2];
        let rows: Vec<(Key, Vec<(&'static str, Estimate)>)> = (0..50)
            .map(|i| {
                let t = |k: usize| texts[(i + k) % texts.len()].to_string();
                let key = Key {
                    province: t(0),
                    tier: "commune",
                    unit: t(1),
                    basis: "competent",
                    procedure: t(2),
                    channel: "postal",
                    period: t(3),
                };
                let e = Estimate {
                    n: 1 + i % 5,
                    mean: values[i % values.len()],
                    ci_low: if i % 3 == 0 {
                        f64::NAN
                    } else {
                        values[(i + 1) % 5]
                    },
                    ci_high: if i % 3 == 0 {
                        f64::NAN
                    } else {
                        values[(i + 2) % 5]
                    },
                };
                (key, vec![("late_rate", e)])
            })
            .collect();
        let mut bytes = Vec::new();
        write_summary(&mut bytes, &id, &rows).unwrap();
        let file = Scratch::new("roundtrip.csv", &bytes);
        let back = read_summary(&file.0).unwrap();
        assert_eq!(back.len(), rows.len());
        for (r, (k, m)) in back.iter().zip(&rows) {
            let e = m[0].1;
            assert_eq!(
                (&r.province, &r.tier, &r.unit, &r.basis),
                (
                    &k.province,
                    &k.tier.to_string(),
                    &k.unit,
                    &k.basis.to_string()
                )
            );
            assert_eq!((&r.procedure, &r.period), (&k.procedure, &k.period));
            assert_eq!(
                (r.channel.as_str(), r.metric.as_str()),
                ("postal", "late_rate")
            );
            assert_eq!(r.n, e.n);
            assert_eq!(r.mean.to_bits(), e.mean.to_bits());
            assert_eq!(
                r.ci_low.map(f64::to_bits),
                Some(e.ci_low).filter(|x| x.is_finite()).map(f64::to_bits)
            );
            assert_eq!(
                r.ci_high.map(f64::to_bits),
                Some(e.ci_high).filter(|x| x.is_finite()).map(f64::to_bits)
            );
        }
    }

    #[test]
    fn a_summary_with_a_bad_number_or_a_missing_column_is_refused_with_the_place() {
        let head = crate::report::csv::SUMMARY.join(",");
        let good = "s,h,1,P,province,,own,,,year,late_rate,2,0.5,0.4,0.6,share";
        let bad_mean = format!("{head}\n{good}\n{}\n", good.replace(",0.5,", ",half,"));
        let file = Scratch::new("bad-mean.csv", bad_mean.as_bytes());
        let e = read_summary(&file.0).unwrap_err().to_string();
        assert!(
            e.contains("not a summary table") && e.contains("line 3") && e.contains("`mean`"),
            "{e}"
        );
        let no_n = format!("{}\n{good}\n", head.replace(",n,", ",count,"));
        let file = Scratch::new("no-n.csv", no_n.as_bytes());
        let e = read_summary(&file.0).unwrap_err().to_string();
        assert!(e.contains("missing field `n`"), "{e}");
        let file = Scratch::new("good.csv", format!("{head}\n{good}\n").as_bytes());
        let rows = read_summary(&file.0).unwrap();
        assert_eq!(
            (rows[0].n, rows[0].mean, rows[0].ci_high),
            (2, 0.5, Some(0.6))
        );
    }
}
