//! Issue 13's image attacks, performed against the real server on loopback, bounded in count
//! and time: parallel uploads of a small PNG declaring 6320×6320 (the memory budget and the
//! photo limit must hold), and a flood of requests for an animated GIF at random sizes (the
//! animation ladder must bound the work, stills must keep being served, every answer must be
//! exactly the size asked). Speed and RSS targets are in `bench/attack/*.sh`, not here.

use std::time::{Duration, Instant};

use cameo::defaults::Style;
use cameo::identity::Digest;
use cameo::imaging::IntakeLimits;
use cameo::imaging::animation::ANIMATION_LADDER;
use cameo::imaging::intake::inspect;
use image::AnimationDecoder;

use crate::browser::{Browser, csrf_in};
use crate::helpers::{
    TestApp, decode, header, md5_of, png, solid_photo, spawn_app, spawn_app_with_mail,
};
use crate::hostile_images::forge;

/// Side of the forged PNG: 39.9 M pixels, just under the default 40 M pixel limit.
const DECLARED_SIDE: u32 = 6320;
const PARALLEL_UPLOADS: usize = 12;

/// A PNG declaring `side`×`side` RGB pixels, all zero: a few hundred KB that decode to
/// `side`² × 3 bytes.
fn png_declaring(side: u32) -> Vec<u8> {
    let row = 1 + side as usize * 3;
    forge::png(side, side, 2, &forge::zlib_zeros(row * side as usize))
}

/// One sample of `/metrics`, by its full name with labels.
async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{series} not in /metrics"))
        .trim()
        .parse()
        .unwrap()
}

async fn photos_held(app: &TestApp) -> i64 {
    crate::helpers::count(&app.operator, "SELECT COUNT(*) FROM photos").await
}

/// Posts the upload form once, as a browser with this session would; returns the status and
/// the Retry-After header.
async fn post_upload(browser: &Browser, csrf: &str, bytes: Vec<u8>) -> (u16, String) {
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_string())
        .part(
            "photo",
            reqwest::multipart::Part::bytes(bytes).file_name("photo.png"),
        );
    let response = browser
        .client
        .post(format!("{}/account/photos", browser.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let retry_after = header(&response, "retry-after");
    (response.status().as_u16(), retry_after)
}

#[tokio::test]
async fn parallel_huge_uploads_stay_within_the_budget_and_the_photo_limit() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "flood@example.org")
        .await;
    for shade in 0..9u8 {
        let (_, page) = browser
            .upload(png(&solid_photo(8, [shade * 20, 0, 0])), None)
            .await;
        assert!(page.contains("The photo is uploaded"), "{page}");
    }
    assert_eq!(photos_held(&app).await, 9);

    let csrf = csrf_in(&browser.get("/account").await.1);
    let huge = png_declaring(DECLARED_SIDE);
    assert!(huge.len() < 1 << 20, "{} bytes", huge.len());
    let uploads = (0..PARALLEL_UPLOADS).map(|_| post_upload(&browser, &csrf, huge.clone()));
    let answers = futures_util::future::join_all(uploads).await;

    for (status, retry_after) in &answers {
        match status {
            303 => {}
            503 => assert!(retry_after.parse::<u64>().unwrap() >= 1),
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(answers.iter().any(|(status, _)| *status == 303));
    assert_eq!(photos_held(&app).await, 10, "the limit holds exactly");
    let budget = app.config.image_memory_budget as f64;
    assert_eq!(
        metric(&app, "cameo_image_budget_bytes{state=\"total\"}").await,
        budget
    );
    let peak = metric(&app, "cameo_image_budget_bytes{state=\"peak\"}").await;
    // At least one decode of the forged PNG (charged ~192 MiB) held room; never more than all.
    assert!(peak > 150e6 && peak <= budget, "peak {peak}");
    assert_eq!(
        metric(&app, "cameo_image_budget_bytes{state=\"in_use\"}").await,
        0.0
    );
}

#[tokio::test]
async fn an_upload_costlier_than_the_whole_budget_is_refused_with_its_reason() {
    let (app, smtp) = spawn_app_with_mail(|c| c.image_memory_budget = 64 << 20).await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "big@example.org").await;
    let (_, page) = browser.upload(png_declaring(DECLARED_SIDE), None).await;
    assert!(
        page.contains("The photo was refused: decoding it needs"),
        "{page}"
    );
    assert_eq!(photos_held(&app).await, 0);
    assert_eq!(metric(&app, "cameo_image_budget_refusals_total").await, 1.0);
}

/// Runs in a child process (see the test below): prepares the file named by
/// `CAMEO_COST_PROBE` and prints the process's peak RSS before and after, and what the budget
/// charges for it, in kB.
#[test]
#[ignore = "a probe run by the decode cost test in a child process"]
fn decode_cost_probe_child() {
    let Ok(path) = std::env::var("CAMEO_COST_PROBE") else {
        return;
    };
    let bytes = std::fs::read(path).unwrap();
    let limits = IntakeLimits {
        max_bytes: 10 << 20,
        max_pixels: 40_000_000,
    };
    let inspected = inspect(&bytes, limits).unwrap();
    let before = peak_rss_kb();
    let photo = inspected.prepare(&bytes, None).unwrap();
    let after = peak_rss_kb();
    assert_eq!(photo.side, 2048);
    println!(
        "PROBE {before} {after} {}",
        inspected.peak_bytes(None) / 1024
    );
}

/// Measures, in a fresh process, what preparing `bytes` holds, against what it is charged.
fn measure_decode(dir: &std::path::Path, name: &str, bytes: &[u8]) -> (u64, u64) {
    let path = crate::helpers::temp_file(dir, name, bytes);
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "attack_images::decode_cost_probe_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CAMEO_COST_PROBE", path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<u64> = text
        .lines()
        .find_map(|line| line.split_once("PROBE ").map(|(_, rest)| rest.to_string()))
        .unwrap_or_else(|| panic!("{name}: no probe output: {text}"))
        .split(' ')
        .map(|n| n.trim().parse().unwrap())
        .collect();
    (numbers[1] - numbers[0], numbers[2])
}

#[test]
fn the_budget_charges_at_least_what_a_huge_decode_holds() {
    let dir = tempfile::tempdir().unwrap();
    let gradient = image::RgbImage::from_fn(6000, 4000, |x, y| {
        image::Rgb([(x / 24) as u8, (y / 16) as u8, ((x + y) / 40) as u8])
    });
    let jpeg = crate::helpers::encode(&gradient, image::ImageFormat::Jpeg);
    drop(gradient);
    // A 50-megapixel phone photo, above the pixel limit: decoded at half size (jpeg_scaled).
    let phone = image::RgbImage::from_fn(8160, 6120, |x, y| {
        image::Rgb([(x / 32) as u8, (y / 24) as u8, ((x + y) / 56) as u8])
    });
    let phone_jpeg = crate::helpers::encode(&phone, image::ImageFormat::Jpeg);
    drop(phone);
    for (name, bytes) in [
        ("declared.png", png_declaring(DECLARED_SIDE)),
        ("landscape.jpg", jpeg),
        ("phone-50mp.jpg", phone_jpeg),
    ] {
        let (held, charged) = measure_decode(dir.path(), name, &bytes);
        println!("decode of {name}: +{held} kB measured, {charged} kB charged");
        assert!(held <= charged, "{name}: {held} kB > {charged} kB");
    }
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// An animated GIF of `frames` frames of `side`×`side`, each a different colour.
fn animated_gif(side: u32, frames: u32) -> Vec<u8> {
    let frames = (0..frames).map(|i| {
        let colour = image::Rgba([(i * 40 % 256) as u8, 80, (255 - i * 40 % 256) as u8, 255]);
        image::Frame::from_parts(
            image::RgbaImage::from_pixel(side, side, colour),
            0,
            0,
            image::Delay::from_numer_denom_ms(40, 1),
        )
    });
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        encoder
            .set_repeat(image::codecs::gif::Repeat::Infinite)
            .unwrap();
        encoder.encode_frames(frames).unwrap();
    }
    gif
}

/// A deterministic stream of sizes: every ladder size, and others from 1 to 512.
fn flood_sizes(client: u64) -> impl Iterator<Item = u32> {
    let mut state = client.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0usize..).map(move |turn| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if turn % 3 == 0 {
            ANIMATION_LADDER[(state % ANIMATION_LADDER.len() as u64) as usize]
        } else {
            (state % 512) as u32 + 1
        }
    })
}

/// One flooding client: random sizes for `duration`; checks every answer is a GIF of exactly
/// the size asked. Returns how many it checked.
async fn flood(app: &TestApp, hash: &str, client: u64, duration: Duration) -> usize {
    let started = Instant::now();
    let mut checked = 0;
    for size in flood_sizes(client) {
        if started.elapsed() > duration {
            break;
        }
        let response = app.get(&format!("/avatar/{hash}?s={size}")).await;
        assert_eq!(response.status(), 200, "size {size}");
        assert_eq!(header(&response, "content-type"), "image/gif");
        let bytes = response.bytes().await.unwrap();
        let decoder = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes)).unwrap();
        let first = decoder.into_frames().next().unwrap().unwrap();
        assert_eq!(first.buffer().dimensions(), (size, size), "size {size}");
        checked += 1;
    }
    checked
}

#[tokio::test]
async fn an_animation_flood_at_random_sizes_renders_only_the_ladder() {
    let app = spawn_app().await;
    app.add_photo("animated@example.org", &animated_gif(96, 24))
        .await;
    let hash = md5_of("animated@example.org");
    let flood_for = Duration::from_secs(2);
    let clients = (0..8).map(|client| flood(&app, &hash, client, flood_for));
    let identicon_hash = md5_of("unrelated@example.org");
    let identicon = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        app.get(&format!("/avatar/{identicon_hash}?d=identicon&s=80"))
            .await
    };
    let (checked, identicon) = tokio::join!(futures_util::future::join_all(clients), identicon);

    assert!(checked.iter().all(|&n| n > 0), "{checked:?}");
    assert_eq!(identicon.status(), 200);
    let drawn = decode(identicon).await;
    let expected = Style::Identicon.render(&Digest::parse_hex(&identicon_hash).unwrap(), 80);
    assert!(drawn == expected, "the identicon's pixels are right");
    let animations = metric(&app, "cameo_render_animations_total").await;
    assert!(
        animations >= 1.0 && animations <= ANIMATION_LADDER.len() as f64,
        "{animations} animated renditions"
    );
}

#[tokio::test]
async fn off_ladder_sizes_get_the_first_frame_at_exactly_that_size() {
    let app = spawn_app().await;
    app.add_photo("steps@example.org", &animated_gif(64, 3))
        .await;
    let hash = md5_of("steps@example.org");
    for (size, frames) in [(80, 3), (81, 1), (33, 1), (512, 3)] {
        let response = app.get(&format!("/avatar/{hash}?s={size}")).await;
        let decoder = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(
            response.bytes().await.unwrap(),
        ))
        .unwrap();
        let decoded = decoder.into_frames().collect_frames().unwrap();
        assert_eq!(decoded.len(), frames, "size {size}");
        assert_eq!(decoded[0].buffer().dimensions(), (size, size));
    }
}
