//! Opt-in public profiles: the editing form, then `/HASH.json`, `/api/v3/profiles/HASH`,
//! `/HASH.vcf`, `/HASH.qr` and `/profile/HASH`, with one 404 for everything not public.

use serde_json::Value;

use crate::browser::Browser;
use crate::helpers::*;
use crate::smtp::SmtpSink;

/// Signs `email` up and makes its profile public through the form.
async fn public_account(app: &TestApp, smtp: &SmtpSink, email: &str, name: &str) -> Browser {
    let browser = Browser::new(app);
    browser.sign_up_and_confirm(smtp, email).await;
    let (status, location, body) = save_profile(&browser, "yes", name).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/account/profile?done=saved"),
        "{body}"
    );
    browser
}

async fn save_profile(browser: &Browser, public: &str, name: &str) -> (u16, String, String) {
    browser
        .submit(
            "/account/profile",
            "/account/profile",
            &[
                ("public", public),
                ("display_name", name),
                ("about", "Analyst; poet, of sorts.\nFirst programmer."),
                ("link_label", "Notes"),
                ("link_url", "https://ada.example/notes"),
                ("link_label", ""),
                ("link_url", ""),
            ],
        )
        .await
}

async fn json(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).expect("a JSON body")
}

#[tokio::test]
async fn an_opted_in_profile_is_served_as_legacy_json_by_md5_and_sha256() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    public_account(&app, &smtp, "ada@example.org", "Ada Lovelace").await;
    for hash in [md5_of("ada@example.org"), sha256_of("ada@example.org")] {
        let requested = hash.to_uppercase();
        let response = app.get(&format!("/{requested}.json")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "access-control-allow-origin"), "*");
        assert!(header(&response, "cache-control").starts_with("public, max-age="));
        assert!(!header(&response, "x-ratelimit-limit").is_empty());
        let body = json(response).await;
        let entry = &body["entry"][0];
        let avatar = format!("{}/avatar/{hash}", app.base);
        assert_eq!(entry["hash"], hash.as_str());
        assert_eq!(entry["requestHash"], requested.as_str());
        assert_eq!(
            entry["profileUrl"],
            format!("{}/profile/{hash}", app.base).as_str()
        );
        assert_eq!(entry["preferredUsername"], "ada-lovelace");
        assert_eq!(entry["thumbnailUrl"], avatar.as_str());
        assert_eq!(entry["photos"][0]["value"], avatar.as_str());
        assert_eq!(entry["photos"][0]["type"], "thumbnail");
        assert_eq!(entry["name"]["formatted"], "Ada Lovelace");
        assert_eq!(entry["displayName"], "Ada Lovelace");
        assert_eq!(
            entry["aboutMe"],
            "Analyst; poet, of sorts.\nFirst programmer."
        );
        assert_eq!(entry["urls"][0]["value"], "https://ada.example/notes");
        assert_eq!(entry["urls"][0]["title"], "Notes");
        assert!(
            !body.to_string().contains("ada@example.org"),
            "the address is never shown"
        );
    }
}

/// Ada's public profile with every short fact filled in, and a confirmed OpenID.
async fn detailed_profile(app: &TestApp, smtp: &SmtpSink) {
    let browser = public_account(app, smtp, "ada@example.org", "Ada Lovelace").await;
    let (status, _, body) = browser
        .submit(
            "/account/profile",
            "/account/profile",
            &[
                ("public", "yes"),
                ("display_name", "Ada Lovelace"),
                ("about", "Analyst & poet"),
                ("location", " London "),
                ("job_title", "Analyst"),
                ("company", "Analytical Engines <Ltd>"),
                ("pronouns", "she/her"),
                ("pronunciation", "AY-duh"),
                ("avatar_alt_text", "Ada in a dark dress"),
                ("link_label", "Notes"),
                ("link_url", "https://ada.example/notes"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    execute(
        &app.operator,
        "INSERT INTO addresses (kind, address, user_id, confirmed_at, created_at, updated_at)
         SELECT 'openid', $1, user_id, 1, 1, 1 FROM addresses WHERE address = $2",
        &["https://ada.example/", "ada@example.org"],
    )
    .await;
}

#[tokio::test]
async fn the_v3_profile_has_every_field_the_profile_holds() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    detailed_profile(&app, &smtp).await;
    let hash = sha256_of("ada@example.org");
    let response = app.get(&format!("/api/v3/profiles/{hash}")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(!header(&response, name).is_empty(), "{name}");
    }
    let body = json(response).await;
    assert_eq!(body["hash"], hash.as_str());
    assert_eq!(body["display_name"], "Ada Lovelace");
    assert_eq!(
        body["avatar_url"],
        format!("{}/avatar/{hash}", app.base).as_str()
    );
    assert_eq!(
        body["profile_url"],
        format!("{}/profile/{hash}", app.base).as_str()
    );
    assert_eq!(body["description"], "Analyst & poet");
    assert_eq!(body["location"], "London", "trimmed");
    assert_eq!(body["job_title"], "Analyst");
    assert_eq!(body["company"], "Analytical Engines <Ltd>");
    assert_eq!(body["pronouns"], "she/her");
    assert_eq!(body["pronunciation"], "AY-duh");
    assert_eq!(body["avatar_alt_text"], "Ada in a dark dress");
    assert_eq!(body["links"][0]["url"], "https://ada.example/notes");
    assert_eq!(body["number_verified_accounts"], 1);
    assert_eq!(body["verified_accounts"][0]["service_type"], "openid");
    assert_eq!(body["verified_accounts"][0]["url"], "https://ada.example/");
    assert!(body["last_profile_edit"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn the_profile_is_served_as_xml_and_php_too() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    detailed_profile(&app, &smtp).await;
    let hash = md5_of("ada@example.org");

    let response = app.get(&format!("/{hash}.xml")).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("application/xml"));
    assert!(!header(&response, "x-ratelimit-remaining").is_empty());
    let xml = response.text().await.unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response><entry>"));
    assert!(xml.contains(&format!("<hash>{hash}</hash>")), "{xml}");
    assert!(xml.contains("<displayName>Ada Lovelace</displayName>"));
    assert!(xml.contains("<currentLocation>London</currentLocation>"));
    assert!(xml.contains("<company>Analytical Engines &lt;Ltd&gt;</company>"));
    assert!(xml.contains("<aboutMe>Analyst &amp; poet</aboutMe>"));
    assert!(
        xml.contains("<urls><title>Notes</title><value>https://ada.example/notes</value></urls>")
    );

    let response = app.get(&format!("/{hash}.php")).await;
    assert_eq!(response.status(), 200);
    let php = response.text().await.unwrap();
    assert!(php.starts_with("a:1:{s:5:\"entry\";a:1:{i:0;a:"), "{php}");
    assert!(php.contains("s:15:\"currentLocation\";s:6:\"London\";"));
    assert!(php.contains("s:11:\"displayName\";s:12:\"Ada Lovelace\";"));
    assert!(php.ends_with("}}}"));

    // A private or unknown profile is the same 404 in every format.
    for format in ["xml", "php"] {
        let unknown = app
            .get(&format!("/{}.{format}", md5_of("nobody@example.org")))
            .await;
        assert_eq!(unknown.status(), 404);
        assert_eq!(json(unknown).await["code"], "not_found");
    }
}

#[tokio::test]
async fn a_profile_fact_that_is_too_long_or_has_a_line_break_is_refused_by_name() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = public_account(&app, &smtp, "ada@example.org", "Ada Lovelace").await;
    let long = "x".repeat(101);
    let (status, _, page) = browser
        .submit(
            "/account/profile",
            "/account/profile",
            &[
                ("public", "yes"),
                ("display_name", "Ada Lovelace"),
                ("location", &long),
                ("pronouns", "she\nher"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        page.contains("Location is too long: 101 characters, at most 100."),
        "{page}"
    );
    assert!(
        page.contains("Pronouns cannot contain line breaks"),
        "{page}"
    );
    let v3 = json(
        app.get(&format!(
            "/api/v3/profiles/{}",
            sha256_of("ada@example.org")
        ))
        .await,
    )
    .await;
    assert_eq!(v3["location"], "", "nothing of the refused form was stored");
}

#[tokio::test]
async fn the_vcard_has_a_formatted_name_and_crlf_lines() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    public_account(&app, &smtp, "ada@example.org", "Ada, Countess; Lovelace").await;
    let response = app
        .get(&format!("/{}.vcf", md5_of("ada@example.org")))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "text/vcard; charset=utf-8"
    );
    assert!(!header(&response, "x-ratelimit-limit").is_empty());
    let card = response.text().await.unwrap();
    assert!(card.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\n"), "{card}");
    assert!(card.ends_with("END:VCARD\r\n"));
    assert!(
        !card.replace("\r\n", "").contains('\n'),
        "every line ends in CRLF"
    );
    assert!(
        card.contains("FN:Ada\\, Countess\\; Lovelace\r\n"),
        "{card}"
    );
    let unfolded = card.replace("\r\n ", "");
    assert!(unfolded.contains("NOTE:Analyst\\; poet\\, of sorts.\\nFirst programmer.\r\n"));
    assert!(card.lines().all(|line| line.len() <= 75));

    // Parsed as a vCard reader would: unfolded content lines, NAME[;PARAMS]:VALUE.
    let properties: Vec<(String, String)> = unfolded
        .split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (name, value) = line.split_once(':').expect("NAME:VALUE");
            let name = name.split(';').next().unwrap().to_ascii_uppercase();
            (name, value.to_string())
        })
        .collect();
    let values = |wanted: &str| -> Vec<&str> {
        properties
            .iter()
            .filter(|(name, _)| name == wanted)
            .map(|(_, value)| value.as_str())
            .collect()
    };
    let profile_url = profile_url_of(&app, "ada@example.org").await;
    assert_eq!(values("FN"), ["Ada\\, Countess\\; Lovelace"]);
    assert_eq!(
        values("URL"),
        [profile_url.as_str(), "https://ada.example/notes"]
    );
    assert_eq!(values("NICKNAME"), ["ada-countess-lovelace"]);
    // No photo uploaded: a generated default is not a picture of anyone.
    assert!(values("PHOTO").is_empty(), "{card}");
}

/// The profile URL the legacy JSON gives for `email`.
async fn profile_url_of(app: &TestApp, email: &str) -> String {
    let body = json(app.get(&format!("/{}.json", md5_of(email))).await).await;
    body["entry"][0]["profileUrl"]
        .as_str()
        .expect("profileUrl")
        .to_string()
}

/// The text of the QR code in `image`, read back with rqrr.
fn read_qr_code(image: &image::RgbaImage) -> String {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        image.width() as usize,
        image.height() as usize,
        |x, y| image.get_pixel(x as u32, y as u32)[0],
    );
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    let (_, content) = grids[0].decode().expect("a readable QR code");
    content
}

#[tokio::test]
async fn the_qr_code_is_a_black_and_white_png_of_the_requested_size() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    public_account(&app, &smtp, "ada@example.org", "Ada").await;
    let hash = md5_of("ada@example.org");
    let profile_url = profile_url_of(&app, "ada@example.org").await;
    assert!(
        profile_url.ends_with(&format!("/profile/{hash}")),
        "{profile_url}"
    );
    for (query, side) in [("", 200), ("?s=300", 300), ("?s=5", 64), ("?s=99999", 1024)] {
        let response = app.get(&format!("/{hash}.qr{query}")).await;
        assert_eq!(response.status(), 200, "{query}");
        assert!(!header(&response, "x-ratelimit-limit").is_empty());
        let image = decode(response).await;
        assert_eq!(image.dimensions(), (side, side), "{query}");
        assert!(
            image
                .pixels()
                .all(|p| near(p, [0, 0, 0], 0) || near(p, [255, 255, 255], 0)),
            "{query}: black and white only"
        );
        assert!(
            near(image.get_pixel(0, 0), [255, 255, 255], 0),
            "quiet zone"
        );
        assert_eq!(
            read_qr_code(&image),
            profile_url,
            "{query}: the QR code reads back"
        );
    }
}

#[tokio::test]
async fn private_unknown_and_unconfirmed_hashes_get_the_same_404() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let private = Browser::new(&app);
    private
        .sign_up_and_confirm(&smtp, "quiet@example.org")
        .await;
    let owner = public_account(&app, &smtp, "ada@example.org", "Ada").await;
    owner
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "pending@example.org")],
        )
        .await;
    let opted_out = public_account(&app, &smtp, "gone@example.org", "Gone").await;
    let (status, _, _) = save_profile(&opted_out, "", "Gone").await;
    assert_eq!(status, 303);

    let mut bodies = Vec::new();
    for address in [
        "quiet@example.org",
        "pending@example.org",
        "gone@example.org",
        "nobody@example.org",
    ] {
        for path in [
            format!("/{}.json", md5_of(address)),
            format!("/{}.json", sha256_of(address)),
            format!("/api/v3/profiles/{}", md5_of(address)),
            format!("/{}.vcf", md5_of(address)),
            format!("/{}.qr", md5_of(address)),
        ] {
            let response = app.get(&path).await;
            assert_eq!(response.status(), 404, "{path}");
            assert!(!header(&response, "x-ratelimit-limit").is_empty(), "{path}");
            let body = json(response).await;
            assert_eq!(body["code"], "not_found", "{path}");
            bodies.push(body);
        }
        let page = app.get(&format!("/profile/{}", md5_of(address))).await;
        assert_eq!(page.status(), 404, "{address}: the HTML page too");
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "one answer for all: {bodies:?}"
    );
}

#[tokio::test]
async fn a_malformed_hash_is_refused_with_400() {
    let app = spawn_app().await;
    for path in [
        "/api/v3/profiles/abc",
        "/api/v3/profiles/zz",
        "/abc.json",
        "/abc.vcf",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 400, "{path}");
        assert!(!header(&response, "x-ratelimit-limit").is_empty(), "{path}");
        let body = json(response).await;
        assert_eq!(body["code"], "invalid_hash", "{path}");
        assert!(body["error"].is_string());
    }
    let response = app.get(&format!("/{}.qr?s=big", "a".repeat(32))).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn root_profile_routes_leave_other_root_routes_alone() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/login").await.status(), 200);
    assert_eq!(app.get("/static/style.css").await.status(), 200);
    let response = app.get("/manifest.json").await;
    assert_eq!(response.status(), 404);
    assert!(
        header(&response, "x-ratelimit-limit").is_empty(),
        "not a profile route"
    );
}

#[tokio::test]
async fn the_public_page_shows_the_profile_with_safe_links() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    public_account(&app, &smtp, "ada@example.org", "Ada <Lovelace>").await;
    let hash = sha256_of("ada@example.org");
    let response = app.get(&format!("/profile/{hash}")).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Ada &#60;Lovelace&#62;") || page.contains("Ada &lt;Lovelace&gt;"));
    assert!(page.contains(&format!("/avatar/{hash}?s=128")));
    assert!(page.contains(r#"href="https://ada.example/notes" rel="nofollow noopener me""#));
    assert!(page.contains("First programmer."));
    assert!(!page.contains("ada@example.org"));
}

#[tokio::test]
async fn a_refused_form_explains_every_problem_and_keeps_what_was_typed() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "ada@example.org").await;
    let long_name = "n".repeat(65);
    let (status, _, page) = browser
        .submit(
            "/account/profile",
            "/account/profile",
            &[
                ("public", "yes"),
                ("display_name", &long_name),
                ("about", "kept text"),
                ("link_label", "Evil"),
                ("link_url", "javascript:alert(1)"),
                ("link_label", ""),
                ("link_url", "https://ada.example"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("The display name is too long"), "{page}");
    assert!(page.contains("The URL of link 1 must start with https:// or http://."));
    assert!(page.contains("Link 2 needs a label."));
    assert!(page.contains("kept text") && page.contains(&long_name));
    let hash = md5_of("ada@example.org");
    assert_eq!(
        app.get(&format!("/{hash}.json")).await.status(),
        404,
        "nothing saved"
    );
}

#[tokio::test]
async fn one_account_cannot_edit_another_accounts_profile() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    public_account(&app, &smtp, "ada@example.org", "Ada").await;
    let mallory = public_account(&app, &smtp, "mallory@example.org", "Mallory").await;
    // The form has no account field: whatever is posted, only the poster's profile changes.
    let (status, _, _) = mallory
        .submit(
            "/account/profile",
            "/account/profile",
            &[("public", ""), ("display_name", "Hacked"), ("user_id", "1")],
        )
        .await;
    assert_eq!(status, 303);
    let ada = json(
        app.get(&format!("/{}.json", md5_of("ada@example.org")))
            .await,
    )
    .await;
    assert_eq!(ada["entry"][0]["displayName"], "Ada");
    let response = app
        .get(&format!("/{}.json", md5_of("mallory@example.org")))
        .await;
    assert_eq!(
        response.status(),
        404,
        "mallory made only her own profile private"
    );

    let stranger = Browser::new(&app);
    let csrf = stranger.csrf_from("/login").await;
    let (status, location, _) = stranger
        .post(
            "/account/profile",
            &[("csrf", &csrf), ("public", "yes"), ("display_name", "X")],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/login"),
        "no account, no edit"
    );
}

#[tokio::test]
async fn the_profile_form_without_its_csrf_token_is_refused() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = public_account(&app, &smtp, "ada@example.org", "Ada").await;
    for csrf in [String::new(), "0".repeat(64)] {
        let (status, _, _) = browser
            .post(
                "/account/profile",
                &[("csrf", &csrf), ("public", ""), ("display_name", "Changed")],
            )
            .await;
        assert_eq!(status, 403);
    }
    let body = json(
        app.get(&format!("/{}.json", md5_of("ada@example.org")))
            .await,
    )
    .await;
    assert_eq!(body["entry"][0]["displayName"], "Ada", "unchanged");
}

#[tokio::test]
async fn the_editing_page_shows_the_saved_profile_and_its_urls() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = public_account(&app, &smtp, "ada@example.org", "Ada").await;
    let (status, page) = browser.get("/account/profile?done=saved").await;
    assert_eq!(status, 200);
    assert!(page.contains("Your profile is saved."));
    assert!(page.contains(r#"name="public" value="yes" checked"#));
    assert!(page.contains(r#"value="https://ada.example/notes""#));
    assert!(page.contains(&format!("/profile/{}", sha256_of("ada@example.org"))));
    let (_, account) = browser.get("/account").await;
    assert!(account.contains(r#"href="/account/profile""#));
}

#[tokio::test]
async fn a_lookup_names_the_owner_of_a_public_profile_and_only_then() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = public_account(&app, &smtp, "ada@example.org", "Ada Lovelace").await;
    app.add_photo("ada@example.org", &png(&solid_photo(32, RED)))
        .await;
    let lookup = |app: &TestApp| {
        let url = format!(
            "{}/api/v1/lookup?email=ada@example.org&providers=local",
            app.base
        );
        let client = app.client.clone();
        async move {
            let body: serde_json::Value =
                client.get(url).send().await.unwrap().json().await.unwrap();
            body
        }
    };
    let body = lookup(&app).await;
    assert_eq!(body["source"]["name"], "local");
    assert_eq!(body["name"], "Ada Lovelace");

    save_profile(&browser, "", "Ada Lovelace").await;
    // A new answer after the cache: ask for another provider list to skip the cached one.
    let url = format!(
        "{}/api/v1/lookup?email=ada@example.org&providers=local,gravatar",
        app.base
    );
    let body: serde_json::Value = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["source"]["name"], "local");
    assert!(
        body.get("name").is_none(),
        "a private profile lends no name: {body}"
    );
}
