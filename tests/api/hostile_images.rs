//! Hostile images, forged by the tests themselves: decompression bombs, absurd dimensions, a
//! 10 000-frame GIF, truncated files, polyglots, HTML and SVG named `.png`, an empty file.
//!
//! Each goes through the intake function, the `cameo add` CLI and the upload form. A hostile
//! file is refused with its specific reason, within a time bound, without the process's peak
//! memory growing past a bound, and the server keeps serving. A polyglot that *is* a valid
//! picture may be accepted, but only re-encoded bytes are stored: its payload must be gone.

pub mod forge;

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cameo::config::Config;
use cameo::imaging::{IntakeLimits, prepare_photo};
use image::ImageFormat;

use self::forge::*;
use crate::browser::Browser;
use crate::helpers::{md5_of, run_cameo, spawn_app_with_mail, stderr, temp_file};

/// Each file is dealt with within this, even in a debug build. A bound, not a benchmark.
const TIME_BOUND: Duration = Duration::from_secs(2);
/// Peak resident memory of a process that took one hostile file in.
const MEMORY_BOUND_KB: u64 = 300 * 1024;

pub enum Expect {
    /// Refused, with this text in the reason.
    Refused(&'static str),
    /// A picture after all: accepted, and none of these bytes survive into what is stored.
    Reencoded(&'static [u8]),
}

pub struct Hostile {
    pub name: &'static str,
    /// The name it is uploaded under: extensions lie, so it is never consulted.
    pub file_name: &'static str,
    pub bytes: Vec<u8>,
    pub expect: Expect,
}

fn case(name: &'static str, file_name: &'static str, bytes: Vec<u8>, expect: Expect) -> Hostile {
    Hostile {
        name,
        file_name,
        bytes,
        expect,
    }
}

/// Every hostile file, forged once per process.
pub fn hostile_cases() -> &'static [Hostile] {
    static CASES: OnceLock<Vec<Hostile>> = OnceLock::new();
    CASES.get_or_init(forge_cases)
}

fn forge_cases() -> Vec<Hostile> {
    use Expect::{Reencoded, Refused};
    let png_ok = honest(ImageFormat::Png, 48);
    let jpeg_ok = honest(ImageFormat::Jpeg, 48);
    let gif_ok = honest(ImageFormat::Gif, 48);
    let webp_ok = honest(ImageFormat::WebP, 48);
    let half = |bytes: &[u8]| bytes[..bytes.len() / 2].to_vec();
    // One 3000×3000 frame, compressed once and repeated: a 2 MB file of 2.7 gigapixels.
    let big_frame = GifFrame::solid(0, 0, 3000, 3000, 1);
    let big_frames: Vec<GifFrame> = (0..300)
        .map(|_| GifFrame {
            lzw: big_frame.lzw.clone(),
            ..big_frame
        })
        .collect();
    let tiny_frames: Vec<GifFrame> = (0..10_000)
        .map(|i| GifFrame::solid(0, 0, 1, 1, (i % 4) as u8))
        .collect();
    let polyglot_js = gif(
        (0x2A2F, 10), // the screen width's bytes are `/*`, opening a JavaScript comment
        &[GifFrame::solid(0, 0, 10, 10, 1)],
        b"*/=1;alert('gif-js');",
    );
    vec![
        case(
            "PNG bomb declaring 30000x30000, inflating to 16 MB",
            "bomb.png",
            png(30_000, 30_000, 0, &zlib_zeros(16 << 20)),
            Refused("30000×30000 pixels"),
        ),
        case(
            "PNG bomb declaring 8000x8000 RGBA (64 Mpx)",
            "bomb-rgba.png",
            png(8000, 8000, 6, &zlib_zeros(1 << 20)),
            Refused("8000×8000 pixels"),
        ),
        case(
            "PNG of 1x20000 pixels (a side past 16384)",
            "needle.png",
            png(1, 20_000, 0, &zlib_zeros(40_000)),
            Refused("longer than 16384"),
        ),
        case(
            "PNG declaring 0x100 pixels",
            "empty.png",
            png(0, 100, 0, &zlib_zeros(100)),
            Refused("could not be read"),
        ),
        case(
            "GIF with a 65535x65535 logical screen",
            "screen.gif",
            gif((65_535, 65_535), &[GifFrame::solid(0, 0, 1, 1, 1)], b""),
            Refused("65535×65535 pixels"),
        ),
        case(
            "GIF with a 1x1 screen and a 65535x65535 frame",
            "frame.gif",
            gif(
                (1, 1),
                &[GifFrame {
                    left: 0,
                    top: 0,
                    width: 65_535,
                    height: 65_535,
                    lzw: vec![0x04],
                }],
                b"",
            ),
            Refused("65535×65535 pixels"),
        ),
        case(
            "GIF with a 2x2 screen and 300 frames of 3000x3000",
            "frames.gif",
            gif((2, 2), &big_frames, b""),
            Refused("add up to more than"),
        ),
        case(
            "GIF with 10000 frames",
            "frames-10000.gif",
            gif((1, 1), &tiny_frames, b""),
            Refused("more than 300 frames"),
        ),
        case(
            "WebP (VP8L) declaring 16383x16383",
            "huge.webp",
            webp_lossless_declaring(16_383, 16_383, &[0; 64]),
            Refused("16383×16383 pixels"),
        ),
        case(
            "WebP (VP8X) declaring a 16777216x1 canvas",
            "wide.webp",
            webp_extended_declaring(16_777_216, 1),
            Refused("longer than 16384"),
        ),
        case(
            "JPEG declaring 65535x65535",
            "huge.jpg",
            jpeg_declaring(&jpeg_ok, 65_535, 65_535),
            Refused("65535×65535 pixels"),
        ),
        case(
            "truncated PNG",
            "cut.png",
            half(&png_ok),
            Refused("could not be read"),
        ),
        case(
            "truncated JPEG",
            "cut.jpg",
            half(&jpeg_ok),
            Refused("could not be read"),
        ),
        case(
            "truncated GIF",
            "cut.gif",
            half(&gif_ok),
            Refused("could not be read"),
        ),
        case(
            "truncated WebP",
            "cut.webp",
            half(&webp_ok),
            Refused("could not be read"),
        ),
        case(
            "HTML named .png",
            "page.png",
            b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec(),
            Refused("not an image Cameo reads"),
        ),
        case(
            "SVG named .png",
            "drawing.png",
            br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><script>alert(1)</script></svg>"#.to_vec(),
            Refused("not an image Cameo reads"),
        ),
        case(
            "BMP named .png",
            "bitmap.png",
            b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0\x01\0\0\0\x01\0\x18\0".to_vec(),
            Refused("BMP images are not accepted"),
        ),
        case("zero-byte file", "nothing.png", Vec::new(), Refused("empty")),
        case(
            "PNG+ZIP polyglot",
            "archive.png",
            [png_ok.clone(), zip_with("payload.js", b"alert('zip')")].concat(),
            Reencoded(b"PK\x03\x04"),
        ),
        case(
            "GIF/JavaScript polyglot",
            "script.gif",
            polyglot_js,
            Reencoded(b"alert("),
        ),
        case(
            "JPEG with HTML in a comment segment",
            "comment.jpg",
            jpeg_with_segment(&jpeg_ok, 0xFE, b"<html><script>alert('jpeg')</script>"),
            Reencoded(b"<script"),
        ),
        case(
            "JPEG with an absurd 60 kB EXIF section",
            "exif.jpg",
            jpeg_with_segment(&jpeg_ok, 0xE1, &absurd_exif()),
            Reencoded(b"Exif\0\0"),
        ),
        case(
            // Inflates to 16 MB; cropped to 2048×2048, so no resize (which is slow in debug).
            "PNG bomb inside the pixel budget: 2048x8192 zeros",
            "bomb-in-budget.png",
            png(2048, 8192, 0, &zlib_zeros(8192 * 2049)),
            Reencoded(b"IHDR\0\0\x08\0\0\0\x20\0"), // the declared 2048×8192 is gone
        ),
    ]
}

fn default_limits() -> IntakeLimits {
    cameo::state::intake_limits(&Config::for_data_dir(Path::new("unused")))
}

/// Whether `data` contains `needle`.
fn contains(data: &[u8], needle: &[u8]) -> bool {
    data.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn forged_files_are_what_they_claim() {
    let frames = [0u8, 1, 2].map(|i| GifFrame::solid(0, 0, 40, 30, i));
    let bytes = gif((40, 30), &frames, b"");
    let decoded = image::load_from_memory(&bytes).expect("forged GIF decodes");
    assert_eq!((decoded.width(), decoded.height()), (40, 30));
    let decoded = image::load_from_memory(&png(300, 200, 0, &zlib_zeros(200 * 301)))
        .expect("forged PNG decodes");
    assert_eq!((decoded.width(), decoded.height()), (300, 200));
}

#[test]
fn intake_refuses_each_hostile_file_with_its_reason_in_bounded_time() {
    let limits = default_limits();
    let mut failures = Vec::new();
    for hostile in hostile_cases() {
        let started = Instant::now();
        let result = prepare_photo(&hostile.bytes, limits);
        let elapsed = started.elapsed();
        println!(
            "intake | {:<52} | {:>9} B | {:>7.1?} | {}",
            hostile.name,
            hostile.bytes.len(),
            elapsed,
            match &result {
                Ok(photo) => format!("accepted, re-encoded {}x{}", photo.side, photo.side),
                Err(error) => format!("refused: {error}"),
            }
        );
        if elapsed >= TIME_BOUND {
            failures.push(format!("{}: took {elapsed:?}", hostile.name));
        }
        let as_expected = match (&hostile.expect, &result) {
            (Expect::Refused(reason), Err(error)) => error.to_string().contains(reason),
            (Expect::Reencoded(payload), Ok(photo)) => {
                !contains(&photo.data, payload) && photo.content_digest != photo.source_digest
            }
            _ => false,
        };
        if !as_expected {
            failures.push(format!("{}: {:?}", hostile.name, result.map(|p| p.side)));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Runs in a child process (see the test below): takes one hostile file in and prints the
/// process's peak resident memory before and after.
#[test]
#[ignore = "a probe run by intake_peak_memory_stays_bounded in a child process"]
fn memory_probe_child() {
    let Ok(name) = std::env::var("CAMEO_HOSTILE_CASE") else {
        return;
    };
    let hostile = hostile_cases()
        .iter()
        .find(|h| h.name == name)
        .expect("known case");
    let before = peak_rss_kb(std::process::id());
    let _ = prepare_photo(&hostile.bytes, default_limits());
    let after = peak_rss_kb(std::process::id());
    println!("PROBE {before} {after}");
}

#[test]
fn intake_peak_memory_stays_bounded() {
    let test_binary = std::env::current_exe().expect("test binary");
    for hostile in hostile_cases() {
        let output = std::process::Command::new(&test_binary)
            .args([
                "hostile_images::memory_probe_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CAMEO_HOSTILE_CASE", hostile.name)
            .output()
            .expect("probe runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let probe = text
            .lines()
            .find_map(|line| line.split_once("PROBE ").map(|(_, numbers)| numbers.trim()))
            .unwrap_or_else(|| panic!("{}: no probe output: {text}", hostile.name));
        let (before, after) = probe.split_once(' ').expect("two numbers");
        let (before, after): (u64, u64) = (before.parse().unwrap(), after.parse().unwrap());
        println!(
            "memory | {:<52} | peak RSS {:>6} kB before, {:>6} kB after",
            hostile.name, before, after
        );
        assert!(after < MEMORY_BOUND_KB, "{}: {after} kB", hostile.name);
    }
}

/// The peak resident set (VmHWM) of a live process, in kB.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[tokio::test]
async fn cli_add_refuses_each_hostile_file_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let pool = crate::helpers::open_store_in(dir.path()).await;
    for (index, hostile) in hostile_cases().iter().enumerate() {
        let path = temp_file(dir.path(), hostile.file_name, &hostile.bytes);
        let address = format!("hostile-{index}@example.org");
        let started = Instant::now();
        let output = run_cameo(
            dir.path(),
            &["add", &address, "--photo", path.to_str().unwrap()],
            &[],
        );
        let elapsed = started.elapsed();
        println!(
            "cli    | {:<52} | {:>7.1?} | {}",
            hostile.name,
            elapsed,
            stderr(&output).trim()
        );
        assert!(elapsed < TIME_BOUND, "{}: {elapsed:?}", hostile.name);
        match hostile.expect {
            Expect::Refused(reason) => {
                assert!(!output.status.success(), "{}", hostile.name);
                let message = stderr(&output);
                assert_eq!(message.trim_end().lines().count(), 1, "one line: {message}");
                assert!(message.contains(reason), "{}: {message}", hostile.name);
            }
            Expect::Reencoded(payload) => {
                assert!(
                    output.status.success(),
                    "{}: {}",
                    hostile.name,
                    stderr(&output)
                );
                let stored = crate::helpers::stored_photo_of(&pool, &address).await;
                assert!(!contains(&stored, payload), "{}", hostile.name);
                assert!(image::load_from_memory(&stored).is_ok());
            }
        }
    }
}

#[tokio::test]
async fn upload_form_refuses_each_hostile_file_and_the_server_keeps_serving() {
    let (app, smtp) = spawn_app_with_mail(|c| {
        c.max_photos_per_account = 100;
    })
    .await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "hostile@example.org")
        .await;
    let someone = md5_of("someone@example.org");
    for hostile in hostile_cases() {
        let started = Instant::now();
        let (_, page) = browser.upload(hostile.bytes.clone(), None).await;
        let elapsed = started.elapsed();
        println!("upload | {:<52} | {:>7.1?}", hostile.name, elapsed);
        assert!(elapsed < TIME_BOUND, "{}: {elapsed:?}", hostile.name);
        match hostile.expect {
            Expect::Refused(_) if hostile.bytes.is_empty() => {
                assert!(
                    page.contains("Choose a photo to upload"),
                    "{}",
                    hostile.name
                )
            }
            Expect::Refused(reason) => assert!(
                page.contains("The photo was refused: ") && page.contains(reason),
                "{}: {page}",
                hostile.name
            ),
            Expect::Reencoded(_) => {
                assert!(page.contains("The photo is uploaded"), "{}", hostile.name)
            }
        }
        assert_eq!(app.get("/healthz").await.status(), 200, "{}", hostile.name);
        let avatar = app.get(&format!("/avatar/{someone}?s=16")).await;
        assert_eq!(avatar.status(), 200, "still serving after {}", hostile.name);
    }
    let stored = crate::helpers::stored_photos(&app.operator).await;
    let accepted = hostile_cases()
        .iter()
        .filter(|h| matches!(h.expect, Expect::Reencoded(_)))
        .count();
    assert_eq!(stored.len(), accepted);
    for hostile in hostile_cases() {
        if let Expect::Reencoded(payload) = hostile.expect {
            assert!(
                stored.iter().all(|data| !contains(data, payload)),
                "{} payload stored",
                hostile.name
            );
        }
    }
}
