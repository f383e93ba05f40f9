//! API tokens: made on `/account/tokens` (shown once) or by `cameo token`, checked by the API
//! gate on `/api/v1/providers` (401 for a bad or revoked token, the token's own rate limit
//! for a good one), revocable only by their owner or the operator.

use serde_json::Value;

use crate::browser::{Browser, id_after};
use crate::helpers::*;
use crate::smtp::SmtpSink;

const API: &str = "/api/v1/providers";
/// The token rate limit these tests run with, low enough to reach.
const TOKEN_LIMIT: u32 = 3;

async fn app_with(adjust: impl FnOnce(&mut cameo::config::Config)) -> (TestApp, SmtpSink) {
    spawn_app_with_mail(move |c| {
        c.api_token_rate_limit = TOKEN_LIMIT;
        adjust(c);
    })
    .await
}

async fn account(app: &TestApp, smtp: &SmtpSink, email: &str) -> Browser {
    let browser = Browser::new(app);
    browser.sign_up_and_confirm(smtp, email).await;
    browser
}

/// The full token in a page, if it shows one.
fn token_in(html: &str) -> Option<String> {
    html.match_indices("cameo_").find_map(|(start, _)| {
        let token: String = html[start..].chars().take(6 + 64).collect();
        (token.len() == 70 && token[6..].bytes().all(|b| b.is_ascii_hexdigit())).then_some(token)
    })
}

/// Creates a token that may do `scopes` on the page; returns it and its id.
pub async fn create_on_page(browser: &Browser, name: &str, scopes: &[&str]) -> (String, String) {
    let mut fields = vec![("name", name)];
    fields.extend(scopes.iter().map(|scope| ("scope", *scope)));
    let (status, _, html) = browser
        .submit("/account/tokens", "/account/tokens", &fields)
        .await;
    assert_eq!(status, 200, "{html}");
    let token = token_in(&html).expect("the new token is on the page");
    (token, id_after(&html, "/account/tokens/"))
}

async fn call_api(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{API}", app.base));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    request.send().await.expect("request")
}

async fn error_code(response: reqwest::Response) -> String {
    let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).expect("JSON");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    body["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_token_made_on_the_page_is_shown_once() {
    let (app, smtp) = app_with(|_| {}).await;
    let browser = account(&app, &smtp, "ada@example.org").await;
    let (_, profile) = browser.get("/account").await;
    assert!(profile.contains("href=\"/account/tokens\""));

    let csrf = browser.csrf_from("/account/tokens").await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", csrf.as_str()),
            ("name", "  my blog "),
            ("scope", "lookup"),
        ])
        .finish();
    let response = browser
        .client
        .post(format!("{}/account/tokens", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "answered directly, not redirected");
    assert_eq!(header(&response, "cache-control"), "no-store");
    let html = response.text().await.unwrap();
    let token = token_in(&html).expect("the new token is shown");
    assert!(html.contains("not shown again"));

    let (status, later) = browser.get("/account/tokens").await;
    assert_eq!(status, 200);
    assert_eq!(token_in(&later), None, "never shown again");
    assert!(later.contains("my blog"));
    assert!(later.contains(&token[..12]), "its prefix identifies it");
    assert!(later.contains("never"), "not used yet");
}

#[tokio::test]
async fn a_good_token_passes_the_gate_with_the_token_rate_limit() {
    let (app, smtp) = app_with(|_| {}).await;
    let browser = account(&app, &smtp, "ada@example.org").await;
    let (token, _) = create_on_page(&browser, "ci", &["lookup"]).await;
    for remaining in (0..TOKEN_LIMIT).rev() {
        let response = call_api(&app, Some(&token)).await;
        assert_ne!(response.status(), 401);
        assert_ne!(response.status(), 429);
        assert_eq!(
            header(&response, "x-ratelimit-limit"),
            TOKEN_LIMIT.to_string()
        );
        assert_eq!(
            header(&response, "x-ratelimit-remaining"),
            remaining.to_string()
        );
    }
    let refused = call_api(&app, Some(&token)).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(header(&refused, "x-ratelimit-remaining"), "0");
    assert_eq!(error_code(refused).await, "rate_limit_exceeded");

    let (_, page) = browser.get("/account/tokens").await;
    assert!(!page.contains(">never<"), "its use is recorded:\n{page}");
}

#[tokio::test]
async fn an_unknown_token_gets_401_json() {
    let (app, _smtp) = app_with(|_| {}).await;
    let made_up = format!("cameo_{}", "0".repeat(64));
    for token in [made_up.as_str(), "nonsense"] {
        let response = call_api(&app, Some(token)).await;
        assert_eq!(response.status(), 401);
        assert_eq!(error_code(response).await, "unauthorized");
    }
}

#[tokio::test]
async fn a_revoked_token_gets_401() {
    let (app, smtp) = app_with(|_| {}).await;
    let browser = account(&app, &smtp, "ada@example.org").await;
    let (token, id) = create_on_page(&browser, "ci", &["lookup"]).await;
    assert_ne!(call_api(&app, Some(&token)).await.status(), 401);
    let action = format!("/account/tokens/{id}/revoke");
    let (status, location, _) = browser.submit("/account/tokens", &action, &[]).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/account/tokens?done=revoked")
    );
    let response = call_api(&app, Some(&token)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_code(response).await, "unauthorized");
    let (_, page) = browser.get("/account/tokens?done=revoked").await;
    assert!(page.contains("revoked") && !page.contains(&token[..12]));
}

#[tokio::test]
async fn another_account_cannot_revoke_a_token() {
    let (app, smtp) = app_with(|_| {}).await;
    let ada = account(&app, &smtp, "ada@example.org").await;
    let (token, id) = create_on_page(&ada, "ci", &["lookup"]).await;
    let bob = account(&app, &smtp, "bob@example.org").await;
    let (_, bobs_page) = bob.get("/account/tokens").await;
    assert!(
        !bobs_page.contains(&token[..12]),
        "ada's token is not listed for bob"
    );
    let action = format!("/account/tokens/{id}/revoke");
    let (status, _, html) = bob.submit("/account/tokens", &action, &[]).await;
    assert_eq!(status, 404);
    assert!(html.contains("not in your account"));
    assert_ne!(
        call_api(&app, Some(&token)).await.status(),
        401,
        "still works"
    );
}

#[tokio::test]
async fn token_forms_without_the_csrf_token_are_refused() {
    let (app, smtp) = app_with(|_| {}).await;
    let browser = account(&app, &smtp, "ada@example.org").await;
    let (status, _, _) = browser.post("/account/tokens", &[("name", "sneaky")]).await;
    assert_eq!(status, 403);
    let (token, id) = create_on_page(&browser, "ci", &["lookup"]).await;
    let action = format!("/account/tokens/{id}/revoke");
    let (status, _, _) = browser.post(&action, &[("csrf", &"0".repeat(64))]).await;
    assert_eq!(status, 403);
    assert_ne!(call_api(&app, Some(&token)).await.status(), 401);
    let (_, page) = browser.get("/account/tokens").await;
    assert!(!page.contains("sneaky"));
}

#[tokio::test]
async fn a_bad_name_is_refused_with_the_reason() {
    let (app, smtp) = app_with(|_| {}).await;
    let browser = account(&app, &smtp, "ada@example.org").await;
    for (name, reason) in [
        ("   ", "Give the token a name"),
        (&"x".repeat(65)[..], "too long"),
    ] {
        let (status, _, html) = browser
            .submit("/account/tokens", "/account/tokens", &[("name", name)])
            .await;
        assert_eq!(status, 400);
        assert!(html.contains(reason), "{reason}:\n{html}");
        assert_eq!(token_in(&html), None);
    }
}

#[tokio::test]
async fn the_tokens_page_needs_a_login() {
    let (app, _smtp) = app_with(|_| {}).await;
    let response = app.get("/account/tokens").await;
    assert_eq!(response.status(), 303);
    assert_eq!(header(&response, "location"), "/login");
}

#[tokio::test]
async fn the_cli_creates_lists_and_revokes_tokens() {
    let (app, smtp) = app_with(|_| {}).await;
    account(&app, &smtp, "ada@example.org").await;
    let created = app.cameo(&[
        "token",
        "create",
        "--account",
        "Ada@Example.org",
        "--name",
        "cron",
    ]);
    assert!(created.status.success(), "{}", stderr(&created));
    let token = stdout(&created).trim().to_string();
    assert!(
        token_in(&token).is_some_and(|t| t == token),
        "only the token on stdout: {token}"
    );
    assert!(stderr(&created).contains("not shown again"));
    assert_ne!(call_api(&app, Some(&token)).await.status(), 401);

    let listed = app.cameo(&["token", "list", "--account", "ada@example.org"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let table = stdout(&listed);
    assert!(
        table.contains("cron") && table.contains(&token[..12]),
        "{table}"
    );
    assert!(!table.contains(&token), "the list never shows a token");
    assert!(table.contains("1 token(s)"));

    let json = app.cameo(&["token", "list", "--json"]);
    let rows: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(rows[0]["account"], "ada@example.org");
    assert_eq!(rows[0]["name"], "cron");
    assert!(rows[0]["revoked_at"].is_null());
    let id = rows[0]["id"].as_i64().unwrap().to_string();

    let revoked = app.cameo(&["token", "revoke", &id]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(call_api(&app, Some(&token)).await.status(), 401);
    let again = app.cameo(&["token", "revoke", &id]);
    assert!(!again.status.success(), "nothing left to revoke");
    assert!(stdout(&app.cameo(&["token", "list"])).contains("revoked"));
}

#[tokio::test]
async fn the_cli_refuses_an_unknown_account_in_one_line() {
    let (app, _smtp) = app_with(|_| {}).await;
    let output = app.cameo(&[
        "token",
        "create",
        "--account",
        "nobody@example.org",
        "--name",
        "x",
    ]);
    assert!(!output.status.success());
    assert!(stdout(&output).is_empty());
    let reason = stderr(&output);
    assert_eq!(reason.trim().lines().count(), 1, "{reason}");
    assert!(reason.contains("nobody@example.org"), "{reason}");
    let listed = app.cameo(&["token", "list", "--account", "nobody@example.org"]);
    assert!(!listed.status.success());
}

#[tokio::test]
async fn without_anonymous_access_only_a_token_gets_in() {
    let (app, smtp) = app_with(|c| c.api_anonymous = false).await;
    let anonymous = call_api(&app, None).await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(error_code(anonymous).await, "unauthorized");
    let browser = account(&app, &smtp, "ada@example.org").await;
    let (token, _) = create_on_page(&browser, "ci", &["lookup"]).await;
    let response = call_api(&app, Some(&token)).await;
    assert_ne!(response.status(), 401);
    assert_eq!(
        header(&response, "x-ratelimit-limit"),
        TOKEN_LIMIT.to_string()
    );
}
