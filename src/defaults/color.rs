//! The `color` style: one solid, opaque colour picked from the digest.
//!
//! The hue comes from the digest and covers the whole colour wheel; saturation and lightness
//! only vary within a narrow band, so every hash gets a pleasant mid-tone rather than a muddy
//! brown or a neon. The HSL → RGB helper is shared with the `retro` style.

use image::{Rgba, RgbaImage};

use crate::identity::Digest;

/// A `size`×`size` image filled with the digest's colour.
pub fn render(digest: &Digest, size: u32) -> RgbaImage {
    RgbaImage::from_pixel(size, size, digest_colour(digest))
}

/// The colour for `digest`: hue from the first two bytes, a little saturation and lightness
/// variation from the third and fourth so that neighbouring hues still differ.
fn digest_colour(digest: &Digest) -> Rgba<u8> {
    let bytes = digest.as_bytes();
    let hue = u32::from(u16::from_be_bytes([bytes[0], bytes[1]])) * 360 / 65_536;
    let saturation = 48 + u32::from(bytes[2] % 19); // 48..=66 %
    let lightness = 44 + u32::from(bytes[3] % 11); // 44..=54 %
    hsl(hue, saturation, lightness)
}

/// Converts HSL (hue in degrees 0..360, saturation and lightness in percent 0..=100) to an
/// opaque RGBA pixel.
///
/// Integer arithmetic only, in thousandths, so every machine produces the same bytes.
pub(super) fn hsl(hue: u32, saturation: u32, lightness: u32) -> Rgba<u8> {
    let hue = (hue % 360) as i64;
    let s = i64::from(saturation.min(100)) * 10; // 0..=1000
    let l = i64::from(lightness.min(100)) * 10; // 0..=1000
    // Chroma: (1 - |2L - 1|) * S.
    let chroma = (1000 - (2 * l - 1000).abs()) * s / 1000;
    // Second-largest component: C * (1 - |(H / 60) mod 2 - 1|), with H / 60 kept in thousandths.
    let sector = hue * 1000 / 60; // 0..6000
    let x = chroma * (1000 - (sector % 2000 - 1000).abs()) / 1000;
    let (r, g, b) = match hue / 60 {
        0 => (chroma, x, 0),
        1 => (x, chroma, 0),
        2 => (0, chroma, x),
        3 => (0, x, chroma),
        4 => (x, 0, chroma),
        _ => (chroma, 0, x),
    };
    let m = l - chroma / 2;
    // Scale 0..=1000 to 0..=255 with rounding; the clamp makes the narrowing cast lossless.
    let channel = |v: i64| ((v + m) * 255 + 500).div_euclid(1000).clamp(0, 255) as u8;
    Rgba([channel(r), channel(g), channel(b), 255])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_uniform_opaque_and_sized() {
        let image = render(&Digest::md5_of("alice@example.org"), 40);
        assert_eq!(image.dimensions(), (40, 40));
        let first = *image.get_pixel(0, 0);
        assert_eq!(first[3], 255);
        assert!(image.pixels().all(|p| *p == first));
    }

    #[test]
    fn differs_between_digests_and_is_deterministic() {
        let a = Digest::md5_of("alice@example.org");
        let b = Digest::md5_of("bob@example.org");
        assert_ne!(render(&a, 4).get_pixel(0, 0), render(&b, 4).get_pixel(0, 0));
        assert_eq!(render(&a, 4), render(&a, 4));
    }

    #[test]
    fn hsl_hits_the_primaries_and_greys() {
        assert_eq!(hsl(0, 100, 50), Rgba([255, 0, 0, 255]));
        assert_eq!(hsl(120, 100, 50), Rgba([0, 255, 0, 255]));
        assert_eq!(hsl(240, 100, 50), Rgba([0, 0, 255, 255]));
        assert_eq!(hsl(77, 0, 100), Rgba([255, 255, 255, 255]));
        assert_eq!(hsl(77, 0, 0), Rgba([0, 0, 0, 255]));
    }
}
