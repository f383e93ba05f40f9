//! The route table (`cameo::route_table::all_routes`, the very list the router is built
//! from), walked against the real server: every path that answers GET answers HEAD with the
//! same status and headers and no body; a method a path does not take gets 405 with an
//! `Allow` header naming what it takes; unknown paths stay 404; `OPTIONS /avatar` answers
//! like `OPTIONS /avatar/HASH`.

use cameo::route_table::{all_routes, allow_header};
use reqwest::Method;

use crate::helpers::*;

/// A concrete path for a pattern: each `{name…}` segment becomes a sample value.
fn sample_path(pattern: &str) -> String {
    let mut path = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        path.push_str(&rest[..start]);
        // The segment ends at the brace that closes it (a regex may hold `{1,128}`).
        let mut depth = 0;
        let mut end = start;
        for (offset, c) in rest[start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = start + offset;
                break;
            }
        }
        let name = rest[start + 1..end].split(':').next().unwrap_or_default();
        path.push_str(&match name {
            "segment" | "hash" => md5_of("routes@example.org"),
            "token" | "proof" => "a".repeat(64),
            "id" | "image_id" => "1".to_string(),
            "name" => "style.css".to_string(),
            "domain" => "corp.test".to_string(),
            other => panic!("no sample for {{{other}}} in {pattern}: add one here"),
        });
        rest = &rest[end + 1..];
    }
    path.push_str(rest);
    path
}

async fn send(app: &TestApp, method: Method, path: &str) -> reqwest::Response {
    send_with(app, method, path, None).await
}

async fn send_with(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.request(method, format!("{}{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}

/// A token with every scope, so routes behind the account gate are reached too.
async fn token_with_every_scope(app: &TestApp) -> String {
    use cameo::api::scopes::{Scope, Scopes};
    let user = cameo::store::users::create(&app.operator, "routes@example.org", "x")
        .await
        .unwrap()
        .expect("a new account");
    let (_, token) =
        cameo::store::api_tokens::create(&app.operator, user, "routes", Scopes::of(&Scope::ALL))
            .await
            .unwrap();
    token
}

#[test]
fn sample_paths_fill_every_parameter() {
    assert_eq!(
        sample_path("/account/photos/{id}/delete"),
        "/account/photos/1/delete"
    );
    let hash = md5_of("routes@example.org");
    assert_eq!(
        sample_path("/{hash:[0-9a-fA-F]{1,128}}.vcf"),
        format!("/{hash}.vcf")
    );
}

#[tokio::test]
async fn every_get_route_answers_head_and_every_route_refuses_other_methods_with_405() {
    let app = spawn_app_with(|c| c.api_token_rate_limit = 100_000).await;
    let token = token_with_every_scope(&app).await;
    let send = |method, path: &str| {
        let (app, token, path) = (&app, token.clone(), path.to_string());
        async move { send_with(app, method, &path, Some(&token)).await }
    };
    let routes = all_routes();
    assert!(routes.len() > 40, "the whole table: {}", routes.len());
    for (pattern, methods) in &routes {
        let path = sample_path(pattern);
        let allow = allow_header(methods);
        if methods.contains(&"GET") {
            let get = send(Method::GET, &path).await;
            let head = send(Method::HEAD, &path).await;
            assert_eq!(head.status(), get.status(), "HEAD {path}");
            for name in ["content-type", "cache-control", "allow", "location"] {
                assert_eq!(
                    header(&head, name),
                    header(&get, name),
                    "HEAD {path}: {name}"
                );
            }
            let get_length = header(&get, "content-length");
            let head_length = header(&head, "content-length");
            assert!(
                head.bytes().await.unwrap().is_empty(),
                "HEAD {path} has no body"
            );
            if pattern.starts_with("/avatar/") {
                // A deterministic body: HEAD announces exactly GET's length.
                assert_eq!(head_length, get_length, "HEAD {path}: content-length");
                assert!(!head_length.is_empty());
            }
        } else {
            // HEAD is GET without the body: refused like GET where GET is not taken.
            let head = send(Method::HEAD, &path).await;
            assert_eq!(head.status(), 405, "HEAD {path}");
            assert_eq!(header(&head, "allow"), allow, "HEAD {path}");
        }
        let wrong_methods = [Method::DELETE, Method::PUT, Method::PATCH];
        for wrong in wrong_methods
            .iter()
            .filter(|m| !methods.contains(&m.as_str()))
        {
            let response = send(wrong.clone(), &path).await;
            assert_eq!(response.status(), 405, "{wrong} {path}");
            assert_eq!(header(&response, "allow"), allow, "{wrong} {path}");
        }
    }
}

#[tokio::test]
async fn unknown_paths_stay_404_whatever_the_method() {
    let app = spawn_app().await;
    for method in [Method::GET, Method::HEAD, Method::POST, Method::DELETE] {
        for path in ["/nope", "/account/nope", "/tools/nope", "/wp-login.php"] {
            let response = send(&app, method.clone(), path).await;
            assert_eq!(response.status(), 404, "{method} {path}");
        }
    }
}

#[tokio::test]
async fn options_on_avatar_without_a_hash_answers_like_with_one() {
    let app = spawn_app().await;
    let with_hash = send(
        &app,
        Method::OPTIONS,
        &format!("/avatar/{}", md5_of("o@example.org")),
    )
    .await;
    assert_eq!(with_hash.status(), 200);
    for path in ["/avatar", "/avatar/"] {
        let response = send(&app, Method::OPTIONS, path).await;
        assert_eq!(response.status(), 200, "{path}");
        for name in [
            "allow",
            "access-control-allow-methods",
            "access-control-allow-origin",
        ] {
            assert_eq!(
                header(&response, name),
                header(&with_hash, name),
                "{path}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn health_checks_with_head_see_the_status_of_get() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz", "/", "/metrics"] {
        let response = send(&app, Method::HEAD, path).await;
        assert_eq!(response.status(), 200, "HEAD {path}");
    }
}
