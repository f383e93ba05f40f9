//! The fuzz corpora (fuzz/corpus/*), replayed on stable Rust without a fuzzer: every input the
//! fuzzers kept, and every input that once crashed, goes through the same checks as the fuzz
//! targets (fuzz/src/lib.rs, included here) without a panic and within a time bound.
//!
//! `write_intake_seeds` (ignored) regenerates the small valid images the intake corpus was
//! seeded with; see fuzz/README.md.

#[path = "../../fuzz/src/lib.rs"]
mod checks;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Per input, in a debug build. A bound, not a benchmark.
const TIME_BOUND: Duration = Duration::from_secs(2);

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// Feeds every file of a corpus to `check`; returns how many there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus(target))
        .unwrap_or_else(|e| panic!("fuzz/corpus/{target}: {e}"))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    for path in &files {
        let bytes = std::fs::read(path).expect("corpus file");
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        let elapsed = started.elapsed();
        assert!(outcome.is_ok(), "{} panicked", path.display());
        assert!(elapsed < TIME_BOUND, "{}: {elapsed:?}", path.display());
    }
    files.len()
}

#[test]
fn request_corpus_parses_without_panics() {
    assert!(replay("request", checks::check_request) > 10);
}

#[test]
fn identity_corpus_normalises_without_panics() {
    assert!(replay("identity", checks::check_identity) > 10);
}

#[test]
fn intake_corpus_is_taken_in_or_refused_without_panics() {
    assert!(replay("intake", checks::check_intake) > 10);
}

#[test]
fn rel_me_corpus_is_tokenized_without_panics() {
    assert!(replay("rel_me", checks::check_rel_me) >= 5);
}

/// Writes the intake seeds: one small picture per format and colour type, an animated GIF,
/// a JPEG with an EXIF orientation, and the small hostile files of `hostile_images`.
#[test]
#[ignore = "regenerates fuzz/corpus/intake seeds; run by hand"]
fn write_intake_seeds() {
    use crate::hostile_images::forge;
    use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
    let dir = corpus("intake");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    let picture = RgbaImage::from_fn(12, 8, |x, y| {
        Rgba([
            (x * 20) as u8,
            (y * 30) as u8,
            128,
            if x < 2 { 0 } else { 255 },
        ])
    });
    let pictures = [
        ("rgba", DynamicImage::ImageRgba8(picture.clone())),
        (
            "rgb",
            DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(picture.clone()).into_rgb8()),
        ),
        (
            "grey",
            DynamicImage::ImageLuma8(DynamicImage::ImageRgba8(picture.clone()).into_luma8()),
        ),
        (
            "rgba16",
            DynamicImage::ImageRgba16(DynamicImage::ImageRgba8(picture).into_rgba16()),
        ),
    ];
    for (kind, picture) in &pictures {
        for (format, extension) in [
            (ImageFormat::Png, "png"),
            (ImageFormat::Jpeg, "jpg"),
            (ImageFormat::Gif, "gif"),
            (ImageFormat::WebP, "webp"),
        ] {
            let mut out = std::io::Cursor::new(Vec::new());
            if picture.write_to(&mut out, format).is_ok() {
                write(&format!("seed-{kind}.{extension}"), &out.into_inner());
            }
        }
    }
    let jpeg = std::fs::read(dir.join("seed-rgb.jpg")).unwrap();
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0".to_vec();
    exif.extend_from_slice(&[0; 4]);
    write(
        "seed-exif-rotated.jpg",
        &forge::jpeg_with_segment(&jpeg, 0xE1, &exif),
    );
    let frames = [1u8, 2, 3].map(|index| forge::GifFrame::solid(1, 1, 6, 4, index));
    write("seed-animated.gif", &forge::gif((8, 6), &frames, b""));
    for hostile in crate::hostile_images::hostile_cases() {
        if hostile.bytes.len() <= 64 * 1024 {
            let name: String = hostile
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            write(&format!("hostile-{name}"), &hostile.bytes);
        }
    }
}
