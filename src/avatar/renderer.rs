//! Producing renditions: cache first, then bounded blocking work for a miss.
//!
//! Image work runs on tokio's blocking pool, never on the async executor, and at most
//! `image_workers` jobs run at once (a semaphore), so a burst of misses queues instead of
//! starving everything else of CPU and memory.
//!
//! Work on animated photos (reading the stored GIF, every rendition of it) has its own lane of
//! [`ANIMATED_WORKERS`], waited for at most [`ANIMATED_WAIT`]: a flood of requests for an
//! animation at many sizes queues there and is answered 503 past the wait, while stills and
//! generated defaults keep the other workers (issue 13: it pushed an unrelated identicon to
//! 2.8–8 s before).
//!
//! Hits, misses and the time spent rendering are counted in [`RenderMetrics`] for `/metrics`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::store::Db;
use tokio::sync::Semaphore;

use super::cache::{Doorkeeper, RenderCache, Rendition, RenditionKey};
use crate::defaults::Style;
use crate::error::AppError;
use crate::identity::Digest;
use crate::imaging::animation::is_on_ladder;
use crate::imaging::{Original, PhotoFormat, decode_original, render};
use crate::metrics::RenderMetrics;
use crate::photo_store::{PhotoBucket, original_bytes};
use crate::store::photos::{self, PhotoRef};

/// Animated renders that run at once, apart from the still workers.
pub const ANIMATED_WORKERS: usize = 1;
/// Longest a request waits for the animated lane before it is answered 503.
pub const ANIMATED_WAIT: Duration = Duration::from_secs(10);

pub struct Renderer {
    pool: Db,
    /// Where originals' bytes live when not in their rows.
    bucket: Option<PhotoBucket>,
    cache: RenderCache,
    /// Cheap defaults are cached from the second time their key is asked for.
    doorkeeper: Doorkeeper,
    permits: Arc<Semaphore>,
    animated_permits: Arc<Semaphore>,
    metrics: RenderMetrics,
}

/// Which workers a job runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lane {
    Still,
    Animated,
    /// Work of tens of microseconds (a small flat default): done on the calling thread,
    /// where a hop to the blocking pool and back would cost more than the work.
    Inline,
}

impl Renderer {
    pub fn new(
        pool: Db,
        bucket: Option<PhotoBucket>,
        cache_bytes: u64,
        workers: usize,
    ) -> Renderer {
        Renderer {
            pool,
            bucket,
            cache: RenderCache::new(cache_bytes),
            doorkeeper: Doorkeeper::default(),
            permits: Arc::new(Semaphore::new(workers.max(1))),
            animated_permits: Arc::new(Semaphore::new(ANIMATED_WORKERS)),
            metrics: RenderMetrics::default(),
        }
    }

    pub fn metrics(&self) -> &RenderMetrics {
        &self.metrics
    }

    /// Bytes held by the cache of encoded renditions, once moka's pending bookkeeping ran.
    pub async fn cache_bytes(&self) -> u64 {
        self.cache.renditions.run_pending_tasks().await;
        self.cache.renditions.weighted_size()
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
        self.cached(key, async move {
            let original = self.original(id, version).await?;
            let lane = if original.is_animated() {
                if format == PhotoFormat::Gif && is_on_ladder(size) {
                    self.metrics.animations.inc();
                }
                Lane::Animated
            } else {
                Lane::Still
            };
            self.timed_render(lane, move || {
                original
                    .render(size, format)
                    .map(|bytes| Rendition::new(bytes, format))
                    .map_err(|e| AppError::Internal(format!("encoding a rendition: {e}")))
            })
            .await
            .map(Arc::new)
        })
        .await
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
        let draw = move || {
            style
                .encode(&digest, size, format, render::RENDER_JPEG_QUALITY)
                .map(|bytes| Arc::new(Rendition::new(bytes, format)))
                .map_err(|e| AppError::Internal(format!("encoding a default: {e}")))
        };
        if !style.is_cheap_at(size) {
            return self.cached(key, self.timed_render(Lane::Still, draw)).await;
        }
        // Drawn here, in tens of microseconds; a hash seen once is not worth a cache entry.
        if style.depends_on_digest() && !self.doorkeeper.seen_before(&key) {
            self.metrics.misses.inc();
            return self.timed_render(Lane::Inline, draw).await;
        }
        self.cached(key, self.timed_render(Lane::Inline, draw))
            .await
    }

    /// The cached rendition for `key`, or `render`'s. A miss is a call that ran `render`;
    /// a hit is a success that did not (a waiter coalesced onto another's render counts as
    /// a hit: it did no work).
    async fn cached(
        &self,
        key: RenditionKey,
        render: impl Future<Output = Result<Arc<Rendition>, AppError>>,
    ) -> Result<Arc<Rendition>, AppError> {
        let rendered = AtomicBool::new(false);
        let result = self
            .cache
            .renditions
            .try_get_with(key, async {
                rendered.store(true, Ordering::Relaxed);
                render.await
            })
            .await
            .map_err(unshare);
        if rendered.load(Ordering::Relaxed) {
            self.metrics.misses.inc();
        } else if result.is_ok() {
            self.metrics.hits.inc();
        }
        result
    }

    /// [`Self::blocking`], timing the work itself (not the wait for a worker) into
    /// `cameo_render_duration_seconds`.
    async fn timed_render<T: Send + 'static>(
        &self,
        lane: Lane,
        work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let (result, took) = self
            .blocking(lane, move || {
                let started = Instant::now();
                let result = work();
                Ok((result, started.elapsed()))
            })
            .await?;
        self.metrics.duration.observe(took);
        result
    }

    /// The decoded original, from memory or from the database.
    async fn original(&self, id: i64, version: i64) -> Result<Arc<Original>, AppError> {
        if let Some(picture) = self.cache.original(id, version) {
            return Ok(picture);
        }
        let (inline, content_digest) = photos::photo_data(&self.pool, id, version)
            .await?
            .ok_or_else(|| {
                AppError::NotFound("the photo changed while it was being served; try again".into())
            })?;
        let data = original_bytes(self.bucket.as_ref(), inline, &content_digest).await?;
        // Stored GIF bytes are animations (a still GIF is stored as PNG).
        let lane = if image::guess_format(&data).ok() == Some(image::ImageFormat::Gif) {
            Lane::Animated
        } else {
            Lane::Still
        };
        let picture = self
            .blocking(lane, move || {
                decode_original(&data)
                    .map_err(|e| AppError::Internal(format!("decoding stored photo {id}: {e}")))
            })
            .await?;
        let picture = Arc::new(picture);
        self.cache.keep_original(id, version, picture.clone());
        Ok(picture)
    }

    /// Runs CPU-bound image work on the blocking pool, at most `image_workers` stills and
    /// [`ANIMATED_WORKERS`] animations at a time.
    async fn blocking<T: Send + 'static>(
        &self,
        lane: Lane,
        work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = match lane {
            Lane::Inline => return work(),
            Lane::Still => self.permits.acquire().await.map_err(|_| AppError::Busy)?,
            Lane::Animated => tokio::time::timeout(ANIMATED_WAIT, self.animated_permits.acquire())
                .await
                .map_err(|_| AppError::Overloaded {
                    reason: "animated avatars are busy; try again shortly".into(),
                    retry_after: 2,
                })?
                .map_err(|_| AppError::Busy)?,
        };
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
        AppError::Overloaded {
            reason,
            retry_after,
        } => AppError::Overloaded {
            reason: reason.clone(),
            retry_after: *retry_after,
        },
        other => AppError::Internal(other.to_string()),
    }
}
