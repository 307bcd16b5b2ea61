//! Probability distributions of durations: serde-tagged specifications, validation, analytic moments and fast samplers.

use rand::Rng;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, Exp1, Gamma, LogNormal, Normal, Triangular};
use serde::{Deserialize, Serialize};
use statrs::function::erf::erfc;

/// A distribution of non-negative durations (or other quantities), as written
/// in scenario files: `{ dist = "exponential", mean = 4.0 }`.
///
/// Parameters are in the unit of the quantity (minutes for the one-stop
/// model); `sd` is a standard deviation in that unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist {
    /// Always `value`.
    Constant {
        /// The value.
        value: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean (> 0).
        mean: f64,
    },
    /// Erlang: the sum of `k` exponential phases, with total mean `mean`.
    Erlang {
        /// Number of phases (≥ 1).
        k: u32,
        /// Mean of the sum (> 0).
        mean: f64,
    },
    /// Gamma given by its mean and standard deviation.
    Gamma {
        /// Mean (> 0).
        mean: f64,
        /// Standard deviation (> 0).
        sd: f64,
    },
    /// Lognormal given by the mean and standard deviation of the variable itself (not of its log).
    Lognormal {
        /// Mean (> 0).
        mean: f64,
        /// Standard deviation (> 0).
        sd: f64,
    },
    /// Triangular on `[min, max]` with mode `mode`.
    Triangular {
        /// Lower bound.
        min: f64,
        /// Most likely value.
        mode: f64,
        /// Upper bound.
        max: f64,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// A normal distribution with parameters `mean`, `sd`, truncated to `[0, ∞)`
    /// (conditioned on being non-negative; `mean` and `sd` are the untruncated parameters).
    TruncatedNormal {
        /// Mean of the untruncated normal (≥ 0).
        mean: f64,
        /// Standard deviation of the untruncated normal (> 0).
        sd: f64,
    },
    /// A discrete distribution over `values` with relative `weights`.
    Empirical {
        /// The possible values.
        values: Vec<f64>,
        /// Their relative weights (≥ 0, not all zero, as many as values).
        weights: Vec<f64>,
    },
}

/// Most values of an empirical distribution.
pub const MAX_EMPIRICAL_VALUES: usize = 100_000;

/// Why a distribution's parameters are invalid; the message names the
/// parameter, what was expected and what was given.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DistError {
    /// The parameter at fault (`mean`, `sd`, `weights[2]`, ...).
    pub field: String,
    /// What was expected and what was given.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> DistError {
    DistError {
        field: field.into(),
        message: message.into(),
    }
}

fn positive(field: &str, x: f64) -> Result<(), DistError> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(err(
            field,
            format!("must be a finite number > 0 (got {})", show(x)),
        ))
    }
}

fn non_negative(field: &str, x: f64) -> Result<(), DistError> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(err(
            field,
            format!("must be a finite number ≥ 0 (got {})", show(x)),
        ))
    }
}

/// A number for a message: plain for ordinary magnitudes, scientific for extreme ones.
pub fn show(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e9).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// Standard normal density.
fn phi(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal upper tail `1 − Φ(x)`.
fn upper_tail(x: f64) -> f64 {
    0.5 * erfc(x / std::f64::consts::SQRT_2)
}

impl Dist {
    /// Shorthand for an exponential distribution with mean `mean`.
    pub fn exponential(mean: f64) -> Self {
        Dist::Exponential { mean }
    }

    /// Shorthand for a constant.
    pub fn constant(value: f64) -> Self {
        Dist::Constant { value }
    }

    /// Checks the parameters: every error found, not just the first.
    pub fn validate(&self) -> Result<(), Vec<DistError>> {
        let mut errors = Vec::new();
        let mut check = |r: Result<(), DistError>| {
            if let Err(e) = r {
                errors.push(e)
            }
        };
        match self {
            Dist::Constant { value } => check(non_negative("value", *value)),
            Dist::Exponential { mean } => check(positive("mean", *mean)),
            Dist::Erlang { k, mean } => {
                if *k == 0 {
                    check(Err(err("k", "must be ≥ 1 (got 0)")));
                }
                check(positive("mean", *mean));
            }
            Dist::Gamma { mean, sd } | Dist::Lognormal { mean, sd } => {
                check(positive("mean", *mean));
                check(positive("sd", *sd));
            }
            Dist::Triangular { min, mode, max } => {
                check(non_negative("min", *min));
                check(non_negative("mode", *mode));
                check(non_negative("max", *max));
                if !(min <= mode && mode <= max && min < max) {
                    check(Err(err(
                        "mode",
                        format!(
                            "needs min ≤ mode ≤ max and min < max (got min {min}, mode {mode}, max {max})"
                        ),
                    )));
                }
            }
            Dist::Uniform { min, max } => {
                check(non_negative("min", *min));
                check(non_negative("max", *max));
                if min >= max {
                    check(Err(err(
                        "max",
                        format!("must be > min (got min {min}, max {max})"),
                    )));
                }
            }
            Dist::TruncatedNormal { mean, sd } => {
                check(non_negative("mean", *mean));
                check(positive("sd", *sd));
            }
            Dist::Empirical { values, weights } => {
                if values.is_empty() {
                    check(Err(err("values", "must list at least one value")));
                }
                if values.len() > MAX_EMPIRICAL_VALUES {
                    check(Err(err(
                        "values",
                        format!(
                            "at most {MAX_EMPIRICAL_VALUES} values (got {})",
                            values.len()
                        ),
                    )));
                }
                if values.len() != weights.len() {
                    check(Err(err(
                        "weights",
                        format!(
                            "must have one weight per value ({} values, {} weights)",
                            values.len(),
                            weights.len()
                        ),
                    )));
                }
                for (i, v) in values.iter().enumerate() {
                    check(non_negative(&format!("values[{i}]"), *v));
                }
                for (i, w) in weights.iter().enumerate() {
                    check(non_negative(&format!("weights[{i}]"), *w));
                }
                if !weights.is_empty() && weights.iter().all(|w| *w == 0.0) {
                    check(Err(err("weights", "must not all be zero")));
                }
            }
        }
        if errors.is_empty() {
            // Valid one by one, the parameters must also make a samplable
            // distribution with a finite mean (e.g. a lognormal whose sd is
            // 10³⁰⁰ times its mean is not).
            self.build()?;
            let (m, v) = (self.mean(), self.variance());
            if !(m.is_finite() && v.is_finite()) {
                return Err(vec![err(
                    "parameters",
                    format!(
                        "give a distribution with a finite mean and variance (mean {}, variance {}); lower the sd or the values",
                        show(m),
                        show(v)
                    ),
                )]);
            }
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The analytic mean.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant { value } => *value,
            Dist::Exponential { mean }
            | Dist::Erlang { mean, .. }
            | Dist::Gamma { mean, .. }
            | Dist::Lognormal { mean, .. } => *mean,
            Dist::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::TruncatedNormal { mean, sd } => {
                let a = -mean / sd;
                mean + sd * phi(a) / upper_tail(a)
            }
            Dist::Empirical { values, weights } => {
                let total: f64 = weights.iter().sum();
                values.iter().zip(weights).map(|(v, w)| v * w).sum::<f64>() / total
            }
        }
    }

    /// The analytic variance.
    pub fn variance(&self) -> f64 {
        match self {
            Dist::Constant { .. } => 0.0,
            Dist::Exponential { mean } => mean * mean,
            Dist::Erlang { k, mean } => mean * mean / f64::from(*k),
            Dist::Gamma { sd, .. } | Dist::Lognormal { sd, .. } => sd * sd,
            Dist::Triangular {
                min: a,
                mode: c,
                max: b,
            } => (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0,
            Dist::Uniform { min, max } => (max - min).powi(2) / 12.0,
            Dist::TruncatedNormal { mean, sd } => {
                let a = -mean / sd;
                let lambda = phi(a) / upper_tail(a);
                sd * sd * (1.0 + a * lambda - lambda * lambda)
            }
            Dist::Empirical { values, weights } => {
                let total: f64 = weights.iter().sum();
                let m = self.mean();
                values
                    .iter()
                    .zip(weights)
                    .map(|(v, w)| w * (v - m).powi(2))
                    .sum::<f64>()
                    / total
            }
        }
    }

    /// The second raw moment `E[X²]`.
    pub fn second_moment(&self) -> f64 {
        self.variance() + self.mean().powi(2)
    }

    /// Builds the fast sampler, validating the parameters first.
    pub fn sampler(&self) -> Result<Sampler, Vec<DistError>> {
        self.validate()?;
        self.build()
    }

    /// Builds the sampler of parameters that are valid one by one.
    fn build(&self) -> Result<Sampler, Vec<DistError>> {
        let one = |e: String| {
            vec![err(
                "parameters",
                format!("cannot be sampled: {e}; choose less extreme parameters"),
            )]
        };
        Ok(match self {
            Dist::Constant { value } => Sampler::Constant(*value),
            Dist::Exponential { mean } => Sampler::Exponential(*mean),
            Dist::Erlang { k, mean } => {
                let phase = mean / f64::from(*k);
                if *k == 1 {
                    Sampler::Exponential(phase)
                } else {
                    Sampler::Gamma(
                        Gamma::new(f64::from(*k), phase).map_err(|e| one(e.to_string()))?,
                    )
                }
            }
            Dist::Gamma { mean, sd } => {
                let shape = (mean / sd).powi(2);
                let scale = sd * sd / mean;
                Sampler::Gamma(Gamma::new(shape, scale).map_err(|e| one(e.to_string()))?)
            }
            Dist::Lognormal { mean, sd } => Sampler::Lognormal(
                LogNormal::from_mean_cv(*mean, sd / mean).map_err(|e| one(e.to_string()))?,
            ),
            Dist::Triangular { min, mode, max } => Sampler::Triangular(
                Triangular::new(*min, *max, *mode).map_err(|e| one(e.to_string()))?,
            ),
            Dist::Uniform { min, max } => Sampler::Uniform {
                min: *min,
                width: max - min,
            },
            Dist::TruncatedNormal { mean, sd } => {
                Sampler::TruncatedNormal(Normal::new(*mean, *sd).map_err(|e| one(e.to_string()))?)
            }
            Dist::Empirical { values, weights } => Sampler::Empirical(Box::new(EmpiricalSampler {
                values: values.clone(),
                index: WeightedAliasIndex::new(weights.clone()).map_err(|e| one(e.to_string()))?,
            })),
        })
    }
}

/// A validated distribution ready to draw from; built by [`Dist::sampler`].
#[derive(Clone, Debug)]
pub enum Sampler {
    /// Always this value.
    Constant(f64),
    /// Exponential with this mean (ziggurat sampler).
    Exponential(f64),
    /// Gamma (also Erlang with k ≥ 2).
    Gamma(Gamma<f64>),
    /// Lognormal.
    Lognormal(LogNormal<f64>),
    /// Triangular.
    Triangular(Triangular<f64>),
    /// Uniform on `[min, min + width)`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Width of the interval.
        width: f64,
    },
    /// Normal truncated to `[0, ∞)` by rejection (mean ≥ 0, so at least half the draws are kept).
    TruncatedNormal(Normal<f64>),
    /// Discrete values drawn by alias sampling (boxed: its alias table
    /// would otherwise make every sampler 96 bytes instead of 40, and the
    /// model's tables of samplers 2.4 times as large).
    Empirical(Box<EmpiricalSampler>),
}

/// The tables of an empirical distribution: its values and an alias table over their weights.
#[derive(Clone, Debug)]
pub struct EmpiricalSampler {
    /// The values.
    pub values: Vec<f64>,
    /// Alias table over the weights.
    pub index: WeightedAliasIndex<f64>,
}

// The size the boxing is for: a procedure's three effort samplers take
// 120 bytes (two cache lines) instead of 288 (five). The largest variant
// left is `rand_distr`'s gamma (40 bytes).
const _: () = assert!(std::mem::size_of::<Sampler>() <= 40);

/// A uniform draw in `[0, 1)` with 53 random bits.
#[inline]
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl Sampler {
    /// Draws one value.
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Sampler::Exponential(mean) => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Sampler::Constant(v) => *v,
            Sampler::Gamma(g) => g.sample(rng),
            Sampler::Lognormal(d) => d.sample(rng),
            Sampler::Triangular(d) => d.sample(rng),
            Sampler::Uniform { min, width } => min + width * unit(rng),
            Sampler::TruncatedNormal(d) => loop {
                let x = d.sample(rng);
                if x >= 0.0 {
                    break x;
                }
            },
            Sampler::Empirical(e) => e.values[e.index.sample(rng)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Streams;

    fn sample_mean_var(d: &Dist, n: usize) -> (f64, f64) {
        let s = d.sampler().unwrap();
        let mut rng = Streams::new(7, 0).stream("dist-test", &[]);
        let mut t = crate::stats::Tally::new();
        for _ in 0..n {
            t.add(s.sample(&mut rng));
        }
        (t.mean(), t.variance())
    }

    #[test]
    fn every_distribution_samples_its_analytic_mean_and_variance() {
        let cases = [
            Dist::Constant { value: 2.5 },
            Dist::Exponential { mean: 3.0 },
            Dist::Erlang { k: 4, mean: 2.0 },
            Dist::Gamma { mean: 5.0, sd: 2.0 },
            Dist::Lognormal { mean: 1.0, sd: 1.5 },
            Dist::Triangular {
                min: 1.0,
                mode: 2.0,
                max: 6.0,
            },
            Dist::Uniform { min: 2.0, max: 4.0 },
            Dist::TruncatedNormal { mean: 1.0, sd: 2.0 },
            Dist::Empirical {
                values: vec![1.0, 5.0, 10.0],
                weights: vec![1.0, 2.0, 1.0],
            },
        ];
        for d in &cases {
            let (m, v) = sample_mean_var(d, 400_000);
            // Tolerance: 5 standard errors of the sample mean, and 5% on the variance.
            let se = (d.variance() / 400_000.0).sqrt();
            assert!(
                (m - d.mean()).abs() <= 5.0 * se + 1e-12,
                "{d:?}: mean {m} vs {}",
                d.mean()
            );
            assert!(
                (v - d.variance()).abs() <= 0.05 * d.variance() + 1e-12,
                "{d:?}: var {v} vs {}",
                d.variance()
            );
        }
    }

    #[test]
    fn invalid_parameters_are_rejected_with_every_reason() {
        let e = Dist::Gamma {
            mean: -1.0,
            sd: 0.0,
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(
            e[0].to_string()
                .contains("mean: must be a finite number > 0 (got -1)")
        );
        let e = Dist::Empirical {
            values: vec![1.0, 2.0],
            weights: vec![0.0],
        }
        .sampler()
        .unwrap_err();
        assert!(e.iter().any(|e| e.field == "weights"));
        assert!(
            Dist::Triangular {
                min: 3.0,
                mode: 1.0,
                max: 2.0
            }
            .validate()
            .is_err()
        );
        assert!(Dist::Erlang { k: 0, mean: 1.0 }.sampler().is_err());
        assert!(Dist::Exponential { mean: f64::NAN }.sampler().is_err());
    }

    #[test]
    fn distributions_read_from_tagged_toml() {
        #[derive(Deserialize)]
        struct W {
            d: Dist,
        }
        let w: W = toml::from_str("d = { dist = \"lognormal\", mean = 2.0, sd = 1.0 }").unwrap();
        assert_eq!(w.d, Dist::Lognormal { mean: 2.0, sd: 1.0 });
        assert!(toml::from_str::<W>("d = { dist = \"weibull\", mean = 2.0 }").is_err());
    }
}
