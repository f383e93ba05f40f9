//! Malformed requests get a clear 4xx with a one-line reason, and the server keeps serving.

use crate::helpers::*;

#[tokio::test]
async fn malformed_avatar_requests_get_clear_4xx_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let good = md5_of("someone@example.org");
    let huge_d = "x".repeat(10_000);
    let long_query = format!("a={}", "b".repeat(20_000));
    let cases: Vec<(String, u16, &str)> = vec![
        ("/avatar/xyz".into(), 400, "32 (MD5) or 64 (SHA-256)"),
        (format!("/avatar/{}", &good[..31]), 400, "31 characters"),
        (format!("/avatar/{good}0"), 400, "33 characters"),
        (format!("/avatar/{}", "g".repeat(32)), 400, "hex digits"),
        ("/avatar/..%2f..%2fetc%2fpasswd".into(), 400, "hash"),
        ("/avatar/%2e%2e%2fetc%2fpasswd".into(), 400, "hash"),
        (format!("/avatar/{good}.bmp"), 400, "extension"),
        (format!("/avatar/{good}.png.png"), 400, "extension"),
        (format!("/avatar/{good}/extra"), 400, ""),
        (format!("/avatar/{good}%00"), 400, ""),
        (format!("/avatar/{}", "a".repeat(500)), 400, "too long"),
        (format!("/avatar/{good}?d={huge_d}"), 400, "longer than"),
        (format!("/avatar/{good}?{long_query}"), 414, "query string"),
        (format!("/avatar/{good}?s=%ff%fe"), 200, ""),
        (format!("/avatar/{good}?s=1e999&d=%00%01"), 200, ""),
        (format!("/avatar/{good}?s=18446744073709551617"), 200, ""),
        (format!("/avatar/{good}?&&&=&s&d"), 200, ""),
    ];
    for (path, status, reason) in &cases {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), *status, "{path:.80}");
        if *status >= 400 {
            assert!(header(&response, "content-type").starts_with("text/plain"));
            let body = response.text().await.unwrap();
            assert_eq!(body.trim_end().lines().count(), 1, "one line: {body}");
            assert!(body.contains(reason), "{path:.80} → {body}");
            assert!(!body.contains("xxxxxxxx"), "never echoed");
            assert!(body.len() < 200);
        }
        let still = app.get(&format!("/avatar/{good}?s=10")).await;
        assert_eq!(still.status(), 200, "still serving after {path:.80}");
    }
}

#[tokio::test]
async fn other_methods_on_avatar_are_refused() {
    let app = spawn_app().await;
    let url = format!("{}/avatar/{}", app.base, md5_of("m@example.org"));
    let response = app.client.post(&url).body("x").send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert!(header(&response, "allow").contains("GET"));
    let response = app.client.delete(&url).send().await.unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn oversized_headers_are_refused_not_fatal() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/avatar/{}", app.base, md5_of("h@example.org")))
        .header("X-Big", "y".repeat(1_000_000))
        .send()
        .await;
    if let Ok(response) = response {
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn unknown_paths_are_plain_404() {
    let app = spawn_app().await;
    let response = app.get("/nothing/here").await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await.unwrap().trim(), "not found");
}
