//! Shared application state, built once per server from a validated [`Config`].

use std::sync::Arc;

use actix_web::http::header::HeaderValue;

use crate::api::lookup::LookupCache;
use crate::avatar::lookup::PhotoLookup;
use crate::avatar::renderer::Renderer;
use crate::avatar::request::RequestRules;
use crate::config::Config;
use crate::error::AppError;
use crate::federation::Federation;
use crate::gateways::Gateways;
use crate::gravatar::Gravatar;
use crate::imaging::budget::ADMISSION_WAIT;
use crate::imaging::{ImageBudget, IntakeLimits};
use crate::mail::{Mailer, OUTBOX_CAPACITY, Outbox};
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::passwords::{PasswordQueue, queue_shape};
use crate::photo_store::PhotoBucket;
use crate::store::Db;
use crate::store::changes::ChangeWatch;

pub struct AppState {
    pub config: Arc<Config>,
    pub pool: Db,
    pub rules: RequestRules,
    pub lookup: PhotoLookup,
    pub renderer: Renderer,
    /// `public, max-age=N, stale-while-revalidate=…, stale-if-error=…`, built once.
    pub cache_control: HeaderValue,
    pub outbound: Outbound,
    pub federation: Federation,
    pub gravatar: Gravatar,
    /// Mail goes out through this bounded queue, off the request path.
    pub outbox: Outbox,
    /// Every argon2 hash and verification runs through this bounded queue.
    pub passwords: PasswordQueue,
    /// Remembered answers of `/api/v1/lookup`.
    pub api_lookups: LookupCache,
    /// The HTTP series of `/metrics` (the renderer and Gravatar keep their own).
    pub metrics: Metrics,
    /// CDN purges of changed avatars, when `purge_url` is set.
    pub purger: Option<Arc<crate::purge::Purger>>,
    /// The memory every decode of untrusted image bytes reserves first (uploads, Gravatar).
    pub image_budget: ImageBudget,
    /// Where originals' bytes go when `photo_store` names a bucket.
    pub photo_bucket: Option<PhotoBucket>,
    /// The WhatsApp gateways of phone lookups.
    pub gateways: Gateways,
    /// Single sign-on through the `[oidc]` provider, when one is configured.
    pub sso: Option<Arc<crate::sso::Sso>>,
}

impl AppState {
    pub async fn new(
        config: Arc<Config>,
        pool: Db,
        changes: ChangeWatch,
    ) -> Result<AppState, AppError> {
        let outbound = Outbound::new(config.gravatar_timeout, config.allow_private_probe)
            .map_err(AppError::Internal)?;
        let federation = Federation::new(&config, outbound.clone()).map_err(AppError::Internal)?;
        let image_budget = image_budget(&config);
        let photo_bucket = PhotoBucket::from_config(&config).map_err(AppError::Internal)?;
        let cache_control = HeaderValue::from_str(&config.avatar_cache_control())
            .expect("digits make a valid header value");
        let sso = match &config.oidc {
            Some(settings) => Some(Arc::new(
                crate::sso::Sso::new(settings, &config.base_url).map_err(AppError::Internal)?,
            )),
            None => None,
        };
        Ok(AppState {
            sso,
            outbox: Outbox::start(
                Mailer::from_config(&config).map_err(AppError::Internal)?,
                OUTBOX_CAPACITY,
            ),
            passwords: {
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                let (running, waiting) = queue_shape(cores, config.password_queue);
                PasswordQueue::new(running, waiting)
            },
            gravatar: Gravatar::new(&config, outbound.clone(), image_budget.clone()),
            gateways: Gateways::new(
                &config,
                pool.clone(),
                image_budget.clone(),
                photo_bucket.clone(),
            )
            .map_err(AppError::Internal)?,
            image_budget,
            api_lookups: LookupCache::new(),
            metrics: Metrics::new(),
            purger: (!config.purge_url.is_empty()).then(|| {
                crate::purge::Purger::start(
                    crate::purge::PurgeTarget {
                        format: config.purge_format,
                        url: config.purge_url.clone(),
                        token: config.purge_token.clone(),
                        base_url: config.base_url.clone(),
                        sizes: config.purge_sizes.clone(),
                    },
                    outbound.upstream.clone(),
                )
            }),
            outbound,
            federation,
            rules: RequestRules {
                max_size: config.max_size,
                server_default: config.default_style,
                trusted_default_hosts: config.trusted_default_hosts.clone(),
            },
            lookup: PhotoLookup::new(pool.clone(), changes, &config.database_path()).await?,
            renderer: Renderer::new(
                pool.clone(),
                photo_bucket.clone(),
                config.render_cache_bytes,
                config.image_workers,
            ),
            cache_control,
            photo_bucket,
            pool,
            config,
        })
    }
}

/// The intake limits a configuration sets.
pub fn intake_limits(config: &Config) -> IntakeLimits {
    IntakeLimits {
        max_bytes: config.max_upload_bytes,
        max_pixels: config.max_image_pixels,
    }
}

/// The image memory budget a configuration sets: one per process (the server, or one CLI
/// command), shared by every intake in it.
pub fn image_budget(config: &Config) -> ImageBudget {
    ImageBudget::new(config.image_memory_budget, ADMISSION_WAIT)
}
