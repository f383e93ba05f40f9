//! `cameo backup` and `cameo restore`: a consistent copy of the database taken while the
//! server runs, and putting such a copy back.
//!
//! Backup is SQLite's `VACUUM INTO`, which reads inside one read transaction: the copy is the
//! database as of one instant however busy the writers are, compact, and self-contained (no
//! `-wal` beside it). It is written next to FILE under a temporary name, checked
//! (`PRAGMA integrity_check`), switched to the rollback journal so it stays one file, and only
//! then renamed to FILE, so an interrupted backup never leaves a half-written FILE.
//!
//! Restore checks FILE before touching anything (an SQLite database, intact, with Cameo's
//! tables, and no migration this binary does not know), on a copy inside the data directory.
//! It then needs the live database to itself: taking it out of WAL mode needs an exclusive
//! lock, which SQLite refuses while another process (a running server, a `cameo add`) has it
//! open. That is the cheap "is the server stopped?" check, and it also folds the `-wal` into
//! the main file, so the old database is set aside whole as `cameo.db.before-restore-TIME`.
//! Between that check and the swap a server could still start; stop it for the restore.
//!
//! The SQL (`VACUUM INTO`, the checks, the counts) is in [`crate::store::backup`]; this module
//! decides what the answers mean and moves the files. Both are SQLite-only: with PostgreSQL
//! they refuse ([`BackupError::NotSqlite`]) and point at `pg_dump`, which does this job there
//! (consistent, online) better than a copy through Cameo could.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::store::Db;
use crate::store::backup::{DatabaseFile, RowCounts, count_rows_of, known_migrations, vacuum_into};
use crate::store::file_modes::create_private;

/// The tables a database must have to be taken for Cameo's.
const REQUIRED_TABLES: [&str; 5] = [
    "_sqlx_migrations",
    "photos",
    "addresses",
    "address_digests",
    "users",
];

/// Why a backup or restore did not happen, in words for the operator.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; pass --force to replace it")]
    Exists(String),
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("the folder {0} does not exist; create it first (mkdir -p {0}) or name another one")]
    NoFolder(String),
    #[error("{0} is not an SQLite database")]
    NotADatabase(String),
    #[error("{path} is damaged; integrity_check says: {report}")]
    Damaged { path: String, report: String },
    #[error("{path} is not a Cameo database: it has no {missing} table")]
    NotCameo { path: String, missing: String },
    #[error(
        "{path} comes from a newer Cameo (schema migration {found}; this cameo knows up to \
         {known}); upgrade cameo before restoring it"
    )]
    NewerSchema {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("{path}: schema migration {version} {problem}")]
    Migration {
        path: String,
        version: i64,
        problem: &'static str,
    },
    #[error(
        "the database {0} is in use (is `cameo serve` running?); stop the server, then restore"
    )]
    InUse(String),
    #[error(
        "cameo backup and restore copy an SQLite file, and this Cameo stores its data in \
         PostgreSQL: back it up with pg_dump (and restore with pg_restore), or move accounts \
         with cameo export / cameo import-export"
    )]
    NotSqlite,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    App(#[from] crate::error::AppError),
}

/// What a database file holds, printed after a backup or a restore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatabaseSummary {
    pub bytes: u64,
    pub photos: i64,
    pub addresses: i64,
    pub accounts: i64,
}

impl DatabaseSummary {
    /// The counts, with the file's size still to be filled in.
    fn counted(counts: RowCounts) -> DatabaseSummary {
        DatabaseSummary {
            bytes: 0,
            photos: counts.photos,
            addresses: counts.addresses,
            accounts: counts.accounts,
        }
    }
}

impl fmt::Display for DatabaseSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes, {} photos, {} addresses, {} accounts, integrity ok",
            self.bytes, self.photos, self.addresses, self.accounts
        )
    }
}

/// What a restore did: the database now in place, and where the old one went.
#[derive(Debug)]
pub struct RestoreReport {
    pub summary: DatabaseSummary,
    pub set_aside: Option<PathBuf>,
}

/// Removes a temporary file when dropped, unless it was kept (renamed into place).
struct Staging(Option<PathBuf>);

impl Staging {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn file_error(path: &Path, error: impl fmt::Display) -> BackupError {
    BackupError::File {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

/// Writes a consistent copy of the database behind `pool` to `target`.
pub async fn backup(db: &Db, target: &Path, force: bool) -> Result<DatabaseSummary, BackupError> {
    let Some(pool) = db.sqlite() else {
        return Err(BackupError::NotSqlite);
    };
    let target = std::path::absolute(target).map_err(|e| file_error(target, e))?;
    match std::fs::metadata(&target) {
        Ok(meta) if meta.is_dir() => return Err(file_error(&target, "is a directory")),
        Ok(_) if !force => return Err(BackupError::Exists(target.display().to_string())),
        _ => {}
    }
    if let Some(folder) = target.parent().filter(|folder| !folder.is_dir()) {
        return Err(BackupError::NoFolder(folder.display().to_string()));
    }
    let staging = Staging(Some(sibling(
        &target,
        &format!("partial-{}", std::process::id()),
    )));
    let _ = std::fs::remove_file(staging.path());
    // VACUUM INTO writes into an existing empty file and keeps its mode: owner-only, as the
    // copy holds password hashes and sessions (SQLite would create it 0644 under umask 022).
    create_private(staging.path()).map_err(|e| file_error(&target, e))?;
    // Absolute, so SQLite cannot take it for a `file:` URI.
    let staging_text = staging
        .path()
        .to_str()
        .ok_or_else(|| file_error(&target, "the path is not valid UTF-8"))?
        .to_string();
    vacuum_into(pool, &staging_text)
        .await
        .map_err(|e| file_error(&target, e))?;
    let mut summary = check_database(staging.path(), &target).await?;
    std::fs::rename(staging.path(), &target).map_err(|e| file_error(&target, e))?;
    staging.keep();
    summary.bytes = std::fs::metadata(&target).map_or(0, |m| m.len());
    Ok(summary)
}

/// Replaces the database at `database` with a checked copy of `source`, then migrates it.
pub async fn restore(database: &Path, source: &Path) -> Result<RestoreReport, BackupError> {
    let meta = std::fs::metadata(source).map_err(|e| file_error(source, e))?;
    if !meta.is_file() {
        return Err(file_error(source, "not a regular file"));
    }
    let data_dir = database.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(data_dir).map_err(|e| file_error(data_dir, e))?;
    let staging = Staging(Some(sibling(
        database,
        &format!("restoring-{}", std::process::id()),
    )));
    // Copied into an owner-only file: `fs::copy` would carry over a backup's looser mode.
    let mut input = std::fs::File::open(source).map_err(|e| file_error(source, e))?;
    let mut output = create_private(staging.path()).map_err(|e| file_error(database, e))?;
    std::io::copy(&mut input, &mut output).map_err(|e| file_error(source, e))?;
    output.sync_all().map_err(|e| file_error(database, e))?;
    drop(output);
    check_database(staging.path(), source).await?;

    let set_aside = if database.exists() {
        match take_out_of_service(database).await {
            // A database too damaged to open is what a restore is for: set it aside as it is.
            Ok(()) | Err(BackupError::NotADatabase(_) | BackupError::Damaged { .. }) => {}
            Err(error) => return Err(error),
        }
        let aside = free_aside_path(database, crate::store::now());
        std::fs::rename(database, &aside).map_err(|e| file_error(database, e))?;
        // After leaving WAL mode these are normally gone; any left go along with the file.
        for suffix in ["-wal", "-shm"] {
            let side = with_suffix(database, suffix);
            if side.exists() {
                std::fs::rename(&side, with_suffix(&aside, suffix))
                    .map_err(|e| file_error(&side, e))?;
            }
        }
        Some(aside)
    } else {
        None
    };
    if let Err(error) = std::fs::rename(staging.path(), database) {
        if let Some(aside) = &set_aside {
            let _ = std::fs::rename(aside, database);
        }
        return Err(file_error(database, error));
    }
    staging.keep();

    let pool = crate::store::open(database).await?;
    let mut summary = DatabaseSummary::counted(count_rows_of(&pool).await?);
    crate::store::checkpoint(&pool).await?;
    pool.close().await;
    summary.bytes = std::fs::metadata(database).map_or(0, |m| m.len());
    Ok(RestoreReport { summary, set_aside })
}

/// Opens `path` (a copy, never the live database) alone, makes it a one-file rollback-journal
/// database, and checks it is an intact Cameo database this binary can migrate. `shown` is
/// the name used in messages.
async fn check_database(path: &Path, shown: &Path) -> Result<DatabaseSummary, BackupError> {
    let shown_text = shown.display().to_string();
    let mut file = DatabaseFile::open(path, Duration::from_secs(5))
        .await
        .map_err(|e| classify(e, &shown_text))?;
    let result = check_file(&mut file, &shown_text).await;
    file.close().await;
    let mut summary = result?;
    summary.bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    Ok(summary)
}

async fn check_file(file: &mut DatabaseFile, shown: &str) -> Result<DatabaseSummary, BackupError> {
    file.leave_wal().await.map_err(|e| classify(e, shown))?;
    let report = file
        .integrity_check()
        .await
        .map_err(|e| classify(e, shown))?;
    if report != ["ok"] {
        return Err(BackupError::Damaged {
            path: shown.to_string(),
            report: report.join("; "),
        });
    }
    let tables = file.table_names().await?;
    if let Some(missing) = REQUIRED_TABLES
        .iter()
        .find(|table| !tables.iter().any(|t| t == *table))
    {
        return Err(BackupError::NotCameo {
            path: shown.to_string(),
            missing: (*missing).to_string(),
        });
    }
    let applied: Vec<(i64, Vec<u8>, bool)> = file
        .applied_migrations()
        .await?
        .into_iter()
        .map(|m| (m.version, m.checksum, m.success))
        .collect();
    let known_owned = known_migrations();
    let known: Vec<(i64, &[u8])> = known_owned
        .iter()
        .map(|(version, checksum)| (*version, checksum.as_slice()))
        .collect();
    check_migrations(&applied, &known).map_err(|problem| problem.into_error(shown))?;
    Ok(DatabaseSummary::counted(file.count_rows().await?))
}

/// Takes the live database out of WAL mode, which succeeds only when no other process has it
/// open, and leaves everything in the main file.
async fn take_out_of_service(database: &Path) -> Result<(), BackupError> {
    let shown = database.display().to_string();
    let mut file = DatabaseFile::open(database, Duration::from_millis(500))
        .await
        .map_err(|e| classify(e, &shown))?;
    let result = file.leave_wal().await;
    file.close().await;
    match result {
        Ok(()) => Ok(()),
        Err(error) if is_busy(&error) => Err(BackupError::InUse(shown)),
        Err(sqlx::Error::Database(e)) if e.code().is_some_and(|c| c == "11") => {
            Err(BackupError::Damaged {
                path: shown,
                report: e.message().to_string(),
            })
        }
        Err(error) => Err(classify(error, &shown)),
    }
}

fn is_busy(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e)
        if e.code().is_some_and(|c| c == "5" || c == "6") || e.message().contains("locked"))
}

/// SQLite's "not a database" (26) and "not a database file" wording become a plain message.
fn classify(error: sqlx::Error, shown: &str) -> BackupError {
    match &error {
        sqlx::Error::Database(e)
            if e.code().is_some_and(|c| c == "26") || e.message().contains("not a database") =>
        {
            BackupError::NotADatabase(shown.to_string())
        }
        _ => BackupError::Database(error),
    }
}

/// What is wrong with a database's applied migrations, compared with this binary's.
#[derive(Debug, PartialEq, Eq)]
pub enum SchemaProblem {
    Newer { found: i64, known: i64 },
    Changed(i64),
    Failed(i64),
}

impl SchemaProblem {
    fn into_error(self, path: &str) -> BackupError {
        let path = path.to_string();
        match self {
            SchemaProblem::Newer { found, known } => {
                BackupError::NewerSchema { path, found, known }
            }
            SchemaProblem::Changed(version) => BackupError::Migration {
                path,
                version,
                problem: "differs from this cameo's",
            },
            SchemaProblem::Failed(version) => BackupError::Migration {
                path,
                version,
                problem: "did not finish",
            },
        }
    }
}

/// Whether a database whose applied migrations are `applied` (version, checksum, success)
/// can be migrated by a binary that knows `known`: every applied one must be known, intact
/// and identical. Fewer is fine (an older backup): `store::open` applies the rest.
pub fn check_migrations(
    applied: &[(i64, Vec<u8>, bool)],
    known: &[(i64, &[u8])],
) -> Result<(), SchemaProblem> {
    let known_max = known.iter().map(|(v, _)| *v).max().unwrap_or(0);
    for (version, checksum, success) in applied {
        match known.iter().find(|(v, _)| v == version) {
            None => {
                return Err(SchemaProblem::Newer {
                    found: *version,
                    known: known_max,
                });
            }
            Some((_, sum)) if *sum != checksum.as_slice() => {
                return Err(SchemaProblem::Changed(*version));
            }
            Some(_) if !success => return Err(SchemaProblem::Failed(*version)),
            Some(_) => {}
        }
    }
    Ok(())
}

/// `dir/cameo.db` + `partial-7` → `dir/.cameo.db.partial-7`: hidden, beside its target so the
/// final rename stays on one file system.
fn sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "cameo.db".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{tag}"))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut text = path.as_os_str().to_owned();
    text.push(suffix);
    PathBuf::from(text)
}

/// Where the current database goes: `cameo.db.before-restore-UNIXTIME`.
pub fn aside_path(database: &Path, unix_time: i64) -> PathBuf {
    with_suffix(database, &format!(".before-restore-{unix_time}"))
}

/// [`aside_path`], or a numbered variant when two restores fall in the same second.
fn free_aside_path(database: &Path, unix_time: i64) -> PathBuf {
    let first = aside_path(database, unix_time);
    (1..)
        .map(|n| {
            if n == 1 {
                first.clone()
            } else {
                with_suffix(&first, &format!("-{n}"))
            }
        })
        .find(|candidate| !candidate.exists())
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: [(i64, &[u8]); 2] = [(1, b"one"), (2, b"two")];

    #[test]
    fn fewer_or_equal_known_migrations_are_accepted() {
        assert_eq!(check_migrations(&[], &KNOWN), Ok(()));
        assert_eq!(
            check_migrations(&[(1, b"one".to_vec(), true)], &KNOWN),
            Ok(())
        );
        let both = [(1, b"one".to_vec(), true), (2, b"two".to_vec(), true)];
        assert_eq!(check_migrations(&both, &KNOWN), Ok(()));
    }

    #[test]
    fn a_migration_this_binary_lacks_means_a_newer_schema() {
        let newer = [(1, b"one".to_vec(), true), (3, b"three".to_vec(), true)];
        assert_eq!(
            check_migrations(&newer, &KNOWN),
            Err(SchemaProblem::Newer { found: 3, known: 2 })
        );
    }

    #[test]
    fn changed_or_unfinished_migrations_are_refused() {
        assert_eq!(
            check_migrations(&[(2, b"owt".to_vec(), true)], &KNOWN),
            Err(SchemaProblem::Changed(2))
        );
        assert_eq!(
            check_migrations(&[(1, b"one".to_vec(), false)], &KNOWN),
            Err(SchemaProblem::Failed(1))
        );
    }

    #[test]
    fn the_old_database_is_set_aside_under_a_dated_name() {
        assert_eq!(
            aside_path(Path::new("/srv/data/cameo.db"), 1_700_000_000),
            PathBuf::from("/srv/data/cameo.db.before-restore-1700000000")
        );
        assert_eq!(
            sibling(Path::new("/srv/backups/nightly.db"), "partial-9"),
            PathBuf::from("/srv/backups/.nightly.db.partial-9")
        );
    }
}
