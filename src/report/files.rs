//! The files of a `run` or `compare` output folder, written into an output set: JSON, the CSV tables in the one schema, the data dictionary and the HTML report.

use super::ReportError;
use super::csv::{Ident, write_comparison, write_long, write_summary};
use super::output::{Manifest, OutputSet};
use crate::experiment::compare::Comparison;
use crate::experiment::run::RunOutput;
use crate::experiment::tables::summarise;
use crate::scenario::domain::Scenario;

fn json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, ReportError> {
    serde_json::to_vec_pretty(v).map_err(|e| ReportError::Io {
        path: "json".into(),
        source: std::io::Error::other(e),
    })
}

/// Writes a run's files into `set`: `summary.json`; `metrics.csv`,
/// `index.csv`, `timeseries.csv` (long) and their `_summary.csv` (summary);
/// `SCHEMA.md`; and, with `report`, `report.html`.
pub fn write_run(
    set: &mut OutputSet,
    sc: &Scenario,
    out: &RunOutput,
    report: bool,
) -> Result<(), ReportError> {
    let id = Ident {
        scenario: sc.name.clone(),
        scenario_hash: crate::hash::hex(sc.hash),
        seed: out.summary.seed,
    };
    set.write("summary.json", &json(&out.summary)?)?;
    for (name, per_rep) in [
        ("metrics", &out.metrics),
        ("index", &out.index),
        ("timeseries", &out.timeseries),
    ] {
        set.write_with(&format!("{name}.csv"), |w| write_long(w, &id, per_rep))?;
        let summary = summarise(per_rep);
        set.write_with(&format!("{name}_summary.csv"), |w| {
            write_summary(w, &id, &summary)
        })?;
    }
    set.write("SCHEMA.md", super::schema::markdown().as_bytes())?;
    if report {
        // The report is made from the files just written: it shows their numbers.
        let html = super::html::run_report(set.staging())?;
        set.write("report.html", html.as_bytes())?;
    }
    Ok(())
}

/// The manifest of a run's set.
pub fn run_manifest(sc: &Scenario, out: &RunOutput) -> Manifest {
    Manifest {
        motcua_version: env!("CARGO_PKG_VERSION"),
        command: "run",
        scenario: sc.name.clone(),
        scenario_hash: crate::hash::hex(sc.hash),
        seed: out.summary.seed,
        replications: out.summary.replications,
        files: Vec::new(),
    }
}

/// Writes a comparison's files into `set`: `comparison.json`,
/// `comparison.csv`, `SCHEMA.md` and, with `report`, `report.html`.
pub fn write_comparison_set(
    set: &mut OutputSet,
    c: &Comparison,
    report: bool,
) -> Result<(), ReportError> {
    set.write("comparison.json", &json(c)?)?;
    set.write_with("comparison.csv", |w| write_comparison(w, c))?;
    set.write("SCHEMA.md", super::schema::markdown().as_bytes())?;
    if report {
        let html = super::html::comparison_report(set.staging())?;
        set.write("report.html", html.as_bytes())?;
    }
    Ok(())
}

/// The manifest of a comparison's set.
pub fn comparison_manifest(c: &Comparison) -> Manifest {
    Manifest {
        motcua_version: env!("CARGO_PKG_VERSION"),
        command: "compare",
        scenario: c.base.clone(),
        scenario_hash: c.base_hash.clone(),
        seed: c.seed,
        replications: c.replications,
        files: Vec::new(),
    }
}
