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

/// Most digests remembered (hits and misses alike); ~200 bytes each.
const MAX_ENTRIES: u64 = 200_000;

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
            answers: moka::sync::Cache::new(MAX_ENTRIES),
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
