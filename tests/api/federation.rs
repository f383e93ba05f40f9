//! Federation: SRV discovery against a real DNS server on loopback, and the domain check.
//!
//! The zone `example.test` points `_avatars._tcp` and `_avatars-sec._tcp` at the test's own
//! Cameo (`avatars.example.test` → 127.0.0.1, port = the app's), so the check and a client's
//! discovery both end at the server under test.

use std::net::SocketAddr;

use cameo::config::GravatarMode;
use cameo::federation::Federation;
use cameo::outbound::Outbound;
use serde_json::Value;

use crate::dns_server::{TestDns, start_dns_server, zone_head};
use crate::helpers::*;

struct FederatedApp {
    app: TestApp,
    port: u16,
    _dns: TestDns,
}

/// Cameo using a loopback DNS server that serves `example.test`, with a red photo for
/// alice@example.test.
async fn spawn_federated_app(allow_private_probe: bool) -> FederatedApp {
    let dns = start_dns_server("example.test", &zone_head("example.test")).await;
    let dns_addr = dns.addr;
    let app = spawn_app_with(|c| {
        c.dns_servers = vec![dns_addr];
        c.allow_private_probe = allow_private_probe;
        c.gravatar_mode = GravatarMode::Off;
    })
    .await;
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    dns.add_records(&format!(
        "avatars IN A 127.0.0.1\n\
         _avatars._tcp IN SRV 0 0 {port} avatars.example.test.\n\
         _avatars-sec._tcp IN SRV 0 0 {port} avatars.example.test.\n\
         _avatars._tcp.norecords IN TXT \"no srv here\"\n\
         _avatars-sec._tcp.norecords IN TXT \"no srv here\"\n\
         _avatars._tcp.badtarget IN SRV 0 0 {port} _bad.example.test.\n\
         _avatars-sec._tcp.badtarget IN SRV 0 0 0 avatars.example.test.\n"
    ))
    .await;
    app.add_photo("alice@example.test", &png(&solid_photo(64, RED)))
        .await;
    FederatedApp {
        app,
        port,
        _dns: dns,
    }
}

async fn check_json(app: &TestApp, query: &str) -> (u16, Value) {
    let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let response = app.get(&format!("/tools/check.json?q={encoded}")).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

#[tokio::test]
async fn check_json_reports_records_server_address_urls_and_image() {
    let FederatedApp { app, port, .. } = spawn_federated_app(true).await;
    let (status, report) = check_json(&app, "Alice@Example.test").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["kind"], "email");
    assert_eq!(report["identity"], "alice@example.test");
    assert_eq!(report["domain"], "example.test");

    let http = &report["http"];
    assert_eq!(http["name"], "_avatars._tcp.example.test");
    assert_eq!(http["records"][0]["target"], "avatars.example.test.");
    assert_eq!(http["records"][0]["port"], port);
    assert_eq!(http["records"][0]["usable"], true);
    assert_eq!(http["chosen"]["source"], "srv");
    let base = format!("http://avatars.example.test:{port}");
    assert_eq!(http["chosen"]["base_url"], base.as_str());
    assert_eq!(http["chosen"]["addresses"][0], "127.0.0.1");
    let md5 = md5_of("alice@example.test");
    let sha256 = sha256_of("alice@example.test");
    assert_eq!(http["avatar_urls"][0]["algorithm"], "md5");
    assert_eq!(
        http["avatar_urls"][0]["url"],
        format!("{base}/avatar/{md5}")
    );
    assert_eq!(
        http["avatar_urls"][1]["url"],
        format!("{base}/avatar/{sha256}")
    );
    assert_eq!(
        http["probe"]["url"],
        format!("{base}/avatar/{md5}?d=404&s=80")
    );
    // The web report says only whether the server answers as an avatar server.
    assert_eq!(http["probe"]["code"], "avatar_server", "{report}");
    assert_eq!(http["probe"]["message"], "answers as an avatar server");
    assert_eq!(http["probe"]["status"], Value::Null);

    // The same server over https: the URL keeps the port, and a plain-http Cameo fails the
    // TLS probe; the page says no more than that (the operator's CLI says why).
    let https = &report["https"];
    assert_eq!(https["name"], "_avatars-sec._tcp.example.test");
    let secure_base = format!("https://avatars.example.test:{port}");
    assert_eq!(https["chosen"]["base_url"], secure_base.as_str());
    assert_eq!(
        https["avatar_urls"][1]["url"],
        format!("{secure_base}/avatar/{sha256}")
    );
    assert_eq!(https["probe"]["ok"], false);
    assert_eq!(https["probe"]["code"], "no_avatar_server", "{report}");
}

#[tokio::test]
async fn check_page_shows_the_report_as_html() {
    let FederatedApp { app, port, .. } = spawn_federated_app(true).await;
    let form = app.get("/tools/check").await;
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert!(form.contains(r#"<label for="q""#), "{form}");

    let response = app.get("/tools/check?q=alice%40example.test").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    let page = response.text().await.unwrap();
    for expected in [
        "_avatars._tcp.example.test",
        "_avatars-sec._tcp.example.test",
        "avatars.example.test.",
        &format!("http://avatars.example.test:{port}"),
        "127.0.0.1",
        &format!("/avatar/{}", md5_of("alice@example.test")),
        &format!("/avatar/{}", sha256_of("alice@example.test")),
        "answers as an avatar server",
    ] {
        assert!(page.contains(expected), "{expected} in:\n{page}");
    }
}

#[tokio::test]
async fn nxdomain_is_reported_in_plain_words_and_clients_fall_back() {
    let FederatedApp { app, .. } = spawn_federated_app(true).await;
    let (status, report) = check_json(&app, "bob@nosuch.example.test").await;
    assert_eq!(status, 200);
    let http = &report["http"];
    assert_eq!(http["failure"]["code"], "nxdomain");
    assert_eq!(
        http["failure"]["message"],
        "the name does not exist (NXDOMAIN)"
    );
    assert_eq!(http["records"], Value::Array(Vec::new()));
    assert_eq!(http["chosen"]["source"], "fallback");
    assert_eq!(http["chosen"]["base_url"], "http://cdn.libravatar.org");
    assert_eq!(
        report["https"]["chosen"]["base_url"],
        "https://seccdn.libravatar.org"
    );
    assert_eq!(http["probe"], Value::Null, "the fallback CDN is not probed");
    let page = app.get("/tools/check?q=nosuch.example.test").await;
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("the name does not exist (NXDOMAIN)")
    );
}

#[tokio::test]
async fn a_name_without_srv_records_is_reported() {
    let FederatedApp { app, .. } = spawn_federated_app(true).await;
    let (_, report) = check_json(&app, "norecords.example.test").await;
    assert_eq!(report["kind"], "domain");
    assert_eq!(report["http"]["failure"]["code"], "no_records");
    assert_eq!(
        report["http"]["failure"]["message"],
        "the name exists but has no SRV records"
    );
    assert_eq!(report["https"]["chosen"]["source"], "fallback");
}

#[tokio::test]
async fn unusable_targets_are_reported_and_clients_fall_back() {
    let FederatedApp { app, .. } = spawn_federated_app(true).await;
    let (_, report) = check_json(&app, "carol@badtarget.example.test").await;
    let http = &report["http"];
    assert_eq!(http["records"][0]["target"], "_bad.example.test.");
    assert_eq!(http["records"][0]["usable"], false);
    let problem = http["records"][0]["problem"].as_str().unwrap();
    assert!(problem.contains("not a host name"), "{problem}");
    assert_eq!(http["chosen"]["source"], "fallback");
    assert!(
        http["chosen"]["reason"]
            .as_str()
            .unwrap()
            .contains("unusable")
    );
    let https = &report["https"];
    assert_eq!(https["records"][0]["port"], 0);
    assert_eq!(https["records"][0]["usable"], false);
    assert!(
        https["chosen"]["reason"]
            .as_str()
            .unwrap()
            .contains("port 0")
    );
}

#[tokio::test]
async fn probing_a_private_address_is_refused_unless_allowed() {
    let FederatedApp { app, .. } = spawn_federated_app(false).await;
    let (_, report) = check_json(&app, "alice@example.test").await;
    let probe = &report["http"]["probe"];
    assert_eq!(probe["code"], "no_avatar_server", "{report}");
    // Where the server is, is DNS and public; why the probe failed is not told.
    assert_eq!(report["http"]["chosen"]["addresses"][0], "127.0.0.1");
}

#[tokio::test]
async fn a_refusing_dns_server_is_reported() {
    let FederatedApp { app, .. } = spawn_federated_app(true).await;
    // The test server is authoritative for example.test only and refuses anything else.
    let (_, report) = check_json(&app, "elsewhere.test").await;
    assert_eq!(
        report["http"]["failure"]["code"], "server_failure",
        "{report}"
    );
    let message = report["http"]["failure"]["message"].as_str().unwrap();
    assert!(message.contains("REFUSED"), "{message}");
}

#[tokio::test]
async fn a_silent_dns_server_is_reported_as_a_timeout_within_seconds() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let app = spawn_app_with(|c| c.dns_servers = vec![silent_addr]).await;
    let started = std::time::Instant::now();
    let (status, report) = check_json(&app, "example.test").await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed().as_secs_f64() < 4.0,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(report["http"]["failure"]["code"], "timeout", "{report}");
    assert_eq!(
        report["http"]["failure"]["message"],
        "the DNS server did not answer in time"
    );
}

#[tokio::test]
async fn bad_queries_get_400_with_a_reason() {
    let app = spawn_app().await;
    let too_long = format!("{}.example", "a".repeat(600));
    for (query, code) in [
        ("", "empty_query"),
        ("exa mple.org", "invalid_domain"),
        ("alice@", "invalid_address"),
        (too_long.as_str(), "query_too_long"),
    ] {
        let (status, body) = check_json(&app, query).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["code"], code, "{query}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let missing = app.get("/tools/check.json").await;
    assert_eq!(missing.status(), 400);
    let page = app.get("/tools/check?q=exa+mple.org").await;
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("is not a domain name"));
}

#[tokio::test]
async fn an_email_resolved_as_a_client_would_is_served_by_cameo() {
    let FederatedApp { app, port, .. } = spawn_federated_app(true).await;
    let outbound = Outbound::new(std::time::Duration::from_secs(2), true).unwrap();
    let federation = Federation::new(&app.config, outbound).unwrap();
    let base = federation.discover("example.test", false).await;
    assert_eq!(base, Some(format!("http://avatars.example.test:{port}")));
    assert_eq!(
        federation.discover("example.test", true).await,
        Some(format!("https://avatars.example.test:{port}"))
    );
    assert_eq!(
        federation.discover("nosuch.example.test", false).await,
        None
    );
    assert_eq!(
        federation
            .discover_or_fallback("nosuch.example.test", true)
            .await,
        "https://seccdn.libravatar.org"
    );

    // The client resolves the SRV target's A record through the same DNS and connects there.
    let addresses = federation
        .resolver
        .lookup_addresses("avatars.example.test")
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .resolve("avatars.example.test", SocketAddr::new(addresses[0], port))
        .build()
        .unwrap();
    let base = base.unwrap();
    for hash in [
        md5_of("alice@example.test"),
        sha256_of("alice@example.test"),
    ] {
        let response = client
            .get(format!("{base}/avatar/{hash}?s=32"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let image = decode(response).await;
        assert_eq!(image.dimensions(), (32, 32));
        assert!(
            near(image.get_pixel(16, 16), RED, 8),
            "the added photo's colour"
        );
    }
}

#[tokio::test]
async fn check_domain_cli_prints_json_and_text() {
    let FederatedApp { app, .. } = spawn_federated_app(true).await;
    let dns = app.config.dns_servers[0].to_string();
    let dir = app.dir.path().to_path_buf();
    let run = move |args: Vec<String>| {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cameo(&dir, &args, &[])
        })
    };
    let args = |extra: &[&str]| -> Vec<String> {
        let mut all = vec!["check-domain", "alice@example.test", "--dns", &dns];
        all.extend_from_slice(extra);
        all.extend_from_slice(&["--set", "allow_private_probe=true"]);
        all.into_iter().map(String::from).collect()
    };

    let output = run(args(&["--json"])).await.unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(report["domain"], "example.test");
    assert_eq!(
        report["http"]["records"][0]["target"],
        "avatars.example.test."
    );
    assert_eq!(report["http"]["probe"]["code"], "image", "{report}");

    let output = run(args(&[])).await.unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("_avatars._tcp.example.test"), "{text}");
    assert!(text.contains("OK: serves an image"), "{text}");

    let bad = run(vec!["check-domain".into(), "exa mple.org".into()])
        .await
        .unwrap();
    assert!(!bad.status.success());
    let reason = stderr(&bad);
    assert_eq!(reason.trim().lines().count(), 1, "{reason}");
    assert!(reason.contains("is not a domain name"), "{reason}");
}
