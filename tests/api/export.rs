//! `cameo export` and `cameo import-export`: a round trip into a fresh server (same logins,
//! same pixels, profile kept), a second run that changes nothing, an ivatar XML export, the
//! never-take-another-account's-address rule, and files that are refused.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest as _, Sha256};

use crate::browser::{Browser, PASSWORD, id_after};
use crate::helpers::*;

const GREEN: [u8; 3] = [0, 160, 0];

/// Runs the `cameo` binary off the async thread, so the in-process server keeps serving.
async fn cameo_in(dir: &Path, args: &[&str]) -> std::process::Output {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_cameo(&dir, &args, &[])
    })
    .await
    .expect("cameo ran")
}

/// Logs in with a fresh cookie jar; the status of the login POST (303 = in).
async fn log_in(app: &TestApp, email: &str, password: &str) -> u16 {
    let browser = Browser::new(app);
    let csrf = browser.csrf_from("/login").await;
    let (status, _, _) = browser
        .post(
            "/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await;
    status
}

async fn avatar(app: &TestApp, hash: &str) -> (u16, Vec<u8>) {
    let response = app.get(&format!("/avatar/{hash}?s=64&d=404")).await;
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

fn pixels(bytes: &[u8]) -> image::RgbaImage {
    image::load_from_memory(bytes)
        .expect("decodes")
        .into_rgba8()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn openid_hash(url: &str) -> String {
    cameo::identity::Identity::parse(url).unwrap().digests()[0].to_hex()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_keeps_logins_profiles_and_pixels() {
    let (source, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&source);
    browser
        .sign_up_and_confirm(&smtp, "alice@example.org")
        .await;
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
    let alice = cameo::store::users::by_email(&source.operator, "alice@example.org")
        .await
        .unwrap()
        .expect("alice");
    let profile = cameo::store::profiles::Profile {
        public: true,
        display_name: "Alice A.".into(),
        about: "Avatars, mostly.".into(),
        links: vec![cameo::store::profiles::ProfileLink {
            label: "Blog".into(),
            url: "https://alice.example.org/".into(),
        }],
        details: cameo::store::profiles::ProfileDetails {
            location: "Leeds".into(),
            pronouns: "she/her".into(),
            ..Default::default()
        },
    };
    cameo::store::profiles::save(&source.operator, alice.id, &profile)
        .await
        .unwrap();
    source
        .add_photo("operator@example.org", &png(&solid_photo(50, GREEN)))
        .await;

    let file = source.dir.path().join("everyone.json");
    let exported = cameo_in(source.dir.path(), &["export", file.to_str().unwrap()]).await;
    assert!(exported.status.success(), "{}", stderr(&exported));
    assert!(stderr(&exported).contains("exported 1 accounts, 2 addresses, 2 photos"));
    // It holds password hashes: owner-only whatever the umask.
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with(r#"{"format":"cameo-export","version":1,"exported_at":"#));
    assert!(
        !text.contains("session") && !text.contains("csrf"),
        "no sessions"
    );

    let target = spawn_app().await;
    let imported = cameo_in(
        target.dir.path(),
        &["import-export", file.to_str().unwrap()],
    )
    .await;
    let lines = stdout(&imported);
    assert!(imported.status.success(), "{lines}{}", stderr(&imported));
    assert!(
        lines.contains("imported  alice@example.org: 1 address(es), 1 photo(s), profile written"),
        "{lines}"
    );
    assert!(
        lines.contains("1 imported, 1 updated, 0 unchanged, 0 skipped"),
        "{lines}"
    );
    target.noticed_another_process().await;

    assert_eq!(log_in(&target, "alice@example.org", PASSWORD).await, 303);
    assert_eq!(
        log_in(&target, "alice@example.org", "not the password").await,
        401
    );
    for hash in [
        md5_of("alice@example.org"),
        sha256_of("alice@example.org"),
        md5_of("operator@example.org"),
    ] {
        let (status, before) = avatar(&source, &hash).await;
        let (status_after, after) = avatar(&target, &hash).await;
        assert_eq!((status, status_after), (200, 200), "{hash}");
        assert_eq!(pixels(&before), pixels(&after), "{hash}: pixel-identical");
    }
    let moved = cameo::store::users::by_email(&target.operator, "alice@example.org")
        .await
        .unwrap()
        .expect("alice is here");
    assert_eq!(moved.password_hash, alice.password_hash);
    assert_eq!(
        cameo::store::profiles::load(&target.operator, moved.id)
            .await
            .unwrap(),
        profile
    );

    let again = cameo_in(
        target.dir.path(),
        &["import-export", file.to_str().unwrap()],
    )
    .await;
    let lines = stdout(&again);
    assert!(again.status.success(), "{lines}");
    assert!(lines.contains("unchanged alice@example.org"), "{lines}");
    assert!(
        lines.contains("0 imported, 0 updated, 2 unchanged, 0 skipped"),
        "{lines}"
    );
}

fn ivatar_export(photo: &[u8]) -> Vec<u8> {
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><user xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="https://www.libravatar.org/schemas/export/0.2 https://www.libravatar.org/schemas/export/0.2/export.xsd" xmlns="https://www.libravatar.org/schemas/export/0.2">
  <account username="ivy" password="pbkdf2_sha256$600000$salt$hash"/>
  <emails>
    <email photo_id="5">Ivy@Example.org</email>
    <email photo_id="None">ivy@other.example</email>
  </emails>
  <openids>
    <openid photo_id="5">https://ivy.example.org/</openid>
  </openids>
  <photos>
    <photo id="5" encoding="base64" format="png">b'{}'</photo>
  </photos>
</user>
"#,
        BASE64.encode(photo)
    );
    let mut zipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    zipped.write_all(xml.as_bytes()).unwrap();
    zipped.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ivatar_export_becomes_an_account_without_a_usable_password() {
    let app = spawn_app().await;
    let file = temp_file(
        app.dir.path(),
        "libravatar-export_ivy.xml.gz",
        &ivatar_export(&png(&solid_photo(32, RED))),
    );
    let output = cameo_in(app.dir.path(), &["import-export", file.to_str().unwrap()]).await;
    let lines = stdout(&output);
    assert!(output.status.success(), "{lines}{}", stderr(&output));
    assert!(
        lines.contains("imported  ivy@example.org: 3 address(es), 1 photo(s) written"),
        "{lines}"
    );
    app.noticed_another_process().await;
    for hash in [
        md5_of("ivy@example.org"),
        openid_hash("https://ivy.example.org/"),
    ] {
        let (status, bytes) = avatar(&app, &hash).await;
        assert_eq!(status, 200, "{hash}");
        let image = pixels(&bytes);
        assert_eq!(image.dimensions(), (64, 64));
        assert!(image.pixels().all(|p| near(p, RED, 2)), "the ivatar photo");
    }
    assert_eq!(avatar(&app, &md5_of("ivy@other.example")).await.0, 404);
    assert_eq!(
        log_in(&app, "ivy@example.org", "pbkdf2_sha256$600000$salt$hash").await,
        401
    );
    assert_eq!(log_in(&app, "ivy@example.org", "").await, 401);

    let again = cameo_in(app.dir.path(), &["import-export", file.to_str().unwrap()]).await;
    assert!(again.status.success());
    assert!(
        stdout(&again).contains("unchanged ivy@example.org"),
        "{}",
        stdout(&again)
    );
}

/// A one-account export document written by hand, with one photo shown by every address.
fn document(email: &str, addresses: &[&str], photo: &[u8]) -> String {
    let digest = sha256_hex(photo);
    let addresses: Vec<serde_json::Value> = addresses
        .iter()
        .map(|a| serde_json::json!({"kind": "email", "address": a, "confirmed": true, "photo": digest}))
        .collect();
    serde_json::json!({
        "format": "cameo-export", "version": 1, "exported_at": 0,
        "accounts": [{
            "email": email, "password_hash": null, "created_at": 1,
            "addresses": addresses,
            "photos": [{"digest": digest, "format": "png", "data": BASE64.encode(photo)}],
        }],
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_accounts_or_the_operators_address_is_never_taken() {
    let app = spawn_app().await;
    let operator_photo = png(&solid_photo(20, GREEN));
    app.add_photo("taken@example.org", &operator_photo).await;
    let first = temp_file(
        app.dir.path(),
        "dave.json",
        document(
            "dave@example.org",
            &["dave@example.org", "shared@example.org"],
            &png(&solid_photo(20, BLUE)),
        )
        .as_bytes(),
    );
    let output = cameo_in(app.dir.path(), &["import-export", first.to_str().unwrap()]).await;
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );

    let second = temp_file(
        app.dir.path(),
        "erin.json",
        document(
            "erin@example.org",
            &[
                "erin@example.org",
                "shared@example.org",
                "taken@example.org",
            ],
            &png(&solid_photo(20, RED)),
        )
        .as_bytes(),
    );
    let output = cameo_in(app.dir.path(), &["import-export", second.to_str().unwrap()]).await;
    let lines = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a skip is a failure: {lines}{}",
        stderr(&output)
    );
    assert!(
        lines.contains("skipped address shared@example.org: held by another account here"),
        "{lines}"
    );
    assert!(
        lines.contains("address taken@example.org: held by the operator here (cameo add)"),
        "{lines}"
    );
    assert!(
        lines.contains("1 imported, 0 updated, 0 unchanged, 0 skipped; 2 address"),
        "{lines}"
    );
    app.noticed_another_process().await;
    for (address, colour) in [
        ("shared@example.org", BLUE),
        ("taken@example.org", GREEN),
        ("erin@example.org", RED),
    ] {
        let (status, bytes) = avatar(&app, &md5_of(address)).await;
        assert_eq!(status, 200, "{address}");
        assert!(
            pixels(&bytes).pixels().all(|p| near(p, colour, 2)),
            "{address}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_and_foreign_files_are_refused_with_reasons() {
    let app = spawn_app().await;
    let dir = app.dir.path();
    let garbage = temp_file(dir, "notes.txt", b"dear diary");
    let output = cameo_in(dir, &["import-export", garbage.to_str().unwrap()]).await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("neither a Cameo export"),
        "{}",
        stderr(&output)
    );

    let future = temp_file(
        dir,
        "future.json",
        br#"{"format":"cameo-export","version":7,"accounts":[]}"#,
    );
    let output = cameo_in(dir, &["import-export", future.to_str().unwrap()]).await;
    assert!(!output.status.success());
    assert!(stderr(&output).contains("version 7"), "{}", stderr(&output));

    let missing = cameo_in(dir, &["import-export", "/nonexistent/export.json"]).await;
    assert!(stderr(&missing).contains("cannot read /nonexistent/export.json"));

    // A photo whose bytes were changed in transit, and one that is not an image at all.
    let photo = png(&solid_photo(20, RED));
    let mut damaged = serde_json::from_str::<serde_json::Value>(&document(
        "fay@example.org",
        &["fay@example.org"],
        &photo,
    ))
    .unwrap();
    let text = b"#!/bin/sh\necho not a picture\n";
    damaged["accounts"][0]["photos"][0]["data"] = BASE64.encode(&photo[..photo.len() - 1]).into();
    damaged["accounts"][0]["photos"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"digest": sha256_hex(text), "format": "png", "data": BASE64.encode(text)}));
    let file = temp_file(dir, "damaged.json", damaged.to_string().as_bytes());
    let output = cameo_in(dir, &["import-export", file.to_str().unwrap()]).await;
    let lines = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{lines}{}", stderr(&output));
    assert!(lines.contains("does not match its digest"), "{lines}");
    assert!(lines.contains("not an image Cameo reads"), "{lines}");
    assert_eq!(
        avatar(&app, &md5_of("fay@example.org")).await.0,
        404,
        "no photo stored"
    );
}
