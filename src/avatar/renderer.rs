//! Producing renditions: cache first, then bounded blocking work for a miss.
//!
//! Image work runs on tokio's blocking pool, never on the async executor, and at most
//! `image_workers` jobs run at once (a semaphore), so a burst of misses queues instead of
//! starving everything else of CPU and memory.

use std::sync::Arc;

use image::DynamicImage;
use sqlx::SqlitePool;
use tokio::sync::Semaphore;

use super::cache::{RenderCache, Rendition, RenditionKey};
use crate::defaults::Style;
use crate::error::AppError;
use crate::identity::Digest;
use crate::imaging::{Original, PhotoFormat, decode_original, encode_picture, render};
use crate::store::photos::{self, PhotoRef};

pub struct Renderer {
    pool: SqlitePool,
    cache: RenderCache,
    permits: Arc<Semaphore>,
}

impl Renderer {
    pub fn new(pool: SqlitePool, cache_bytes: u64, workers: usize) -> Renderer {
        Renderer {
            pool,
            cache: RenderCache::new(cache_bytes),
            permits: Arc::new(Semaphore::new(workers.max(1))),
        }
    }

    /// `photo` at `size`×`size` in `format`.
    pub async fn photo(
        &self,
        photo: &PhotoRef,
        size: u32,
        format: PhotoFormat,
    ) -> Result<Arc<Rendition>, AppError> {
        let key = RenditionKey::Photo {
            id: photo.id,
            version: photo.version,
            size,
            format,
        };
        let (id, version) = (photo.id, photo.version);
        self.cache
            .renditions
            .try_get_with(key, async move {
                let original = self.original(id, version).await?;
                self.blocking(move || {
                    original
                        .render(size, format)
                        .map(|bytes| Rendition::new(bytes, format))
                        .map_err(|e| AppError::Internal(format!("encoding a rendition: {e}")))
                })
                .await
                .map(Arc::new)
            })
            .await
            .map_err(unshare)
    }

    /// A generated default. `blank` is always a PNG: its point is transparency.
    pub async fn generated(
        &self,
        style: Style,
        digest: Digest,
        size: u32,
        format: PhotoFormat,
    ) -> Result<Arc<Rendition>, AppError> {
        let format = if style == Style::Blank {
            PhotoFormat::Png
        } else {
            format
        };
        let key = RenditionKey::Generated {
            style,
            digest: style.depends_on_digest().then_some(digest),
            size,
            format,
        };
        self.cache
            .renditions
            .try_get_with(key, async move {
                self.blocking(move || {
                    let picture = DynamicImage::ImageRgba8(style.render(&digest, size));
                    encode_picture(&picture, format, render::RENDER_JPEG_QUALITY)
                        .map(|bytes| Rendition::new(bytes, format))
                        .map_err(|e| AppError::Internal(format!("encoding a default: {e}")))
                })
                .await
                .map(Arc::new)
            })
            .await
            .map_err(unshare)
    }

    /// The decoded original, from memory or from the database.
    async fn original(&self, id: i64, version: i64) -> Result<Arc<Original>, AppError> {
        if let Some(picture) = self.cache.original(id, version) {
            return Ok(picture);
        }
        let data = photos::photo_data(&self.pool, id, version)
            .await?
            .ok_or_else(|| {
                AppError::NotFound("the photo changed while it was being served; try again".into())
            })?;
        let picture = self
            .blocking(move || {
                decode_original(&data)
                    .map_err(|e| AppError::Internal(format!("decoding stored photo {id}: {e}")))
            })
            .await?;
        let picture = Arc::new(picture);
        self.cache.keep_original(id, version, picture.clone());
        Ok(picture)
    }

    /// Runs CPU-bound image work on the blocking pool, at most `image_workers` at a time.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self.permits.acquire().await.map_err(|_| AppError::Busy)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AppError::Internal(format!("image worker failed: {e}")))?
    }
}

/// moka shares one error among coalesced waiters; each gets its own copy of the meaning.
fn unshare(error: Arc<AppError>) -> AppError {
    match &*error {
        AppError::NotFound(reason) => AppError::NotFound(reason.clone()),
        AppError::Busy => AppError::Busy,
        other => AppError::Internal(other.to_string()),
    }
}
