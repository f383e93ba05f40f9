//! Single sign-on against a real OpenID provider (panva's certified `oidc-provider`, started
//! per test on loopback by [`crate::oidc_provider`]), and the Cameo and picture server each
//! test signs in at:
//! - [`flow`]: the whole flow in headless Chromium; linking, addresses and the picture.
//! - [`refusals`]: a replayed, forged or planted `state`, a provider's `error=`, an
//!   unverified email, an unreachable provider, `password_login = false`.
//! - [`no_password`]: accounts the provider made, which have no password.

mod flow;
mod no_password;
mod refusals;

use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use cameo::config::OidcSettings;
use cameo::secrets::Secret;

use crate::browser::Browser;
use crate::helpers::{TestApp, free_port, png, solid_photo, spawn_app_with, spawn_app_with_mail};
use crate::oidc_provider::{
    CALLBACK, CLIENT_ID, CLIENT_SECRET, Person, Provider, sign_in_at_provider,
};

const PICTURE_COLOUR: [u8; 3] = [30, 160, 90];

fn settings(issuer: &str) -> OidcSettings {
    OidcSettings {
        issuer: issuer.to_string(),
        client_id: CLIENT_ID.to_string(),
        client_secret: Secret::new(CLIENT_SECRET.to_string()),
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        display_name: "Example ID".into(),
        timeout: Duration::from_secs(5),
    }
}

/// A web server on loopback with one picture, `/alice.png`, as a provider's profile
/// pictures are served.
async fn start_picture_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(|| {
        App::new().route(
            "/alice.png",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("image/png")
                    .body(png(&solid_photo(120, PICTURE_COLOUR)))
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}

/// Cameo on a port chosen first (the provider must know the redirect URI before Cameo
/// starts), and the provider it signs in with.
struct Setup {
    app: TestApp,
    provider: Provider,
}

async fn start(people: &[Person], mail: bool) -> Option<(Setup, Option<crate::smtp::SmtpSink>)> {
    start_with(people, mail, true).await
}

/// As [`start`]; `allow_private` false keeps production's rule that pictures come only from
/// public addresses.
async fn start_with(
    people: &[Person],
    mail: bool,
    allow_private: bool,
) -> Option<(Setup, Option<crate::smtp::SmtpSink>)> {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let provider = Provider::start(&format!("{base}{CALLBACK}"), people).await?;
    let adjust = |c: &mut cameo::config::Config| {
        c.bind = format!("127.0.0.1:{port}").parse().unwrap();
        c.base_url = base.clone();
        c.oidc = Some(settings(&provider.issuer));
        // The picture server is on loopback, which the guarded client refuses otherwise.
        c.allow_private_probe = allow_private;
    };
    let (app, smtp) = if mail {
        let (app, smtp) = spawn_app_with_mail(adjust).await;
        (app, Some(smtp))
    } else {
        (spawn_app_with(adjust).await, None)
    };
    Some((Setup { app, provider }, smtp))
}

fn alice(pictures: &str) -> Person {
    Person {
        login: "alice",
        email: "alice@example.org",
        email_verified: true,
        picture: Some(format!("{pictures}/alice.png")),
    }
}

async fn text_of(db: &cameo::store::Db, sql: &'static str) -> String {
    use cameo::store::Pool;
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("text query")
}

/// alice, signed in through the provider on a server that mails, with no password.
async fn alice_by_provider() -> Option<(TestApp, Browser, crate::smtp::SmtpSink, Provider)> {
    let person = Person {
        picture: None,
        ..alice("")
    };
    let (Setup { app, provider }, smtp) = start(&[person], true).await?;
    let browser = Browser::new(&app);
    let callback = sign_in_at_provider(&browser, &provider, "alice").await;
    assert_eq!(
        browser.client.get(&callback).send().await.unwrap().status(),
        303
    );
    Some((app, browser, smtp.expect("a mail sink"), provider))
}
