//! Photo bytes in an S3-compatible bucket (`photo_store = "s3://…"`), against a real Garage
//! on loopback: stored by content digest and served, shared by identical photos, collected
//! when no row needs them; and with the store stopped, cached avatars still serve while
//! uploads are refused with a 503 and leave nothing half-written.

use cameo::photo_store::{PhotoBucket, collect_unreferenced};
use cameo::store::Pool;
use std::time::Duration;

use crate::browser::Browser;
use crate::garage::Garage;
use crate::helpers::*;

async fn bucket_app(garage: &Garage) -> (TestApp, PhotoBucket) {
    let app = spawn_app_with(|c| garage.configure(c)).await;
    let bucket = PhotoBucket::from_config(&app.config).unwrap().unwrap();
    (app, bucket)
}

async fn photo_rows(app: &TestApp) -> Vec<(i64, String)> {
    const ROWS: &str =
        "SELECT CAST(length(data) AS BIGINT), content_digest FROM photos ORDER BY id";
    match app.operator.pool() {
        Pool::Sqlite(pool) => sqlx::query_as(ROWS).fetch_all(pool).await,
        Pool::Postgres(pool) => sqlx::query_as(ROWS).fetch_all(pool).await,
    }
    .unwrap()
}

async fn colour_of(app: &TestApp, address: &str) -> image::Rgba<u8> {
    let response = app.get(&format!("/avatar/{}?s=16", md5_of(address))).await;
    assert_eq!(response.status(), 200);
    *decode(response).await.get_pixel(8, 8)
}

#[tokio::test]
async fn photos_live_in_the_bucket_by_digest_and_identical_ones_share_an_object() {
    let Some(garage) = Garage::start().await else {
        return;
    };
    let (app, bucket) = bucket_app(&garage).await;
    app.add_photo("alice@example.org", &png(&solid_photo(64, RED)))
        .await;
    app.add_photo("bob@example.org", &png(&solid_photo(64, RED)))
        .await;
    app.add_photo("carol@example.org", &png(&solid_photo(64, BLUE)))
        .await;

    assert!(near(&colour_of(&app, "alice@example.org").await, RED, 8));
    assert!(near(&colour_of(&app, "carol@example.org").await, BLUE, 8));
    let rows = photo_rows(&app).await;
    assert!(
        rows.iter().all(|(length, _)| *length == 0),
        "no bytes in rows: {rows:?}"
    );
    let mut stored = bucket.digests().await.unwrap();
    stored.sort();
    let mut named: Vec<String> = rows.into_iter().map(|(_, digest)| digest).collect();
    named.sort();
    named.dedup();
    assert_eq!(
        stored, named,
        "one object per distinct photo, named by its digest"
    );
    assert_eq!(stored.len(), 2);

    // `cameo export` carries the bytes from the bucket.
    let export = app.dir.path().join("export.json");
    let output = app.cameo(&[
        "--set",
        &format!("photo_store=s3://{}/photos", crate::garage::BUCKET),
        "--set",
        &format!("s3_endpoint={}", garage.endpoint()),
        "--set",
        "s3_region=garage",
        "--set",
        &format!("s3_access_key_id={}", crate::garage::KEY_ID),
        "--set",
        &format!("s3_secret_access_key={}", crate::garage::SECRET),
        "export",
        export.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    let photos = document["operator"]["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 2);
    assert!(
        photos
            .iter()
            .all(|p| p["data"].as_str().unwrap().len() > 100)
    );
    assert!(
        !stderr(&output).contains(crate::garage::SECRET)
            && !stdout(&output).contains(crate::garage::SECRET),
        "the secret is never printed"
    );
}

#[tokio::test]
async fn with_the_store_stopped_cached_avatars_serve_and_uploads_are_refused_cleanly() {
    let Some(mut garage) = Garage::start().await else {
        return;
    };
    let (app, smtp) = {
        let smtp = crate::smtp::SmtpSink::start().await;
        let url = smtp.url();
        let app = spawn_app_with(|c| {
            garage.configure(c);
            c.smtp_url = url;
        })
        .await;
        (app, smtp)
    };
    app.add_photo("alice@example.org", &png(&solid_photo(64, RED)))
        .await;
    assert!(near(&colour_of(&app, "alice@example.org").await, RED, 8));
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "dora@example.org").await;
    let rows_before = photo_rows(&app).await;

    garage.stop();
    assert!(
        near(&colour_of(&app, "alice@example.org").await, RED, 8),
        "a cached avatar is still served"
    );
    let (status, _) = browser.upload(png(&solid_photo(64, BLUE)), None).await;
    assert_eq!(status, 503, "an upload is refused while the store is down");
    let path = app.dir.path().join("bob.png");
    std::fs::write(&path, png(&solid_photo(64, BLUE))).unwrap();
    let refused = cameo::operator::add(&app.operator, &app.config, "bob@example.org", &path).await;
    assert!(refused.is_err(), "cameo add is refused too");
    assert_eq!(photo_rows(&app).await, rows_before, "nothing half-written");
    let bob = app
        .get(&format!("/avatar/{}?d=404&s=16", md5_of("bob@example.org")))
        .await;
    assert_eq!(bob.status(), 404);

    garage.restart().await;
    app.add_photo("bob@example.org", &png(&solid_photo(64, BLUE)))
        .await;
    assert!(near(&colour_of(&app, "bob@example.org").await, BLUE, 8));
}

#[tokio::test]
async fn garbage_collection_deletes_only_objects_no_row_needs() {
    let Some(garage) = Garage::start().await else {
        return;
    };
    let (app, bucket) = bucket_app(&garage).await;
    app.add_photo("alice@example.org", &png(&solid_photo(64, RED)))
        .await;
    app.add_photo("carol@example.org", &png(&solid_photo(64, BLUE)))
        .await;
    let output = app.cameo(&["remove", "alice@example.org"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(bucket.digests().await.unwrap().len(), 2);

    let young = collect_unreferenced(&bucket, &app.operator, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(
        (young.deleted, young.spared),
        (0, 2),
        "young objects are spared"
    );
    let old = collect_unreferenced(&bucket, &app.operator, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!((old.kept, old.deleted), (1, 1));
    assert_eq!(bucket.digests().await.unwrap().len(), 1);
    assert!(near(&colour_of(&app, "carol@example.org").await, BLUE, 8));
}
