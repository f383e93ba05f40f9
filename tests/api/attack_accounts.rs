//! The account pages under attack (issue 13, points 1 and 4–8), each attack performed against
//! the real server over loopback, bounded in count, and judged by what now holds: statuses,
//! the password work `/metrics` reports, the mails the SMTP sink received, the database.
//! No wall-clock assertions: speed and memory are measured by `bench/attack/passwords.sh`.

use futures_util::future::join_all;

use crate::browser::{Browser, PASSWORD};
use crate::helpers::*;
use crate::smtp::{SmtpSink, link_in};

/// One sample of `/metrics`, e.g. `cameo_mail_total{outcome="sent"}`.
async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in /metrics:\n{text}"))
}

/// Argon2 operations run so far: hashes and verifications.
async fn password_work(app: &TestApp) -> (f64, f64) {
    (
        metric(
            app,
            r#"cameo_password_work_total{kind="hash",outcome="done"}"#,
        )
        .await,
        metric(
            app,
            r#"cameo_password_work_total{kind="verify",outcome="done"}"#,
        )
        .await,
    )
}

/// Waits until the outbox has handed every queued mail to the SMTP server.
async fn outbox_drained(app: &TestApp) {
    for _ in 0..200 {
        let queued = metric(app, r#"cameo_mail_total{outcome="queued"}"#).await;
        let sent = metric(app, r#"cameo_mail_total{outcome="sent"}"#).await;
        let failed = metric(app, r#"cameo_mail_total{outcome="failed"}"#).await;
        if queued == sent + failed {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the outbox did not drain");
}

/// Posts a form with the browser's cookies, as the client `forwarded_for` behind a trusted
/// proxy when given. Returns status, Location and body.
async fn post_as(
    browser: &Browser,
    action: &str,
    fields: &[(&str, &str)],
    forwarded_for: Option<&str>,
) -> (u16, String, String) {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut request = browser
        .client
        .post(format!("{}{action}", browser.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(client) = forwarded_for {
        request = request.header("X-Forwarded-For", client);
    }
    let response = request.send().await.unwrap();
    let location = header(&response, "location");
    (
        response.status().as_u16(),
        location,
        response.text().await.unwrap(),
    )
}

/// An anonymous browser holding a CSRF cookie, and its token.
async fn anonymous(app: &TestApp) -> (Browser, String) {
    let browser = Browser::new(app);
    let csrf = browser.csrf_from("/login").await;
    (browser, csrf)
}

fn random_link() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    hex::encode(bytes)
}

#[tokio::test]
async fn a_flood_of_resets_with_unknown_links_does_no_password_work() {
    let app = spawn_app().await;
    let (browser, csrf) = anonymous(&app).await;
    let password = "p".repeat(1000);
    let answers = join_all((0..200).map(|_| {
        let (browser, csrf, password) = (&browser, &csrf, &password);
        async move {
            let fields = [
                ("csrf", csrf.as_str()),
                ("password", password.as_str()),
                ("password_again", password.as_str()),
            ];
            post_as(browser, &format!("/reset/{}", random_link()), &fields, None)
                .await
                .0
        }
    }))
    .await;
    assert!(
        answers.iter().all(|s| [410, 429, 503].contains(s)),
        "{answers:?}"
    );
    let looked_up = answers.iter().filter(|s| **s == 410).count();
    assert!(
        looked_up <= 10,
        "{looked_up} links looked up past the limit of 10"
    );
    assert_eq!(password_work(&app).await, (0.0, 0.0), "not one argon2 run");
}

#[tokio::test]
async fn a_flood_of_sign_ups_from_one_client_hashes_at_most_the_limit() {
    let app = spawn_app().await;
    let (browser, csrf) = anonymous(&app).await;
    let addresses: Vec<String> = (0..40).map(|n| format!("flood{n}@example.org")).collect();
    let answers = join_all(addresses.iter().map(|address| {
        let (browser, csrf) = (&browser, &csrf);
        async move {
            let fields = [
                ("csrf", csrf.as_str()),
                ("email", address.as_str()),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ];
            post_as(browser, "/signup", &fields, None).await.0
        }
    }))
    .await;
    assert!(
        answers.iter().all(|s| [303, 429, 503].contains(s)),
        "{answers:?}"
    );
    let through = answers.iter().filter(|s| **s == 303).count();
    assert!((1..=5).contains(&through), "{through} sign-ups got through");
    let (hashes, _) = password_work(&app).await;
    assert!(hashes <= 5.0, "{hashes} hashes for at most 5 sign-ups");
    let accounts = crate::helpers::count(&app.operator, "SELECT COUNT(*) FROM users").await;
    assert_eq!(accounts as usize, through);
}

/// Signs `email` up and confirms it, then logs the browser out.
async fn account(app: &TestApp, smtp: &SmtpSink, email: &str) {
    let owner = Browser::new(app);
    owner.sign_up_and_confirm(smtp, email).await;
    owner.submit("/account", "/logout", &[]).await;
}

#[tokio::test]
async fn a_burst_of_logins_for_one_account_verifies_at_most_five() {
    let (app, smtp) =
        spawn_app_with_mail(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    account(&app, &smtp, "target@example.org").await;
    let (_, verified_before) = password_work(&app).await;
    let (attacker, csrf) = anonymous(&app).await;
    let answers = join_all((0..100).map(|n| {
        let (attacker, csrf) = (&attacker, &csrf);
        async move {
            let guess = if n == 50 {
                PASSWORD.to_string()
            } else {
                format!("wrong guess number {n}")
            };
            let fields = [
                ("csrf", csrf.as_str()),
                ("email", "target@example.org"),
                ("password", guess.as_str()),
            ];
            post_as(attacker, "/login", &fields, None).await.0
        }
    }))
    .await;
    let (_, verified_after) = password_work(&app).await;
    assert!(
        verified_after - verified_before <= 5.0,
        "{} passwords verified for one account",
        verified_after - verified_before
    );
    assert!(
        answers.iter().filter(|s| **s == 429).count() >= 95,
        "{answers:?}"
    );
    let (owner, csrf) = anonymous(&app).await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", "target@example.org"),
        ("password", PASSWORD),
    ];
    // From another client, so the attacker's spent client budget is not what refuses it.
    let (status, _, body) = post_as(&owner, "/login", &fields, Some("192.0.2.1")).await;
    assert_eq!(
        status, 429,
        "the account is locked, even for the right password"
    );
    assert!(body.contains("Too many login attempts for this account"));
}

#[tokio::test]
async fn a_burst_of_logins_from_one_client_verifies_at_most_twenty() {
    let app = spawn_app().await;
    let (attacker, csrf) = anonymous(&app).await;
    let answers = join_all((0..100).map(|n| {
        let (attacker, csrf) = (&attacker, &csrf);
        async move {
            let email = format!("nobody{n}@example.org");
            let fields = [
                ("csrf", csrf.as_str()),
                ("email", email.as_str()),
                ("password", "some guessed password"),
            ];
            post_as(attacker, "/login", &fields, None).await.0
        }
    }))
    .await;
    let (_, verified) = password_work(&app).await;
    assert!(verified <= 20.0, "{verified} verifications from one client");
    assert!(
        answers.iter().all(|s| [401, 429, 503].contains(s)),
        "{answers:?}"
    );
    assert!(answers.iter().filter(|s| **s == 429).count() >= 80);
}

#[tokio::test]
async fn re_adding_and_cancelling_one_address_mails_it_at_most_three_times() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let mallory = Browser::new(&app);
    mallory
        .sign_up_and_confirm(&smtp, "mallory@example.org")
        .await;
    let add = [("email", "victim@example.org")];
    mallory.submit("/account", "/account/addresses", &add).await;
    mallory.submit("/account", "/account/addresses", &add).await;
    let (_, page) = mallory.get("/account").await;
    assert!(
        page.contains("You can ask for a new one in 10 minutes"),
        "a pending link is not mailed again at once: {page}"
    );
    for _ in 0..30 {
        mallory
            .submit(
                "/account",
                "/account/claims/cancel",
                &[("address", "victim@example.org")],
            )
            .await;
        mallory.submit("/account", "/account/addresses", &add).await;
    }
    let (_, page) = mallory.get("/account").await;
    assert!(page.contains("Try again in"), "refused in words: {page}");
    outbox_drained(&app).await;
    let mails = smtp.mails_to("victim@example.org").len();
    assert!((1..=3).contains(&mails), "{mails} mails to the victim");
}

#[tokio::test]
async fn thirty_forgot_requests_for_one_account_mail_it_at_most_three_times() {
    let (app, smtp) =
        spawn_app_with_mail(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    account(&app, &smtp, "owner@example.org").await;
    let (stranger, csrf) = anonymous(&app).await;
    let mut pages = Vec::new();
    for n in 0..30 {
        let fields = [("csrf", csrf.as_str()), ("email", "owner@example.org")];
        let client = format!("198.51.100.{n}");
        let (status, _, body) = post_as(&stranger, "/forgot", &fields, Some(&client)).await;
        assert_eq!(status, 200);
        pages.push(body);
    }
    assert!(
        pages.windows(2).all(|w| w[0] == w[1]),
        "one answer every time"
    );
    outbox_drained(&app).await;
    let resets = smtp
        .mails_to("owner@example.org")
        .iter()
        .filter(|m| m.text.contains("/reset/"))
        .count();
    assert!((1..=3).contains(&resets), "{resets} reset mails");
}

#[tokio::test]
async fn sign_up_answers_the_same_for_an_existing_and_a_new_address() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    account(&app, &smtp, "taken@example.org").await;
    let mut answers = Vec::new();
    for address in ["taken@example.org", "fresh@example.org"] {
        let visitor = Browser::new(&app);
        let fields = [
            ("email", address),
            ("password", "another long password"),
            ("password_again", "another long password"),
        ];
        let (status, location, body) = visitor.submit("/signup", "/signup", &fields).await;
        let (page_status, page) = visitor.get(&location).await;
        let neutral = |text: &str| {
            text.replace(address, "ADDRESS")
                .replace(&address.replace('@', "%40"), "ADDRESS")
        };
        answers.push((
            status,
            neutral(&location),
            body,
            page_status,
            neutral(&page),
        ));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 303);
    outbox_drained(&app).await;
    let owner_mail = smtp.wait_for("taken@example.org").await;
    assert!(owner_mail.text.contains("tried to create a Cameo account"));
    assert!(owner_mail.text.contains("/forgot"));
    link_in(&smtp.wait_for("fresh@example.org").await, "/confirm/");
    let (owner, csrf) = anonymous(&app).await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", "taken@example.org"),
        ("password", PASSWORD),
    ];
    assert_eq!(
        post_as(&owner, "/login", &fields, None).await.0,
        303,
        "the existing account keeps its password"
    );
}

/// Stores a reset link for `email`'s account directly, as if mailed 20 minutes ago (past the
/// cool-down); returns its path.
async fn earlier_reset_link(app: &TestApp, email: &str) -> String {
    let token = random_link();
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()));
    let now = cameo::store::now();
    let (created, expires) = ((now - 1200).to_string(), (now + 2400).to_string());
    crate::helpers::execute(
        &app.operator,
        "INSERT INTO tokens (token_hash, purpose, user_id, created_at, expires_at)
         SELECT $1, 'reset_password', id, CAST($2 AS BIGINT), CAST($3 AS BIGINT)
         FROM users WHERE email = $4",
        &[&hash, &created, &expires, email],
    )
    .await;
    format!("/reset/{token}")
}

#[tokio::test]
async fn old_reset_links_die_with_a_reset_and_with_a_password_change() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let owner = Browser::new(&app);
    owner.sign_up_and_confirm(&smtp, "owner@example.org").await;
    let older = earlier_reset_link(&app, "owner@example.org").await;
    let stranger = Browser::new(&app);
    stranger
        .submit("/forgot", "/forgot", &[("email", "owner@example.org")])
        .await;
    let mailed = link_in(&smtp.wait_for("owner@example.org").await, "/reset/");
    let mailed = mailed.trim_start_matches(&app.base).to_string();
    let new_password = [
        ("password", "a brand new password"),
        ("password_again", "a brand new password"),
    ];
    let (status, _, _) = stranger.submit(&mailed, &mailed, &new_password).await;
    assert_eq!(status, 303);
    assert_eq!(stranger.get(&older).await.0, 410, "voided by the reset");
    let (status, _, _) = stranger.submit("/forgot", &older, &new_password).await;
    assert_eq!(status, 410);

    let logged_in = Browser::new(&app);
    let (status, _, _) = logged_in
        .submit(
            "/login",
            "/login",
            &[
                ("email", "owner@example.org"),
                ("password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let before_change = earlier_reset_link(&app, "owner@example.org").await;
    let (status, _, _) = logged_in
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current", "a brand new password"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        stranger.get(&before_change).await.0,
        410,
        "voided by the password change"
    );
}

#[tokio::test]
async fn ipv6_clients_in_one_slash_64_share_one_budget() {
    let app = spawn_app_with(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let (visitor, csrf) = anonymous(&app).await;
    let forgot = |client: &'static str| {
        let (visitor, csrf) = (&visitor, &csrf);
        async move {
            let fields = [("csrf", csrf.as_str()), ("email", "someone@example.org")];
            post_as(visitor, "/forgot", &fields, Some(client)).await.0
        }
    };
    for client in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3"] {
        assert_eq!(forgot(client).await, 200);
    }
    for client in ["2001:db8:1:2:ffff::9", "2001:db8:1:2:abcd:1:2:3"] {
        assert_eq!(forgot(client).await, 200);
    }
    assert_eq!(
        forgot("2001:db8:1:2:dead:beef:0:1").await,
        429,
        "a sixth address in the same /64 is the same client"
    );
    assert_eq!(
        forgot("2001:db8:1:3::1").await,
        200,
        "the next /64 is another"
    );
    assert_eq!(forgot("192.0.2.7").await, 200);
}
