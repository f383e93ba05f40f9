//! `/api/v1/lookup?phone=…` against fake GoWA and Green API gateways (whatsapp_fakes.rs):
//! found pictures kept and served from Cameo's own URL after WhatsApp's URL expired, every
//! documented error, slow and broken gateways, caching, single-flight and pacing.

use std::time::{Duration, Instant};

use cameo::config::Config;
use serde_json::Value;

use crate::helpers::*;
use crate::whatsapp_fakes::{Fake, Mode, Picture, start_gowa};

pub const USER: &str = "cameo";
pub const PASSWORD: &str = "gowa-pass-9f3b";
pub const DEVICE: &str = "device-7";
pub const INSTANCE: &str = "1101000001";
pub const TOKEN: &str = "greentoken5c2e0a";
const RED: [u8; 3] = [220, 20, 20];
const BLUE: [u8; 3] = [20, 20, 220];
/// `+1 555 123 4567` and its WhatsApp chat id.
const NUMBER: &str = "+15551234567";
const JID: &str = "15551234567@c.us";

pub fn use_gowa(config: &mut Config, fake: &Fake, password: &str) {
    config.allow_private_probe = true;
    config.gateways.gowa_url = fake.base.clone();
    config.gateways.gowa_username = USER.into();
    config.gateways.gowa_password = cameo::secrets::Secret::new(password.into());
    config.gateways.gowa_device_id = DEVICE.into();
    config.gateways.min_interval = Duration::ZERO;
}

pub fn use_greenapi(config: &mut Config, fake: &Fake, token: &str) {
    config.allow_private_probe = true;
    config.gateways.greenapi_url = fake.base.clone();
    config.gateways.greenapi_instance_id = INSTANCE.into();
    config.gateways.greenapi_token = cameo::secrets::Secret::new(token.into());
    config.gateways.min_interval = Duration::ZERO;
}

pub async fn lookup(app: &TestApp, query: &str) -> (u16, Value) {
    let response = app.get(&format!("/api/v1/lookup?{query}")).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

fn outcomes(body: &Value) -> Vec<(String, String)> {
    body["tried"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let text = |v: &Value| v.as_str().unwrap().to_string();
            (text(&t["provider"]), text(&t["outcome"]))
        })
        .collect()
}

fn pair(provider: &str, outcome: &str) -> (String, String) {
    (provider.into(), outcome.into())
}

async fn gowa_app(fake: &Fake, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(|c| {
        use_gowa(c, fake, PASSWORD);
        adjust(c);
    })
    .await
}

#[tokio::test]
async fn a_gowa_picture_is_kept_and_served_from_our_url_after_whatsapps_expired() {
    let fake = start_gowa(USER, PASSWORD, Some(DEVICE));
    fake.set_picture(
        JID,
        Some(Picture {
            id: 1635239861,
            colour: RED,
        }),
    );
    let app = gowa_app(&fake, |_| {}).await;
    let (status, body) = lookup(&app, "phone=%2B1%20(555)%20123-4567").await;
    assert_eq!(status, 200, "{body}");
    let hash = sha256_hex(NUMBER);
    assert_eq!(body["image"], format!("{}/avatar/{hash}", app.base));
    assert_eq!(body["phone_hash"]["sha256"], hash);
    assert!(body.get("email_hash").is_none());
    assert_eq!(body["source"]["name"], "gowa");
    assert_eq!(
        body["source"]["url"], app.base,
        "the gateway's address is not disclosed"
    );
    assert_eq!(
        outcomes(&body),
        [pair("local", "not_found"), pair("gowa", "found")]
    );
    assert_eq!(
        *fake.state.last_asked.lock().unwrap(),
        "phone=15551234567%40c.us"
    );

    // WhatsApp's URL is spent; Cameo's keeps working, at any size and format.
    let expired = reqwest::get(&fake.issued_urls()[0]).await.unwrap();
    assert_eq!(expired.status(), 403);
    assert_eq!(fake.picture_fetches(), 1);
    let served = app.get(&format!("/avatar/{hash}?s=40")).await;
    assert_eq!(served.status(), 200);
    let image = decode(served).await;
    assert_eq!(image.dimensions(), (40, 40));
    assert!(near(image.get_pixel(20, 20), RED, 8));
    let webp = app.get(&format!("/avatar/{hash}.webp?s=64&d=404")).await;
    assert_eq!(header(&webp, "content-type"), "image/webp");
}

#[tokio::test]
async fn the_gowa_preview_switch_and_the_device_header_are_sent() {
    let fake = start_gowa(USER, PASSWORD, Some(DEVICE));
    fake.set_picture(JID, Some(Picture { id: 1, colour: RED }));
    let app = gowa_app(&fake, |c| c.gateways.gowa_preview = true).await;
    let (status, body) = lookup(&app, "phone=15551234567%40s.whatsapp.net&providers=gowa").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        *fake.state.last_asked.lock().unwrap(),
        "phone=15551234567%40c.us&is_preview=true"
    );
    // Without the device the fake refuses (the seed: required with several devices).
    let no_device = start_gowa(USER, PASSWORD, Some("other-device"));
    let app = gowa_app(&no_device, |_| {}).await;
    let (status, body) = lookup(&app, "phone=%2B15551234567&providers=gowa").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "provider_failed");
}

#[tokio::test]
async fn wrong_gowa_credentials_and_every_documented_error_are_failures() {
    let wrong = start_gowa(USER, "another-password", None);
    let app = gowa_app(&wrong, |_| {}).await;
    // With `local`'s clean "not found" in the waterfall the answer is a 404 (as for emails),
    // with the gateway's failure in `tried`; the gateway alone is a 502.
    let (status, body) = lookup(&app, "phone=%2B15551234567").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        outcomes(&body),
        [
            pair("local", "not_found"),
            pair("gowa", "error"),
            pair("greenapi", "disabled")
        ]
    );
    let (status, body) = lookup(&app, "phone=%2B15551234567&providers=gowa").await;
    assert_eq!(status, 502, "{body}");
    assert!(!body.to_string().contains(PASSWORD));
    assert_eq!(wrong.calls(), 2);

    let fake = start_gowa(USER, PASSWORD, Some(DEVICE));
    fake.set_picture(JID, Some(Picture { id: 1, colour: RED }));
    let app = gowa_app(&fake, |_| {}).await;
    for mode in [Mode::BadRequest, Mode::ServerError, Mode::Broken] {
        fake.set_mode(mode);
        let (status, body) = lookup(&app, "phone=%2B15551234567&providers=gowa").await;
        assert_eq!(status, 502, "{mode:?}: {body}");
        assert_eq!(body["code"], "provider_failed");
        assert_eq!(outcomes(&body), [pair("gowa", "error")], "{mode:?}");
    }
    // Failures are not remembered: the gateway answering again is asked again.
    fake.set_mode(Mode::Normal);
    let (status, _) = lookup(&app, "phone=%2B15551234567&providers=gowa").await;
    assert_eq!(status, 200);
    assert_eq!(fake.calls(), 4);
}

#[tokio::test]
async fn a_slow_gateway_is_a_bounded_timeout() {
    let fake = start_gowa(USER, PASSWORD, Some(DEVICE));
    fake.set_mode(Mode::Slow(Duration::from_secs(10)));
    let app = gowa_app(&fake, |c| c.gateways.timeout = Duration::from_millis(500)).await;
    let started = Instant::now();
    let (status, body) = lookup(&app, "phone=%2B15551234567&providers=gowa").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["code"], "provider_timeout");
    assert_eq!(outcomes(&body), [pair("gowa", "timeout")]);
}

#[tokio::test]
async fn a_changed_picture_id_replaces_the_copy_and_an_unchanged_one_fetches_nothing() {
    let fake = start_gowa(USER, PASSWORD, Some(DEVICE));
    fake.set_picture(JID, Some(Picture { id: 1, colour: RED }));
    let ttl = Duration::from_millis(300);
    let app = gowa_app(&fake, |c| {
        c.gateways.positive_ttl = ttl;
        c.gateways.negative_ttl = ttl;
    })
    .await;
    let hash = sha256_hex(NUMBER);
    assert_eq!(lookup(&app, "phone=%2B15551234567").await.0, 200);
    assert!(near(&centre_colour(&app, &hash).await, RED, 8));
    tokio::time::sleep(ttl * 2).await;
    assert_eq!(lookup(&app, "phone=%2B15551234567").await.0, 200);
    assert_eq!(
        (fake.calls(), fake.picture_fetches()),
        (2, 1),
        "same id: not fetched"
    );

    fake.set_picture(
        JID,
        Some(Picture {
            id: 2,
            colour: BLUE,
        }),
    );
    tokio::time::sleep(ttl * 2).await;
    assert_eq!(lookup(&app, "phone=%2B15551234567").await.0, 200);
    assert_eq!((fake.calls(), fake.picture_fetches()), (3, 2));
    assert!(near(&centre_colour(&app, &hash).await, BLUE, 8));

    // The picture removed: the gateway's copy goes too.
    fake.set_picture(JID, None);
    tokio::time::sleep(ttl * 2).await;
    let (status, body) = lookup(&app, "phone=%2B15551234567").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        app.get(&format!("/avatar/{hash}?d=404")).await.status(),
        404
    );
}

#[tokio::test]
async fn found_and_not_found_are_remembered_for_their_own_times() {
    let fake = start_gowa(USER, PASSWORD, Some(DEVICE));
    fake.set_picture(JID, Some(Picture { id: 1, colour: RED }));
    let app = gowa_app(&fake, |c| {
        c.gateways.negative_ttl = Duration::from_millis(400)
    })
    .await;
    for _ in 0..3 {
        assert_eq!(lookup(&app, "phone=%2B15551234567").await.0, 200);
    }
    assert_eq!(fake.calls(), 1, "found: remembered for hours");
    for _ in 0..3 {
        let (status, body) = lookup(&app, "phone=%2B15557654321").await;
        assert_eq!(status, 404, "{body}");
    }
    assert_eq!(fake.calls(), 2, "not found: remembered too");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(lookup(&app, "phone=%2B15557654321").await.0, 404);
    assert_eq!(
        fake.calls(),
        3,
        "not found: asked again after its shorter time"
    );
    assert_eq!(lookup(&app, "phone=%2B15551234567").await.0, 200);
    assert_eq!(fake.calls(), 3);
}

#[tokio::test]
async fn concurrent_lookups_of_one_number_share_one_gateway_call() {
    let fake = start_gowa(USER, PASSWORD, Some(DEVICE));
    fake.set_picture(JID, Some(Picture { id: 1, colour: RED }));
    fake.set_mode(Mode::Slow(Duration::from_millis(400)));
    let app = gowa_app(&fake, |_| {}).await;
    let lookups = (0..8).map(|_| lookup(&app, "phone=%2B15551234567"));
    let answers = futures_util::future::join_all(lookups).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(fake.calls(), 1);
    assert_eq!(fake.picture_fetches(), 1);
}

#[tokio::test]
async fn calls_to_one_gateway_keep_the_minimum_interval_and_the_concurrency_limit() {
    let fake = start_gowa(USER, PASSWORD, Some(DEVICE));
    let interval = Duration::from_millis(300);
    let app = gowa_app(&fake, |c| {
        c.gateways.min_interval = interval;
        c.gateways.concurrency = 4;
    })
    .await;
    let queries: Vec<String> = ["%2B15550000001", "%2B15550000002", "%2B15550000003"]
        .iter()
        .map(|n| format!("phone={n}&providers=gowa"))
        .collect();
    let lookups = queries.iter().map(|query| lookup(&app, query));
    for (status, body) in futures_util::future::join_all(lookups).await {
        assert_eq!(status, 404, "{body}");
    }
    let mut starts = fake.state.call_starts.lock().unwrap().clone();
    starts.sort();
    assert_eq!(starts.len(), 3);
    for gap in starts.windows(2).map(|w| w[1] - w[0]) {
        assert!(gap >= interval - Duration::from_millis(20), "{gap:?}");
    }

    let slow = start_gowa(USER, PASSWORD, Some(DEVICE));
    slow.set_mode(Mode::Slow(Duration::from_millis(200)));
    let app = gowa_app(&slow, |c| c.gateways.concurrency = 1).await;
    let lookups = queries.iter().map(|query| lookup(&app, query));
    for (status, body) in futures_util::future::join_all(lookups).await {
        assert_eq!(status, 404, "{body}");
    }
    assert_eq!(slow.calls(), 3);
    assert_eq!(
        slow.state
            .max_in_flight
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn a_lookup_whose_turn_is_too_far_off_is_answered_busy_at_once() {
    let fake = start_gowa(USER, PASSWORD, Some(DEVICE));
    let app = gowa_app(&fake, |c| {
        c.gateways.min_interval = Duration::from_secs(30);
        c.gateways.timeout = Duration::from_secs(1);
    })
    .await;
    let (status, _) = lookup(&app, "phone=%2B15550000001&providers=gowa").await;
    assert_eq!(status, 404);
    let started = Instant::now();
    let (status, body) = lookup(&app, "phone=%2B15550000002&providers=gowa").await;
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, 502, "{body}");
    assert_eq!(outcomes(&body), [pair("gowa", "busy")]);
    assert_eq!(
        fake.calls(),
        1,
        "the gateway was not asked faster than allowed"
    );
}

/// The colour at the centre of the avatar `/avatar/HASH` serves.
async fn centre_colour(app: &TestApp, hash: &str) -> image::Rgba<u8> {
    let image = decode(app.get(&format!("/avatar/{hash}?s=16")).await).await;
    *image.get_pixel(8, 8)
}

pub fn sha256_hex(text: &str) -> String {
    cameo::identity::Digest::sha256_of(text).to_hex()
}
