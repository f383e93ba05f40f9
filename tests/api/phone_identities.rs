//! Phone numbers as identities (the CLI adds and removes them, `/avatar/SHA256(E.164)` serves
//! them), Green API as a lookup provider (seed 004: its answers and reasons, the token in the
//! path, groups), `/api/v1/providers`, and the gateways' credentials kept out of the server's
//! log, `/metrics`, error bodies and `cameo config`.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::*;
use crate::phone_gateways::{
    INSTANCE, PASSWORD, TOKEN, USER, lookup, sha256_hex, use_gowa, use_greenapi,
};
use crate::whatsapp_fakes::{Mode, Picture, start_gowa, start_greenapi};

const GREEN: [u8; 3] = [10, 190, 40];

#[tokio::test]
async fn the_cli_adds_and_removes_phone_numbers_served_under_sha256_of_e164() {
    let app = spawn_app().await;
    let photo = temp_file(app.dir.path(), "p.png", &png(&solid_photo(64, GREEN)));
    let photo = photo.to_str().unwrap();
    let added = app.cameo(&["add", "15551234567@c.us", "--photo", photo]);
    assert!(added.status.success(), "{}", stderr(&added));
    app.noticed_another_process().await;
    let hash = sha256_hex("+15551234567");
    let image = decode(app.get(&format!("/avatar/{hash}?s=24")).await).await;
    assert_eq!(image.dimensions(), (24, 24));
    assert!(near(image.get_pixel(12, 12), GREEN, 8));
    let listed = stdout(&app.cameo(&["list", "--json"]));
    assert!(
        listed.contains("\"+15551234567\"") && listed.contains("\"phone\""),
        "{listed}"
    );

    // A national number needs the default region.
    let refused = app.cameo(&["remove", "(555) 123-4567"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("needs a country"),
        "{}",
        stderr(&refused)
    );
    let removed = run_cameo(
        app.dir.path(),
        &["remove", "(555) 123-4567"],
        &[("CAMEO_PHONE_DEFAULT_REGION", "US")],
    );
    assert!(removed.status.success(), "{}", stderr(&removed));
    app.noticed_another_process().await;
    assert_eq!(
        app.get(&format!("/avatar/{hash}?d=404")).await.status(),
        404
    );
}

#[tokio::test]
async fn local_answers_first_and_a_gateway_never_replaces_the_operators_photo() {
    let fake = start_gowa(USER, PASSWORD, None);
    fake.set_picture(
        "15551234567@c.us",
        Some(Picture {
            id: 1,
            colour: [200, 0, 0],
        }),
    );
    let app = spawn_app_with(|c| use_gowa(c, &fake, PASSWORD)).await;
    app.add_photo("+1 555 123 4567", &png(&solid_photo(48, GREEN)))
        .await;
    let (status, body) = lookup(&app, "phone=%2B15551234567").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"]["name"], "local");
    assert_eq!(fake.calls(), 0);
    // Asked directly, the gateway finds the picture, but the operator's photo stays.
    let (status, _) = lookup(&app, "phone=%2B15551234567&providers=gowa").await;
    assert_eq!(status, 200);
    assert_eq!(fake.picture_fetches(), 0);
    let hash = sha256_hex("+15551234567");
    let image = decode(app.get(&format!("/avatar/{hash}?s=16")).await).await;
    assert!(near(image.get_pixel(8, 8), GREEN, 8));
}

#[tokio::test]
async fn green_api_pictures_are_kept_and_its_reasons_are_errors_and_timeouts() {
    let fake = start_greenapi(INSTANCE, TOKEN);
    fake.set_picture(
        "15551234567@c.us",
        Some(Picture {
            id: 0,
            colour: GREEN,
        }),
    );
    let app = spawn_app_with(|c| use_greenapi(c, &fake, TOKEN)).await;
    let body =
        serde_json::json!({ "phone": "15551234567@s.whatsapp.net", "providers": "greenapi" });
    let response = app
        .client
        .post(format!("{}/api/v1/lookup", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let hash = sha256_hex("+15551234567");
    assert_eq!(body["image"], format!("{}/avatar/{hash}", app.base));
    assert_eq!(body["source"]["name"], "greenapi");
    assert_eq!(*fake.state.last_asked.lock().unwrap(), "15551234567@c.us");
    assert_eq!(
        reqwest::get(&fake.issued_urls()[0]).await.unwrap().status(),
        403
    );
    let image = decode(app.get(&format!("/avatar/{hash}?s=20")).await).await;
    assert!(near(image.get_pixel(10, 10), GREEN, 8));

    // An empty urlAvatar: no avatar.
    let (status, body) = lookup(&app, "phone=%2B15557654321&providers=greenapi").await;
    assert_eq!(status, 404, "{body}");
    // The seed's reasons (HTTP 200) and a broken body.
    let cases = [
        (Mode::BadRequest, 502, "error"),
        (Mode::ServerError, 504, "timeout"),
        (Mode::Broken, 502, "error"),
    ];
    for (n, (mode, status, outcome)) in cases.into_iter().enumerate() {
        fake.set_mode(mode);
        let query = format!("phone=%2B1555000000{n}&providers=greenapi");
        let (got, body) = lookup(&app, &query).await;
        assert_eq!(got, status, "{mode:?}: {body}");
        assert_eq!(body["tried"][0]["outcome"], outcome, "{mode:?}");
    }
}

/// Green API gives no picture id: the bytes' SHA-256 tells an unchanged picture, which is
/// fetched (its URL is new each time) but not stored again.
#[tokio::test]
async fn an_unchanged_green_api_picture_is_told_by_its_bytes_and_not_stored_again() {
    let fake = start_greenapi(INSTANCE, TOKEN);
    fake.set_picture(
        "15551234567@c.us",
        Some(Picture {
            id: 0,
            colour: GREEN,
        }),
    );
    let ttl = Duration::from_millis(200);
    let app = spawn_app_with(|c| {
        use_greenapi(c, &fake, TOKEN);
        c.gateways.positive_ttl = ttl;
    })
    .await;
    let stored_at = || {
        count(
            &app.operator,
            "SELECT updated_at * 1000000 + photo_id FROM addresses WHERE address = '+15551234567'",
        )
    };
    assert_eq!(lookup(&app, "phone=%2B15551234567").await.0, 200);
    let first = stored_at().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(lookup(&app, "phone=%2B15551234567").await.0, 200);
    assert_eq!((fake.calls(), fake.picture_fetches()), (2, 2));
    assert_eq!(
        stored_at().await,
        first,
        "same bytes: the row is not written again"
    );
    let kept = count(
        &app.operator,
        "SELECT COUNT(*) FROM addresses WHERE photo_source = 'greenapi'",
    );
    assert_eq!(kept.await, 1);
}

#[tokio::test]
async fn green_api_checks_its_token_and_group_chats_go_to_the_gateways_only() {
    let wrong = start_greenapi(INSTANCE, "someothertoken");
    let app = spawn_app_with(|c| use_greenapi(c, &wrong, TOKEN)).await;
    let (status, body) = lookup(&app, "phone=%2B15551234567&providers=greenapi").await;
    assert_eq!(status, 502, "{body}");
    assert!(!body.to_string().contains(TOKEN));

    let fake = start_greenapi(INSTANCE, TOKEN);
    let group = "11001234567-1581234048@g.us";
    fake.set_picture(
        group,
        Some(Picture {
            id: 0,
            colour: GREEN,
        }),
    );
    let app = spawn_app_with(|c| use_greenapi(c, &fake, TOKEN)).await;
    let query = format!("phone={}", group.replace('@', "%40"));
    let (status, body) = lookup(&app, &query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["phone_hash"]["sha256"], sha256_hex(group));
    assert_eq!(body["tried"][0]["provider"], "gowa");
    assert_eq!(body["tried"][0]["outcome"], "disabled");
    let image = decode(
        app.get(&format!("/avatar/{}?s=16", sha256_hex(group)))
            .await,
    )
    .await;
    assert!(near(image.get_pixel(8, 8), GREEN, 8));
    let (status, body) = lookup(&app, &format!("{query}&providers=local")).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid_providers");
    let (status, body) = lookup(&app, "phone=12%40example.org").await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid_phone");
}

#[tokio::test]
async fn providers_describe_both_gateways_with_their_pacing() {
    let fake = start_gowa(USER, PASSWORD, None);
    let app = spawn_app_with(|c| use_gowa(c, &fake, PASSWORD)).await;
    let list: serde_json::Value = app.get("/api/v1/providers").await.json().await.unwrap();
    assert_eq!(
        list["phone_default_order"],
        serde_json::json!(["local", "gowa", "greenapi"])
    );
    let gateways: Vec<&serde_json::Value> = list["providers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["looks_up"].as_array().unwrap().contains(&"group".into()))
        .collect();
    assert_eq!(gateways.len(), 2);
    assert_eq!(
        (
            gateways[0]["name"].as_str(),
            gateways[0]["enabled"].as_bool()
        ),
        (Some("gowa"), Some(true))
    );
    assert_eq!(
        (
            gateways[1]["name"].as_str(),
            gateways[1]["enabled"].as_bool()
        ),
        (Some("greenapi"), Some(false))
    );
    assert_eq!(gateways[0]["pacing"]["found_ttl_s"], 21600);
    assert_eq!(gateways[0]["pacing"]["not_found_ttl_s"], 900);
    assert!(
        !list.to_string().contains(&fake.base),
        "the gateway's address stays private"
    );
}

/// The real binary, configured through the environment, with both gateways refusing its
/// credentials and failing in every documented way: nothing it writes or serves holds them.
#[tokio::test]
async fn gateway_credentials_stay_out_of_the_log_metrics_errors_and_config() {
    cameo::outbound::install_tls_provider();
    let gowa = start_gowa(USER, "not-what-cameo-sends", None);
    let greenapi = start_greenapi(INSTANCE, "notwhatcameosends");
    greenapi.set_mode(Mode::BadRequest);
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("CAMEO_GOWA_URL", gowa.base.as_str()),
        ("CAMEO_GOWA_USERNAME", USER),
        ("CAMEO_GOWA_PASSWORD", PASSWORD),
        ("CAMEO_GREENAPI_URL", greenapi.base.as_str()),
        ("CAMEO_GREENAPI_INSTANCE_ID", INSTANCE),
        ("CAMEO_GREENAPI_TOKEN", TOKEN),
        ("CAMEO_ALLOW_PRIVATE_PROBE", "true"),
        ("CAMEO_GATEWAY_MIN_INTERVAL_MS", "0"),
        ("CAMEO_GRAVATAR_MODE", "off"),
        ("CAMEO_LIBRAVATAR_FALLBACK", ""),
    ];
    let database_url = crate::postgres::database_url_for(dir.path());
    let mut server = Command::new(env!("CARGO_BIN_EXE_cameo"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--bind", "127.0.0.1:0", "serve"])
        .env("RUST_LOG", "debug")
        .env("CAMEO_DATABASE_URL", &database_url)
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut log = server.stderr.take().unwrap();
    let (lines, port) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let mut buffer = [0u8; 4096];
        let mut sent = false;
        while let Ok(n) = log.read(&mut buffer) {
            if n == 0 {
                break;
            }
            text.extend_from_slice(&buffer[..n]);
            let so_far = String::from_utf8_lossy(&text);
            if let (false, Some(rest)) = (sent, so_far.split("port=").nth(1)) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if !digits.is_empty() && rest.len() > digits.len() {
                    sent = lines.send(digits).is_ok();
                }
            }
        }
        String::from_utf8_lossy(&text).into_owned()
    });
    let Ok(port) = port.recv_timeout(Duration::from_secs(20)) else {
        let _ = server.kill();
        panic!("the server logged no port: {}", reader.join().unwrap());
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut bodies = String::new();
    let queries = [
        ("phone=%2B15551234567", 404),
        ("phone=%2B15557654321&providers=greenapi,gowa", 502),
    ];
    for (query, status) in queries {
        let response = client
            .get(format!("{base}/api/v1/lookup?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        bodies.push_str(&response.text().await.unwrap());
    }
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let metrics = metrics.text().await.unwrap();
    for series in [
        "cameo_whatsapp_gateway_calls_total{gateway=\"gowa\"} 2",
        "cameo_whatsapp_gateway_calls_total{gateway=\"greenapi\"} 2",
    ] {
        assert!(
            metrics.contains(series),
            "{series} missing from:\n{metrics}"
        );
    }
    bodies.push_str(&metrics);
    let config = run_cameo(dir.path(), &["config"], &env);
    assert!(config.status.success(), "{}", stderr(&config));
    let printed = stdout(&config);
    assert!(printed.contains("gowa_password = \"(set)\""), "{printed}");
    assert!(printed.contains("greenapi_token = \"(set)\""), "{printed}");
    let _ = server.kill();
    let _ = server.wait();
    let log = reader.join().unwrap();
    crate::postgres::drop_database_for(dir.path());

    assert!(
        log.contains("WhatsApp gateway lookup failed"),
        "the log was read: {log}"
    );
    assert_eq!((gowa.calls(), greenapi.calls()), (2, 2));
    for place in [&log, &bodies, &printed] {
        for secret in [PASSWORD, TOKEN] {
            assert!(!place.contains(secret), "{secret} leaked into: {place}");
        }
    }
}
