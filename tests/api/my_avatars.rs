//! Gravatar's `/v3/me/avatars` family against the real server, with requests shaped as in
//! seed 001 and Gravatar's SDKs: upload (multipart `image`), list, choose for an address,
//! delete; the seed's refusals (`uncropped_image`, `unsupported_image`, `insufficient_scope`)
//! and Cameo's own; tokens scoped on the token page and by `cameo token create --scope`; no
//! account reaching another's photos.

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::api_tokens::create_on_page;
use crate::browser::Browser;
use crate::helpers::*;

const ME: &str = "/api/v3/me/avatars";

struct Account {
    browser: Browser,
    /// A token with avatars:read and avatars:write.
    token: String,
    sha256: String,
}

async fn account(app: &TestApp, smtp: &crate::smtp::SmtpSink, email: &str) -> Account {
    let browser = Browser::new(app);
    browser.sign_up_and_confirm(smtp, email).await;
    let (token, _) = create_on_page(&browser, "app", &["avatars:read", "avatars:write"]).await;
    Account {
        browser,
        token,
        sha256: sha256_of(email),
    }
}

fn image_form(bytes: Vec<u8>, file_name: &str) -> Form {
    Form::new().part("image", Part::bytes(bytes).file_name(file_name.to_string()))
}

async fn upload(app: &TestApp, token: &str, query: &str, form: Form) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}{ME}{query}", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    json: Option<Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, format!("{}{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(json) = json {
        request = request.json(&json);
    }
    request.send().await.unwrap()
}

async fn list(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let response = call(
        app,
        reqwest::Method::GET,
        &format!("{ME}{query}"),
        Some(token),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-ratelimit-remaining"));
    response.json::<Vec<Value>>().await.unwrap()
}

async fn served_colour(app: &TestApp, sha256: &str) -> image::Rgba<u8> {
    let picture = decode(app.get(&format!("/avatar/{sha256}?s=16")).await).await;
    assert_eq!(picture.dimensions(), (16, 16));
    *picture.get_pixel(8, 8)
}

#[tokio::test]
async fn an_app_uploads_chooses_lists_and_deletes_its_users_avatar() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let ada = account(&app, &smtp, "ada@example.org").await;

    let query = format!("?selected_email_hash={}&select_avatar=true", ada.sha256);
    let (status, red) = upload(
        &app,
        &ada.token,
        &query,
        image_form(png(&solid_photo(96, RED)), "red.png"),
    )
    .await;
    assert_eq!(status, 200, "{red}");
    assert_eq!(
        red["image_url"],
        format!("{}/avatar/{}", app.base, ada.sha256)
    );
    assert_eq!(red["selected"], true);
    assert_eq!(red["rating"], "G");
    assert!(red["updated_date"].as_str().unwrap().ends_with('Z'));
    assert!(
        near(&served_colour(&app, &ada.sha256).await, RED, 30),
        "live at once"
    );

    let (status, blue) = upload(
        &app,
        &ada.token,
        "",
        image_form(png(&solid_photo(80, BLUE)), "blue.png"),
    )
    .await;
    assert_eq!(status, 200, "{blue}");
    let blue_id = blue["image_id"].as_str().unwrap().to_string();
    assert_eq!(blue["selected"], false);
    let private_url = blue["image_url"].as_str().unwrap();
    assert_eq!(private_url, format!("{}{ME}/{blue_id}/image", app.base));
    let private = app
        .client
        .get(format!("{private_url}?s=20"))
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    let picture = decode(private).await;
    assert_eq!(picture.dimensions(), (20, 20));
    assert!(near(picture.get_pixel(10, 10), BLUE, 30));
    assert!(
        near(&served_colour(&app, &ada.sha256).await, RED, 30),
        "not chosen yet"
    );

    let listed = list(
        &app,
        &ada.token,
        &format!("?selected_email_hash={}", ada.sha256),
    )
    .await;
    let selected: Vec<(String, bool)> = listed
        .iter()
        .map(|a| {
            (
                a["image_id"].as_str().unwrap().to_string(),
                a["selected"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(selected.len(), 2);
    assert_eq!(selected.iter().filter(|(_, s)| *s).count(), 1);
    assert!(selected.contains(&(blue_id.clone(), false)));

    let chosen = call(
        &app,
        reqwest::Method::POST,
        &format!("{ME}/{blue_id}/email"),
        Some(&ada.token),
        Some(serde_json::json!({ "email_hash": ada.sha256 })),
    )
    .await;
    assert_eq!(chosen.status(), 204);
    assert!(
        near(&served_colour(&app, &ada.sha256).await, BLUE, 30),
        "the new choice is served"
    );
    let md5 = md5_of("ada@example.org");
    let by_md5 = call(
        &app,
        reqwest::Method::POST,
        &format!("{ME}/{}/email", red["image_id"].as_str().unwrap()),
        Some(&ada.token),
        Some(serde_json::json!({ "email_hash": md5 })),
    )
    .await;
    assert_eq!(by_md5.status(), 204, "an MD5 names the address too");
    assert!(near(&served_colour(&app, &ada.sha256).await, RED, 30));

    let red_id = red["image_id"].as_str().unwrap();
    let deleted = call(
        &app,
        reqwest::Method::DELETE,
        &format!("{ME}/{red_id}"),
        Some(&ada.token),
        None,
    )
    .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        app.get(&format!("/avatar/{}?d=404", ada.sha256))
            .await
            .status(),
        404,
        "the address shows none"
    );
    assert_eq!(list(&app, &ada.token, "").await.len(), 1);
    let again = call(
        &app,
        reqwest::Method::DELETE,
        &format!("{ME}/{red_id}"),
        Some(&ada.token),
        None,
    )
    .await;
    assert_eq!(again.status(), 404);
}

async fn error_code(status_and_body: (u16, Value)) -> (u16, String) {
    let (status, body) = status_and_body;
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    (status, body["code"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn uploads_are_refused_with_the_seeds_codes_and_nothing_is_kept() {
    let (app, smtp) = spawn_app_with_mail(|c| c.max_upload_bytes = 200_000).await;
    let ada = account(&app, &smtp, "ada@example.org").await;
    let wide = image_form(png(&red_blue_photo(120, 60)), "wide.png");
    assert_eq!(
        error_code(upload(&app, &ada.token, "", wide).await).await,
        (400, "uncropped_image".to_string())
    );
    let svg = image_form(
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
        "a.svg",
    );
    assert_eq!(
        error_code(upload(&app, &ada.token, "", svg).await).await,
        (400, "unsupported_image".to_string())
    );
    let huge = image_form(vec![0x89; 200_001], "big.png");
    assert_eq!(
        error_code(upload(&app, &ada.token, "", huge).await).await,
        (413, "file_too_large".to_string())
    );
    let no_image = Form::new().text("name", "x");
    assert_eq!(upload(&app, &ada.token, "", no_image).await.0, 400);
    let elsewhere = format!("?selected_email_hash={}", sha256_of("bob@example.org"));
    let square = image_form(png(&solid_photo(64, RED)), "a.png");
    assert_eq!(
        error_code(upload(&app, &ada.token, &elsewhere, square).await).await,
        (404, "not_found".to_string())
    );
    assert!(
        list(&app, &ada.token, "").await.is_empty(),
        "no refused upload was kept"
    );
}

#[tokio::test]
async fn scopes_decide_what_a_token_may_do() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let ada = account(&app, &smtp, "ada@example.org").await;
    let (lookup_only, _) = create_on_page(&ada.browser, "reader", &["lookup"]).await;
    let (list_only, _) = create_on_page(&ada.browser, "gallery", &["avatars:read"]).await;

    let refused = call(&app, reqwest::Method::GET, ME, Some(&lookup_only), None).await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "insufficient_scope");
    assert!(body["error"].as_str().unwrap().contains("avatars:read"));

    assert_eq!(list(&app, &list_only, "").await.len(), 0);
    let form = image_form(png(&solid_photo(64, RED)), "a.png");
    assert_eq!(
        error_code(upload(&app, &list_only, "", form).await).await,
        (403, "insufficient_scope".to_string())
    );
    let lookup = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/providers",
        Some(&list_only),
        None,
    )
    .await;
    assert_eq!(lookup.status(), 403, "the read API needs the lookup scope");
    let lookup = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/providers",
        Some(&lookup_only),
        None,
    )
    .await;
    assert_eq!(lookup.status(), 200);

    let anonymous = call(&app, reqwest::Method::GET, ME, None, None).await;
    assert_eq!(
        anonymous.status(),
        401,
        "an account's photos need its token"
    );
    let (_, page) = ada.browser.get("/account/tokens").await;
    assert!(
        page.contains("avatars:read avatars:write"),
        "the page shows each token's scopes"
    );

    let nobody = ada
        .browser
        .submit("/account/tokens", "/account/tokens", &[("name", "none")])
        .await;
    assert_eq!(nobody.0, 400);
    assert!(
        nobody.2.contains("at least one thing"),
        "a token needs a scope"
    );

    let cli = app.cameo(&[
        "token",
        "create",
        "--account",
        "ada@example.org",
        "--name",
        "deploy",
        "--scope",
        "avatars:write",
        "--scope",
        "avatars:read",
    ]);
    assert!(cli.status.success(), "{}", stderr(&cli));
    let made = stdout(&cli).trim().to_string();
    assert_eq!(
        list(&app, &made, "").await.len(),
        0,
        "the CLI's token works with its scopes"
    );
    let wrong = app.cameo(&[
        "token",
        "create",
        "--account",
        "ada@example.org",
        "--name",
        "x",
        "--scope",
        "admin",
    ]);
    assert!(!wrong.status.success());
    assert!(
        stderr(&wrong).contains("unknown scope"),
        "{}",
        stderr(&wrong)
    );
}

#[tokio::test]
async fn no_account_reaches_anothers_photos_or_addresses() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let ada = account(&app, &smtp, "ada@example.org").await;
    let bob = account(&app, &smtp, "bob@example.org").await;
    let query = format!("?selected_email_hash={}", ada.sha256);
    let (_, adas) = upload(
        &app,
        &ada.token,
        &query,
        image_form(png(&solid_photo(64, RED)), "a.png"),
    )
    .await;
    let adas_id = adas["image_id"].as_str().unwrap();
    let (_, bobs) = upload(
        &app,
        &bob.token,
        "",
        image_form(png(&solid_photo(64, BLUE)), "b.png"),
    )
    .await;
    let bobs_id = bobs["image_id"].as_str().unwrap();

    for (method, path, body) in [
        (reqwest::Method::DELETE, format!("{ME}/{adas_id}"), None),
        (reqwest::Method::GET, format!("{ME}/{adas_id}/image"), None),
        (
            reqwest::Method::POST,
            format!("{ME}/{adas_id}/email"),
            Some(serde_json::json!({ "email_hash": bob.sha256 })),
        ),
        (
            reqwest::Method::POST,
            format!("{ME}/{bobs_id}/email"),
            Some(serde_json::json!({ "email_hash": ada.sha256 })),
        ),
    ] {
        let response = call(&app, method, &path, Some(&bob.token), body).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    assert!(
        near(&served_colour(&app, &ada.sha256).await, RED, 30),
        "ada's photo is untouched"
    );
    assert_eq!(list(&app, &ada.token, "").await.len(), 1);
    let ids: Vec<String> = list(&app, &bob.token, "")
        .await
        .iter()
        .map(|a| a["image_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, [bobs_id.to_string()], "bob lists only his own");
}

#[tokio::test]
async fn the_openapi_document_and_the_api_page_describe_the_avatar_calls() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let upload = &doc["paths"]["/api/v3/me/avatars"]["post"];
    assert!(
        upload["requestBody"]["content"]["multipart/form-data"].is_object(),
        "{upload}"
    );
    assert!(
        upload["responses"]["400"]["description"]
            .as_str()
            .unwrap()
            .contains("uncropped_image")
    );
    assert!(doc["paths"]["/api/v3/me/avatars/{image_id}/email"]["post"].is_object());
    assert!(doc["paths"]["/api/v3/me/avatars/{image_id}"]["delete"].is_object());
    assert!(doc["components"]["schemas"]["Avatar"]["properties"]["image_url"].is_object());

    let html = app.get("/tools/api").await.text().await.unwrap();
    for example in [
        "-F 'image=@photo.png'",
        "files={\"image\": image}",
        "form.append(\"image\"",
        &format!("{}/v2/api.aspx", app.base),
        "insufficient_scope",
    ] {
        assert!(html.contains(example), "{example} on the API page");
    }
}

#[tokio::test]
async fn a_flood_of_uploads_is_cut_at_the_tokens_budget_before_any_decode() {
    const LIMIT: u32 = 5;
    let (app, smtp) = spawn_app_with_mail(|c| c.api_token_rate_limit = LIMIT).await;
    let ada = account(&app, &smtp, "ada@example.org").await;
    let photo = png(&solid_photo(256, RED));
    let uploads = (0..24).map(|_| {
        let (app, token, photo) = (&app, ada.token.clone(), photo.clone());
        async move { upload(app, &token, "", image_form(photo, "a.png")).await }
    });
    let answers = futures_util::future::join_all(uploads).await;
    let stored = answers.iter().filter(|(status, _)| *status == 200).count();
    let refused = answers.iter().filter(|(status, _)| *status == 429).count();
    assert_eq!(stored, LIMIT as usize, "{answers:?}");
    assert_eq!(refused, 24 - LIMIT as usize);
    assert!(
        answers
            .iter()
            .filter(|(status, _)| *status == 429)
            .all(|(_, body)| body["code"] == "rate_limit_exceeded")
    );
    let photos = count(&app.operator, "SELECT COUNT(*) FROM photos").await;
    assert_eq!(
        photos,
        i64::from(LIMIT),
        "nothing past the budget was decoded or kept"
    );
}
