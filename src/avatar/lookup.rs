//! Digest → photo, answered from memory while the database is unchanged.
//!
//! Each cached answer is tagged with the [`ChangeWatch`] token read *before* its query ran,
//! and is used only while the token is still the same. So a commit by any process (an
//! operator's `cameo add` against the live server) makes every older answer unusable at
//! once, and an answer can never be newer-tagged than the data it saw.

use std::sync::Arc;

use sqlx::SqlitePool;

use crate::identity::Digest;
use crate::store::changes::ChangeWatch;
use crate::store::photos::{self, PhotoRef};

/// Memory budget for remembered answers (hits and misses alike). Each entry is weighed at
/// its measured cost in moka (key, value, the shared `PhotoRef` and the cache's own
/// bookkeeping, about 600 bytes), so 8 MiB holds roughly 14 000 digests: plenty for the hot
/// set, and small enough that the whole server stays under 100 MB with the default render
/// cache (issue 5's load target).
const BUDGET_BYTES: u64 = 8 * 1024 * 1024;
const ENTRY_WEIGHT: u32 = 600;

type Answer = Option<Arc<PhotoRef>>;

pub struct PhotoLookup {
    pool: SqlitePool,
    changes: ChangeWatch,
    answers: moka::sync::Cache<Digest, (u64, Answer)>,
}

impl PhotoLookup {
    pub fn new(pool: SqlitePool, changes: ChangeWatch) -> PhotoLookup {
        PhotoLookup {
            pool,
            changes,
            answers: moka::sync::Cache::builder()
                .max_capacity(BUDGET_BYTES)
                .weigher(|_, _| ENTRY_WEIGHT)
                .build(),
        }
    }

    /// The photo currently served for `digest`, if any.
    pub async fn photo_for(&self, digest: &Digest) -> Result<Answer, sqlx::Error> {
        let token = self.changes.token();
        if let Some((seen, answer)) = self.answers.get(digest)
            && seen == token
        {
            return Ok(answer);
        }
        let answer = photos::photo_for_digest(&self.pool, digest)
            .await?
            .map(Arc::new);
        self.answers.insert(*digest, (token, answer.clone()));
        Ok(answer)
    }
}
