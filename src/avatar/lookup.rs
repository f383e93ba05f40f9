//! Digest → photo, answered from memory and kept exact by the change feed.
//!
//! - A [`ServedIndex`] holds what every served digest shows, so a hit and a miss (most of
//!   what a public avatar server is asked for) are both answered without SQL. It is built
//!   in the background at start, streamed from the database (the server answers through the
//!   database meanwhile), and kept current by the feed.
//! - Whether anyone committed at all is read from the WAL index ([`ChangeWatch`], about a
//!   microsecond); only then is the feed asked what changed, by one request at a time, and
//!   the others wait for that catch-up, so a write from any process (an operator's
//!   `cameo add`) is served by the next request. A catch-up reads the current answer of
//!   exactly the digests the feed names; writes that change no avatar name none.
//! - A reader that fell behind the feed's trimmed tail starts over: drops the index and
//!   builds it again.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use crate::store::Db;

use super::served_index::{IndexBuilder, Known, ServedIndex};
use crate::identity::Digest;
use crate::store::changes::ChangeWatch;
use crate::store::feed::{self, Catchup};
use crate::store::hot_read::{self, HotReads};
use crate::store::photos::{self, PhotoRef};

/// Longest a request waits for a catch-up before answering from the index.
const HOT_CATCH_UP_WAIT: Duration = Duration::from_millis(250);
/// After a catch-up found the database unreachable (or too slow), requests leave catching
/// up to the follower this long.
const UNAVAILABLE_PAUSE: Duration = Duration::from_millis(500);

fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Most changes applied one by one; a reader further behind starts over.
const CATCHUP_PAGE: u32 = 10_000;
/// How often the follower looks for writes when no request does (purges, the index).
const FOLLOW_INTERVAL: Duration = Duration::from_millis(200);
/// Feed rows are kept this long (and at least [`KEEP_ROWS`] of them) for readers that
/// were away; older ones are trimmed.
const KEEP_SECS: i64 = 24 * 3600;
const KEEP_ROWS: i64 = 100_000;
const TRIM_EVERY: Duration = Duration::from_secs(600);

type Answer = Option<PhotoRef>;
/// Hears of the digests each applied batch of the feed named.
type ChangeListener = Box<dyn Fn(&[Digest]) + Send + Sync>;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct LookupMetrics {
    /// Lookups answered by the index alone (hits and misses).
    pub memory_answers: AtomicU64,
    /// Lookups that went to the database.
    pub database_reads: AtomicU64,
    /// Digests the feed named, whose answers were read again.
    pub applied_digests: AtomicU64,
    /// Times a reader had to forget everything (fell behind the trimmed tail).
    pub start_overs: AtomicU64,
    /// Lookups answered from memory while the database could not be asked what changed.
    pub stale_answers: AtomicU64,
}

pub struct PhotoLookup {
    pool: Db,
    database: std::path::PathBuf,
    /// The same read without sqlx's thread hops (None if they could not be opened).
    hot: Option<HotReads>,
    changes: ChangeWatch,
    /// What every served digest shows; `None` until built (and after a start-over).
    index: RwLock<Option<ServedIndex>>,
    /// The last feed sequence applied to the index.
    applied: AtomicI64,
    /// The WAL-index token read before the last catch-up.
    seen_token: AtomicU64,
    /// One catch-up at a time; the others wait for it.
    catching_up: tokio::sync::Mutex<()>,
    /// Unix milliseconds until which requests do not try to catch up (the database was
    /// found unreachable).
    unavailable_until: AtomicI64,
    /// While the index is being built: digests the feed named meanwhile, read again once
    /// it is.
    pending: Mutex<Option<Vec<Digest>>>,
    building: AtomicBool,
    /// Told of every digest the feed names (CDN purges); set once at start.
    on_change: std::sync::OnceLock<ChangeListener>,
    pub metrics: LookupMetrics,
}

impl PhotoLookup {
    /// A lookup positioned at the feed's current head (nothing is held yet, so nothing
    /// older can be stale).
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
            index: RwLock::new(None),
            applied: AtomicI64::new(head),
            seen_token: AtomicU64::new(token),
            catching_up: tokio::sync::Mutex::new(()),
            unavailable_until: AtomicI64::new(0),
            pending: Mutex::new(None),
            building: AtomicBool::new(false),
            on_change: std::sync::OnceLock::new(),
            metrics: LookupMetrics::default(),
        })
    }

    /// The photo currently served for `digest`, if any.
    pub async fn photo_for(&self, digest: &Digest) -> Result<Answer, sqlx::Error> {
        self.catch_up_on_the_hot_path().await?;
        match self.known(digest) {
            Some(Known::Served(photo)) => {
                self.metrics.memory_answers.fetch_add(1, Ordering::Relaxed);
                return Ok(Some(photo));
            }
            Some(Known::NotServed) => {
                self.metrics.memory_answers.fetch_add(1, Ordering::Relaxed);
                return Ok(None);
            }
            Some(Known::AskDatabase) | None => {}
        }
        self.metrics.database_reads.fetch_add(1, Ordering::Relaxed);
        self.read(digest).await
    }

    /// Applies the feed before a lookup, but never makes a request wait on a database that
    /// is away or slow: with an index to answer from, a catch-up that fails for want of
    /// the database, or takes longer than [`HOT_CATCH_UP_WAIT`], is left to the follower,
    /// and for [`UNAVAILABLE_PAUSE`] after that requests do not try at all. The
    /// answer is then the index's, exact up to the last catch-up (nothing can be committed
    /// while the database is down).
    async fn catch_up_on_the_hot_path(&self) -> Result<(), sqlx::Error> {
        let now = unix_millis();
        if self.has_index() && now < self.unavailable_until.load(Ordering::Relaxed) {
            self.metrics.stale_answers.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let outcome = tokio::time::timeout(HOT_CATCH_UP_WAIT, self.catch_up_if_written()).await;
        let failed = match outcome {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) if !crate::error::database_unavailable(&error) => return Err(error),
            Ok(Err(error)) => Some(error),
            Err(_slow) => None,
        };
        if !self.has_index() {
            return Err(failed.unwrap_or(sqlx::Error::PoolTimedOut));
        }
        let pause = UNAVAILABLE_PAUSE.as_millis() as i64;
        self.unavailable_until.store(now + pause, Ordering::Relaxed);
        self.metrics.stale_answers.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// What the index says of `digest` (`None` while there is no index).
    fn known(&self, digest: &Digest) -> Option<Known> {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        index.as_ref().map(|index| index.answer(digest))
    }

    /// The database's answer: a prepared read on this thread, or sqlx's if none was free.
    async fn read(&self, digest: &Digest) -> Result<Answer, sqlx::Error> {
        match self
            .hot
            .as_ref()
            .and_then(|hot| hot.photo_for_digest(digest))
        {
            Some(found) => Ok(found),
            None => photos::photo_for_digest(&self.pool, digest).await,
        }
    }

    /// Bytes held by the index of served digests (0 while it is being built).
    pub fn index_bytes(&self) -> usize {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        index.as_ref().map_or(0, ServedIndex::byte_size)
    }

    /// Digests the index knows to serve a photo (0 while it is being built).
    pub fn index_digests(&self) -> usize {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        index.as_ref().map_or(0, ServedIndex::served)
    }

    /// The feed sequence applied so far.
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::SeqCst)
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
                self.apply(&digests).await?;
                self.applied.store(head, Ordering::SeqCst);
                self.metrics
                    .applied_digests
                    .fetch_add(digests.len() as u64, Ordering::Relaxed);
                if let Some(listener) = self.on_change.get()
                    && !digests.is_empty()
                {
                    listener(&digests);
                }
            }
            Catchup::StartOver { head } => {
                self.applied.store(head, Ordering::SeqCst);
                self.metrics.start_overs.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("fell behind the change feed: the index is built again");
                *self.index.write().unwrap_or_else(PoisonError::into_inner) = None;
            }
        }
        self.seen_token.store(token, Ordering::SeqCst);
        // The database answers again: requests catch up themselves from now on.
        self.unavailable_until.store(0, Ordering::Relaxed);
        Ok(())
    }

    /// Reads the current answer of each of `digests` and puts it in the index (or, while
    /// the index is being built, notes them for when it is). Caller holds `catching_up`.
    async fn apply(&self, digests: &[Digest]) -> Result<(), sqlx::Error> {
        if let Some(pending) = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            pending.extend_from_slice(digests);
        }
        if !self.has_index() || digests.is_empty() {
            return Ok(());
        }
        let answers = self.read_all(digests).await?;
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(index) = index.as_mut() {
            for (digest, answer) in digests.iter().zip(&answers) {
                index.set(digest, answer.as_ref());
            }
            if index.wants_merge() {
                index.merge();
            }
        }
        Ok(())
    }

    async fn read_all(&self, digests: &[Digest]) -> Result<Vec<Answer>, sqlx::Error> {
        let mut answers = Vec::with_capacity(digests.len());
        for digest in digests {
            answers.push(self.read(digest).await?);
        }
        Ok(answers)
    }

    /// Builds the index from every served digest, streamed from the database. Digests the
    /// feed names while it runs are read again and put in before it is used.
    pub async fn build_index(&self) -> Result<(), sqlx::Error> {
        if self.building.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) = Some(Vec::new());
        let result = self.build_and_install().await;
        // A failed build leaves nothing pending.
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.building.store(false, Ordering::SeqCst);
        result
    }

    async fn build_and_install(&self) -> Result<(), sqlx::Error> {
        let (mut built, shared) = self.read_served_answers().await?;
        let _no_catch_up_meanwhile = self.catching_up.lock().await;
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_default();
        // Digests of several addresses: the database says which one wins. (PostgreSQL's
        // stream names each digest once, the winner; only SQLite's scan reports these.)
        let database = self.database.clone();
        let shared = tokio::task::spawn_blocking(move || {
            let mut digests = Vec::new();
            for prefix in &shared {
                digests.extend(hot_read::digests_starting_with(&database, prefix)?);
            }
            Ok::<_, rusqlite::Error>(digests)
        })
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("index build failed: {e}")))?
        .map_err(|e| sqlx::Error::Protocol(format!("reading shared digests: {e}")))?;
        pending.extend(shared.iter().filter_map(|hex| Digest::parse_hex(hex).ok()));
        for (digest, answer) in pending.iter().zip(self.read_all(&pending).await?) {
            built.set(digest, answer.as_ref());
        }
        *self.index.write().unwrap_or_else(PoisonError::into_inner) = Some(built);
        Ok(())
    }

    async fn read_served_answers(&self) -> Result<(ServedIndex, Vec<String>), sqlx::Error> {
        if self.pool.sqlite_file().is_none() {
            let builder = photos::each_served_answer(
                &self.pool,
                |expected| IndexBuilder::with_capacity(expected as usize),
                |builder, hex, photo| {
                    if let Ok(digest) = Digest::parse_hex(hex) {
                        builder.push(&digest, photo);
                    }
                },
            )
            .await?;
            return Ok(builder.finish());
        }
        let database = self.database.clone();
        tokio::task::spawn_blocking(move || {
            hot_read::each_served_answer(
                &database,
                |expected| IndexBuilder::with_capacity(expected as usize),
                |builder, hex, photo| {
                    if let Ok(digest) = Digest::parse_hex(hex) {
                        builder.push(&digest, photo);
                    }
                },
            )
            .map(IndexBuilder::finish)
            .map_err(|e| sqlx::Error::Protocol(format!("reading served digests: {e}")))
        })
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("index build failed: {e}")))?
    }

    fn has_index(&self) -> bool {
        self.index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    fn index_wants_building(&self) -> bool {
        !self.building.load(Ordering::SeqCst) && !self.has_index()
    }
}

/// Follows the feed in the background while the server's state lives: builds the index,
/// applies writes that no request has noticed yet (so change listeners hear of them within
/// [`FOLLOW_INTERVAL`]), and trims old feed rows.
pub fn follow(state: Weak<crate::state::AppState>) {
    if let Some(live) = state.upgrade() {
        let (db, state) = (live.pool.clone(), state.clone());
        tokio::spawn(crate::store::changes::follow_commit_notices(
            db,
            move || state.strong_count() > 0,
        ));
    }
    tokio::spawn(async move {
        let mut last_trim = tokio::time::Instant::now();
        let mut interval = tokio::time::interval(FOLLOW_INTERVAL);
        loop {
            interval.tick().await;
            let Some(state) = state.upgrade() else {
                return;
            };
            let lookup = &state.lookup;
            if lookup.index_wants_building() {
                let started = std::time::Instant::now();
                match lookup.build_index().await {
                    Ok(()) => tracing::info!(
                        digests = lookup.index_digests(),
                        bytes = lookup.index_bytes(),
                        ms = started.elapsed().as_millis() as u64,
                        "index of served digests built"
                    ),
                    Err(error) => tracing::warn!(%error, "building the index of served digests"),
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

    async fn indexed_lookup(database: &TempDatabase) -> PhotoLookup {
        let path = &database.path;
        let lookup = PhotoLookup::new(database.pool.clone(), ChangeWatch::open(path), path)
            .await
            .unwrap();
        lookup.build_index().await.unwrap();
        lookup
    }

    fn reads(lookup: &PhotoLookup) -> u64 {
        lookup.metrics.database_reads.load(Ordering::Relaxed)
    }

    #[tokio::test]
    async fn writes_are_answered_from_memory_once_the_feed_names_them() {
        let database = temp_database().await;
        let (pool, lookup) = (&database.pool, indexed_lookup(&database).await);
        let alice = Identity::parse("alice@example.org").unwrap();
        let bob = Identity::parse("bob@example.org").unwrap();
        addresses::set_confirmed_photo(pool, &alice, &photo("a"))
            .await
            .unwrap();
        let served = lookup.photo_for(&alice.digests()[0]).await.unwrap();
        assert!(served.is_some());
        addresses::set_confirmed_photo(pool, &bob, &photo("b"))
            .await
            .unwrap();
        assert_eq!(lookup.photo_for(&alice.digests()[1]).await.unwrap(), served);
        let bobs = lookup.photo_for(&bob.digests()[1]).await.unwrap().unwrap();
        assert_ne!(Some(bobs.id), served.map(|p| p.id));

        addresses::remove(pool, &alice).await.unwrap();
        assert_eq!(lookup.photo_for(&alice.digests()[0]).await.unwrap(), None);
        let stranger = Digest::md5_of("nobody@example.org");
        assert_eq!(lookup.photo_for(&stranger).await.unwrap(), None);
        assert_eq!(reads(&lookup), 0, "every answer came from memory");
    }

    #[tokio::test]
    async fn writes_made_while_the_index_is_built_are_in_it() {
        let database = temp_database().await;
        let path = &database.path;
        let lookup = PhotoLookup::new(database.pool.clone(), ChangeWatch::open(path), path)
            .await
            .unwrap();
        let alice = Identity::parse("alice@example.org").unwrap();
        // The feed names alice while no index exists yet: she is noted for the build.
        *lookup.pending.lock().unwrap() = Some(Vec::new());
        addresses::set_confirmed_photo(&database.pool, &alice, &photo("a"))
            .await
            .unwrap();
        lookup.catch_up_if_written().await.unwrap();
        assert_eq!(
            lookup.pending.lock().unwrap().as_ref().map(Vec::len),
            Some(2)
        );
        lookup.build_and_install().await.unwrap();
        assert!(
            lookup
                .photo_for(&alice.digests()[0])
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(reads(&lookup), 0);
    }

    #[tokio::test]
    async fn a_digest_two_openids_share_serves_what_the_database_says() {
        let database = temp_database().await;
        let pool = &database.pool;
        let plain = Identity::parse("http://example.org/alice").unwrap();
        let secure = Identity::parse("https://example.org/alice").unwrap();
        addresses::set_confirmed_photo(pool, &plain, &photo("a"))
            .await
            .unwrap();
        addresses::set_confirmed_photo(pool, &secure, &photo("b"))
            .await
            .unwrap();
        let lookup = indexed_lookup(&database).await;
        let mut digests = plain.digests();
        digests.extend(secure.digests());
        assert!(digests.len() > 2);
        for digest in &digests {
            let expected = photos::photo_for_digest(pool, digest).await.unwrap();
            assert!(expected.is_some());
            assert_eq!(lookup.photo_for(digest).await.unwrap(), expected);
        }
        assert_eq!(reads(&lookup), 0);
    }

    #[tokio::test]
    async fn a_reader_behind_the_trimmed_feed_forgets_everything_and_stays_correct() {
        let database = temp_database().await;
        let (pool, lookup) = (&database.pool, indexed_lookup(&database).await);
        let alice = Identity::parse("alice@example.org").unwrap();
        addresses::set_confirmed_photo(pool, &alice, &photo("a"))
            .await
            .unwrap();
        let digest = alice.digests()[0];
        let first = lookup.photo_for(&digest).await.unwrap().unwrap();
        // Another process changes alice, and the feed is trimmed before this reader looks.
        addresses::set_confirmed_photo(pool, &alice, &photo("b"))
            .await
            .unwrap();
        feed::trim(pool, -10, 0).await.unwrap();
        let served = lookup.photo_for(&digest).await.unwrap().unwrap();
        assert_ne!(served.id, first.id);
        assert_eq!(lookup.metrics.start_overs.load(Ordering::Relaxed), 1);
        assert_eq!(lookup.index_bytes(), 0, "dropped until built again");
    }
}
