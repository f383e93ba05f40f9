//! CDN purges: a change announced by the feed reaches the configured purge endpoint as one
//! JSON POST naming the changed hashes, with the bearer token; a failing endpoint is retried
//! a bounded number of times and then given up, counted in `/metrics`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use cameo::purge::PurgeFormat;

use crate::browser::{Browser, id_after};
use crate::helpers::*;

/// One request the fake purge endpoint received: its headers and JSON body.
#[derive(Clone, Debug)]
struct Received {
    headers: std::collections::HashMap<String, String>,
    body: serde_json::Value,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

#[derive(Clone)]
struct PurgeReceiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl PurgeReceiver {
    /// A purge endpoint on loopback answering `status` to everything.
    async fn start(status: u16) -> PurgeReceiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = received.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let log = log.clone();
            App::new().route(
                "/purge",
                web::post().to(move |request: HttpRequest, body: web::Bytes| {
                    let log = log.clone();
                    async move {
                        let headers = request
                            .headers()
                            .iter()
                            .map(|(name, value)| {
                                let value = value.to_str().unwrap_or_default();
                                (name.as_str().to_string(), value.to_string())
                            })
                            .collect();
                        let body = serde_json::from_slice(&body).unwrap_or_default();
                        log.lock().unwrap().push(Received { headers, body });
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                            .finish()
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        PurgeReceiver {
            url: format!("http://127.0.0.1:{port}/purge"),
            received,
        }
    }

    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.received.lock().unwrap())
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// Waits up to `limit` for at least `n` requests.
    async fn wait_for(&self, n: usize, limit: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.count() >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

fn keys_of(received: &[Received]) -> Vec<String> {
    let mut keys: Vec<String> = received
        .iter()
        .flat_map(|r| r.body["keys"].as_array().cloned().unwrap_or_default())
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[tokio::test]
async fn a_photo_replaced_on_the_account_page_is_purged_once_within_a_second() {
    let receiver = PurgeReceiver::start(200).await;
    let url = receiver.url.clone();
    let (app, smtp) = spawn_app_with_mail(move |c| {
        c.purge_url = url;
        c.purge_token = "purge-secret".into();
        c.purge_sizes = vec![80, 128];
    })
    .await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "frida@example.org")
        .await;
    let (_, page) = browser.upload(png(&solid_photo(64, RED)), None).await;
    let red = id_after(&page, "/account/photos/");
    let address = id_after(&page, "/account/addresses/");
    let (_, page) = browser.upload(png(&solid_photo(64, BLUE)), None).await;
    let blue = (red.parse::<i64>().unwrap() + 1).to_string();
    assert!(page.contains(&format!("/account/photos/{blue}/")));
    let assign = |photo: String| {
        let browser = &browser;
        let address = address.clone();
        async move {
            let (status, _, _) = browser
                .submit(
                    "/account",
                    &format!("/account/photos/{photo}/assign"),
                    &[("address", &address)],
                )
                .await;
            assert_eq!(status, 303);
        }
    };
    assign(red.clone()).await;
    // Let the purges of the set-up (confirmation, first photo) arrive, then start afresh.
    receiver.wait_for(1, Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    receiver.take();

    assign(blue).await;
    let changed = Instant::now();
    assert!(
        receiver.wait_for(1, Duration::from_secs(1)).await,
        "a purge arrives within a second"
    );
    let took = changed.elapsed();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let received = receiver.take();
    assert_eq!(received.len(), 1, "one purge for one change: {received:?}");
    let (md5, sha256) = (md5_of("frida@example.org"), sha256_of("frida@example.org"));
    let mut expected = vec![md5.clone(), sha256.clone()];
    expected.sort();
    assert_eq!(keys_of(&received), expected);
    assert_eq!(received[0].header("authorization"), "Bearer purge-secret");
    let urls = received[0].body["urls"].as_array().unwrap();
    assert!(urls.contains(&serde_json::json!(format!(
        "{}/avatar/{md5}?s=128",
        app.base
    ))));
    assert!(urls.contains(&serde_json::json!(format!("{}/avatar/{sha256}", app.base))));
    let image = decode(app.get(&format!("/avatar/{md5}?s=32")).await).await;
    assert!(
        near(image.get_pixel(16, 16), BLUE, 8),
        "the new photo is served"
    );
    eprintln!("purge arrived {} ms after the change", took.as_millis());
}

#[tokio::test]
async fn a_failing_purge_endpoint_is_retried_then_given_up_without_delaying_writes() {
    let receiver = PurgeReceiver::start(503).await;
    let url = receiver.url.clone();
    let app = spawn_app_with(move |c| c.purge_url = url).await;
    app.add_photo("gus@example.org", &png(&solid_photo(32, RED)))
        .await;
    assert_eq!(
        app.get(&format!("/avatar/{}?d=404", md5_of("gus@example.org")))
            .await
            .status(),
        200,
        "the write is served at once, whatever the purge endpoint does"
    );
    assert!(
        receiver.wait_for(3, Duration::from_secs(6)).await,
        "three attempts"
    );
    for _ in 0..50 {
        if app
            .metric("cameo_purge_requests_total{outcome=\"failed\"}")
            .await
            == 1.0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.metric("cameo_purge_requests_total{outcome=\"failed\"}")
            .await,
        1.0
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.count(), 3, "no attempt beyond the third");
}

#[tokio::test]
async fn cloudflare_and_fastly_formats_speak_their_own_purge_apis() {
    for format in [PurgeFormat::Cloudflare, PurgeFormat::Fastly] {
        let receiver = PurgeReceiver::start(200).await;
        let url = receiver.url.clone();
        let app = spawn_app_with(move |c| {
            c.purge_url = url;
            c.purge_format = format;
            c.purge_token = "cdn-token".into();
        })
        .await;
        app.add_photo("hanna@example.org", &png(&solid_photo(32, RED)))
            .await;
        assert!(receiver.wait_for(1, Duration::from_secs(2)).await);
        let received = receiver.take();
        let (md5, sha256) = (md5_of("hanna@example.org"), sha256_of("hanna@example.org"));
        match format {
            PurgeFormat::Cloudflare => {
                let tags = received[0].body["tags"].as_array().unwrap();
                assert!(tags.contains(&serde_json::json!(md5)), "{received:?}");
                assert!(tags.contains(&serde_json::json!(sha256)));
                assert_eq!(received[0].header("authorization"), "Bearer cdn-token");
            }
            _ => {
                let keys: Vec<&str> = received[0].header("surrogate-key").split(' ').collect();
                assert!(keys.contains(&md5.as_str()) && keys.contains(&sha256.as_str()));
                assert_eq!(received[0].header("fastly-key"), "cdn-token");
                assert_eq!(received[0].header("authorization"), "");
            }
        }
    }
}
