//! The change feed keeps the hot path's memory exact: a write has exactly the digests it
//! changed read again, writes that serve no avatar have nothing read, and hits and misses
//! are answered from the in-memory index of served digests without a database read.

use std::time::Duration;

use crate::helpers::*;

async fn wait_for_index(app: &TestApp) {
    for _ in 0..100 {
        if app.metric("cameo_lookup_index_bytes").await > 0.0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the index of served digests was never built");
}

async fn reads(app: &TestApp) -> f64 {
    app.metric("cameo_lookup_database_reads_total").await
}

async fn status_of(app: &TestApp, digest: &str) -> u16 {
    app.get(&format!("/avatar/{digest}?d=404&s=16"))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_remembered_hit_survives_writes_that_change_no_avatar() {
    let app = spawn_app().await;
    app.add_photo("alice@example.org", &png(&solid_photo(64, RED)))
        .await;
    wait_for_index(&app).await;
    let alice = md5_of("alice@example.org");
    assert_eq!(status_of(&app, &alice).await, 200);
    let after_first = reads(&app).await;

    // A session, a throttle window and a profile row: none of them is an avatar.
    crate::helpers::execute(
        &app.operator,
        "INSERT INTO users (email, password_hash, created_at, updated_at) VALUES ('x@y.z', 'h', 0, 0)",
        &[],
    )
    .await;
    cameo::store::throttles::hit(&app.operator, "login", "k", 5, 60)
        .await
        .unwrap();
    // Another person's photo is a write to the same tables, for other digests.
    app.add_photo("bob@example.org", &png(&solid_photo(64, BLUE)))
        .await;

    assert_eq!(status_of(&app, &alice).await, 200);
    assert_eq!(
        reads(&app).await,
        after_first,
        "alice's answer is still remembered"
    );
    let bob = decode(
        app.get(&format!("/avatar/{}?s=16", md5_of("bob@example.org")))
            .await,
    )
    .await;
    assert!(near(bob.get_pixel(8, 8), BLUE, 8), "bob is served at once");
}

#[tokio::test]
async fn a_write_has_exactly_its_digests_read_again_and_is_served_at_once() {
    let app = spawn_app().await;
    app.add_photo("carol@example.org", &png(&solid_photo(64, RED)))
        .await;
    let (md5, sha256) = (md5_of("carol@example.org"), sha256_of("carol@example.org"));
    assert_eq!(status_of(&app, &md5).await, 200);
    wait_for_index(&app).await;
    let applied_before = app.metric("cameo_feed_applied_digests_total").await;

    let output = app.cameo(&["remove", "carol@example.org"]);
    assert!(output.status.success(), "{}", stderr(&output));
    app.noticed_another_process().await;
    assert_eq!(
        status_of(&app, &md5).await,
        404,
        "the removal is served at once (PostgreSQL: within the poll interval)"
    );
    assert_eq!(status_of(&app, &sha256).await, 404);
    let applied = app.metric("cameo_feed_applied_digests_total").await - applied_before;
    assert!(
        (2.0..=4.0).contains(&applied),
        "the MD5 and SHA-256 digests of carol (and nothing else) were read again: {applied}"
    );
}

#[tokio::test]
async fn hits_and_misses_are_answered_from_memory() {
    let app = spawn_app().await;
    app.add_photo("dave@example.org", &png(&solid_photo(64, RED)))
        .await;
    wait_for_index(&app).await;
    let before = reads(&app).await;
    for n in 0..200 {
        let stranger = sha256_of(&format!("stranger{n}@example.org"));
        assert_eq!(status_of(&app, &stranger).await, 404);
    }
    // The index never hides a photo: dave, and an address added after it was built.
    assert_eq!(status_of(&app, &md5_of("dave@example.org")).await, 200);
    app.add_photo("erin@example.org", &png(&solid_photo(64, BLUE)))
        .await;
    assert_eq!(status_of(&app, &sha256_of("erin@example.org")).await, 200);
    assert_eq!(
        reads(&app).await,
        before,
        "no miss and no hit read the database"
    );
    assert!(app.metric("cameo_lookup_memory_answers_total").await >= 202.0);
}

#[tokio::test]
async fn every_feed_entry_on_postgresql_notifies_the_listening_nodes() {
    if crate::postgres::skip_on_sqlite("LISTEN/NOTIFY is PostgreSQL's") {
        return;
    }
    let app = spawn_app().await;
    let mut listener = sqlx::postgres::PgListener::connect(&app.config.database_url)
        .await
        .expect("a listening connection");
    listener.listen("cameo_feed").await.expect("LISTEN");
    // The node's own listener hears the same notice; this one proves the feed's trigger
    // sends it at the commit of a write that changes what a digest serves.
    app.add_photo("ada@example.org", &png(&solid_photo(16, RED)))
        .await;
    let notice = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .expect("a notice within 5 s")
        .expect("the notice");
    assert_eq!(notice.channel(), "cameo_feed");
}
