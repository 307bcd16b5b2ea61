//! Stable fingerprints: a 64-bit FNV-1a hash of bytes, the same on every platform and version, for scenario hashes and output checksums (not for security).

/// A 64-bit FNV-1a hash: stable across platforms and versions, for fingerprints (not for security).
#[derive(Clone, Copy, Debug)]
pub struct Fnv(u64);

impl Fnv {
    /// A fresh hash.
    pub fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    /// Adds bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Self::new()
    }
}

/// A 64-bit hash as 16 hex digits.
pub fn hex(h: u64) -> String {
    format!("{h:016x}")
}
