//! Accounts the provider made have no password (the `NO_PASSWORD` marker): no password login
//! matches it, a reset link sets a first one, and deletion asks for the address instead.

use crate::browser::Browser;
use crate::helpers::count;

use super::{alice_by_provider, text_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_made_by_the_provider_has_no_password_until_a_reset_link_sets_one() {
    let Some((app, browser, smtp, _provider)) = alice_by_provider().await else {
        return;
    };
    assert_eq!(
        text_of(&app.operator, "SELECT password_hash FROM users").await,
        cameo::passwords::NO_PASSWORD
    );
    let login = |password: &'static str| {
        let anonymous = Browser::new(&app);
        async move {
            let fields = [("email", "alice@example.org"), ("password", password)];
            anonymous.submit("/login", "/login", &fields).await.0
        }
    };
    // The marker is no password: logging in with it fails like any wrong password.
    assert_eq!(login(cameo::passwords::NO_PASSWORD).await, 401);
    // Changing a password needs the current one: the page says how to get one instead.
    let (status, page) = browser.get("/account/password").await;
    assert_eq!(status, 409);
    assert!(page.contains("You log in with single sign-on"), "{page}");

    let (status, _, _) = browser
        .submit("/forgot", "/forgot", &[("email", "alice@example.org")])
        .await;
    assert_eq!(status, 200);
    let link = crate::smtp::link_in(&smtp.wait_for("alice@example.org").await, "/reset/");
    let path = link.trim_start_matches(&app.base).to_string();
    let chosen = "alice's own password";
    let fields = [("password", chosen), ("password_again", chosen)];
    let (status, location, _) = browser.submit(&path, &path, &fields).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/login?done=password_reset")
    );
    assert_eq!(login("alice's own password").await, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_made_by_the_provider_is_deleted_by_typing_its_address() {
    let Some((app, browser, _smtp, _provider)) = alice_by_provider().await else {
        return;
    };
    let (status, page) = browser.get("/account/delete").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Your account's email address, to confirm"),
        "{page}"
    );
    let (status, _, page) = browser
        .submit(
            "/account/delete",
            "/account/delete",
            &[("password", "bob@example.org")],
        )
        .await;
    assert_eq!(status, 401);
    assert!(
        page.contains("Type the email address of your account exactly."),
        "{page}"
    );
    let (status, _, page) = browser
        .submit(
            "/account/delete",
            "/account/delete",
            &[("password", " Alice@Example.org ")],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your account is deleted"), "{page}");
    assert_eq!(count(&app.operator, "SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(
        count(&app.operator, "SELECT COUNT(*) FROM oidc_links").await,
        0
    );
}
