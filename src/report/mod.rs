//! Writing results: aligned text tables for terminals and atomic file output.

pub mod calibrate;
pub mod csv;
pub mod files;
pub mod html;
pub mod output;
pub mod schema;
pub mod size;
pub mod svg;
pub mod sweep;

use std::io::Write;
use std::path::Path;

/// Column alignment in a text table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Left-aligned (text).
    Left,
    /// Right-aligned (numbers).
    Right,
}

/// Formats rows as an aligned plain-text table with a header rule.
pub fn table(headers: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.0.chars().count()).collect();
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(headers)
            .zip(&widths)
            .map(|((c, h), &w)| match h.1 {
                Align::Left => format!("{c:<w$}"),
                Align::Right => format!("{c:>w$}"),
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let mut out = line(headers.iter().map(|h| h.0).collect());
    out.push('\n');
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    out.push_str(&rule.join("  "));
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// Formats a number with `sig` significant digits, without exponent for ordinary magnitudes.
pub fn num(x: f64, sig: usize) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "-".into()
        } else {
            format!("{x}")
        };
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..=8).contains(&mag) {
        return format!("{x:.*e}", sig.saturating_sub(1));
    }
    let decimals = (sig as i32 - 1 - mag).max(0) as usize;
    format!("{x:.decimals$}")
}

/// Why output could not be written: the boundary error of the `report` layer.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or folder could not be written.
    #[error("{path}: cannot write: {source}; check that the folder exists and is writable")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The output folder already holds files.
    #[error(
        "{path}: the output folder is not empty; pass --force to replace its files, or --out to choose another folder"
    )]
    NotEmpty {
        /// The folder.
        path: String,
    },
    /// Another motcua process is writing the folder.
    #[error(
        "{path}: another motcua process is writing this folder; wait for it to finish, or choose another --out"
    )]
    Locked {
        /// The folder.
        path: String,
    },
    /// The output path cannot be an output folder.
    #[error("{path}: {why}")]
    BadFolder {
        /// The path.
        path: String,
        /// Why, with what to do instead.
        why: String,
    },
    /// `--force` would delete a file motcua did not write.
    #[error(
        "{path}: holds `{name}`, which motcua does not write; --force only replaces a folder of motcua outputs, so choose another --out"
    )]
    Foreign {
        /// The folder.
        path: String,
        /// The file or folder it would delete.
        name: String,
    },
}

/// Writes `bytes` to `path` atomically: to a temporary file in the same
/// folder, flushed to disk, then renamed over `path`. A reader sees the old
/// file or the new one, never a half-written one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// The table `validate` prints: one row per check, then a summary line.
pub fn validation_table(r: &crate::experiment::validate::Report) -> String {
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|r| {
            vec![
                r.case.clone(),
                r.metric.clone(),
                num(r.analytic, 5),
                num(r.simulated.mean, 5),
                format!(
                    "[{}, {}]",
                    num(r.simulated.ci_low, 5),
                    num(r.simulated.ci_high, 5)
                ),
                format!("{:.2}%", 100.0 * r.rel_error),
                if r.pass { "pass".into() } else { "FAIL".into() },
            ]
        })
        .collect();
    let h = [
        ("case", Align::Left),
        ("metric", Align::Left),
        ("analytic", Align::Right),
        ("simulated", Align::Right),
        ("95% CI", Align::Left),
        ("rel. error", Align::Right),
        ("pass", Align::Left),
    ];
    let failed = r.rows.iter().filter(|r| !r.pass).count();
    format!(
        "{}\n{} checks, {} passed, {} failed; tolerance {}%; intervals are simultaneous 95% over all checks (Bonferroni, each at {:.3}%); {} customers, {} events",
        table(&h, &rows),
        r.rows.len(),
        r.rows.len() - failed,
        failed,
        100.0 * r.tolerance,
        100.0 * r.check_level,
        r.customers,
        r.events,
    )
}

/// The per-node table `network` prints, with 95% half-widths: throughput,
/// wait, P(wait), sojourn, queue length and utilisation; in a multi-class
/// network, one row per class under each node.
pub fn network_table(s: &crate::experiment::NetworkSummary) -> String {
    let ci = |x: &crate::stats::Summary| {
        if !x.mean.is_finite() {
            "-".into()
        } else if x.n < 2 || !x.half_width().is_finite() {
            format!("{} (n = {})", num(x.mean, 4), x.n)
        } else {
            format!("{} ± {}", num(x.mean, 4), num(x.half_width(), 2))
        }
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for n in &s.nodes {
        rows.push(vec![
            n.name.clone(),
            ci(&n.throughput),
            ci(&n.wait),
            ci(&n.p_wait),
            ci(&n.sojourn),
            ci(&n.queue),
            ci(&n.utilisation),
        ]);
        for c in &n.classes {
            rows.push(vec![
                format!("  {} / {}", n.name, c.name),
                ci(&c.throughput),
                ci(&c.wait),
                ci(&c.p_wait),
                ci(&c.sojourn),
                String::new(),
                String::new(),
            ]);
        }
    }
    let h = [
        ("node", Align::Left),
        ("throughput", Align::Right),
        ("wait", Align::Right),
        ("P(wait)", Align::Right),
        ("sojourn", Align::Right),
        ("queue (Lq)", Align::Right),
        ("utilisation", Align::Right),
    ];
    format!(
        "{}network: mean sojourn {}, mean in network {}; {} customers, {} events\n",
        table(&h, &rows),
        ci(&s.network_sojourn),
        ci(&s.in_network),
        s.customers,
        s.events
    )
}

/// A mean with its 95% interval as `mean [low, high]` in the given scale
/// and decimals, or `mean (n = 1, no interval)` without one.
pub fn with_interval(e: &crate::experiment::run::Estimate, scale: f64, decimals: usize) -> String {
    if !e.mean.is_finite() {
        return "-".into();
    }
    if e.has_interval() {
        format!(
            "{:.d$} [{:.d$}, {:.d$}]",
            scale * e.mean,
            scale * e.ci_low,
            scale * e.ci_high,
            d = decimals
        )
    } else {
        format!(
            "{:.d$} (n = {}, no interval)",
            scale * e.mean,
            e.n,
            d = decimals
        )
    }
}

/// The per-tier table `run` prints (by receiving tier): received, resolved,
/// late rate with its CI, online rate, turnaround, counter wait and
/// specialist utilisation; then the late rate on each basis and the index scores.
pub fn run_table(s: &crate::experiment::run::RunSummary) -> String {
    let rows: Vec<Vec<String>> = s
        .tiers
        .iter()
        .map(|(t, m)| (t.to_string(), m))
        .chain(std::iter::once(("all".to_string(), &s.overall)))
        .map(|(name, m)| {
            let g = |k: &str| m.get(k).copied();
            let mean = |k: &str, sig: usize| g(k).map_or("-".into(), |e| num(e.mean, sig));
            let pct = |k: &str| g(k).map_or("-".into(), |e| format!("{:.1}%", 100.0 * e.mean));
            vec![
                name,
                g("received").map_or("-".into(), |e| format!("{:.0}", e.mean)),
                g("resolved").map_or("-".into(), |e| format!("{:.0}", e.mean)),
                g("late_rate").map_or("-".into(), |e| with_interval(&e, 100.0, 2)),
                pct("online_rate"),
                mean("turnaround_mean_days", 3),
                mean("counter_wait_mean_min", 3),
                pct("utilisation_specialists"),
            ]
        })
        .collect();
    let h = [
        ("receiving tier", Align::Left),
        ("received/yr", Align::Right),
        ("resolved/yr", Align::Right),
        ("late rate % [95% CI]", Align::Right),
        ("online", Align::Right),
        ("turnaround (wd)", Align::Right),
        ("counter wait (min)", Align::Right),
        ("specialists busy", Align::Right),
    ];
    let mut out = table(&h, &rows);
    // The late rate on each basis: where dossiers are filed, resolved, and where they went late.
    let late = |set: Option<&crate::experiment::run::EstimateSet>| {
        set.and_then(|m| m.get("late_rate"))
            .map_or("-".into(), |e| with_interval(e, 100.0, 2))
    };
    let rows: Vec<Vec<String>> = s
        .tiers
        .keys()
        .map(|t| {
            vec![
                t.to_string(),
                late(s.tiers.get(t)),
                late(s.competent_tiers.get(t)),
                late(s.holder_tiers.get(t)),
            ]
        })
        .collect();
    let h = [
        ("tier", Align::Left),
        ("late % by receiving", Align::Right),
        ("by competent", Align::Right),
        ("charged to holder", Align::Right),
    ];
    out.push('\n');
    out.push_str(&table(&h, &rows));
    out.push_str(
        "receiving: where the dossier was filed; competent: the tier that resolves it; \
         holder: late dossiers charged to the tier holding them when the deadline passed, \
         over the dossiers that passed through it\n",
    );
    let ix = &s.index;
    let row = |name: &str, i: &crate::experiment::run::IndexSummary| {
        format!(
            "{name:<9} 766 index {} ({})   PAR procedure criteria {}% (group {})   satisfaction {:.1}%\n",
            with_interval(&i.i766.total, 1.0, 1),
            i.i766.band,
            with_interval(&i.par_tthc, 100.0, 1),
            i.par_group,
            100.0 * i.satisfaction.mean
        )
    };
    out.push('\n');
    for (t, i) in &ix.tiers {
        out.push_str(&row(t, i));
    }
    out.push_str(&row("all", &ix.overall));
    out.push_str(
        "766 timeliness: the published text gives no curve from on-time rate to its 20 points; \
         this run assumes the one in summary.json index.assumptions\n",
    );
    out
}

/// The tables `compare` prints: per reform, each scope's key metrics with
/// the paired difference and its 95% CI.
pub fn comparison_table(c: &crate::experiment::compare::Comparison) -> String {
    let mut out = String::new();
    for r in &c.reforms {
        out.push_str(&format!(
            "{} vs {} ({} replications, common random numbers; paired 95% CI of the difference)\n",
            r.reform, c.base, c.replications
        ));
        let mut rows = Vec::new();
        for scope in crate::experiment::compare::scope_order() {
            for metric in crate::experiment::compare::KEY_METRICS {
                let Some(d) = r.get(&scope, metric) else {
                    continue;
                };
                rows.push(vec![
                    scope.clone(),
                    metric.to_string(),
                    num(d.base, 4),
                    num(d.reform, 4),
                    num(d.diff, 3),
                    format!("[{}, {}]", num(d.ci_low, 3), num(d.ci_high, 3)),
                ]);
            }
        }
        let h = [
            ("scope", Align::Left),
            ("metric", Align::Left),
            ("base", Align::Right),
            ("reform", Align::Right),
            ("difference", Align::Right),
            ("95% CI", Align::Left),
        ];
        out.push_str(&table(&h, &rows));
        out.push('\n');
    }
    out
}

/// Like [`write_atomic`], but the content is produced by `fill` writing to a
/// buffered temporary file, so large outputs are streamed, not held in memory.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // An unpredictable name, created exclusively: never follows a symbolic
    // link or reuses a file another user placed there.
    let tmp = dir.join(format!(".{name}.tmp-{:016x}", output::random_u64()));
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io)?;
    let result = (|| {
        let mut w = std::io::BufWriter::new(f);
        fill(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// The summary `motcua size` prints: the verdict, the totals per tier and
/// pool, the binding targets and the work spent.
pub fn size_summary(r: &size::SizeJson, wall_s: f64, dir: &std::path::Path) -> String {
    let mut out = String::new();
    let targets: Vec<&str> = r.targets.iter().map(|t| t.text.as_str()).collect();
    out.push_str(&format!(
        "{}: {} at one-sided confidence {}\n",
        r.scenario,
        targets.join(", "),
        r.confidence
    ));
    if r.feasible {
        out.push_str(&format!(
            "every target met with {} staff (given: {}, change {:+})\n",
            r.recommended_staff,
            r.current_staff,
            r.recommended_staff as i64 - r.current_staff as i64
        ));
    } else {
        out.push_str("NOT met: these targets cannot be met by the varied pools:\n");
        for f in &r.failing {
            out.push_str(&format!(
                "  {} at {}: mean {} (one-sided bound {}): {}\n",
                f.target,
                f.scope,
                num(f.mean, 4),
                num(f.one_sided, 4),
                f.why_missed
            ));
        }
    }
    let rows: Vec<Vec<String>> = r
        .totals
        .iter()
        .map(|t| {
            vec![
                t.tier.clone(),
                t.pool.clone(),
                t.current.to_string(),
                t.recommended.to_string(),
                format!("{:+}", t.recommended as i64 - t.current as i64),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            ("tier", Align::Left),
            ("pool", Align::Left),
            ("given", Align::Right),
            (
                if r.feasible {
                    "recommended"
                } else {
                    "last tried"
                },
                Align::Right,
            ),
            ("change", Align::Right),
        ],
        &rows,
    ));
    if !r.binding.is_empty() {
        out.push_str(&format!("binding: {}\n", r.binding.join(", ")));
    }
    out.push_str(&format!(
        "{} evaluations, {} {} simulated ({} events) in {:.1} s; a plain grid over the same space has 10^{:.1} points (10^{:.1} {})\nwrote {}\n",
        r.evaluations,
        r.simulated,
        r.simulated_unit,
        r.events,
        wall_s,
        r.grid_points_log10,
        r.grid_simulated_log10,
        r.simulated_unit,
        dir.display()
    ));
    out
}

/// The summary `motcua calibrate` prints: the fit per target, the ranges,
/// and the conflicts when the fit fails.
pub fn calibrate_summary(
    c: &crate::experiment::calibrate::Calibration,
    wall_s: f64,
    dir: &std::path::Path,
) -> String {
    let mut out = String::new();
    out.push_str(if c.fitted {
        "every target within its tolerance at the fitted point\n"
    } else {
        "NOT fitted: no simulated point meets every target within its tolerance\n"
    });
    let rows: Vec<Vec<String>> = c
        .fit
        .iter()
        .map(|f| {
            vec![
                f.metric.clone(),
                f.scope.clone(),
                format!("{} ± {}", num(f.reported, 4), num(f.tolerance, 2)),
                format!(
                    "{} [{}, {}]",
                    num(f.simulated, 4),
                    num(f.ci_low, 4),
                    num(f.ci_high, 4)
                ),
                if f.within { "yes" } else { "NO" }.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            ("target", Align::Left),
            ("scope", Align::Left),
            ("reported", Align::Right),
            ("simulated (95% CI)", Align::Right),
            ("within", Align::Left),
        ],
        &rows,
    ));
    let rows: Vec<Vec<String>> = c
        .ranges
        .iter()
        .map(|r| {
            vec![
                format!("{} ({})", r.path, r.mode),
                format!("{} – {}", num(r.min, 3), num(r.max, 3)),
                format!("{} – {}", num(r.low, 3), num(r.high, 3)),
                num(r.fitted, 4),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            ("parameter", Align::Left),
            ("bounds", Align::Right),
            ("not ruled out", Align::Right),
            ("fitted", Align::Right),
        ],
        &rows,
    ));
    for u in &c.unreachable {
        out.push_str(&format!("cannot be reached within the bounds: {u}\n"));
    }
    for (a, b) in &c.conflicts {
        out.push_str(&format!("conflict: {a} and {b} cannot both be met\n"));
    }
    out.push_str(&format!(
        "{} evaluations, {} replications simulated in {:.1} s\nwrote {}\n",
        c.evaluations,
        c.replications,
        wall_s,
        dir.display()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_significant_digits() {
        assert_eq!(num(0.66870, 4), "0.6687");
        assert_eq!(num(4.5, 4), "4.500");
        assert_eq!(num(12345.0, 3), "12345");
        assert_eq!(num(f64::NAN, 3), "-");
    }

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("motcua-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("out.json");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
