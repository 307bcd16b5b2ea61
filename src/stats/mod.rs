//! Streaming statistics: per-run tallies and across-replication summaries with confidence intervals.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// A streaming tally of observations: count, mean and variance in constant
/// memory, mergeable across runs.
///
/// It keeps shifted sums (the first observation is the shift), which is as
/// cheap as plain sums on the hot path and avoids the cancellation of the
/// naive `sum of squares − n·mean²` formula.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    n: u64,
    shift: f64,
    sum: f64,
    sum_sq: f64,
}

impl Tally {
    /// An empty tally.
    pub const fn new() -> Self {
        Self {
            n: 0,
            shift: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
        }
    }

    /// Records one observation.
    #[inline]
    pub fn add(&mut self, x: f64) {
        if self.n == 0 {
            self.shift = x;
        }
        let d = x - self.shift;
        self.n += 1;
        self.sum += d;
        self.sum_sq += d * d;
    }

    /// Records `k` observations all equal to `x` (e.g. the zero waits of
    /// customers served at once, counted on the hot path and added at the end).
    pub fn add_repeated(&mut self, x: f64, k: u64) {
        if k == 0 {
            return;
        }
        if self.n == 0 {
            self.shift = x;
        }
        let d = x - self.shift;
        let m = k as f64;
        self.n += k;
        self.sum += m * d;
        self.sum_sq += m * d * d;
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Mean of the observations (`NaN` when empty).
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.shift + self.sum / self.n as f64
        }
    }

    /// Sample variance (denominator `n − 1`; `NaN` with fewer than two observations).
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            return f64::NAN;
        }
        let n = self.n as f64;
        ((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0)
    }

    /// Sum of the observations.
    pub fn sum(&self) -> f64 {
        self.shift * self.n as f64 + self.sum
    }

    /// Merges another tally into this one, as if its observations had been added here.
    pub fn merge(&mut self, other: &Tally) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        // Re-express the other tally's sums around this tally's shift.
        let d = other.shift - self.shift;
        let m = other.n as f64;
        self.sum_sq += other.sum_sq + 2.0 * d * other.sum + m * d * d;
        self.sum += other.sum + m * d;
        self.n += other.n;
    }
}

/// Mean and confidence interval of a quantity across replications.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Number of replications.
    pub n: usize,
    /// Mean across replications.
    pub mean: f64,
    /// Sample standard deviation across replications.
    pub sd: f64,
    /// Lower end of the confidence interval.
    pub ci_low: f64,
    /// Upper end of the confidence interval.
    pub ci_high: f64,
}

impl Summary {
    /// Summarises replication values with a two-sided Student-t interval at
    /// confidence `level` (e.g. 0.95). With fewer than two values the
    /// interval is `[−∞, +∞]`; non-finite values make every field `NaN`.
    pub fn from_values(values: &[f64], level: f64) -> Self {
        let n = values.len();
        let mut t = Tally::new();
        for &v in values {
            t.add(v);
        }
        let mean = t.mean();
        if n < 2 {
            return Self {
                n,
                mean,
                sd: f64::NAN,
                ci_low: f64::NEG_INFINITY,
                ci_high: f64::INFINITY,
            };
        }
        let sd = t.variance().sqrt();
        let half = t_quantile(level, (n - 1) as f64) * sd / (n as f64).sqrt();
        Self {
            n,
            mean,
            sd,
            ci_low: mean - half,
            ci_high: mean + half,
        }
    }

    /// Half-width of the confidence interval.
    pub fn half_width(&self) -> f64 {
        (self.ci_high - self.ci_low) / 2.0
    }

    /// Whether `x` lies inside the closed confidence interval.
    pub fn contains(&self, x: f64) -> bool {
        self.ci_low <= x && x <= self.ci_high
    }
}

/// The two-sided Student-t critical value: the `(1 + level) / 2` quantile
/// with `df` degrees of freedom.
pub fn t_quantile(level: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) => t.inverse_cdf((1.0 + level) / 2.0),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_bucket_lookup_agrees_with_the_logarithm_definition_bit_for_bit() {
        let check = |x: f64| {
            assert_eq!(
                Histogram::bucket(x),
                Histogram::bucket_by_log(x),
                "x = {x:e} ({:#x})",
                x.to_bits()
            );
        };
        for x in [
            f64::NAN,
            f64::NEG_INFINITY,
            -1.0,
            0.0,
            1e-300,
            H_MIN,
            1e7,
            1e300,
            f64::INFINITY,
        ] {
            check(x);
        }
        // Every edge and its float neighbours.
        for &e in H_EDGES.iter().skip(1) {
            let b = e.to_bits();
            for d in 0..4 {
                check(f64::from_bits(b + d));
                check(f64::from_bits(b - d));
            }
        }
        // A million log-uniform values from 10⁻⁵ to 10⁹.
        let mut s = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..1_000_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            check(10f64.powf(-5.0 + 14.0 * u));
        }
    }

    #[test]
    fn tally_matches_two_pass_mean_and_variance() {
        let xs = [1e9 + 1.0, 1e9 + 2.0, 1e9 + 4.0, 1e9 + 7.0];
        let mut t = Tally::new();
        xs.iter().for_each(|&x| t.add(x));
        let mean = xs.iter().sum::<f64>() / 4.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0;
        assert!((t.mean() - mean).abs() < 1e-6);
        assert!((t.variance() - var).abs() < 1e-9);
    }

    #[test]
    fn merged_tallies_equal_one_tally_of_all_observations() {
        let (mut a, mut b, mut all) = (Tally::new(), Tally::new(), Tally::new());
        for i in 0..100 {
            let x = (i as f64).sin() * 10.0 + 3.0;
            if i % 3 == 0 {
                a.add(x)
            } else {
                b.add(x)
            }
            all.add(x);
        }
        a.merge(&b);
        assert_eq!(a.count(), all.count());
        assert!((a.mean() - all.mean()).abs() < 1e-12);
        assert!((a.variance() - all.variance()).abs() < 1e-9);
    }

    #[test]
    fn repeated_observations_equal_adding_them_one_by_one() {
        let (mut a, mut b) = (Tally::new(), Tally::new());
        a.add(2.0);
        b.add(2.0);
        a.add_repeated(0.5, 5);
        (0..5).for_each(|_| b.add(0.5));
        assert_eq!(a.count(), b.count());
        assert!((a.mean() - b.mean()).abs() < 1e-15 && (a.variance() - b.variance()).abs() < 1e-12);
    }

    #[test]
    fn student_t_quantile_matches_tables() {
        // Two-sided 95% critical values from standard tables.
        assert!((t_quantile(0.95, 1.0) - 12.706).abs() < 1e-3);
        assert!((t_quantile(0.95, 9.0) - 2.262).abs() < 1e-3);
        assert!((t_quantile(0.95, 1e6) - 1.960).abs() < 1e-3);
    }

    #[test]
    fn summary_of_one_value_has_an_unbounded_interval() {
        let s = Summary::from_values(&[3.0], 0.95);
        assert_eq!(s.mean, 3.0);
        assert!(s.ci_low.is_infinite() && s.ci_high.is_infinite());
    }
}

/// A mergeable histogram of non-negative values with logarithmic buckets
/// (relative resolution about 2%), for quantiles in constant memory.
///
/// Values below `1e-3` share the first bucket; values above `1e7` the last.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

const H_MIN: f64 = 1e-3;
const H_PER_DECADE: f64 = 120.0;
const H_BUCKETS: usize = 10 * 120 + 2;

/// `H_EDGES[b]` is the least value [`Histogram::bucket_by_log`] puts in
/// bucket `b` or later (`b ≥ 1`; entry 0 is unused): the edges of the
/// definition, found once by stepping from the nominal edge
/// `H_MIN · 10^((b − 1) / H_PER_DECADE)` one float at a time, so that a
/// lookup reproduces the definition bit for bit whatever the rounding of
/// `log10`.
static H_EDGES: std::sync::LazyLock<Vec<f64>> = std::sync::LazyLock::new(|| {
    let step = |x: f64, up: bool| {
        let b = x.to_bits();
        f64::from_bits(if up { b + 1 } else { b - 1 })
    };
    let mut edges = vec![0.0; H_BUCKETS];
    for (b, edge) in edges.iter_mut().enumerate().skip(1) {
        let mut x = H_MIN * 10f64.powf((b - 1) as f64 / H_PER_DECADE);
        while x > H_MIN && Histogram::bucket_by_log(step(x, false)) >= b {
            x = step(x, false);
        }
        while Histogram::bucket_by_log(x) < b {
            x = step(x, true);
        }
        *edge = x;
    }
    edges
});

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self {
            counts: vec![0; H_BUCKETS],
            total: 0,
        }
    }

    /// The bucket of `x` by its definition: `⌊log10(x / H_MIN) · H_PER_DECADE⌋ + 1`,
    /// 0 below `H_MIN` (and for `NaN`), at most the last.
    fn bucket_by_log(x: f64) -> usize {
        if x.is_nan() || x < H_MIN {
            return 0;
        }
        (((x / H_MIN).log10() * H_PER_DECADE) as usize)
            .saturating_add(1)
            .min(H_BUCKETS - 1)
    }

    /// The bucket of `x`, exactly as [`Histogram::bucket_by_log`] gives it,
    /// without a logarithm: a first guess from the float's exponent and a
    /// cubic in its mantissa (within 0.05 of a bucket), then moved to the
    /// bucket whose stored edges hold `x`. On the hot path of every dossier.
    #[inline]
    fn bucket(x: f64) -> usize {
        if x.is_nan() || x < H_MIN {
            return 0;
        }
        let edges = &*H_EDGES;
        let bits = x.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as f64 - 1023.0;
        let t = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52)) - 1.0;
        // log2(1 + t) on [0, 1) by least squares; error below 0.0014.
        let log2 =
            exponent + t * (1.413_487_92 + t * (-0.567_755_74 + t * 0.153_914_77)) + 0.001_334;
        // log10(x / H_MIN) · H_PER_DECADE + 1, with H_MIN = 10⁻³.
        let guess = log2 * (H_PER_DECADE * std::f64::consts::LOG10_2) + 3.0 * H_PER_DECADE + 1.0;
        let mut b = (guess.max(1.0) as usize).min(H_BUCKETS - 1);
        while b + 1 < H_BUCKETS && x >= edges[b + 1] {
            b += 1;
        }
        while b > 1 && x < edges[b] {
            b -= 1;
        }
        b
    }

    /// The representative value of a bucket (its geometric midpoint).
    fn value(b: usize) -> f64 {
        if b == 0 {
            return 0.0;
        }
        H_MIN * 10f64.powf((b as f64 - 0.5) / H_PER_DECADE)
    }

    /// Records one value.
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.counts[Self::bucket(x)] += 1;
        self.total += 1;
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Records `n` copies of one value.
    pub fn add_n(&mut self, x: f64, n: u64) {
        self.counts[Self::bucket(x)] += n;
        self.total += n;
    }

    /// Adds another histogram's counts to this one.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
    }

    /// The `q`-quantile (0 ≤ q ≤ 1), to the bucket resolution; `NaN` when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.total == 0 {
            return f64::NAN;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::value(b);
            }
        }
        Self::value(H_BUCKETS - 1)
    }
}

/// A small histogram for one unit's counter waits: 8 buckets per doubling
/// (about 9% wide) from 1/16 to 2,048, in 520 bytes, filled without a
/// logarithm (the bucket comes from the value's exponent and top mantissa
/// bits). Kept per unit, it stays in cache where a [`Histogram`] per unit
/// (10 KB each) made a province-year 10% slower.
#[derive(Clone, Debug, PartialEq)]
pub struct CoarseHistogram {
    counts: [u32; 128],
    total: u64,
}

impl Default for CoarseHistogram {
    fn default() -> Self {
        Self {
            counts: [0; 128],
            total: 0,
        }
    }
}

impl CoarseHistogram {
    fn bucket(x: f64) -> usize {
        if x.is_nan() || x < 0.0625 {
            return 0;
        }
        let bits = x.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
        let eighth = ((bits >> 49) & 7) as i64;
        ((exponent + 4) * 8 + eighth + 1).clamp(1, 127) as usize
    }

    /// The lower edge of bucket `b ≥ 1`.
    fn lower(b: usize) -> f64 {
        let i = b as i32 - 1;
        2f64.powi(i / 8 - 4) * (1.0 + f64::from(i % 8) / 8.0)
    }

    /// Records one value.
    #[inline]
    pub fn add(&mut self, x: f64) {
        let b = Self::bucket(x);
        self.counts[b] = self.counts[b].saturating_add(1);
        self.total += 1;
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The same values in a [`Histogram`], each bucket at its geometric
    /// midpoint (bucket 0, below 1/16, at 0).
    pub fn to_histogram(&self) -> Histogram {
        let mut h = Histogram::new();
        for (b, &n) in self.counts.iter().enumerate() {
            if n > 0 {
                let v = if b == 0 {
                    0.0
                } else {
                    (Self::lower(b) * Self::lower(b + 1)).sqrt()
                };
                h.add_n(v, u64::from(n));
            }
        }
        h
    }
}

#[cfg(test)]
mod histogram_tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_within_two_percent() {
        let mut h = Histogram::new();
        for i in 1..=100_000 {
            h.add(i as f64 / 100.0);
        }
        for (q, exact) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = h.quantile(q);
            assert!((got / exact - 1.0).abs() < 0.02, "q{q}: {got} vs {exact}");
        }
        assert!(Histogram::new().quantile(0.5).is_nan());
    }

    #[test]
    fn merged_histograms_equal_one_histogram_of_all_values() {
        let (mut a, mut b, mut all) = (Histogram::new(), Histogram::new(), Histogram::new());
        for i in 0..1000 {
            let x = (i as f64 * 0.37).exp() % 5000.0;
            if i % 2 == 0 {
                a.add(x)
            } else {
                b.add(x)
            }
            all.add(x);
        }
        a.merge(&b);
        assert_eq!(a, all);
    }

    #[test]
    fn the_coarse_histogram_puts_values_in_buckets_about_nine_percent_wide() {
        let mut h = CoarseHistogram::default();
        for i in 1..=1000 {
            h.add(f64::from(i) * 0.1);
        }
        h.add(0.0);
        assert_eq!(h.count(), 1001);
        let q = h.to_histogram().quantile(0.9);
        assert!((q - 90.0).abs() / 90.0 < 0.06, "p90 {q}");
        for x in [0.07, 1.0, 3.3, 20.0, 480.0] {
            let b = CoarseHistogram::bucket(x);
            assert!(
                CoarseHistogram::lower(b) <= x && x < CoarseHistogram::lower(b + 1),
                "{x}"
            );
        }
    }
}
