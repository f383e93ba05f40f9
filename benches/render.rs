//! Criterion benches of the render path, through the library's public API only.
//!
//! Groups (see bench/README.md for what each one stands for in the server):
//! - `render_miss_cold`: decode the stored original, resize to 80, encode (PNG, JPEG);
//! - `render_miss_warm`: resize an already-decoded original to 80, encode: the server's
//!   usual miss, since decoded originals are cached;
//! - `resize_only`: 512→80 Lanczos3;
//! - `intake`: `prepare_photo` of a 1024×768 JPEG upload;
//! - `defaults`: every generated look (all three robohash sets, initials with and without
//!   letters) drawn at 80 and 512 px, then PNG-encoded.
//!
//! Run with `cargo bench --bench render`; the whole run takes about a minute.

use std::hint::black_box;
use std::time::Duration;

use cameo::defaults::{Style, StyleOptions};
use cameo::identity::Digest;
use cameo::imaging::render::RENDER_JPEG_QUALITY;
use cameo::imaging::{
    IntakeLimits, Original, PhotoFormat, decode_original, encode_picture, prepare_photo,
    resize_square,
};
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, criterion_group};
use criterion::{criterion_main, measurement::WallTime};
use image::{DynamicImage, Rgb, RgbImage};

/// The rendition size most clients ask for (the protocol's default).
const SIZE: u32 = 80;

/// The server's default intake limits (`max_upload_bytes`, `max_image_pixels`).
const LIMITS: IntakeLimits = IntakeLimits {
    max_bytes: 10_000_000,
    max_pixels: 40_000_000,
};

/// A fixed-seed linear congruential generator: the same "noise" on every run and machine.
struct Lcg(u64);

impl Lcg {
    fn next_byte(&mut self) -> u8 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 56) as u8
    }

    /// Roughly centred noise in -amplitude..=amplitude.
    fn noise(&mut self, amplitude: i32) -> i32 {
        (i32::from(self.next_byte()) - 128) * amplitude / 128
    }
}

/// A photo-like picture: smooth gradients and soft blobs (what compresses well in a real
/// photo) plus fine grain and a few hard edges (what does not), so the encoders do realistic
/// work rather than compressing a flat colour to nothing.
fn photo_like(width: u32, height: u32) -> RgbImage {
    let mut lcg = Lcg(0x5eed_cafe_f00d_0001);
    let (w, h) = (width as f32, height as f32);
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / w, y as f32 / h);
        // A soft "face" blob in the middle and a lighter "sky" at the top.
        let (dx, dy) = (fx - 0.5, fy - 0.55);
        let blob = (-(dx * dx + dy * dy) * 9.0).exp();
        let ripple = ((fx * 23.0).sin() * (fy * 17.0).cos()) * 0.5 + 0.5;
        let edge = if (x / 37 + y / 53) % 5 == 0 {
            40.0
        } else {
            0.0
        };
        let base = [
            60.0 + 150.0 * blob + 30.0 * fx + edge,
            50.0 + 110.0 * blob + 60.0 * (1.0 - fy) + 20.0 * ripple,
            90.0 + 40.0 * blob + 90.0 * (1.0 - fy) - edge * 0.5,
        ];
        let pixel = base.map(|channel| {
            let grain = lcg.noise(14) as f32;
            (channel + grain).clamp(0.0, 255.0) as u8
        });
        Rgb(pixel)
    })
}

/// The stored original, as intake would store it: a 512×512 PNG upload through `prepare_photo`.
fn stored_original() -> Vec<u8> {
    let upload = encode_picture(
        &DynamicImage::ImageRgb8(photo_like(512, 512)),
        PhotoFormat::Png,
        0,
    )
    .expect("encoding the test upload");
    let prepared = prepare_photo(&upload, LIMITS).expect("intake of the test photo");
    assert_eq!((prepared.format, prepared.side), (PhotoFormat::Png, 512));
    prepared.data
}

fn still(original: &Original) -> &DynamicImage {
    match original {
        Original::Still(picture) => picture,
        Original::Animated(_) => panic!("the test photo is not animated"),
    }
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

const FORMATS: [(&str, PhotoFormat); 2] = [("png", PhotoFormat::Png), ("jpeg", PhotoFormat::Jpeg)];

fn render_miss_cold(c: &mut Criterion) {
    let stored = stored_original();
    let mut group = c.benchmark_group("render_miss_cold");
    configure(&mut group);
    for (name, format) in FORMATS {
        group.bench_function(name, |b| {
            b.iter(|| {
                let original = decode_original(black_box(&stored)).expect("decode");
                let small = resize_square(still(&original), SIZE);
                encode_picture(&small, format, RENDER_JPEG_QUALITY).expect("encode")
            })
        });
    }
    group.finish();
}

fn render_miss_warm(c: &mut Criterion) {
    let original = decode_original(&stored_original()).expect("decode");
    let picture = still(&original);
    let mut group = c.benchmark_group("render_miss_warm");
    configure(&mut group);
    for (name, format) in FORMATS {
        group.bench_function(name, |b| {
            b.iter(|| {
                let small = resize_square(black_box(picture), SIZE);
                encode_picture(&small, format, RENDER_JPEG_QUALITY).expect("encode")
            })
        });
    }
    group.finish();
}

fn resize_only(c: &mut Criterion) {
    let original = decode_original(&stored_original()).expect("decode");
    let picture = still(&original);
    let mut group = c.benchmark_group("resize_only");
    configure(&mut group);
    group.bench_function("lanczos3_512_to_80", |b| {
        b.iter(|| resize_square(black_box(picture), SIZE))
    });
    group.finish();
}

fn intake(c: &mut Criterion) {
    let upload = encode_picture(
        &DynamicImage::ImageRgb8(photo_like(1024, 768)),
        PhotoFormat::Jpeg,
        90,
    )
    .expect("encoding the test upload");
    let mut group = c.benchmark_group("intake");
    configure(&mut group);
    // Each iteration takes milliseconds: flat sampling keeps the run inside its time budget.
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    group.bench_function("jpeg_1024x768", |b| {
        b.iter(|| prepare_photo(black_box(&upload), LIMITS).expect("intake"))
    });
    group.finish();
}

fn defaults(c: &mut Criterion) {
    let digest = Digest::md5_of("bench@example.org");
    let mut group = c.benchmark_group("defaults");
    configure(&mut group);
    group
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for size in [SIZE, 512] {
        let initials = Style::from_name("initials")
            .expect("initials is a style")
            .with_options(&StyleOptions {
                name: Some("Ada Lovelace"),
                ..StyleOptions::default()
            });
        for style in Style::every_look().chain([initials]) {
            let label = style
                .query()
                .replace("d=", "")
                .replace("&robohash=", "-")
                .replace("&initials=", "-");
            group.bench_with_input(BenchmarkId::new(label, size), &size, |b, &size| {
                b.iter(|| {
                    style
                        .encode(
                            black_box(&digest),
                            size,
                            PhotoFormat::Png,
                            RENDER_JPEG_QUALITY,
                        )
                        .expect("encode")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(
    benches,
    render_miss_cold,
    render_miss_warm,
    resize_only,
    intake,
    defaults
);
criterion_main!(benches);
