//! The HTML side of Cameo: accounts, addresses, photos, and the pages around them.
//!
//! - [`session`]: who is asking (session cookie, CSRF); [`auth`]: passwords, tokens, limits.
//! - [`pages`]: layout, rendering with security headers, bounded form bodies.
//! - [`account`], [`claims`], [`photos`], [`profile`]: the handlers, one file per area.
//! - [`openid`]: `rel="me"` discovery; [`assets`]: CSS and JS compiled in.
//! - [`tokens`]: the account's API tokens (`/account/tokens`).

pub mod account;
pub mod api_docs;
pub mod assets;
pub mod auth;
pub mod check;
pub mod claims;
pub mod gallery;
pub mod home;
pub mod openid;
pub mod pages;
pub mod photos;
pub mod profile;
pub mod public_profile;
pub mod session;
pub mod tokens;

use actix_web::web;

/// Every HTML route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::home_page))
        .route("/static/{name}", web::get().to(assets::static_file))
        .route("/signup", web::get().to(account::signup_form))
        .route("/signup", web::post().to(account::signup))
        .route("/login", web::get().to(account::login_form))
        .route("/login", web::post().to(account::login))
        .route("/logout", web::post().to(account::logout))
        .route("/forgot", web::get().to(account::forgot_form))
        .route("/forgot", web::post().to(account::forgot))
        .route("/reset/{token}", web::get().to(account::reset_form))
        .route("/reset/{token}", web::post().to(account::reset))
        .route("/confirm/{token}", web::get().to(claims::confirm_form))
        .route("/confirm/{token}", web::post().to(claims::confirm))
        .route("/openid/proof/{proof}", web::get().to(claims::proof_page))
        .route("/account", web::get().to(profile::profile))
        .route("/account/profile", web::get().to(public_profile::edit_form))
        .route("/account/profile", web::post().to(public_profile::save))
        .route("/account/tokens", web::get().to(tokens::tokens_page))
        .route("/account/tokens", web::post().to(tokens::create))
        .route(
            "/account/tokens/{id}/revoke",
            web::post().to(tokens::revoke),
        )
        .route(
            "/profile/{hash}",
            web::get().to(public_profile::public_page),
        )
        .route("/account/password", web::get().to(account::password_form))
        .route(
            "/account/password",
            web::post().to(account::change_password),
        )
        .route("/account/delete", web::get().to(account::delete_form))
        .route("/account/delete", web::post().to(account::delete_account))
        .route("/account/addresses", web::post().to(claims::add_email))
        .route(
            "/account/addresses/{id}/remove",
            web::post().to(claims::remove_address),
        )
        .route(
            "/account/addresses/{id}/photo",
            web::post().to(photos::assign_to_address),
        )
        .route("/account/openids", web::post().to(claims::add_openid))
        .route(
            "/account/openids/verify",
            web::post().to(claims::verify_openid),
        )
        .route(
            "/account/claims/cancel",
            web::post().to(claims::cancel_claim),
        )
        .route("/account/photos", web::post().to(photos::upload))
        .route(
            "/account/photos/{id}/delete",
            web::post().to(photos::delete),
        )
        .route(
            "/account/photos/{id}/assign",
            web::post().to(photos::assign_to_addresses),
        )
        .route(
            "/account/photos/{id}/preview",
            web::get().to(photos::preview),
        );
}
