//! The generic discrete-event kernel: event queue, random streams, distributions, arrival processes, networks and the run loop.
//!
//! The engine knows nothing of dossiers, tiers or files. Richer models
//! compile into a [`Network`] and, where probability tables are not enough,
//! drive the kernel with their own [`Router`].

mod arrival;
mod dist;
mod network;
mod queue;
mod sim;
mod stream;

pub use arrival::{ArrivalGen, Arrivals, RateProfile, Segment};
pub use dist::{Dist, DistError, EmpiricalSampler, MAX_EMPIRICAL_VALUES, Sampler, show, unit};
pub use network::{
    Branch, CapacitySegment, Class, ClassId, Discipline, Network, NetworkBuilder, NetworkError,
    Node, NodeId, NodeKind, Source, Target,
};
pub use queue::{
    BLOCK_BUCKETS, EventQueue, RING_BLOCKS, SMALL_RUN, order_key, order_key_time, time_bits,
};
pub use sim::{
    ClassResult, Customer, NodeResult, Router, RunConfig, RunError, RunResult, TableRouter, run,
    run_with,
};
pub use stream::{Stream, Streams, label_hash, mix64};

/// Asks the processor to bring the cache line holding `p` closer, without
/// waiting for it: a hint with no effect on the program's results. A plain
/// load used as a hint would hold up the instructions behind it until the
/// line arrives; the prefetch instruction retires at once.
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: `prefetcht0` is a hint: it never faults, whatever the address
    // (even an invalid one), and changes no register or memory the program
    // can observe.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// `x.floor() as i64`, without a call into `libm`: the default x86-64
/// target has no rounding instruction, and `f64::floor` costs a function
/// call on every event that maps a time to a day or a bucket. Same result
/// for every input, saturating at the `i64` range and 0 for NaN.
///
/// A simulation's times are not negative, and the floor of a non-negative
/// number is its truncation: one conversion, where the general case chains
/// a conversion back and a compare behind it on every event.
#[inline(always)]
pub fn floor_i64(x: f64) -> i64 {
    if x >= 0.0 {
        return x as i64;
    }
    let t = x as i64;
    t.saturating_sub(i64::from((t as f64) > x))
}

/// `x.floor()`, computed as [`floor_i64`] is (the same bits for every input,
/// `-0.0` and NaN included).
#[inline(always)]
pub fn floor_f64(x: f64) -> f64 {
    // Every f64 of magnitude 2^52 or more is an integer already.
    if x.abs() < 4_503_599_627_370_496.0 {
        let t = (x as i64 as f64).copysign(x);
        if t > x { t - 1.0 } else { t }
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_floors_agree_with_std_floor_bit_for_bit() {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            -1.5,
            2.999_999_999_999_999_6,
            -2.999_999_999_999_999_6,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            9.3e18,
            -9.3e18,
        ];
        let mut s = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..100_000 {
            s = mix64(s);
            xs.push(f64::from_bits(s));
            xs.push((s >> 11) as f64 / 1024.0 - 4.0e12);
        }
        for x in xs {
            if x.is_nan() {
                assert!(floor_f64(x).is_nan());
            } else {
                assert_eq!(
                    floor_f64(x).to_bits(),
                    x.floor().to_bits(),
                    "floor_f64({x:e})"
                );
            }
            assert_eq!(floor_i64(x), x.floor() as i64, "floor_i64({x:e})");
        }
    }
}
