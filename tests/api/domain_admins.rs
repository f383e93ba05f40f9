//! Domain administrators against the real server: named with `cameo domain-admin`, they see
//! every address of their domain on `/domains/DOMAIN`, take a photo off one, and set a
//! default image that photo-less addresses of the domain serve wherever a drawn default
//! would be (`d=404` stays 404, `f=y` still forces the default, other domains and unknown
//! hashes are untouched). CSRF and one domain's administrator reaching another's addresses
//! are tested like the rest of the web UI.

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::browser::{Browser, id_after};
use crate::helpers::*;
use crate::smtp::SmtpSink;

const GREEN: [u8; 3] = [0, 160, 0];

struct World {
    app: TestApp,
    smtp: SmtpSink,
    /// it@corp.test, administrator of corp.test.
    admin: Browser,
}

/// ada@corp.test (the operator's red photo), it@corp.test (an account, no photo) and
/// carol@other.test (blue photo); it@corp.test administers corp.test.
async fn world() -> World {
    let (app, smtp) =
        spawn_app_with_mail(|c| c.trusted_default_hosts = vec!["images.example".into()]).await;
    app.add_photo("ada@corp.test", &png(&solid_photo(64, RED)))
        .await;
    app.add_photo("carol@other.test", &png(&solid_photo(64, BLUE)))
        .await;
    let admin = Browser::new(&app);
    admin.sign_up_and_confirm(&smtp, "it@corp.test").await;
    let granted = app.cameo(&["domain-admin", "add", "Corp.Test", "it@corp.test"]);
    assert!(granted.status.success(), "{}", stderr(&granted));
    World { app, smtp, admin }
}

/// Uploads `bytes` as `domain`'s default image (with the session's CSRF token, which any
/// page of the account carries).
async fn upload_default(browser: &Browser, domain: &str, bytes: Vec<u8>) -> (u16, String) {
    let csrf = browser.csrf_from("/account").await;
    let form = Form::new()
        .text("csrf", csrf)
        .part("photo", Part::bytes(bytes).file_name("logo.png"));
    let response = browser
        .client
        .post(format!("{}/domains/{domain}/default", browser.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The centre pixel `/avatar/HASH?QUERY` serves, or the status when it is not an image.
async fn centre(app: &TestApp, address: &str, query: &str) -> Result<image::Rgba<u8>, u16> {
    let response = app
        .get(&format!("/avatar/{}?s=32&{query}", sha256_of(address)))
        .await;
    if response.status() != 200 {
        return Err(response.status().as_u16());
    }
    Ok(*decode(response).await.get_pixel(16, 16))
}

fn is(colour: [u8; 3]) -> impl Fn(Result<image::Rgba<u8>, u16>) -> bool {
    move |served| served.is_ok_and(|pixel| near(&pixel, colour, 40))
}

#[tokio::test]
async fn a_domain_default_replaces_drawn_defaults_of_photo_less_addresses_only() {
    let world = world().await;
    let app = &world.app;
    let green = is(GREEN);
    assert!(!green(centre(app, "it@corp.test", "d=identicon").await));

    let wide_logo = png(&solid_photo(120, GREEN));
    let (status, page) = upload_default(&world.admin, "corp.test", wide_logo).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("The default image is set"));

    for query in ["", "d=identicon", "d=mp", "d=retro&s=64"] {
        assert!(green(centre(app, "it@corp.test", query).await), "{query}");
    }
    assert_eq!(centre(app, "it@corp.test", "d=404").await, Err(404));
    assert!(!green(centre(app, "it@corp.test", "d=identicon&f=y").await));
    let redirect = app
        .get(&format!(
            "/avatar/{}?d=https%3A%2F%2Fimages.example%2Fx.png",
            sha256_of("it@corp.test")
        ))
        .await;
    assert_eq!(redirect.status(), 302, "a default the site chose is kept");
    assert!(
        is(RED)(centre(app, "ada@corp.test", "").await),
        "own photos win"
    );
    assert!(is(BLUE)(centre(app, "carol@other.test", "").await));
    assert!(
        !green(centre(app, "nobody@corp.test", "d=identicon").await),
        "unknown hash"
    );

    let lookup: Value = app
        .get("/api/v1/lookup?email=it@corp.test&providers=local")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        lookup["code"], "not_found",
        "the logo is not the person's photo"
    );

    let csrf = world.admin.csrf_from("/domains/corp.test").await;
    let (status, _, page) = world
        .admin
        .post("/domains/corp.test/default/remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("removed"));
    assert!(!green(centre(app, "it@corp.test", "d=identicon").await));
}

#[tokio::test]
async fn an_administrator_sees_the_domains_addresses_and_takes_a_photo_off() {
    let world = world().await;
    let (_, account) = world.admin.get("/account").await;
    assert!(
        account.contains("href=\"/domains\""),
        "the account page links to it"
    );
    let (status, list) = world.admin.get("/domains").await;
    assert_eq!(status, 200);
    assert!(
        list.contains("href=\"/domains/corp.test\""),
        "stored normalised"
    );
    let (status, page) = world.admin.get("/domains/corp.test").await;
    assert_eq!(status, 200);
    assert!(page.contains("ada@corp.test") && page.contains("it@corp.test"));
    assert!(
        !page.contains("carol@other.test"),
        "only the domain's addresses"
    );
    let action_prefix = "/domains/corp.test/addresses/";
    let ada_id = id_after(&page, action_prefix);

    upload_default(&world.admin, "corp.test", png(&solid_photo(64, GREEN))).await;
    let csrf = world.admin.csrf_from("/domains/corp.test").await;
    let take_off = format!("{action_prefix}{ada_id}/take-photo-off");
    let (status, _, _) = world
        .admin
        .post(&take_off, &[("csrf", "0".repeat(64).as_str())])
        .await;
    assert_eq!(status, 403, "CSRF is checked");
    assert!(is(RED)(centre(&world.app, "ada@corp.test", "").await));
    let (status, _, page) = world.admin.post(&take_off, &[("csrf", &csrf)]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("taken off"));
    assert!(
        is(GREEN)(centre(&world.app, "ada@corp.test", "").await),
        "the address shows the domain's default now"
    );
    let (status, _, _) = world.admin.post(&take_off, &[("csrf", &csrf)]).await;
    assert_eq!(status, 404, "nothing left to take off");
}

#[tokio::test]
async fn nobody_reaches_a_domain_they_do_not_administer() {
    let world = world().await;
    let app = &world.app;
    // boss@other.test administers other.test: its page gives carol's address id.
    let boss = Browser::new(app);
    boss.sign_up_and_confirm(&world.smtp, "boss@other.test")
        .await;
    assert!(
        app.cameo(&["domain-admin", "add", "other.test", "boss@other.test"])
            .status
            .success()
    );
    let (_, other_page) = boss.get("/domains/other.test").await;
    let carol_id = id_after(&other_page, "/domains/other.test/addresses/");

    let csrf = world.admin.csrf_from("/domains/corp.test").await;
    for path in [
        format!("/domains/other.test/addresses/{carol_id}/take-photo-off"),
        format!("/domains/corp.test/addresses/{carol_id}/take-photo-off"),
        "/domains/other.test/default/remove".to_string(),
    ] {
        let (status, _, _) = world.admin.post(&path, &[("csrf", &csrf)]).await;
        assert_eq!(status, 404, "{path}");
    }
    assert_eq!(world.admin.get("/domains/other.test").await.0, 404);
    let (status, _) = upload_default(&boss, "corp.test", png(&solid_photo(64, GREEN))).await;
    assert_eq!(status, 404, "boss cannot set corp.test's default");
    assert!(
        is(BLUE)(centre(app, "carol@other.test", "").await),
        "carol keeps her photo"
    );
    assert!(!is(GREEN)(centre(app, "it@corp.test", "").await));

    let stranger = Browser::new(app);
    stranger
        .sign_up_and_confirm(&world.smtp, "eve@corp.test")
        .await;
    assert_eq!(
        stranger.get("/domains/corp.test").await.0,
        404,
        "an address there is not enough"
    );
    let (_, account) = stranger.get("/account").await;
    assert!(!account.contains("href=\"/domains\""));
    let (status, list) = stranger.get("/domains").await;
    assert_eq!(status, 200);
    assert!(list.contains("You administer no domain"));
    let anonymous = app.get("/domains/corp.test").await;
    assert_eq!(anonymous.status(), 303);
    assert_eq!(
        header(&anonymous, "location"),
        "/login",
        "signed out: to the login page"
    );

    let listing = app.cameo(&["domain-admin", "list"]);
    let text = stdout(&listing);
    assert!(
        text.contains("corp.test") && text.contains("boss@other.test"),
        "{text}"
    );
    let removed = app.cameo(&["domain-admin", "remove", "corp.test", "it@corp.test"]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(
        world.admin.get("/domains/corp.test").await.0,
        404,
        "access ends at once"
    );
    let again = app.cameo(&["domain-admin", "remove", "corp.test", "it@corp.test"]);
    assert!(!again.status.success());
    let bad = app.cameo(&["domain-admin", "add", "not a domain", "it@corp.test"]);
    assert!(stderr(&bad).contains("not a domain"), "{}", stderr(&bad));
}

#[tokio::test]
async fn a_bad_default_image_is_refused_with_its_reason() {
    let world = world().await;
    let (status, page) = upload_default(&world.admin, "corp.test", b"not an image".to_vec()).await;
    assert_eq!(status, 415, "{page}");
    assert!(page.contains("The image was refused"));
    assert!(!is(GREEN)(centre(&world.app, "it@corp.test", "").await));
}
