//! The lookup and profile API, for app developers: JSON over HTTP with Gravatar's error shape
//! and rate-limit headers.
//!
//! - [`gate`]: bearer tokens, anonymous access, rate limits (middleware on every API route);
//! - [`lookup`]: `GET`/`POST /api/v1/lookup`, email → avatar across providers;
//! - [`providers`]: `GET /api/v1/providers`, what each provider returns and costs;
//! - [`profiles`]: opted-in public profiles as Gravatar-style JSON, vCard and QR code;
//! - [`openapi`]: `/api/openapi.json`, generated from the handlers and types here.

pub mod error;
pub mod gate;
pub mod lookup;
pub mod openapi;
pub mod profiles;
pub mod providers;

use actix_web::middleware::from_fn;
use actix_web::web;

/// Registers every API route, each behind the gate.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            .wrap(from_fn(gate::api_gate))
            .route("/v1/lookup", web::get().to(lookup::lookup_get))
            .route("/v1/lookup", web::post().to(lookup::lookup_post))
            .route("/v1/providers", web::get().to(providers::list_providers))
            .route("/openapi.json", web::get().to(openapi::openapi_json))
            .configure(profiles::configure_api),
    );
    profiles::configure_root(cfg);
}
