//! PostgreSQL restarted under load: meanwhile the node reports not-ready on `/readyz`,
//! keeps serving cached avatars, refuses writes with a clear 503 (never a hang, never a
//! 500), reconnects by itself when the database is back, and has lost nothing it reported
//! done. Runs in the PostgreSQL target, on a cluster of its own (stopped with
//! `-m immediate`, as a crash would).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::browser::Browser;
use crate::helpers::*;
use crate::postgres::{OwnCluster, skip_on_sqlite};

async fn status(app: &TestApp, path: &str) -> u16 {
    app.get(path).await.status().as_u16()
}

/// `address`'s avatar once the node serves it, asked for at most a second.
async fn served_within_a_second(app: &TestApp, address: &str) -> image::RgbaImage {
    let path = format!("/avatar/{}?s=16&d=404", md5_of(address));
    let asked = Instant::now();
    loop {
        let response = app.get(&path).await;
        if response.status() == 200 {
            return decode(response).await;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{address} is not served"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_database_restart_keeps_cached_avatars_refuses_writes_and_loses_nothing() {
    if skip_on_sqlite("restarts a PostgreSQL cluster of its own") {
        return;
    }
    let cluster = OwnCluster::start();
    let url = cluster.database();
    let app = spawn_app_with(|c| c.database_url = url.clone()).await;
    app.add_photo("alice@example.org", &png(&solid_photo(64, RED)))
        .await;
    let alice = format!("/avatar/{}?s=16", md5_of("alice@example.org"));
    assert!(near(
        decode(app.get(&alice).await).await.get_pixel(8, 8),
        RED,
        8
    ));
    // Reported done just before the stop: must survive it.
    app.add_photo("bob@example.org", &png(&solid_photo(64, BLUE)))
        .await;

    let bob_path = format!("/avatar/{}?s=16&d=404", md5_of("bob@example.org"));
    assert_eq!(
        status(&app, &bob_path).await,
        200,
        "bob is served before the stop"
    );
    // Clients keep asking for alice (a cached rendition) through the whole restart.
    let stop = Arc::new(AtomicBool::new(false));
    let (served, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load = {
        let (stop, served, failed) = (stop.clone(), served.clone(), failed.clone());
        let (base, alice) = (app.base.clone(), alice.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                match client.get(format!("{base}{alice}")).send().await {
                    Ok(response) if response.status() == 200 => {
                        served.fetch_add(1, Ordering::Relaxed)
                    }
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        })
    };

    let browser = Browser::new(&app);
    cluster.stop();
    assert_eq!(
        status(&app, "/readyz").await,
        503,
        "not ready while the database is down"
    );
    let started = Instant::now();
    let path = app.dir.path().join("carol.png");
    std::fs::write(&path, png(&solid_photo(64, RED))).unwrap();
    let refused =
        cameo::operator::add(&app.operator, &app.config, "carol@example.org", &path).await;
    assert!(refused.is_err(), "a write is refused");
    let (refusal, _, body) = browser
        .submit(
            "/signup",
            "/signup",
            &[
                ("email", "dora@example.org"),
                ("password", "a long enough password"),
                ("password_again", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(
        refusal, 503,
        "a form that writes says the database is away: {body}"
    );
    assert!(body.contains("database is unavailable"), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "and quickly: {:?}",
        started.elapsed()
    );

    cluster.start_again();
    let back = Instant::now();
    while status(&app, "/readyz").await != 200 {
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "the node never reconnected"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    let (served, failed) = (
        served.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    assert!(
        served > 20,
        "the cached avatar was asked for throughout: {served}"
    );
    assert_eq!(failed, 0, "{failed} cached hits failed during the restart");

    // Within a second of the database's return the node has caught up by itself.
    let bob = served_within_a_second(&app, "bob@example.org").await;
    assert!(
        near(bob.get_pixel(8, 8), BLUE, 8),
        "bob's photo survived the restart"
    );
    app.add_photo("carol@example.org", &png(&solid_photo(64, RED)))
        .await;
    let carol = served_within_a_second(&app, "carol@example.org").await;
    assert!(near(carol.get_pixel(8, 8), RED, 8), "writes work again");
    eprintln!(
        "database restart: {served} cached hits served, 0 failed; ready again {:?} after the start",
        back.elapsed()
    );
}
