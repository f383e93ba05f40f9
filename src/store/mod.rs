//! The SQLite store: the only place SQL lives.
//!
//! One file per aggregate ([`photos`], [`addresses`], [`users`] with their sessions,
//! [`tokens`]), [`stats`] for the probes and metrics, [`throttles`] for rate limits that hold
//! across processes, plus [`changes`], which tells the hot
//! path cheaply whether anyone (this process or an operator's `cameo add` in another) has
//! written since it last looked; [`file_modes`] keeps the files holding account data
//! owner-only. Functions take `&SqlitePool`, so a second backend can sit
//! behind the same signatures later.

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

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::AppError;

/// Opens (creating if needed) the database file in WAL mode and applies the migrations.
/// The file is owner-only (0600): a new one is created so before SQLite opens it (SQLite
/// gives `-wal` and `-shm` the main file's mode), a looser existing one is tightened.
pub async fn open(database: &Path) -> Result<SqlitePool, AppError> {
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
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
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

/// Moves the WAL's contents into the database file and truncates the WAL.
pub async fn checkpoint(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await
        .map(|_| ())
}

/// Starts a write transaction. `BEGIN IMMEDIATE` takes the write lock up front, so concurrent
/// writers wait for each other (busy_timeout) instead of failing with SQLITE_BUSY when a read
/// transaction tries to upgrade after another writer committed.
pub async fn begin_write(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}
