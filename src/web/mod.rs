//! The HTML side of Cameo: accounts, addresses, photos, and the pages around them.
//!
//! - [`session`]: who is asking (session cookie, CSRF); [`auth`]: passwords, tokens, limits.
//! - [`pages`]: layout, rendering with security headers, bounded form bodies.
//! - [`account`], [`claims`], [`photos`], [`profile`]: the handlers, one file per area.
//! - [`openid`]: `rel="me"` discovery; [`assets`]: CSS, JS and the favicon compiled in.
//! - [`error_pages`]: failed pages answered to browsers as styled pages.
//! - [`reach`]: whether each address's photo reaches sites (its domain's SRV records).
//! - [`ask_first`]: the confirm step before removing an address or deleting a photo.
//! - [`recrop`]: cropping a stored photo again, without uploading it again.
//! - [`tokens`]: the account's API tokens (`/account/tokens`).
//! - [`data`]: the account's own export and photo imports (`/account/data`).
//! - [`domains`]: domain administration (`/domains`): addresses, photos taken off, logos.
//! - [`sso`]: single sign-on at the `[oidc]` provider (`/login/sso`, its callback).

pub mod account;
pub mod api_docs;
pub mod ask_first;
pub mod assets;
pub mod auth;
pub mod check;
pub mod claims;
pub mod data;
pub mod domains;
pub mod error_pages;
pub mod gallery;
pub mod home;
pub mod openid;
pub mod pages;
pub mod photos;
pub mod profile;
pub mod public_profile;
pub mod reach;
pub mod recrop;
pub mod session;
pub mod sso;
pub mod tokens;
pub mod user_form;

crate::routes! {
    /// Every HTML route.
    pub fn configure,
    /// The HTML routes and their methods (see [`crate::route_table`]).
    pub const ROUTES;
    "/" => { GET => home::home_page },
    "/static/{name}" => { GET => assets::static_file },
    "/signup" => { GET => account::signup_form, POST => account::signup },
    "/login" => { GET => account::login_form, POST => account::login },
    "/login/sso" => { GET => sso::start },
    "/login/sso/callback" => { GET => sso::callback },
    "/logout" => { POST => account::logout },
    "/forgot" => { GET => account::forgot_form, POST => account::forgot },
    "/reset/{token}" => { GET => account::reset_form, POST => account::reset },
    "/confirm/{token}" => { GET => claims::confirm_form, POST => claims::confirm },
    "/openid/proof/{proof}" => { GET => claims::proof_page },
    "/account" => { GET => profile::profile },
    "/account/profile" => { GET => public_profile::edit_form, POST => public_profile::save },
    "/account/tokens" => { GET => tokens::tokens_page, POST => tokens::create },
    "/account/tokens/{id}/revoke" => { POST => tokens::revoke },
    "/account/data" => { GET => data::data_page },
    "/account/data/export" => { GET => data::export_download },
    "/account/data/import-url" => { POST => data::import_from_url },
    "/account/data/import-gravatar" => { POST => data::import_from_gravatar },
    "/profile/{hash}" => { GET => public_profile::public_page },
    "/account/password" => { GET => account::password_form, POST => account::change_password },
    "/account/delete" => { GET => account::delete_form, POST => account::delete_account },
    "/account/addresses" => { POST => claims::add_email },
    "/account/addresses/{id}/remove" => {
        GET => ask_first::remove_address_form,
        POST => claims::remove_address,
    },
    "/account/addresses/{id}/photo" => { POST => photos::assign_to_address },
    "/account/openids" => { POST => claims::add_openid },
    "/account/openids/verify" => { POST => claims::verify_openid },
    "/account/claims/cancel" => { POST => claims::cancel_claim },
    "/account/photos" => { POST => photos::upload },
    "/account/photos/{id}/delete" => { GET => ask_first::delete_photo_form, POST => photos::delete },
    "/account/photos/{id}/crop" => { GET => recrop::crop_form, POST => recrop::crop },
    "/account/photos/{id}/original" => { GET => recrop::original },
    "/account/photos/{id}/assign" => { POST => photos::assign_to_addresses },
    "/account/photos/{id}/preview" => { GET => photos::preview },
    "/domains" => { GET => domains::domains_page },
    "/domains/{domain}" => { GET => domains::show },
    "/domains/{domain}/addresses/{id}/take-photo-off" => { POST => domains::take_photo_off },
    "/domains/{domain}/default" => { POST => domains::set_default },
    "/domains/{domain}/default/remove" => { POST => domains::remove_default },
}
