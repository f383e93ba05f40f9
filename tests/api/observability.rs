//! What operators see: `/healthz`, `/readyz`, `/metrics` and `X-Request-Id`.

use std::sync::Arc;

use actix_web::{App, test as actix_test, web};
use cameo::config::Config;
use cameo::state::AppState;

use crate::helpers::*;

const AVATAR_ROUTE: &str = "/avatar/{segment:.*}";

async fn metrics_text(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.expect("metrics text")
}

fn requests_total(text: &str, route: &str, status: u16) -> f64 {
    series(
        text,
        &format!("cameo_http_requests_total{{route=\"{route}\",status=\"{status}\"}}"),
    )
    .unwrap_or(0.0)
}

#[tokio::test]
async fn probes_answer_and_are_never_cached() {
    let app = spawn_app().await;
    for (path, body) in [("/healthz", "ok\n"), ("/readyz", "ready\n")] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "cache-control"), "no-store", "{path}");
        assert_eq!(response.text().await.unwrap(), body, "{path}");
    }
}

#[actix_web::test]
async fn readyz_is_503_when_the_database_is_closed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(dir.path());
    config.database_url = crate::postgres::database_url_for(dir.path());
    let pool = crate::helpers::open_store(&config).await;
    let changes = pool.change_watch();
    let state = AppState::new(Arc::new(config), pool.clone(), changes)
        .await
        .expect("state");
    pool.close().await;
    let service = actix_test::init_service(
        App::new()
            .app_data(web::Data::new(state))
            .route("/readyz", web::get().to(cameo::observe::readyz)),
    )
    .await;
    let request = actix_test::TestRequest::get().uri("/readyz").to_request();
    let response = actix_test::call_service(&service, request).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let body = actix_test::read_body(response).await;
    assert_eq!(&body[..], b"database unavailable\n");
}

#[tokio::test]
async fn metrics_list_every_series() {
    let app = spawn_app().await;
    app.add_photo("alice@example.org", &png(&solid_photo(64, RED)))
        .await;
    app.get("/healthz").await;
    let text = metrics_text(&app).await;
    for name in [
        "cameo_build_info{version=\"",
        "cameo_http_requests_total{route=\"/healthz\",status=\"200\"} 1",
        "cameo_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 1",
        "cameo_http_request_duration_seconds_sum{route=\"/healthz\"}",
        "cameo_http_request_duration_seconds_count{route=\"/healthz\"} 1",
        "cameo_render_cache_hits_total ",
        "cameo_render_cache_misses_total ",
        "cameo_render_cache_bytes ",
        "cameo_render_duration_seconds_bucket{le=\"+Inf\"}",
        "cameo_render_duration_seconds_sum ",
        "cameo_render_duration_seconds_count ",
        "cameo_gravatar_fallback_total{outcome=\"found\"} 0",
        "cameo_gravatar_fallback_total{outcome=\"missing\"} 0",
        "cameo_gravatar_fallback_total{outcome=\"failed\"} 0",
        "cameo_gravatar_fallback_total{outcome=\"backing_off\"} 0",
        "cameo_photos_stored 1",
        "cameo_addresses_stored{state=\"confirmed\"} 1",
        "cameo_addresses_stored{state=\"unconfirmed\"} 0",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
}

#[tokio::test]
async fn an_avatar_fetched_twice_is_one_render_miss_then_one_hit() {
    let app = spawn_app().await;
    app.add_photo("alice@example.org", &png(&solid_photo(64, RED)))
        .await;
    let path = format!("/avatar/{}?s=80", md5_of("alice@example.org"));
    let before = metrics_text(&app).await;
    for _ in 0..2 {
        assert_eq!(app.get(&path).await.status(), 200);
    }
    let after = metrics_text(&app).await;
    let change = |name: &str| series(&after, name).unwrap() - series(&before, name).unwrap();
    assert_eq!(change("cameo_render_cache_misses_total"), 1.0);
    assert_eq!(change("cameo_render_cache_hits_total"), 1.0);
    assert_eq!(change("cameo_render_duration_seconds_count"), 1.0);
    assert_eq!(
        requests_total(&after, AVATAR_ROUTE, 200) - requests_total(&before, AVATAR_ROUTE, 200),
        2.0
    );
    assert!(series(&after, "cameo_render_cache_bytes").unwrap() > 0.0);
}

#[tokio::test]
async fn metrics_label_routes_by_pattern_never_by_path() {
    let app = spawn_app().await;
    app.get("/no/such/page?email=alice@example.org").await;
    app.get(&format!("/avatar/{}?d=404", md5_of("x@example.org")))
        .await;
    let text = metrics_text(&app).await;
    assert_eq!(requests_total(&text, "other", 404), 1.0);
    assert_eq!(requests_total(&text, AVATAR_ROUTE, 404), 1.0);
    assert!(!text.contains("example.org"), "{text}");
    assert!(!text.contains("/no/such/page"), "{text}");
}

#[tokio::test]
async fn metrics_through_a_proxy_need_the_token() {
    let app = spawn_app_with(|c| c.metrics_token = "t0ken".into()).await;
    let proxied = |token: Option<&str>| {
        let mut request = app
            .client
            .get(format!("{}/metrics", app.base))
            .header("x-forwarded-for", "203.0.113.9");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let refused = proxied(None).await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.text().await.unwrap(),
        "metrics need Authorization: Bearer <metrics_token>\n"
    );
    assert_eq!(proxied(Some("wrong")).await.unwrap().status(), 403);
    assert_eq!(proxied(Some("t0ken")).await.unwrap().status(), 200);
}

async fn get_with_request_id(app: &TestApp, id: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", id)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_valid_request_id_is_echoed() {
    let app = spawn_app().await;
    let response = get_with_request_id(&app, "edge-7f3a_01").await;
    assert_eq!(header(&response, "x-request-id"), "edge-7f3a_01");
}

#[tokio::test]
async fn an_invalid_request_id_is_replaced() {
    let app = spawn_app().await;
    for id in ["a".repeat(200), "has spaces".to_string()] {
        let response = get_with_request_id(&app, &id).await;
        let echoed = header(&response, "x-request-id");
        assert_eq!(echoed.len(), 16, "{id:?} gave {echoed:?}");
        assert!(echoed.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

#[tokio::test]
async fn every_response_gets_a_fresh_request_id() {
    let app = spawn_app().await;
    let first = header(&app.get("/healthz").await, "x-request-id");
    let second = header(&app.get("/no/such/page").await, "x-request-id");
    assert_eq!(first.len(), 16);
    assert_eq!(second.len(), 16);
    assert_ne!(first, second);
}
