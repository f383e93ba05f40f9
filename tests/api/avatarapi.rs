//! AvatarAPI's interface (seed 000) against the real server: the seed's own request bodies
//! (sent as `text/plain`, as its examples do) with a Cameo token's name and secret, the
//! answer's exact shape, providers mapped and skipped, the credits and providers calls, and
//! the shared rate limits.

use cameo::config::GravatarMode;
use serde_json::Value;

use crate::api_tokens::create_on_page;
use crate::browser::Browser;
use crate::gravatar::{Behaviour, FakeGravatar, start_fake};
use crate::helpers::*;

const TOKEN_LIMIT: u32 = 4;

struct World {
    app: TestApp,
    gravatar: FakeGravatar,
    browser: Browser,
    token: String,
}

/// alice@local.test has a photo here, carol@elsewhere.test one at the fake Gravatar; the
/// account ada@example.org holds a token named `crm` with the `lookup` scope.
async fn world() -> World {
    let gravatar = start_fake(&[md5_of("carol@elsewhere.test")], Behaviour::Normal, 0).await;
    let upstream = gravatar.base.clone();
    let (app, smtp) = spawn_app_with_mail(move |c| {
        c.api_token_rate_limit = TOKEN_LIMIT;
        c.gravatar_mode = GravatarMode::Proxy;
        c.gravatar_upstream = upstream;
    })
    .await;
    app.add_photo("alice@local.test", &png(&solid_photo(64, RED)))
        .await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "ada@example.org").await;
    let (token, _) = create_on_page(&browser, "crm", &["lookup"]).await;
    World {
        app,
        gravatar,
        browser,
        token,
    }
}

/// Posts `body` as AvatarAPI's examples do (`Content-Type: text/plain`).
async fn post(app: &TestApp, path: &str, body: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = app
        .client
        .post(format!("{}{path}", app.base))
        .header("Content-Type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.json().await.expect("JSON"), headers)
}

/// The seed's body with our credentials and `email` filled in.
fn seed_body(token: &str, email: &str) -> String {
    r#"{"username":"YOUR_USERNAME","password":"YOUR_PASSWORD","email":""}"#
        .replace("YOUR_USERNAME", "crm")
        .replace("YOUR_PASSWORD", token)
        .replace(r#""email":"""#, &format!(r#""email":"{email}""#))
}

fn raw_data(body: &Value) -> Value {
    serde_json::from_str(body["RawData"].as_str().expect("RawData")).expect("RawData is JSON")
}

#[tokio::test]
async fn the_seeds_basic_request_finds_a_local_photo_in_the_seeds_shape() {
    let world = world().await;
    let (status, body, headers) = post(
        &world.app,
        "/v2/api.aspx",
        &seed_body(&world.token, "Alice@Local.test"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "City",
            "Country",
            "Image",
            "IsDefault",
            "Name",
            "RawData",
            "Source",
            "Success",
            "Valid"
        ]
    );
    assert_eq!(body["Success"], true);
    assert_eq!(body["Valid"], true);
    assert_eq!(body["IsDefault"], false);
    assert_eq!(body["Source"]["Name"], "Local");
    let sha256 = sha256_of("alice@local.test");
    assert_eq!(body["Image"], format!("{}/avatar/{sha256}", world.app.base));
    let picture = decode(world.app.get(&format!("/avatar/{sha256}?s=24")).await).await;
    assert_eq!(picture.dimensions(), (24, 24));
    assert!(
        picture.pixels().all(|p| near(p, RED, 30)),
        "it is the photo"
    );
    let raw = raw_data(&body);
    assert_eq!(raw["email_hash"]["md5"], md5_of("alice@local.test"));
    assert_eq!(raw["tried"][0]["outcome"], "found");
    assert_eq!(
        header_of(&headers, "x-ratelimit-limit"),
        TOKEN_LIMIT.to_string()
    );
    assert_eq!(
        header_of(&headers, "x-ratelimit-remaining"),
        (TOKEN_LIMIT - 1).to_string()
    );
}

fn header_of(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn named_providers_run_in_order_and_unknown_ones_are_skipped_and_said() {
    let world = world().await;
    // The seed's "specified providers" body.
    let body = r#"{"username":"YOUR_USERNAME","password":"YOUR_PASSWORD","email":"","provider":"Gravatar,Microsoft"}"#
        .replace("YOUR_USERNAME", "crm")
        .replace("YOUR_PASSWORD", &world.token)
        .replace(r#""email":"""#, r#""email":"carol@elsewhere.test""#);
    let (status, body, _) = post(&world.app, "/v2/api.aspx", &body).await;
    assert_eq!(status, 200, "{body}");
    let md5 = md5_of("carol@elsewhere.test");
    assert_eq!(body["Success"], true);
    assert_eq!(body["Source"]["Name"], "Gravatar");
    assert_eq!(body["Name"], format!("Fake {}", &md5[..6]));
    assert_eq!(body["Image"], format!("{}/avatar/{md5}", world.app.base));
    let raw = raw_data(&body);
    assert_eq!(raw["skipped"], serde_json::json!(["Microsoft"]));
    let tried: Vec<&str> = raw["tried"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["provider"].as_str().unwrap())
        .collect();
    assert_eq!(tried, ["gravatar"], "only what was asked, in order");
    assert!(
        world
            .gravatar
            .calls
            .load(std::sync::atomic::Ordering::SeqCst)
            > 0
    );

    let only_unknown = format!(
        r#"{{"username":"crm","password":"{}","email":"carol@elsewhere.test","provider":"Microsoft,Google"}}"#,
        world.token
    );
    let (status, body, _) = post(&world.app, "/v2/api.aspx", &only_unknown).await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], false);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Microsoft, Google"),
        "{body}"
    );
}

#[tokio::test]
async fn a_miss_is_the_seeds_failure_and_allowing_defaults_draws_one() {
    let world = world().await;
    let body = seed_body(&world.token, "nobody@nowhere.test")
        .replace(r#""email""#, r#""provider":"Cache","email""#);
    let (status, miss, _) = post(&world.app, "/v2/api.aspx", &body).await;
    assert_eq!(status, 200);
    assert_eq!(miss["success"], false);
    assert_eq!(miss["error"], "Not found");
    assert_eq!(raw_data(&miss)["tried"][0]["outcome"], "not_found");

    let allowed = body.replace('}', r#","AllowDefaultProfilePictures":"TRUE"}"#);
    let (status, drawn, _) = post(&world.app, "/v2/api.aspx", &allowed).await;
    assert_eq!(status, 200, "{drawn}");
    assert_eq!(drawn["Success"], true);
    assert_eq!(drawn["IsDefault"], true);
    assert_eq!(drawn["Source"]["Name"], "Default");
    let image = drawn["Image"].as_str().unwrap();
    let picture = decode(world.app.client.get(image).send().await.unwrap()).await;
    assert!(picture.width() > 0, "the default is served");
}

#[tokio::test]
async fn credentials_are_a_tokens_name_and_secret_and_wrong_ones_are_limited() {
    let world = world().await;
    for (body, says) in [
        (
            r#"{"email":"alice@local.test"}"#.to_string(),
            "username and password are required",
        ),
        (
            seed_body(&world.token, "alice@local.test").replace("crm", "other"),
            "invalid",
        ),
        (
            seed_body(&"cameo_0".repeat(10), "alice@local.test"),
            "invalid",
        ),
    ] {
        let (status, answer, _) = post(&world.app, "/v2/api.aspx", &body).await;
        assert_eq!(status, 200, "AvatarAPI answers 200 with success false");
        assert_eq!(answer["success"], false);
        assert!(answer["error"].as_str().unwrap().contains(says), "{answer}");
    }
    let wrong = seed_body("cameo_wrong", "alice@local.test");
    let mut last = Value::Null;
    for _ in 0..cameo::api::avatarapi::MAX_FAILED_LOGINS {
        last = post(&world.app, "/v2/api.aspx", &wrong).await.1;
    }
    assert!(
        last["error"].as_str().unwrap().contains("too many"),
        "{last}"
    );
    let (_, good, _) = post(
        &world.app,
        "/v2/api.aspx",
        &seed_body(&world.token, "alice@local.test"),
    )
    .await;
    assert!(
        good["error"]
            .as_str()
            .unwrap_or_default()
            .contains("too many"),
        "even a right secret waits once the client has guessed too often: {good}"
    );
}

#[tokio::test]
async fn credits_are_the_tokens_budget_shared_with_bearer_calls_and_run_out() {
    let world = world().await;
    let credentials = format!(r#"{{"username":"crm","password":"{}"}}"#, world.token);
    let (status, credits, _) = post(&world.app, "/v2/credits.aspx", &credentials).await;
    assert_eq!(status, 200, "{credits}");
    assert_eq!(
        credits,
        serde_json::json!({"email": "ada@example.org", "credits": TOKEN_LIMIT})
    );
    let (_, again, _) = post(&world.app, "/v2/credits.aspx", &credentials).await;
    assert_eq!(again["credits"], TOKEN_LIMIT, "asking costs nothing");

    let bearer = world
        .app
        .client
        .get(format!("{}/api/v1/providers", world.app.base))
        .header("Authorization", format!("Bearer {}", world.token))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    let lookup = seed_body(&world.token, "alice@local.test");
    for _ in 1..TOKEN_LIMIT {
        let (_, body, _) = post(&world.app, "/v2/api.aspx", &lookup).await;
        assert_eq!(body["Success"], true, "{body}");
    }
    let (_, credits, _) = post(&world.app, "/v2/credits.aspx", &credentials).await;
    assert_eq!(credits["credits"], 0);
    let (status, out, headers) = post(&world.app, "/v2/api.aspx", &lookup).await;
    assert_eq!(status, 200);
    assert_eq!(out["success"], false);
    assert!(
        out["error"].as_str().unwrap().contains("out of credits"),
        "{out}"
    );
    assert_eq!(header_of(&headers, "x-ratelimit-remaining"), "0");
    let wait: u64 = header_of(&headers, "retry-after")
        .parse()
        .expect("Retry-After");
    assert!((1..=3600).contains(&wait), "{wait}");
}

#[tokio::test]
async fn the_providers_call_lists_cameos_providers_in_the_seeds_shape() {
    let world = world().await;
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let response = world
            .app
            .client
            .request(method, format!("{}/v2/providers.aspx", world.app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let list: Value = response.json().await.unwrap();
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Local", "Libravatar", "Gravatar"]);
        for provider in list.as_array().unwrap() {
            assert_eq!(provider["Cost"], 1);
            assert!(provider["ExpectedProfileFields"][0] == "Image");
        }
    }
}

#[tokio::test]
async fn unreadable_bodies_are_400_and_a_token_without_lookup_is_refused() {
    let world = world().await;
    let (status, body, _) = post(&world.app, "/v2/api.aspx", "username=crm").await;
    assert_eq!(status, 400);
    assert_eq!(body["success"], false);
    assert!(body["error"].as_str().unwrap().contains("not the JSON"));
    let huge = format!(r#"{{"email":"{}"}}"#, "a".repeat(5000));
    assert_eq!(post(&world.app, "/v2/api.aspx", &huge).await.0, 400);
    let (status, body, _) = post(
        &world.app,
        "/v2/api.aspx",
        &seed_body(&world.token, "not an address"),
    )
    .await;
    assert_eq!((status, &body["success"]), (200, &Value::Bool(false)));
    assert!(body["error"].as_str().unwrap().contains("email"), "{body}");

    let (uploader, _) = create_on_page(&world.browser, "uploader", &["avatars:write"]).await;
    let body = seed_body(&uploader, "alice@local.test").replace("crm", "uploader");
    let (status, refused, _) = post(&world.app, "/v2/api.aspx", &body).await;
    assert_eq!(status, 200);
    assert!(
        refused["error"].as_str().unwrap().contains("lookup scope"),
        "{refused}"
    );
}
