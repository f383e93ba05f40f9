//! Attacks on the paths that make Cameo connect to somebody else's host and port (issue 13,
//! points 9 and 10), performed against the real server on loopback:
//! - a burst of domain checks past the client's outbound probe budget is refused (429 with
//!   `Retry-After`), another client keeps its own budget, and the lookup API shares it;
//! - a refused port and a port that never answers read exactly the same in
//!   `/tools/check.json` and in the lookup API, so neither is a port scanner;
//! - an OpenID page built to panic the old `rel="me"` scanner is answered normally.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::browser::Browser;
use crate::dns_server::{TestDns, start_dns_server, zone_head};
use crate::helpers::*;

/// The budget used here: small, so a burst crosses it quickly.
const BUDGET: u32 = 5;

/// Cameo behind a trusted proxy on loopback (so `X-Forwarded-For` names the client), using
/// a loopback DNS server for `example.test`.
async fn spawn_probing_app(budget: u32) -> (TestApp, TestDns) {
    let dns = start_dns_server("example.test", &zone_head("example.test")).await;
    let dns_addr = dns.addr;
    let app = spawn_app_with(|c| {
        c.dns_servers = vec![dns_addr];
        c.allow_private_probe = true;
        c.outbound_probe_limit = budget;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    (app, dns)
}

async fn get_from(app: &TestApp, client: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .header("x-forwarded-for", client)
        .send()
        .await
        .expect("request sent")
}

#[tokio::test]
async fn a_burst_of_checks_past_the_budget_is_refused_and_clients_have_their_own() {
    let (app, _dns) = spawn_probing_app(BUDGET).await;
    let app = Arc::new(app);
    let burst = (0..BUDGET * 3).map(|i| {
        let app = app.clone();
        tokio::spawn(async move {
            // Names without records: NXDOMAIN from the test DNS, no connection.
            let path = format!("/tools/check.json?q=nothing{i}.example.test");
            let response = get_from(&app, "203.0.113.5", &path).await;
            let retry_after = header(&response, "retry-after");
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("JSON");
            (status, retry_after, body)
        })
    });
    let answers = futures_util::future::join_all(burst).await;
    let mut allowed = 0;
    let mut refused = 0;
    for answer in answers {
        let (status, retry_after, body) = answer.expect("request task");
        match status {
            200 => allowed += 1,
            429 => {
                refused += 1;
                assert_eq!(body["code"], "rate_limit_exceeded", "{body}");
                let seconds: u64 = retry_after.parse().expect("Retry-After seconds");
                assert!((1..=3600).contains(&seconds), "{seconds}");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((allowed, refused), (BUDGET, BUDGET * 2));

    // The HTML page spends the same budget.
    let page = get_from(&app, "203.0.113.5", "/tools/check?q=example.test").await;
    assert_eq!(page.status(), 429);
    assert!(!header(&page, "retry-after").is_empty());
    let html = page.text().await.unwrap();
    assert!(html.contains("too many checks"), "{html}");

    // A bad query costs nothing and is still told as such.
    let bad = get_from(&app, "203.0.113.5", "/tools/check.json?q=exa%20mple").await;
    assert_eq!(bad.status(), 400);

    // Another client has its whole budget.
    let other = get_from(&app, "198.51.100.7", "/tools/check.json?q=example.test").await;
    assert_eq!(other.status(), 200);

    // The lookup API asking the domain's server spends the same budget.
    let lookup = get_from(
        &app,
        "203.0.113.5",
        "/api/v1/lookup?email=a%40elsewhere.example.test&providers=libravatar",
    )
    .await;
    assert_eq!(lookup.status(), 429);
    let body: Value = lookup.json().await.unwrap();
    assert_eq!(body["code"], "rate_limit_exceeded", "{body}");
    // A lookup that stays local does not.
    let local = get_from(
        &app,
        "203.0.113.5",
        "/api/v1/lookup?email=a%40elsewhere.example.test&providers=local",
    )
    .await;
    assert_eq!(local.status(), 404);
}

/// A port that accepts connections and never answers, and how many it accepted.
async fn silent_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (port, accepted)
}

/// A port nothing listens on (bound, then closed): connections are refused.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The report with what legitimately differs between the two domains blanked: names, ports
/// and URLs (DNS facts, public), and the timing of the lookup API.
fn without_names(mut value: Value) -> String {
    for service in ["http", "https"] {
        let report = &mut value[service];
        for key in ["name", "records", "chosen", "avatar_urls"] {
            report[key] = Value::Null;
        }
        report["probe"]["url"] = Value::Null;
    }
    value["query"] = Value::Null;
    value["domain"] = Value::Null;
    value["identity"] = Value::Null;
    value.to_string()
}

#[tokio::test]
async fn a_refused_port_and_a_silent_port_read_the_same() {
    let (app, dns) = spawn_probing_app(100).await;
    let (silent, accepted) = silent_listener().await;
    let refused = closed_port();
    dns.add_records(&format!(
        "host IN A 127.0.0.1\n\
         _avatars._tcp.refused IN SRV 0 0 {refused} host.example.test.\n\
         _avatars-sec._tcp.refused IN SRV 0 0 {refused} host.example.test.\n\
         _avatars._tcp.silent IN SRV 0 0 {silent} host.example.test.\n\
         _avatars-sec._tcp.silent IN SRV 0 0 {silent} host.example.test.\n"
    ))
    .await;
    let check = |domain: &'static str| {
        let app = &app;
        async move {
            let response =
                get_from(app, "203.0.113.5", &format!("/tools/check.json?q={domain}")).await;
            assert_eq!(response.status(), 200, "{domain}");
            response.json::<Value>().await.expect("JSON")
        }
    };
    let (refused_report, silent_report) =
        tokio::join!(check("refused.example.test"), check("silent.example.test"));
    assert!(
        accepted.load(Ordering::SeqCst) >= 1,
        "the silent port was reached"
    );
    assert_eq!(refused_report["http"]["probe"]["code"], "no_avatar_server");
    assert_eq!(
        without_names(refused_report.clone()),
        without_names(silent_report)
    );
    let shown = without_names(refused_report).to_ascii_lowercase();
    for telltale in ["refused", "timed out", "timeout", "connection", "3 seconds"] {
        assert!(!shown.contains(telltale), "{telltale} in {shown}");
    }

    // The lookup API tells no more: both are `error`, with the same status and body.
    let lookup = |domain: &'static str| {
        let app = &app;
        async move {
            let path = format!("/api/v1/lookup?email=a%40{domain}&providers=libravatar");
            let response = get_from(app, "203.0.113.5", &path).await;
            let status = response.status().as_u16();
            let mut body: Value = response.json().await.expect("JSON");
            body["tried"][0]["ms"] = Value::Null;
            (status, body)
        }
    };
    let (refused_answer, silent_answer) = tokio::join!(
        lookup("refused.example.test"),
        lookup("silent.example.test")
    );
    assert_eq!(refused_answer, silent_answer);
    assert_eq!(refused_answer.0, 502, "{:?}", refused_answer.1);
    assert_eq!(refused_answer.1["tried"][0]["outcome"], "error");
}

#[tokio::test]
async fn an_openid_page_that_panicked_the_old_scanner_is_answered() {
    let (app, smtp) = spawn_app_with_mail(|c| c.allow_private_probe = true).await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "fuzzed@example.org")
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 2048];
            let _ = socket.read(&mut request).await;
            // An unclosed tag ending inside a multi-byte character.
            let body = "<html><a rel=me href=x é".as_bytes();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            socket.write_all(head.as_bytes()).await.ok();
            socket.write_all(body).await.ok();
        }
    });
    let openid = format!("http://127.0.0.1:{port}/me");
    let (status, _, _) = browser
        .submit("/account", "/account/openids", &[("openid", &openid)])
        .await;
    assert_eq!(status, 303);
    for _ in 0..3 {
        let (status, _, _) = browser
            .submit(
                "/account",
                "/account/openids/verify",
                &[("address", &openid)],
            )
            .await;
        assert_eq!(status, 303, "answered, not a dropped connection or a 500");
        let (_, page) = browser.get("/account").await;
        assert!(page.contains("has no rel=me link"), "{page}");
    }
    assert_eq!(app.get("/healthz").await.status(), 200);
}
