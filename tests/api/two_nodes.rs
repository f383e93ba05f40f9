//! Two Cameo nodes on one database (here two servers on one SQLite file; the PostgreSQL
//! suite runs the same tests on one PostgreSQL): what one writes the other serves at once,
//! and a client's budget is spent once, not once per node.

use crate::helpers::*;

/// A second node sharing `first`'s database, with `first`'s configuration.
async fn second_node(first: &TestApp) -> TestApp {
    let shared = first.config.clone();
    spawn_app_with(move |c| *c = shared).await
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
    let served = decode(second.get(&format!("/avatar/{digest}?s=16")).await).await;
    assert!(
        near(served.get_pixel(8, 8), RED, 8),
        "the other node serves it"
    );

    let output = first.cameo(&["remove", "alice@example.org"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let after = second.get(&format!("/avatar/{digest}?d=404&s=16")).await;
    assert_eq!(after.status(), 404, "and stops serving it at once");
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
