//! Arrival processes: Poisson, piecewise-constant rate profiles (exact inversion) and renewal processes.

use rand::Rng;
use rand_distr::{Distribution, Exp1};
use serde::{Deserialize, Serialize};

use super::dist::{Dist, DistError, Sampler};

/// One constant-rate piece of a cyclic rate profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// Length of the piece, in time units (> 0).
    pub duration: f64,
    /// Arrival rate during the piece, per time unit (≥ 0).
    pub rate: f64,
}

/// How customers of one source arrive, as written in network files:
/// `{ process = "poisson", rate = 0.9 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "process", rename_all = "snake_case", deny_unknown_fields)]
pub enum Arrivals {
    /// A homogeneous Poisson process with `rate` arrivals per time unit.
    Poisson {
        /// Arrivals per time unit (> 0).
        rate: f64,
    },
    /// A non-homogeneous Poisson process whose rate is piecewise constant and
    /// repeats with period `Σ duration`, starting at time 0.
    Profile {
        /// The pieces of one period, in order.
        segments: Vec<Segment>,
    },
    /// A renewal process: independent inter-arrival times from `interarrival`.
    Renewal {
        /// Distribution of the gaps between arrivals.
        interarrival: Dist,
    },
}

impl Arrivals {
    /// Long-run mean arrival rate per time unit.
    pub fn mean_rate(&self) -> f64 {
        match self {
            Arrivals::Poisson { rate } => *rate,
            Arrivals::Profile { segments } => {
                let period: f64 = segments.iter().map(|s| s.duration).sum();
                segments.iter().map(|s| s.rate * s.duration).sum::<f64>() / period
            }
            Arrivals::Renewal { interarrival } => 1.0 / interarrival.mean(),
        }
    }

    /// Checks the parameters; every error found, each with its field.
    pub fn validate(&self) -> Result<(), Vec<DistError>> {
        let bad = |field: String, message: String| DistError { field, message };
        match self {
            Arrivals::Poisson { rate } => {
                if rate.is_finite() && *rate > 0.0 {
                    Ok(())
                } else {
                    Err(vec![bad(
                        "rate".into(),
                        format!("must be a finite number > 0 (got {rate})"),
                    )])
                }
            }
            Arrivals::Profile { segments } => {
                let mut errors = Vec::new();
                if segments.is_empty() {
                    errors.push(bad(
                        "segments".into(),
                        "must list at least one segment".into(),
                    ));
                }
                for (i, s) in segments.iter().enumerate() {
                    if !(s.duration.is_finite() && s.duration > 0.0) {
                        errors.push(bad(
                            format!("segments[{i}].duration"),
                            format!("must be a finite number > 0 (got {})", s.duration),
                        ));
                    }
                    if !(s.rate.is_finite() && s.rate >= 0.0) {
                        errors.push(bad(
                            format!("segments[{i}].rate"),
                            format!("must be a finite number ≥ 0 (got {})", s.rate),
                        ));
                    }
                }
                if !segments.is_empty() && segments.iter().all(|s| s.rate == 0.0) {
                    errors.push(bad(
                        "segments".into(),
                        "at least one segment must have a rate > 0".into(),
                    ));
                }
                if errors.is_empty() {
                    Ok(())
                } else {
                    Err(errors)
                }
            }
            Arrivals::Renewal { interarrival } => {
                interarrival.validate().map_err(|es| {
                    es.into_iter()
                        .map(|e| bad(format!("interarrival.{}", e.field), e.message))
                        .collect::<Vec<_>>()
                })?;
                // Gaps of mean 0 would create arrivals without end at one instant.
                if interarrival.mean() > 0.0 {
                    Ok(())
                } else {
                    Err(vec![bad(
                        "interarrival".into(),
                        format!(
                            "must have a mean gap > 0 (got {}); arrivals would never advance time",
                            interarrival.mean()
                        ),
                    )])
                }
            }
        }
    }

    /// Builds the sampler of successive arrival times.
    pub fn generator(&self) -> Result<ArrivalGen, Vec<DistError>> {
        self.validate()?;
        Ok(match self {
            Arrivals::Poisson { rate } => ArrivalGen::Poisson {
                mean_gap: 1.0 / rate,
            },
            Arrivals::Profile { segments } => ArrivalGen::Profile(RateProfile::new(segments)),
            Arrivals::Renewal { interarrival } => {
                ArrivalGen::Renewal(interarrival.sampler().map_err(|es| {
                    es.into_iter()
                        .map(|e| DistError {
                            field: format!("interarrival.{}", e.field),
                            message: e.message,
                        })
                        .collect::<Vec<_>>()
                })?)
            }
        })
    }
}

/// A cyclic piecewise-constant rate with its cumulative intensity, for exact
/// sampling by inversion.
#[derive(Clone, Debug)]
pub struct RateProfile {
    /// Start of each segment within the period.
    starts: Vec<f64>,
    rates: Vec<f64>,
    period: f64,
    /// Expected arrivals in one period.
    mass: f64,
}

impl RateProfile {
    fn new(segments: &[Segment]) -> Self {
        let mut starts = Vec::with_capacity(segments.len());
        let mut t = 0.0;
        for s in segments {
            starts.push(t);
            t += s.duration;
        }
        Self {
            starts,
            rates: segments.iter().map(|s| s.rate).collect(),
            period: t,
            mass: segments.iter().map(|s| s.rate * s.duration).sum(),
        }
    }

    /// The time of the next arrival after `now`.
    ///
    /// Draws `E ~ Exp(1)` and finds the `t` whose integrated rate over
    /// `(now, t]` equals `E`, walking across segment boundaries: exact even
    /// when the rate changes inside the gap (no thinning bias, no loss).
    pub fn next_after<R: Rng + ?Sized>(&self, now: f64, rng: &mut R) -> f64 {
        self.next_after_from(now, &mut 0, rng)
    }

    /// [`RateProfile::next_after`], starting the search for `now`'s segment
    /// at `hint` (the segment the previous call ended in, which it updates).
    /// Successive arrivals fall in the same or the next segment, so this
    /// skips the binary search; the result does not depend on the hint.
    pub fn next_after_from<R: Rng + ?Sized>(&self, now: f64, hint: &mut usize, rng: &mut R) -> f64 {
        let mut need: f64 = Exp1.sample(rng);
        let mut cycle = super::floor_f64(now / self.period);
        let mut offset = (now - cycle * self.period).clamp(0.0, self.period);
        // The integrated rate over any whole period is `mass`: skip whole periods at once.
        if need > self.mass {
            let k = super::floor_f64(need / self.mass);
            need -= k * self.mass;
            cycle += k;
        }
        // The last segment starting at or before `offset`.
        let holds = |i: usize| {
            self.starts.get(i).is_some_and(|&s| s <= offset)
                && self.starts.get(i + 1).is_none_or(|&n| n > offset)
        };
        let mut i = if holds(*hint) {
            *hint
        } else if holds(*hint + 1) {
            *hint + 1
        } else {
            self.starts
                .partition_point(|&s| s <= offset)
                .saturating_sub(1)
        };
        loop {
            let end = self.starts.get(i + 1).copied().unwrap_or(self.period);
            let rate = self.rates[i];
            let mass = rate * (end - offset);
            if rate > 0.0 && mass >= need {
                *hint = i;
                return cycle * self.period + offset + need / rate;
            }
            need -= mass;
            offset = end;
            i += 1;
            if i == self.rates.len() {
                i = 0;
                offset = 0.0;
                cycle += 1.0;
            }
        }
    }
}

/// The sampler of successive arrival times of one source.
#[derive(Clone, Debug)]
pub enum ArrivalGen {
    /// Poisson with this mean gap.
    Poisson {
        /// Mean inter-arrival time.
        mean_gap: f64,
    },
    /// Non-homogeneous Poisson by inversion of the cumulative rate.
    Profile(RateProfile),
    /// Renewal with this gap sampler.
    Renewal(Sampler),
}

impl ArrivalGen {
    /// The time of the next arrival after one at `now`.
    #[inline(always)]
    pub fn next_after<R: Rng + ?Sized>(&self, now: f64, rng: &mut R) -> f64 {
        self.next_after_from(now, &mut 0, rng)
    }

    /// [`ArrivalGen::next_after`] with a search hint kept by the caller between
    /// calls (see [`RateProfile::next_after_from`]); the same result.
    #[inline(always)]
    pub fn next_after_from<R: Rng + ?Sized>(&self, now: f64, hint: &mut usize, rng: &mut R) -> f64 {
        match self {
            ArrivalGen::Poisson { mean_gap } => {
                let e: f64 = Exp1.sample(rng);
                now + e * mean_gap
            }
            ArrivalGen::Profile(p) => p.next_after_from(now, hint, rng),
            ArrivalGen::Renewal(s) => now + s.sample(rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Streams;

    #[test]
    fn profile_arrival_counts_per_segment_match_the_rates() {
        // A day of 24 hours: quiet night, busy morning, closed lunch, busy afternoon.
        let segments = vec![
            Segment {
                duration: 7.5,
                rate: 0.0,
            },
            Segment {
                duration: 4.0,
                rate: 30.0,
            },
            Segment {
                duration: 2.0,
                rate: 0.0,
            },
            Segment {
                duration: 3.5,
                rate: 15.0,
            },
            Segment {
                duration: 7.0,
                rate: 0.5,
            },
        ];
        let arr = Arrivals::Profile {
            segments: segments.clone(),
        }
        .generator()
        .unwrap();
        let mut rng = Streams::new(11, 0).stream("profile-test", &[]);
        let days = 2000.0;
        let mut counts = [0u64; 5];
        let mut t = 0.0;
        loop {
            t = arr.next_after(t, &mut rng);
            if t >= days * 24.0 {
                break;
            }
            let h = t % 24.0;
            let seg = if h < 7.5 {
                0
            } else if h < 11.5 {
                1
            } else if h < 13.5 {
                2
            } else if h < 17.0 {
                3
            } else {
                4
            };
            counts[seg] += 1;
        }
        for (i, s) in segments.iter().enumerate() {
            let expected = s.rate * s.duration * days;
            // Poisson counts: 5 standard deviations.
            let tol = 5.0 * expected.sqrt();
            assert!(
                (counts[i] as f64 - expected).abs() <= tol,
                "segment {i}: {} vs {expected}",
                counts[i]
            );
        }
    }

    #[test]
    fn a_gap_that_spans_a_rate_change_is_sampled_exactly() {
        // Rate 1 for 1 unit, then rate 100 for 1 unit. P(no arrival in the first unit) = e^-1,
        // and then the arrival lands early in the busy unit.
        let arr = Arrivals::Profile {
            segments: vec![
                Segment {
                    duration: 1.0,
                    rate: 1.0,
                },
                Segment {
                    duration: 1.0,
                    rate: 100.0,
                },
            ],
        }
        .generator()
        .unwrap();
        let mut rng = Streams::new(3, 0).stream("gap-test", &[]);
        let n = 200_000;
        let late = (0..n)
            .filter(|_| arr.next_after(0.0, &mut rng) >= 1.0)
            .count() as f64
            / n as f64;
        let p = (-1.0f64).exp();
        assert!(
            (late - p).abs() < 5.0 * (p * (1.0 - p) / n as f64).sqrt(),
            "{late} vs {p}"
        );
    }

    #[test]
    fn zero_rate_everywhere_is_rejected() {
        let e = Arrivals::Profile {
            segments: vec![Segment {
                duration: 1.0,
                rate: 0.0,
            }],
        }
        .validate()
        .unwrap_err();
        assert!(e[0].message.contains("rate > 0"));
    }
}
