//! Index scores from simulated figures: the 766 index (2022 and 2025 schemes), the PAR index's procedure criteria and a satisfaction model.
//!
//! Every formula names its source: Decision 766/QĐ-TTg (23 June 2022) and
//! the DVCQG computation specification for the 766 items; Decision
//! 876/QĐ-BNV for the PAR framework; where no source gives a number, the
//! default is marked "assumption" and is a parameter.

use serde::{Deserialize, Serialize};

use crate::field::FieldError;

/// Which 766 scheme scores a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scheme {
    /// The 2022 text of 766: five groups, 18/20/22/22/18.
    #[serde(rename = "2022")]
    V2022,
    /// The DVCQG scheme in use in 2025: six groups, 18/20/12/10/22/18.
    #[serde(rename = "2025")]
    #[default]
    V2025,
}

/// Threshold-linear points: full `max` at a rate ≥ `threshold`, else `rate × max / threshold`.
///
/// Source: DVCQG 766 specification, items 3.1, 3.3, 3.5, 4.2, 4.3, 5.4
/// ("full points at ≥ X%; below that, rate × max ÷ X%").
pub fn threshold_linear(rate: f64, max: f64, threshold: f64) -> f64 {
    if !rate.is_finite() {
        return f64::NAN;
    }
    max * (rate.max(0.0) / threshold).min(1.0)
}

/// The simulated rates the indices are computed from (fractions in [0, 1]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Rates {
    /// 766 item 2.1: dossiers on time (citizen time excluded; a second
    /// supplement request counts late; open dossiers judged at the period's end).
    pub on_time_766: f64,
    /// 766 item 3.1: share of procedures offered online (partial or full).
    pub offered_online: f64,
    /// 766 item 3.3: online submissions, counted only with an e-result where a paper result is required.
    pub online_submission: f64,
    /// 766 item 3.5: share of fee-bearing procedures with fees integrated for online payment (a scenario input).
    pub fees_integrated: f64,
    /// 766 item 3.6: fee-bearing dossiers paid online.
    pub online_payment: f64,
    /// 766 item 4.1: e-results among dossiers of procedures that require a paper result.
    pub e_result: f64,
    /// 766 item 4.2: dossiers digitised (inputs) with an e-result where a paper result is required.
    pub digitisation: f64,
    /// Paper dossiers scanned into the system over paper dossiers (the PAR digitisation criterion).
    pub paper_digitisation: f64,
    /// 766 item 4.3: dossiers reusing digitised data (a scenario input).
    pub data_reuse: f64,
    /// Late-dossier rate (766 definition) used in item 5.4.
    pub late_766: f64,
    /// Share of dossiers with a complaint or "dislike".
    pub complaint: f64,
    /// Late dossiers covered by an apology letter, among late dossiers.
    pub apology_cover: f64,
    /// Online-submission rate without the e-result condition (PAR criterion).
    pub online: f64,
    /// Mean satisfaction of the simulated experience (0–1).
    pub satisfaction: f64,
}

/// The 766 score of one scope.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score766 {
    /// Total, out of 100.
    pub total: f64,
    /// Points per group, in the scheme's order.
    pub groups: Vec<(&'static str, f64)>,
    /// Points per item.
    pub items: Vec<(&'static str, f64)>,
    /// Rating band.
    pub band: String,
}

/// Maximum points of the items the model computes, and the inputs it does not simulate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params766 {
    /// Scheme.
    #[serde(default)]
    pub scheme: Scheme,
    /// Publicity and transparency group (items 1.x), points: not simulated.
    /// Default 16.0 of 18 (assumption).
    #[serde(default = "d_publicity")]
    pub publicity_points: f64,
    /// Satisfaction items 5.1–5.3 (feedback handling), points: not simulated.
    /// Default 11.7 of 12 (assumption; 5.1 = 5, 5.2 = 5, 5.3 = 2 per a public tracker's reading).
    #[serde(default = "d_feedback")]
    pub feedback_points: f64,
    /// Item 3.5 input: share of fee-bearing procedures with integrated online payment. Default 0.8 (assumption).
    #[serde(default = "d_fees")]
    pub fees_integrated: f64,
    /// Item 4.3 input: share of dossiers reusing digitised data. Default 0.4 (assumption).
    #[serde(default = "d_reuse")]
    pub data_reuse: f64,
    /// On-time rate at which timeliness (group 2, 20 points) is full; linear from 0 below it.
    /// The published text gives no curve ("reaching the on-time rate gives up to 20 points"):
    /// default 1.0, i.e. points proportional to the on-time rate (assumption).
    #[serde(default = "d_one")]
    pub timeliness_full_at: f64,
    /// Thresholds of the threshold-linear items (DVCQG specification; 3.6 and 4.1 give none: 0.8, assumption).
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Item points within the groups.
    #[serde(default)]
    pub items: ItemPoints,
    /// Rating bands, highest first: a score at or above `min` gets `name`.
    #[serde(default = "d_bands")]
    pub bands: Vec<Band>,
}

fn d_publicity() -> f64 {
    16.0
}
fn d_feedback() -> f64 {
    11.7
}
fn d_fees() -> f64 {
    0.8
}
fn d_reuse() -> f64 {
    0.4
}
fn d_one() -> f64 {
    1.0
}

/// A rating band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Label.
    pub name: String,
    /// Lowest score in the band.
    pub min: f64,
}

/// Default bands: Tốt ≥ 90, Khá ≥ 70, Trung bình ≥ 50, else Yếu. The DVCQG
/// dashboard uses these labels but no published cut-points were found
/// (assumption, not fitted: they agree with Bình Dương's 73.4 being "khá" at the end of
/// September 2023, the only published score with a band in the seeds).
fn d_bands() -> Vec<Band> {
    [
        ("Tốt", 90.0),
        ("Khá", 70.0),
        ("Trung bình", 50.0),
        ("Yếu", 0.0),
    ]
    .into_iter()
    .map(|(n, m)| Band {
        name: n.into(),
        min: m,
    })
    .collect()
}

/// Thresholds of the threshold-linear items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// 3.1 offered online: 0.8 (DVCQG specification).
    pub offered_online: f64,
    /// 3.3 online submission: 0.5 (DVCQG specification).
    pub online_submission: f64,
    /// 3.5 fees integrated: 0.8 (DVCQG specification).
    pub fees_integrated: f64,
    /// 3.6 online payment: 0.8 (assumption: the specification gives no rule).
    pub online_payment: f64,
    /// 4.1 e-result: 0.8 (assumption).
    pub e_result: f64,
    /// 4.2 digitisation: 0.8 (DVCQG specification).
    pub digitisation: f64,
    /// 4.3 data reuse: 0.8 (DVCQG specification).
    pub data_reuse: f64,
    /// 5.4 satisfaction with dossier handling: 0.9 (DVCQG specification).
    pub satisfaction: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            offered_online: 0.8,
            online_submission: 0.5,
            fees_integrated: 0.8,
            online_payment: 0.8,
            e_result: 0.8,
            digitisation: 0.8,
            data_reuse: 0.8,
            satisfaction: 0.9,
        }
    }
}

/// Points of the simulated items within their groups. Defaults are
/// assumptions except 5.4 = 6 (766 text); they must sum to the groups'
/// maxima of the chosen scheme (checked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ItemPoints {
    /// 3.1 offered online.
    pub offered_online: f64,
    /// 3.3 online submission.
    pub online_submission: f64,
    /// 3.5 fees integrated.
    pub fees_integrated: f64,
    /// 3.6 online payment.
    pub online_payment: f64,
    /// 4.1 e-result.
    pub e_result: f64,
    /// 4.2 digitisation.
    pub digitisation: f64,
    /// 4.3 data reuse.
    pub data_reuse: f64,
    /// 5.4 satisfaction with dossier handling.
    pub satisfaction: f64,
}

impl Default for ItemPoints {
    fn default() -> Self {
        Self {
            offered_online: 4.0,
            online_submission: 8.0,
            fees_integrated: 4.0,
            online_payment: 6.0,
            e_result: 6.0,
            digitisation: 8.0,
            data_reuse: 8.0,
            satisfaction: 6.0,
        }
    }
}

impl Default for Params766 {
    fn default() -> Self {
        Self {
            scheme: Scheme::default(),
            publicity_points: d_publicity(),
            feedback_points: d_feedback(),
            fees_integrated: d_fees(),
            data_reuse: d_reuse(),
            timeliness_full_at: d_one(),
            thresholds: Thresholds::default(),
            items: ItemPoints::default(),
            bands: d_bands(),
        }
    }
}

/// Group maxima of a scheme (766 text for 2022; the DVCQG API's `groupScores` for 2025).
pub fn group_max(scheme: Scheme) -> Vec<(&'static str, f64)> {
    match scheme {
        Scheme::V2022 => vec![
            ("publicity", 18.0),
            ("timeliness", 20.0),
            ("online_service", 22.0),
            ("digitisation", 22.0),
            ("satisfaction", 18.0),
        ],
        Scheme::V2025 => vec![
            ("publicity", 18.0),
            ("timeliness", 20.0),
            ("online_service", 12.0),
            ("online_payment", 10.0),
            ("digitisation", 22.0),
            ("satisfaction", 18.0),
        ],
    }
}

impl Params766 {
    /// Checks the parameters; field paths are relative to `prefix` (e.g. `index.i766`).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut e = Vec::new();
        let at = |f: &str| format!("{prefix}.{f}");
        let t = &self.thresholds;
        for (f, x) in [
            ("thresholds.offered_online", t.offered_online),
            ("thresholds.online_submission", t.online_submission),
            ("thresholds.fees_integrated", t.fees_integrated),
            ("thresholds.online_payment", t.online_payment),
            ("thresholds.e_result", t.e_result),
            ("thresholds.digitisation", t.digitisation),
            ("thresholds.data_reuse", t.data_reuse),
            ("thresholds.satisfaction", t.satisfaction),
            ("timeliness_full_at", self.timeliness_full_at),
        ] {
            if !(x.is_finite() && x > 0.0 && x <= 1.0) {
                e.push(FieldError::new(
                    at(f),
                    format!("must be a threshold in (0, 1] (got {x})"),
                ));
            }
        }
        for (f, x) in [
            ("fees_integrated", self.fees_integrated),
            ("data_reuse", self.data_reuse),
        ] {
            if !(x.is_finite() && (0.0..=1.0).contains(&x)) {
                e.push(FieldError::new(
                    at(f),
                    format!("must be a share in [0, 1] (got {x})"),
                ));
            }
        }
        let g: std::collections::HashMap<_, _> = group_max(self.scheme).into_iter().collect();
        let i = &self.items;
        let check = |e: &mut Vec<FieldError>, group: &str, sum: f64, what: &str| {
            if (sum - g[group]).abs() > 1e-9 {
                e.push(FieldError::new(
                    at("items"),
                    format!(
                        "{what} must sum to the {group} group's {} points in the {} scheme (got {sum}); adjust the item points",
                        g[group],
                        if self.scheme == Scheme::V2022 { "2022" } else { "2025" }
                    ),
                ));
            }
        };
        match self.scheme {
            Scheme::V2022 => check(
                &mut e,
                "online_service",
                i.offered_online + i.online_submission + i.fees_integrated + i.online_payment,
                "offered_online + online_submission + fees_integrated + online_payment",
            ),
            Scheme::V2025 => {
                check(
                    &mut e,
                    "online_service",
                    i.offered_online + i.online_submission,
                    "offered_online + online_submission",
                );
                check(
                    &mut e,
                    "online_payment",
                    i.fees_integrated + i.online_payment,
                    "fees_integrated + online_payment",
                );
            }
        }
        check(
            &mut e,
            "digitisation",
            i.e_result + i.digitisation + i.data_reuse,
            "e_result + digitisation + data_reuse",
        );
        if !(0.0..=g["publicity"]).contains(&self.publicity_points) {
            e.push(FieldError::new(
                at("publicity_points"),
                format!("must be between 0 and 18 (got {})", self.publicity_points),
            ));
        }
        let fb_max = g["satisfaction"] - i.satisfaction;
        if !(i.satisfaction > 0.0 && fb_max >= 0.0) {
            e.push(FieldError::new(
                at("items.satisfaction"),
                format!("must be in (0, 18] (got {})", i.satisfaction),
            ));
        } else if !(0.0..=fb_max).contains(&self.feedback_points) {
            e.push(FieldError::new(
                at("feedback_points"),
                format!(
                    "must be between 0 and {fb_max} (18 minus items.satisfaction) (got {})",
                    self.feedback_points
                ),
            ));
        }
        if self.bands.is_empty() {
            e.push(FieldError::new(at("bands"), "must list at least one band"));
        }
        for w in self.bands.windows(2) {
            if w[1].min >= w[0].min {
                e.push(FieldError::new(
                    at("bands"),
                    "must be listed highest first, with decreasing `min`",
                ));
                break;
            }
        }
        e
    }

    /// The band of a score (`n/a` when the score is undefined, e.g. a tier that receives no dossiers).
    pub fn band(&self, total: f64) -> String {
        if !total.is_finite() {
            return "n/a".into();
        }
        self.bands
            .iter()
            .find(|b| total >= b.min)
            .or(self.bands.last())
            .map_or_else(String::new, |b| b.name.clone())
    }

    /// Scores the rates of one scope.
    pub fn score(&self, r: &Rates) -> Score766 {
        let t = &self.thresholds;
        let i = &self.items;
        // 2.1: the curve is not published; linear up to `timeliness_full_at` (assumption).
        let timeliness = threshold_linear(r.on_time_766, 20.0, self.timeliness_full_at);
        let i31 = threshold_linear(r.offered_online, i.offered_online, t.offered_online);
        let i33 = threshold_linear(
            r.online_submission,
            i.online_submission,
            t.online_submission,
        );
        let i35 = threshold_linear(r.fees_integrated, i.fees_integrated, t.fees_integrated);
        let i36 = threshold_linear(r.online_payment, i.online_payment, t.online_payment);
        let i41 = threshold_linear(r.e_result, i.e_result, t.e_result);
        let i42 = threshold_linear(r.digitisation, i.digitisation, t.digitisation);
        let i43 = threshold_linear(r.data_reuse, i.data_reuse, t.data_reuse);
        // 5.4 = 100% − (late rate + complaint rate), full at ≥ 90% (766 text; DVCQG specification).
        let i54 = threshold_linear(
            (1.0 - r.late_766 - r.complaint).max(0.0),
            i.satisfaction,
            t.satisfaction,
        );
        let digitisation = i41 + i42 + i43;
        let satisfaction = self.feedback_points + i54;
        let groups = match self.scheme {
            Scheme::V2022 => vec![
                ("publicity", self.publicity_points),
                ("timeliness", timeliness),
                ("online_service", i31 + i33 + i35 + i36),
                ("digitisation", digitisation),
                ("satisfaction", satisfaction),
            ],
            Scheme::V2025 => vec![
                ("publicity", self.publicity_points),
                ("timeliness", timeliness),
                ("online_service", i31 + i33),
                ("online_payment", i35 + i36),
                ("digitisation", digitisation),
                ("satisfaction", satisfaction),
            ],
        };
        let total = groups.iter().map(|g| g.1).sum();
        Score766 {
            total,
            band: self.band(total),
            groups,
            items: vec![
                ("2.1_on_time", timeliness),
                ("3.1_offered_online", i31),
                ("3.3_online_submission", i33),
                ("3.5_fees_integrated", i35),
                ("3.6_online_payment", i36),
                ("4.1_e_result", i41),
                ("4.2_digitisation", i42),
                ("4.3_data_reuse", i43),
                ("5.4_satisfaction", i54),
            ],
        }
    }
}

/// The PAR index's procedure criteria (field "TTHC reform" and the
/// e-government field's dossier criteria), as a partial score in %.
///
/// The per-criterion points of Decision 876/QĐ-BNV were not found: each
/// criterion is threshold-linear with a weight, all parameters (assumption).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ParParams {
    /// Weight of the on-time rate (full at `on_time_full_at`).
    pub on_time: f64,
    /// On-time rate for full points (default 0.98).
    pub on_time_full_at: f64,
    /// Weight of apology letters sent for late dossiers (full when every late dossier has one).
    pub apology: f64,
    /// Weight of the online-dossier rate (full at `online_full_at`).
    pub online: f64,
    /// Online rate for full points (default 0.5).
    pub online_full_at: f64,
    /// Weight of the digitisation rate: paper dossiers scanned over paper
    /// dossiers (full at `digitisation_full_at`); not the 766 item 4.2 composite.
    pub digitisation: f64,
    /// Digitisation rate for full points (default 0.8).
    pub digitisation_full_at: f64,
    /// Group A from this share (national bands: A ≥ 90%).
    pub group_a: f64,
    /// Group B from this share (national bands: B 80–90%).
    pub group_b: f64,
}

impl Default for ParParams {
    fn default() -> Self {
        Self {
            on_time: 4.0,
            on_time_full_at: 0.98,
            apology: 2.0,
            online: 2.0,
            online_full_at: 0.5,
            digitisation: 2.0,
            digitisation_full_at: 0.8,
            group_a: 0.9,
            group_b: 0.8,
        }
    }
}

/// A PAR partial score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParScore {
    /// Share of the partial maximum, in [0, 1].
    pub share: f64,
    /// "A", "B" or "below B".
    pub group: &'static str,
}

impl ParParams {
    /// Checks the parameters.
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut e = Vec::new();
        for (f, x) in [
            ("on_time_full_at", self.on_time_full_at),
            ("online_full_at", self.online_full_at),
            ("digitisation_full_at", self.digitisation_full_at),
            ("group_a", self.group_a),
            ("group_b", self.group_b),
        ] {
            if !(x.is_finite() && x > 0.0 && x <= 1.0) {
                e.push(FieldError::new(
                    format!("{prefix}.{f}"),
                    format!("must be a threshold in (0, 1] (got {x})"),
                ));
            }
        }
        let weights = [self.on_time, self.apology, self.online, self.digitisation];
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0))
            || weights.iter().sum::<f64>() <= 0.0
        {
            e.push(FieldError::new(
                prefix,
                "criterion weights must be ≥ 0 and not all zero",
            ));
        }
        if self.group_b > self.group_a {
            e.push(FieldError::new(
                format!("{prefix}.group_b"),
                format!("must not exceed group_a ({})", self.group_a),
            ));
        }
        e
    }

    /// Scores the rates of one scope.
    pub fn score(&self, r: &Rates) -> ParScore {
        let total = self.on_time + self.apology + self.online + self.digitisation;
        let pts = threshold_linear(r.on_time_766, self.on_time, self.on_time_full_at)
            + self.apology
                * if r.apology_cover.is_finite() {
                    r.apology_cover
                } else {
                    1.0
                }
            + threshold_linear(r.online, self.online, self.online_full_at)
            + threshold_linear(
                r.paper_digitisation,
                self.digitisation,
                self.digitisation_full_at,
            );
        let share = pts / total;
        let group = if share >= self.group_a {
            "A"
        } else if share >= self.group_b {
            "B"
        } else {
            "below B"
        };
        ParScore { share, group }
    }
}

/// A SIPAS-like satisfaction model of one dossier's experience (assumption:
/// no published mapping exists; SIPAS surveys access, the procedure, the
/// civil servant, the result and feedback handling).
///
/// satisfaction = 1 − late·`late` − `per_extra_visit`·(visits − 1)⁺ −
/// `per_wait_hour`·(counter wait in hours) − `per_supplement`·requests, clamped to [0, 1];
/// complaint ("dislike") probability = `complaint_base` +
/// `complaint_per_dissatisfaction`·(1 − satisfaction), clamped to [0, 1].
/// So dissatisfaction drives the dislikes that 766 item 5.4 subtracts: both
/// feed the satisfaction group, and complaints rise with lateness, visits,
/// waiting and supplement requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SatisfactionParams {
    /// Penalty of a late dossier.
    pub late: f64,
    /// Penalty per visit beyond the first.
    pub per_extra_visit: f64,
    /// Penalty per hour of counter wait.
    pub per_wait_hour: f64,
    /// Penalty per supplement request.
    pub per_supplement: f64,
    /// Complaint probability of a fully satisfied dossier.
    pub complaint_base: f64,
    /// Added complaint probability per unit of dissatisfaction (1 − satisfaction).
    pub complaint_per_dissatisfaction: f64,
}

impl Default for SatisfactionParams {
    fn default() -> Self {
        Self {
            late: 0.5,
            per_extra_visit: 0.1,
            per_wait_hour: 0.1,
            per_supplement: 0.05,
            complaint_base: 0.001,
            complaint_per_dissatisfaction: 0.1,
        }
    }
}

impl SatisfactionParams {
    /// Checks the parameters.
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut e = Vec::new();
        for (f, x) in [
            ("late", self.late),
            ("per_extra_visit", self.per_extra_visit),
            ("per_wait_hour", self.per_wait_hour),
            ("per_supplement", self.per_supplement),
            ("complaint_base", self.complaint_base),
            (
                "complaint_per_dissatisfaction",
                self.complaint_per_dissatisfaction,
            ),
        ] {
            if !(x.is_finite() && (0.0..=1.0).contains(&x)) {
                e.push(FieldError::new(
                    format!("{prefix}.{f}"),
                    format!("must be in [0, 1] (got {x})"),
                ));
            }
        }
        e
    }

    /// Satisfaction of one dossier's experience, in [0, 1].
    pub fn satisfaction(
        &self,
        late: bool,
        visits: u32,
        counter_wait_min: f64,
        requests: u32,
    ) -> f64 {
        let extra = f64::from(visits.saturating_sub(1));
        let wait_h = if counter_wait_min.is_finite() {
            counter_wait_min / 60.0
        } else {
            0.0
        };
        (1.0 - self.late * f64::from(u8::from(late))
            - self.per_extra_visit * extra
            - self.per_wait_hour * wait_h
            - self.per_supplement * f64::from(requests))
        .clamp(0.0, 1.0)
    }

    /// Probability that a dossier with this `satisfaction` draws a complaint or "dislike".
    pub fn complaint(&self, satisfaction: f64) -> f64 {
        (self.complaint_base + self.complaint_per_dissatisfaction * (1.0 - satisfaction))
            .clamp(0.0, 1.0)
    }
}

/// All index parameters of a scenario (its `[index]` table).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexParams {
    /// The 766 index.
    pub i766: Params766,
    /// The PAR procedure criteria.
    pub par: ParParams,
    /// The satisfaction model.
    pub satisfaction: SatisfactionParams,
}

impl IndexParams {
    /// Every problem, with field paths under `index`.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = self.i766.validate("index.i766");
        e.extend(self.par.validate("index.par"));
        e.extend(self.satisfaction.validate("index.satisfaction"));
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates() -> Rates {
        Rates {
            on_time_766: 0.95,
            offered_online: 0.9,
            online_submission: 0.25,
            fees_integrated: 0.8,
            online_payment: 0.4,
            e_result: 0.2,
            digitisation: 0.4,
            paper_digitisation: 0.4,
            data_reuse: 0.4,
            late_766: 0.05,
            complaint: 0.01,
            apology_cover: 0.5,
            online: 0.3,
            satisfaction: 0.9,
        }
    }

    #[test]
    fn threshold_linear_items_have_their_corners_where_the_specification_puts_them() {
        assert_eq!(threshold_linear(0.8, 4.0, 0.8), 4.0);
        assert_eq!(threshold_linear(1.0, 4.0, 0.8), 4.0);
        assert_eq!(threshold_linear(0.4, 4.0, 0.8), 2.0);
        assert_eq!(threshold_linear(0.0, 4.0, 0.8), 0.0);
        assert_eq!(threshold_linear(0.5, 8.0, 0.5), 8.0);
        assert_eq!(threshold_linear(0.25, 8.0, 0.5), 4.0);
        // 5.4 at exactly 90% is full.
        assert_eq!(threshold_linear(0.9, 6.0, 0.9), 6.0);
        assert!((threshold_linear(0.45, 6.0, 0.9) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_2025_scheme_scores_a_hand_computed_example() {
        let p = Params766::default();
        let s = p.score(&rates());
        // By hand: timeliness 20·0.95 = 19; 3.1 = 4 (0.9 ≥ 0.8); 3.3 = 8·0.25/0.5 = 4;
        // 3.5 = 4 (0.8 ≥ 0.8); 3.6 = 6·0.4/0.8 = 3; 4.1 = 6·0.2/0.8 = 1.5;
        // 4.2 = 8·0.4/0.8 = 4; 4.3 = 8·0.4/0.8 = 4; 5.4 = 6·min(1, 0.94/0.9) = 6.
        let g: std::collections::HashMap<_, _> = s.groups.iter().cloned().collect();
        assert!((g["timeliness"] - 19.0).abs() < 1e-12);
        assert!((g["online_service"] - 8.0).abs() < 1e-12);
        assert!((g["online_payment"] - 7.0).abs() < 1e-12);
        assert!((g["digitisation"] - 9.5).abs() < 1e-12);
        assert!((g["satisfaction"] - 17.7).abs() < 1e-12);
        assert!((s.total - (16.0 + 19.0 + 8.0 + 7.0 + 9.5 + 17.7)).abs() < 1e-12);
        assert_eq!(s.band, "Khá");
    }

    #[test]
    fn the_2022_scheme_keeps_payment_inside_the_online_service_group() {
        let p = Params766 {
            scheme: Scheme::V2022,
            ..Params766::default()
        };
        assert!(p.validate("index.i766").is_empty());
        let s = p.score(&rates());
        assert_eq!(s.groups.len(), 5);
        let g: std::collections::HashMap<_, _> = s.groups.iter().cloned().collect();
        assert!((g["online_service"] - 15.0).abs() < 1e-12);
        // Same items, same total as the 2025 scheme with these item points.
        assert!((s.total - Params766::default().score(&rates()).total).abs() < 1e-12);
    }

    #[test]
    fn item_5_4_subtracts_late_and_complaint_rates() {
        let p = Params766::default();
        let mut r = rates();
        r.late_766 = 0.2;
        r.complaint = 0.07;
        let s = p.score(&r);
        let i54 = s
            .items
            .iter()
            .find(|i| i.0 == "5.4_satisfaction")
            .unwrap()
            .1;
        // 100% − 20% − 7% = 73%; 6 · 0.73 / 0.9.
        assert!((i54 - 6.0 * 0.73 / 0.9).abs() < 1e-12);
    }

    #[test]
    fn bands_are_inclusive_at_their_lower_edge() {
        let p = Params766::default();
        assert_eq!(p.band(90.0), "Tốt");
        // Bình Dương, September 2023: 73.4, "khá".
        assert_eq!(p.band(73.4), "Khá");
        assert_eq!(p.band(70.0), "Khá");
        assert_eq!(p.band(50.0), "Trung bình");
        assert_eq!(p.band(10.0), "Yếu");
        assert_eq!(p.band(f64::NAN), "n/a");
    }

    #[test]
    fn item_points_that_do_not_sum_to_the_group_are_refused() {
        let mut p = Params766::default();
        p.items.online_payment = 7.0;
        let e = p.validate("index.i766");
        assert!(
            e.iter().any(|e| e.field == "index.i766.items"
                && e.message.contains("online_payment group's 10 points")),
            "{e:?}"
        );
        p.scheme = Scheme::V2022;
        let e = p.validate("index.i766");
        assert!(
            e.iter()
                .any(|e| e.message.contains("online_service group's 22 points")),
            "{e:?}"
        );
    }

    #[test]
    fn thresholds_outside_zero_to_one_are_refused() {
        let mut p = Params766::default();
        p.thresholds.online_submission = 0.0;
        p.thresholds.digitisation = 1.5;
        let e = p.validate("index.i766");
        assert_eq!(
            e.iter()
                .filter(|e| e.message.contains("threshold in (0, 1]"))
                .count(),
            2
        );
    }

    #[test]
    fn par_groups_follow_the_national_bands() {
        let p = ParParams::default();
        let perfect = Rates {
            on_time_766: 1.0,
            apology_cover: 1.0,
            online: 0.6,
            paper_digitisation: 0.9,
            ..rates()
        };
        assert_eq!(p.score(&perfect).group, "A");
        assert!((p.score(&perfect).share - 1.0).abs() < 1e-12);
        // By hand: on time 4·0.95/0.98, apology 2·0.5, online 2·0.3/0.5, digitisation 2·0.4/0.8.
        let s = p.score(&rates());
        let expected = (4.0 * 0.95 / 0.98 + 1.0 + 1.2 + 1.0) / 10.0;
        assert!((s.share - expected).abs() < 1e-12);
        assert_eq!(s.group, "below B");
    }

    #[test]
    fn satisfaction_falls_with_lateness_visits_waiting_and_supplements() {
        let p = SatisfactionParams::default();
        assert_eq!(p.satisfaction(false, 1, 0.0, 0), 1.0);
        assert!((p.satisfaction(true, 1, 0.0, 0) - 0.5).abs() < 1e-12);
        assert!((p.satisfaction(false, 3, 30.0, 1) - (1.0 - 0.2 - 0.05 - 0.05)).abs() < 1e-12);
        let smooth = p.satisfaction(false, 1, 0.0, 0);
        let rough = p.satisfaction(true, 2, 0.0, 0);
        assert!(p.complaint(rough) > p.complaint(smooth));
        // By hand: late and one extra visit → satisfaction 0.4 → 0.001 + 0.1·0.6 = 0.061.
        assert!((p.complaint(rough) - 0.061).abs() < 1e-12);
        assert_eq!(p.satisfaction(true, 20, 600.0, 2), 0.0);
    }
}
