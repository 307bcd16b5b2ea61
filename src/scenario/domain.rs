//! One-stop scenario files: provinces as trees of tiers and units, a procedure catalogue, channels, staff and calendar.
//!
//! Raw serde structures are read entry by entry, then resolved into a
//! validated [`Scenario`]; every problem is reported with its field path.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Deserialize;

use super::limits;
use super::{FieldError, Origin, ScenarioError, parse_table, typed, typed_array};
use crate::calendar::{WorkCalendar, default_week};
use crate::engine::{Dist, Streams};
pub use crate::hash::Fnv;

/// An administrative tier.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Tỉnh: the province.
    Province,
    /// Huyện: the district (abolished on 1 July 2025).
    District,
    /// Xã: the commune.
    Commune,
}

impl Tier {
    /// All tiers, top first.
    pub const ALL: [Tier; 3] = [Tier::Province, Tier::District, Tier::Commune];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Province => "province",
            Tier::District => "district",
            Tier::Commune => "commune",
        }
    }

    /// Position from the top (province 0).
    pub fn rank(self) -> usize {
        self as usize
    }
}

/// How a dossier is submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// At the desk.
    InPerson,
    /// By public post (BCCI).
    Postal,
    /// Partly online (một phần).
    OnlinePartial,
    /// Fully online (toàn trình).
    OnlineFull,
}

impl Channel {
    /// All channels.
    pub const ALL: [Channel; 4] = [
        Channel::InPerson,
        Channel::Postal,
        Channel::OnlinePartial,
        Channel::OnlineFull,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Channel::InPerson => "in_person",
            Channel::Postal => "postal",
            Channel::OnlinePartial => "online_partial",
            Channel::OnlineFull => "online_full",
        }
    }

    /// Whether the dossier was submitted online.
    pub fn online(self) -> bool {
        matches!(self, Channel::OnlinePartial | Channel::OnlineFull)
    }

    /// Whether the dossier arrives on paper.
    pub fn paper(self) -> bool {
        !self.online()
    }
}

/// Channel shares as written in a file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannels {
    /// Share at the desk.
    pub in_person: f64,
    /// Share by post.
    #[serde(default)]
    pub postal: f64,
    /// Share partly online.
    #[serde(default)]
    pub online_partial: f64,
    /// Share fully online.
    #[serde(default)]
    pub online_full: f64,
}

/// How liên thông transfers move between units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transfer {
    /// Electronically: at once, or at the next working day's opening after the cut-off.
    #[default]
    Electronic,
    /// On paper: within about a working day.
    Paper,
}

/// A procedure entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProcedure {
    /// Unique identifier.
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Tier whose desks receive it.
    pub tier: Tier,
    /// Tier competent to resolve it (default: the receiving tier).
    pub competent_tier: Option<Tier>,
    /// Statutory deadline, working days.
    pub deadline_days: i64,
    /// Dossiers per year at a receiving unit of size 1.
    pub volume_per_unit: f64,
    /// Channel shares (must sum to 1).
    pub channels: RawChannels,
    /// Probability a dossier is incomplete at the desk check (default 0).
    pub incomplete_at_desk: Option<f64>,
    /// Probability the appraisal finds it deficient (default 0).
    pub incomplete_at_appraisal: Option<f64>,
    /// Calendar days the citizen takes to supplement.
    pub supplement_days: Option<Dist>,
    /// Desk effort for a dossier at the counter (in person or by post), minutes.
    pub desk_minutes: Dist,
    /// Desk effort to check an online dossier from the electronic in-tray,
    /// minutes (default: the same as `desk_minutes`).
    pub online_check_minutes: Option<Dist>,
    /// Specialist effort, minutes.
    pub appraisal_minutes: Dist,
    /// Leader effort, minutes.
    pub approval_minutes: Dist,
    /// In-tray time at each internal handoff (desk → specialist, specialist → leader), working days.
    pub handoff_days: Option<Dist>,
    /// Liên thông transfer mode when the competent unit is another one.
    #[serde(default)]
    pub transfer: Transfer,
    /// Probability a paper dossier is digitised at the desk.
    #[serde(default)]
    pub digitisation: f64,
    /// Whether a fee is paid.
    #[serde(default)]
    pub fee: bool,
    /// Share of online fee-bearing dossiers paid online.
    #[serde(default)]
    pub online_payment: f64,
    /// Whether a paper result is required.
    #[serde(default)]
    pub paper_result: bool,
    /// Share of results issued electronically (for procedures without a
    /// required paper result, all are; default 0).
    pub e_result: Option<f64>,
}

/// Staff of one unit.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Staff {
    /// Desk clerks (reception, digitisation, return).
    pub clerks: f64,
    /// Specialists (appraisal).
    pub specialists: f64,
    /// Leaders (approval and signature).
    pub leaders: f64,
}

/// A unit given one by one.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUnit {
    /// Name.
    pub name: String,
    /// Relative size (volume multiplier, default 1).
    #[serde(default = "one")]
    pub size: f64,
    /// Staff (default: the tier's).
    pub staff: Option<Staff>,
}

fn one() -> f64 {
    1.0
}

/// The units of one tier of a province.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTier {
    /// Which tier.
    pub tier: Tier,
    /// Number of units (when not listed one by one).
    pub units: Option<i64>,
    /// Spread of unit sizes around 1 (normalised to mean 1).
    pub size: Option<Dist>,
    /// Staff of a unit of size 1 (scaled by size, at least 1 of each).
    pub staff: Option<Staff>,
    /// Units one by one.
    #[serde(default)]
    pub unit: Vec<RawUnit>,
}

/// A province entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvince {
    /// Name.
    pub name: String,
    /// Its tiers.
    pub tier: Vec<RawTier>,
}

/// Calendar settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalendar {
    /// The one-stop desks (clerks) serve citizens on Saturday mornings,
    /// 07:30–11:30. Service hours only: deadlines still count Monday–Friday.
    #[serde(default)]
    pub saturday_morning: bool,
    /// The back office (specialists and leaders) also works Saturday mornings.
    #[serde(default)]
    pub saturday_back_office: bool,
    /// Extra holidays (YYYY-MM-DD).
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Extra make-up working days (YYYY-MM-DD).
    #[serde(default)]
    pub make_up_days: Vec<String>,
    /// Leave out the built-in Vietnamese holidays.
    #[serde(default)]
    pub no_builtin_holidays: bool,
}

/// Seasonal profiles (relative weights; normalised internally).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfiles {
    /// 12 weights, January first.
    pub month: Option<Vec<f64>>,
    /// 7 weights, Monday first.
    pub weekday: Option<Vec<f64>>,
    /// 24 weights for in-person and postal arrivals by hour (only office hours count).
    pub hour: Option<Vec<f64>>,
    /// 24 weights for online arrivals by hour.
    pub online_hour: Option<Vec<f64>>,
}

/// Model parameters.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// Probability an agency sends the apology for a dossier it sees will be late.
    #[serde(default = "default_compliance")]
    pub apology_compliance: f64,
    /// Working minutes an electronic liên thông transfer takes once sent.
    pub electronic_transfer_minutes: Option<Dist>,
    /// Working minutes a paper transfer takes.
    pub paper_transfer_minutes: Option<Dist>,
    /// Memory bound: most dossiers in flight in one province before the run stops.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: i64,
    /// Queue discipline of the specialists and leaders: `fifo` (default) or
    /// `edf`; the desk always serves the counter before the online in-tray.
    #[serde(default)]
    pub queue: QueueKind,
}

/// Queue discipline of the staff pools.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// First come, first served.
    #[default]
    Fifo,
    /// Earliest appointment first.
    Edf,
}

fn default_compliance() -> f64 {
    0.8
}
fn default_max_in_flight() -> i64 {
    2_000_000
}

/// Validated procedure.
#[derive(Clone, Debug, PartialEq)]
pub struct Procedure {
    /// Identifier.
    pub id: String,
    /// Receiving tier.
    pub tier: Tier,
    /// Competent tier.
    pub competent_tier: Tier,
    /// Deadline, working days.
    pub deadline_days: u32,
    /// Dossiers per year per unit of size 1.
    pub volume_per_unit: f64,
    /// Shares by [`Channel::ALL`] order.
    pub channels: [f64; 4],
    /// Incomplete at desk.
    pub incomplete_at_desk: f64,
    /// Deficient at appraisal.
    pub incomplete_at_appraisal: f64,
    /// Citizen's supplement time, calendar days.
    pub supplement_days: Dist,
    /// Desk effort at the counter, minutes.
    pub desk_minutes: Dist,
    /// Desk effort to check an online dossier from the in-tray, minutes.
    pub online_check_minutes: Dist,
    /// Specialist effort, minutes.
    pub appraisal_minutes: Dist,
    /// Leader effort, minutes.
    pub approval_minutes: Dist,
    /// In-tray time at each internal handoff, working days.
    pub handoff_days: Dist,
    /// Transfer mode.
    pub transfer: Transfer,
    /// Digitisation probability of paper dossiers.
    pub digitisation: f64,
    /// Fee-bearing.
    pub fee: bool,
    /// Online payment share.
    pub online_payment: f64,
    /// Paper result required.
    pub paper_result: bool,
    /// E-result share.
    pub e_result: f64,
}

/// A validated unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// Name (unique in the province).
    pub name: String,
    /// Tier.
    pub tier: Tier,
    /// Relative size.
    pub size: f64,
    /// Index of the parent unit (district for communes, province for districts; province for communes without districts).
    pub parent: Option<usize>,
    /// Servers per pool: clerks, specialists, leaders.
    pub servers: [u32; 3],
}

/// A validated province.
#[derive(Clone, Debug, PartialEq)]
pub struct Province {
    /// Name.
    pub name: String,
    /// Units, province first, then districts, then communes.
    pub units: Vec<Unit>,
}

/// Validated model parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelParams {
    /// Apology compliance.
    pub apology_compliance: f64,
    /// Electronic transfer, working minutes.
    pub electronic_transfer_minutes: Dist,
    /// Paper transfer, working minutes.
    pub paper_transfer_minutes: Dist,
    /// Memory bound per province.
    pub max_in_flight: usize,
    /// Serve every pool earliest-deadline-first (else FIFO).
    pub edf: bool,
    /// A transition shock, if any.
    pub shock: Option<Shock>,
}

/// A transition shock: staff work at reduced productivity for a while, and a
/// backlog of dossiers from abolished desks arrives at its start.
#[derive(Clone, Debug, PartialEq)]
pub struct Shock {
    /// Start, minutes since the scenario's start.
    pub start: f64,
    /// End, minutes since the scenario's start.
    pub end: f64,
    /// Productivity during the shock, in (0, 1]: effort is divided by it.
    pub productivity: f64,
    /// Dossiers moved in at the start (spread over its first working day in the normal mix).
    pub backlog: f64,
}

/// Normalised seasonal weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Profiles {
    /// Month weights (mean 1).
    pub month: [f64; 12],
    /// Weekday weights, Monday first.
    pub weekday: [f64; 7],
    /// In-person hour weights.
    pub hour: [f64; 24],
    /// Online hour weights.
    pub online_hour: [f64; 24],
}

/// The calendars of a scenario, kept apart (DESIGN §3.1).
///
/// The **legal calendar** (Monday–Friday office hours, less public holidays,
/// plus official make-up days) counts deadlines, apologies, the 15:00
/// cut-off, citizen time excluded from the clock, liên thông transfers and
/// turnaround. Each pool's **service hours** say when its staff work: effort
/// elapses in them, in-person dossiers arrive in the desk's hours, and
/// utilisation is measured against them. Opening on Saturday adds service
/// hours; it never makes Saturday a working day for a deadline.
#[derive(Clone, Debug)]
pub struct Calendars {
    /// The legal calendar.
    pub legal: Arc<WorkCalendar>,
    /// Service hours of each pool, in [`crate::model::POOLS`] order (clerks, specialists, leaders).
    pub service: [Arc<WorkCalendar>; 3],
}

impl Calendars {
    /// Every pool works the legal calendar's hours.
    pub fn new(legal: WorkCalendar) -> Self {
        let legal = Arc::new(legal);
        Self {
            service: [legal.clone(), legal.clone(), legal.clone()],
            legal,
        }
    }

    /// The desk's (clerks') service hours: when citizens can come to the counter.
    pub fn desk(&self) -> &WorkCalendar {
        &self.service[0]
    }

    /// Opens Saturday mornings (07:30–11:30) for the desk and, with
    /// `back_office`, for specialists and leaders; never closes what is open.
    pub fn open_saturday(&mut self, desk: bool, back_office: bool) {
        if !desk && !back_office {
            return;
        }
        let mut saturday = (*self.legal).clone();
        saturday.set_saturday_morning(true);
        let saturday = Arc::new(saturday);
        for (k, cal) in self.service.iter_mut().enumerate() {
            if (k == 0 && desk) || (k > 0 && back_office) {
                *cal = saturday.clone();
            }
        }
    }
}

/// A validated one-stop scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Fingerprint of the files it was read from, as merged (see
    /// [`RawChain::fingerprint`]); outputs carry it to tell runs apart.
    pub hash: u64,
    /// Start date (time 0).
    pub start: NaiveDate,
    /// Warm-up, days.
    pub warmup_days: u32,
    /// Tallied horizon after the warm-up, days.
    pub horizon_days: u32,
    /// Replications.
    pub replications: u64,
    /// Master seed.
    pub seed: u64,
    /// The legal calendar and each pool's service hours.
    pub calendars: Calendars,
    /// Seasonal profiles.
    pub profiles: Profiles,
    /// Procedure catalogue.
    pub procedures: Vec<Procedure>,
    /// Provinces.
    pub provinces: Vec<Province>,
    /// Parameters.
    pub model: ModelParams,
    /// Index parameters (the `[index]` table).
    pub index: crate::index::IndexParams,
    /// Influential defaults this scenario relies on: fields left out whose
    /// default changes results materially, one line per field with the
    /// procedures concerned and the value used.
    pub assumptions: Vec<String>,
}

fn prob(errors: &mut Vec<FieldError>, field: String, x: f64) {
    if !(x.is_finite() && (0.0..=1.0).contains(&x)) {
        errors.push(FieldError::new(
            field,
            format!("must be a probability in [0, 1] (got {x})"),
        ));
    }
}

fn dist_ok(errors: &mut Vec<FieldError>, field: &str, d: &Dist) {
    if let Err(es) = d.validate() {
        for e in es {
            errors.push(FieldError::new(format!("{field}.{}", e.field), e.message));
        }
    }
}

fn date(errors: &mut Vec<FieldError>, field: String, s: &str) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                format!("malformed date `{s}`; expected YYYY-MM-DD, e.g. 2022-01-01"),
            ));
            None
        }
    }
}

fn weights<const N: usize>(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: &Option<Vec<f64>>,
    default: [f64; N],
) -> [f64; N] {
    let Some(v) = v else { return default };
    if v.len() != N {
        errors.push(FieldError::new(
            field,
            format!("must list {N} weights (got {})", v.len()),
        ));
        return default;
    }
    let mut out = [0.0; N];
    for (i, &x) in v.iter().enumerate() {
        if !(x.is_finite() && x >= 0.0) {
            errors.push(FieldError::new(
                format!("{field}[{i}]"),
                format!("must be a weight ≥ 0 (got {x})"),
            ));
        }
        out[i] = x;
    }
    if out.iter().sum::<f64>() <= 0.0 {
        errors.push(FieldError::new(field, "at least one weight must be > 0"));
        return default;
    }
    out
}

/// Default in-person hour weights: a morning peak (Vietnamese desks see most visitors 8–10 h).
const HOUR_DEFAULT: [f64; 24] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.4, 1.5, 1.3, 1.0, 0.3, 0.5, 1.0, 1.1, 0.9, 0.5, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0,
];
/// Default online hour weights: daytime-heavy but never zero.
const ONLINE_HOUR_DEFAULT: [f64; 24] = [
    0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.7, 1.2, 1.4, 1.4, 1.2, 0.8, 0.9, 1.2, 1.3, 1.2, 1.0,
    0.8, 0.8, 0.9, 0.8, 0.5, 0.2,
];

/// Reads and validates a scenario file named by the user.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = super::read(path, Origin::Named)?;
    parse(path, &text)
}

/// A reform entry and the file it comes from.
type ReformEntry = (std::path::PathBuf, usize, toml::Value);

/// Parses and validates scenario text; `path` names the file in errors.
///
/// A file may say `extends = "base.toml"` (relative to itself): the base is
/// read first (recursively), the file's own top-level keys override the
/// base's, its name defaults to its file stem, and the `[[reform]]` entries
/// of the chain are applied in order (the base's first) to the resolved
/// base. Every error names its own file (the base's, for a key the overlay
/// does not override), its reform index and its field; all errors of all the
/// files are reported at once.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let raw = RawChain::read(path, text, Origin::Named)?;
    raw.build(path)
}

/// A scenario's `extends` chain read but not yet resolved: the merged
/// top-level table and the chain's reform entries in order. Sweeps edit
/// fields here (see [`RawChain::set`]) before resolving.
#[derive(Clone, Debug)]
pub struct RawChain {
    /// The merged top-level table.
    pub table: toml::Table,
    reforms: Vec<ReformEntry>,
    /// The file each top-level key of `table` comes from.
    origin: BTreeMap<String, std::path::PathBuf>,
    /// The files of the chain, the named one first.
    files: Vec<std::path::PathBuf>,
}

impl RawChain {
    /// Reads `text` (the file at `path`, read as `origin` says) and its bases.
    pub fn read(path: &Path, text: &str, origin: Origin) -> Result<Self, ScenarioError> {
        let mut chain = vec![path.to_path_buf()];
        let (table, reforms, keys) = load_chain(path, text, origin, &mut chain)?;
        Ok(Self {
            table,
            reforms,
            origin: keys,
            files: chain,
        })
    }

    /// A stable 64-bit fingerprint of the whole chain as merged (every
    /// file's keys and reform entries, in order): two chains with the same
    /// content have the same fingerprint, whatever their files are called.
    pub fn fingerprint(&self) -> u64 {
        let mut h = Fnv::new();
        h.write(
            toml::Value::Table(self.table.clone())
                .to_string()
                .as_bytes(),
        );
        for (_, _, r) in &self.reforms {
            h.write(b"\x00reform\x00");
            h.write(r.to_string().as_bytes());
        }
        h.finish()
    }

    /// The files of the chain, the named one first.
    pub fn files(&self) -> &[std::path::PathBuf] {
        &self.files
    }

    /// Every numeric field's path, with list entries shown by their name
    /// where it is unique (`province[seed-province].tier[commune].staff.clerks`,
    /// `procedure[p-enterprise].deadline_days`, `reform[0].add`, ...).
    pub fn numeric_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        super::path::numeric_leaves(
            &toml::Value::Table(self.table.clone()),
            String::new(),
            &mut out,
        );
        for (k, (_, _, v)) in self.reforms.iter().enumerate() {
            super::path::numeric_leaves(v, format!("reform[{k}]"), &mut out);
        }
        out
    }

    /// Sets the numeric field(s) at `path` (see [`super::path`]: positional,
    /// named or the tier shorthand) and returns how many were set. Each
    /// must exist and be numeric; an integer field stays an integer when `x`
    /// is integral. A missing name or field is an error that lists the valid
    /// ones at that level.
    pub fn set(&mut self, path: &str, x: f64) -> Result<usize, String> {
        self.edit(path, &|_| x)
    }

    /// Multiplies the numeric field(s) at `path` by `factor` (as [`RawChain::set`] selects them).
    pub fn scale(&mut self, path: &str, factor: f64) -> Result<usize, String> {
        self.edit(path, &|v| v * factor)
    }

    /// The values of the numeric field(s) at `path` (as [`RawChain::set`] selects them).
    pub fn values(&self, path: &str) -> Result<Vec<f64>, String> {
        let seen = std::cell::RefCell::new(Vec::new());
        self.clone().edit(path, &|v| {
            seen.borrow_mut().push(v);
            v
        })?;
        Ok(seen.into_inner())
    }

    /// Replaces each numeric field at `path` by `op` of its value.
    fn edit(&mut self, path: &str, op: &dyn Fn(f64) -> f64) -> Result<usize, String> {
        use super::path::{Selector, apply, edit_number, expand_shorthand, parse, select};
        let segs = expand_shorthand(parse(path)?);
        let mut f = |v: &mut toml::Value, at: &str| edit_number(v, at, op);
        if segs[0].key == "reform" && !self.table.contains_key("reform") {
            let entries: Vec<toml::Value> = self.reforms.iter().map(|r| r.2.clone()).collect();
            let sel = segs[0].selectors.first().cloned().unwrap_or(Selector::All);
            if entries.is_empty() {
                return Err("this scenario has no reform entries".into());
            }
            if segs[0].selectors.len() > 1 {
                return Err(
                    "a reform entry is a table, not a list: write `reform[0].field`".into(),
                );
            }
            let picked = select(&entries, &sel, "reform")?;
            let mut n = 0;
            for (i, shown) in picked {
                n += apply(
                    &mut self.reforms[i].2,
                    &segs[1..],
                    &format!("reform[{shown}]"),
                    &mut f,
                )?;
            }
            return Ok(n);
        }
        let mut root = toml::Value::Table(std::mem::take(&mut self.table));
        let out = apply(&mut root, &segs, "", &mut f);
        if let toml::Value::Table(t) = root {
            self.table = t;
        }
        match out {
            Ok(0) => Err(format!("`{path}` selects nothing")),
            other => other,
        }
    }

    /// Resolves the table and applies the reforms; `path` names the scenario in errors.
    pub fn build(self, path: &Path) -> Result<Scenario, ScenarioError> {
        let hash = self.fingerprint();
        let Self {
            table,
            reforms,
            origin,
            files,
        } = self;
        // Place each error in the file its key comes from; a file the user
        // did not name shows its place, not its content.
        let place = |mut e: FieldError, file: &Path| {
            if file != path {
                e.file = Some(file.to_path_buf());
            }
            if files.first().is_some_and(|f| f.as_path() != file) {
                e.message = super::redact(&e.message);
            }
            e
        };
        let mut sc = match resolve(path, table) {
            Ok(sc) => sc,
            Err(errors) => {
                let errors = errors
                    .into_iter()
                    .map(|e| {
                        let key = e.field.split(['.', '[']).next().unwrap_or_default();
                        let file = origin.get(key).map_or(path, |f| f.as_path());
                        place(e, file)
                    })
                    .collect();
                return Err(ScenarioError::Invalid {
                    path: path.to_path_buf(),
                    errors,
                });
            }
        };
        let mut ledger = super::reform::Ledger::default();
        let mut errors = Vec::new();
        for (file, k, value) in reforms {
            let mut mine = Vec::new();
            let entry = value.clone();
            if let Some(r) =
                typed::<super::reform::Reform>(&format!("reform[{k}]"), value, &mut mine)
                && let Err(es) = r.apply(&mut sc, k, &mut ledger)
            {
                mine.extend(es);
            }
            for mut e in mine {
                locate_reform_field(&mut e, k, &entry);
                errors.push(place(e, &file));
            }
        }
        if errors.is_empty() {
            errors.extend(scale_limits(&sc).into_iter().map(|e| place(e, path)));
        }
        if !errors.is_empty() {
            return Err(ScenarioError::Invalid {
                path: path.to_path_buf(),
                errors,
            });
        }
        sc.hash = hash;
        Ok(sc)
    }
}

/// Serde's tagged enums lose the path inside a reform; recover the field
/// from the message (the key holding an unknown variant, or an unknown key).
fn locate_reform_field(e: &mut FieldError, k: usize, entry: &toml::Value) {
    if e.field != format!("reform[{k}]") {
        return;
    }
    let quoted = |m: &str, after: &str| {
        m.split(after)
            .nth(1)
            .and_then(|r| r.split('`').nth(1))
            .map(str::to_string)
    };
    let Some(table) = entry.as_table() else {
        return;
    };
    if let Some(v) = quoted(&e.message, "unknown variant")
        && let Some((key, _)) = table.iter().find(|(key, val)| {
            *key != "kind"
                && (val.as_str() == Some(v.as_str())
                    || val
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(v.as_str()))))
        })
    {
        e.field = format!("reform[{k}].{key}");
    } else if let Some(f) = quoted(&e.message, "unknown field") {
        e.field = format!("reform[{k}].{f}");
    } else if e.message.contains("unknown variant") {
        e.field = format!("reform[{k}].kind");
    }
}

/// What [`load_chain`] returns: the merged table, the reform entries in order, and each top-level key's file.
type Chain = (
    toml::Table,
    Vec<ReformEntry>,
    BTreeMap<String, std::path::PathBuf>,
);

fn load_chain(
    path: &Path,
    text: &str,
    origin: Origin,
    chain: &mut Vec<std::path::PathBuf>,
) -> Result<Chain, ScenarioError> {
    let mut table = parse_table(path, text, origin)?;
    let invalid = |field: &str, message: String| ScenarioError::Invalid {
        path: path.to_path_buf(),
        errors: vec![FieldError::new(field, message)],
    };
    let own: Vec<ReformEntry> = match table.remove("reform") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(k, v)| (path.to_path_buf(), k, v))
            .collect(),
        Some(other) => {
            return Err(invalid(
                "reform",
                format!(
                    "expected an array of tables (`[[reform]]`), found a {}",
                    other.type_str()
                ),
            ));
        }
    };
    let mine = |table: &toml::Table| -> BTreeMap<String, std::path::PathBuf> {
        table
            .keys()
            .map(|k| (k.clone(), path.to_path_buf()))
            .collect()
    };
    let edits = match table.remove("edit") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items,
        Some(other) => {
            return Err(invalid(
                "edit",
                format!(
                    "expected an array of tables (`[[edit]]`), found a {}",
                    other.type_str()
                ),
            ));
        }
    };
    let Some(ext) = table.remove("extends") else {
        let keys = mine(&table);
        apply_edits(path, &mut table, &edits)?;
        return Ok((table, own, keys));
    };
    let Some(ext) = ext.as_str() else {
        return Err(invalid(
            "extends",
            "must be the path of a base scenario file, e.g. extends = \"../baseline.toml\"".into(),
        ));
    };
    let base_path = path.parent().unwrap_or(Path::new("")).join(ext);
    let key = std::fs::canonicalize(&base_path).unwrap_or_else(|_| base_path.clone());
    let seen: Vec<std::path::PathBuf> = chain
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    if seen.contains(&key) {
        let names: Vec<String> = chain
            .iter()
            .chain(std::iter::once(&base_path))
            .map(|p| p.display().to_string())
            .collect();
        return Err(invalid(
            "extends",
            format!(
                "`{ext}` makes a cycle: {}; break the chain",
                names.join(" → ")
            ),
        ));
    }
    let base_text = super::read(&base_path, Origin::Referenced).map_err(|e| {
        let why = match e {
            ScenarioError::Io { source, .. } => source.to_string(),
            ScenarioError::Refused { why, .. } => why,
            other => other.to_string(),
        };
        invalid(
            "extends",
            format!(
                "cannot read the base scenario `{}`: {why}; the path is relative to this file",
                base_path.display()
            ),
        )
    })?;
    chain.push(base_path.clone());
    let (mut base, mut reforms, mut keys) =
        load_chain(&base_path, &base_text, Origin::Referenced, chain)?;
    if !table.contains_key("name")
        && let Some(stem) = path.file_stem()
    {
        base.insert(
            "name".into(),
            toml::Value::String(stem.to_string_lossy().into_owned()),
        );
        keys.insert("name".into(), path.to_path_buf());
    }
    keys.extend(mine(&table));
    for (k, v) in table {
        base.insert(k, v);
    }
    apply_edits(path, &mut base, &edits)?;
    reforms.extend(own);
    Ok((base, reforms, keys))
}

/// Applies a file's `[[edit]]` entries (`path` and one of `set` or `scale`)
/// to the table merged so far (the file over its bases), in order; every
/// bad entry is reported at once.
fn apply_edits(
    file: &Path,
    table: &mut toml::Table,
    edits: &[toml::Value],
) -> Result<(), ScenarioError> {
    let mut errors = Vec::new();
    let mut root = toml::Value::Table(std::mem::take(table));
    for (i, e) in edits.iter().enumerate() {
        let at = |f: &str| format!("edit[{i}].{f}");
        let Some(t) = e.as_table() else {
            errors.push(FieldError::new(format!("edit[{i}]"), "expected a table"));
            continue;
        };
        if let Some(k) = t
            .keys()
            .find(|k| !["path", "set", "scale"].contains(&k.as_str()))
        {
            errors.push(FieldError::new(
                at(k),
                "unknown field; the fields of an edit are path, set and scale",
            ));
            continue;
        }
        let Some(p) = t.get("path").and_then(|v| v.as_str()) else {
            errors.push(FieldError::new(
                at("path"),
                "missing: the field path to edit, e.g. \"procedure[*].handoff_days.mean\"",
            ));
            continue;
        };
        let num = |k: &str| {
            t.get(k).map(|v| match v {
                toml::Value::Integer(n) => Some(*n as f64),
                toml::Value::Float(x) if x.is_finite() => Some(*x),
                _ => None,
            })
        };
        let op: Box<dyn Fn(f64) -> f64> = match (num("set"), num("scale")) {
            (Some(Some(x)), None) => Box::new(move |_| x),
            (None, Some(Some(f))) if f >= 0.0 => Box::new(move |v| v * f),
            (None, None) | (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    at("set"),
                    "give exactly one of set and scale",
                ));
                continue;
            }
            _ => {
                errors.push(FieldError::new(
                    at("set"),
                    "must be a finite number (scale ≥ 0)",
                ));
                continue;
            }
        };
        let result = super::path::parse(p).and_then(|segs| {
            let segs = super::path::expand_shorthand(segs);
            let mut f = |v: &mut toml::Value, at: &str| super::path::edit_number(v, at, &*op);
            super::path::apply(&mut root, &segs, "", &mut f)
        });
        match result {
            Ok(0) => errors.push(FieldError::new(
                at("path"),
                format!("`{p}` selects nothing"),
            )),
            Ok(_) => {}
            Err(why) => errors.push(FieldError::new(at("path"), why)),
        }
    }
    if let toml::Value::Table(t) = root {
        *table = t;
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ScenarioError::Invalid {
            path: file.to_path_buf(),
            errors,
        })
    }
}

/// Validates a scenario table (without `extends` or reforms).
fn resolve(path: &Path, mut table: toml::Table) -> Result<Scenario, Vec<FieldError>> {
    let mut errors = Vec::new();
    // Every required key of every entry, all at once (serde stops at the first).
    for (key, required) in [
        ("procedure", PROCEDURE_REQUIRED),
        ("province", PROVINCE_REQUIRED),
    ] {
        if let Some(toml::Value::Array(items)) = table.get_mut(key) {
            for (i, item) in items.iter_mut().enumerate() {
                let missing = super::missing_keys(item, required);
                if !missing.is_empty() {
                    for m in &missing {
                        errors.push(FieldError::new(
                            format!("{key}[{i}].{m}"),
                            "missing: this field is required",
                        ));
                    }
                    // Already reported: do not let serde report the first again.
                    *item = toml::Value::Table(toml::Table::new());
                }
            }
        }
    }
    // Names and ids must be strings (a TOML date or number is refused, not converted).
    for (key, field) in [("procedure", "id"), ("province", "name")] {
        if let Some(toml::Value::Array(items)) = table.get(key) {
            for (i, item) in items.iter().enumerate() {
                if let Some(v) = item.get(field)
                    && !v.is_str()
                {
                    errors.push(FieldError::new(
                        format!("{key}[{i}].{field}"),
                        format!(
                            "must be a string in quotes (got a {}), e.g. {field} = \"x-1\"",
                            v.type_str()
                        ),
                    ));
                }
            }
        }
    }
    if let Some(v) = table.get("name")
        && !v.is_str()
    {
        errors.push(FieldError::new(
            "name",
            format!("must be a string in quotes (got a {})", v.type_str()),
        ));
        table.remove("name");
    }
    let mut take = |key: &str| table.remove(key);

    let name: Option<String> = take("name").and_then(|v| typed("name", v, &mut errors));
    if let Some(n) = &name {
        check_name(&mut errors, "name", n);
    }
    let _description = take("description");
    let start: Option<String> = take("start").and_then(|v| typed("start", v, &mut errors));
    let horizon_days: Option<i64> =
        take("horizon_days").and_then(|v| typed("horizon_days", v, &mut errors));
    let warmup_days: Option<i64> =
        take("warmup_days").and_then(|v| typed("warmup_days", v, &mut errors));
    let replications: Option<i64> =
        take("replications").and_then(|v| typed("replications", v, &mut errors));
    let seed: Option<u64> = take("seed").and_then(|v| typed("seed", v, &mut errors));
    let raw_cal: RawCalendar = take("calendar")
        .and_then(|v| typed("calendar", v, &mut errors))
        .unwrap_or_default();
    let raw_prof: Option<RawProfiles> =
        take("profiles").and_then(|v| typed("profiles", v, &mut errors));
    let raw_model: Option<RawModel> = take("model").and_then(|v| typed("model", v, &mut errors));
    let index: crate::index::IndexParams = take("index")
        .and_then(|v| typed("index", v, &mut errors))
        .unwrap_or_default();
    let procs: Vec<Option<RawProcedure>> = typed_array(&mut table, "procedure", &mut errors);
    let provs: Vec<Option<RawProvince>> = typed_array(&mut table, "province", &mut errors);
    for key in table.keys() {
        errors.push(FieldError::new(
            key.clone(),
            "unknown key; expected one of name, description, start, horizon_days, warmup_days, replications, seed, calendar, profiles, model, index, procedure, province",
        ));
    }

    let name = name.unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let start = match &start {
        Some(s) => date(&mut errors, "start".into(), s),
        None => {
            errors.push(FieldError::new(
                "start",
                "missing: give the first simulated day, e.g. start = \"2022-01-01\"",
            ));
            None
        }
    };
    let horizon_days = horizon_days.unwrap_or(365);
    if !(1..=3650).contains(&horizon_days) {
        errors.push(FieldError::new(
            "horizon_days",
            format!("must be between 1 and 3650 (got {horizon_days})"),
        ));
    }
    let warmup_days = warmup_days.unwrap_or(30);
    if !(0..=365).contains(&warmup_days) {
        errors.push(FieldError::new(
            "warmup_days",
            format!("must be between 0 and 365 (got {warmup_days})"),
        ));
    }
    let replications = replications.unwrap_or(10);
    if !(1..=limits::MAX_REPLICATIONS as i64).contains(&replications) {
        errors.push(FieldError::new(
            "replications",
            format!(
                "must be between 1 and {} (got {replications})",
                limits::MAX_REPLICATIONS
            ),
        ));
    }

    // Calendar.
    let mut holidays: Vec<NaiveDate> = if raw_cal.no_builtin_holidays {
        Vec::new()
    } else {
        crate::calendar::vietnam_holidays()
            .into_iter()
            .map(|h| h.date)
            .collect()
    };
    for (i, s) in raw_cal.holidays.iter().enumerate() {
        holidays.extend(date(&mut errors, format!("calendar.holidays[{i}]"), s));
    }
    let mut make_up: Vec<NaiveDate> = if raw_cal.no_builtin_holidays {
        Vec::new()
    } else {
        crate::calendar::vietnam_make_up_days()
            .into_iter()
            .map(|h| h.date)
            .collect()
    };
    for (i, s) in raw_cal.make_up_days.iter().enumerate() {
        make_up.extend(date(&mut errors, format!("calendar.make_up_days[{i}]"), s));
    }
    if let Some(start) = start {
        let last = start + chrono::Duration::days(warmup_days + horizon_days);
        use chrono::Datelike;
        if !raw_cal.no_builtin_holidays
            && (start.year() < crate::calendar::HOLIDAY_YEARS.0
                || last.year() > crate::calendar::HOLIDAY_YEARS.1)
        {
            errors.push(FieldError::new(
                "start",
                format!(
                    "the run spans {start} to {last}, but built-in holidays cover {}–{} only; move the dates, or list holidays and set calendar.no_builtin_holidays = true",
                    crate::calendar::HOLIDAY_YEARS.0,
                    crate::calendar::HOLIDAY_YEARS.1
                ),
            ));
        }
    }

    // Profiles.
    let rp = raw_prof.unwrap_or(RawProfiles {
        month: None,
        weekday: None,
        hour: None,
        online_hour: None,
    });
    let mut month = weights(&mut errors, "profiles.month", &rp.month, [1.0; 12]);
    let m = month.iter().sum::<f64>() / 12.0;
    month.iter_mut().for_each(|x| *x /= m);
    let profiles = Profiles {
        month,
        weekday: weights(&mut errors, "profiles.weekday", &rp.weekday, [1.0; 7]),
        hour: weights(&mut errors, "profiles.hour", &rp.hour, HOUR_DEFAULT),
        online_hour: weights(
            &mut errors,
            "profiles.online_hour",
            &rp.online_hour,
            ONLINE_HOUR_DEFAULT,
        ),
    };

    // Model parameters.
    let rm = raw_model.unwrap_or(RawModel {
        apology_compliance: default_compliance(),
        electronic_transfer_minutes: None,
        paper_transfer_minutes: None,
        max_in_flight: default_max_in_flight(),
        queue: QueueKind::Fifo,
    });
    prob(
        &mut errors,
        "model.apology_compliance".into(),
        rm.apology_compliance,
    );
    if !(1000..=limits::MAX_IN_FLIGHT).contains(&rm.max_in_flight) {
        errors.push(FieldError::new(
            "model.max_in_flight",
            format!(
                "must be between 1000 and {} dossiers (got {}); it bounds the memory of one province's backlog",
                limits::MAX_IN_FLIGHT,
                rm.max_in_flight
            ),
        ));
    }
    let model = ModelParams {
        apology_compliance: rm.apology_compliance,
        electronic_transfer_minutes: rm
            .electronic_transfer_minutes
            .unwrap_or(Dist::Exponential { mean: 30.0 }),
        paper_transfer_minutes: rm.paper_transfer_minutes.unwrap_or(Dist::Uniform {
            min: 60.0,
            max: 450.0,
        }),
        max_in_flight: rm.max_in_flight.max(0) as usize,
        edf: rm.queue == QueueKind::Edf,
        shock: None,
    };
    duration_ok(
        &mut errors,
        "model.electronic_transfer_minutes",
        &model.electronic_transfer_minutes,
        limits::MAX_TRANSFER_MINUTES,
        "working minutes",
    );
    duration_ok(
        &mut errors,
        "model.paper_transfer_minutes",
        &model.paper_transfer_minutes,
        limits::MAX_TRANSFER_MINUTES,
        "working minutes",
    );

    errors.extend(index.validate());

    // Procedures.
    let mut procedures = Vec::new();
    let mut defaulted: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    if procs.is_empty() {
        errors.push(FieldError::new(
            "procedure",
            "the scenario needs at least one [[procedure]]",
        ));
    }
    if procs.len() > limits::MAX_PROCEDURES {
        errors.push(FieldError::new(
            "procedure",
            format!(
                "at most {} procedures (got {})",
                limits::MAX_PROCEDURES,
                procs.len()
            ),
        ));
    }
    for (i, p) in procs.iter().enumerate() {
        let Some(p) = p else { continue };
        let at = |f: &str| format!("procedure[{i}].{f}");
        check_id(&mut errors, &at("id"), &p.id);
        if let Some(first) = ids.insert(p.id.clone(), i) {
            errors.push(FieldError::new(
                at("id"),
                format!("duplicate id `{}` (already procedure[{first}])", p.id),
            ));
        }
        if p.deadline_days < 0 || p.deadline_days > 365 {
            errors.push(FieldError::new(
                at("deadline_days"),
                format!(
                    "must be between 0 and 365 working days (got {})",
                    p.deadline_days
                ),
            ));
        }
        if !(p.volume_per_unit.is_finite() && p.volume_per_unit > 0.0) {
            errors.push(FieldError::new(
                at("volume_per_unit"),
                format!("must be > 0 dossiers per year (got {})", p.volume_per_unit),
            ));
        }
        let ch = &p.channels;
        let shares = [ch.in_person, ch.postal, ch.online_partial, ch.online_full];
        for (c, &x) in Channel::ALL.iter().zip(&shares) {
            prob(&mut errors, at(&format!("channels.{}", c.name())), x);
        }
        let sum: f64 = shares.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            errors.push(FieldError::new(
                at("channels"),
                format!("shares must sum to 1 (got {sum})"),
            ));
        }
        let online_share = ch.online_partial + ch.online_full;
        for (field, missing) in [
            ("handoff_days", p.handoff_days.is_none()),
            ("incomplete_at_desk", p.incomplete_at_desk.is_none()),
            (
                "incomplete_at_appraisal",
                p.incomplete_at_appraisal.is_none(),
            ),
            (
                "supplement_days",
                p.supplement_days.is_none()
                    && (p.incomplete_at_desk.unwrap_or(0.0) > 0.0
                        || p.incomplete_at_appraisal.unwrap_or(0.0) > 0.0),
            ),
            (
                "online_check_minutes",
                p.online_check_minutes.is_none() && online_share > 0.0,
            ),
            ("e_result", p.e_result.is_none() && p.paper_result),
        ] {
            if missing {
                defaulted.entry(field).or_default().push(p.id.clone());
            }
        }
        let incomplete_at_desk = p.incomplete_at_desk.unwrap_or(0.0);
        let incomplete_at_appraisal = p.incomplete_at_appraisal.unwrap_or(0.0);
        let e_result = p.e_result.unwrap_or(0.0);
        for (f, x) in [
            ("incomplete_at_desk", incomplete_at_desk),
            ("incomplete_at_appraisal", incomplete_at_appraisal),
            ("digitisation", p.digitisation),
            ("online_payment", p.online_payment),
            ("e_result", e_result),
        ] {
            prob(&mut errors, at(f), x);
        }
        let supplement_days = p
            .supplement_days
            .clone()
            .unwrap_or(Dist::Exponential { mean: 5.0 });
        duration_ok(
            &mut errors,
            &at("supplement_days"),
            &supplement_days,
            limits::MAX_DELAY_DAYS,
            "days",
        );
        duration_ok(
            &mut errors,
            &at("desk_minutes"),
            &p.desk_minutes,
            limits::MAX_EFFORT_MINUTES,
            "working minutes",
        );
        let online_check_minutes = p
            .online_check_minutes
            .clone()
            .unwrap_or_else(|| p.desk_minutes.clone());
        if p.online_check_minutes.is_some() {
            duration_ok(
                &mut errors,
                &at("online_check_minutes"),
                &online_check_minutes,
                limits::MAX_EFFORT_MINUTES,
                "working minutes",
            );
        }
        for (f, d) in [
            ("appraisal_minutes", &p.appraisal_minutes),
            ("approval_minutes", &p.approval_minutes),
        ] {
            duration_ok(
                &mut errors,
                &at(f),
                d,
                limits::MAX_EFFORT_MINUTES,
                "working minutes",
            );
        }
        let handoff_days = p.handoff_days.clone().unwrap_or(Dist::constant(0.0));
        duration_ok(
            &mut errors,
            &at("handoff_days"),
            &handoff_days,
            limits::MAX_DELAY_DAYS,
            "working days",
        );
        let competent_tier = p.competent_tier.unwrap_or(p.tier);
        if competent_tier.rank() > p.tier.rank() {
            errors.push(FieldError::new(
                at("competent_tier"),
                format!(
                    "`{}` is below the receiving tier `{}`; a dossier goes up for liên thông, not down (receive it at the {} tier instead)",
                    competent_tier.name(),
                    p.tier.name(),
                    competent_tier.name()
                ),
            ));
        }
        procedures.push(Procedure {
            id: p.id.clone(),
            tier: p.tier,
            competent_tier,
            deadline_days: p.deadline_days.clamp(0, 365) as u32,
            volume_per_unit: p.volume_per_unit,
            channels: shares,
            incomplete_at_desk,
            incomplete_at_appraisal,
            supplement_days,
            desk_minutes: p.desk_minutes.clone(),
            online_check_minutes,
            appraisal_minutes: p.appraisal_minutes.clone(),
            approval_minutes: p.approval_minutes.clone(),
            handoff_days,
            transfer: p.transfer,
            digitisation: p.digitisation,
            fee: p.fee,
            online_payment: p.online_payment,
            paper_result: p.paper_result,
            e_result: if p.paper_result { e_result } else { 1.0 },
        });
    }

    // Provinces.
    let seed = seed.unwrap_or(1);
    let mut provinces = Vec::new();
    if provs.is_empty() {
        errors.push(FieldError::new(
            "province",
            "the scenario needs at least one [[province]]",
        ));
    }
    if provs.len() > limits::MAX_PROVINCES {
        errors.push(FieldError::new(
            "province",
            format!(
                "at most {} provinces (got {})",
                limits::MAX_PROVINCES,
                provs.len()
            ),
        ));
    }
    let mut province_names: HashMap<String, usize> = HashMap::new();
    let mut total_units = 0usize;
    for (pi, p) in provs.iter().enumerate() {
        let Some(p) = p else { continue };
        check_name(&mut errors, &format!("province[{pi}].name"), &p.name);
        if let Some(first) = province_names.insert(p.name.clone(), pi) {
            errors.push(FieldError::new(
                format!("province[{pi}].name"),
                format!("duplicate province name (already province[{first}]); give each province its own name"),
            ));
        }
        if total_units > limits::MAX_UNITS {
            continue;
        }
        let prov = resolve_province(pi, p, seed, &mut errors);
        total_units += prov.units.len();
        if total_units > limits::MAX_UNITS {
            errors.push(FieldError::new(
                format!("province[{pi}]"),
                format!(
                    "the scenario has more than {} units; split it into several scenarios",
                    limits::MAX_UNITS
                ),
            ));
        }
        provinces.push(prov);
    }
    // Every procedure needs a receiving unit and a competent unit in every province.
    for (i, pr) in procedures.iter().enumerate() {
        for (pi, prov) in provinces.iter().enumerate() {
            for (t, what) in [(pr.tier, "tier"), (pr.competent_tier, "competent_tier")] {
                if !prov.units.iter().any(|u| u.tier == t) {
                    errors.push(FieldError::new(
                        format!("procedure[{i}].{what}"),
                        format!(
                            "province[{pi}] (`{}`) has no {} units; add that tier to the province or move the procedure to a tier it has",
                            prov.name,
                            t.name()
                        ),
                    ));
                }
            }
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(start) = start else {
        return Err(errors);
    };
    let legal = WorkCalendar::new(start, default_week(false), holidays, make_up);
    let mut calendars = Calendars::new(legal);
    calendars.open_saturday(raw_cal.saturday_morning, raw_cal.saturday_back_office);
    Ok(Scenario {
        name,
        hash: 0,
        start,
        warmup_days: warmup_days as u32,
        horizon_days: horizon_days as u32,
        replications: replications as u64,
        seed,
        calendars,
        profiles,
        procedures,
        provinces,
        model,
        index,
        assumptions: assumptions(&defaulted),
    })
}

/// One line per influential default that was used: the field, the value,
/// what it means, and the procedures that left it out.
fn assumptions(defaulted: &BTreeMap<&str, Vec<String>>) -> Vec<String> {
    defaulted
        .iter()
        .map(|(field, ids)| {
            let what = match *field {
                "handoff_days" => {
                    "0 working days: no in-tray time between desk, specialist and leader"
                }
                "incomplete_at_desk" => "0: no dossier is returned at the desk for supplements",
                "incomplete_at_appraisal" => "0: no supplement request at appraisal",
                "supplement_days" => {
                    "exponential, mean 5 calendar days for the citizen to supplement"
                }
                "online_check_minutes" => {
                    "the counter's desk_minutes for checking an online dossier"
                }
                "e_result" => "0: no electronic result where a paper one is required",
                _ => "its documented default",
            };
            let shown: Vec<&str> = ids.iter().take(5).map(String::as_str).collect();
            let more = if ids.len() > 5 {
                format!(" and {} more", ids.len() - 5)
            } else {
                String::new()
            };
            format!(
                "procedure.{field} left out in {} procedure(s) ({}{more}): used {what}",
                ids.len(),
                shown.join(", ")
            )
        })
        .collect()
}

fn resolve_province(
    pi: usize,
    p: &RawProvince,
    seed: u64,
    errors: &mut Vec<FieldError>,
) -> Province {
    let at = |f: String| format!("province[{pi}].{f}");
    let mut units: Vec<Unit> = Vec::new();
    let mut seen = [false; 3];
    let mut tiers: Vec<(usize, &RawTier)> = p.tier.iter().enumerate().collect();
    tiers.sort_by_key(|(_, t)| t.tier.rank());
    for (ti, t) in tiers {
        let f = |x: &str| at(format!("tier[{ti}].{x}"));
        if std::mem::replace(&mut seen[t.tier.rank()], true) {
            errors.push(FieldError::new(
                f("tier"),
                format!("tier `{}` is listed twice", t.tier.name()),
            ));
            continue;
        }
        let listed = !t.unit.is_empty();
        if t.unit.len() as i64 > limits::MAX_UNITS_PER_TIER {
            errors.push(FieldError::new(
                f("unit"),
                format!(
                    "at most {} units per tier (got {})",
                    limits::MAX_UNITS_PER_TIER,
                    t.unit.len()
                ),
            ));
            continue;
        }
        let count = if listed {
            if t.units.is_some() {
                errors.push(FieldError::new(
                    f("units"),
                    "give either `units` (a count) or [[unit]] entries, not both",
                ));
            }
            t.unit.len()
        } else {
            match t.units {
                Some(n) if (1..=limits::MAX_UNITS_PER_TIER).contains(&n) => n as usize,
                Some(n) => {
                    errors.push(FieldError::new(
                        f("units"),
                        format!(
                            "must be between 1 and {} (got {n})",
                            limits::MAX_UNITS_PER_TIER
                        ),
                    ));
                    0
                }
                None => {
                    errors.push(FieldError::new(
                        f("units"),
                        "missing: give a count or list [[unit]] entries",
                    ));
                    0
                }
            }
        };
        if t.tier == Tier::Province && count != 1 {
            errors.push(FieldError::new(
                f("units"),
                format!("a province has exactly one province-tier unit (got {count})"),
            ));
        }
        if let Some(s) = &t.staff {
            check_staff(errors, &f("staff"), s);
        }
        if let Some(d) = &t.size {
            dist_ok(errors, &f("size"), d);
        }
        // Sizes: listed, or drawn from the spread (fixed by the seed, not by the replication), mean 1.
        let mut sizes: Vec<f64> = if listed {
            t.unit.iter().map(|u| u.size).collect()
        } else {
            match t.size.as_ref().map(|d| d.sampler()) {
                Some(Ok(s)) => {
                    let mut rng = Streams::new(seed, u64::MAX)
                        .stream("unit-size", &[pi as u64, t.tier.rank() as u64]);
                    (0..count).map(|_| s.sample(&mut rng)).collect()
                }
                _ => vec![1.0; count],
            }
        };
        for (ui, sz) in sizes.iter().enumerate() {
            if !(sz.is_finite() && *sz > 0.0) {
                errors.push(FieldError::new(
                    f(&format!("unit[{ui}].size")),
                    format!("must be > 0 (got {sz})"),
                ));
            }
        }
        if !listed && count > 0 {
            let m = sizes.iter().sum::<f64>() / count as f64;
            if m > 0.0 {
                sizes.iter_mut().for_each(|x| *x /= m);
            }
        }
        // Parents: communes spread in contiguous blocks over districts, or to the province.
        let parents: Vec<usize> = match t.tier {
            Tier::Province => vec![],
            Tier::District => units
                .iter()
                .enumerate()
                .filter(|(_, u)| u.tier == Tier::Province)
                .map(|(i, _)| i)
                .collect(),
            Tier::Commune => {
                let d: Vec<usize> = units
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| u.tier == Tier::District)
                    .map(|(i, _)| i)
                    .collect();
                if d.is_empty() {
                    units
                        .iter()
                        .enumerate()
                        .filter(|(_, u)| u.tier == Tier::Province)
                        .map(|(i, _)| i)
                        .collect()
                } else {
                    d
                }
            }
        };
        for k in 0..count {
            let raw = t.unit.get(k);
            let staff = raw.and_then(|u| u.staff).or(t.staff);
            if let Some(Some(s)) = raw.map(|u| u.staff.as_ref()) {
                check_staff(errors, &f(&format!("unit[{k}].staff")), s);
            }
            let Some(staff) = staff else {
                errors.push(FieldError::new(
                    f("staff"),
                    "missing: give the tier's staff or each unit's staff",
                ));
                break;
            };
            let size = sizes.get(k).copied().unwrap_or(1.0);
            let scale = |x: f64| ((x * size).round().max(1.0)) as u32;
            let parent = if parents.is_empty() {
                None
            } else {
                Some(parents[k * parents.len() / count.max(1)])
            };
            units.push(Unit {
                name: raw.map_or_else(
                    || format!("{}-{}", t.tier.name(), k + 1),
                    |u| u.name.clone(),
                ),
                tier: t.tier,
                size,
                parent,
                servers: [
                    scale(staff.clerks),
                    scale(staff.specialists),
                    scale(staff.leaders),
                ],
            });
        }
    }
    if !seen[Tier::Province.rank()] {
        errors.push(FieldError::new(
            at("tier".into()),
            "a province needs its province tier (one unit)",
        ));
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (k, u) in units.iter().enumerate() {
        check_name(errors, &at(format!("unit `{}`", u.name)), &u.name);
        if let Some(first) = names.insert(u.name.as_str(), k) {
            errors.push(FieldError::new(
                at("tier".into()),
                format!(
                    "two units are named `{}` (units {first} and {k} of the province; counted units are named `<tier>-<n>`); give each unit its own name",
                    u.name
                ),
            ));
        }
    }
    Province {
        name: p.name.clone(),
        units,
    }
}

fn check_staff(errors: &mut Vec<FieldError>, field: &str, s: &Staff) {
    for (f, x) in [
        ("clerks", s.clerks),
        ("specialists", s.specialists),
        ("leaders", s.leaders),
    ] {
        if !(x.is_finite() && x > 0.0 && x <= limits::MAX_SERVERS) {
            errors.push(FieldError::new(
                format!("{field}.{f}"),
                format!("must be > 0 and at most {} (got {x})", limits::MAX_SERVERS),
            ));
        }
    }
}

/// Required keys of a `[[procedure]]` entry (the others have defaults).
pub const PROCEDURE_REQUIRED: &[&str] = &[
    "id",
    "tier",
    "deadline_days",
    "volume_per_unit",
    "channels",
    "desk_minutes",
    "appraisal_minutes",
    "approval_minutes",
];

/// Required keys of a `[[province]]` entry.
pub const PROVINCE_REQUIRED: &[&str] = &["name", "tier"];

/// A name (scenario, province, unit): non-empty, at most
/// [`limits::MAX_NAME_CHARS`] characters, no control characters and no `/`
/// (outputs join province and unit names with it).
pub(super) fn check_name(errors: &mut Vec<FieldError>, field: &str, name: &str) {
    let n = name.chars().count();
    if n == 0 || n > limits::MAX_NAME_CHARS {
        errors.push(FieldError::new(
            field,
            format!(
                "must have 1 to {} characters (got {n})",
                limits::MAX_NAME_CHARS
            ),
        ));
    } else if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        errors.push(FieldError::new(
            field,
            "must not contain `/`, `\\` or control characters",
        ));
    } else if name.trim() != name {
        errors.push(FieldError::new(field, "must not start or end with spaces"));
    }
}

/// A procedure id: 1 to [`limits::MAX_NAME_CHARS`] ASCII letters, digits,
/// `-`, `_` or `.`, starting with a letter or digit (reforms select ids by
/// prefix with `field:<prefix>`).
fn check_id(errors: &mut Vec<FieldError>, field: &str, id: &str) {
    let ok = !id.is_empty()
        && id.len() <= limits::MAX_NAME_CHARS
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        errors.push(FieldError::new(
            field,
            format!(
                "must be 1 to {} ASCII letters, digits, `-`, `_` or `.`, starting with a letter or digit, e.g. \"c-land\"",
                limits::MAX_NAME_CHARS
            ),
        ));
    }
}

/// A distribution of durations: valid, samplable, and with a mean of at most `max` (`unit`).
fn duration_ok(errors: &mut Vec<FieldError>, field: &str, d: &Dist, max: f64, unit: &str) {
    let before = errors.len();
    dist_ok(errors, field, d);
    if errors.len() == before && (d.mean().is_nan() || d.mean() > max) {
        errors.push(FieldError::new(
            field,
            format!(
                "its mean is {} {unit}, over the limit of {max} {unit}; check the unit",
                crate::engine::show(d.mean())
            ),
        ));
    }
}

/// The limits that depend on the whole resolved scenario (after its
/// reforms): staff per pool and the dossiers one replication expects.
pub fn scale_limits(sc: &Scenario) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let days = f64::from(sc.warmup_days + sc.horizon_days);
    let mut expected = 0.0;
    for prov in &sc.provinces {
        let pairs = prov.units.len().saturating_mul(sc.procedures.len());
        if pairs > limits::MAX_UNIT_PROCEDURES {
            errors.push(FieldError::new(
                "province",
                format!(
                    "province `{}` has {} units × {} procedures = {pairs} pairs, over the limit of {}; split it",
                    prov.name,
                    prov.units.len(),
                    sc.procedures.len(),
                    limits::MAX_UNIT_PROCEDURES
                ),
            ));
            return errors;
        }
        for u in &prov.units {
            for p in sc.procedures.iter().filter(|p| p.tier == u.tier) {
                expected += p.volume_per_unit * u.size * days / 365.0;
            }
            if u.servers
                .iter()
                .any(|&s| f64::from(s) > limits::MAX_SERVERS)
            {
                errors.push(FieldError::new(
                    "province",
                    format!(
                        "unit `{}` of `{}` has more than {} staff in a pool (after its size and the reforms); check the staff",
                        u.name,
                        prov.name,
                        limits::MAX_SERVERS
                    ),
                ));
            }
        }
    }
    expected += sc.model.shock.as_ref().map_or(0.0, |s| s.backlog) * sc.provinces.len() as f64;
    if expected.is_nan() || expected > limits::MAX_EXPECTED_ARRIVALS {
        errors.push(FieldError::new(
            "procedure",
            format!(
                "one replication would create about {expected:.3e} dossiers, over the limit of {:e}; check the volumes (per unit of size 1 and per year) and the horizon",
                limits::MAX_EXPECTED_ARRIVALS
            ),
        ));
    }
    errors
}

/// The embedded default scenario: the baseline province (`scenarios/baseline.toml`).
pub const BASELINE: &str = include_str!("../../scenarios/baseline.toml");

/// Reads the embedded baseline.
pub fn baseline() -> Result<Scenario, ScenarioError> {
    parse(Path::new("scenarios/baseline.toml (embedded)"), BASELINE)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
start = "2022-03-01"
[[procedure]]
id = "x"
tier = "commune"
competent_tier = "district"
deadline_days = 3
volume_per_unit = 100
channels = { in_person = 1.0 }
desk_minutes = { dist = "constant", value = 5.0 }
appraisal_minutes = { dist = "constant", value = 5.0 }
approval_minutes = { dist = "constant", value = 5.0 }
[[province]]
name = "p"
[[province.tier]]
tier = "province"
units = 1
staff = { clerks = 1, specialists = 1, leaders = 1 }
[[province.tier]]
tier = "district"
unit = [{ name = "north", size = 2.0 }, { name = "south", staff = { clerks = 3, specialists = 2, leaders = 1 } }]
staff = { clerks = 2, specialists = 2, leaders = 1 }
[[province.tier]]
tier = "commune"
units = 4
staff = { clerks = 1.4, specialists = 1, leaders = 1 }
"#;

    #[test]
    fn units_listed_one_by_one_keep_their_names_sizes_and_staff() {
        let sc = parse(Path::new("m.toml"), MIN).unwrap();
        let u = &sc.provinces[0].units;
        assert_eq!(u.len(), 1 + 2 + 4);
        assert_eq!(
            (u[1].name.as_str(), u[1].size, u[1].servers),
            ("north", 2.0, [4, 4, 2])
        );
        assert_eq!((u[2].name.as_str(), u[2].servers), ("south", [3, 2, 1]));
    }

    #[test]
    fn communes_are_spread_over_the_districts_in_blocks() {
        let sc = parse(Path::new("m.toml"), MIN).unwrap();
        let parents: Vec<_> = sc.provinces[0].units[3..]
            .iter()
            .map(|u| u.parent)
            .collect();
        assert_eq!(parents, vec![Some(1), Some(1), Some(2), Some(2)]);
        assert_eq!(sc.provinces[0].units[1].parent, Some(0));
    }

    #[test]
    fn a_procedure_resolved_below_its_receiving_tier_is_refused() {
        let text = MIN.replace(
            "tier = \"commune\"\ncompetent_tier = \"district\"",
            "tier = \"district\"\ncompetent_tier = \"commune\"",
        );
        let e = parse(Path::new("m.toml"), &text).unwrap_err().to_string();
        assert!(e.contains("m.toml: procedure[0].competent_tier: `commune` is below the receiving tier `district`"), "{e}");
    }

    #[test]
    fn a_malformed_holiday_and_a_missing_tier_are_reported_together() {
        let text = MIN.replace(
            "start = \"2022-03-01\"",
            "start = \"2022-03-01\"\n[calendar]\nholidays = [\"2022-02-30\"]",
        );
        let text = text.replace(
            "[[province.tier]]\ntier = \"district\"",
            "[[province.tier]]\ntier = \"province\"",
        );
        let e = parse(Path::new("m.toml"), &text).unwrap_err().to_string();
        assert!(
            e.contains("calendar.holidays[0]: malformed date `2022-02-30`"),
            "{e}"
        );
        assert!(e.contains("tier `province` is listed twice"), "{e}");
        assert!(e.contains("has no district units"), "{e}");
    }
}
