//! `cameo migrate-store --to DATABASE_URL [--photos s3://BUCKET/PREFIX]`: moves a
//! single-node install into the scaled-out setup (PostgreSQL, photos in a bucket).
//!
//! Every table a person made something in is copied row for row with the same ids, in
//! pages, with a progress line per page; each photo's bytes are checked against their
//! content digest on the way, and put in the bucket (before the row that names them) when
//! `--photos` is given. Then it verifies: the same number of rows in every table, the same
//! content digest for every photo id, and every photo's object in the bucket. Rows already
//! in the target are left alone, so an interrupted copy is finished by running it again.
//! The source is only read. Passwords in URLs are never printed.

use sha2::{Digest as _, Sha256};

use crate::config::{Config, Database, parse_database_url, redact_url_password};
use crate::photo_store::{PhotoBucket, PhotoStoreSetting, original_bytes};
use crate::store::copy::{self, CopyError, PhotoBytes, TABLES, TableCopy};
use crate::store::{self, Db};

/// What a migration did and found.
#[derive(Debug, Default)]
pub struct MigrationReport {
    pub tables: Vec<TableCopy>,
    /// Photo objects checked in the bucket (0 without `--photos`).
    pub objects_verified: u64,
}

impl std::fmt::Display for MigrationReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for table in &self.tables {
            writeln!(
                f,
                "{:<17} {:>9} rows, {:>9} written now, {:>9} in the target",
                table.table, table.source_rows, table.written, table.target_rows
            )?;
        }
        if self.objects_verified > 0 {
            writeln!(f, "photo objects in the bucket: {}", self.objects_verified)?;
        }
        write!(f, "verified: row counts and photo content digests match")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Copy(#[from] CopyError),
    #[error("the target could not be opened: {0}")]
    Target(String),
    #[error("verification failed: {0}")]
    Verify(String),
}

impl From<sqlx::Error> for MigrateError {
    fn from(error: sqlx::Error) -> MigrateError {
        MigrateError::Copy(CopyError::Database(error))
    }
}

/// Copies the install `config` describes (its `source` store and bucket) to `to`, with the
/// photos' bytes in `photos` if given; `progress` gets one line per page of rows.
pub async fn migrate_store(
    source: &Db,
    config: &Config,
    to: &str,
    photos: Option<&str>,
    mut progress: impl FnMut(&str),
) -> Result<MigrationReport, MigrateError> {
    let mut target_config = config.clone();
    // The same check as the `database_url` setting: SQLite or PostgreSQL, nothing else.
    target_config.database_url =
        parse_database_url(to).map_err(|e| MigrateError::Usage(format!("--to: {e}")))?;
    if to.is_empty() || target_config.database() == config.database() {
        return Err(MigrateError::Usage(
            "--to must name another database (postgres://… or sqlite://…) than this install's"
                .into(),
        ));
    }
    if let Some(photos) = photos {
        target_config.photo_store = PhotoStoreSetting::parse(photos)
            .map_err(|e| MigrateError::Usage(format!("--photos: {e}")))?;
    }
    let source_bucket = PhotoBucket::from_config(config).map_err(MigrateError::Usage)?;
    let target_bucket = match photos {
        Some(_) => PhotoBucket::from_config(&target_config).map_err(MigrateError::Usage)?,
        None => None,
    };
    let shown = match target_config.database() {
        Database::Postgres(url) => redact_url_password(&url),
        Database::Sqlite(path) => path.display().to_string(),
    };
    progress(&format!("target: {shown}"));
    let target = store::connect(&target_config.database())
        .await
        .map_err(|e| MigrateError::Target(redact_url_password(&e.to_string())))?;

    let mut report = MigrationReport::default();
    for table in TABLES {
        // A line per tenth of the table, not per page: a million rows are 2,000 pages.
        let mut shown_tenths = 0;
        let copied = copy::copy_table(
            source,
            &target,
            table,
            |photo: PhotoBytes<'_>| {
                let (source_bucket, target_bucket) =
                    (source_bucket.as_ref(), target_bucket.as_ref());
                let digest = photo.content_digest.to_string();
                async move { move_bytes(source_bucket, target_bucket, &digest, photo.data).await }
            },
            |done, all| {
                let tenths = (done * 10).checked_div(all).unwrap_or(10);
                if tenths > shown_tenths {
                    shown_tenths = tenths;
                    progress(&format!("{table}: {done}/{all} rows"));
                }
            },
        )
        .await?;
        report.tables.push(copied);
    }
    verify(source, &target, target_bucket.as_ref(), &mut report).await?;
    target.close().await;
    Ok(report)
}

/// One photo's bytes on their way: read (from the row or the source bucket), checked
/// against their digest, and put in the target bucket if there is one (the row then keeps
/// none).
async fn move_bytes(
    source_bucket: Option<&PhotoBucket>,
    target_bucket: Option<&PhotoBucket>,
    digest: &str,
    inline: Vec<u8>,
) -> Result<Vec<u8>, CopyError> {
    let failed = |reason: String| CopyError::Photo {
        digest: digest.to_string(),
        reason,
    };
    let bytes = original_bytes(source_bucket, inline, digest)
        .await
        .map_err(|e| failed(e.to_string()))?;
    if hex::encode(Sha256::digest(&bytes)) != digest {
        return Err(failed("its bytes do not match their digest".into()));
    }
    match target_bucket {
        Some(bucket) => {
            bucket
                .put(digest, &bytes)
                .await
                .map_err(|e| failed(e.to_string()))?;
            Ok(Vec::new())
        }
        None => Ok(bytes),
    }
}

async fn verify(
    source: &Db,
    target: &Db,
    bucket: Option<&PhotoBucket>,
    report: &mut MigrationReport,
) -> Result<(), MigrateError> {
    for table in &report.tables {
        if table.target_rows < table.source_rows {
            return Err(MigrateError::Verify(format!(
                "{}: {} rows in the source, {} in the target",
                table.table, table.source_rows, table.target_rows
            )));
        }
    }
    let (ours, theirs) = (
        copy::photo_digests(source).await?,
        copy::photo_digests(target).await?,
    );
    if let Some((id, _)) = ours
        .iter()
        .find(|(id, digest)| theirs.get(id) != Some(digest))
    {
        return Err(MigrateError::Verify(format!(
            "photo {id} differs in the target"
        )));
    }
    if let Some(bucket) = bucket {
        let mut digests: Vec<&String> = theirs.values().collect();
        digests.sort();
        digests.dedup();
        for digest in digests {
            if !bucket
                .contains(digest)
                .await
                .map_err(|e| MigrateError::Verify(e.to_string()))?
            {
                return Err(MigrateError::Verify(format!(
                    "photo {digest} is not in the bucket"
                )));
            }
            report.objects_verified += 1;
        }
    }
    Ok(())
}
