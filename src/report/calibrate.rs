//! The files of a `calibrate` output folder: `calibrated.toml` (an overlay
//! extending the scenario with the fitted values as `[[edit]]` entries),
//! `fit.csv`, `ranges.csv` and `calibration.json`.

use std::path::Path;

use serde::Serialize;

use super::ReportError;
use super::output::{Manifest, OutputSet};
use crate::experiment::calibrate::{Calibration, TargetsFile};

/// `calibration.json`.
#[derive(Clone, Debug, Serialize)]
pub struct CalibrationJson<'a> {
    /// `calibrate`.
    pub command: &'static str,
    /// The calibration's name (the targets file's).
    pub name: &'a str,
    /// The scenario calibrated.
    pub scenario: &'a str,
    /// Its fingerprint.
    pub scenario_hash: String,
    /// Master seed.
    pub seed: u64,
    /// Replications per point.
    pub replications: u64,
    /// Replications of the confirmation.
    pub confirm_replications: u64,
    /// Implausibility cut-off.
    pub cutoff: f64,
    /// The targets file.
    pub targets: &'a TargetsFile,
    /// The outcome.
    pub result: &'a Calibration,
}

/// The fit as an overlay of the scenario at `scenario` (`extends` relative to `out_dir`).
pub fn overlay(
    spec: &TargetsFile,
    c: &Calibration,
    scenario: &Path,
    out_dir: &Path,
    header: &str,
) -> String {
    let s = |x: &str| toml::Value::String(x.to_string()).to_string();
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(&format!("# {line}\n"));
    }
    out.push_str(&format!(
        "extends = {}\n",
        s(&super::size::relative(scenario, out_dir))
    ));
    for (p, v) in spec.parameters.iter().zip(&c.best) {
        out.push_str(&format!(
            "\n[[edit]]\npath = {}\n{} = {}\n",
            s(&p.path),
            if p.mode == "scale" { "scale" } else { "set" },
            toml::Value::Float(*v)
        ));
    }
    out
}

/// Writes the set.
pub fn write_set(
    set: &mut OutputSet,
    j: &CalibrationJson<'_>,
    overlay: &str,
) -> Result<(), ReportError> {
    set.write("calibrated.toml", overlay.as_bytes())?;
    set.write_with("fit.csv", |w| {
        w.write_all(&super::csv::records(&j.result.fit)?)
    })?;
    set.write_with("ranges.csv", |w| {
        w.write_all(&super::csv::records(&j.result.ranges)?)
    })?;
    let json = serde_json::to_vec_pretty(j).map_err(|e| ReportError::Io {
        path: "calibration.json".into(),
        source: std::io::Error::other(e),
    })?;
    set.write("calibration.json", &json)?;
    Ok(())
}

/// The manifest.
pub fn manifest(j: &CalibrationJson<'_>) -> Manifest {
    Manifest {
        motcua_version: env!("CARGO_PKG_VERSION"),
        command: "calibrate",
        scenario: j.scenario.to_string(),
        scenario_hash: j.scenario_hash.clone(),
        seed: j.seed,
        replications: j.replications,
        files: Vec::new(),
    }
}

/// Simulated points kept as one small JSON file each (`<key>.json`, written
/// atomically), so that a killed calibration resumes and the shards of a
/// wave (a Slurm job array) share their points.
pub struct FileStore {
    dir: std::path::PathBuf,
}

impl FileStore {
    /// A store in `dir` (created).
    pub fn new(dir: &Path) -> Result<Self, ReportError> {
        std::fs::create_dir_all(dir).map_err(|e| ReportError::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }
}

impl crate::experiment::calibrate::PointStore for FileStore {
    fn get(&self, key: u64) -> Option<Vec<f64>> {
        let path = self.dir.join(format!("{}.json", crate::hash::hex(key)));
        let text = crate::scenario::read_capped(&path, false, "json").ok()?;
        serde_json::from_str::<Vec<Option<f64>>>(&text)
            .ok()
            .map(|v| v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    }
    fn put(&self, key: u64, y: &[f64]) -> Result<(), String> {
        let path = self.dir.join(format!("{}.json", crate::hash::hex(key)));
        let v: Vec<Option<f64>> = y.iter().map(|x| x.is_finite().then_some(*x)).collect();
        let bytes = serde_json::to_vec(&v).map_err(|e| e.to_string())?;
        super::write_atomic(&path, &bytes).map_err(|e| e.to_string())
    }
}
