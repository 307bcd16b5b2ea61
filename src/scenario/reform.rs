//! Reforms: overlays applied in order to a resolved base scenario, each error naming the file, the reform and the field.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::FieldError;
use super::domain::{Scenario, Tier, Transfer};
use crate::engine::Dist;

/// A staff pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    /// Desk clerks.
    Clerks,
    /// Specialists.
    Specialists,
    /// Leaders.
    Leaders,
}

/// One reform, as written in a `[[reform]]` entry: `kind = "..."` and its fields.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reform {
    /// Move the listed procedures (ids, or `field:<prefix>` for every id
    /// starting with the prefix) to another receiving tier; the competent
    /// tier follows unless given. Volumes per unit are rescaled so the
    /// province's volume is kept.
    Decentralise {
        /// Procedure ids or `field:<prefix>`.
        procedures: Vec<String>,
        /// New receiving tier.
        to_tier: Tier,
        /// New competent tier (default: `to_tier`).
        competent_tier: Option<Tier>,
    },
    /// Scale every deadline (or the listed ones), or set some.
    Deadlines {
        /// Multiply deadlines by this (e.g. 0.7 for −30%); rounded, at least 0.
        scale: Option<f64>,
        /// Only these procedures (default: all).
        procedures: Option<Vec<String>>,
        /// Set these procedures' deadlines, working days.
        #[serde(default)]
        set: BTreeMap<String, i64>,
    },
    /// Add, scale or set staff of a tier, a unit, or a pool.
    Staffing {
        /// Only this province (by name).
        province: Option<String>,
        /// Only this tier.
        tier: Option<Tier>,
        /// Only this unit (by name).
        unit: Option<String>,
        /// Only this pool (default: all three).
        pool: Option<Pool>,
        /// Servers to add to each matching pool (may be negative; at least 1 remains).
        add: Option<i64>,
        /// Factor to multiply each matching pool by (rounded, at least 1).
        scale: Option<f64>,
        /// Servers each matching pool has (≥ 1), whatever it had.
        set: Option<i64>,
    },
    /// Open the one-stop desks on Saturday mornings (07:30–11:30): service
    /// hours only; deadlines still count Monday–Friday working days.
    SaturdayOpening {
        /// Specialists and leaders work Saturday mornings too (default false: the desk only).
        #[serde(default)]
        back_office: bool,
    },
    /// Raise online uptake: move shares from the counter to online, or upgrade partial to full online.
    OnlineUptake {
        /// Only these procedures (default: all).
        procedures: Option<Vec<String>>,
        /// Multiply the online share by this (the counter shares shrink in proportion).
        scale: Option<f64>,
        /// Set the online share to this.
        set: Option<f64>,
        /// Move the partial-online share to full online.
        #[serde(default)]
        upgrade_partial: bool,
    },
    /// Data reuse: fewer incomplete dossiers.
    DataReuse {
        /// Only these procedures (default: all).
        procedures: Option<Vec<String>>,
        /// Multiply the probabilities of incompleteness (desk and appraisal) by this, in [0, 1].
        incomplete_scale: f64,
    },
    /// Serve the specialists and leaders earliest-deadline-first (the desk keeps
    /// the counter before the online in-tray).
    EdfQueues {},
    /// Abolish the district tier (as on 1 July 2025): every district
    /// procedure moves to the commune or the province tier (per procedure,
    /// with a default), procedures resolved at the district are resolved at
    /// their new tier, district staff move to the communes (spread by size)
    /// and the province by the given shares, and communes report to the province.
    AbolishDistrict {
        /// Tier each district procedure moves to (`commune` or `province`).
        #[serde(default)]
        remap: BTreeMap<String, Tier>,
        /// Tier for procedures not in `remap` (default `commune`).
        default: Option<Tier>,
        /// Share of district staff moving to the communes (default 0.7; the rest go to the province).
        to_communes: Option<f64>,
    },
    /// A transition shock: reduced productivity for some weeks from a date,
    /// and a backlog moved from abolished desks arriving then.
    TransitionShock {
        /// First day of the shock (YYYY-MM-DD).
        from: String,
        /// Length, weeks (≥ 1).
        weeks: i64,
        /// Productivity during the shock, in (0, 1].
        productivity: f64,
        /// Dossiers moved in at the start (default 0).
        #[serde(default)]
        backlog: f64,
    },
    /// Merge all provinces into one (units, catalogue and staff combined).
    MergeProvinces {
        /// Name of the merged province.
        name: String,
    },
    /// Change liên thông legs: the transfer mode, and the electronic transfer time.
    TransferDelays {
        /// Only these procedures (default: all).
        procedures: Option<Vec<String>>,
        /// New mode.
        transfer: Option<Transfer>,
        /// New electronic transfer time, working minutes (all procedures).
        electronic_minutes: Option<Dist>,
    },
}

/// The procedure indices a selector names (ids, or `field:<prefix>`), or errors for unknown ones.
fn select(sc: &Scenario, names: &[String], field: &str) -> Result<Vec<usize>, FieldError> {
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let hits: Vec<usize> = match n.strip_prefix("field:") {
            Some(prefix) => sc
                .procedures
                .iter()
                .enumerate()
                .filter(|(_, p)| p.id.starts_with(prefix))
                .map(|(k, _)| k)
                .collect(),
            None => sc
                .procedures
                .iter()
                .position(|p| &p.id == n)
                .into_iter()
                .collect(),
        };
        if hits.is_empty() {
            let ids: Vec<&str> = sc.procedures.iter().map(|p| p.id.as_str()).collect();
            return Err(FieldError::new(
                format!("{field}[{i}]"),
                format!("no procedure matches `{n}`; known ids: {}", ids.join(", ")),
            ));
        }
        out.extend(hits);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn all_or(
    sc: &Scenario,
    names: &Option<Vec<String>>,
    field: &str,
) -> Result<Vec<usize>, FieldError> {
    match names {
        None => Ok((0..sc.procedures.len()).collect()),
        Some(n) => select(sc, n, field),
    }
}

/// What earlier reforms of the same file decided, to catch contradictions.
#[derive(Default)]
pub struct Ledger {
    deadlines: BTreeMap<usize, (u32, usize)>,
    moved: BTreeMap<usize, (Tier, usize)>,
    /// Procedures whose online share a reform set: (share, reform index).
    online: BTreeMap<usize, (f64, usize)>,
}

impl Reform {
    /// Applies the reform (number `k` of its file) to `sc`; errors carry `reform[k].<field>`.
    pub fn apply(
        &self,
        sc: &mut Scenario,
        k: usize,
        ledger: &mut Ledger,
    ) -> Result<(), Vec<FieldError>> {
        let at = |f: &str| format!("reform[{k}].{f}");
        let one = |e: FieldError| vec![e];
        match self {
            Reform::Decentralise {
                procedures,
                to_tier,
                competent_tier,
            } => {
                let idx = select(sc, procedures, &at("procedures")).map_err(one)?;
                let units = |t: Tier| {
                    sc.provinces
                        .iter()
                        .flat_map(|p| &p.units)
                        .filter(|u| u.tier == t)
                        .count()
                };
                if units(*to_tier) == 0 {
                    return Err(one(FieldError::new(
                        at("to_tier"),
                        format!(
                            "the scenario has no {} units; choose a tier it has",
                            to_tier.name()
                        ),
                    )));
                }
                let mut errors = Vec::new();
                for &i in &idx {
                    let p = &sc.procedures[i];
                    if p.tier == *to_tier && competent_tier.is_none_or(|c| c == p.competent_tier) {
                        errors.push(FieldError::new(
                            at("to_tier"),
                            format!("procedure `{}` is already received at the {} tier: a move from a tier to itself", p.id, to_tier.name()),
                        ));
                    }
                    if let Some(&(t, prev)) = ledger.moved.get(&i)
                        && t != *to_tier
                    {
                        errors.push(FieldError::new(
                                at("procedures"),
                                format!("procedure `{}` was moved to the {} tier by reform[{prev}]: the reforms contradict each other", p.id, t.name()),
                            ));
                    }
                }
                let competent = competent_tier.unwrap_or(*to_tier);
                if competent.rank() > to_tier.rank() {
                    errors.push(FieldError::new(
                        at("competent_tier"),
                        "must be the receiving tier or above it",
                    ));
                }
                if !errors.is_empty() {
                    return Err(errors);
                }
                for &i in &idx {
                    let from = sc.procedures[i].tier;
                    let scale = units(from) as f64 / units(*to_tier) as f64;
                    let p = &mut sc.procedures[i];
                    p.volume_per_unit *= scale;
                    p.tier = *to_tier;
                    p.competent_tier = competent;
                    ledger.moved.insert(i, (*to_tier, k));
                }
            }
            Reform::Deadlines {
                scale,
                procedures,
                set,
            } => {
                if let Some(s) = scale {
                    if !(s.is_finite() && *s > 0.0) {
                        return Err(one(FieldError::new(
                            at("scale"),
                            format!("must be > 0 (got {s})"),
                        )));
                    }
                    let idx = all_or(sc, procedures, &at("procedures")).map_err(one)?;
                    let mut errors = Vec::new();
                    for &i in &idx {
                        let d = (f64::from(sc.procedures[i].deadline_days) * s).round();
                        if d > 365.0 {
                            errors.push(FieldError::new(
                                at("scale"),
                                format!(
                                    "makes the deadline of `{}` {d} working days, over 365",
                                    sc.procedures[i].id
                                ),
                            ));
                        }
                    }
                    if !errors.is_empty() {
                        return Err(errors);
                    }
                    for i in idx {
                        let d = &mut sc.procedures[i].deadline_days;
                        *d = (f64::from(*d) * s).round().max(0.0) as u32;
                    }
                }
                let mut errors = Vec::new();
                for (id, days) in set {
                    let Some(i) = sc.procedures.iter().position(|p| &p.id == id) else {
                        errors.push(FieldError::new(
                            at(&format!("set.{id}")),
                            format!("unknown procedure `{id}`"),
                        ));
                        continue;
                    };
                    if !(0..=365).contains(days) {
                        errors.push(FieldError::new(
                            at(&format!("set.{id}")),
                            format!("must be between 0 and 365 working days (got {days})"),
                        ));
                        continue;
                    }
                    if let Some(&(d, prev)) = ledger.deadlines.get(&i)
                        && d != *days as u32
                    {
                        errors.push(FieldError::new(
                                at(&format!("set.{id}")),
                                format!("reform[{prev}] set this deadline to {d}: the reforms contradict each other"),
                            ));
                        continue;
                    }
                    sc.procedures[i].deadline_days = *days as u32;
                    ledger.deadlines.insert(i, (*days as u32, k));
                }
                if scale.is_none() && set.is_empty() {
                    errors.push(FieldError::new(at("scale"), "give `scale` or `set`"));
                }
                if !errors.is_empty() {
                    return Err(errors);
                }
            }
            Reform::Staffing {
                province,
                tier,
                unit,
                pool,
                add,
                scale,
                set,
            } => {
                let given = usize::from(add.is_some())
                    + usize::from(scale.is_some())
                    + usize::from(set.is_some());
                if given != 1 {
                    return Err(one(FieldError::new(
                        at("add"),
                        "give exactly one of `add`, `scale` and `set`",
                    )));
                }
                if let Some(n) = set
                    && !(1..=super::limits::MAX_SERVERS as i64).contains(n)
                {
                    return Err(one(FieldError::new(
                        at("set"),
                        format!(
                            "must be between 1 and {} (got {n})",
                            super::limits::MAX_SERVERS
                        ),
                    )));
                }
                if let Some(name) = province
                    && !sc.provinces.iter().any(|p| &p.name == name)
                {
                    let names: Vec<&str> = sc.provinces.iter().map(|p| p.name.as_str()).collect();
                    return Err(one(FieldError::new(
                        at("province"),
                        format!(
                            "matches no province of the scenario; the provinces are: {}",
                            names.join(", ")
                        ),
                    )));
                }
                if let Some(s) = scale
                    && !(s.is_finite() && *s > 0.0 && *s <= 1000.0)
                {
                    return Err(one(FieldError::new(
                        at("scale"),
                        format!("must be > 0 and at most 1000 (got {s})"),
                    )));
                }
                if let Some(a) = add
                    && a.unsigned_abs() > super::limits::MAX_SERVERS as u64
                {
                    return Err(one(FieldError::new(
                        at("add"),
                        format!(
                            "must be at most {} in size (got {a})",
                            super::limits::MAX_SERVERS
                        ),
                    )));
                }
                let pools: Vec<usize> = match pool {
                    None => vec![0, 1, 2],
                    Some(Pool::Clerks) => vec![0],
                    Some(Pool::Specialists) => vec![1],
                    Some(Pool::Leaders) => vec![2],
                };
                let mut matched = 0;
                for u in sc
                    .provinces
                    .iter_mut()
                    .filter(|p| province.as_ref().is_none_or(|n| n == &p.name))
                    .flat_map(|p| p.units.iter_mut())
                {
                    if tier.is_some_and(|t| t != u.tier)
                        || unit.as_ref().is_some_and(|n| n != &u.name)
                    {
                        continue;
                    }
                    matched += 1;
                    for &k in &pools {
                        let s = f64::from(u.servers[k]);
                        let new = match (add, scale, set) {
                            (Some(a), _, _) => s + *a as f64,
                            (_, Some(f), _) => (s * f).round(),
                            (_, _, Some(n)) => *n as f64,
                            _ => s,
                        };
                        u.servers[k] = new.max(1.0) as u32;
                    }
                }
                if matched == 0 {
                    let f = if unit.is_some() { "unit" } else { "tier" };
                    return Err(one(FieldError::new(
                        at(f),
                        "matches no unit of the scenario; check the tier and unit names",
                    )));
                }
            }
            Reform::SaturdayOpening { back_office } => {
                sc.calendars.open_saturday(true, *back_office)
            }
            Reform::OnlineUptake {
                procedures,
                scale,
                set,
                upgrade_partial,
            } => {
                if scale.is_some() && set.is_some() {
                    return Err(one(FieldError::new(
                        at("set"),
                        "give `scale` or `set`, not both",
                    )));
                }
                if let Some(x) = set
                    && !(0.0..=1.0).contains(x)
                {
                    return Err(one(FieldError::new(
                        at("set"),
                        format!("must be a share in [0, 1] (got {x})"),
                    )));
                }
                if let Some(x) = scale
                    && !(x.is_finite() && *x >= 0.0)
                {
                    return Err(one(FieldError::new(
                        at("scale"),
                        format!("must be ≥ 0 (got {x})"),
                    )));
                }
                let idx = all_or(sc, procedures, &at("procedures")).map_err(one)?;
                // A share set by an earlier reform cannot be set otherwise or scaled.
                let mut errors = Vec::new();
                for &i in &idx {
                    if let Some(&(x, prev)) = ledger.online.get(&i)
                        && (scale.is_some() || set.is_some_and(|y| y != x))
                    {
                        errors.push(FieldError::new(
                            at(if scale.is_some() { "scale" } else { "set" }),
                            format!(
                                "reform[{prev}] set the online share of `{}` to {x}: the reforms contradict each other",
                                sc.procedures[i].id
                            ),
                        ));
                    }
                }
                if !errors.is_empty() {
                    return Err(errors);
                }
                if let Some(x) = set {
                    for &i in &idx {
                        ledger.online.insert(i, (*x, k));
                    }
                }
                for i in idx {
                    let c = &mut sc.procedures[i].channels;
                    let online = c[2] + c[3];
                    let target = match (scale, set) {
                        (Some(f), _) => (online * f).min(1.0),
                        (_, Some(x)) => *x,
                        _ => online,
                    };
                    if (target - online).abs() > 0.0 {
                        let counter = c[0] + c[1];
                        // Online shares keep their partial/full split (all full when none was online).
                        let (pf, ff) = if online > 0.0 {
                            (c[2] / online, c[3] / online)
                        } else {
                            (0.0, 1.0)
                        };
                        let (ip, pp) = if counter > 0.0 {
                            (c[0] / counter, c[1] / counter)
                        } else {
                            (1.0, 0.0)
                        };
                        *c = [
                            ip * (1.0 - target),
                            pp * (1.0 - target),
                            pf * target,
                            ff * target,
                        ];
                    }
                    if *upgrade_partial {
                        c[3] += c[2];
                        c[2] = 0.0;
                    }
                }
            }
            Reform::DataReuse {
                procedures,
                incomplete_scale,
            } => {
                if !(0.0..=1.0).contains(incomplete_scale) {
                    return Err(one(FieldError::new(
                        at("incomplete_scale"),
                        format!("must be in [0, 1] (got {incomplete_scale})"),
                    )));
                }
                for i in all_or(sc, procedures, &at("procedures")).map_err(one)? {
                    let p = &mut sc.procedures[i];
                    p.incomplete_at_desk *= incomplete_scale;
                    p.incomplete_at_appraisal *= incomplete_scale;
                }
            }
            Reform::EdfQueues {} => sc.model.edf = true,
            Reform::AbolishDistrict {
                remap,
                default,
                to_communes,
            } => {
                let default = default.unwrap_or(Tier::Commune);
                let share = to_communes.unwrap_or(0.7);
                let mut errors = Vec::new();
                if default == Tier::District {
                    errors.push(FieldError::new(
                        at("default"),
                        "must be `commune` or `province`: a move from a tier to itself",
                    ));
                }
                if !(0.0..=1.0).contains(&share) {
                    errors.push(FieldError::new(
                        at("to_communes"),
                        format!("must be a share in [0, 1] (got {share})"),
                    ));
                }
                for (id, t) in remap {
                    match sc.procedures.iter().find(|p| &p.id == id) {
                        None => errors.push(FieldError::new(
                            at(&format!("remap.{id}")),
                            format!("unknown procedure `{id}`"),
                        )),
                        Some(p)
                            if p.tier != Tier::District && p.competent_tier != Tier::District =>
                        {
                            errors.push(FieldError::new(
                                at(&format!("remap.{id}")),
                                format!("procedure `{id}` is not a district procedure"),
                            ))
                        }
                        Some(_) if *t == Tier::District => errors.push(FieldError::new(
                            at(&format!("remap.{id}")),
                            "must be `commune` or `province`: a move from a tier to itself",
                        )),
                        _ => {}
                    }
                }
                let count = |t: Tier| {
                    sc.provinces
                        .iter()
                        .flat_map(|p| &p.units)
                        .filter(|u| u.tier == t)
                        .count()
                };
                if count(Tier::District) == 0 {
                    errors.push(FieldError::new(
                        at("kind"),
                        "the scenario has no district tier to abolish",
                    ));
                }
                if count(Tier::Commune) == 0
                    && (default == Tier::Commune || remap.values().any(|t| *t == Tier::Commune))
                {
                    errors.push(FieldError::new(
                        at("default"),
                        "the scenario has no communes to take over district procedures",
                    ));
                }
                if !errors.is_empty() {
                    return Err(errors);
                }
                let (nd, nc, np) = (
                    count(Tier::District) as f64,
                    count(Tier::Commune) as f64,
                    count(Tier::Province) as f64,
                );
                for p in &mut sc.procedures {
                    let to = remap.get(&p.id).copied().unwrap_or(default);
                    if p.tier == Tier::District {
                        p.volume_per_unit *= nd / if to == Tier::Commune { nc } else { np };
                        p.tier = to;
                    }
                    if p.competent_tier == Tier::District {
                        p.competent_tier = if to.rank() < p.tier.rank() {
                            to
                        } else {
                            p.tier
                        };
                    }
                }
                for prov in &mut sc.provinces {
                    let mut staff = [0.0f64; 3];
                    for u in prov.units.iter().filter(|u| u.tier == Tier::District) {
                        for (s, &n) in staff.iter_mut().zip(&u.servers) {
                            *s += f64::from(n);
                        }
                    }
                    prov.units.retain(|u| u.tier != Tier::District);
                    let province = prov.units.iter().position(|u| u.tier == Tier::Province);
                    let commune_size: f64 = prov
                        .units
                        .iter()
                        .filter(|u| u.tier == Tier::Commune)
                        .map(|u| u.size)
                        .sum();
                    let n_prov = prov
                        .units
                        .iter()
                        .filter(|u| u.tier == Tier::Province)
                        .count()
                        .max(1) as f64;
                    for u in &mut prov.units {
                        let extra: Vec<f64> = match u.tier {
                            Tier::Commune if commune_size > 0.0 => staff
                                .iter()
                                .map(|s| s * share * u.size / commune_size)
                                .collect(),
                            Tier::Province => {
                                staff.iter().map(|s| s * (1.0 - share) / n_prov).collect()
                            }
                            _ => vec![0.0; 3],
                        };
                        for (n, x) in u.servers.iter_mut().zip(&extra) {
                            *n = (f64::from(*n) + x).round().max(1.0) as u32;
                        }
                        if u.tier == Tier::Commune {
                            u.parent = province;
                        }
                    }
                }
            }
            Reform::TransitionShock {
                from,
                weeks,
                productivity,
                backlog,
            } => {
                let mut errors = Vec::new();
                let date = chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d").ok();
                let span = i64::from(sc.warmup_days + sc.horizon_days);
                match date {
                    None => errors.push(FieldError::new(
                        at("from"),
                        format!("malformed date `{from}`; expected YYYY-MM-DD"),
                    )),
                    Some(d) => {
                        let day = (d - sc.start).num_days();
                        if !(0..span).contains(&day) {
                            errors.push(FieldError::new(
                                at("from"),
                                format!(
                                    "{d} is outside the run ({} to {})",
                                    sc.start,
                                    sc.start + chrono::Duration::days(span)
                                ),
                            ));
                        }
                    }
                }
                if !(1..=super::limits::MAX_SHOCK_WEEKS).contains(weeks) {
                    errors.push(FieldError::new(
                        at("weeks"),
                        format!(
                            "must be between 1 and {} (got {weeks})",
                            super::limits::MAX_SHOCK_WEEKS
                        ),
                    ));
                }
                if !(productivity.is_finite()
                    && *productivity >= super::limits::MIN_PRODUCTIVITY
                    && *productivity <= 1.0)
                {
                    errors.push(FieldError::new(
                        at("productivity"),
                        format!(
                            "must be between {} and 1 (got {productivity}); effort is divided by it",
                            super::limits::MIN_PRODUCTIVITY
                        ),
                    ));
                }
                if !(backlog.is_finite()
                    && *backlog >= 0.0
                    && *backlog <= super::limits::MAX_BACKLOG)
                {
                    errors.push(FieldError::new(
                        at("backlog"),
                        format!(
                            "must be between 0 and {:e} dossiers (got {backlog})",
                            super::limits::MAX_BACKLOG
                        ),
                    ));
                }
                if sc.model.shock.is_some() {
                    errors.push(FieldError::new(
                        at("kind"),
                        "only one transition shock per scenario: the reforms contradict each other",
                    ));
                }
                if !errors.is_empty() {
                    return Err(errors);
                }
                if let Some(d) = date {
                    let start = (d - sc.start).num_days() as f64 * crate::calendar::DAY;
                    sc.model.shock = Some(super::domain::Shock {
                        start,
                        end: start + *weeks as f64 * 7.0 * crate::calendar::DAY,
                        productivity: *productivity,
                        backlog: *backlog,
                    });
                }
            }
            Reform::MergeProvinces { name } => {
                if sc.provinces.len() < 2 {
                    return Err(one(FieldError::new(
                        at("kind"),
                        "the scenario has a single province: nothing to merge",
                    )));
                }
                let mut merged = super::domain::Province {
                    name: name.clone(),
                    units: Vec::new(),
                };
                for prov in std::mem::take(&mut sc.provinces) {
                    let offset = merged.units.len();
                    for mut u in prov.units {
                        u.name = format!("{}/{}", prov.name, u.name);
                        u.parent = u.parent.map(|p| p + offset);
                        merged.units.push(u);
                    }
                }
                sc.provinces = vec![merged];
            }
            Reform::TransferDelays {
                procedures,
                transfer,
                electronic_minutes,
            } => {
                if let Some(d) = electronic_minutes {
                    if let Err(es) = d.validate() {
                        return Err(es
                            .into_iter()
                            .map(|e| {
                                FieldError::new(
                                    at(&format!("electronic_minutes.{}", e.field)),
                                    e.message,
                                )
                            })
                            .collect());
                    }
                    if d.mean() > super::limits::MAX_TRANSFER_MINUTES {
                        return Err(one(FieldError::new(
                            at("electronic_minutes"),
                            format!(
                                "its mean is {} working minutes, over the limit of {}",
                                d.mean(),
                                super::limits::MAX_TRANSFER_MINUTES
                            ),
                        )));
                    }
                    sc.model.electronic_transfer_minutes = d.clone();
                }
                if let Some(t) = transfer {
                    for i in all_or(sc, procedures, &at("procedures")).map_err(one)? {
                        sc.procedures[i].transfer = *t;
                    }
                }
                if transfer.is_none() && electronic_minutes.is_none() {
                    return Err(one(FieldError::new(
                        at("transfer"),
                        "give `transfer` or `electronic_minutes`",
                    )));
                }
            }
        }
        Ok(())
    }
}
