//! Where the bytes of stored originals live: in the database (the default, one file to back
//! up) or in an S3-compatible bucket (`photo_store = "s3://BUCKET/PREFIX"`), so that several
//! nodes share them and the database stays small.
//!
//! In a bucket, objects are content-addressed: a photo's key is `PREFIX/` plus the SHA-256
//! of its stored bytes (the `content_digest` the database already keeps), so identical
//! photos share one object and nothing is ever overwritten in place. The writer puts the
//! object *before* it commits the row that needs it, so a row never points at an object
//! that is not there; an object no row needs (a photo deleted, a write that failed after
//! its upload) is collected later by [`PhotoBucket::collect_garbage`], and only once it is
//! older than a grace period, so an upload whose row is about to commit is never taken.
//!
//! Every call is bounded: connect and request timeouts, two retries, and a size limit on
//! reads. Credentials come from the configuration (or `CAMEO_S3_*` in the environment) and
//! are never logged. Built on the `object_store` crate (Apache Arrow's), which also speaks
//! to GCS, Azure and local directories should Cameo ever need them.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};

use crate::config::Config;
use crate::error::AppError;
use crate::imaging::PreparedPhoto;

/// Longest a single request to the bucket may take, retries included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// An unreferenced object younger than this may belong to a row about to commit.
pub const GARBAGE_GRACE: Duration = Duration::from_secs(3600);
/// Old objects whose rows are looked for at once.
const GARBAGE_PAGE: usize = 500;
/// How often each node collects garbage.
const GARBAGE_EVERY: Duration = Duration::from_secs(3600);

/// `photo_store`: where originals' bytes are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhotoStoreSetting {
    Database,
    S3 { bucket: String, prefix: String },
}

impl PhotoStoreSetting {
    /// `database`, or `s3://BUCKET[/PREFIX]` (prefix default `photos`).
    pub fn parse(text: &str) -> Result<PhotoStoreSetting, String> {
        if text == "database" {
            return Ok(PhotoStoreSetting::Database);
        }
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| "\"database\" or s3://BUCKET/PREFIX".to_string())?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !bucket_ok {
            return Err("a bucket name is 3-63 characters: a-z, 0-9, '-' and '.'".into());
        }
        let prefix = prefix.trim_matches('/');
        let prefix_ok = prefix.len() <= 200
            && prefix.split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            });
        if !prefix.is_empty() && !prefix_ok {
            return Err("a prefix is path segments of a-z, A-Z, 0-9, '-', '_' and '.'".into());
        }
        Ok(PhotoStoreSetting::S3 {
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                "photos".to_string()
            } else {
                prefix.to_string()
            },
        })
    }

    /// As written in the configuration.
    pub fn name(&self) -> String {
        match self {
            PhotoStoreSetting::Database => "database".to_string(),
            PhotoStoreSetting::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }
}

/// Why the bucket could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum BucketError {
    #[error("photo storage is unavailable: {0}")]
    Unavailable(String),
    #[error("the stored photo {0} is missing from the bucket")]
    Missing(String),
    #[error("the stored photo {0} is larger than any photo Cameo stores")]
    TooLarge(String),
    #[error("not a content digest: {0}")]
    BadKey(String),
}

impl From<BucketError> for AppError {
    fn from(error: BucketError) -> AppError {
        match error {
            BucketError::Unavailable(_) => AppError::Overloaded {
                reason: "photo storage is unavailable; try again shortly".into(),
                retry_after: 5,
            },
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// What [`PhotoBucket::collect_garbage`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GarbageReport {
    /// Old enough, and a row needs them.
    pub kept: u64,
    pub deleted: u64,
    /// Younger than the grace period: not looked at.
    pub spared: u64,
}

/// Collects the bucket's garbage every [`GARBAGE_EVERY`] while the server's state lives
/// (every node does: deleting an object twice is harmless).
pub fn collect_periodically(state: std::sync::Weak<crate::state::AppState>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(GARBAGE_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let Some(state) = state.upgrade() else {
                return;
            };
            let Some(bucket) = state.photo_bucket.clone() else {
                return;
            };
            match collect_unreferenced(&bucket, &state.pool, GARBAGE_GRACE).await {
                Ok(report) => tracing::info!(
                    kept = report.kept,
                    deleted = report.deleted,
                    spared = report.spared,
                    "photo bucket garbage collected"
                ),
                Err(error) => tracing::warn!(%error, "collecting the photo bucket's garbage"),
            }
        }
    });
}

/// Deletes the bucket's objects older than `grace` that no photo row names.
pub async fn collect_unreferenced(
    bucket: &PhotoBucket,
    pool: &crate::store::Db,
    grace: Duration,
) -> Result<GarbageReport, BucketError> {
    bucket
        .collect_garbage(grace, |digests| async move {
            crate::store::photos::stored_content_digests(pool, &digests)
                .await
                .map_err(|e| BucketError::Unavailable(format!("the database: {e}")))
        })
        .await
}

/// An S3-compatible bucket holding originals by content digest.
#[derive(Clone)]
pub struct PhotoBucket {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    /// Reads larger than this are refused (the largest original Cameo writes, with room).
    max_bytes: u64,
}

impl std::fmt::Debug for PhotoBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The store's own Debug would print the credentials.
        write!(f, "PhotoBucket({})", self.prefix)
    }
}

impl PhotoBucket {
    /// The bucket `config` names, or `None` when photos live in the database.
    pub fn from_config(config: &Config) -> Result<Option<PhotoBucket>, String> {
        let PhotoStoreSetting::S3 { bucket, prefix } = &config.photo_store else {
            return Ok(None);
        };
        if config.s3_access_key_id.is_empty() || config.s3_secret_access_key.is_empty() {
            return Err(
                "photo_store is a bucket: set s3_access_key_id and s3_secret_access_key \
                 (or CAMEO_S3_ACCESS_KEY_ID and CAMEO_S3_SECRET_ACCESS_KEY)"
                    .into(),
            );
        }
        crate::outbound::install_tls_provider();
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&config.s3_region)
            .with_access_key_id(&config.s3_access_key_id)
            .with_secret_access_key(&config.s3_secret_access_key)
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(REQUEST_TIMEOUT)
                    .with_connect_timeout(CONNECT_TIMEOUT)
                    .with_allow_http(config.s3_endpoint.starts_with("http://")),
            )
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: REQUEST_TIMEOUT,
                ..RetryConfig::default()
            });
        if !config.s3_endpoint.is_empty() {
            // Self-hosted stores (Garage, Ceph, SeaweedFS) answer on one host, path-style.
            builder = builder
                .with_endpoint(&config.s3_endpoint)
                .with_virtual_hosted_style_request(false);
        }
        let store = builder.build().map_err(|e| format!("photo_store: {e}"))?;
        Ok(Some(PhotoBucket {
            store: Arc::new(store),
            prefix: Path::from(prefix.as_str()),
            max_bytes: config.max_upload_bytes.saturating_mul(4).max(64 << 20),
        }))
    }

    /// A bucket over any object store (tests use an in-memory one).
    pub fn over(store: Arc<dyn ObjectStore>, prefix: &str, max_bytes: u64) -> PhotoBucket {
        PhotoBucket {
            store,
            prefix: Path::from(prefix),
            max_bytes,
        }
    }

    fn key(&self, content_digest: &str) -> Result<Path, BucketError> {
        let valid = content_digest.len() == 64
            && content_digest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid {
            return Err(BucketError::BadKey(
                content_digest.chars().take(80).collect(),
            ));
        }
        Ok(self.prefix.clone().join(content_digest))
    }

    /// Stores `bytes` under `content_digest` (their SHA-256) unless an object is already
    /// there: same digest, same bytes, so nothing is rewritten.
    pub async fn put(&self, content_digest: &str, bytes: &[u8]) -> Result<(), BucketError> {
        let key = self.key(content_digest)?;
        match self.store.head(&key).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(error) => return Err(unavailable(error)),
        }
        self.store
            .put(&key, PutPayload::from(bytes.to_vec()))
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    /// The bytes stored under `content_digest`, read with a size limit.
    pub async fn get(&self, content_digest: &str) -> Result<Vec<u8>, BucketError> {
        let key = self.key(content_digest)?;
        let found = match self.store.get(&key).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(BucketError::Missing(content_digest.to_string()));
            }
            Err(error) => return Err(unavailable(error)),
        };
        if found.meta.size > self.max_bytes {
            return Err(BucketError::TooLarge(content_digest.to_string()));
        }
        let mut bytes = Vec::with_capacity(found.meta.size as usize);
        let mut stream = found.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(unavailable)?;
            if bytes.len() as u64 + chunk.len() as u64 > self.max_bytes {
                return Err(BucketError::TooLarge(content_digest.to_string()));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// Whether an object is stored under `content_digest`.
    pub async fn contains(&self, content_digest: &str) -> Result<bool, BucketError> {
        match self.store.head(&self.key(content_digest)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// The content digests stored under the prefix (for verification and tests: this holds
    /// one string per object).
    pub async fn digests(&self) -> Result<Vec<String>, BucketError> {
        let mut listing = self.store.list(Some(&self.prefix));
        let mut digests = Vec::new();
        while let Some(object) = listing.next().await {
            let object = object.map_err(unavailable)?;
            if let Some(digest) = object.location.filename()
                && self.key(digest).ok().as_ref() == Some(&object.location)
            {
                digests.push(digest.to_string());
            }
        }
        Ok(digests)
    }

    /// Answers when the bucket does (for `/readyz`): one listing of at most a page.
    pub async fn check(&self) -> Result<(), BucketError> {
        let mut listing = self.store.list(Some(&self.prefix));
        match listing.next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(error)) => Err(unavailable(error)),
        }
    }

    /// Deletes the objects under the prefix that are older than `grace` and whose digest
    /// `referenced` does not name: it is asked about the old ones a page at a time, so
    /// memory stays bounded however large the bucket. Anything else under the prefix is
    /// left alone.
    pub async fn collect_garbage<F, Fut>(
        &self,
        grace: Duration,
        mut referenced: F,
    ) -> Result<GarbageReport, BucketError>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: Future<Output = Result<HashSet<String>, BucketError>>,
    {
        let cutoff = cutoff_before(grace);
        let mut report = GarbageReport::default();
        let mut listing = self.store.list(Some(&self.prefix));
        let mut page = Vec::new();
        let mut done = false;
        while !done {
            match listing.next().await {
                Some(object) => {
                    let object = object.map_err(unavailable)?;
                    let Some(digest) = object.location.filename() else {
                        continue;
                    };
                    if self.key(digest).ok().as_ref() != Some(&object.location) {
                        continue;
                    }
                    if object.last_modified.timestamp() > cutoff {
                        report.spared += 1;
                    } else {
                        page.push(digest.to_string());
                    }
                }
                None => done = true,
            }
            if page.len() >= GARBAGE_PAGE || (done && !page.is_empty()) {
                let candidates = std::mem::take(&mut page);
                let needed = referenced(candidates.clone()).await?;
                for digest in candidates {
                    if needed.contains(&digest) {
                        report.kept += 1;
                        continue;
                    }
                    match self.store.delete(&self.key(&digest)?).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => report.deleted += 1,
                        Err(error) => return Err(unavailable(error)),
                    }
                }
            }
        }
        Ok(report)
    }
}

/// `photo` ready for its row: with a bucket, its bytes are put there first (by digest) and
/// the row keeps none; without one, unchanged.
pub async fn offload(
    bucket: Option<&PhotoBucket>,
    mut photo: PreparedPhoto,
) -> Result<PreparedPhoto, BucketError> {
    if let Some(bucket) = bucket {
        bucket.put(&photo.content_digest, &photo.data).await?;
        photo.data = Vec::new();
    }
    Ok(photo)
}

/// A stored original's bytes: those its row holds, or (a row that holds none) the bucket's.
pub async fn original_bytes(
    bucket: Option<&PhotoBucket>,
    inline: Vec<u8>,
    content_digest: &str,
) -> Result<Vec<u8>, BucketError> {
    match bucket {
        _ if !inline.is_empty() => Ok(inline),
        Some(bucket) => bucket.get(content_digest).await,
        None => Err(BucketError::Unavailable(
            "this photo's bytes are in a bucket, and photo_store names none".into(),
        )),
    }
}

/// Unix seconds before which an object is old enough to collect.
fn cutoff_before(grace: Duration) -> i64 {
    crate::store::now() - i64::try_from(grace.as_secs()).unwrap_or(i64::MAX / 2)
}

fn unavailable(error: object_store::Error) -> BucketError {
    // object_store's messages name the bucket and key, never the credentials.
    BucketError::Unavailable(error.to_string().chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    fn digest_of(bytes: &[u8]) -> String {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(bytes))
    }

    fn bucket() -> PhotoBucket {
        PhotoBucket::over(Arc::new(InMemory::new()), "photos", 1024)
    }

    #[test]
    fn the_setting_is_database_or_a_bucket_with_a_safe_prefix() {
        assert_eq!(
            PhotoStoreSetting::parse("database"),
            Ok(PhotoStoreSetting::Database)
        );
        assert_eq!(
            PhotoStoreSetting::parse("s3://cameo-photos"),
            Ok(PhotoStoreSetting::S3 {
                bucket: "cameo-photos".into(),
                prefix: "photos".into()
            })
        );
        assert_eq!(
            PhotoStoreSetting::parse("s3://cameo/a/b/").unwrap().name(),
            "s3://cameo/a/b"
        );
        for bad in [
            "",
            "s3://",
            "s3://AB",
            "s3://x/../y",
            "s3://cameo/a b",
            "file:///tmp",
        ] {
            assert!(PhotoStoreSetting::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn photos_are_stored_once_by_digest_and_read_back() {
        let bucket = bucket();
        let bytes = b"a photo".to_vec();
        let digest = digest_of(&bytes);
        assert!(!bucket.contains(&digest).await.unwrap());
        bucket.put(&digest, &bytes).await.unwrap();
        bucket.put(&digest, &bytes).await.unwrap();
        assert_eq!(bucket.get(&digest).await.unwrap(), bytes);
        assert!(bucket.contains(&digest).await.unwrap());
        let missing = digest_of(b"nothing");
        assert!(matches!(
            bucket.get(&missing).await,
            Err(BucketError::Missing(_))
        ));
    }

    #[tokio::test]
    async fn keys_are_only_digests_and_reads_are_bounded() {
        let bucket = bucket();
        assert!(matches!(
            bucket.put("../../etc/passwd", b"x").await,
            Err(BucketError::BadKey(_))
        ));
        let big = vec![7u8; 2048];
        let digest = digest_of(&big);
        bucket.put(&digest, &big).await.unwrap();
        assert!(matches!(
            bucket.get(&digest).await,
            Err(BucketError::TooLarge(_))
        ));
    }

    #[tokio::test]
    async fn garbage_is_what_no_row_needs_and_is_old_enough() {
        let bucket = bucket();
        let (kept, orphan) = (b"kept".to_vec(), b"orphan".to_vec());
        for bytes in [&kept, &orphan] {
            bucket.put(&digest_of(bytes), bytes).await.unwrap();
        }
        let needed = digest_of(&kept);
        let referenced = |digests: Vec<String>| {
            let needed = needed.clone();
            async move { Ok(digests.into_iter().filter(|d| *d == needed).collect()) }
        };
        let young = bucket
            .collect_garbage(Duration::from_secs(3600), referenced)
            .await
            .unwrap();
        assert_eq!(
            young,
            GarbageReport {
                kept: 0,
                deleted: 0,
                spared: 2
            }
        );
        let old = bucket
            .collect_garbage(Duration::ZERO, referenced)
            .await
            .unwrap();
        assert_eq!((old.kept, old.deleted), (1, 1));
        assert!(!bucket.contains(&digest_of(&orphan)).await.unwrap());
        assert!(bucket.contains(&digest_of(&kept)).await.unwrap());
    }
}
