//! Two Cameo nodes on one database (two servers on one SQLite file; the PostgreSQL suite
//! runs the same tests on one PostgreSQL): what one writes the other serves within a second
//! (at once on SQLite, within the feed's poll on PostgreSQL), and a client's budget is
//! spent once, not once per node.

use std::time::{Duration, Instant};

use crate::helpers::*;

/// A second node with `first`'s configuration and database, and a data directory of its own.
async fn second_node(first: &TestApp) -> TestApp {
    let mut shared = first.config.clone();
    if shared.database_url.is_empty() {
        shared.database_url = format!("sqlite://{}", first.config.database_path().display());
    }
    spawn_app_with(move |c| {
        let own = c.data_dir.clone();
        *c = shared;
        c.data_dir = own;
    })
    .await
}

/// Asks `node` for `path` until it answers `status`, for at most a second (every node must
/// serve another's write within one): how long that took.
async fn answers_within_a_second(node: &TestApp, path: &str, status: u16) -> Duration {
    let started = Instant::now();
    while node.get(path).await.status().as_u16() != status {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{path} did not answer {status} within a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn a_photo_added_through_one_node_is_served_by_the_other() {
    let first = spawn_app().await;
    let second = second_node(&first).await;
    let digest = md5_of("alice@example.org");
    let before = second.get(&format!("/avatar/{digest}?d=404&s=16")).await;
    assert_eq!(before.status(), 404);

    first
        .add_photo("alice@example.org", &png(&solid_photo(64, RED)))
        .await;
    let probe = format!("/avatar/{digest}?d=404&s=16");
    let added = answers_within_a_second(&second, &probe, 200).await;
    let served = decode(second.get(&format!("/avatar/{digest}?s=16")).await).await;
    assert!(
        near(served.get_pixel(8, 8), RED, 8),
        "the other node serves it"
    );

    let output = first.cameo(&["remove", "alice@example.org"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let removed = answers_within_a_second(&second, &probe, 404).await;
    eprintln!("served by the other node after {added:?} (added), {removed:?} (removed)");
}

#[tokio::test]
async fn an_api_client_gets_its_budget_once_across_nodes() {
    let first = spawn_app_with(|c| c.api_anonymous_rate_limit = 4).await;
    let second = second_node(&first).await;
    let mut remaining = Vec::new();
    for node in [&first, &second, &first, &second] {
        let response = node.get("/api/v1/providers").await;
        assert_eq!(response.status(), 200);
        remaining.push(header(&response, "x-ratelimit-remaining"));
    }
    assert_eq!(remaining, ["3", "2", "1", "0"]);
    for node in [&first, &second] {
        let refused = node.get("/api/v1/providers").await;
        assert_eq!(refused.status(), 429, "the budget is spent on every node");
    }
}
