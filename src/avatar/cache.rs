//! The render cache: encoded renditions bounded by bytes, plus a smaller cache of decoded
//! originals so a miss at a new size skips the decode (which dominates a miss, STACK-NOTES.md).
//!
//! Keys carry the photo's id *and version*, so a replaced or edited photo can never be
//! answered from an old entry: it simply has a different key, and the old entries age out.
//! Concurrent misses for one key are coalesced by moka: one render, many waiters.
//!
//! A [`Doorkeeper`] keeps one-off renders out: a cheap default drawn for a hash seen once
//! (a crawler, a random probe, most of what a public server is asked for) is not worth a
//! cache insert, and would push out renditions that are asked for again.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use actix_web::http::header::HeaderValue;
use bytes::Bytes;
use sha2::{Digest as _, Sha256};

use crate::defaults::Style;
use crate::identity::Digest;
use crate::imaging::{Original, PhotoFormat};

/// Bookkeeping cost of one entry beyond its bytes (key, headers, moka's own nodes).
const ENTRY_OVERHEAD: u32 = 256;

/// What identifies a rendition: everything that changes its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RenditionKey {
    Photo {
        id: i64,
        version: i64,
        size: u32,
        format: PhotoFormat,
    },
    /// `digest` is None for styles that look the same for every hash.
    Generated {
        style: Style,
        digest: Option<Digest>,
        size: u32,
        format: PhotoFormat,
    },
}

/// An encoded image ready to send, with its headers computed once.
#[derive(Debug)]
pub struct Rendition {
    pub body: Bytes,
    pub content_type: HeaderValue,
    pub etag: HeaderValue,
}

impl Rendition {
    /// Wraps encoded bytes; the strong ETag is a digest of the bytes themselves, so it changes
    /// exactly when the bytes do.
    pub fn new(mut body: Vec<u8>, format: PhotoFormat) -> Rendition {
        // Encoders write into a buffer sized for the worst case; keep only what was written,
        // so the cache's byte budget is the memory really held (it was 6-9x before).
        body.shrink_to_fit();
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", hex::encode(&digest[..12]));
        Rendition {
            body: Bytes::from(body),
            content_type: HeaderValue::from_static(format.mime_type()),
            etag: HeaderValue::from_str(&etag).expect("hex is a valid header value"),
        }
    }

    fn weight(&self) -> u32 {
        u32::try_from(self.body.len())
            .unwrap_or(u32::MAX)
            .saturating_add(ENTRY_OVERHEAD)
    }
}

/// Both caches, sized from `render_cache_bytes`: three quarters for encoded renditions,
/// one quarter for decoded originals.
#[derive(Clone)]
pub struct RenderCache {
    pub renditions: moka::future::Cache<RenditionKey, Arc<Rendition>>,
    originals: moka::sync::Cache<(i64, i64), Arc<Original>>,
}

impl RenderCache {
    pub fn new(total_bytes: u64) -> RenderCache {
        let originals_bytes = total_bytes / 4;
        RenderCache {
            renditions: moka::future::Cache::builder()
                .max_capacity(total_bytes - originals_bytes)
                .weigher(|_, rendition: &Arc<Rendition>| rendition.weight())
                .build(),
            originals: moka::sync::Cache::builder()
                .max_capacity(originals_bytes)
                .weigher(|_, original: &Arc<Original>| {
                    u32::try_from(original.byte_size()).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    pub fn original(&self, id: i64, version: i64) -> Option<Arc<Original>> {
        self.originals.get(&(id, version))
    }

    pub fn keep_original(&self, id: i64, version: i64, picture: Arc<Original>) {
        self.originals.insert((id, version), picture);
    }
}

/// Slots of the doorkeeper (256 KiB): a key asked for again within about this many other
/// one-off keys is let in.
const DOORKEEPER_SLOTS: usize = 1 << 16;

/// Remembers a fingerprint of recently seen keys, one per slot, so that only a key seen a
/// second time is admitted to the cache. A clash costs a render, never a wrong answer.
pub struct Doorkeeper {
    slots: Vec<AtomicU32>,
    keys: RandomState,
}

impl Default for Doorkeeper {
    fn default() -> Doorkeeper {
        Doorkeeper {
            slots: (0..DOORKEEPER_SLOTS).map(|_| AtomicU32::new(0)).collect(),
            keys: RandomState::new(),
        }
    }
}

impl Doorkeeper {
    /// Whether `key` was seen recently (and notes it as seen now).
    pub fn seen_before(&self, key: &RenditionKey) -> bool {
        let hash = self.keys.hash_one(key);
        let slot = &self.slots[(hash as usize) % DOORKEEPER_SLOTS];
        // The high half as a fingerprint; never 0, which marks an empty slot.
        let fingerprint = ((hash >> 32) as u32).max(1);
        slot.swap(fingerprint, Ordering::Relaxed) == fingerprint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> RenditionKey {
        RenditionKey::Generated {
            style: Style::Identicon,
            digest: Some(Digest::md5_of(&n.to_string())),
            size: 80,
            format: PhotoFormat::Png,
        }
    }

    #[test]
    fn the_doorkeeper_admits_a_key_the_second_time() {
        let doorkeeper = Doorkeeper::default();
        assert!(!doorkeeper.seen_before(&key(1)));
        assert!(doorkeeper.seen_before(&key(1)));
        let strangers = (2..1_002).filter(|n| doorkeeper.seen_before(&key(*n)));
        assert_eq!(strangers.count(), 0, "one-off keys are never admitted");
    }

    #[test]
    fn etag_follows_the_bytes() {
        let a = Rendition::new(vec![1, 2, 3], PhotoFormat::Png);
        let b = Rendition::new(vec![1, 2, 3], PhotoFormat::Png);
        let c = Rendition::new(vec![1, 2, 4], PhotoFormat::Png);
        assert_eq!(a.etag, b.etag);
        assert_ne!(a.etag, c.etag);
        assert!(a.etag.to_str().unwrap().starts_with('"'));
    }

    #[tokio::test]
    async fn cache_is_bounded_by_bytes() {
        let cache = RenderCache::new(40_000);
        for id in 0..100 {
            let key = RenditionKey::Photo {
                id,
                version: 1,
                size: 80,
                format: PhotoFormat::Png,
            };
            cache
                .renditions
                .insert(
                    key,
                    Arc::new(Rendition::new(vec![0; 1000], PhotoFormat::Png)),
                )
                .await;
        }
        cache.renditions.run_pending_tasks().await;
        let weight = cache.renditions.weighted_size();
        assert!(weight <= 30_000, "weighted size {weight}");
        assert!(weight > 0);
    }
}
