//! Single sign-on against a real OpenID provider (panva's certified `oidc-provider`, started
//! per test on loopback by [`crate::oidc_provider`]): the whole flow in headless Chromium,
//! and the refusals (replayed or forged `state`, a provider's `error=`, an unverified email)
//! through a cookie-keeping client that fills in the provider's forms. `password_login =
//! false` needs no provider at all: its pages only name it.

use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use cameo::config::OidcSettings;
use cameo::secrets::Secret;

use crate::browser::Browser;
use crate::chromium::Chromium;
use crate::helpers::{
    TestApp, count, decode, free_port, md5_of, near, png, solid_photo, spawn_app_with,
    spawn_app_with_mail,
};
use crate::oidc_provider::{CLIENT_ID, CLIENT_SECRET, Person, Provider};

const PICTURE_COLOUR: [u8; 3] = [30, 160, 90];
const CALLBACK: &str = "/login/sso/callback";

fn settings(issuer: &str) -> OidcSettings {
    OidcSettings {
        issuer: issuer.to_string(),
        client_id: CLIENT_ID.to_string(),
        client_secret: Secret::new(CLIENT_SECRET.to_string()),
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        display_name: "Example ID".into(),
        timeout: Duration::from_secs(5),
    }
}

/// A web server on loopback with one picture, `/alice.png`, as a provider's profile
/// pictures are served.
async fn start_picture_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(|| {
        App::new().route(
            "/alice.png",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("image/png")
                    .body(png(&solid_photo(120, PICTURE_COLOUR)))
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}

/// Cameo on a port chosen first (the provider must know the redirect URI before Cameo
/// starts), and the provider it signs in with.
struct Setup {
    app: TestApp,
    provider: Provider,
}

async fn start(people: &[Person], mail: bool) -> Option<(Setup, Option<crate::smtp::SmtpSink>)> {
    start_with(people, mail, true).await
}

/// As [`start`]; `allow_private` false keeps production's rule that pictures come only from
/// public addresses.
async fn start_with(
    people: &[Person],
    mail: bool,
    allow_private: bool,
) -> Option<(Setup, Option<crate::smtp::SmtpSink>)> {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let provider = Provider::start(&format!("{base}{CALLBACK}"), people).await?;
    let adjust = |c: &mut cameo::config::Config| {
        c.bind = format!("127.0.0.1:{port}").parse().unwrap();
        c.base_url = base.clone();
        c.oidc = Some(settings(&provider.issuer));
        // The picture server is on loopback, which the guarded client refuses otherwise.
        c.allow_private_probe = allow_private;
    };
    let (app, smtp) = if mail {
        let (app, smtp) = spawn_app_with_mail(adjust).await;
        (app, Some(smtp))
    } else {
        (spawn_app_with(adjust).await, None)
    };
    Some((Setup { app, provider }, smtp))
}

fn alice(pictures: &str) -> Person {
    Person {
        login: "alice",
        email: "alice@example.org",
        email_verified: true,
        picture: Some(format!("{pictures}/alice.png")),
    }
}

/// The value of `attribute="…"` in the first tag of `html` holding `marker`.
fn attribute_after(html: &str, marker: &str, attribute: &str) -> String {
    let from = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let tag_start = html[..from].rfind('<').unwrap();
    let tag = &html[tag_start..];
    let key = format!("{attribute}=\"");
    let at = tag.find(&key).unwrap() + key.len();
    tag[at..at + tag[at..].find('"').unwrap()].replace("&amp;", "&")
}

/// Starts a login at Cameo and walks the provider's login and consent forms as `login`,
/// returning the callback URL the provider sends the browser back with (not yet followed).
async fn sign_in_at_provider(browser: &Browser, provider: &Provider, login: &str) -> String {
    sign_in_from(browser, provider, login, "/login/sso").await
}

/// As [`sign_in_at_provider`], starting at `start` (a path with its query).
async fn sign_in_from(browser: &Browser, provider: &Provider, login: &str, start: &str) -> String {
    let mut url = format!("{}{start}", browser.base);
    for _ in 0..20 {
        if url.starts_with(&format!("{}{CALLBACK}", browser.base)) {
            return url;
        }
        let response = browser.client.get(&url).send().await.unwrap();
        if response.status().is_redirection() {
            let location = response.headers()["location"].to_str().unwrap().to_string();
            url = reqwest::Url::parse(&url)
                .unwrap()
                .join(&location)
                .unwrap()
                .to_string();
            continue;
        }
        let html = response.text().await.unwrap();
        let action = attribute_after(&html, "<form", "action");
        let fields: Vec<(&str, &str)> = if html.contains("value=\"login\"") {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else {
            vec![("prompt", "consent")]
        };
        let target = reqwest::Url::parse(&provider.issuer)
            .unwrap()
            .join(&action)
            .unwrap();
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        let response = browser
            .client
            .post(target)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
        let location = response.headers()["location"].to_str().unwrap().to_string();
        url = reqwest::Url::parse(&provider.issuer)
            .unwrap()
            .join(&location)
            .unwrap()
            .to_string();
    }
    panic!("the provider never sent the browser back");
}

async fn text_of(db: &cameo::store::Db, sql: &'static str) -> String {
    use cameo::store::Pool;
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("text query")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_logs_in_at_the_provider_in_chromium_with_the_address_confirmed_and_the_picture_imported()
 {
    let pictures = start_picture_server().await;
    let Some((Setup { app, provider }, _)) = start(&[alice(&pictures)], false).await else {
        return;
    };
    let Some(chromium) = Chromium::launch().await else {
        return;
    };
    let browser = &chromium.client;
    browser.goto(&format!("{}/login", app.base)).await.unwrap();
    chromium
        .wait_until("document.querySelector('#sso-login')")
        .await;
    let label = chromium
        .eval("document.querySelector('#sso-login').textContent")
        .await;
    assert_eq!(label, "Log in with Example ID");
    chromium.click("#sso-login").await;
    // The provider's own login form, then its consent page.
    chromium
        .wait_until("document.querySelector('input[name=login]')")
        .await;
    assert!(
        browser
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&provider.issuer)
    );
    chromium.fill("input[name=login]", "alice").await;
    chromium.fill("input[name=password]", "whatever").await;
    chromium.click("button[type=submit]").await;
    chromium
        .wait_until("document.querySelector('input[value=consent]')")
        .await;
    chromium.click("button[type=submit]").await;
    chromium
        .wait_until(&format!("location.href === '{}/account'", app.base))
        .await;
    let page = chromium.eval("document.body.innerText").await;
    let page = page.as_str().unwrap();
    assert!(page.contains("alice@example.org"), "{page}");
    assert!(page.contains("Log out"), "{page}");
    chromium.quit().await;

    // The address is confirmed and shows the provider's picture, fetched once.
    app.noticed_another_process().await;
    let served = decode(
        app.get(&format!(
            "/avatar/{}?s=64&d=404",
            md5_of("alice@example.org")
        ))
        .await,
    )
    .await;
    assert_eq!(served.dimensions(), (64, 64));
    assert!(near(served.get_pixel(32, 32), PICTURE_COLOUR, 8));
    assert_eq!(
        count(&app.operator, "SELECT COUNT(*) FROM oidc_links").await,
        1
    );
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM photos").await, 1);
    assert_eq!(
        text_of(&app.operator, "SELECT password_hash FROM users").await,
        cameo::passwords::NO_PASSWORD
    );
}

/// The `state` of a callback URL.
fn state_of(callback: &str) -> String {
    let url = reqwest::Url::parse(callback).unwrap();
    url.query_pairs()
        .find(|(key, _)| key == "state")
        .map(|(_, value)| value.into_owned())
        .expect("a state in the callback")
}

/// GETs `url` with no cookies but `cameo_sso_state=STATE`: a browser holding that state.
async fn get_with_state_cookie(url: &str, state: &str) -> (u16, String) {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .header("cookie", format!("cameo_sso_state={state}"))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_works_once_and_only_in_the_browser_that_started_it() {
    let person = Person {
        picture: None,
        ..alice("")
    };
    let Some((Setup { app, provider }, _)) = start(&[person], false).await else {
        return;
    };
    let browser = Browser::new(&app);
    // Where to land is taken only as a path on this site: not another site.
    let start = "/login/sso?next=https%3A%2F%2Fevil.example%2F";
    let callback = sign_in_from(&browser, &provider, "alice", start).await;

    // A callback link planted in another browser (login CSRF) signs nobody in there.
    let planted = Browser::new(&app)
        .client
        .get(&callback)
        .send()
        .await
        .unwrap();
    assert_eq!(planted.status(), 400);
    let text = planted.text().await.unwrap();
    assert!(text.contains("did not start in this browser"), "{text}");

    let landed = browser.client.get(&callback).send().await.unwrap();
    assert_eq!(landed.status(), 303);
    assert_eq!(landed.headers()["location"], "/account");
    let (status, page) = browser.get("/account").await;
    assert_eq!(status, 200);
    assert!(page.contains("alice@example.org"), "{page}");

    // The same answer again, even with the state's cookie, finds the login used.
    let (status, page) = get_with_state_cookie(&callback, &state_of(&callback)).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("was used already"), "{page}");
    // A made-up state with a matching cookie finds nothing either.
    let forged = "f".repeat(43);
    let url = format!("{}{CALLBACK}?code=abc&state={forged}", app.base);
    let (status, page) = get_with_state_cookie(&url, &forged).await;
    assert_eq!(status, 400, "{page}");
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM users").await, 1);

    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM users").await, 1);
}

/// alice, signed in through the provider on a server that mails, with no password.
async fn alice_by_provider() -> Option<(TestApp, Browser, crate::smtp::SmtpSink, Provider)> {
    let person = Person {
        picture: None,
        ..alice("")
    };
    let (Setup { app, provider }, smtp) = start(&[person], true).await?;
    let browser = Browser::new(&app);
    let callback = sign_in_at_provider(&browser, &provider, "alice").await;
    assert_eq!(
        browser.client.get(&callback).send().await.unwrap().status(),
        303
    );
    Some((app, browser, smtp.expect("a mail sink"), provider))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_made_by_the_provider_has_no_password_until_a_reset_link_sets_one() {
    let Some((app, browser, smtp, _provider)) = alice_by_provider().await else {
        return;
    };
    assert_eq!(
        text_of(&app.operator, "SELECT password_hash FROM users").await,
        cameo::passwords::NO_PASSWORD
    );
    let login = |password: &'static str| {
        let anonymous = Browser::new(&app);
        async move {
            let fields = [("email", "alice@example.org"), ("password", password)];
            anonymous.submit("/login", "/login", &fields).await.0
        }
    };
    // The marker is no password: logging in with it fails like any wrong password.
    assert_eq!(login(cameo::passwords::NO_PASSWORD).await, 401);
    // Changing a password needs the current one: the page says how to get one instead.
    let (status, page) = browser.get("/account/password").await;
    assert_eq!(status, 409);
    assert!(page.contains("You log in with single sign-on"), "{page}");

    let (status, _, _) = browser
        .submit("/forgot", "/forgot", &[("email", "alice@example.org")])
        .await;
    assert_eq!(status, 200);
    let link = crate::smtp::link_in(&smtp.wait_for("alice@example.org").await, "/reset/");
    let path = link.trim_start_matches(&app.base).to_string();
    let chosen = "alice's own password";
    let fields = [("password", chosen), ("password_again", chosen)];
    let (status, location, _) = browser.submit(&path, &path, &fields).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/login?done=password_reset")
    );
    assert_eq!(login("alice's own password").await, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_made_by_the_provider_is_deleted_by_typing_its_address() {
    let Some((app, browser, _smtp, _provider)) = alice_by_provider().await else {
        return;
    };
    let (status, page) = browser.get("/account/delete").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Your account's email address, to confirm"),
        "{page}"
    );
    let (status, _, page) = browser
        .submit(
            "/account/delete",
            "/account/delete",
            &[("password", "bob@example.org")],
        )
        .await;
    assert_eq!(status, 401);
    assert!(
        page.contains("Type the email address of your account exactly."),
        "{page}"
    );
    let (status, _, page) = browser
        .submit(
            "/account/delete",
            "/account/delete",
            &[("password", " Alice@Example.org ")],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your account is deleted"), "{page}");
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(
        count(&app.operator, "SELECT COUNT(*) FROM oidc_links").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_the_provider_does_not_vouch_for_makes_no_account() {
    let bob = Person {
        login: "bob",
        email: "bob@example.org",
        email_verified: false,
        picture: None,
    };
    let Some((Setup { app, provider }, _)) = start(&[bob], false).await else {
        return;
    };
    let browser = Browser::new(&app);
    let callback = sign_in_at_provider(&browser, &provider, "bob").await;
    let response = browser.client.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("did not confirm an email address for you"),
        "{page}"
    );
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(
        count(&app.operator, "SELECT COUNT(*) FROM oidc_links").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_address_an_account_confirmed_links_the_login_to_that_account() {
    let person = Person {
        picture: None,
        ..alice("")
    };
    let Some((Setup { app, provider }, Some(smtp))) = start(&[person], true).await else {
        return;
    };
    let by_password = Browser::new(&app);
    by_password
        .sign_up_and_confirm(&smtp, "alice@example.org")
        .await;
    let by_provider = Browser::new(&app);
    let start = "/login/sso?next=%2Faccount%2Fdata";
    let callback = sign_in_from(&by_provider, &provider, "alice", start).await;
    let landed = by_provider.client.get(&callback).send().await.unwrap();
    assert_eq!(landed.status(), 303);
    assert_eq!(landed.headers()["location"], "/account/data");
    let (_, page) = by_provider.get("/account").await;
    assert!(page.contains("alice@example.org"), "{page}");
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(
        count(
            &app.operator,
            "SELECT COUNT(*) FROM oidc_links l JOIN users u ON u.id = l.user_id
             WHERE u.email = 'alice@example.org' AND l.subject = 'alice'"
        )
        .await,
        1
    );
    // The password still works: linking changed nothing else.
    assert_ne!(
        text_of(&app.operator, "SELECT password_hash FROM users").await,
        cameo::passwords::NO_PASSWORD
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_the_operator_added_is_given_to_the_new_account_with_the_picture() {
    let pictures = start_picture_server().await;
    let Some((Setup { app, provider }, _)) = start(&[alice(&pictures)], false).await else {
        return;
    };
    app.add_photo("alice@example.org", &png(&solid_photo(80, [200, 20, 20])))
        .await;
    let browser = Browser::new(&app);
    let callback = sign_in_at_provider(&browser, &provider, "alice").await;
    assert_eq!(
        browser.client.get(&callback).send().await.unwrap().status(),
        303
    );
    assert_eq!(
        count(
            &app.operator,
            "SELECT COUNT(*) FROM addresses a JOIN users u ON u.id = a.user_id
             WHERE a.address = 'alice@example.org' AND a.confirmed_at IS NOT NULL"
        )
        .await,
        1
    );
    app.noticed_another_process().await;
    let served = decode(
        app.get(&format!(
            "/avatar/{}?s=32&d=404",
            md5_of("alice@example.org")
        ))
        .await,
    )
    .await;
    assert!(near(served.get_pixel(16, 16), PICTURE_COLOUR, 8));

    // A second login links, and never fetches the picture again.
    let again = Browser::new(&app);
    let callback = sign_in_at_provider(&again, &provider, "alice").await;
    assert_eq!(
        again.client.get(&callback).send().await.unwrap().status(),
        303
    );
    assert_eq!(
        count(
            &app.operator,
            "SELECT COUNT(*) FROM photos WHERE user_id IS NOT NULL"
        )
        .await,
        1
    );
}

/// An app whose provider is configured but never asked (the pages below only name it).
async fn app_with_passwords_off() -> TestApp {
    spawn_app_with(|c| {
        c.oidc = Some(settings("https://id.example.org"));
        c.password_login = false;
    })
    .await
}

#[tokio::test]
async fn with_password_login_off_every_password_form_refuses_and_names_the_provider() {
    let app = app_with_passwords_off().await;
    let browser = Browser::new(&app);
    let response = browser
        .client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // No page here has a form any more; the anonymous CSRF cookie is set all the same.
    let csrf = response
        .cookies()
        .find(|cookie| cookie.name() == "cameo_csrf")
        .expect("a CSRF cookie")
        .value()
        .to_string();
    let page = response.text().await.unwrap();
    assert!(page.contains("Log in with Example ID"), "{page}");
    assert!(page.contains("does not use passwords"), "{page}");
    assert!(!page.contains("action=\"/login\""), "{page}");

    let (status, _, page) = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", "a@example.org"),
                ("password", "long enough pw"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert!(page.contains("log in with Example ID"), "{page}");

    let (status, page) = browser.get("/signup").await;
    assert_eq!(status, 403);
    assert!(
        page.contains("Accounts on this server come from Example ID"),
        "{page}"
    );
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", "a@example.org"),
        ("password", "long enough pw"),
        ("password_again", "long enough pw"),
    ];
    let (status, _, page) = browser.post("/signup", &fields).await;
    assert_eq!(status, 403);
    assert!(page.contains("does not use passwords"), "{page}");

    for path in ["/forgot", &format!("/reset/{}", "a".repeat(64))] {
        let (status, page) = browser.get(path).await;
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("log in with Example ID"), "{path}: {page}");
    }
    let (status, _, _) = browser
        .post("/forgot", &[("csrf", &csrf), ("email", "a@example.org")])
        .await;
    assert_eq!(status, 403);
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM users").await, 0);
}

#[tokio::test]
async fn a_provider_error_on_the_callback_is_shown_in_words() {
    let app = app_with_passwords_off().await;
    let response = app
        .get(&format!(
            "{CALLBACK}?error=access_denied&error_description=End-User+aborted+interaction&state=x"
        ))
        .await;
    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert!(page.contains("Single sign-on did not work"), "{page}");
    assert!(
        page.contains(
            "You (or the provider) declined the sign-in. It said: End-User aborted interaction"
        ),
        "{page}"
    );
    assert!(page.contains("href=\"/login\""), "{page}");
}

#[tokio::test]
async fn without_a_provider_there_is_no_single_sign_on() {
    let app = crate::helpers::spawn_app().await;
    let response = app.get("/login/sso").await;
    assert_eq!(response.status(), 404);
    let (status, page) = Browser::new(&app).get("/login").await;
    assert_eq!(status, 200);
    assert!(!page.contains("sso-login"), "{page}");
}

#[tokio::test]
async fn an_unreachable_provider_is_said_in_words_and_starts_are_limited_per_client() {
    // Nothing listens on port 1: every discovery is refused at once.
    let app = spawn_app_with(|c| c.oidc = Some(settings("http://127.0.0.1:1"))).await;
    for _ in 0..20 {
        let response = app.get("/login/sso").await;
        assert_eq!(response.status(), 502);
        let page = response.text().await.unwrap();
        assert!(
            page.contains("The sign-in provider could not be reached"),
            "{page}"
        );
        assert!(!page.contains("127.0.0.1:1"), "no internal detail: {page}");
    }
    let response = app.get("/login/sso").await;
    assert_eq!(response.status(), 429);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Too many sign-ins were started from your network."),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_on_a_private_address_is_not_fetched_and_the_login_says_so() {
    let pictures = start_picture_server().await;
    let Some((Setup { app, provider }, _)) = start_with(&[alice(&pictures)], false, false).await
    else {
        return;
    };
    let browser = Browser::new(&app);
    let callback = sign_in_at_provider(&browser, &provider, "alice").await;
    let response = browser.client.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("You are logged in"), "{page}");
    assert!(
        page.contains("Log out"),
        "the page is the signed-in account's: {page}"
    );
    assert!(
        page.contains("Your provider&#39;s picture was not imported: 127.0.0.1 is a private or local network address"),
        "{page}"
    );
    assert!(page.contains("href=\"/account\""), "{page}");
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM photos").await, 0);
    // Signed in all the same, with the address confirmed.
    let (status, page) = browser.get("/account").await;
    assert_eq!(status, 200);
    assert!(page.contains("alice@example.org"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_another_account_confirmed_since_stays_there_and_the_login_says_so() {
    let Some((app, _, smtp, provider)) = alice_by_provider().await else {
        return;
    };
    // bob confirms alice@example.org for his own account: it moves to him.
    let bob = Browser::new(&app);
    bob.sign_up_and_confirm(&smtp, "bob@example.org").await;
    let (status, _, _) = bob
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "alice@example.org")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(bob.confirm_from_mail(&smtp, "alice@example.org").await, 200);

    let again = Browser::new(&app);
    let callback = sign_in_at_provider(&again, &provider, "alice").await;
    let response = again.client.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains(
            "alice@example.org is confirmed by another account on this server, so it stays there"
        ),
        "{page}"
    );
    assert_eq!(
        count(
            &app.operator,
            "SELECT COUNT(*) FROM addresses a JOIN users u ON u.id = a.user_id
             WHERE a.address = 'alice@example.org' AND u.email = 'bob@example.org'"
        )
        .await,
        1
    );
}
