//! The SQLite database file as a whole, for `cameo backup` and `cameo restore`
//! ([`crate::operator::backup`]): a consistent copy (`VACUUM INTO`), and the checks made on a
//! copy before it is trusted: integrity, Cameo's tables, the applied migrations, the counts.
//!
//! A copy is opened on its own connection ([`DatabaseFile`]), never through the server's
//! pool: the pool would create a missing file, migrate it, and keep it in WAL mode, where a
//! backup must stay one self-contained file and a restore must not touch what it checks.
//! Deciding what the answers mean (damaged? newer schema? in use?) is the caller's business.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, SqlitePool};

use super::Db;

/// How many photos, addresses and accounts a database holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowCounts {
    pub photos: i64,
    pub addresses: i64,
    pub accounts: i64,
}

/// One migration as a database recorded it in `_sqlx_migrations`.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AppliedMigration {
    pub version: i64,
    pub checksum: Vec<u8>,
    pub success: bool,
}

/// Writes a consistent, compact, self-contained copy of the database behind `pool` to
/// `target`, which must not exist. `VACUUM INTO` reads inside one read transaction, so the
/// copy is the database as of one instant however busy the writers are. An absolute path
/// never starts with "file:", so SQLite cannot read it as a URI; bound as a parameter, it
/// needs no quoting.
pub async fn vacuum_into(pool: &SqlitePool, target: &str) -> Result<(), sqlx::Error> {
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(pool)
        .await
        .map(|_| ())
}

/// The counts of the database behind `db`, whichever backend it is.
pub async fn count_rows_of(db: &Db) -> Result<RowCounts, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(COUNT_ROWS).fetch_one(pool).await).map(
        |(photos, addresses, accounts)| RowCounts {
            photos,
            addresses,
            accounts,
        },
    )
}

const COUNT_ROWS: &str = "SELECT (SELECT COUNT(*) FROM photos), (SELECT COUNT(*) FROM addresses),
        (SELECT COUNT(*) FROM users)";

/// The counts, in one statement so they agree with each other.
pub async fn count_rows<'e, E>(executor: E) -> Result<RowCounts, sqlx::Error>
where
    E: sqlx::SqliteExecutor<'e>,
{
    let (photos, addresses, accounts): (i64, i64, i64) =
        sqlx::query_as(COUNT_ROWS).fetch_one(executor).await?;
    Ok(RowCounts {
        photos,
        addresses,
        accounts,
    })
}

/// The migrations this binary knows, as (version, checksum).
pub fn known_migrations() -> Vec<(i64, Vec<u8>)> {
    sqlx::migrate!("./migrations/sqlite")
        .iter()
        .map(|m| (m.version, m.checksum.to_vec()))
        .collect()
}

/// An existing database file opened alone on one connection, with no pool, no migrations
/// and no pragmas beyond the busy timeout.
pub struct DatabaseFile {
    conn: SqliteConnection,
}

impl DatabaseFile {
    /// Opens `path`, which must exist; `busy_timeout` is how long to wait for another
    /// process's lock.
    pub async fn open(path: &Path, busy_timeout: Duration) -> Result<DatabaseFile, sqlx::Error> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(false)
            .busy_timeout(busy_timeout);
        let conn = SqliteConnection::connect_with(&options).await?;
        Ok(DatabaseFile { conn })
    }

    /// Switches the file to the rollback journal, which folds any `-wal` into the main file
    /// and leaves one file. It needs an exclusive lock, so it fails (busy or locked) while
    /// another process has the database open.
    pub async fn leave_wal(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("PRAGMA journal_mode = DELETE")
            .execute(&mut self.conn)
            .await
            .map(|_| ())
    }

    /// `PRAGMA integrity_check`'s report: `["ok"]` for an intact database.
    pub async fn integrity_check(&mut self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&mut self.conn)
            .await
    }

    /// The names of every table in the file.
    pub async fn table_names(&mut self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut self.conn)
            .await
    }

    /// The migrations the file records as applied, oldest first. The caller checks first
    /// that `_sqlx_migrations` exists.
    pub async fn applied_migrations(&mut self) -> Result<Vec<AppliedMigration>, sqlx::Error> {
        sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut self.conn)
            .await
    }

    /// [`count_rows`] of this file.
    pub async fn count_rows(&mut self) -> Result<RowCounts, sqlx::Error> {
        count_rows(&mut self.conn).await
    }

    /// Closes the connection; a failure to close cleanly changes nothing for the caller.
    pub async fn close(self) {
        self.conn.close().await.ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_vacuumed_copy_is_intact_migrated_and_holds_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::store::open(&dir.path().join("cameo.db"))
            .await
            .unwrap();
        crate::store::users::create(&pool, "a@example.org", "not a real hash")
            .await
            .unwrap()
            .unwrap();
        let copy = dir.path().join("copy.db");
        vacuum_into(pool.sqlite().unwrap(), copy.to_str().unwrap())
            .await
            .unwrap();

        let mut file = DatabaseFile::open(&copy, Duration::from_secs(1))
            .await
            .unwrap();
        file.leave_wal().await.unwrap();
        assert_eq!(file.integrity_check().await.unwrap(), ["ok"]);
        let tables = file.table_names().await.unwrap();
        assert!(tables.iter().any(|t| t == "_sqlx_migrations"));
        let applied: Vec<(i64, Vec<u8>)> = file
            .applied_migrations()
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.version, m.checksum))
            .collect();
        assert_eq!(applied, known_migrations());
        let expected = RowCounts {
            photos: 0,
            addresses: 0,
            accounts: 1,
        };
        assert_eq!(file.count_rows().await.unwrap(), expected);
        file.close().await;
    }

    #[tokio::test]
    async fn opening_a_missing_file_does_not_create_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.db");
        assert!(
            DatabaseFile::open(&missing, Duration::from_secs(1))
                .await
                .is_err()
        );
        assert!(!missing.exists());
    }
}
