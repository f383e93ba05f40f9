//! The store: the only place SQL lives, on SQLite or PostgreSQL behind one handle, [`Db`].
//!
//! One file per aggregate ([`photos`], [`addresses`], [`users`] with their sessions,
//! [`tokens`]), [`stats`] for the probes and metrics, [`throttles`] for rate limits that hold
//! across processes, [`feed`] for the change feed, plus [`changes`], which tells the hot
//! path cheaply whether anyone (this process or an operator's `cameo add` in another) has
//! written since it last looked; [`file_modes`] keeps the files holding account data
//! owner-only.
//!
//! Why an enum of two pools and not sqlx's `Any` driver: `Any` decodes a `bool` only from a
//! boolean column (SQLite's 0/1 integers fail), copies every row (photo blobs too) into its
//! own value type, and cannot take `SqliteConnectOptions` (WAL, `BEGIN IMMEDIATE`, the
//! pragmas). With the enum each driver keeps its own types and options; the SQL text is
//! shared (`$N` placeholders, which SQLite takes too), and [`on_pool!`]/[`on_tx!`] expand one
//! body once per backend, so each is type-checked against its own driver. Where a statement
//! must differ, the store function matches on [`Db::backend`].
//!
//! SQLite-only pieces stay behind the same face: [`hot_read`] (rusqlite reads of the file),
//! the WAL-index flavour of [`changes::ChangeWatch`], and [`backup`] (`VACUUM INTO`).

/// Runs `$body` with `$pool` bound to the backend's own pool (`&SqlitePool` or `&PgPool`).
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db.pool() {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}

/// [`on_pool!`] for a statement outside a transaction that may change what a digest serves
/// (addresses, photos, accounts): notes the write afterwards (see [`Db::note_write`]).
/// Write transactions note theirs at commit.
macro_rules! write_on_pool {
    ($db:expr, $pool:ident => $body:expr) => {{
        let done = on_pool!($db, $pool => $body);
        $db.note_write();
        done
    }};
}

/// Runs `$body` with `$conn` bound to the transaction's connection (`&mut SqliteConnection`
/// or `&mut PgConnection`); pass it on as `&mut *$conn`.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx.inner_mut() {
            $crate::store::TxInner::Sqlite(transaction) => {
                let $conn = &mut **transaction;
                $body
            }
            $crate::store::TxInner::Postgres(transaction) => {
                let $conn = &mut **transaction;
                $body
            }
        }
    };
}

pub mod addresses;
pub mod api_tokens;
pub mod backup;
pub mod changes;
pub mod export;
pub mod feed;
pub mod file_modes;
pub mod hot_read;
pub mod photos;
pub mod profiles;
pub mod stats;
#[cfg(test)]
pub mod testkit;
pub mod throttles;
pub mod tokens;
pub mod users;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::config::Database;
use crate::error::AppError;
use changes::ChangeWatch;

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
    fn new(pool: Pool, sqlite_file: Option<PathBuf>) -> Db {
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

/// Opens the configured database and applies its migrations.
pub async fn connect(database: &Database) -> Result<Db, AppError> {
    match database {
        Database::Sqlite(file) => open(file).await,
        Database::Postgres(url) => open_postgres(url).await,
    }
}

/// Connects to PostgreSQL and applies the migrations. The database must exist; the tables
/// are created in the connection's default schema.
pub async fn open_postgres(url: &str) -> Result<Db, AppError> {
    let options = PgConnectOptions::from_str(url)?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .min_connections(0)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(Db::new(Pool::Postgres(pool), None))
}

/// Opens (creating if needed) the database file in WAL mode and applies the migrations.
/// The file is owner-only (0600): a new one is created so before SQLite opens it (SQLite
/// gives `-wal` and `-shm` the main file's mode), a looser existing one is tightened.
pub async fn open(database: &Path) -> Result<Db, AppError> {
    if let Some(parent) = database.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            AppError::Internal(format!(
                "cannot create data directory {}: {e}",
                parent.display()
            ))
        })?;
    }
    make_private(database)?;
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(database)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // 1 MiB of page cache per connection instead of SQLite's 2 MiB: photos are read once
        // and then live decoded in the render cache, and the OS caches the file anyway. With
        // 8 connections this keeps 8 MiB out of the resident set under load.
        .pragma("cache_size", "-1024");
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .min_connections(1)
        // The WAL index (`-shm`) that `changes` reads exists while a connection is open.
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(Db::new(Pool::Sqlite(pool), Some(database.to_path_buf())))
}

/// Creates the database file owner-only if it is missing (SQLite takes an empty file for an
/// empty database), and tightens it and its `-wal`/`-shm` if others may read them.
fn make_private(database: &Path) -> Result<(), AppError> {
    let file_error = |path: &Path, e: std::io::Error| {
        AppError::Internal(format!("cannot secure {}: {e}", path.display()))
    };
    if !database.exists() {
        file_modes::create_private(database).map_err(|e| file_error(database, e))?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        let path = Path::new(&name);
        if let Some(before) = file_modes::tighten(path).map_err(|e| file_error(path, e))? {
            tracing::warn!(
                path = %path.display(),
                before = format!("{before:o}"),
                "the database file was readable by others; made it owner-only (0600)"
            );
        }
    }
    Ok(())
}

/// Seconds since the Unix epoch, the unit of every time column.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Moves the WAL's contents into the database file and truncates the WAL (SQLite; nothing to
/// do on PostgreSQL).
pub async fn checkpoint(db: &Db) -> Result<(), sqlx::Error> {
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await
            .map(|_| ()),
        Pool::Postgres(_) => Ok(()),
    }
}
