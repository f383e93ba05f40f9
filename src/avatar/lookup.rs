//! Digest → photo, answered from memory and kept exact by the change feed.
//!
//! - Remembered answers (hits and misses) stay valid until the change feed names their
//!   digest: a write anywhere else (a session, a login, a token, another person's photo)
//!   evicts nothing.
//! - Whether anyone committed at all is read from the WAL index ([`ChangeWatch`], about a
//!   microsecond); only then is the feed asked what changed, by one request at a time, and
//!   the others wait for that catch-up, so a write from any process (an operator's
//!   `cameo add`) is served by the next request.
//! - A [`ServedFilter`] of every served digest answers most misses without SQL. It is built
//!   in the background at start (the server answers through the database meanwhile) and
//!   grows with the feed; a reader that fell behind the feed's trimmed tail starts over:
//!   forgets every answer and rebuilds the filter.
//!
//! The race between a database read and a catch-up is closed with the applied sequence: an
//! answer is remembered only if no catch-up happened while it was read, and a catch-up
//! publishes its new sequence before it evicts.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use crate::store::Db;

use super::served_filter::ServedFilter;
use crate::identity::Digest;
use crate::store::changes::ChangeWatch;
use crate::store::feed::{self, Catchup};
use crate::store::hot_read::{self, HotReads};
use crate::store::photos::{self, PhotoRef};

/// Memory budget for remembered answers (hits and misses alike). Each entry is weighed at
/// its measured cost in moka (key, value, the shared `PhotoRef` and the cache's own
/// bookkeeping, about 600 bytes), so 8 MiB holds roughly 14 000 digests.
const BUDGET_BYTES: u64 = 8 * 1024 * 1024;
const ENTRY_WEIGHT: u32 = 600;
/// Most changes applied one by one; a reader further behind starts over.
const CATCHUP_PAGE: u32 = 10_000;
/// How often the follower looks for writes when no request does (purges, filter).
const FOLLOW_INTERVAL: Duration = Duration::from_millis(200);
/// Feed rows are kept this long (and at least [`KEEP_ROWS`] of them) for readers that
/// were away; older ones are trimmed.
const KEEP_SECS: i64 = 24 * 3600;
const KEEP_ROWS: i64 = 100_000;
const TRIM_EVERY: Duration = Duration::from_secs(600);

type Answer = Option<Arc<PhotoRef>>;
/// Hears of the digests each applied batch of the feed named.
type ChangeListener = Box<dyn Fn(&[Digest]) + Send + Sync>;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct LookupMetrics {
    /// Misses answered by the filter alone.
    pub filtered_misses: AtomicU64,
    /// Lookups that went to the database.
    pub database_reads: AtomicU64,
    /// Digests evicted because the feed named them.
    pub evictions: AtomicU64,
    /// Times a reader had to forget everything (fell behind the trimmed tail).
    pub start_overs: AtomicU64,
}

pub struct PhotoLookup {
    pool: Db,
    database: std::path::PathBuf,
    /// The same read without sqlx's thread hops (None if they could not be opened).
    hot: Option<HotReads>,
    changes: ChangeWatch,
    answers: moka::sync::Cache<Digest, Answer>,
    /// The last feed sequence applied to `answers` and the filter.
    applied: AtomicI64,
    /// The WAL-index token read before the last catch-up.
    seen_token: AtomicU64,
    /// One catch-up at a time; the others wait for it.
    catching_up: tokio::sync::Mutex<()>,
    filter: RwLock<Option<Arc<ServedFilter>>>,
    /// While a filter is being built: digests the feed named meanwhile, added once it is.
    pending: std::sync::Mutex<Option<Vec<Digest>>>,
    building: AtomicBool,
    /// Told of every digest the feed names (CDN purges); set once at start.
    on_change: std::sync::OnceLock<ChangeListener>,
    pub metrics: LookupMetrics,
}

impl PhotoLookup {
    /// A lookup positioned at the feed's current head (nothing is remembered yet, so
    /// nothing older can be stale).
    pub async fn new(
        pool: Db,
        changes: ChangeWatch,
        database: &std::path::Path,
    ) -> Result<PhotoLookup, sqlx::Error> {
        let token = changes.token();
        let head = feed::head(&pool).await?;
        let readers = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
        // PostgreSQL: no file to read.
        let hot = pool.sqlite_file().and_then(|_| {
            HotReads::open(database, readers)
                .inspect_err(|error| tracing::warn!(%error, "hot reads unavailable; using sqlx"))
                .ok()
        });
        Ok(PhotoLookup {
            pool,
            database: database.to_path_buf(),
            hot,
            changes,
            answers: moka::sync::Cache::builder()
                .max_capacity(BUDGET_BYTES)
                .weigher(|_, _| ENTRY_WEIGHT)
                .build(),
            applied: AtomicI64::new(head),
            seen_token: AtomicU64::new(token),
            catching_up: tokio::sync::Mutex::new(()),
            filter: RwLock::new(None),
            pending: std::sync::Mutex::new(None),
            building: AtomicBool::new(false),
            on_change: std::sync::OnceLock::new(),
            metrics: LookupMetrics::default(),
        })
    }

    /// The photo currently served for `digest`, if any.
    pub async fn photo_for(&self, digest: &Digest) -> Result<Answer, sqlx::Error> {
        self.catch_up_if_written().await?;
        if let Some(answer) = self.answers.get(digest) {
            return Ok(answer);
        }
        if self
            .current_filter()
            .is_some_and(|f| !f.may_contain(digest))
        {
            self.metrics.filtered_misses.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        self.metrics.database_reads.fetch_add(1, Ordering::Relaxed);
        let applied = self.applied.load(Ordering::SeqCst);
        let found = match self
            .hot
            .as_ref()
            .and_then(|hot| hot.photo_for_digest(digest))
        {
            Some(found) => found,
            None => photos::photo_for_digest(&self.pool, digest).await?,
        };
        let answer = found.map(Arc::new);
        self.answers.insert(*digest, answer.clone());
        // A catch-up that ran during the read may have evicted before this insert: then the
        // answer may be older than the feed, and is not kept.
        if self.applied.load(Ordering::SeqCst) != applied {
            self.answers.invalidate(digest);
        }
        Ok(answer)
    }

    /// Bytes held by the served-digest filter (0 while it is being built).
    pub fn filter_bytes(&self) -> usize {
        self.current_filter().map_or(0, |f| f.byte_size())
    }

    /// The feed sequence applied so far.
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::SeqCst)
    }

    fn current_filter(&self) -> Option<Arc<ServedFilter>> {
        self.filter
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Has `listener` told of every digest the feed names from now on (once; later calls
    /// are ignored).
    pub fn on_change(&self, listener: impl Fn(&[Digest]) + Send + Sync + 'static) {
        let _ = self.on_change.set(Box::new(listener));
    }

    /// Applies the feed if anyone committed since the last look.
    pub async fn catch_up_if_written(&self) -> Result<(), sqlx::Error> {
        if self.changes.token() == self.seen_token.load(Ordering::SeqCst) {
            return Ok(());
        }
        let _one_at_a_time = self.catching_up.lock().await;
        // Read before the feed query: a commit after this read changes the token again.
        let token = self.changes.token();
        if token == self.seen_token.load(Ordering::SeqCst) {
            return Ok(());
        }
        match feed::changes_since(&self.pool, self.applied(), CATCHUP_PAGE).await? {
            Catchup::Changes { digests, head } => {
                self.applied.store(head, Ordering::SeqCst);
                for digest in &digests {
                    self.answers.invalidate(digest);
                    self.note_in_filter(digest);
                }
                self.metrics
                    .evictions
                    .fetch_add(digests.len() as u64, Ordering::Relaxed);
                if let Some(listener) = self.on_change.get()
                    && !digests.is_empty()
                {
                    listener(&digests);
                }
            }
            Catchup::StartOver { head } => {
                self.applied.store(head, Ordering::SeqCst);
                self.answers.invalidate_all();
                self.metrics.start_overs.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("fell behind the change feed: every remembered answer dropped");
                self.discard_filter();
            }
        }
        self.seen_token.store(token, Ordering::SeqCst);
        Ok(())
    }

    fn note_in_filter(&self, digest: &Digest) {
        if let Some(filter) = self.current_filter() {
            filter.insert(digest);
        }
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(pending) = pending.as_mut() {
            pending.push(*digest);
        }
    }

    fn discard_filter(&self) {
        *self
            .filter
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Builds the filter from every served digest, streamed from the database. Digests the
    /// feed names while it runs are collected and added before it is used.
    pub async fn build_filter(&self) -> Result<(), sqlx::Error> {
        if self.building.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        *self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Vec::new());
        let built = self.read_served_digests().await;
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .unwrap_or_default();
        let result = built.map(|filter| {
            for digest in &pending {
                filter.insert_built(digest);
            }
            *self
                .filter
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(filter));
        });
        self.building.store(false, Ordering::SeqCst);
        result
    }

    async fn read_served_digests(&self) -> Result<ServedFilter, sqlx::Error> {
        // Room for half as many again; rebuilt once that many more were added.
        let sized = |expected: u64| ServedFilter::with_capacity(expected.max(1) * 3 / 2);
        if self.pool.sqlite_file().is_none() {
            return photos::each_served_digest(&self.pool, sized, |filter, hex| {
                if let Ok(digest) = Digest::parse_hex(hex) {
                    filter.insert_built(&digest);
                }
            })
            .await;
        }
        let database = self.database.clone();
        tokio::task::spawn_blocking(move || {
            hot_read::each_served_digest(
                &database,
                // Room for half as many again; rebuilt once that many more were added.
                |expected| ServedFilter::with_capacity(expected.max(1) * 3 / 2),
                |filter, hex| {
                    if let Ok(digest) = Digest::parse_hex(hex) {
                        filter.insert_built(&digest);
                    }
                },
            )
            .map_err(|e| sqlx::Error::Protocol(format!("reading served digests: {e}")))
        })
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("filter build failed: {e}")))?
    }

    fn filter_wants_building(&self) -> bool {
        !self.building.load(Ordering::SeqCst)
            && self.current_filter().is_none_or(|f| f.wants_rebuild())
    }
}

/// Follows the feed in the background while the server's state lives: builds the filter,
/// applies writes that no request has noticed yet (so change listeners hear of them within
/// [`FOLLOW_INTERVAL`]), rebuilds the filter when it has filled up, and trims old feed rows.
pub fn follow(state: Weak<crate::state::AppState>) {
    tokio::spawn(async move {
        let mut last_trim = tokio::time::Instant::now();
        let mut interval = tokio::time::interval(FOLLOW_INTERVAL);
        loop {
            interval.tick().await;
            let Some(state) = state.upgrade() else {
                return;
            };
            let lookup = &state.lookup;
            if lookup.filter_wants_building() {
                let started = std::time::Instant::now();
                match lookup.build_filter().await {
                    Ok(()) => tracing::info!(
                        bytes = lookup.filter_bytes(),
                        ms = started.elapsed().as_millis() as u64,
                        "served-digest filter built"
                    ),
                    Err(error) => tracing::warn!(%error, "building the served-digest filter"),
                }
            }
            if let Err(error) = lookup.catch_up_if_written().await {
                tracing::warn!(%error, "following the change feed");
            }
            if last_trim.elapsed() >= TRIM_EVERY {
                last_trim = tokio::time::Instant::now();
                if let Err(error) = feed::trim(&state.pool, KEEP_SECS, KEEP_ROWS).await {
                    tracing::warn!(%error, "trimming the change feed");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::store::addresses;
    use crate::store::testkit::{TempDatabase, prepared_photo as photo, temp_database};

    async fn lookup_over(database: &TempDatabase) -> PhotoLookup {
        let path = &database.path;
        PhotoLookup::new(database.pool.clone(), ChangeWatch::open(path), path)
            .await
            .unwrap()
    }

    fn reads(lookup: &PhotoLookup) -> u64 {
        lookup.metrics.database_reads.load(Ordering::Relaxed)
    }

    #[tokio::test]
    async fn only_the_digests_a_write_names_are_read_again() {
        let database = temp_database().await;
        let (pool, lookup) = (&database.pool, lookup_over(&database).await);
        let alice = Identity::parse("alice@example.org").unwrap();
        let bob = Identity::parse("bob@example.org").unwrap();
        addresses::set_confirmed_photo(pool, &alice, &photo("a"))
            .await
            .unwrap();
        let digest = alice.digests()[0];
        assert!(lookup.photo_for(&digest).await.unwrap().is_some());
        assert_eq!(reads(&lookup), 1);

        addresses::set_confirmed_photo(pool, &bob, &photo("b"))
            .await
            .unwrap();
        assert!(lookup.photo_for(&digest).await.unwrap().is_some());
        assert_eq!(reads(&lookup), 1, "bob's write left alice's answer alone");
        assert!(lookup.photo_for(&bob.digests()[1]).await.unwrap().is_some());

        addresses::remove(pool, &alice).await.unwrap();
        assert_eq!(lookup.photo_for(&digest).await.unwrap(), None);
        assert_eq!(reads(&lookup), 3);
    }

    #[tokio::test]
    async fn a_reader_behind_the_trimmed_feed_forgets_everything_and_stays_correct() {
        let database = temp_database().await;
        let (pool, lookup) = (&database.pool, lookup_over(&database).await);
        let alice = Identity::parse("alice@example.org").unwrap();
        addresses::set_confirmed_photo(pool, &alice, &photo("a"))
            .await
            .unwrap();
        let digest = alice.digests()[0];
        assert!(lookup.photo_for(&digest).await.unwrap().is_some());
        // Another process changes alice, and the feed is trimmed before this reader looks.
        addresses::set_confirmed_photo(pool, &alice, &photo("b"))
            .await
            .unwrap();
        feed::trim(pool, -10, 0).await.unwrap();
        let served = lookup.photo_for(&digest).await.unwrap().unwrap();
        assert_eq!(served.content_digest, "b");
        assert_eq!(lookup.metrics.start_overs.load(Ordering::Relaxed), 1);
    }
}
