//! `cameo migrate-store`: a single-node SQLite install moved into PostgreSQL with its
//! photos in a real Garage bucket, verified, re-run safely, and then served from there.
//! Runs in the PostgreSQL target (it needs the test cluster); skipped in the SQLite one.

use std::process::Command;

use cameo::photo_store::PhotoBucket;

use crate::garage::{BUCKET, Garage, KEY_ID, SECRET};
use crate::helpers::*;
use crate::postgres::{database_url_for, skip_on_sqlite};

/// `cameo --data-dir DIR ARGS…` on the SQLite install in DIR, with the bucket's settings.
fn cameo_on_sqlite(dir: &std::path::Path, garage: &Garage, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cameo"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("CAMEO_DATABASE_URL", "")
        .env("CAMEO_S3_ENDPOINT", garage.endpoint())
        .env("CAMEO_S3_REGION", "garage")
        .env("CAMEO_S3_ACCESS_KEY_ID", KEY_ID)
        .env("CAMEO_S3_SECRET_ACCESS_KEY", SECRET)
        .output()
        .expect("cameo runs")
}

#[tokio::test]
async fn a_sqlite_install_moves_to_postgres_and_a_bucket_and_is_served_from_there() {
    if skip_on_sqlite("needs the PostgreSQL test cluster as the target") {
        return;
    }
    let Some(garage) = Garage::start().await else {
        return;
    };
    let source = tempfile::tempdir().unwrap();
    for (address, colour) in [("alice@example.org", RED), ("bob@example.org", BLUE)] {
        let photo = source.path().join(format!("{address}.png"));
        std::fs::write(&photo, png(&solid_photo(64, colour))).unwrap();
        let added = cameo_on_sqlite(
            source.path(),
            &garage,
            &["add", address, "--photo", photo.to_str().unwrap()],
        );
        assert!(added.status.success(), "{}", stderr(&added));
    }
    let target_dir = tempfile::tempdir().unwrap();
    let target = database_url_for(target_dir.path());
    let photos = format!("s3://{BUCKET}/photos");
    let migrate = ["migrate-store", "--to", &target, "--photos", &photos];

    let first = cameo_on_sqlite(source.path(), &garage, &migrate);
    assert!(first.status.success(), "{}", stderr(&first));
    let report = stdout(&first);
    assert!(report.contains("verified"), "{report}");
    assert!(
        report.contains("photo objects in the bucket: 2"),
        "{report}"
    );
    assert!(
        stderr(&first).contains("addresses: 2/2 rows"),
        "{}",
        stderr(&first)
    );
    let again = cameo_on_sqlite(source.path(), &garage, &migrate);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again)
            .lines()
            .filter(|l| l.contains(" 0 written now"))
            .count()
            == cameo::store::copy::TABLES.len(),
        "a second run writes nothing: {}",
        stdout(&again)
    );
    assert!(!stdout(&again).contains(SECRET) && !stderr(&again).contains(SECRET));

    // A node on the new store serves the moved photos from the bucket.
    let app = spawn_app_with(|c| {
        c.database_url = target.clone();
        garage.configure(c);
    })
    .await;
    let alice = decode(
        app.get(&format!("/avatar/{}?s=16", md5_of("alice@example.org")))
            .await,
    )
    .await;
    assert!(near(alice.get_pixel(8, 8), RED, 8));
    let bob = decode(
        app.get(&format!("/avatar/{}?s=16", sha256_of("bob@example.org")))
            .await,
    )
    .await;
    assert!(near(bob.get_pixel(8, 8), BLUE, 8));
    let bucket = PhotoBucket::from_config(&app.config).unwrap().unwrap();
    assert_eq!(bucket.digests().await.unwrap().len(), 2);
    assert_eq!(
        count(
            &app.operator,
            "SELECT COUNT(*) FROM photos WHERE length(data) > 0"
        )
        .await,
        0,
        "the rows keep no bytes"
    );
}
