//! Has the database changed since I last looked? Answered in about a microsecond.
//!
//! The hot path keeps lookups (digest → photo) in memory, but operators run `cameo add` and
//! `cameo import` against a live server from another process, and a replaced photo must be
//! served new at once. SQLite's own answer, `PRAGMA data_version`, costs a round trip to a
//! connection thread; this reads the same fact from the WAL index instead: the first 48 bytes
//! of the `-shm` file are the WAL-index header, which every committing connection rewrites
//! (its `iChange` counter, frame count, salts and checksum all move with each commit), and
//! which no reader writes (https://www.sqlite.org/walformat.html, "The WAL-Index Header").
//!
//! A torn read can only look like a change, which costs one cache flush, never a stale answer.
//! If the file cannot be read, every call reports a change, so the caches are bypassed rather
//! than trusted.
//!
//! PostgreSQL has no file to watch and no cheap "anyone committed?" question, so its flavour
//! ([`ChangeWatch::commits`]) answers from two counters: the commits it was told of, and a
//! clock that ticks every [`POLL_INTERVAL`], as often as the lookup's background follower
//! runs. Told of are this process's writes through the store (so its own writes are served
//! new at once) and, through [`follow_commit_notices`], every feed entry any process or node
//! commits: a trigger on the feed (`avatar_changes`) notifies `cameo_feed` (LISTEN/NOTIFY), so another
//! node's write is read within milliseconds. Notices are lost while the listening connection
//! is down; the tick still reads the feed within its interval then, so nothing waits longer.

use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;

use super::{Db, Pool};

/// Size of one copy of the WAL-index header.
const HEADER_LEN: usize = 48;
/// How stale another process's write may be served on PostgreSQL: the follower's period.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Tells whether anyone may have committed since a token was last read.
#[derive(Debug)]
pub enum ChangeWatch {
    /// SQLite: the WAL index, moved by every commit of every process.
    Wal(WalWatch),
    /// PostgreSQL: this process's writes plus a periodic tick.
    Commits {
        writes: Arc<AtomicU64>,
        started: Instant,
    },
}

impl ChangeWatch {
    /// Watches the WAL index of the SQLite file `database` (its `-shm` file must exist: a
    /// WAL connection is open).
    pub fn open(database: &Path) -> ChangeWatch {
        ChangeWatch::Wal(WalWatch::open(database))
    }

    /// Counts `writes` (bumped at each commit through the store) and the ticks of
    /// [`POLL_INTERVAL`].
    pub fn commits(writes: Arc<AtomicU64>) -> ChangeWatch {
        ChangeWatch::Commits {
            writes,
            started: Instant::now(),
        }
    }

    /// A token that changes whenever a transaction commits (on PostgreSQL: one of this
    /// process's, or a poll is due). Equal tokens mean nothing needs to be read.
    pub fn token(&self) -> u64 {
        match self {
            ChangeWatch::Wal(watch) => watch.token(),
            ChangeWatch::Commits { writes, started } => {
                let ticks = started.elapsed().as_millis() / POLL_INTERVAL.as_millis();
                // Both only grow, so their sum moves whenever either does.
                writes
                    .load(Ordering::SeqCst)
                    .wrapping_add(u64::try_from(ticks).unwrap_or(u64::MAX))
            }
        }
    }
}

/// The channel the feed table's trigger notifies (migrations/postgres/0008_feed_notify.sql).
const FEED_CHANNEL: &str = "cameo_feed";

/// On PostgreSQL, listens on [`FEED_CHANNEL`] and moves `db`'s change token at each notice,
/// while `wanted()` holds (checked after each notice or failure). A lost connection is made
/// again (sqlx's listener reconnects), after a pause when that fails; the token is moved then
/// too, as notices may have been missed meanwhile. Returns at once on SQLite.
pub async fn follow_commit_notices(db: Db, wanted: impl Fn() -> bool) {
    let Pool::Postgres(pool) = db.pool() else {
        return;
    };
    let mut listener = None;
    while wanted() {
        let listening = match listener.as_mut() {
            Some(listening) => listening,
            None => match listen(pool).await {
                Ok(listening) => listener.insert(listening),
                Err(error) => {
                    tracing::debug!(%error, "listening for other nodes' writes");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        match listening.recv().await {
            Ok(_) => db.note_write(),
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                tracing::debug!(%error, "listening for other nodes' writes");
                db.note_write();
                listener = None;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn listen(pool: &sqlx::PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(FEED_CHANNEL).await?;
    Ok(listener)
}

/// Watches the database's WAL index for commits by any process.
#[derive(Debug)]
pub struct WalWatch {
    shm: Option<File>,
    shm_path: PathBuf,
    /// Counts failed reads so that each one yields a token never seen before.
    failures: AtomicU64,
}

impl WalWatch {
    /// `database` is the SQLite file; its `-shm` file must exist (a WAL connection is open).
    pub fn open(database: &Path) -> WalWatch {
        let mut shm_path = database.as_os_str().to_owned();
        shm_path.push("-shm");
        let shm_path = PathBuf::from(shm_path);
        WalWatch {
            shm: File::open(&shm_path).ok(),
            shm_path,
            failures: AtomicU64::new(0),
        }
    }

    /// A token that changes whenever a transaction commits. Equal tokens mean no commit
    /// happened between the two calls.
    pub fn token(&self) -> u64 {
        let mut header = [0u8; HEADER_LEN];
        let read = self
            .shm
            .as_ref()
            .map(|file| file.read_exact_at(&mut header, 0));
        match read {
            Some(Ok(())) if header[..4] != [0, 0, 0, 0] => {
                let mut hasher = DefaultHasher::new();
                header.hash(&mut hasher);
                // Keep the top bit clear: failure tokens below set it.
                hasher.finish() >> 1
            }
            _ => {
                let n = self.failures.fetch_add(1, Ordering::Relaxed);
                if n == 0 {
                    tracing::warn!(path = %self.shm_path.display(),
                        "cannot read the WAL index; in-memory lookups are disabled");
                }
                (1 << 63) | n
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_commit_from_another_pool_changes_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cameo.db");
        let server = crate::store::open(&path).await.unwrap();
        let watch = ChangeWatch::open(&path);
        let before = watch.token();
        assert_eq!(before, watch.token(), "no write, same token");

        let operator = crate::store::open(&path).await.unwrap();
        sqlx::query("INSERT INTO addresses (kind, address, created_at, updated_at) VALUES ('email', 'a@b.c', 0, 0)")
            .execute(operator.sqlite().unwrap())
            .await
            .unwrap();
        let after = watch.token();
        assert_ne!(before, after);
        assert_eq!(after, watch.token());
        drop(server);
    }

    #[test]
    fn a_commit_through_the_store_or_a_due_poll_changes_the_commit_token() {
        let writes = Arc::new(AtomicU64::new(0));
        let watch = ChangeWatch::commits(writes.clone());
        let before = watch.token();
        writes.fetch_add(1, Ordering::SeqCst);
        assert_ne!(before, watch.token());
        let after = watch.token();
        std::thread::sleep(POLL_INTERVAL);
        assert_ne!(after, watch.token(), "a poll is due");
    }

    #[test]
    fn a_missing_wal_index_never_repeats_a_token() {
        let watch = ChangeWatch::open(Path::new("/nonexistent/cameo.db"));
        assert_ne!(watch.token(), watch.token());
    }
}
