//! Cameo: a self-hosted, Libravatar-compatible, federated avatar server.
//!
//! Map of the crate:
//! - [`cli`]: the `cameo` command line (clap): commands, their own options, what they open.
//! - [`config`]: one validated `Config` from defaults < cameo.toml < `CAMEO_*` < flags.
//! - [`client`]: the client's address and scheme behind trusted reverse proxies.
//! - [`identity`]: email/OpenID normalisation and the MD5/SHA-256 [`identity::Digest`].
//! - [`phone`]: phone numbers to E.164 and WhatsApp chat ids (phone identities).
//! - [`avatar`]: the hot path, `GET /avatar/HASH` (parse → lookup → render cache → response).
//! - [`imaging`]: pure image work: intake of untrusted uploads, resizing and encoding.
//! - [`defaults`]: generated images for misses (every `d=` style, drawn in code).
//! - [`photo_store`]: originals' bytes in the database or in an S3-compatible bucket.
//! - [`photo_import`]: an account's photo fetched from a web address or from Gravatar.
//! - [`account_photos`]: adding a photo to an account (limit, intake, bucket, row), for the
//!   upload form and the API alike.
//! - [`directory`]: company directory sync (LDAP / Active Directory) into addresses and
//!   photos, by `cameo directory sync` and periodically in the server.
//! - [`store`]: SQLite or PostgreSQL via sqlx behind one [`store::Db`], the only place SQL
//!   lives; [`store::changes`] notices writes from other processes.
//! - [`operator`]: what the CLI's commands do: `add`, `remove`, `list`, `import`, `token`,
//!   `backup`/`restore` and `export`/`import-export`.
//! - [`outbound`]: bounded, SSRF-safe outbound HTTP (Gravatar proxy, federation probes).
//! - [`purge`]: tells a CDN's purge endpoint which avatars the change feed named.
//! - [`web`]: the HTML pages: accounts, addresses, photo upload, tools.
//! - [`mail`]: confirmation and reset mails over SMTP, or to the log.
//! - [`gravatar`]: the fallback for misses: proxy, redirect or off.
//! - [`federation`]: SRV discovery of other avatar servers and the domain check.
//! - [`gateways`]: WhatsApp gateways (GoWA, Green API) as paced, cached avatar providers
//!   for phone lookups, keeping copies of the pictures they name.
//! - [`api`]: the JSON lookup and profile API, its tokens and rate limits.
//! - [`error`]: the one error type and its HTTP mapping.
//! - [`observe`]: request ids, the access log, `/healthz` and `/readyz`.
//! - [`metrics`]: Prometheus series and `/metrics`.
//! - [`passwords`]: the one bounded queue every argon2 hash and verification goes through.
//! - [`sso`]: single sign-on through an OpenID provider (`[oidc]`): flow, ID-token checks,
//!   which account a provider's person is.
//! - [`secrets`]: argon2id hashes, random tokens and their stored SHA-256, shared by all.
//! - [`route_table`]: every route and its methods in one list; HEAD wherever GET, 405 with
//!   `Allow` for other methods.
//!
//! [`Application::build`] binds (use `127.0.0.1:0` in tests), migrates and returns a server
//! ready to run, so tests start the very server the binary runs.

pub mod account_photos;
pub mod api;
pub mod avatar;
pub mod cli;
pub mod client;
pub mod config;
pub mod defaults;
pub mod directory;
pub mod error;
pub mod federation;
pub mod gateways;
pub mod gravatar;
pub mod identity;
pub mod imaging;
pub mod mail;
pub mod metrics;
pub mod observe;
pub mod operator;
pub mod outbound;
pub mod passwords;
pub mod phone;
pub mod photo_import;
pub mod photo_store;
pub mod purge;
pub mod route_table;
pub mod secrets;
pub mod sso;
pub mod state;
pub mod store;
pub mod web;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, web as routes};

use crate::config::Config;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::Db;

/// A bound, migrated server, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    pool: Db,
}

impl Application {
    pub async fn build(mut config: Config) -> Result<Application, AppError> {
        let listener = TcpListener::bind(config.bind)
            .map_err(|e| AppError::Internal(format!("cannot listen on {}: {e}", config.bind)))?;
        let bound = listener
            .local_addr()
            .map_err(|e| AppError::Internal(format!("listener address: {e}")))?;
        // A base URL derived from `bind` follows the port actually bound (port 0 in tests).
        if config.base_url == format!("http://{}", config.bind) {
            config.base_url = format!("http://{bound}");
        }
        let port = bound.port();

        let pool = store::connect(&config.database()).await?;
        let changes = pool.change_watch();
        let config = Arc::new(config);
        let state = AppState::new(config.clone(), pool.clone(), changes).await?;
        let state = routes::Data::new(state);
        if let Some(purger) = state.purger.clone() {
            state
                .lookup
                .on_change(move |digests| purger.changed(digests));
        }
        avatar::lookup::follow(Arc::downgrade(&state.clone().into_inner()));
        photo_store::collect_periodically(Arc::downgrade(&state.clone().into_inner()));
        directory::periodic::sync_periodically(Arc::downgrade(&state.clone().into_inner()));

        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let server = actix_web::HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(
                    web::error_pages::styled_errors,
                ))
                .wrap(actix_web::middleware::from_fn(route_table::head_as_get))
                .wrap(actix_web::middleware::from_fn(observe::observe_request))
                .app_data(state.clone())
                .configure(configure_routes)
                .default_service(routes::to(not_found))
        })
        .workers(workers)
        .shutdown_timeout(10)
        .listen(listener)
        .map_err(|e| AppError::Internal(format!("cannot start the HTTP server: {e}")))?
        .run();
        Ok(Application { port, server, pool })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The store this server uses (a handle sharing its pool).
    pub fn db(&self) -> &Db {
        &self.pool
    }

    /// Runs until SIGINT/SIGTERM (in-flight requests finish), then checkpoints the WAL so
    /// the database file alone is complete.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Err(error) = store::checkpoint(&self.pool).await {
            tracing::warn!(%error, "WAL checkpoint at shutdown failed");
        }
        self.pool.close().await;
        result
    }
}

// The avatar routes come first: actix tries routes in order, and every dynamic pattern it
// passes costs a regex match, which made up a fifth of a photo hit's CPU when the avatar
// route came after the web and API routes. `/avatar` and `/avatar/` are static (a string
// compare) and must precede the pattern, which would also match `/avatar/`.
routes! {
    fn configure_avatar_routes,
    /// The avatar routes (`/avatar` alone redirects home; OPTIONS answers as for a hash).
    pub const AVATAR_ROUTES;
    "/avatar" => {
        GET => avatar::handler::avatar_without_hash,
        OPTIONS => avatar::handler::avatar_options,
    },
    "/avatar/" => {
        GET => avatar::handler::avatar_without_hash,
        OPTIONS => avatar::handler::avatar_options,
    },
    "/avatar/{segment:.*}" => {
        GET => avatar::handler::get_avatar,
        OPTIONS => avatar::handler::avatar_options,
    },
}

routes! {
    fn configure_site_routes,
    /// Tools, probes and metrics.
    pub const SITE_ROUTES;
    "/tools/check" => { GET => web::check::check_page },
    "/tools/defaults" => { GET => web::gallery::gallery_page },
    "/tools/api" => { GET => web::api_docs::api_page },
    "/tools/check.json" => { GET => web::check::check_json },
    "/healthz" => { GET => observe::healthz },
    "/readyz" => { GET => observe::readyz },
    "/metrics" => { GET => metrics::scrape },
}

fn configure_routes(cfg: &mut routes::ServiceConfig) {
    cfg.configure(configure_avatar_routes)
        .configure(web::configure)
        .configure(api::configure)
        .configure(configure_site_routes);
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound("not found".into()))
}
