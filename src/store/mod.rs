//! The store: the only place SQL lives, on SQLite or PostgreSQL behind one handle, [`Db`].
//!
//! One file per aggregate ([`photos`], [`addresses`], [`users`] with their sessions,
//! [`tokens`]), [`gateway_copies`] for WhatsApp avatars kept from gateways, [`directory`]
//! for what the company directory gave and [`directory_sync`] for its lease and last run, [`stats`] for
//! the probes and metrics, [`throttles`] for rate limits that hold
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
pub mod copy;
mod db;
pub mod directory;
pub mod directory_sync;
pub mod domains;
pub mod export;
pub mod feed;
pub mod file_modes;
pub mod gateway_copies;
pub mod hot_read;
pub mod oidc;
pub mod photos;
pub mod profiles;
pub mod stats;
#[cfg(test)]
pub mod testkit;
pub mod throttles;
pub mod tokens;
pub mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::config::Database;
use crate::error::AppError;
pub use db::{Backend, Db, Pool, Tx, TxInner};

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
        // Eight for requests and one that the feed listener keeps (store::changes).
        .max_connections(9)
        .min_connections(0)
        // While PostgreSQL is down or restarting a request waits this long for a connection,
        // then is answered 503 (the default, 30 s, would hold every request that long).
        .acquire_timeout(Duration::from_secs(3))
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
