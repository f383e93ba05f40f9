//! Which digests might be served at all, answered from memory: a Bloom filter over every
//! digest of a confirmed address with a photo, so that a hash nobody uploaded (most of what
//! a public avatar server is asked for) costs no database round trip.
//!
//! A Bloom filter never says "no" for a member, so "not in the filter" is a sure miss;
//! "maybe" goes to the database as before. Members are only ever added (by the change feed,
//! for any digest a write touched): a digest that stopped being served stays a "maybe"
//! until the next rebuild, which costs one query, never a wrong answer.
//!
//! Sized at 16 bits per expected digest, with room for half as many again (about 0.1 % false
//! positives at build time, about 1 % when the owner rebuilds it, once as many digests were
//! added as it was sized for): 6 MB per million addresses (each answers to an MD5 and a
//! SHA-256 digest). Bits are atomics, so adding from
//! the feed needs no lock while requests read. The positions come from a keyed SipHash
//! (random key per process), so nobody can precompute digests that defeat it.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::identity::Digest;

/// Bit positions probed per digest (optimal for 10–20 bits per member).
const PROBES: u64 = 7;
/// Bits per expected member at build time.
const BITS_PER_MEMBER: u64 = 16;
/// The smallest filter (16 KiB): an empty server still answers misses from memory.
const MIN_BITS: u64 = 1 << 17;

pub struct ServedFilter {
    words: Vec<AtomicU64>,
    bits: u64,
    keys: RandomState,
    /// Members added since the build (counted with repeats): when this passes the build's
    /// count, the false-positive rate has grown and the owner rebuilds.
    added: AtomicU64,
    built_with: u64,
}

impl ServedFilter {
    /// An empty filter with room for `expected` members at the build-time rate.
    pub fn with_capacity(expected: u64) -> ServedFilter {
        let bits = (expected.saturating_mul(BITS_PER_MEMBER))
            .max(MIN_BITS)
            .next_multiple_of(64);
        ServedFilter {
            words: (0..bits / 64).map(|_| AtomicU64::new(0)).collect(),
            bits,
            keys: RandomState::new(),
            added: AtomicU64::new(0),
            built_with: expected,
        }
    }

    /// Adds a member while building (not counted towards a rebuild).
    pub fn insert_built(&self, digest: &Digest) {
        for position in self.positions(digest) {
            self.set(position);
        }
    }

    /// Adds a member the change feed named.
    pub fn insert(&self, digest: &Digest) {
        self.insert_built(digest);
        self.added.fetch_add(1, Ordering::Relaxed);
    }

    /// `false` means `digest` is surely not served.
    pub fn may_contain(&self, digest: &Digest) -> bool {
        self.positions(digest).all(|position| {
            let word = self.words[(position / 64) as usize].load(Ordering::Relaxed);
            word & (1 << (position % 64)) != 0
        })
    }

    /// Whether enough was added since the build that a rebuild would pay off.
    pub fn wants_rebuild(&self) -> bool {
        self.added.load(Ordering::Relaxed) > self.built_with.max(1024)
    }

    /// Bytes held by the bit array.
    pub fn byte_size(&self) -> usize {
        self.words.len() * 8
    }

    fn set(&self, position: u64) {
        self.words[(position / 64) as usize].fetch_or(1 << (position % 64), Ordering::Relaxed);
    }

    /// Double hashing (Kirsch–Mitzenmacher): probe i is `h1 + i·h2`, from two keyed hashes,
    /// mapped onto the bit range by a multiply-shift (no power-of-two rounding of the size).
    fn positions(&self, digest: &Digest) -> impl Iterator<Item = u64> + use<> {
        let mut hasher = self.keys.build_hasher();
        hasher.write(digest.as_bytes());
        let mut second = hasher.clone();
        second.write_u8(0xff);
        let (first, step) = (hasher.finish(), second.finish() | 1);
        let bits = u128::from(self.bits);
        (0..PROBES).map(move |i| {
            let probe = first.wrapping_add(i.wrapping_mul(step));
            ((u128::from(probe) * bits) >> 64) as u64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u32) -> Digest {
        Digest::sha256_of(&format!("user{n}@example.org"))
    }

    #[test]
    fn members_are_always_found() {
        let filter = ServedFilter::with_capacity(10_000);
        for n in 0..10_000 {
            filter.insert_built(&digest(n));
        }
        assert!((0..10_000).all(|n| filter.may_contain(&digest(n))));
    }

    #[test]
    fn strangers_are_mostly_refused() {
        let filter = ServedFilter::with_capacity(10_000);
        for n in 0..10_000 {
            filter.insert_built(&digest(n));
        }
        let false_positives = (10_000..110_000)
            .filter(|n| filter.may_contain(&digest(*n)))
            .count();
        // 16 bits and 7 probes per member: about 0.1 %; allow ten times that.
        assert!(false_positives < 1_000, "{false_positives} of 100000");
    }

    #[test]
    fn feed_additions_are_found_and_ask_for_a_rebuild_when_the_set_doubled() {
        let filter = ServedFilter::with_capacity(2_000);
        assert!(!filter.may_contain(&digest(1)));
        filter.insert(&digest(1));
        assert!(filter.may_contain(&digest(1)));
        assert!(!filter.wants_rebuild());
        for n in 0..2_100 {
            filter.insert(&digest(n));
        }
        assert!(filter.wants_rebuild());
    }

    #[test]
    fn size_follows_the_expected_members() {
        assert_eq!(ServedFilter::with_capacity(0).byte_size(), 16 * 1024);
        // 3 M digests (a million addresses and half again) at 16 bits: 48 M bits, 6 MB.
        assert_eq!(
            ServedFilter::with_capacity(3_000_000).byte_size(),
            6_000_000
        );
    }
}
