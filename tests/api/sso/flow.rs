//! The single sign-on flow as people meet it: the provider's button, its forms, and landing
//! signed in; which account a login links to, what happens to the address and the picture.

use crate::browser::Browser;
use crate::chromium::Chromium;
use crate::helpers::{count, decode, md5_of, near, png, solid_photo};
use crate::oidc_provider::{Person, sign_in_at_provider, sign_in_from};

use super::{
    PICTURE_COLOUR, Setup, alice, alice_by_provider, start, start_picture_server, start_with,
    text_of,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_logs_in_at_the_provider_in_chromium_with_the_address_confirmed_and_the_picture_imported()
 {
    let pictures = start_picture_server().await;
    let Some((Setup { app, provider }, _)) = start(&[alice(&pictures)], false).await else {
        return;
    };
    let Some(chromium) = Chromium::launch().await else {
        return;
    };
    let browser = &chromium.client;
    browser.goto(&format!("{}/login", app.base)).await.unwrap();
    chromium
        .wait_until("document.querySelector('#sso-login')")
        .await;
    let label = chromium
        .eval("document.querySelector('#sso-login').textContent")
        .await;
    assert_eq!(label, "Log in with Example ID");
    chromium.click("#sso-login").await;
    // The provider's own login form, then its consent page.
    chromium
        .wait_until("document.querySelector('input[name=login]')")
        .await;
    assert!(
        browser
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&provider.issuer)
    );
    chromium.fill("input[name=login]", "alice").await;
    chromium.fill("input[name=password]", "whatever").await;
    chromium.click("button[type=submit]").await;
    chromium
        .wait_until("document.querySelector('input[value=consent]')")
        .await;
    chromium.click("button[type=submit]").await;
    chromium
        .wait_until(&format!("location.href === '{}/account'", app.base))
        .await;
    let page = chromium.eval("document.body.innerText").await;
    let page = page.as_str().unwrap();
    assert!(page.contains("alice@example.org"), "{page}");
    assert!(page.contains("Log out"), "{page}");
    chromium.quit().await;

    // The address is confirmed and shows the provider's picture, fetched once.
    app.noticed_another_process().await;
    let served = decode(
        app.get(&format!(
            "/avatar/{}?s=64&d=404",
            md5_of("alice@example.org")
        ))
        .await,
    )
    .await;
    assert_eq!(served.dimensions(), (64, 64));
    assert!(near(served.get_pixel(32, 32), PICTURE_COLOUR, 8));
    assert_eq!(
        count(&app.operator, "SELECT COUNT(*) FROM oidc_links").await,
        1
    );
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM photos").await, 1);
    assert_eq!(
        text_of(&app.operator, "SELECT password_hash FROM users").await,
        cameo::passwords::NO_PASSWORD
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_address_an_account_confirmed_links_the_login_to_that_account() {
    let person = Person {
        picture: None,
        ..alice("")
    };
    let Some((Setup { app, provider }, Some(smtp))) = start(&[person], true).await else {
        return;
    };
    let by_password = Browser::new(&app);
    by_password
        .sign_up_and_confirm(&smtp, "alice@example.org")
        .await;
    let by_provider = Browser::new(&app);
    let start = "/login/sso?next=%2Faccount%2Fdata";
    let callback = sign_in_from(&by_provider, &provider, "alice", start).await;
    let landed = by_provider.client.get(&callback).send().await.unwrap();
    assert_eq!(landed.status(), 303);
    assert_eq!(landed.headers()["location"], "/account/data");
    let (_, page) = by_provider.get("/account").await;
    assert!(page.contains("alice@example.org"), "{page}");
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(
        count(
            &app.operator,
            "SELECT COUNT(*) FROM oidc_links l JOIN users u ON u.id = l.user_id
             WHERE u.email = 'alice@example.org' AND l.subject = 'alice'"
        )
        .await,
        1
    );
    // The password still works: linking changed nothing else.
    assert_ne!(
        text_of(&app.operator, "SELECT password_hash FROM users").await,
        cameo::passwords::NO_PASSWORD
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_the_operator_added_is_given_to_the_new_account_with_the_picture() {
    let pictures = start_picture_server().await;
    let Some((Setup { app, provider }, _)) = start(&[alice(&pictures)], false).await else {
        return;
    };
    app.add_photo("alice@example.org", &png(&solid_photo(80, [200, 20, 20])))
        .await;
    let browser = Browser::new(&app);
    let callback = sign_in_at_provider(&browser, &provider, "alice").await;
    assert_eq!(
        browser.client.get(&callback).send().await.unwrap().status(),
        303
    );
    assert_eq!(
        count(
            &app.operator,
            "SELECT COUNT(*) FROM addresses a JOIN users u ON u.id = a.user_id
             WHERE a.address = 'alice@example.org' AND a.confirmed_at IS NOT NULL"
        )
        .await,
        1
    );
    app.noticed_another_process().await;
    let served = decode(
        app.get(&format!(
            "/avatar/{}?s=32&d=404",
            md5_of("alice@example.org")
        ))
        .await,
    )
    .await;
    assert!(near(served.get_pixel(16, 16), PICTURE_COLOUR, 8));

    // A second login links, and never fetches the picture again.
    let again = Browser::new(&app);
    let callback = sign_in_at_provider(&again, &provider, "alice").await;
    assert_eq!(
        again.client.get(&callback).send().await.unwrap().status(),
        303
    );
    assert_eq!(
        count(
            &app.operator,
            "SELECT COUNT(*) FROM photos WHERE user_id IS NOT NULL"
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_on_a_private_address_is_not_fetched_and_the_login_says_so() {
    let pictures = start_picture_server().await;
    let Some((Setup { app, provider }, _)) = start_with(&[alice(&pictures)], false, false).await
    else {
        return;
    };
    let browser = Browser::new(&app);
    let callback = sign_in_at_provider(&browser, &provider, "alice").await;
    let response = browser.client.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("You are logged in"), "{page}");
    assert!(
        page.contains("Log out"),
        "the page is the signed-in account's: {page}"
    );
    assert!(
        page.contains("Your provider&#39;s picture was not imported: 127.0.0.1 is a private or local network address"),
        "{page}"
    );
    assert!(page.contains("href=\"/account\""), "{page}");
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM photos").await, 0);
    // Signed in all the same, with the address confirmed.
    let (status, page) = browser.get("/account").await;
    assert_eq!(status, 200);
    assert!(page.contains("alice@example.org"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_another_account_confirmed_since_stays_there_and_the_login_says_so() {
    let Some((app, _, smtp, provider)) = alice_by_provider().await else {
        return;
    };
    // bob confirms alice@example.org for his own account: it moves to him.
    let bob = Browser::new(&app);
    bob.sign_up_and_confirm(&smtp, "bob@example.org").await;
    let (status, _, _) = bob
        .submit(
            "/account",
            "/account/addresses",
            &[("email", "alice@example.org")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(bob.confirm_from_mail(&smtp, "alice@example.org").await, 200);

    let again = Browser::new(&app);
    let callback = sign_in_at_provider(&again, &provider, "alice").await;
    let response = again.client.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains(
            "alice@example.org is confirmed by another account on this server, so it stays there"
        ),
        "{page}"
    );
    assert_eq!(
        count(
            &app.operator,
            "SELECT COUNT(*) FROM addresses a JOIN users u ON u.id = a.user_id
             WHERE a.address = 'alice@example.org' AND u.email = 'bob@example.org'"
        )
        .await,
        1
    );
}
