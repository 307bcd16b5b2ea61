//! The metric catalogue: every metric the one-stop model reports, with its unit of measure, the range its values can take and its definition.
//!
//! The catalogue is the single source for the data dictionary and for
//! keeping confidence intervals inside what a metric can be (a rate's
//! interval is clipped to [0, 1], a count's to [0, ∞)).

/// The values a metric can take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range {
    /// A fraction in [0, 1].
    Fraction,
    /// Any value ≥ 0.
    NonNegative,
    /// Between the two bounds, inclusive.
    Between(f64, f64),
}

impl Range {
    /// Clips `x` into the range (`NaN` stays `NaN`).
    pub fn clip(self, x: f64) -> f64 {
        let (lo, hi) = match self {
            Range::Fraction => (0.0, 1.0),
            Range::NonNegative => (0.0, f64::INFINITY),
            Range::Between(lo, hi) => (lo, hi),
        };
        if x.is_nan() { x } else { x.clamp(lo, hi) }
    }
}

/// One metric of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricDef {
    /// Name, as the output files write it.
    pub name: &'static str,
    /// Unit of measure.
    pub unit: &'static str,
    /// The values it can take.
    pub range: Range,
    /// What it measures.
    pub definition: &'static str,
}

const fn m(
    name: &'static str,
    unit: &'static str,
    range: Range,
    definition: &'static str,
) -> MetricDef {
    MetricDef {
        name,
        unit,
        range,
        definition,
    }
}

use Range::{Between, Fraction, NonNegative};

/// Every metric the model reports.
pub const METRICS: &[MetricDef] = &[
    m(
        "received",
        "dossiers per year",
        NonNegative,
        "dossiers received (first arrival at the desk) in the window, scaled to a year",
    ),
    m(
        "resolved",
        "dossiers per year",
        NonNegative,
        "dossiers completed (result ready for return) in the window, scaled to a year",
    ),
    m(
        "open_at_end",
        "dossiers",
        NonNegative,
        "dossiers still open at the end of the window",
    ),
    m(
        "overdue_at_end",
        "dossiers",
        NonNegative,
        "open dossiers past their appointment at the end of the window; for a dossier with the citizen, the appointment extended by the citizen's time so far",
    ),
    m(
        "late_rate",
        "fraction",
        Fraction,
        "completed after the appointment ÷ completed",
    ),
    m(
        "on_time_rate",
        "fraction",
        Fraction,
        "completed on or before the appointment ÷ completed",
    ),
    m(
        "early_rate",
        "fraction",
        Fraction,
        "completed on a day before the appointment day ÷ completed",
    ),
    m(
        "late_rate_766",
        "fraction",
        Fraction,
        "late under the 766 rules (late, or given a second supplement request) ÷ completed",
    ),
    m(
        "late_with_apology_rate",
        "fraction",
        Fraction,
        "late and covered by an apology letter sent a working day before the deadline ÷ completed",
    ),
    m(
        "late_without_apology_rate",
        "fraction",
        Fraction,
        "late without an apology letter ÷ completed",
    ),
    m(
        "apology_rate",
        "fraction",
        Fraction,
        "apology letters sent ÷ completed",
    ),
    m(
        "supplement_rate",
        "fraction",
        Fraction,
        "completed dossiers with at least one supplement request ÷ completed",
    ),
    m(
        "second_request_rate",
        "fraction",
        Fraction,
        "completed dossiers with a second supplement request ÷ completed",
    ),
    m(
        "online_rate",
        "fraction",
        Fraction,
        "received online (partly or fully) ÷ received",
    ),
    m(
        "full_online_rate",
        "fraction",
        Fraction,
        "received fully online (toàn trình) ÷ received",
    ),
    m(
        "online_payment_rate",
        "fraction",
        Fraction,
        "fee-bearing dossiers paid online ÷ fee-bearing dossiers completed (766 item 3.6)",
    ),
    m(
        "digitisation_rate",
        "fraction",
        Fraction,
        "paper dossiers scanned into the system at the desk ÷ paper dossiers completed (the national report's conversion of paper dossiers to electronic ones)",
    ),
    m(
        "digitised_with_e_result_rate",
        "fraction",
        Fraction,
        "766 item 4.2: dossiers with digitised inputs (scanned or born digital) and an e-result where a paper result is required ÷ completed",
    ),
    m(
        "e_result_rate",
        "fraction",
        Fraction,
        "completed dossiers with an electronic result ÷ completed",
    ),
    m(
        "visits_per_dossier",
        "visits",
        NonNegative,
        "in-person visits per completed dossier (filing, supplements, collecting a paper result)",
    ),
    m(
        "turnaround_mean_days",
        "working days",
        NonNegative,
        "mean time from receipt to completion, working days of the legal calendar, citizen time excluded",
    ),
    m(
        "turnaround_p50_days",
        "working days",
        NonNegative,
        "median turnaround, working days",
    ),
    m(
        "turnaround_p90_days",
        "working days",
        NonNegative,
        "90th percentile of turnaround, working days",
    ),
    m(
        "turnaround_p99_days",
        "working days",
        NonNegative,
        "99th percentile of turnaround, working days",
    ),
    m(
        "counter_wait_mean_min",
        "minutes",
        NonNegative,
        "mean wait of in-person citizens at the counter at their first visit (to the next opening when taken in hand after closing)",
    ),
    m(
        "counter_wait_p90_min",
        "minutes",
        NonNegative,
        "90th percentile of the counter wait, minutes",
    ),
    m(
        "utilisation_clerks",
        "fraction",
        NonNegative,
        "clerks' effort minutes ÷ (clerks × their service minutes); above 1 when overloaded",
    ),
    m(
        "utilisation_specialists",
        "fraction",
        NonNegative,
        "specialists' effort minutes ÷ (specialists × their service minutes)",
    ),
    m(
        "utilisation_leaders",
        "fraction",
        NonNegative,
        "leaders' effort minutes ÷ (leaders × their service minutes)",
    ),
    m(
        "late",
        "dossiers per year",
        NonNegative,
        "late dossiers charged to the scope: the unit holding the dossier when its deadline passed (holder basis), scaled to a year",
    ),
    m(
        "handled",
        "dossiers per year",
        NonNegative,
        "completed dossiers that passed through the scope (received or resolved there), scaled to a year",
    ),
    m(
        "backlog",
        "dossiers",
        NonNegative,
        "dossiers arrived and not yet completed at the end of the day (the warm-up's included)",
    ),
    m(
        "arrivals",
        "dossiers",
        NonNegative,
        "dossiers that arrived at a desk during the day (first arrival)",
    ),
    m(
        "completions",
        "dossiers",
        NonNegative,
        "dossiers completed during the day",
    ),
    m(
        "late_completions",
        "dossiers",
        NonNegative,
        "dossiers completed late during the day",
    ),
    m(
        "i766_total",
        "points",
        Between(0.0, 100.0),
        "Decision 766 index, total of the groups",
    ),
    m(
        "i766_publicity",
        "points",
        Between(0.0, 18.0),
        "766 group 1, publicity and transparency (a scenario input)",
    ),
    m(
        "i766_timeliness",
        "points",
        Between(0.0, 20.0),
        "766 group 2, timeliness (item 2.1 through the timeliness curve)",
    ),
    m(
        "i766_online_service",
        "points",
        Between(0.0, 22.0),
        "766 group 3, online service (2025: items 3.1, 3.3; 2022: also 3.5, 3.6)",
    ),
    m(
        "i766_online_payment",
        "points",
        Between(0.0, 10.0),
        "766 online-payment group of the 2025 scheme (items 3.5, 3.6)",
    ),
    m(
        "i766_digitisation",
        "points",
        Between(0.0, 22.0),
        "766 group 4, digitisation (items 4.1, 4.2, 4.3)",
    ),
    m(
        "i766_satisfaction",
        "points",
        Between(0.0, 18.0),
        "766 group 5, satisfaction (feedback input + item 5.4)",
    ),
    m(
        "par_tthc_share",
        "fraction",
        Fraction,
        "PAR index procedure criteria (on time, apologies, online rate, digitisation rate) as a share of their partial maximum",
    ),
    m(
        "satisfaction",
        "fraction",
        Fraction,
        "mean satisfaction of the simulated experience (SIPAS-like model)",
    ),
    m(
        "complaint_rate",
        "fraction",
        Fraction,
        "expected complaints or dislikes ÷ completed (766 item 5.4)",
    ),
    m(
        "on_time_rate_766",
        "fraction",
        Fraction,
        "766 item 2.1: finished or in progress within the deadline ÷ dossiers judged in the period",
    ),
];

/// The catalogue entry of `name`, if it is a metric of the model.
pub fn lookup(name: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.name == name)
}

/// The range of `name` (any value when it is not in the catalogue).
pub fn range_of(name: &str) -> Range {
    lookup(name).map_or(Range::Between(f64::NEG_INFINITY, f64::INFINITY), |m| {
        m.range
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_are_unique_and_rates_are_fractions() {
        for (i, a) in METRICS.iter().enumerate() {
            assert!(
                METRICS[i + 1..].iter().all(|b| b.name != a.name),
                "{} is listed twice",
                a.name
            );
            if a.name.ends_with("_rate") {
                assert_eq!(a.range, Range::Fraction, "{}", a.name);
            }
        }
    }

    #[test]
    fn clipping_keeps_values_inside_the_range() {
        assert_eq!(Range::Fraction.clip(1.0007), 1.0);
        assert_eq!(Range::Fraction.clip(-0.01), 0.0);
        assert_eq!(Range::NonNegative.clip(-3.0), 0.0);
        assert!(Range::Fraction.clip(f64::NAN).is_nan());
    }
}
