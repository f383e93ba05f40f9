//! The security review, kept as tests: every HTML page (and the error pages browsers see)
//! carries a strict CSP, `nosniff` and a Referrer-Policy; cookies are HttpOnly and
//! SameSite; no route redirects to a client-supplied place; and the two fetches a user can
//! aim (the OpenID rel=me proof, the domain check's probe) never reach loopback, private or
//! link-local addresses.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cameo::identity::Identity;
use serde_json::Value;

use crate::browser::{Browser, PASSWORD};
use crate::dns_server::{start_dns_server, zone_head};
use crate::helpers::*;

/// POSTs an urlencoded form and returns the whole response (headers included).
async fn post_form(browser: &Browser, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    browser
        .client
        .post(format!("{}{path}", browser.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request")
}

async fn fetch(browser: &Browser, path: &str) -> reqwest::Response {
    browser
        .client
        .get(format!("{}{path}", browser.base))
        .send()
        .await
        .expect("request")
}

/// A CSP without `unsafe-inline` that forbids framing, `nosniff`, and a Referrer-Policy
/// that sends no URL to other sites.
fn assert_protected(path: &str, response: &reqwest::Response) {
    let csp = header(response, "content-security-policy");
    assert!(!csp.is_empty(), "{path}: no Content-Security-Policy");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{path}: {csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    assert_eq!(
        header(response, "x-content-type-options"),
        "nosniff",
        "{path}"
    );
    let referrer = header(response, "referrer-policy");
    assert!(
        ["no-referrer", "same-origin", "strict-origin"].contains(&referrer.as_str()),
        "{path}: Referrer-Policy {referrer:?}"
    );
}

#[tokio::test]
async fn every_html_page_and_error_page_carries_the_security_headers() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    let public = [
        "/",
        "/login",
        "/signup",
        "/forgot",
        "/tools/check",
        "/tools/defaults",
        "/tools/api",
    ];
    for path in public {
        let response = fetch(&browser, path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(header(&response, "content-type").starts_with("text/html"));
        assert_protected(path, &response);
    }
    browser
        .sign_up_and_confirm(&smtp, "headers@example.org")
        .await;
    for path in [
        "/account",
        "/account/tokens",
        "/account/profile",
        "/account/password",
        "/account/delete",
    ] {
        let response = fetch(&browser, path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_protected(path, &response);
    }
    for path in [
        "/no/such/page",
        "/account/tokens/x/revoke",
        "/static/nothing.css",
    ] {
        let response = fetch(&browser, path).await;
        assert!(response.status().is_client_error(), "{path}");
        if path != "/static/nothing.css" {
            assert_protected(path, &response);
        }
    }
    // A form posted without its token is refused with an error page.
    let refused = post_form(
        &browser,
        "/login",
        &[("email", "a@b.example"), ("password", "x")],
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert_protected("POST /login without csrf", &refused);
}

/// Every `Set-Cookie` of a response.
fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn cookies_are_http_only_and_same_site() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    let form_page = fetch(&browser, "/login").await;
    let mut cookies = set_cookies(&form_page);
    assert!(cookies.iter().any(|c| c.starts_with("cameo_csrf=")));
    browser.sign_up_and_confirm(&smtp, "jar@example.org").await;
    browser.submit("/account", "/logout", &[]).await;
    let csrf = browser.csrf_from("/login").await;
    let login = post_form(
        &browser,
        "/login",
        &[
            ("csrf", csrf.as_str()),
            ("email", "jar@example.org"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(login.status(), 303);
    cookies.extend(set_cookies(&login));
    assert!(cookies.iter().any(|c| c.starts_with("cameo_session=")));
    for cookie in &cookies {
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(
            cookie.contains("SameSite=Lax") || cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
    }
}

/// Places a redirect must never send a visitor to.
const OFFSITE: [&str; 5] = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https:evil.example",
];

fn encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A redirect's `Location` is a path on this site: `/`, then not `/` or `\` (which
/// browsers read as `//host`).
fn assert_local_redirect(what: &str, response: &reqwest::Response) {
    if !response.status().is_redirection() {
        return;
    }
    let location = header(response, "location");
    let local = location.starts_with('/')
        && !location.starts_with("//")
        && !location.starts_with("/\\")
        && !location.contains("evil");
    assert!(local, "{what}: redirected to {location:?}");
}

#[tokio::test]
async fn no_route_redirects_to_a_client_supplied_place() {
    let (app, smtp) =
        spawn_app_with_mail(|c| c.trusted_default_hosts = vec!["trusted.example".into()]).await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "stay@example.org").await;
    browser.submit("/account", "/logout", &[]).await;
    let hash = md5_of("nobody@example.org");

    for target in OFFSITE {
        let next = encoded(target);
        for path in [
            format!("/login?next={next}"),
            format!("/signup?next={next}"),
            format!("/account?next={next}"),
            format!("/account?return_to={next}&redirect={next}"),
            format!("/avatar?next={next}"),
            format!("/avatar/?next={next}"),
            format!("/avatar/{hash}?d={next}"),
            format!("/avatar/{hash}?default={next}&s=40"),
        ] {
            let response = fetch(&browser, &path).await;
            assert_local_redirect(&path, &response);
        }
        let csrf = browser.csrf_from("/login").await;
        let login = post_form(
            &browser,
            &format!("/login?next={next}"),
            &[
                ("csrf", csrf.as_str()),
                ("email", "stay@example.org"),
                ("password", PASSWORD),
                ("next", target),
            ],
        )
        .await;
        assert_eq!(header(&login, "location"), "/account", "{target}");
        let (status, location, _) = browser
            .submit(
                "/account",
                &format!("/logout?next={next}"),
                &[("next", target)],
            )
            .await;
        assert_eq!((status, location.as_str()), (303, "/"), "{target}");
    }

    // The one off-site redirect is to a default image on a host the operator trusts.
    let trusted = encoded("https://trusted.example/x.png");
    let response = fetch(&browser, &format!("/avatar/{hash}?d={trusted}")).await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        header(&response, "location"),
        "https://trusted.example/x.png"
    );
    for sneaky in [
        "https://trusted.example@evil.example/x.png",
        "https://trusted.example.evil.example/x.png",
    ] {
        let response = fetch(&browser, &format!("/avatar/{hash}?d={}", encoded(sneaky))).await;
        assert!(!response.status().is_redirection(), "{sneaky}");
    }
}

/// A TCP listener on loopback that counts connections: proof that nothing was fetched.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, hits)
}

#[tokio::test]
async fn the_openid_proof_never_fetches_a_private_address() {
    let (app, smtp) = spawn_app_with_mail(|c| {
        c.allow_private_probe = false;
        c.max_unconfirmed_addresses = 20;
    })
    .await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "ssrf@example.org").await;
    let (port, hits) = counting_listener().await;
    let cases = [
        format!("http://127.0.0.1:{port}/"),
        "http://[::1]/".to_string(),
        "http://169.254.169.254/".to_string(),
        "http://10.0.0.1/".to_string(),
        format!("http://localhost:{port}/me"),
        format!("http://[::7f00:1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[64:ff9b::7f00:1]:{port}/"),
        "http://198.18.0.1/".to_string(),
    ];
    for openid in &cases {
        let (status, _, _) = browser
            .submit("/account", "/account/openids", &[("openid", openid)])
            .await;
        assert_eq!(status, 303, "{openid}");
        let (_, page) = browser.get("/account").await;
        assert!(page.contains("Now add the rel=me link"), "{openid}: {page}");
        let address = Identity::parse(openid).unwrap().as_str().to_string();
        browser
            .submit(
                "/account",
                "/account/openids/verify",
                &[("address", &address)],
            )
            .await;
        let (_, page) = browser.get("/account").await;
        // Refused before any connection, and told in the same words as any other failure.
        assert!(
            page.contains("We could not read a page at"),
            "{openid}: {page}"
        );
        assert!(!page.contains(&format!("{address} is confirmed")));
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no connection was made");
}

#[tokio::test]
async fn the_domain_check_never_probes_a_private_address() {
    let dns = start_dns_server("example.test", &zone_head("example.test")).await;
    let dns_addr = dns.addr;
    let app = spawn_app_with(|c| {
        c.dns_servers = vec![dns_addr];
        c.allow_private_probe = false;
    })
    .await;
    let (port, hits) = counting_listener().await;
    dns.add_records(&format!(
        "loop4 IN A 127.0.0.1\n\
         _avatars._tcp.loop4 IN SRV 0 0 {port} loop4.example.test.\n\
         _avatars._tcp.literal IN SRV 0 0 {port} 127.0.0.1.\n\
         loop6 IN AAAA ::1\n\
         _avatars._tcp.loop6 IN SRV 0 0 {port} loop6.example.test.\n\
         metadata IN A 169.254.169.254\n\
         _avatars._tcp.metadata IN SRV 0 0 80 metadata.example.test.\n\
         ten IN A 10.0.0.1\n\
         _avatars._tcp.ten IN SRV 0 0 80 ten.example.test.\n\
         _avatars._tcp.local IN SRV 0 0 {port} localhost.\n\
         compat IN AAAA ::7f00:1\n\
         _avatars._tcp.compat IN SRV 0 0 {port} compat.example.test.\n\
         nat64 IN AAAA 64:ff9b::7f00:1\n\
         _avatars._tcp.nat64 IN SRV 0 0 {port} nat64.example.test.\n\
         bench IN A 198.18.0.1\n\
         _avatars._tcp.bench IN SRV 0 0 {port} bench.example.test.\n"
    ))
    .await;
    for (domain, address) in [
        ("loop4.example.test", "127.0.0.1"),
        ("literal.example.test", "127.0.0.1"),
        ("loop6.example.test", "::1"),
        ("metadata.example.test", "169.254.169.254"),
        ("ten.example.test", "10.0.0.1"),
        ("local.example.test", "127.0.0.1"),
        ("compat.example.test", "::7f00:1"),
        ("nat64.example.test", "64:ff9b::7f00:1"),
        ("bench.example.test", "198.18.0.1"),
    ] {
        let response = app.get(&format!("/tools/check.json?q={domain}")).await;
        assert_eq!(response.status(), 200, "{domain}");
        let report: Value = response.json().await.unwrap();
        let probe = &report["http"]["probe"];
        // Refused before any connection; the page tells only "no avatar server there".
        assert_eq!(probe["code"], "no_avatar_server", "{domain}: {report}");
        // Names in the test zone resolve there (`literal` and `local` name no zone host).
        let addresses = report["http"]["chosen"]["addresses"].to_string();
        assert!(
            addresses.contains(address) || domain.starts_with("l"),
            "{domain}: {addresses}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no connection was made");
}
