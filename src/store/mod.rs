//! The SQLite store: the only place SQL lives.
//!
//! One file per aggregate ([`photos`], [`addresses`], [`users`] with their sessions,
//! [`tokens`]), [`stats`] for the probes and metrics, [`throttles`] for rate limits that hold
//! across processes, plus [`changes`], which tells the hot
//! path cheaply whether anyone (this process or an operator's `cameo add` in another) has
//! written since it last looked. Functions take `&SqlitePool`, so a second backend can sit
//! behind the same signatures later.

pub mod addresses;
pub mod api_tokens;
pub mod backup;
pub mod changes;
pub mod export;
pub mod feed;
pub mod hot_read;
pub mod photos;
pub mod profiles;
pub mod stats;
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
pub async fn open(database: &Path) -> Result<SqlitePool, AppError> {
    if let Some(parent) = database.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            AppError::Internal(format!(
                "cannot create data directory {}: {e}",
                parent.display()
            ))
        })?;
    }
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
