//! [`Db`], the store's one handle on either backend, and [`Tx`], a transaction on either.
//! Store functions reach the backend's own pool or connection through the `on_pool!` and
//! `on_tx!` macros (defined in the parent module), never by naming it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use super::changes::ChangeWatch;

/// The PostgreSQL advisory lock key every write transaction holds ("cameo" in ASCII).
const WRITE_LOCK: i64 = 0x63_61_6d_65_6f;

/// Which database a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend's own pool; only the store's macros look inside.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the store (cheap to clone: the pool and a counter are shared).
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    /// The SQLite file, for the pieces that read it directly.
    sqlite_file: Option<PathBuf>,
    /// Writes this process committed through the store: PostgreSQL's [`ChangeWatch`] token.
    writes: Arc<AtomicU64>,
}

impl Db {
    pub(super) fn new(pool: Pool, sqlite_file: Option<PathBuf>) -> Db {
        Db {
            pool,
            sqlite_file,
            writes: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The backend's pool, for the store's macros.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The SQLite pool, if the store is one (SQLite-only tools and tests).
    pub fn sqlite(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }

    /// The SQLite file, if the store is one (hot reads, the WAL watch, backups).
    pub fn sqlite_file(&self) -> Option<&Path> {
        self.sqlite_file.as_deref()
    }

    /// Notices commits: the WAL index of a SQLite file (any process's commits), or on
    /// PostgreSQL this process's writes plus a periodic nudge that makes the feed be polled.
    pub fn change_watch(&self) -> ChangeWatch {
        match &self.sqlite_file {
            Some(file) => ChangeWatch::open(file),
            None => ChangeWatch::commits(self.writes.clone()),
        }
    }

    /// Records that this process committed a write (moves PostgreSQL's change token; SQLite's
    /// WAL index moves by itself).
    pub fn note_write(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }

    /// Starts a write transaction. On SQLite `BEGIN IMMEDIATE` takes the write lock up front,
    /// so concurrent writers wait for each other (busy_timeout) instead of failing with
    /// SQLITE_BUSY when a read transaction tries to upgrade after another writer committed.
    ///
    /// On PostgreSQL the transaction first takes one transaction-scoped advisory lock
    /// ([`WRITE_LOCK`]), so write transactions run one at a time there too: the store's
    /// read-then-write steps (is the address taken? how many photos does the account hold?)
    /// were written for SQLite's single writer and stay correct unchanged. Single-statement
    /// writes (upserts, counters) do not take it and run concurrently. Committing notes the
    /// write.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => TxInner::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => {
                let mut transaction = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK)
                    .execute(&mut *transaction)
                    .await?;
                TxInner::Postgres(transaction)
            }
        };
        Ok(Tx {
            inner,
            writes: Some(self.writes.clone()),
        })
    }

    /// Starts a read transaction: one consistent view (SQLite's deferred transaction; a
    /// repeatable-read one on PostgreSQL).
    pub async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => TxInner::Sqlite(pool.begin().await?),
            Pool::Postgres(pool) => TxInner::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        };
        Ok(Tx {
            inner,
            writes: None,
        })
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// A transaction on either backend; [`on_tx!`] runs statements in it.
pub struct Tx {
    inner: TxInner,
    /// Set for write transactions: bumped at commit.
    writes: Option<Arc<AtomicU64>>,
}

pub enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn inner_mut(&mut self) -> &mut TxInner {
        &mut self.inner
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Sqlite(transaction) => transaction.commit().await?,
            TxInner::Postgres(transaction) => transaction.commit().await?,
        }
        if let Some(writes) = self.writes {
            writes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Sqlite(transaction) => transaction.rollback().await,
            TxInner::Postgres(transaction) => transaction.rollback().await,
        }
    }
}
