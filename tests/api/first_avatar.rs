//! A newcomer's first avatar over HTTP (issue 16): the first upload is live at once, pending
//! addresses resend their link within the throttles, removing and deleting ask first, the
//! confirm page names its address, HTML errors are styled pages (machines keep plain text),
//! a development server says it sends no mail, form errors sit beside their fields, a
//! 50-megapixel JPEG is accepted, and each address says whether its domain points here.

use crate::browser::{Browser, PASSWORD, id_after};
use crate::dns_server::{start_dns_server, zone_head};
use crate::helpers::*;
use crate::smtp::link_in;

#[tokio::test]
async fn a_first_upload_is_live_at_once_for_every_address_without_a_photo() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "ann@example.org").await;

    let (status, page) = browser.upload(png(&solid_photo(200, RED)), None).await;
    assert_eq!(status, 303);
    assert!(
        page.contains("The photo is uploaded and live for ann@example.org"),
        "{page}"
    );
    let hash = md5_of("ann@example.org");
    let image = decode(app.get(&format!("/avatar/{hash}?s=64")).await).await;
    assert_eq!(image.dimensions(), (64, 64));
    assert!(image.pixels().all(|p| near(p, RED, 30)), "served at once");
    assert!(page.contains("class=\"live\""), "the live photo is marked");
    assert!(
        !page.contains("(png, 200×200)"),
        "photos are thumbnails, not names"
    );

    // A second photo does not replace the live one: the address already shows a photo.
    let (_, page) = browser.upload(png(&solid_photo(200, BLUE)), None).await;
    assert!(page.contains("Choose it for an address below"), "{page}");
    let image = decode(app.get(&format!("/avatar/{hash}?s=64")).await).await;
    assert!(image.pixels().all(|p| near(p, RED, 30)), "still the first");
}

#[tokio::test]
async fn a_small_photo_is_accepted_with_a_warning() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "sam@example.org").await;
    let (status, page) = browser.upload(png(&solid_photo(64, RED)), None).await;
    assert_eq!(status, 303);
    assert!(page.contains("It is only 64×64 pixels"), "{page}");
    let image = decode(
        app.get(&format!("/avatar/{}?s=64", md5_of("sam@example.org")))
            .await,
    )
    .await;
    assert!(image.pixels().all(|p| near(p, RED, 30)));
}

#[tokio::test]
async fn a_fifty_megapixel_jpeg_is_accepted_at_reduced_scale() {
    // An 8160×6120 phone photo: more than the 40-megapixel limit at full size. Encoded first:
    // it takes seconds, longer than the server keeps an idle connection.
    let jpeg = encode(&red_blue_photo(8160, 6120), image::ImageFormat::Jpeg);
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    assert!((jpeg.len() as u64) < app.config.max_upload_bytes);
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "phil@example.org").await;
    let (status, page) = browser.upload(jpeg, None).await;
    assert_eq!(status, 303);
    assert!(page.contains("The photo is uploaded and live"), "{page}");
    let image = decode(
        app.get(&format!("/avatar/{}?s=128", md5_of("phil@example.org")))
            .await,
    )
    .await;
    assert_eq!(image.dimensions(), (128, 128));
    // The centred square of a red|blue photo: red on its left, blue on its right.
    assert!(near(image.get_pixel(10, 64), RED, 40));
    assert!(near(image.get_pixel(117, 64), BLUE, 40));
}

#[tokio::test]
async fn a_corrupt_file_is_called_not_a_valid_image() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "cora@example.org").await;
    let mut jpeg = encode(&red_blue_photo(300, 200), image::ImageFormat::Jpeg);
    // Keep the header, scramble everything after it.
    for (i, byte) in jpeg.iter_mut().enumerate().skip(30) {
        *byte = (i * 7919 % 251) as u8;
    }
    let (_, page) = browser.upload(jpeg, None).await;
    assert!(page.contains("not a valid image"), "{page}");
    assert!(!page.contains("pixels; at most"), "{page}");
}

#[tokio::test]
async fn html_errors_are_styled_pages_and_machines_keep_plain_text() {
    let app = spawn_app().await;
    let page_of = |path: &'static str| {
        let client = app.client.clone();
        let url = format!("{}{path}", app.base);
        async move {
            let response = client
                .get(url)
                .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let kind = header(&response, "content-type");
            (status, kind, response.text().await.unwrap())
        }
    };
    for path in ["/no/such/page", "/confirm/not-a-token", "/reset/xyz"] {
        let (status, kind, body) = page_of(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        assert!(body.contains("<h1>Nothing here</h1>"), "{path}: {body}");
        assert!(body.contains("href=\"/\""), "a way home");
        assert!(body.contains("/static/favicon.svg"), "the favicon");
    }
    let unknown = format!("/profile/{}", sha256_of("nobody@example.org"));
    let response = app
        .client
        .get(format!("{}{unknown}", app.base))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("there is no public profile for this hash"),
        "{body}"
    );

    // Image and API clients, and clients that do not ask for HTML, keep one line of text.
    let (status, kind, body) = page_of("/avatar/zzz").await;
    assert_eq!(status, 400);
    assert!(kind.starts_with("text/plain"), "{kind}");
    assert!(!body.contains("<html"));
    let plain = app.get("/no/such/page").await;
    assert_eq!(plain.status(), 404);
    assert!(header(&plain, "content-type").starts_with("text/plain"));

    // A method a page does not take: a page too, still naming the methods it takes.
    let response = app
        .client
        .post(format!("{}/tools/defaults", app.base))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), "GET, HEAD");
    assert!(header(&response, "content-type").starts_with("text/html"));
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This page cannot do that")
    );

    let icon = app.get("/static/favicon.svg").await;
    assert_eq!(header(&icon, "content-type"), "image/svg+xml");
    assert!(icon.text().await.unwrap().starts_with("<svg"));
}

#[tokio::test]
async fn the_confirm_page_names_its_address_and_a_used_link_says_what_to_do() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    let (status, _, _) = browser
        .submit(
            "/signup",
            "/signup",
            &[
                ("email", "Dora@Example.org"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let link = link_in(&smtp.wait_for("dora@example.org").await, "/confirm/");
    let path = link.trim_start_matches(&app.base).to_string();
    let (status, page) = browser.get(&path).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<strong id=\"confirming\">dora@example.org</strong>"),
        "{page}"
    );
    assert!(
        !page.contains("will show the photo you choose"),
        "no promise it cannot keep"
    );
    let (status, _, _) = browser.submit(&path, &path, &[]).await;
    assert_eq!(status, 200);
    let (status, page) = browser.get(&path).await;
    assert_eq!(status, 410);
    assert!(page.contains("Send the link again"), "{page}");
}

#[tokio::test]
async fn a_pending_address_resends_its_link_within_the_throttles() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "rita@example.org").await;
    browser
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "rita@work.example")],
        )
        .await;
    smtp.wait_for("rita@work.example").await;
    let (_, page) = browser.get("/account").await;
    assert!(page.contains("Send the link again"), "{page}");

    // At once: refused with when to try, and no second mail.
    let (status, _, _) = browser
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "rita@work.example")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, page) = browser.get("/account").await;
    assert!(page.contains("a few minutes ago"), "{page}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(smtp.mails_to("rita@work.example").len(), 1);

    // After the cool-down a second link goes out, and it works.
    execute(
        &app.operator,
        "UPDATE tokens SET created_at = created_at - 3600 WHERE used_at IS NULL",
        &[],
    )
    .await;
    browser
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "rita@work.example")],
        )
        .await;
    for _ in 0..100 {
        if smtp.mails_to("rita@work.example").len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mails = smtp.mails_to("rita@work.example");
    assert_eq!(mails.len(), 2, "resent");
    let link = link_in(&mails[1], "/confirm/");
    let path = link.trim_start_matches(&app.base).to_string();
    let (status, _, page) = browser.submit(&path, &path, &[]).await;
    assert_eq!(status, 200, "{page}");
}

#[tokio::test]
async fn removing_an_address_and_deleting_a_photo_ask_first() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "ella@example.org").await;
    let (_, page) = browser.upload(png(&solid_photo(200, RED)), None).await;
    let photo_id = id_after(&page, "/account/photos/");
    let address_id = id_after(&page, "/account/addresses/");
    assert!(
        !page.contains("<button type=\"submit\" class=\"danger\""),
        "no one-click delete"
    );

    let (status, ask) = browser
        .get(&format!("/account/photos/{photo_id}/delete"))
        .await;
    assert_eq!(status, 200);
    assert!(ask.contains("Delete this photo?"), "{ask}");
    assert!(
        ask.contains("It is the live photo of ella@example.org"),
        "{ask}"
    );
    assert!(ask.contains(&format!("action=\"/account/photos/{photo_id}/delete\"")));
    let (status, ask) = browser
        .get(&format!("/account/addresses/{address_id}/remove"))
        .await;
    assert_eq!(status, 200);
    assert!(ask.contains("Remove ella@example.org?"), "{ask}");

    let hash = md5_of("ella@example.org");
    assert_eq!(
        app.get(&format!("/avatar/{hash}?d=404")).await.status(),
        200
    );
    let path = format!("/account/addresses/{address_id}/remove");
    let (status, _, _) = browser.submit(&path, &path, &[]).await;
    assert_eq!(status, 303);
    assert_eq!(
        app.get(&format!("/avatar/{hash}?d=404")).await.status(),
        404
    );
}

#[tokio::test]
async fn a_server_without_smtp_says_links_are_in_its_log() {
    let app = spawn_app().await;
    assert!(app.config.smtp_url.is_empty());
    let browser = Browser::new(&app);
    for path in ["/signup", "/forgot"] {
        let (_, page) = browser.get(path).await;
        assert!(
            page.contains("This server sends no mail: links are in its log."),
            "{path}: {page}"
        );
        assert!(page.contains(cameo::mail::LOG_TRANSPORT_LINE), "{path}");
    }
    let (_, location, _) = browser
        .submit(
            "/signup",
            "/signup",
            &[
                ("email", "lee@example.org"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    let (_, page) = browser.get(&location).await;
    assert!(
        page.contains("this\n  server sends no mail") || page.contains("server sends no mail"),
        "{page}"
    );
    assert!(!page.contains("We sent a mail"), "{page}");
}

#[tokio::test]
async fn sign_up_errors_sit_beside_their_fields_and_never_mention_openid() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let (status, _, page) = browser
        .submit(
            "/signup",
            "/signup",
            &[
                ("email", "https://example.org/me"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        page.contains("aria-invalid=\"true\" aria-describedby=\"email-error\""),
        "{page}"
    );
    assert!(page.contains("<p class=\"field-error\" id=\"email-error\">Enter an email address"));
    assert!(!page.contains("OpenID"), "{page}");
    let (status, _, page) = browser
        .submit(
            "/signup",
            "/signup",
            &[
                ("email", "al@example.org"),
                ("password", PASSWORD),
                ("password_again", "other words here"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        page.contains("id=\"password_again-error\">The two passwords differ."),
        "{page}"
    );
}

#[tokio::test]
async fn each_address_says_whether_its_domain_points_here() {
    let dns = start_dns_server("example.test", &zone_head("example.test")).await;
    let dns_addr = dns.addr;
    let (app, smtp) = spawn_app_with_mail(|c| c.dns_servers = vec![dns_addr]).await;
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    dns.add_records(&format!(
        "avatars IN A 127.0.0.1\n\
         _avatars._tcp IN SRV 0 0 {port} avatars.example.test.\n\
         other IN A 192.0.2.10\n\
         _avatars-sec._tcp.away IN SRV 0 0 443 other.example.test.\n\
         away IN A 192.0.2.11\n"
    ))
    .await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "ivy@example.test").await;

    // Adding an address whose domain has no records warns at once.
    browser
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "ivy@nowhere.example.test")],
        )
        .await;
    let (_, page) = browser.get("/account").await;
    assert!(
        page.contains("Note: Most sites will not show this photo."),
        "{page}"
    );
    assert!(page.contains("libravatar.org"), "{page}");
    browser
        .confirm_from_mail(&smtp, "ivy@nowhere.example.test")
        .await;
    browser
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "ivy@away.example.test")],
        )
        .await;
    browser
        .confirm_from_mail(&smtp, "ivy@away.example.test")
        .await;

    let (_, page) = browser.get("/account").await;
    let reach_of = |address: &str| {
        let start = page
            .find(&format!(">{address}</h3>"))
            .unwrap_or_else(|| panic!("{address}: {page}"));
        let rest = &page[start..];
        let at = rest.find("data-reach=\"").unwrap() + "data-reach=\"".len();
        rest[at..].split('"').next().unwrap().to_string()
    };
    assert_eq!(reach_of("ivy@example.test"), "here");
    assert_eq!(reach_of("ivy@nowhere.example.test"), "nowhere");
    assert_eq!(reach_of("ivy@away.example.test"), "elsewhere");
    assert!(
        page.contains("Sites ask other.example.test, not this server."),
        "{page}"
    );
    assert!(page.contains("Sites show this photo."), "{page}");
}

#[tokio::test]
async fn a_stored_photo_is_cropped_again_without_uploading_it_again() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "cris@example.org").await;
    // Stored as its centred 200×200 square: red on the left half, blue on the right.
    let (_, page) = browser.upload(png(&red_blue_photo(300, 200)), None).await;
    let photo_id = id_after(&page, "/account/photos/");
    let (status, crop_page) = browser
        .get(&format!("/account/photos/{photo_id}/crop"))
        .await;
    assert_eq!(status, 200);
    assert!(crop_page.contains(&format!(
        "data-source=\"/account/photos/{photo_id}/original"
    )));
    let original = browser
        .client
        .get(format!("{}/account/photos/{photo_id}/original", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(original.status(), 200);
    let original = image::load_from_memory(&original.bytes().await.unwrap()).unwrap();
    assert_eq!((original.width(), original.height()), (200, 200));
    assert_eq!(
        app.get(&format!("/account/photos/{photo_id}/original"))
            .await
            .status(),
        303,
        "only its owner sees the original"
    );

    let path = format!("/account/photos/{photo_id}/crop");
    let (status, _, _) = browser
        .submit(
            &path,
            &path,
            &[("crop_x", "100"), ("crop_y", "50"), ("crop_size", "100")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, page) = browser.get("/account").await;
    assert!(page.contains("The photo is cropped again."), "{page}");
    assert_eq!(
        page.matches("class=\"photo-card\"").count(),
        1,
        "replaced, not added"
    );
    let image = decode(
        app.get(&format!("/avatar/{}?s=64", md5_of("cris@example.org")))
            .await,
    )
    .await;
    assert!(
        image.pixels().all(|p| near(p, BLUE, 40)),
        "the new crop is live"
    );
}

#[tokio::test]
async fn account_page_errors_sit_beside_their_fields() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let browser = Browser::new(&app);
    browser.sign_up_and_confirm(&smtp, "fay@example.org").await;
    browser
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "fay at example")],
        )
        .await;
    let (_, page) = browser.get("/account").await;
    assert!(
        page.contains("aria-describedby=\"new-email-hint new-email-error\" aria-invalid=\"true\""),
        "{page}"
    );
    assert!(
        page.contains("<p class=\"field-error\" id=\"new-email-error\">"),
        "{page}"
    );
    let (_, page) = browser.upload(b"just some text".to_vec(), None).await;
    assert!(
        page.contains("<p class=\"field-error\" id=\"photo-error\">The photo was refused"),
        "{page}"
    );
    assert!(
        !page.contains("<p class=\"error\" role=\"alert\">"),
        "not at the top: {page}"
    );
}
