//! "Your data" in headless Chromium, at phone width: the page fits 390 px, the account page
//! links to it, and importing the Gravatar photo lands back on the account page with the
//! photo shown for the address.

use crate::browser::{Browser, PASSWORD};
use crate::chromium::Chromium;
use crate::gravatar::{Behaviour, start_fake};
use crate::helpers::*;

const EMAIL: &str = "dora@example.org";
const GREEN: [u8; 3] = [0, 200, 0];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_page_fits_a_phone_and_imports_the_gravatar_photo() {
    let Some(chromium) = Chromium::launch().await else {
        return;
    };
    let fake = start_fake(&[sha256_of(EMAIL)], Behaviour::Normal, 0).await;
    let upstream = fake.base.clone();
    let (app, smtp) = spawn_app_with_mail(move |c| c.gravatar_upstream = upstream).await;
    Browser::new(&app).sign_up_and_confirm(&smtp, EMAIL).await;
    let go = |path: &str| format!("{}{path}", app.base);

    chromium.client.set_window_size(390, 900).await.unwrap();
    chromium.client.goto(&go("/login")).await.unwrap();
    chromium.fill("#email", EMAIL).await;
    chromium.fill("#password", PASSWORD).await;
    chromium
        .click("form[action='/login'] button[type=submit]")
        .await;
    chromium
        .wait_until("location.pathname === '/account'")
        .await;
    chromium.click("a[href='/account/data']").await;
    chromium
        .wait_until("location.pathname === '/account/data'")
        .await;
    assert_eq!(
        chromium
            .eval("document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        true,
        "no horizontal overflow at 390 px"
    );
    let shot = chromium.client.screenshot().await.unwrap();
    std::fs::write(std::env::temp_dir().join("cameo-your-data-390.png"), shot).ok();

    chromium
        .click("form[action='/account/data/import-gravatar'] button[type=submit]")
        .await;
    chromium
        .wait_until(&format!(
            "location.pathname === '/account' && document.body.innerText.includes('{EMAIL} shows it')"
        ))
        .await;
    let response = app.get(&format!("/avatar/{}?s=48", md5_of(EMAIL))).await;
    let image = decode(response).await;
    assert!(image.pixels().all(|p| near(p, GREEN, 8)));
    chromium.quit().await;
}
