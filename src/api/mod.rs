//! The lookup and profile API, for app developers: JSON over HTTP with Gravatar's error shape
//! and rate-limit headers.
//!
//! - [`gate`]: bearer tokens, anonymous access, rate limits (middleware on every API route);
//! - [`lookup`]: `GET`/`POST /api/v1/lookup`, email → avatar across providers;
//! - [`phone_lookup`]: the phone side of the lookup (`phone=`: local, gowa, greenapi);
//! - [`my_avatars`]: `/api/v3/me/avatars`, the token owner's own photos (Gravatar's family),
//!   behind the account gate: a token, with scopes ([`scopes`]);
//! - [`providers`]: `GET /api/v1/providers`, what each provider returns and costs;
//! - [`profiles`]: opted-in public profiles as Gravatar-style JSON, XML, PHP, vCard and QR
//!   code ([`profile_formats`] writes XML and PHP);
//! - [`avatarapi`]: AvatarAPI's `/v2/api.aspx`, `/v2/credits.aspx` and `/v2/providers.aspx`
//!   (credentials in the body, so outside the gate; they spend the same token budgets);
//! - [`openapi`]: `/api/openapi.json`, generated from the handlers and types here.

pub mod avatarapi;
pub mod error;
pub mod gate;
pub mod lookup;
pub mod my_avatars;
pub mod openapi;
pub mod phone_lookup;
pub mod profile_formats;
pub mod profiles;
pub mod providers;
pub mod scopes;

use actix_web::middleware::from_fn;
use actix_web::web;

crate::routes! {
    /// The routes under `/api`, behind the gate (applied to the scope by [`configure`]).
    fn configure_scoped,
    /// The routes under `/api`, relative to it.
    pub const SCOPED_ROUTES;
    "/v1/lookup" => { GET => lookup::lookup_get, POST => lookup::lookup_post },
    "/v1/providers" => { GET => providers::list_providers },
    "/openapi.json" => { GET => openapi::openapi_json },
    "/v3/profiles/{hash}" => { GET => profiles::v3_profile },
}

// Root profile routes take hex of any plausible length (`profiles`' HEX), so a wrong-length
// hash is told so (400) while names like `/manifest.json` are never taken from other routes.
crate::routes! {
    /// Public profiles at the site root (`/HASH.json`, …), each behind the gate.
    fn configure_root,
    /// The profile routes at the site root.
    pub const ROOT_ROUTES;
    "/{hash:[0-9a-fA-F]{1,128}}.json" wrap from_fn(gate::api_gate) => { GET => profiles::legacy_profile },
    "/{hash:[0-9a-fA-F]{1,128}}.xml" wrap from_fn(gate::api_gate) => { GET => profiles::xml_profile },
    "/{hash:[0-9a-fA-F]{1,128}}.php" wrap from_fn(gate::api_gate) => { GET => profiles::php_profile },
    "/{hash:[0-9a-fA-F]{1,128}}.vcf" wrap from_fn(gate::api_gate) => { GET => profiles::vcard_profile },
    "/{hash:[0-9a-fA-F]{1,128}}.qr" wrap from_fn(gate::api_gate) => { GET => profiles::qr_profile },
}

crate::routes! {
    /// The token owner's own photos, behind the account gate (registered before `/api`).
    fn configure_me,
    /// The routes under `/api/v3/me`, relative to it.
    pub const ME_ROUTES;
    "/avatars" => { GET => my_avatars::list, POST => my_avatars::upload },
    "/avatars/{image_id}" => { DELETE => my_avatars::delete },
    "/avatars/{image_id}/email" => { POST => my_avatars::set_for_email },
    "/avatars/{image_id}/image" => { GET => my_avatars::image },
}

crate::routes! {
    /// AvatarAPI's calls, at its paths. Their credentials are in the body, so they check
    /// them themselves (not behind the gate), spending the same token budgets.
    fn configure_avatarapi,
    /// AvatarAPI's routes at the site root.
    pub const AVATARAPI_ROUTES;
    "/v2/api.aspx" => { POST => avatarapi::lookup },
    "/v2/credits.aspx" => { POST => avatarapi::credits },
    "/v2/providers.aspx" => { GET => avatarapi::providers, POST => avatarapi::providers },
}

/// Registers every API route: the account's own behind the account gate, the other `/api`
/// ones and the root profiles behind the gate,
/// AvatarAPI's with their own credential check.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v3/me")
            .wrap(from_fn(gate::account_gate))
            .configure(configure_me),
    );
    cfg.service(
        web::scope("/api")
            .wrap(from_fn(gate::api_gate))
            .configure(configure_scoped),
    );
    configure_root(cfg);
    configure_avatarapi(cfg);
}
