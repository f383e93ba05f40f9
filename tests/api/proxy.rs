//! Behind a reverse proxy: `X-Forwarded-For` names the client only when the connection comes
//! from a proxy listed in `trusted_proxies`; from anyone else it changes nothing, so it
//! cannot be used to escape a rate limit or a login lockout.

use crate::browser::Browser;
use crate::helpers::*;

/// GET `/api/v1/providers` (anonymous), with an `X-Forwarded-For` if given; returns the
/// status and `X-RateLimit-Remaining`.
async fn providers_as(app: &TestApp, forwarded_for: Option<&str>) -> (u16, String) {
    let mut request = app.client.get(format!("{}/api/v1/providers", app.base));
    if let Some(value) = forwarded_for {
        request = request.header("X-Forwarded-For", value);
    }
    let response = request.send().await.expect("request");
    (
        response.status().as_u16(),
        header(&response, "x-ratelimit-remaining"),
    )
}

/// One failed login for a made-up account (so only the per-client limit can trip).
async fn failed_login_as(browser: &Browser, forwarded_for: &str, account: usize) -> u16 {
    let csrf = browser.csrf_from("/login").await;
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", csrf.as_str()),
            ("email", &format!("nobody{account}@example.org")),
            ("password", "not the password"),
        ])
        .finish();
    browser
        .client
        .post(format!("{}/login", browser.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Forwarded-For", forwarded_for)
        .body(body)
        .send()
        .await
        .expect("login request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_does_not_open_a_new_api_window() {
    let app = spawn_app_with(|c| {
        c.api_anonymous_rate_limit = 3;
        c.trusted_proxies = Vec::new();
    })
    .await;
    assert_eq!(providers_as(&app, None).await, (200, "2".into()));
    assert_eq!(
        providers_as(&app, Some("1.2.3.4")).await,
        (200, "1".into()),
        "the spoofed address shares the real one's window"
    );
    assert_eq!(providers_as(&app, Some("5.6.7.8")).await, (200, "0".into()));
    assert_eq!(providers_as(&app, Some("9.9.9.9")).await.0, 429);
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_does_not_escape_a_login_lockout() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    // 20 failures from one client address lock it out, whatever it claims to be.
    for attempt in 0..20 {
        let spoofed = format!("198.51.100.{attempt}");
        assert_eq!(failed_login_as(&browser, &spoofed, attempt).await, 401);
    }
    assert_eq!(
        failed_login_as(&browser, "203.0.113.99", 99).await,
        429,
        "a fresh X-Forwarded-For is still the same client"
    );
}

#[tokio::test]
async fn a_trusted_proxy_gives_each_forwarded_client_its_own_api_window() {
    let app = spawn_app_with(|c| {
        c.api_anonymous_rate_limit = 2;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    assert_eq!(
        providers_as(&app, Some("198.51.100.1")).await,
        (200, "1".into())
    );
    assert_eq!(
        providers_as(&app, Some("198.51.100.1")).await,
        (200, "0".into())
    );
    assert_eq!(providers_as(&app, Some("198.51.100.1")).await.0, 429);
    assert_eq!(
        providers_as(&app, Some("198.51.100.2")).await,
        (200, "1".into()),
        "another client behind the proxy has its own window"
    );
    assert_eq!(
        providers_as(&app, Some("6.6.6.6, 198.51.100.2")).await,
        (200, "0".into()),
        "what a client prepends does not change who it is"
    );
    assert_eq!(
        providers_as(&app, None).await,
        (200, "1".into()),
        "the proxy's own requests count as the proxy's"
    );
}

#[tokio::test]
async fn a_trusted_proxy_gives_each_forwarded_client_its_own_login_lockout() {
    let app = spawn_app_with(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let browser = Browser::new(&app);
    for attempt in 0..20 {
        assert_eq!(
            failed_login_as(&browser, "198.51.100.1", attempt).await,
            401
        );
    }
    assert_eq!(failed_login_as(&browser, "198.51.100.1", 50).await, 429);
    assert_eq!(
        failed_login_as(&browser, "198.51.100.2", 51).await,
        401,
        "another client behind the proxy is not locked out"
    );
}
