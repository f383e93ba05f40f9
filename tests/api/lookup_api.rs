//! The lookup API over HTTP: the provider waterfall against this server's photos, a second
//! Cameo published in a real DNS server on loopback (`libravatar`), and a fake Gravatar;
//! errors, caching and rate limits.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use cameo::config::GravatarMode;
use serde_json::{Value, json};

use crate::dns_server::{TestDns, start_dns_server, zone_head};
use crate::gravatar::{Behaviour, FakeGravatar, start_fake};
use crate::helpers::*;

/// alice@local.test has a photo here; bob@remote.test has one on a second Cameo that
/// `remote.test` publishes; carol@elsewhere.test is known to the fake Gravatar.
struct World {
    app: TestApp,
    remote: TestApp,
    gravatar: FakeGravatar,
    _dns: TestDns,
}

async fn world_with(
    behaviour: Behaviour,
    adjust: impl FnOnce(&mut cameo::config::Config),
) -> World {
    let dns = start_dns_server("test", &zone_head("test")).await;
    let remote = spawn_app().await;
    remote
        .add_photo("bob@remote.test", &png(&solid_photo(64, BLUE)))
        .await;
    let remote_port: u16 = remote.base.rsplit(':').next().unwrap().parse().unwrap();
    dns.add_records(&format!(
        "avatars.remote IN A 127.0.0.1\n\
         _avatars._tcp.remote IN SRV 0 0 {remote_port} avatars.remote.test.\n"
    ))
    .await;
    let gravatar = start_fake(&[md5_of("carol@elsewhere.test")], behaviour, 0).await;
    let (dns_addr, upstream) = (dns.addr, gravatar.base.clone());
    let app = spawn_app_with(move |c| {
        c.dns_servers = vec![dns_addr];
        c.allow_private_probe = true;
        c.gravatar_mode = GravatarMode::Proxy;
        c.gravatar_upstream = upstream;
        c.gravatar_timeout = Duration::from_millis(500);
        adjust(c);
    })
    .await;
    app.add_photo("alice@local.test", &png(&solid_photo(64, RED)))
        .await;
    World {
        app,
        remote,
        gravatar,
        _dns: dns,
    }
}

async fn world() -> World {
    world_with(Behaviour::Normal, |_| {}).await
}

async fn lookup(app: &TestApp, query: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = app.get(&format!("/api/v1/lookup?{query}")).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.json().await.expect("JSON"), headers)
}

fn outcomes(body: &Value) -> Vec<(String, String)> {
    body["tried"]
        .as_array()
        .expect("tried")
        .iter()
        .map(|t| {
            assert!(t["ms"].is_u64());
            (
                t["provider"].as_str().unwrap().to_string(),
                t["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn a_local_photo_is_found_first_with_hashes_and_a_working_image_url() {
    let world = world().await;
    let (status, body, headers) = lookup(&world.app, "email=Alice@Local.test").await;
    assert_eq!(status, 200, "{body}");
    let sha256 = sha256_of("alice@local.test");
    assert_eq!(body["success"], true);
    assert_eq!(body["is_default"], false);
    assert_eq!(body["email_hash"]["md5"], md5_of("alice@local.test"));
    assert_eq!(body["email_hash"]["sha256"], sha256);
    assert_eq!(body["source"]["name"], "local");
    assert_eq!(body["source"]["url"], world.app.base);
    assert_eq!(outcomes(&body), pairs(&[("local", "found")]));
    let image = body["image"].as_str().unwrap();
    assert_eq!(image, format!("{}/avatar/{sha256}", world.app.base));
    let picture = decode(
        world
            .app
            .client
            .get(format!("{image}?s=32"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        picture.pixels().all(|p| near(p, RED, 30)),
        "the URL serves the photo"
    );
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(headers.contains_key(name), "{name}");
    }
}

#[tokio::test]
async fn a_federated_server_is_found_through_its_srv_records() {
    let world = world().await;
    let (status, body, _) = lookup(&world.app, "email=bob@remote.test").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"]["name"], "libravatar");
    assert_eq!(
        outcomes(&body),
        pairs(&[("local", "not_found"), ("libravatar", "found")])
    );
    let port = world.remote.base.rsplit(':').next().unwrap();
    let expected = format!(
        "http://avatars.remote.test:{port}/avatar/{}",
        md5_of("bob@remote.test")
    );
    assert_eq!(body["image"], expected);
    assert_eq!(
        body["source"]["url"],
        format!("http://avatars.remote.test:{port}")
    );
}

#[tokio::test]
async fn gravatar_is_asked_last_and_gives_the_name_with_our_proxy_url() {
    let world = world().await;
    let (status, body, _) = lookup(&world.app, "email=carol@elsewhere.test").await;
    assert_eq!(status, 200, "{body}");
    let md5 = md5_of("carol@elsewhere.test");
    assert_eq!(
        outcomes(&body),
        pairs(&[
            ("local", "not_found"),
            ("libravatar", "no_server"),
            ("gravatar", "found")
        ])
    );
    assert_eq!(body["source"]["name"], "gravatar");
    assert_eq!(body["name"], format!("Fake {}", &md5[..6]));
    assert_eq!(body["image"], format!("{}/avatar/{md5}", world.app.base));
    let picture = decode(world.app.get(&format!("/avatar/{md5}?s=40")).await).await;
    assert_eq!(picture.dimensions(), (40, 40), "the proxy URL serves it");
}

#[tokio::test]
async fn the_order_of_providers_is_the_callers_and_post_json_matches_get() {
    let world = world().await;
    let (_, body, _) = lookup(
        &world.app,
        "email=alice@local.test&providers=gravatar,local",
    )
    .await;
    assert_eq!(
        outcomes(&body),
        pairs(&[("gravatar", "not_found"), ("local", "found")])
    );
    for providers in [json!("gravatar,local"), json!(["gravatar", "local"])] {
        let response = world
            .app
            .client
            .post(format!("{}/api/v1/lookup", world.app.base))
            .json(&json!({ "email": "alice@local.test", "providers": providers }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let posted: Value = response.json().await.unwrap();
        assert_eq!(posted["image"], body["image"]);
        assert_eq!(posted["source"], body["source"]);
    }
}

#[tokio::test]
async fn a_miss_is_404_with_what_was_tried_or_a_default_when_allowed() {
    let world = world().await;
    let (status, body, _) = lookup(&world.app, "email=nobody@nowhere.test").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    assert!(body["error"].as_str().unwrap().contains("no provider"));
    assert_eq!(outcomes(&body).len(), 3);

    let (status, body, _) =
        lookup(&world.app, "email=nobody@nowhere.test&allow_default=true").await;
    assert_eq!(status, 200);
    assert_eq!(body["is_default"], true);
    assert_eq!(body["source"]["name"], "default");
    let image = body["image"].as_str().unwrap();
    let sha256 = sha256_of("nobody@nowhere.test");
    assert!(
        image.starts_with(&format!("{}/avatar/{sha256}?d=", world.app.base)),
        "{image}"
    );
    let picture = decode(world.app.client.get(image).send().await.unwrap()).await;
    assert_eq!(picture.dimensions(), (80, 80));
}

#[tokio::test]
async fn bad_requests_get_400_with_gravatars_error_shape() {
    let world = world().await;
    for (query, code) in [
        ("email=not-an-email", "invalid_email"),
        ("email=", "invalid_email"),
        ("providers=local", "invalid_email"),
        ("email=a@b.test&providers=facebook", "invalid_providers"),
        ("email=a@b.test&providers=local,local", "invalid_providers"),
        ("email=a@b.test&allow_default=maybe", "invalid_parameter"),
    ] {
        let (status, body, headers) = lookup(&world.app, query).await;
        assert_eq!(
            (status, body["code"].as_str().unwrap()),
            (400, code),
            "{query}"
        );
        assert!(body["error"].as_str().unwrap().len() > 5);
        assert!(headers.contains_key("x-ratelimit-remaining"), "{query}");
    }
    for body in ["{", r#"{"email": 5}"#, r#"{"email":"a@b.test","extra":1}"#] {
        let response = world
            .app
            .client
            .post(format!("{}/api/v1/lookup", world.app.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["code"], "invalid_json");
    }
    let long = format!("email={}@b.test", "a".repeat(5000));
    assert_eq!(lookup(&world.app, &long).await.0, 400);
}

#[tokio::test]
async fn a_failing_upstream_is_502_and_a_slow_one_504_within_the_timeout() {
    let broken = world_with(Behaviour::Broken, |_| {}).await;
    let (status, body, _) =
        lookup(&broken.app, "email=carol@elsewhere.test&providers=gravatar").await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (502, "provider_failed")
    );
    assert_eq!(outcomes(&body), pairs(&[("gravatar", "error")]));

    let slow = world_with(Behaviour::Slow(Duration::from_secs(10)), |_| {}).await;
    let started = Instant::now();
    let (status, body, _) =
        lookup(&slow.app, "email=carol@elsewhere.test&providers=gravatar").await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (504, "provider_timeout")
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn answers_are_cached_so_a_repeat_makes_no_upstream_call() {
    let world = world().await;
    let first = lookup(&world.app, "email=carol@elsewhere.test").await;
    let calls = world.gravatar.calls.load(Ordering::SeqCst);
    assert!(calls >= 1);
    let second = lookup(&world.app, "email=carol@elsewhere.test").await;
    assert_eq!(first.1["image"], second.1["image"]);
    assert_eq!(world.gravatar.calls.load(Ordering::SeqCst), calls);
}

#[tokio::test]
async fn one_address_cannot_be_looked_up_more_than_its_hourly_quota() {
    let world = world_with(Behaviour::Normal, |c| c.api_address_rate_limit = 2).await;
    for remaining in ["1", "0"] {
        let (status, _, headers) = lookup(&world.app, "email=alice@local.test").await;
        assert_eq!(status, 200);
        assert_eq!(headers["x-ratelimit-remaining"], remaining);
        assert_eq!(headers["x-ratelimit-limit"], "2");
    }
    let (status, body, headers) = lookup(&world.app, "email=ALICE@local.test").await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (429, "rate_limit_exceeded")
    );
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let (status, _, _) = lookup(&world.app, "email=bob@remote.test").await;
    assert_eq!(status, 200, "other addresses are not affected");
}

#[tokio::test]
async fn anonymous_callers_are_limited_per_client_and_can_be_refused() {
    let world = world_with(Behaviour::Normal, |c| c.api_anonymous_rate_limit = 3).await;
    for remaining in ["2", "1", "0"] {
        let response = world.app.get("/api/v1/providers").await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "x-ratelimit-remaining"), remaining);
    }
    let response = world.app.get("/api/v1/providers").await;
    assert_eq!(response.status(), 429);
    let reset: u64 = header(&response, "x-ratelimit-reset").parse().unwrap();
    assert!(reset > 1_700_000_000);
    let retry_after: u64 = header(&response, "retry-after").parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");

    let closed = spawn_app_with(|c| c.api_anonymous = false).await;
    let response = closed.get("/api/v1/lookup?email=a@b.test").await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test]
async fn unconfirmed_addresses_look_exactly_like_unknown_ones() {
    let world = world().await;
    // An address the operator never confirmed: added, then its confirmation withdrawn.
    world
        .app
        .add_photo("pending@local.test", &png(&solid_photo(32, RED)))
        .await;
    crate::helpers::execute(
        &world.app.operator,
        "UPDATE addresses SET confirmed_at = NULL WHERE address = $1",
        &["pending@local.test"],
    )
    .await;
    let (status, pending, _) = lookup(&world.app, "email=pending@local.test&providers=local").await;
    let (_, unknown, _) = lookup(&world.app, "email=never@local.test&providers=local").await;
    assert_eq!(status, 404);
    // Identical but for the timings.
    assert_eq!(without_timings(pending), without_timings(unknown));
}

fn without_timings(mut body: Value) -> Value {
    for attempt in body["tried"].as_array_mut().expect("tried") {
        attempt.as_object_mut().expect("attempt").remove("ms");
    }
    body
}

#[tokio::test]
async fn providers_and_the_openapi_document_describe_the_api() {
    let world = world().await;
    let providers: Value = world
        .app
        .get("/api/v1/providers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        providers["default_order"],
        json!(["local", "libravatar", "gravatar"])
    );
    let list = providers["providers"].as_array().unwrap();
    // local, libravatar, gravatar, then the WhatsApp gateways of phone lookups.
    assert_eq!(list.len(), 5);
    assert_eq!(list[0]["leaves_server"], false);
    assert!(list.iter().all(|p| p["expected_fields"].is_array()));

    let doc: Value = world
        .app
        .get("/api/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/lookup"]["post"].is_object());

    let page = world.app.get("/tools/api").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for example in [
        "curl -s",
        "import requests",
        "await fetch(",
        "/api/openapi.json",
        "/api/v1/lookup?phone=%2B15551234567",
    ] {
        assert!(html.contains(example), "{example} on the API page");
    }
    assert!(html.contains(&format!("{}/api/v1/lookup", world.app.base)));
}
