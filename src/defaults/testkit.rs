//! Helpers the style modules' tests share: sample digests, how far apart two pictures are,
//! and the fingerprint the golden tests pin.

use std::ops::Range;

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
    per_mille_beyond(a, b, 4, 32)
}

/// The share of pixels (in thousandths) that differ by more than `tolerance` in one of the
/// first `channels` channels (3: colour only, 4: colour or alpha).
pub fn per_mille_beyond(a: &RgbaImage, b: &RgbaImage, channels: usize, tolerance: u8) -> usize {
    let different = a
        .pixels()
        .zip(b.pixels())
        .filter(|(p, q)| (0..channels).any(|c| p[c].abs_diff(q[c]) > tolerance))
        .count();
    different * 1000 / a.pixels().len()
}

/// SHA-256 (hex) of the raw RGBA bytes: what the golden tests pin.
pub fn fingerprint(image: &RgbaImage) -> String {
    hex::encode(Sha256::digest(image.as_raw()))
}

/// The sizes the size tests draw at: the tiny ones, odd ones and a large one.
pub const SIZES: [u32; 8] = [1, 2, 3, 7, 16, 80, 127, 512];

/// Asserts that `render(digest, size)` is exactly `size` × `size` and fully opaque, for the
/// samples `samples` at every size in [`SIZES`]. `style` names the picture in failures.
#[track_caller]
pub fn assert_sized_and_opaque(
    style: &str,
    samples: Range<u32>,
    render: impl Fn(&Digest, u32) -> RgbaImage,
) {
    for n in samples {
        for size in SIZES {
            let image = render(&sample(n), size);
            assert_eq!(image.dimensions(), (size, size), "{style}: {n} at {size}");
            assert!(
                image.pixels().all(|p| p[3] == 255),
                "{style}: {n} at {size}"
            );
        }
    }
}

/// Asserts that the pictures of samples 0 to 19 are, every pair of them, at least `at_least`
/// thousandths apart by [`per_mille_different`], and prints how close the closest pair came.
#[track_caller]
pub fn assert_pairwise_apart(style: &str, render: impl Fn(&Digest) -> RgbaImage, at_least: usize) {
    assert_pairwise_apart_by(style, render, per_mille_different, at_least);
}

/// [`assert_pairwise_apart`] with another measure of how far apart two pictures are.
#[track_caller]
pub fn assert_pairwise_apart_by(
    style: &str,
    render: impl Fn(&Digest) -> RgbaImage,
    distance: impl Fn(&RgbaImage, &RgbaImage) -> usize,
    at_least: usize,
) {
    let pictures: Vec<RgbaImage> = (0..20).map(|n| render(&sample(n))).collect();
    let mut closest = usize::MAX;
    for (i, a) in pictures.iter().enumerate() {
        for (j, b) in pictures.iter().enumerate().skip(i + 1) {
            let apart = distance(a, b);
            closest = closest.min(apart);
            assert!(
                apart >= at_least,
                "{style}: hashes {i} and {j} only {apart}‰ apart"
            );
        }
    }
    eprintln!("{style}: closest pair {closest}‰");
}

/// Whom the golden tests draw, by the MD5 of the address.
pub const GOLDEN_ADDRESSES: [&str; 3] =
    ["alice@example.org", "bob@example.org", "carol@example.org"];

/// The golden pictures that changed, one line each (`address: new fingerprint`): `golden`
/// holds the [`fingerprint`]s of `render` for [`GOLDEN_ADDRESSES`], in that order.
pub fn changed_goldens(render: impl Fn(&Digest) -> RgbaImage, golden: &[&str; 3]) -> Vec<String> {
    GOLDEN_ADDRESSES
        .iter()
        .zip(golden)
        .filter_map(|(who, expected)| {
            let actual = fingerprint(&render(&Digest::md5_of(who)));
            (actual != *expected).then(|| format!("{who}: {actual}"))
        })
        .collect()
}

/// Asserts that no golden picture changed (see [`changed_goldens`]).
#[track_caller]
pub fn assert_golden(render: impl Fn(&Digest) -> RgbaImage, golden: &[&str; 3]) {
    let changed = changed_goldens(render, golden);
    assert!(
        changed.is_empty(),
        "the drawing changed; if on purpose, update GOLDEN:\n{}",
        changed.join("\n")
    );
}

/// Asserts that `render` draws the same picture twice for one digest (MD5 or SHA-256) and
/// different pictures for a SHA-256 and an unrelated MD5.
#[track_caller]
pub fn assert_deterministic_for_md5_and_sha256(render: impl Fn(&Digest, u32) -> RgbaImage) {
    let long = Digest::sha256_of("alice@example.org");
    assert_eq!(render(&long, 80), render(&long, 80));
    assert_eq!(render(&sample(3), 64), render(&sample(3), 64));
    assert_ne!(render(&long, 64), render(&sample(3), 64));
}

/// Prints the mean time `render` takes for [`sample`] digests at each `(size, rounds)`; for
/// the ignored `timing` tests (`cargo test --release --lib defaults::STYLE -- --ignored
/// --nocapture`).
pub fn print_timing(style: &str, sizes: &[(u32, u32)], render: impl Fn(&Digest, u32) -> RgbaImage) {
    for &(size, rounds) in sizes {
        let start = std::time::Instant::now();
        for n in 0..rounds {
            std::hint::black_box(render(&sample(n), size));
        }
        println!(
            "{style} at {size} px: {:?} a picture",
            start.elapsed() / rounds
        );
    }
}

/// Writes PNGs of eight [`sample`] digests at 16, 80 and 512 px to `/tmp/cameo-preview`, with
/// two contact sheets: `STYLE-sheet.png` (the eight at 80 px, beneath them at 16 px enlarged
/// 5× with nearest neighbour to judge legibility, then 24 more at 80 px) and
/// `STYLE-sheet-large.png` (the eight at 256 px); for the ignored `write_previews` tests.
pub fn write_previews(style: &str, render: impl Fn(&Digest, u32) -> RgbaImage) {
    use image::imageops::{FilterType, overlay, resize};

    let dir = std::path::Path::new("/tmp/cameo-preview");
    std::fs::create_dir_all(dir).unwrap();
    let white = image::Rgba([255, 255, 255, 255]);
    let mut sheet = RgbaImage::from_pixel(8 * 84 + 4, 5 * 84 + 4, white);
    let mut large = RgbaImage::from_pixel(4 * 260 + 4, 2 * 260 + 4, white);
    for n in 0..8u32 {
        for size in [16, 80, 512] {
            let path = dir.join(format!("{style}-{n}-{size}.png"));
            render(&sample(n), size).save(path).unwrap();
        }
        let x = i64::from(4 + n * 84);
        overlay(&mut sheet, &render(&sample(n), 80), x, 4);
        let enlarged = resize(&render(&sample(n), 16), 80, 80, FilterType::Nearest);
        overlay(&mut sheet, &enlarged, x, 88);
        let (x, y) = (4 + (n % 4) * 260, 4 + (n / 4) * 260);
        overlay(&mut large, &render(&sample(n), 256), x.into(), y.into());
    }
    for n in 8..32u32 {
        let (x, y) = (4 + (n % 8) * 84, 4 + (n / 8 + 1) * 84);
        overlay(&mut sheet, &render(&sample(n), 80), x.into(), y.into());
    }
    sheet.save(dir.join(format!("{style}-sheet.png"))).unwrap();
    large
        .save(dir.join(format!("{style}-sheet-large.png")))
        .unwrap();
}
