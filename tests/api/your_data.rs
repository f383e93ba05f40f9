//! "Your data" (`/account/data`): the account's own export as a download (the format of
//! `cameo export`, read back by `cameo import-export`), and photos imported from a web
//! address (a fake image server on loopback) and from Gravatar (the fake upstream of
//! [`crate::gravatar`]): served pixels, each refusal in words, the SSRF rule, the limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::browser::{Browser, id_after};
use crate::gravatar::{Behaviour, start_fake};
use crate::helpers::*;

const GREEN: [u8; 3] = [0, 200, 0];
/// The upload limit of the apps here, so "too large" needs no large body.
const MAX_UPLOAD: u64 = 300_000;

/// A web server on loopback with one path per way a photo import can go.
struct ImageServer {
    base: String,
    calls: Arc<AtomicUsize>,
}

async fn image_route(request: HttpRequest, calls: web::Data<AtomicUsize>) -> HttpResponse {
    calls.fetch_add(1, Ordering::SeqCst);
    match request.path() {
        "/photo.png" => HttpResponse::Ok()
            .content_type("image/png")
            .body(png(&solid_photo(100, GREEN))),
        "/page.html" => HttpResponse::Ok()
            .content_type("text/html")
            .body("<html><body>not a photo</body></html>"),
        "/big.png" => {
            HttpResponse::Ok()
                .content_type("image/png")
                .body(vec![0u8; MAX_UPLOAD as usize * 2])
        }
        "/slow.png" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            HttpResponse::Ok().finish()
        }
        "/moved.png" => HttpResponse::Found()
            .insert_header(("Location", "/photo.png"))
            .finish(),
        _ => HttpResponse::NotFound().finish(),
    }
}

async fn start_image_server() -> ImageServer {
    let calls = web::Data::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(counted.clone())
            .default_service(web::get().to(image_route))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    ImageServer {
        base: format!("http://127.0.0.1:{port}"),
        calls: calls.into_inner(),
    }
}

/// A signed-up, confirmed alice@example.org, logged in, on an app adjusted by `adjust`.
async fn alice_on(adjust: impl FnOnce(&mut cameo::config::Config)) -> (TestApp, Browser) {
    let (app, smtp) = spawn_app_with_mail(|c| {
        c.max_upload_bytes = MAX_UPLOAD;
        c.gravatar_timeout = Duration::from_millis(700);
        adjust(c);
    })
    .await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "alice@example.org")
        .await;
    (app, browser)
}

async fn import_url(browser: &Browser, url: &str) -> (u16, String, String) {
    browser
        .submit("/account/data", "/account/data/import-url", &[("url", url)])
        .await
}

async fn import_gravatar(browser: &Browser, address_id: &str) -> (u16, String, String) {
    browser
        .submit(
            "/account/data",
            "/account/data/import-gravatar",
            &[("address", address_id)],
        )
        .await
}

/// Every pixel of alice's avatar at 64 px is (near) `colour`.
async fn alice_shows(app: &TestApp, colour: [u8; 3]) {
    let response = app
        .get(&format!(
            "/avatar/{}?s=64&d=404",
            md5_of("alice@example.org")
        ))
        .await;
    assert_eq!(response.status(), 200);
    let image = decode(response).await;
    assert_eq!(image.dimensions(), (64, 64));
    assert!(image.pixels().all(|p| near(p, colour, 8)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_download_holds_the_accounts_addresses_and_photos_and_imports_elsewhere() {
    let (app, browser) = alice_on(|_| {}).await;
    let (status, page) = browser.upload(png(&red_blue_photo(80, 80)), None).await;
    assert_eq!(status, 303);
    let photo_id = id_after(&page, "/account/photos/");
    let address_id = id_after(&page, "/account/addresses/");
    let (status, _, _) = browser
        .submit(
            "/account",
            &format!("/account/photos/{photo_id}/assign"),
            &[("address", &address_id)],
        )
        .await;
    assert_eq!(status, 303);
    assert!(
        page.contains("href=\"/account/data\""),
        "the account page links to it"
    );
    app.add_photo("operator@example.org", &png(&solid_photo(40, GREEN)))
        .await;

    let response = browser
        .client
        .get(format!("{}/account/data/export", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert_eq!(
        header(&response, "content-disposition"),
        "attachment; filename=\"cameo-data.json\""
    );
    assert_eq!(header(&response, "cache-control"), "no-store");
    let body = response.bytes().await.unwrap();
    let document: serde_json::Value = serde_json::from_slice(&body).expect("the JSON parses");
    assert_eq!(document["format"], "cameo-export");
    assert_eq!(document["version"], 1);
    let accounts = document["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1, "alice's account only");
    let alice = &accounts[0];
    assert_eq!(alice["email"], "alice@example.org");
    assert!(
        alice["password_hash"].is_null(),
        "no password hash in a download"
    );
    let addresses = alice["addresses"].as_array().unwrap();
    assert_eq!(addresses.len(), 1);
    assert_eq!(addresses[0]["address"], "alice@example.org");
    assert_eq!(addresses[0]["confirmed"], true);
    let photos = alice["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 1);
    assert_eq!(addresses[0]["photo"], photos[0]["digest"]);
    let bytes = BASE64.decode(photos[0]["data"].as_str().unwrap()).unwrap();
    let image = image::load_from_memory(&bytes).unwrap().into_rgba8();
    assert_eq!(image.dimensions(), (80, 80));
    assert_eq!(photos[0]["side"], 80);
    assert!(near(image.get_pixel(5, 40), RED, 8) && near(image.get_pixel(75, 40), BLUE, 8));
    assert!(
        document["operator"]["addresses"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing of the operator's"
    );
    assert!(!String::from_utf8_lossy(&body).contains("operator@example.org"));

    // The same format as `cameo export`: `cameo import-export` reads it into another server.
    let target = spawn_app().await;
    let file = temp_file(target.dir.path(), "alice.json", &body);
    let file = file.to_str().unwrap().to_string();
    let dir = target.dir.path().to_path_buf();
    let imported =
        tokio::task::spawn_blocking(move || run_cameo(&dir, &["import-export", &file], &[]))
            .await
            .unwrap();
    assert!(
        imported.status.success(),
        "{}{}",
        stdout(&imported),
        stderr(&imported)
    );
    target.noticed_another_process().await;
    let response = target
        .get(&format!(
            "/avatar/{}?s=64&d=404",
            md5_of("alice@example.org")
        ))
        .await;
    let served = decode(response).await;
    assert!(near(served.get_pixel(4, 32), RED, 8) && near(served.get_pixel(60, 32), BLUE, 8));

    // Logged out, there is nothing to download.
    let anonymous = app.get("/account/data/export").await;
    assert_eq!(anonymous.status(), 303);
    assert_eq!(header(&anonymous, "location"), "/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_imported_from_a_web_address_is_served_once_assigned() {
    let images = start_image_server().await;
    let (app, browser) = alice_on(|c| c.allow_private_probe = true).await;
    let (status, page) = browser.get("/account/data").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("action=\"/account/data/import-url\""),
        "{page}"
    );

    let (status, location, _) = import_url(&browser, &format!("{}/photo.png", images.base)).await;
    assert_eq!((status, location.as_str()), (303, "/account"));
    let (_, page) = browser.get("/account").await;
    assert!(page.contains("The photo is imported."), "{page}");
    let photo_id = id_after(&page, "/account/photos/");
    let address_id = id_after(&page, "/account/addresses/");
    let (status, _, _) = browser
        .submit(
            "/account",
            &format!("/account/photos/{photo_id}/assign"),
            &[("address", &address_id)],
        )
        .await;
    assert_eq!(status, 303);
    alice_shows(&app, GREEN).await;
    assert_eq!(images.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_import_says_why_beside_the_field() {
    let images = start_image_server().await;
    let (app, browser) = alice_on(|c| c.allow_private_probe = true).await;
    let base = &images.base;
    let cases = [
        (
            "not a web address".to_string(),
            400,
            "starting with http:// or https://",
        ),
        (
            format!("{base}/page.html"),
            422,
            "this is not an image Cameo reads",
        ),
        (format!("{base}/big.png"), 413, "larger than 300000 bytes"),
        (format!("{base}/slow.png"), 504, "did not answer in time"),
        (format!("{base}/moved.png"), 502, "redirects elsewhere"),
        (format!("{base}/gone.png"), 502, "status 404"),
    ];
    for (url, status, words) in cases {
        let (got, _, page) = import_url(&browser, &url).await;
        assert_eq!(got, status, "{url}: {page}");
        assert!(page.contains(words), "{url}: {words} in\n{page}");
        assert!(page.contains("aria-invalid=\"true\""), "{url}");
    }
    let (_, _, page) = import_url(&browser, "not a web address").await;
    assert!(
        page.contains("value=\"not a web address\""),
        "kept in the field:\n{page}"
    );
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM photos").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_address_on_a_private_network_is_never_fetched() {
    let images = start_image_server().await;
    let (app, browser) = alice_on(|_| {}).await;
    let port = images.base.rsplit(':').next().unwrap().to_string();
    for (url, shown) in [
        (format!("{}/photo.png", images.base), "127.0.0.1"),
        (format!("http://localhost:{port}/photo.png"), ""),
        (format!("http://[::1]:{port}/photo.png"), "::1"),
        (
            "http://169.254.169.254/latest/meta-data".to_string(),
            "169.254.169.254",
        ),
        ("http://10.0.0.1/photo.png".to_string(), "10.0.0.1"),
    ] {
        let (status, _, page) = import_url(&browser, &url).await;
        assert_eq!(status, 400, "{url}: {page}");
        assert!(
            page.contains(&format!("{shown} is a private or local network address"))
                || (shown.is_empty() && page.contains("is a private or local network address")),
            "{url}:\n{page}"
        );
    }
    assert_eq!(
        images.calls.load(Ordering::SeqCst),
        0,
        "nothing reached loopback"
    );
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM photos").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gravatar_photo_of_an_own_address_is_imported_and_shown() {
    let fake = start_fake(&[sha256_of("alice@example.org")], Behaviour::Normal, 0).await;
    let upstream = fake.base.clone();
    let (app, browser) = alice_on(move |c| c.gravatar_upstream = upstream).await;
    let (_, page) = browser.get("/account/data").await;
    let address_id = id_after(&page, "<option value=\"");

    let (status, location, _) = import_gravatar(&browser, &address_id).await;
    assert_eq!((status, location.as_str()), (303, "/account"));
    let (_, page) = browser.get("/account").await;
    assert!(
        page.contains("Your Gravatar photo is imported and alice@example.org shows it."),
        "{page}"
    );
    alice_shows(&app, GREEN).await;
    let query = fake.last_query.lock().unwrap().clone();
    assert!(
        query.contains("d=404") && query.contains("s=512"),
        "{query}"
    );
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gravatar_imports_say_when_there_is_no_photo_and_stop_at_the_hourly_limit() {
    let fake = start_fake(&[], Behaviour::Normal, 0).await;
    let upstream = fake.base.clone();
    let (app, browser) = alice_on(move |c| c.gravatar_upstream = upstream).await;
    let (_, page) = browser.get("/account/data").await;
    let address_id = id_after(&page, "<option value=\"");

    let (status, _, page) = import_gravatar(&browser, &address_id).await;
    assert_eq!(status, 404);
    assert!(
        page.contains("Gravatar has no photo for alice@example.org."),
        "{page}"
    );
    let (status, _, page) = import_gravatar(&browser, "999999").await;
    assert_eq!(status, 400);
    assert!(
        page.contains("Choose one of your confirmed email addresses."),
        "{page}"
    );

    let limit = cameo::web::data::IMPORTS_PER_ACCOUNT.max as usize;
    for _ in 1..limit {
        assert_eq!(import_gravatar(&browser, &address_id).await.0, 404);
    }
    let (status, _, page) = import_gravatar(&browser, &address_id).await;
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Your account imported many photos"), "{page}");
    assert_eq!(
        fake.calls.load(Ordering::SeqCst),
        limit,
        "the refused one fetched nothing"
    );
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM photos").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_need_the_forms_csrf_token_and_a_login() {
    let images = start_image_server().await;
    let (app, browser) = alice_on(|c| c.allow_private_probe = true).await;
    let url = format!("{}/photo.png", images.base);
    let (status, _, _) = browser
        .post(
            "/account/data/import-url",
            &[("csrf", &"0".repeat(64)), ("url", &url)],
        )
        .await;
    assert_eq!(status, 403);
    let stranger = Browser::new(&app);
    let csrf = stranger.csrf_from("/login").await;
    let (status, location, _) = stranger
        .post(
            "/account/data/import-url",
            &[("csrf", &csrf), ("url", &url)],
        )
        .await;
    assert_eq!((status, location.as_str()), (303, "/login"));
    assert_eq!(images.calls.load(Ordering::SeqCst), 0);
}
