//! The first-avatar flows of issue 16 in headless Chromium: a photo dropped on the page (a
//! real DataTransfer) is live at once, a 50-megapixel JPEG is scaled down in the browser and
//! accepted, removing an address asks first, a pending address resends its link, the home
//! page's lookup box hashes in the browser, and no page scrolls sideways at phone width.
//!
//! `CAMEO_SCREENSHOTS=DIR` makes the screenshot test save each page (desktop and 390 px).

use crate::browser::{Browser, PASSWORD};
use crate::chromium::Chromium;
use crate::helpers::*;
use crate::smtp::SmtpSink;

/// Signs `email` up and confirms it over HTTP, then logs the browser in.
async fn logged_in(browser: &Chromium, app: &TestApp, smtp: &SmtpSink, email: &str) {
    Browser::new(app).sign_up_and_confirm(smtp, email).await;
    browser
        .client
        .goto(&format!("{}/login", app.base))
        .await
        .unwrap();
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_until("location.pathname === '/account'").await;
}

/// Drops a `width`×`height` picture, drawn in the page (left red, right blue), on the page.
async fn drop_drawn_photo(browser: &Chromium, width: u32, height: u32) {
    browser
        .eval(&format!(
            "(() => {{
               const canvas = document.createElement('canvas');
               canvas.width = {width}; canvas.height = {height};
               const c = canvas.getContext('2d');
               c.fillStyle = '#f00'; c.fillRect(0, 0, {width} / 2, {height});
               c.fillStyle = '#00f'; c.fillRect({width} / 2, 0, {width} / 2, {height});
               canvas.toBlob((blob) => {{
                 const transfer = new DataTransfer();
                 transfer.items.add(new File([blob], 'dropped.png', {{ type: 'image/png' }}));
                 document.getElementById('drop-zone').dispatchEvent(
                   new DragEvent('drop', {{ dataTransfer: transfer, bubbles: true, cancelable: true }}));
               }}, 'image/png');
               return true;
             }})()"
        ))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_photo_is_cropped_uploaded_and_live_at_once_in_chromium() {
    let Some(browser) = Chromium::launch().await else {
        return;
    };
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    logged_in(&browser, &app, &smtp, "dee@example.org").await;

    drop_drawn_photo(&browser, 400, 200).await;
    browser
        .wait_until("document.querySelector('.crop-box') && document.getElementById('crop-size').value === '200'")
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('photo-file').files[0].name")
            .await,
        "dropped.png",
        "the drop fills the file field"
    );
    assert_eq!(
        browser
            .eval("document.querySelectorAll('canvas.crop-preview').length")
            .await,
        4,
        "previews at 32, 80 and 128 px, and round"
    );
    assert_eq!(
        browser
            .eval("getComputedStyle(document.querySelector('.crop-preview-round')).borderRadius")
            .await,
        "50%"
    );
    // Move the square to the blue half with the keyboard, then upload: no box to tick.
    browser.eval("document.getElementById('upload-form').dispatchEvent(new CustomEvent('cropper:set', {detail: {x: 200, y: 0, size: 200}}))").await;
    browser.click("#upload-form button[type=submit]").await;
    browser
        .wait_until("document.querySelector('.notice') && document.querySelector('.notice').textContent.includes('live for dee@example.org')")
        .await;
    let image = decode(
        app.get(&format!("/avatar/{}?s=64", md5_of("dee@example.org")))
            .await,
    )
    .await;
    assert!(
        image.pixels().all(|p| near(p, BLUE, 40)),
        "the dropped crop is served"
    );
    assert_eq!(
        browser
            .eval("document.querySelectorAll('.thumb .live').length")
            .await,
        1,
        "the live photo is marked"
    );

    // Crop it again from the stored original: the cropper opens it, no file to choose.
    browser.click(".photo-actions a[href$='/crop']").await;
    browser
        .wait_until("document.querySelector('.crop-box') && document.getElementById('crop-size').value === '200'")
        .await;
    browser.eval("document.getElementById('upload-form').dispatchEvent(new CustomEvent('cropper:set', {detail: {x: 0, y: 0, size: 100}}))").await;
    browser.click("#upload-form button[type=submit]").await;
    browser
        .wait_until("document.querySelector('.notice') && document.querySelector('.notice').textContent.includes('cropped again')")
        .await;
    let image = decode(
        app.get(&format!("/avatar/{}?s=64", md5_of("dee@example.org")))
            .await,
    )
    .await;
    assert!(
        image.pixels().all(|p| near(p, BLUE, 40)),
        "still blue: a corner of the blue crop"
    );
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifty_megapixel_photo_is_scaled_down_in_the_browser_and_accepted_in_chromium() {
    let Some(browser) = Chromium::launch().await else {
        return;
    };
    // Encoded before any connection opens: it takes longer than an idle connection is kept.
    let jpeg = encode(&red_blue_photo(8160, 6120), image::ImageFormat::Jpeg);
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    logged_in(&browser, &app, &smtp, "max@example.org").await;
    let photo = temp_file(app.dir.path(), "phone.jpg", &jpeg);
    browser
        .client
        .find(fantoccini::Locator::Css("#photo-file"))
        .await
        .unwrap()
        .send_keys(&photo.display().to_string())
        .await
        .unwrap();
    browser
        .wait_until("document.getElementById('crop-size').value === '6120'")
        .await;
    browser.click("#upload-form button[type=submit]").await;
    browser
        .wait_until("location.pathname === '/account' && document.querySelector('.notice')")
        .await;
    let notice = browser
        .eval("document.querySelector('.notice').textContent")
        .await;
    assert!(
        notice
            .as_str()
            .unwrap()
            .contains("live for max@example.org"),
        "{notice}"
    );
    let image = decode(
        app.get(&format!("/avatar/{}?s=128", md5_of("max@example.org")))
            .await,
    )
    .await;
    assert!(near(image.get_pixel(10, 64), RED, 40));
    assert!(near(image.get_pixel(117, 64), BLUE, 40));
    let stored = stored_photo_of(&app.operator, "max@example.org").await;
    let side = image::load_from_memory(&stored).unwrap().width();
    assert_eq!(side, 2048, "sent as a 2048-pixel square, not 50 megapixels");
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heic_and_non_images_are_refused_the_moment_they_are_chosen_in_chromium() {
    let Some(browser) = Chromium::launch().await else {
        return;
    };
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    logged_in(&browser, &app, &smtp, "hal@example.org").await;
    for (name, words) in [
        ("IMG_0001.HEIC", "HEIC photos"),
        ("notes.txt", "not an image"),
    ] {
        let file = temp_file(app.dir.path(), name, b"not really a photo");
        browser
            .client
            .find(fantoccini::Locator::Css("#photo-file"))
            .await
            .unwrap()
            .send_keys(&file.display().to_string())
            .await
            .unwrap();
        browser
            .wait_until(&format!("!document.getElementById('file-message').hidden && document.getElementById('file-message').textContent.includes('{words}')"))
            .await;
        assert_eq!(
            browser
                .eval("document.getElementById('photo-file').getAttribute('aria-invalid')")
                .await,
            "true"
        );
    }
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_pasted_from_the_clipboard_is_taken_in_chromium() {
    let Some(browser) = Chromium::launch().await else {
        return;
    };
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    logged_in(&browser, &app, &smtp, "pat@example.org").await;
    browser
        .eval(
            "(() => {
               const canvas = document.createElement('canvas');
               canvas.width = 90; canvas.height = 60;
               const c = canvas.getContext('2d');
               c.fillStyle = '#0f0'; c.fillRect(0, 0, 90, 60);
               canvas.toBlob((blob) => {
                 const transfer = new DataTransfer();
                 transfer.items.add(new File([blob], 'image.png', { type: 'image/png' }));
                 document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
               }, 'image/png');
               return true;
             })()",
        )
        .await;
    browser
        .wait_until("document.querySelector('.crop-box') && document.getElementById('crop-size').value === '60'")
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('photo-file').files[0].name")
            .await,
        "image.png"
    );
    // Under 128 pixels: a warning, not a refusal.
    let message = browser
        .eval("document.getElementById('file-message').textContent")
        .await;
    assert!(
        message.as_str().unwrap().contains("only 90×60 pixels"),
        "{message}"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('file-message').className")
            .await,
        "field-warning"
    );
    browser.click("#upload-form button[type=submit]").await;
    browser
        .wait_until("document.querySelector('.notice') && document.querySelector('.notice').textContent.includes('live for pat@example.org')")
        .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_asks_first_and_a_pending_address_resends_in_chromium() {
    let Some(browser) = Chromium::launch().await else {
        return;
    };
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    logged_in(&browser, &app, &smtp, "rob@example.org").await;
    browser.fill("#new-email", "rob@second.example").await;
    browser
        .click("form[action='/account/addresses'].card button")
        .await;
    browser
        .wait_until("document.querySelector('form.resend button')")
        .await;
    smtp.wait_for("rob@second.example").await;
    browser.click("form.resend button").await;
    browser
        .wait_until("document.querySelector('.error') && document.querySelector('.error').textContent.includes('a few minutes ago')")
        .await;

    browser.click("a.danger-link[href$='/remove']").await;
    browser
        .wait_until("document.querySelector('h1').textContent === 'Remove rob@example.org?'")
        .await;
    browser.click("form.ask-first button.danger").await;
    browser
        .wait_until("document.querySelector('.notice') && document.querySelector('.notice').textContent.includes('removed')")
        .await;
    assert_eq!(
        browser
            .eval("document.querySelectorAll('article.address').length")
            .await,
        0
    );
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_shows_an_address_avatar_and_urls_hashed_in_the_browser_in_chromium() {
    let Some(browser) = Chromium::launch().await else {
        return;
    };
    let app = spawn_app().await;
    app.add_photo("zoe@example.org", &png(&solid_photo(64, RED)))
        .await;
    browser
        .client
        .goto(&format!("{}/", app.base))
        .await
        .unwrap();
    browser
        .wait_until("!document.getElementById('lookup').hidden")
        .await;
    browser.fill("#lookup-email", "  Zoe@Example.org ").await;
    browser.click("#lookup-form button[type=submit]").await;
    browser
        .wait_until("!document.getElementById('lookup-result').hidden && document.getElementById('lookup-image').complete && document.getElementById('lookup-image').naturalWidth === 128")
        .await;
    let hash = sha256_of("zoe@example.org");
    assert_eq!(
        browser
            .eval("document.getElementById('lookup-url').textContent")
            .await,
        format!("{}/avatar/{hash}?s=128", app.base)
    );
    assert_eq!(
        browser
            .eval("document.getElementById('lookup-hash').textContent")
            .await,
        hash
    );
    let red = browser
        .eval("(() => { const i = document.getElementById('lookup-image'); const c = document.createElement('canvas'); c.width = 128; c.height = 128; const x = c.getContext('2d'); x.drawImage(i, 0, 0); return [...x.getImageData(64, 64, 1, 1).data]; })()")
        .await;
    let pixel: Vec<u8> = serde_json::from_value(red).unwrap();
    assert!(
        pixel[0] > 200 && pixel[2] < 60,
        "the photo is shown: {pixel:?}"
    );
    // The sign-up call to action is there.
    assert_eq!(
        browser
            .eval("!!document.querySelector('.hero a.button[href=\"/signup\"]')")
            .await,
        true
    );
    browser.quit().await;
}

/// Pages a newcomer meets, signed in.
const PAGES: [&str; 13] = [
    "/account",
    "/",
    "/tools/defaults",
    "/tools/check",
    "/tools/api",
    "/account/profile",
    "/account/tokens",
    "/account/password",
    "/no/such/page",
    "/account/addresses/1/remove",
    "/account/photos/1/delete",
    "/domains",
    "/domains/example.org",
];

/// Pages a newcomer meets before signing in.
const ANONYMOUS_PAGES: [&str; 3] = ["/signup", "/login", "/forgot"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_scrolls_sideways_at_phone_width_in_chromium() {
    let Some(browser) = Chromium::launch().await else {
        return;
    };
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    browser.client.set_window_size(390, 844).await.unwrap();
    for path in ANONYMOUS_PAGES {
        assert_fits(&browser, &app, path).await;
    }
    logged_in(
        &browser,
        &app,
        &smtp,
        "a.rather.long.address.for.a.phone@example.org",
    )
    .await;
    drop_drawn_photo(&browser, 300, 300).await;
    browser
        .wait_until("document.querySelector('.crop-box')")
        .await;
    browser.click("#upload-form button[type=submit]").await;
    browser
        .wait_until("document.querySelector('.notice')")
        .await;
    let admin = app.cameo(&[
        "domain-admin",
        "add",
        "example.org",
        "a.rather.long.address.for.a.phone@example.org",
    ]);
    assert!(admin.status.success(), "{}", stderr(&admin));
    for path in PAGES {
        assert_fits(&browser, &app, path).await;
    }
    // The cropper with its previews, and the Upload button within a screen and a half.
    browser
        .client
        .goto(&format!("{}/account", app.base))
        .await
        .unwrap();
    drop_drawn_photo(&browser, 4000, 3000).await;
    browser
        .wait_until("document.querySelector('.crop-box')")
        .await;
    assert_fits(&browser, &app, "").await;
    let below = browser
        .eval("document.querySelector('#upload-form button[type=submit]').getBoundingClientRect().bottom - document.getElementById('cropper').getBoundingClientRect().top")
        .await;
    assert!(
        below.as_f64().unwrap() < 844.0 * 1.5,
        "Upload is {below} px below the cropper's top"
    );
    browser.quit().await;
}

/// Opens `path` (or stays, for "") and checks nothing is wider than the window.
async fn assert_fits(browser: &Chromium, app: &TestApp, path: &str) {
    if !path.is_empty() {
        browser
            .client
            .goto(&format!("{}{path}", app.base))
            .await
            .unwrap();
    }
    browser
        .wait_until("document.readyState === 'complete'")
        .await;
    let widths = browser
        .eval("[document.documentElement.scrollWidth, window.innerWidth]")
        .await;
    let [scroll, inner]: [u32; 2] = serde_json::from_value(widths).unwrap();
    if scroll > inner {
        let wide = browser
            .eval("[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))")
            .await;
        panic!("{path} scrolls sideways: {scroll} > {inner}; too wide: {wide}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_of_the_first_avatar_pages() {
    let Some(dir) = std::env::var_os("CAMEO_SCREENSHOTS") else {
        return;
    };
    let Some(browser) = Chromium::launch().await else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let shoot = |name: String| {
        let browser = &browser;
        let dir = dir.clone();
        async move {
            // The whole page: the window as tall as the document (at most 2400 px).
            let (width, _) = browser.client.get_window_size().await.unwrap();
            let height = browser.eval("document.documentElement.scrollHeight").await;
            let height = height.as_u64().unwrap_or(1000).clamp(600, 2400) as u32;
            browser
                .client
                .set_window_size(width as u32, height)
                .await
                .unwrap();
            let png = browser.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    };
    for (width, suffix) in [(1280, "desktop"), (390, "phone")] {
        browser.client.set_window_size(width, 1000).await.unwrap();
        for path in ["/", "/signup", "/no/such/page"] {
            browser
                .client
                .goto(&format!("{}{path}", app.base))
                .await
                .unwrap();
            if path == "/" {
                browser.fill("#lookup-email", "alice@example.org").await;
                browser.click("#lookup-form button[type=submit]").await;
                browser
                    .wait_until("document.getElementById('lookup-image').complete")
                    .await;
            }
            let name = match path {
                "/" => "home".to_string(),
                other => other.trim_matches('/').replace('/', "-"),
            };
            shoot(format!("{name}-{suffix}")).await;
        }
    }
    browser.client.set_window_size(1280, 1000).await.unwrap();
    logged_in(&browser, &app, &smtp, "you@example.org").await;
    for (width, suffix) in [(1280, "desktop"), (390, "phone")] {
        browser.client.set_window_size(width, 1000).await.unwrap();
        browser
            .client
            .goto(&format!("{}/account", app.base))
            .await
            .unwrap();
        shoot(format!("account-empty-{suffix}")).await;
        drop_drawn_photo(&browser, 600, 400).await;
        browser
            .wait_until("document.querySelector('.crop-box')")
            .await;
        shoot(format!("account-cropper-{suffix}")).await;
    }
    browser.click("#upload-form button[type=submit]").await;
    browser
        .wait_until("document.querySelector('.notice')")
        .await;
    for (width, suffix) in [(1280, "desktop"), (390, "phone")] {
        browser.client.set_window_size(width, 1000).await.unwrap();
        browser
            .client
            .goto(&format!("{}/account", app.base))
            .await
            .unwrap();
        shoot(format!("account-live-{suffix}")).await;
        browser
            .client
            .goto(&format!("{}/account/addresses/1/remove", app.base))
            .await
            .unwrap();
        shoot(format!("remove-{suffix}")).await;
    }
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dark_mode_screenshots_of_the_first_avatar_pages() {
    let Some(dir) = std::env::var_os("CAMEO_SCREENSHOTS") else {
        return;
    };
    let Some(browser) = Chromium::launch_with(&["--force-dark-mode"]).await else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    logged_in(&browser, &app, &smtp, "night@example.org").await;
    assert_eq!(
        browser
            .eval("matchMedia('(prefers-color-scheme: dark)').matches")
            .await,
        true,
        "the browser prefers dark"
    );
    drop_drawn_photo(&browser, 600, 400).await;
    browser
        .wait_until("document.querySelector('.crop-box')")
        .await;
    browser.click("#upload-form button[type=submit]").await;
    browser
        .wait_until("document.querySelector('.notice')")
        .await;
    browser.client.set_window_size(1280, 1800).await.unwrap();
    for (path, name) in [("/account", "account-dark"), ("/signup", "signup-dark")] {
        browser
            .client
            .goto(&format!("{}{path}", app.base))
            .await
            .unwrap();
        let png = browser.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
    browser.quit().await;
}
