//! The Gravatar fallback against a local fake upstream that counts its calls and can be made
//! slow or broken.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use cameo::config::GravatarMode;

use crate::helpers::*;

const GREEN: [u8; 3] = [0, 200, 0];

/// How the fake answers.
#[derive(Clone, Copy)]
pub enum Behaviour {
    Normal,
    Slow(Duration),
    Broken,
    NotAnImage,
}

pub struct FakeGravatar {
    pub base: String,
    pub calls: Arc<AtomicUsize>,
    pub last_query: Arc<std::sync::Mutex<String>>,
}

struct FakeState {
    known: Vec<String>,
    behaviour: Behaviour,
    calls: Arc<AtomicUsize>,
    last_query: Arc<std::sync::Mutex<String>>,
    delay_ms: AtomicU64,
}

async fn fake_avatar(request: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    state.calls.fetch_add(1, Ordering::SeqCst);
    *state.last_query.lock().unwrap() = request.query_string().to_string();
    let hash = request
        .match_info()
        .get("hash")
        .unwrap_or_default()
        .to_string();
    let size: u32 = request
        .query_string()
        .split('&')
        .find_map(|p| p.strip_prefix("s="))
        .and_then(|s| s.parse().ok())
        .unwrap_or(80);
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    match state.behaviour {
        Behaviour::Slow(duration) => tokio::time::sleep(duration).await,
        Behaviour::Broken => return HttpResponse::InternalServerError().body("oops"),
        Behaviour::NotAnImage => {
            return HttpResponse::Ok().content_type("image/png").body("<html>");
        }
        Behaviour::Normal => {}
    }
    if state.known.contains(&hash) {
        HttpResponse::Ok()
            .content_type("image/png")
            .body(png(&solid_photo(size, GREEN)))
    } else {
        HttpResponse::NotFound().body("not found")
    }
}

/// `/HASH.json`: a legacy profile whose display name is "Fake HASH-PREFIX" for known hashes.
async fn fake_profile(request: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    state.calls.fetch_add(1, Ordering::SeqCst);
    let file = request.match_info().get("file").unwrap_or_default();
    match file.strip_suffix(".json") {
        Some(hash) if state.known.iter().any(|k| k == hash) => HttpResponse::Ok().json(
            serde_json::json!({ "entry": [{ "hash": hash, "displayName": format!("Fake {}", &hash[..6]) }] }),
        ),
        _ => HttpResponse::NotFound().body("User not found"),
    }
}

pub async fn start_fake(known: &[String], behaviour: Behaviour, delay_ms: u64) -> FakeGravatar {
    let calls = Arc::new(AtomicUsize::new(0));
    let last_query = Arc::new(std::sync::Mutex::new(String::new()));
    let state = web::Data::new(FakeState {
        known: known.to_vec(),
        behaviour,
        calls: calls.clone(),
        last_query: last_query.clone(),
        delay_ms: AtomicU64::new(delay_ms),
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/avatar/{hash}", web::get().to(fake_avatar))
            .route("/{file}", web::get().to(fake_profile))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    FakeGravatar {
        base: format!("http://127.0.0.1:{port}"),
        calls,
        last_query,
    }
}

async fn app_with_upstream(fake: &FakeGravatar, mode: GravatarMode) -> TestApp {
    let base = fake.base.clone();
    spawn_app_with(move |c| {
        c.gravatar_mode = mode;
        c.gravatar_upstream = base;
    })
    .await
}

#[tokio::test]
async fn proxied_image_is_served_at_the_requested_size_with_our_headers() {
    let hash = md5_of("gr@example.org");
    let fake = start_fake(std::slice::from_ref(&hash), Behaviour::Normal, 0).await;
    let app = app_with_upstream(&fake, GravatarMode::Proxy).await;
    let response = app.get(&format!("/avatar/{hash}?s=40")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
    assert!(header(&response, "cache-control").starts_with("public, max-age=300,"));
    assert_eq!(header(&response, "surrogate-key"), hash);
    assert!(!header(&response, "etag").is_empty());
    let image = decode(response).await;
    assert_eq!(image.dimensions(), (40, 40));
    assert!(near(image.get_pixel(20, 20), GREEN, 2));
    assert_eq!(*fake.last_query.lock().unwrap(), "s=40&d=404");

    let as_jpeg = app.get(&format!("/avatar/{hash}.jpg?s=40")).await;
    assert_eq!(header(&as_jpeg, "content-type"), "image/jpeg");
}

#[tokio::test]
async fn upstream_404_falls_through_to_our_default() {
    let fake = start_fake(&[], Behaviour::Normal, 0).await;
    let app = app_with_upstream(&fake, GravatarMode::Proxy).await;
    let hash = md5_of("missing@example.org");
    assert_eq!(
        app.get(&format!("/avatar/{hash}?d=404")).await.status(),
        404
    );
    let identicon = decode(app.get(&format!("/avatar/{hash}?d=identicon&s=30")).await).await;
    let forced = decode(
        app.get(&format!("/avatar/{hash}?d=identicon&s=30&f=y"))
            .await,
    )
    .await;
    assert_eq!(
        identicon.as_raw(),
        forced.as_raw(),
        "the same generated default"
    );
}

#[tokio::test]
async fn answers_are_cached_so_a_second_request_makes_no_upstream_call() {
    let known = md5_of("cached@example.org");
    let fake = start_fake(std::slice::from_ref(&known), Behaviour::Normal, 0).await;
    let app = app_with_upstream(&fake, GravatarMode::Proxy).await;
    let unknown = md5_of("unknown@example.org");
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/avatar/{known}?s=20")).await.status(),
            200
        );
        assert_eq!(
            app.get(&format!("/avatar/{unknown}?s=20&d=404"))
                .await
                .status(),
            404
        );
    }
    assert_eq!(
        fake.calls.load(Ordering::SeqCst),
        2,
        "one call per hash, positive and negative"
    );
}

#[tokio::test]
async fn concurrent_misses_for_one_hash_share_one_upstream_request() {
    let hash = md5_of("popular@example.org");
    let fake = start_fake(std::slice::from_ref(&hash), Behaviour::Normal, 300).await;
    let app = app_with_upstream(&fake, GravatarMode::Proxy).await;
    let path = format!("/avatar/{hash}?s=32");
    let requests = (0..50).map(|_| app.get(&path));
    let responses = futures_util::future::join_all(requests).await;
    for response in responses {
        assert_eq!(response.status(), 200);
        assert!(near(decode(response).await.get_pixel(16, 16), GREEN, 2));
    }
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_slow_upstream_times_out_to_our_default_and_is_then_left_alone() {
    let hash = md5_of("slow@example.org");
    let fake = start_fake(
        std::slice::from_ref(&hash),
        Behaviour::Slow(Duration::from_secs(10)),
        0,
    )
    .await;
    let app = app_with_upstream(&fake, GravatarMode::Proxy).await;
    let started = Instant::now();
    let response = app.get(&format!("/avatar/{hash}?s=24&d=retro")).await;
    let waited = started.elapsed();
    assert_eq!(response.status(), 200);
    assert!(waited < Duration::from_millis(2500), "took {waited:?}");
    let retro = decode(app.get(&format!("/avatar/{hash}?s=24&d=retro&f=y")).await).await;
    assert_eq!(
        decode(response).await.as_raw(),
        retro.as_raw(),
        "our default"
    );

    let started = Instant::now();
    let other = md5_of("other@example.org");
    assert_eq!(
        app.get(&format!("/avatar/{other}?d=404")).await.status(),
        404
    );
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "backing off: no waiting"
    );
    assert_eq!(
        fake.calls.load(Ordering::SeqCst),
        1,
        "no call during the back-off"
    );
}

#[tokio::test]
async fn a_broken_upstream_gives_our_default_at_once() {
    let hash = md5_of("broken@example.org");
    let fake = start_fake(std::slice::from_ref(&hash), Behaviour::Broken, 0).await;
    let app = app_with_upstream(&fake, GravatarMode::Proxy).await;
    assert_eq!(
        app.get(&format!("/avatar/{hash}?d=404")).await.status(),
        404
    );
    assert_eq!(
        app.get(&format!("/avatar/{hash}?d=404&s=10"))
            .await
            .status(),
        404
    );
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_upstream_body_that_is_not_an_image_is_never_served() {
    let hash = md5_of("html@example.org");
    let fake = start_fake(std::slice::from_ref(&hash), Behaviour::NotAnImage, 0).await;
    let app = app_with_upstream(&fake, GravatarMode::Proxy).await;
    let response = app.get(&format!("/avatar/{hash}?d=blank")).await;
    assert_eq!(response.status(), 200);
    assert!(
        decode(response).await.pixels().all(|p| p.0[3] == 0),
        "our blank, not the body"
    );
}

#[tokio::test]
async fn sha256_misses_are_proxied_too() {
    let hash = sha256_of("sha@example.org");
    let fake = start_fake(std::slice::from_ref(&hash), Behaviour::Normal, 0).await;
    let app = app_with_upstream(&fake, GravatarMode::Proxy).await;
    let image = decode(app.get(&format!("/avatar/{hash}?s=16")).await).await;
    assert!(near(image.get_pixel(8, 8), GREEN, 2));
}

#[tokio::test]
async fn redirect_mode_and_per_request_switches() {
    let hash = md5_of("redir@example.org");
    let fake = start_fake(std::slice::from_ref(&hash), Behaviour::Normal, 0).await;
    let app = app_with_upstream(&fake, GravatarMode::Redirect).await;
    let response = app.get(&format!("/avatar/{hash}?s=50&d=identicon")).await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        header(&response, "location"),
        format!("{}/avatar/{hash}?s=50&d=identicon", fake.base)
    );
    let response = app.get(&format!("/avatar/{hash}?s=50&f=y")).await;
    assert_eq!(response.status(), 200, "f=y skips the fallback");

    let proxy = app_with_upstream(&fake, GravatarMode::Proxy).await;
    let response = proxy
        .get(&format!("/avatar/{hash}?s=50&gravatarredirect=y"))
        .await;
    assert_eq!(response.status(), 302);
    let response = proxy
        .get(&format!("/avatar/{hash}?s=50&gravatarproxy=n&d=404"))
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        fake.calls.load(Ordering::SeqCst),
        0,
        "no upstream call in any of these"
    );
}

#[tokio::test]
async fn off_never_calls_the_upstream_and_local_photos_win() {
    let hash = md5_of("local@example.org");
    let fake = start_fake(std::slice::from_ref(&hash), Behaviour::Normal, 0).await;
    let off = app_with_upstream(&fake, GravatarMode::Off).await;
    assert_eq!(
        off.get(&format!("/avatar/{hash}?d=404")).await.status(),
        404
    );

    let proxy = app_with_upstream(&fake, GravatarMode::Proxy).await;
    proxy
        .add_photo("local@example.org", &png(&solid_photo(20, RED)))
        .await;
    let image = decode(proxy.get(&format!("/avatar/{hash}?s=10")).await).await;
    assert!(
        near(image.get_pixel(5, 5), RED, 2),
        "our photo, not Gravatar's"
    );
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
}
