//! Analytic queueing results used to validate the engine: Erlang C, Pollaczek–Khinchine and Jackson networks.

/// Erlang B blocking probability for `c` servers and offered load `a = λ/μ`
/// (the stable recursion B(k) = a·B(k−1) / (k + a·B(k−1))).
pub fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (f64::from(k) + a * b))
}

/// Erlang C: the probability that an arrival waits in an M/M/c queue with
/// offered load `a = λ/μ < c`. C = c·B / (c − a·(1 − B)).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    let c = f64::from(c);
    c * b / (c - a * (1.0 - b))
}

/// Steady-state results of an M/M/c queue (arrival rate `lambda`, service rate `mu` per server).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mmc {
    /// Probability of waiting (Erlang C).
    pub p_wait: f64,
    /// Mean wait in queue.
    pub wq: f64,
    /// Mean sojourn (wait + service).
    pub w: f64,
    /// Mean number waiting.
    pub lq: f64,
    /// Mean number in the system.
    pub l: f64,
    /// Server utilisation ρ = λ / (cμ).
    pub rho: f64,
}

/// M/M/c results by Erlang C: Wq = C / (cμ − λ), W = Wq + 1/μ, Lq = λWq, L = λW.
pub fn mmc(c: u32, lambda: f64, mu: f64) -> Mmc {
    let a = lambda / mu;
    let p_wait = erlang_c(c, a);
    let wq = p_wait / (f64::from(c) * mu - lambda);
    let w = wq + 1.0 / mu;
    Mmc {
        p_wait,
        wq,
        w,
        lq: lambda * wq,
        l: lambda * w,
        rho: a / f64::from(c),
    }
}

/// Pollaczek–Khinchine mean wait in an M/G/1 queue:
/// `Wq = λ·E[S²] / (2(1 − ρ))`, with `ρ = λ·E[S]`.
pub fn mg1_wq(lambda: f64, mean_s: f64, second_moment_s: f64) -> f64 {
    let rho = lambda * mean_s;
    lambda * second_moment_s / (2.0 * (1.0 - rho))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_reduces_to_rho_for_one_server() {
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        let r = mmc(1, 0.9, 1.0);
        assert!((r.wq - 9.0).abs() < 1e-9);
    }

    #[test]
    fn erlang_c_matches_a_published_value() {
        // c = 10, a = 9: C ≈ 0.6687 (standard Erlang C tables).
        assert!((erlang_c(10, 9.0) - 0.6687).abs() < 5e-4);
    }

    #[test]
    fn pollaczek_khinchine_gives_half_the_mm1_wait_for_deterministic_service() {
        assert!((mg1_wq(0.9, 1.0, 1.0) - 4.5).abs() < 1e-12);
        assert!((mg1_wq(0.9, 1.0, 2.0) - 9.0).abs() < 1e-12);
    }
}
