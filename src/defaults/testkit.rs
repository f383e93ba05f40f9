//! Helpers the style modules' tests share: sample digests, how far apart two pictures are,
//! and the fingerprint the golden tests pin.

use image::RgbaImage;
use sha2::{Digest as _, Sha256};

use crate::identity::Digest;

/// The MD5 digest of `user{n}@example.org`.
pub fn sample(n: u32) -> Digest {
    Digest::md5_of(&format!("user{n}@example.org"))
}

/// How far apart two pictures of one size are: the share of pixels (in thousandths) whose
/// colour or alpha differs by more than 32 in some channel.
pub fn per_mille_different(a: &RgbaImage, b: &RgbaImage) -> usize {
    let different = a
        .pixels()
        .zip(b.pixels())
        .filter(|(p, q)| (0..4).any(|c| p[c].abs_diff(q[c]) > 32))
        .count();
    different * 1000 / a.pixels().len()
}

/// SHA-256 (hex) of the raw RGBA bytes: what the golden tests pin.
pub fn fingerprint(image: &RgbaImage) -> String {
    hex::encode(Sha256::digest(image.as_raw()))
}
