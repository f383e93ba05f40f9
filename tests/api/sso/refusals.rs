//! What single sign-on refuses, and how it says so: a callback replayed, forged or planted
//! in another browser, a provider's `error=`, an email the provider does not vouch for, an
//! unreachable provider, and every password form when `password_login = false`.

use crate::browser::Browser;
use crate::helpers::{TestApp, count, spawn_app_with};
use crate::oidc_provider::{CALLBACK, Person, sign_in_at_provider, sign_in_from};

use super::{Setup, alice, settings, start};

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
