//! The tidy tables of a run, as data: every long-format table shares one set of keys (province, tier, unit, basis, procedure, channel, period), and the report layer writes them in one schema.
//!
//! A table is, per replication, a list of keys each with its metrics, in
//! the same order for every replication, so that a summary across
//! replications pairs rows by position.

use serde::Serialize;

use super::run::{Estimate, estimates};
use crate::model::ProvinceRun;
use crate::model::scopes::{Metrics, Scope, Scopes, offered_online};
use crate::scenario::domain::{Scenario, Tier};

/// The dimensions of a row: blank where a dimension does not apply.
///
/// `period` is `year` for the whole tallied window, `YYYY-MM` for a
/// calendar month (the first and last may be partial) or `YYYY-MM-DD` for a
/// day. `basis` is `receiving`, `competent` or `holder` for tier and unit
/// rows (see the README's "Who is counted where"), blank otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Key {
    /// Province name (unit and province rows).
    pub province: String,
    /// Tier (`province`, `district`, `commune`).
    pub tier: &'static str,
    /// Unit name (unique within its province).
    pub unit: String,
    /// Basis of a tier or unit row.
    pub basis: &'static str,
    /// Procedure id.
    pub procedure: String,
    /// Channel (`in_person`, `postal`, `online_partial`, `online_full`).
    pub channel: &'static str,
    /// `year`, `YYYY-MM` or `YYYY-MM-DD`.
    pub period: String,
}

impl Key {
    fn year() -> Self {
        Key {
            period: "year".into(),
            ..Key::default()
        }
    }

    /// How the row is scoped: `overall`, `province`, `tier`, `unit`, `procedure` or `channel`.
    pub fn scope(&self) -> &'static str {
        if !self.procedure.is_empty() {
            "procedure"
        } else if !self.channel.is_empty() {
            "channel"
        } else if !self.unit.is_empty() {
            "unit"
        } else if !self.tier.is_empty() {
            "tier"
        } else if !self.province.is_empty() {
            "province"
        } else {
            "overall"
        }
    }
}

/// One replication's rows of a table.
pub type Rows = Vec<(Key, Metrics)>;

/// The metrics a calendar month reports (rates and means; yearly counts are not scaled to months).
pub const MONTHLY: [&str; 9] = [
    "late_rate",
    "on_time_rate",
    "late_rate_766",
    "online_rate",
    "turnaround_mean_days",
    "counter_wait_mean_min",
    "utilisation_clerks",
    "utilisation_specialists",
    "utilisation_leaders",
];

fn monthly(m: Metrics) -> Metrics {
    m.into_iter().filter(|(k, _)| MONTHLY.contains(k)).collect()
}

/// The metrics table of one replication (`metrics.csv`): overall, each tier
/// and unit on the three bases, each procedure and tier × channel for the
/// year; overall and each tier (by receiving tier) per calendar month.
pub fn metrics_rows(sc: &Scenario, s: &Scopes) -> Rows {
    let per_year = 365.0 / f64::from(sc.horizon_days);
    let mut rows = vec![(Key::year(), s.overall.metrics(per_year))];
    let tier_key = |t: &Tier, basis: &'static str| Key {
        tier: t.name(),
        basis,
        ..Key::year()
    };
    for (t, x) in &s.tiers {
        rows.push((tier_key(t, "receiving"), x.metrics(per_year)));
    }
    for (t, x) in &s.competent_tiers {
        rows.push((tier_key(t, "competent"), x.metrics(per_year)));
    }
    for (t, x) in &s.tiers {
        rows.push((tier_key(t, "holder"), x.holder_metrics(per_year)));
    }
    let unit_key = |p: &str, u: &str, t: &Tier, basis: &'static str| Key {
        province: p.to_string(),
        unit: u.to_string(),
        ..tier_key(t, basis)
    };
    for (p, u, t, x) in &s.units {
        rows.push((unit_key(p, u, t, "receiving"), x.metrics(per_year)));
    }
    for (p, u, t, x) in &s.competent_units {
        rows.push((unit_key(p, u, t, "competent"), x.metrics(per_year)));
    }
    for (p, u, t, x) in &s.units {
        rows.push((unit_key(p, u, t, "holder"), x.holder_metrics(per_year)));
    }
    for (id, t, x) in &s.procedures {
        rows.push((
            Key {
                tier: t.name(),
                procedure: id.clone(),
                ..Key::year()
            },
            x.metrics(per_year),
        ));
    }
    for (t, ch, x) in &s.channels {
        rows.push((
            Key {
                tier: t.name(),
                channel: ch.name(),
                ..Key::year()
            },
            x.metrics(per_year),
        ));
    }
    for (label, x) in &s.months {
        rows.push((
            Key {
                period: label.clone(),
                ..Key::default()
            },
            monthly(x.metrics(per_year)),
        ));
    }
    for (t, label, x) in &s.tier_months {
        rows.push((
            Key {
                tier: t.name(),
                basis: "receiving",
                period: label.clone(),
                ..Key::default()
            },
            monthly(x.metrics(per_year)),
        ));
    }
    rows
}

/// The index table of one replication (`index.csv`): the 766 total and
/// groups, the PAR share and satisfaction, overall, per province, per tier
/// and per unit (by receiving unit), for the year and each calendar month.
pub fn index_rows(sc: &Scenario, s: &Scopes) -> Rows {
    let ip = &sc.index;
    let all = offered_online(sc, None);
    let tier_off = |t: Tier| offered_online(sc, Some(t));
    let idx = |x: &Scope, off: f64| x.index_metrics(off, ip);
    let mut rows = vec![(Key::year(), idx(&s.overall, all))];
    for (label, x) in &s.months {
        rows.push((
            Key {
                period: label.clone(),
                ..Key::default()
            },
            idx(x, all),
        ));
    }
    for (p, x) in &s.provinces {
        rows.push((
            Key {
                province: p.clone(),
                ..Key::year()
            },
            idx(x, all),
        ));
    }
    for (t, x) in &s.tiers {
        rows.push((
            Key {
                tier: t.name(),
                basis: "receiving",
                ..Key::year()
            },
            idx(x, tier_off(*t)),
        ));
    }
    for (t, label, x) in &s.tier_months {
        rows.push((
            Key {
                tier: t.name(),
                basis: "receiving",
                period: label.clone(),
                ..Key::default()
            },
            idx(x, tier_off(*t)),
        ));
    }
    for (p, u, t, x) in &s.units {
        rows.push((
            Key {
                province: p.clone(),
                tier: t.name(),
                unit: u.clone(),
                basis: "receiving",
                ..Key::year()
            },
            idx(x, tier_off(*t)),
        ));
    }
    for (p, u, t, label, x) in &s.unit_months {
        rows.push((
            Key {
                province: p.clone(),
                tier: t.name(),
                unit: u.clone(),
                basis: "receiving",
                period: label.clone(),
                ..Key::default()
            },
            idx(x, tier_off(*t)),
        ));
    }
    rows
}

/// The daily time series of one replication (`timeseries.csv`), overall and
/// per receiving tier, for each day of the tallied window (the warm-up is
/// excluded; the backlog counts every dossier arrived and not completed,
/// including those that arrived during the warm-up): `backlog` at the end
/// of the day, `arrivals`, `completions` and `late_completions` during it.
pub fn timeseries_rows(sc: &Scenario, runs: &[ProvinceRun]) -> Rows {
    let days = runs.iter().map(|r| r.daily.len()).max().unwrap_or(0);
    let first = sc.warmup_days as usize;
    let last = (sc.warmup_days + sc.horizon_days) as usize;
    // Sum the provinces: [day][tier][arrivals, completions, late].
    let mut daily = vec![[[0u64; 3]; 3]; days];
    for r in runs {
        for (d, x) in r.daily.iter().enumerate() {
            for t in 0..3 {
                for k in 0..3 {
                    daily[d][t][k] += u64::from(x[t][k]);
                }
            }
        }
    }
    let present: Vec<Tier> = Tier::ALL
        .into_iter()
        .filter(|t| {
            sc.provinces
                .iter()
                .any(|p| p.units.iter().any(|u| u.tier == *t))
        })
        .collect();
    let mut open = [0i64; 3];
    let mut rows = Vec::new();
    for (d, x) in daily.iter().enumerate().take(last.min(days)) {
        for t in 0..3 {
            open[t] += x[t][0] as i64 - x[t][1] as i64;
        }
        if d < first {
            continue;
        }
        let date = sc.calendars.legal.date(d as i64).to_string();
        let series = |t: Option<usize>| -> Metrics {
            let pick = |k: usize| -> f64 {
                match t {
                    Some(t) => x[t][k] as f64,
                    None => (0..3).map(|t| x[t][k] as f64).sum(),
                }
            };
            let backlog = match t {
                Some(t) => open[t] as f64,
                None => open.iter().sum::<i64>() as f64,
            };
            vec![
                ("backlog", backlog),
                ("arrivals", pick(0)),
                ("completions", pick(1)),
                ("late_completions", pick(2)),
            ]
        };
        rows.push((
            Key {
                period: date.clone(),
                ..Key::default()
            },
            series(None),
        ));
        for t in &present {
            rows.push((
                Key {
                    tier: t.name(),
                    basis: "receiving",
                    period: date.clone(),
                    ..Key::default()
                },
                series(Some(t.rank())),
            ));
        }
    }
    rows
}

/// A table across replications: each key with each metric's estimate
/// (mean, n and 95% interval), pairing the replications' rows by position.
pub fn summarise(per_rep: &[Rows]) -> Vec<(Key, Vec<(&'static str, Estimate)>)> {
    let Some(first) = per_rep.first() else {
        return Vec::new();
    };
    first
        .iter()
        .enumerate()
        .map(|(k, (key, _))| {
            let metrics: Vec<Metrics> = per_rep
                .iter()
                .filter_map(|rows| rows.get(k).map(|r| r.1.clone()))
                .collect();
            let e = estimates(&metrics);
            // Keep the metrics in their table order.
            let ordered = first[k]
                .1
                .iter()
                .filter_map(|(m, _)| e.get(m).map(|x| (*m, *x)))
                .collect();
            (key.clone(), ordered)
        })
        .collect()
}
