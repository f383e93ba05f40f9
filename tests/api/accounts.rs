//! Accounts, addresses and photos over HTTP, with a real SMTP listener capturing the mails.

use crate::browser::{Browser, PASSWORD, id_after};
use crate::helpers::*;
use crate::smtp::link_in;

#[tokio::test]
async fn sign_up_confirm_upload_and_assign_serves_the_photo() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "Alice@Example.org")
        .await;

    let (_, page) = browser.get("/account").await;
    assert!(page.contains("alice@example.org"));
    assert!(
        page.contains(&format!("/avatar/{}", md5_of("alice@example.org"))),
        "MD5 URL shown"
    );
    assert!(
        page.contains(&format!("/avatar/{}", sha256_of("alice@example.org"))),
        "SHA-256 URL shown"
    );

    let (status, page) = browser
        .upload(png(&red_blue_photo(300, 200)), Some((150, 0, 150)))
        .await;
    assert_eq!(status, 303);
    assert!(page.contains("The photo is uploaded"), "{page}");
    let photo_id = id_after(&page, "/account/photos/");
    let address_id = id_after(&page, "/account/addresses/");

    let hash = md5_of("alice@example.org");
    assert!(
        page.contains("The photo is uploaded and live for alice@example.org"),
        "a first photo is live at once"
    );
    let (status, _, _) = browser
        .submit(
            "/account",
            &format!("/account/photos/{photo_id}/assign"),
            &[("address", &address_id)],
        )
        .await;
    assert_eq!(status, 303);
    let image = decode(app.get(&format!("/avatar/{hash}?s=128")).await).await;
    assert_eq!(image.dimensions(), (128, 128));
    assert!(
        image.pixels().all(|p| near(p, BLUE, 40)),
        "the cropped square is the blue half"
    );

    let (status, preview) = {
        let response = browser
            .client
            .get(format!(
                "{}/account/photos/{photo_id}/preview?s=32",
                app.base
            ))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.bytes().await.unwrap())
    };
    assert_eq!(status, 200);
    assert_eq!(image::load_from_memory(&preview).unwrap().width(), 32);
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    let (status, _, _) = browser
        .post(
            "/signup",
            &[
                ("email", "x@example.org"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 403);
    browser.sign_up_and_confirm(&smtp, "csrf@example.org").await;
    let (status, _, _) = browser
        .post(
            "/account/addresses",
            &[("csrf", &"0".repeat(64)), ("email", "y@example.org")],
        )
        .await;
    assert_eq!(status, 403);
    let (status, _, _) = browser.post("/logout", &[]).await;
    assert_eq!(status, 403);
    assert_eq!(browser.get("/account").await.0, 200, "still logged in");
}

#[tokio::test]
async fn another_accounts_photos_and_addresses_cannot_be_touched() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let alice = Browser::new(&app);
    alice.sign_up_and_confirm(&smtp, "alice@example.org").await;
    let (_, page) = alice.upload(png(&solid_photo(64, RED)), None).await;
    let alice_photo = id_after(&page, "/account/photos/");
    let alice_address = id_after(&page, "/account/addresses/");
    alice
        .submit(
            "/account",
            &format!("/account/photos/{alice_photo}/assign"),
            &[("address", &alice_address)],
        )
        .await;

    let mallory = Browser::new(&app);
    mallory
        .sign_up_and_confirm(&smtp, "mallory@example.org")
        .await;
    let (_, page) = mallory.upload(png(&solid_photo(64, BLUE)), None).await;
    let mallory_photo = id_after(&page, "/account/photos/");

    let attempts = [
        (
            format!("/account/addresses/{alice_address}/photo"),
            vec![("photo", mallory_photo.clone())],
        ),
        (
            format!("/account/photos/{mallory_photo}/assign"),
            vec![("address", alice_address.clone())],
        ),
        (
            format!("/account/photos/{alice_photo}/assign"),
            vec![("address", alice_address.clone())],
        ),
        (format!("/account/photos/{alice_photo}/delete"), vec![]),
        (format!("/account/addresses/{alice_address}/remove"), vec![]),
    ];
    for (action, fields) in &attempts {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        mallory.submit("/account", action, &fields).await;
        let (_, page) = mallory.get("/account").await;
        assert!(
            page.contains("not in your account"),
            "{action}: refused in words"
        );
    }
    let preview = mallory
        .client
        .get(format!("{}/account/photos/{alice_photo}/preview", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), 404);
    let image = decode(
        app.get(&format!("/avatar/{}?s=16", md5_of("alice@example.org")))
            .await,
    )
    .await;
    assert!(
        near(image.get_pixel(8, 8), RED, 2),
        "alice's avatar is untouched"
    );
}

#[tokio::test]
async fn an_unconfirmed_address_serves_no_photo_and_its_link_works_once() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "owner@example.org")
        .await;
    browser.upload(png(&solid_photo(40, RED)), None).await;
    browser
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "second@example.org")],
        )
        .await;
    let (_, page) = browser.get("/account").await;
    assert!(page.contains("Waiting for confirmation") && page.contains("second@example.org"));
    assert_eq!(
        app.get(&format!("/avatar/{}?d=404", md5_of("second@example.org")))
            .await
            .status(),
        404
    );

    let link = link_in(&smtp.wait_for("second@example.org").await, "/confirm/");
    let path = link.trim_start_matches(&app.base).to_string();
    let (first, _, body) = browser.submit(&path, &path, &[]).await;
    assert_eq!(first, 200, "{body}");
    assert!(body.contains("second@example.org is confirmed"));
    let (again, _, body) = browser.submit(&path, &path, &[]).await;
    assert_eq!(again, 410);
    assert!(body.contains("no longer works"));
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_account_out() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let owner = Browser::new(&app);
    owner.sign_up_and_confirm(&smtp, "locked@example.org").await;
    let attacker = Browser::new(&app);
    for _ in 0..5 {
        let (status, _, body) = attacker
            .submit(
                "/login",
                "/login",
                &[
                    ("email", "locked@example.org"),
                    ("password", "wrong password!"),
                ],
            )
            .await;
        assert_eq!(status, 401);
        assert!(body.contains("Wrong email address or password"));
    }
    let (status, _, body) = attacker
        .submit(
            "/login",
            "/login",
            &[("email", "locked@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 429, "even the right password waits");
    assert!(body.contains("Too many login attempts"), "{body}");
}

#[tokio::test]
async fn login_logout_and_session_cookie_attributes() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "cookie@example.org")
        .await;
    browser.submit("/account", "/logout", &[]).await;
    assert_eq!(browser.get("/account").await.0, 303, "logged out");

    let csrf = browser.csrf_from("/login").await;
    let response = browser
        .client
        .post(format!("{}/login", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={csrf}&email=cookie%40example.org&password={}",
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("cameo_session="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http base_url");
    assert_eq!(browser.get("/account").await.0, 200);
}

#[tokio::test]
async fn password_reset_by_mail_and_password_change() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "forgetful@example.org")
        .await;
    let stranger = Browser::new(&app);
    let (_, _, body) = stranger
        .submit("/forgot", "/forgot", &[("email", "forgetful@example.org")])
        .await;
    assert!(body.contains("If there is an account"));
    let (_, _, unknown) = stranger
        .submit("/forgot", "/forgot", &[("email", "nobody@example.org")])
        .await;
    assert_eq!(
        body, unknown,
        "the same answer whether or not the account exists"
    );

    let link = link_in(&smtp.wait_for("forgetful@example.org").await, "/reset/");
    let path = link.trim_start_matches(&app.base).to_string();
    let new_password = "a brand new password";
    let (status, location, _) = stranger
        .submit(
            &path,
            &path,
            &[("password", new_password), ("password_again", new_password)],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/login?done=password_reset")
    );
    assert_eq!(
        browser.get("/account").await.0,
        303,
        "old sessions are logged out"
    );
    assert_eq!(stranger.get(&path).await.0, 410, "reset links work once");
    let (status, _, _) = stranger
        .submit(
            "/forgot",
            &path,
            &[("password", new_password), ("password_again", new_password)],
        )
        .await;
    assert_eq!(status, 410, "reset links work once");

    let (status, _, _) = browser
        .submit(
            "/login",
            "/login",
            &[("email", "forgetful@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 401, "old password is gone");
    let (status, _, _) = browser
        .submit(
            "/login",
            "/login",
            &[
                ("email", "forgetful@example.org"),
                ("password", new_password),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (status, location, _) = browser
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current", new_password),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/account?done=password_changed")
    );
}

#[tokio::test]
async fn deleting_the_account_removes_its_addresses_and_photos() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "leaving@example.org")
        .await;
    let (_, page) = browser.upload(png(&solid_photo(40, RED)), None).await;
    let photo = id_after(&page, "/account/photos/");
    let address = id_after(&page, "/account/addresses/");
    browser
        .submit(
            "/account",
            &format!("/account/photos/{photo}/assign"),
            &[("address", &address)],
        )
        .await;
    let hash = md5_of("leaving@example.org");
    assert_eq!(
        app.get(&format!("/avatar/{hash}?d=404")).await.status(),
        200
    );

    let (status, _, _) = browser
        .submit(
            "/account/delete",
            "/account/delete",
            &[("password", "not it at all")],
        )
        .await;
    assert_eq!(status, 401);
    let (status, _, body) = browser
        .submit(
            "/account/delete",
            "/account/delete",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.get(&format!("/avatar/{hash}?d=404")).await.status(),
        404
    );
    let photos = crate::helpers::count(&app.operator, "SELECT COUNT(*) FROM photos").await;
    assert_eq!(photos, 0);
    let (status, _, _) = browser
        .submit(
            "/login",
            "/login",
            &[("email", "leaving@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_new_confirmation_moves_an_address_to_another_account() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let first = Browser::new(&app);
    first.sign_up_and_confirm(&smtp, "shared@example.org").await;
    let (_, page) = first.upload(png(&solid_photo(40, RED)), None).await;
    let photo = id_after(&page, "/account/photos/");
    let address = id_after(&page, "/account/addresses/");
    first
        .submit(
            "/account",
            &format!("/account/photos/{photo}/assign"),
            &[("address", &address)],
        )
        .await;

    let second = Browser::new(&app);
    second
        .sign_up_and_confirm(&smtp, "second-owner@example.org")
        .await;
    second
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "shared@example.org")],
        )
        .await;
    let hash = md5_of("shared@example.org");
    assert_eq!(
        app.get(&format!("/avatar/{hash}?d=404")).await.status(),
        200,
        "unchanged until confirmed"
    );
    assert_eq!(
        second.confirm_from_mail(&smtp, "shared@example.org").await,
        200
    );
    assert_eq!(
        app.get(&format!("/avatar/{hash}?d=404")).await.status(),
        404,
        "detached from the first photo"
    );
    let (_, page) = first.get("/account").await;
    assert!(
        !page.contains("Current avatar of shared@example.org"),
        "gone from the first account"
    );
    let (_, page) = second.get("/account").await;
    assert!(page.contains("Current avatar of shared@example.org"));
}

#[tokio::test]
async fn refused_uploads_are_explained_in_the_page_and_the_limit_holds() {
    let (app, smtp) = spawn_app_with_mail(|c| {
        c.max_photos_per_account = 1;
    })
    .await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "uploader@example.org")
        .await;
    let (_, page) = browser.upload(b"this is not an image".to_vec(), None).await;
    assert!(
        page.contains("The photo was refused: this is not an image"),
        "{page}"
    );
    let (_, page) = browser.upload(png(&solid_photo(20, RED)), None).await;
    assert!(page.contains("The photo is uploaded"));
    assert!(
        !page.contains("id=\"upload-form\""),
        "no upload form at the limit"
    );
    let (_, page) = browser.upload(png(&solid_photo(20, RED)), None).await;
    assert!(page.contains("at most 1 photos"), "{page}");
}

#[tokio::test]
async fn closed_registration_refuses_sign_ups() {
    let app = spawn_app_with(|c| c.registration_open = false).await;
    let browser = Browser::new(&app);
    let (_, page) = browser.get("/signup").await;
    assert!(page.contains("does not take new sign-ups"));
    let (status, _, _) = browser
        .submit(
            "/login",
            "/signup",
            &[
                ("email", "a@example.org"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn addresses_can_be_restricted_to_the_served_domains() {
    let (app, smtp) = spawn_app_with_mail(|c| {
        c.domains = vec!["example.org".into()];
        c.restrict_addresses_to_domains = true;
    })
    .await;
    let browser = Browser::new(&app);
    browser
        .sign_up_and_confirm(&smtp, "member@example.org")
        .await;
    browser
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "outsider@example.net")],
        )
        .await;
    let (_, page) = browser.get("/account").await;
    assert!(
        page.contains("only takes addresses at example.org"),
        "{page}"
    );
}

#[tokio::test]
async fn openid_is_confirmed_by_a_rel_me_link() {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let (app, smtp) = spawn_app_with_mail(|c| {
        c.allow_private_probe = true;
    })
    .await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "oid@example.org").await;

    let page_html = std::sync::Arc::new(std::sync::Mutex::new(String::from("<html></html>")));
    let served = page_html.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let served = served.clone();
        App::new().route(
            "/me",
            web::get().to(move || {
                let html = served.lock().unwrap().clone();
                async move { HttpResponse::Ok().content_type("text/html").body(html) }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);

    let openid = format!("http://127.0.0.1:{port}/me");
    browser
        .submit("/account", "/account/openids", &[("openid", &openid)])
        .await;
    let (_, page) = browser.get("/account").await;
    let start = page.find("/openid/proof/").expect("proof link shown");
    let proof: String = page[start..]
        .chars()
        .take_while(|c| *c != '"' && *c != '&')
        .collect();
    let proof_url = format!("{}{proof}", app.base);

    browser
        .submit(
            "/account",
            "/account/openids/verify",
            &[("address", &openid)],
        )
        .await;
    let (_, page) = browser.get("/account").await;
    assert!(
        page.contains("has no rel=me link"),
        "not yet proven: {page}"
    );

    *page_html.lock().unwrap() =
        format!("<html><head><link rel=\"me\" href=\"{proof_url}\"></head></html>");
    browser
        .submit(
            "/account",
            "/account/openids/verify",
            &[("address", &openid)],
        )
        .await;
    let (_, page) = browser.get("/account").await;
    assert!(page.contains(&format!("{openid} is confirmed")), "{page}");
    let (_, page) = browser.upload(png(&solid_photo(30, BLUE)), None).await;
    let photo = id_after(&page, "/account/photos/");
    let address_marker = format!(">{openid}</h3>");
    assert!(page.contains(&address_marker));
    let address_ids: Vec<String> = page
        .match_indices("/account/addresses/")
        .map(|(i, _)| {
            page[i + 19..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect()
        })
        .collect();
    for id in &address_ids {
        browser
            .submit(
                "/account",
                &format!("/account/addresses/{id}/photo"),
                &[("photo", &photo)],
            )
            .await;
    }
    let hash = cameo::identity::Digest::sha256_of(&openid).to_hex();
    let image = decode(app.get(&format!("/avatar/{hash}?s=20")).await).await;
    assert!(near(image.get_pixel(10, 10), BLUE, 2));
}
