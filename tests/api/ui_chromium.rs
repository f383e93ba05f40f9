//! The web UI as a new user meets it, in headless Chromium: sign up, confirm from the mail,
//! upload, crop with the keyboard, and the avatar URL serves exactly the crop at once.

use crate::browser::PASSWORD;
use crate::chromium::Chromium;
use crate::helpers::*;
use crate::smtp::link_in;

const EMAIL: &str = "carol@example.org";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_signs_up_confirms_uploads_and_crops_and_the_photo_is_live_in_chromium() {
    let Some(browser) = Chromium::launch().await else {
        return;
    };
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let go = |path: &str| format!("{}{path}", app.base);

    // Sign up from the home page's link.
    browser.client.goto(&go("/")).await.unwrap();
    browser.click("header a[href='/signup']").await;
    browser
        .wait_until("document.getElementById('password_again')")
        .await;
    browser.fill("#email", EMAIL).await;
    browser.fill("#password", PASSWORD).await;
    browser.fill("#password_again", PASSWORD).await;
    browser
        .click("form[action='/signup'] button[type=submit]")
        .await;
    browser
        .wait_until("location.pathname === '/signup' && document.getElementById('sent-to')")
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('sent-to').textContent")
            .await,
        EMAIL,
        "the page says where the link went"
    );

    // Confirm it from the captured mail: that logs in.
    let link = link_in(&smtp.wait_for(EMAIL).await, "/confirm/");
    browser.client.goto(&link).await.unwrap();
    browser.click("form[action^='/confirm/'] button").await;
    browser
        .wait_until(&format!(
            "document.body.innerText.includes('{EMAIL} is confirmed')"
        ))
        .await;

    // Upload a 400×200 photo, red on the left and blue on the right.
    browser.client.goto(&go("/account")).await.unwrap();
    let photo = temp_file(app.dir.path(), "photo.png", &png(&red_blue_photo(400, 200)));
    browser
        .client
        .find(fantoccini::Locator::Css("#photo-file"))
        .await
        .unwrap()
        .send_keys(&photo.display().to_string())
        .await
        .unwrap();
    browser
        .wait_until(
            "document.querySelector('.crop-box') && document.getElementById('crop-size').value",
        )
        .await;
    assert_eq!(
        crop_fields(&browser).await,
        ["100", "0", "200"],
        "centred square first"
    );
    assert_eq!(
        browser
            .eval("document.querySelectorAll('canvas.crop-preview').length")
            .await,
        4,
        "previews at 32, 80 and 128 px, and round"
    );

    // With the keyboard only: shrink the square to half (each '-' is 1% of 200 px), then move
    // it right until it stops at the photo's edge.
    let crop_box = browser
        .client
        .find(fantoccini::Locator::Css(".crop-box"))
        .await
        .unwrap();
    crop_box.send_keys(&"-".repeat(50)).await.unwrap();
    assert_eq!(
        crop_fields(&browser).await,
        ["150", "50", "100"],
        "shrunk about its centre"
    );
    crop_box.send_keys(&"\u{E014}".repeat(80)).await.unwrap();
    assert_eq!(
        crop_fields(&browser).await,
        ["300", "50", "100"],
        "clamped at the right edge"
    );
    assert_eq!(
        browser.eval("document.activeElement.className").await,
        "crop-box",
        "the crop box keeps the keyboard focus"
    );

    browser.click("#upload-form button[type=submit]").await;
    // The first photo is live at once for the address that had none: nothing to tick.
    browser
        .wait_until(&format!(
            "document.body.innerText.includes('The photo is uploaded and live for {EMAIL}')"
        ))
        .await;

    // The avatar URL serves the cropped square: all blue, at the size asked.
    let hash = md5_of(EMAIL);
    let image = decode(app.get(&format!("/avatar/{hash}?s=128")).await).await;
    assert_eq!(image.dimensions(), (128, 128));
    assert!(
        image.pixels().all(|p| near(p, BLUE, 40)),
        "the crop chosen in the browser is what is served"
    );
    // And the profile page's own preview of the address shows it.
    browser
        .wait_until("[...document.querySelectorAll('article.address img.avatar')].every(i => i.complete && i.naturalWidth === 80)")
        .await;

    browser.quit().await;
}

/// The hidden crop fields the form will submit: x, y, size.
async fn crop_fields(browser: &Chromium) -> [String; 3] {
    let value = browser
        .eval("['crop-x', 'crop-y', 'crop-size'].map(id => document.getElementById(id).value)")
        .await;
    let fields: Vec<String> = serde_json::from_value(value).unwrap();
    fields.try_into().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_images_gallery_loads_every_picture_at_its_size_in_chromium() {
    let Some(browser) = Chromium::launch().await else {
        return;
    };
    let app = spawn_app().await;
    browser
        .client
        .goto(&format!("{}/tools/defaults", app.base))
        .await
        .unwrap();
    // Every image finished loading (successfully or not) before anything is judged.
    browser
        .wait_until(
            "[...document.images].length > 0 && [...document.images].every(i => i.complete)",
        )
        .await;
    let report = browser
        .eval(
            "[...document.images].map(i => [i.getAttribute('src'), i.naturalWidth, i.naturalHeight, \
             i.width, i.alt.length > 0])",
        )
        .await;
    let images: Vec<(String, u32, u32, u32, bool)> = serde_json::from_value(report).unwrap();
    assert_eq!(images.len(), 72, "12 looks × 3 samples × 2 sizes");
    for (src, natural_width, natural_height, shown_width, has_alt) in images {
        let expected = if src.contains("s=128") { 128 } else { 40 };
        assert_eq!(
            (natural_width, natural_height),
            (expected, expected),
            "{src} loaded at its size"
        );
        assert_eq!(shown_width, expected, "{src} shown at its size");
        assert!(has_alt, "{src} has alt text");
    }
    browser.quit().await;
}
