//! Independent random streams derived from (master seed, replication, purpose).

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator every stream uses: xoshiro256++, a fixed, portable
/// algorithm (unlike `rand`'s `SmallRng`, whose algorithm may change between
/// versions), so a seed gives the same draws on every platform and release.
pub type Stream = Xoshiro256PlusPlus;

/// The SplitMix64 finaliser: a bijective 64-bit mixer with full avalanche.
#[inline]
pub const fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a hash of a purpose label, usable in constants.
pub const fn label_hash(label: &str) -> u64 {
    let bytes = label.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// The stream factory of one replication.
///
/// A stream's seed is a hash of (master seed, replication, purpose label,
/// indices) and of nothing else, so creating streams in another order, adding
/// a stream, or running on another thread never changes an existing stream's
/// draws. Two purposes that should share draws (common random numbers across
/// a base scenario and a reform) simply use the same label and indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Streams {
    master: u64,
    replication: u64,
}

impl Streams {
    /// The streams of replication `replication` under `master` seed.
    pub fn new(master: u64, replication: u64) -> Self {
        Self {
            master,
            replication,
        }
    }

    /// The master seed.
    pub fn master(&self) -> u64 {
        self.master
    }

    /// The replication index.
    pub fn replication(&self) -> u64 {
        self.replication
    }

    /// The 64-bit seed of the stream for `label` and `indices`.
    pub fn seed_of(&self, label: &str, indices: &[u64]) -> u64 {
        let mut h = mix64(self.master ^ 0x6d6f_7463_7561_0001);
        h = mix64(h ^ mix64(self.replication));
        h = mix64(h ^ label_hash(label));
        for (i, &x) in indices.iter().enumerate() {
            h = mix64(h ^ mix64(x.wrapping_add((i as u64 + 1) << 56)));
        }
        h
    }

    /// The stream for `label` and `indices`.
    pub fn stream(&self, label: &str, indices: &[u64]) -> Stream {
        Stream::seed_from_u64(self.seed_of(label, indices))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn draws(mut s: Stream) -> Vec<u64> {
        (0..8).map(|_| s.next_u64()).collect()
    }

    #[test]
    fn a_stream_does_not_depend_on_which_other_streams_exist() {
        let st = Streams::new(42, 3);
        let alone = draws(st.stream("service", &[2]));
        let _others: Vec<_> = (0..100).map(|i| st.stream("arrival", &[i])).collect();
        assert_eq!(draws(st.stream("service", &[2])), alone);
    }

    #[test]
    fn streams_differ_by_seed_replication_label_and_index() {
        let base = Streams::new(1, 0).seed_of("service", &[0]);
        assert_ne!(base, Streams::new(2, 0).seed_of("service", &[0]));
        assert_ne!(base, Streams::new(1, 1).seed_of("service", &[0]));
        assert_ne!(base, Streams::new(1, 0).seed_of("route", &[0]));
        assert_ne!(base, Streams::new(1, 0).seed_of("service", &[1]));
        assert_ne!(
            Streams::new(1, 0).seed_of("x", &[1, 0]),
            Streams::new(1, 0).seed_of("x", &[0, 1])
        );
    }
}
