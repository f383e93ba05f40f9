//! `cameo export` and `cameo import-export`: every account with its addresses, photos and
//! profile as one versioned JSON document (`docs/export-format.md`), and reading it back,
//! or reading a Libravatar/ivatar export ([`super::ivatar_xml`]) through the same path.
//!
//! This module holds the two entry points the CLI calls, [`export_to`] and [`import_file`],
//! and the error that stops either as a whole (one bad account or photo does not). The rest:
//! - `format`: the serde types of the document;
//! - `write`: the streaming writer, reading one snapshot of the database;
//! - `read`: telling the file's kind, the size limit, the streaming parser;
//! - `import`: applying one account in one transaction (conflicts, idempotence), with
//!   `import_photos` for its photos' intake and `report` for the lines it prints.
//!
//! The SQL of both directions is in [`crate::store::export`].

mod format;
mod import;
mod import_photos;
mod read;
mod report;
mod write;

use std::io::{BufWriter, Write};
use std::path::Path;

use crate::store::Db;
use tokio::sync::mpsc;

pub use format::{Account, Address, FORMAT, Holdings, Photo, Profile, VERSION};
pub use read::{MAX_IMPORT_BYTES, Source, sniff};
pub use report::{AccountReport, ImportTotals, Outcome};
pub use write::{ExportSummary, export, export_account};

use crate::config::Config;
use crate::photo_store::PhotoBucket;
use crate::state::intake_limits;
use import::{Origin, import_account, import_operator};
use read::Item;

/// Why an export or import stopped as a whole (one bad account or photo does not stop it).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    /// Whoever read the output stopped reading (`cameo export | head`): nothing to report.
    #[error("the output was closed before the export ended")]
    OutputClosed,
    #[error("{0} already exists; pass --force to replace it")]
    Exists(String),
    #[error("{path}: {reason}")]
    Format { path: String, reason: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

/// A failed write to `path`; a closed pipe is [`ExportError::OutputClosed`].
fn write_failed(path: &str, error: std::io::Error) -> ExportError {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        return ExportError::OutputClosed;
    }
    ExportError::Write {
        path: path.to_string(),
        reason: error.to_string(),
    }
}

/// Writes the export to `target` (`-` for standard output). A file is written under a
/// temporary name and renamed when complete.
pub async fn export_to(
    pool: &Db,
    bucket: Option<&PhotoBucket>,
    target: &str,
    force: bool,
) -> Result<ExportSummary, ExportError> {
    let write_error = |e: std::io::Error| write_failed(target, e);
    if target == "-" {
        let mut out = BufWriter::new(std::io::stdout());
        let summary = export(pool, bucket, &mut out).await?;
        out.flush().map_err(write_error)?;
        return Ok(summary);
    }
    let path = Path::new(target);
    if path.exists() && !force {
        return Err(ExportError::Exists(target.to_string()));
    }
    let partial = path.with_file_name(format!(
        ".{}.partial-{}",
        path.file_name()
            .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let result = async {
        // Owner-only before the first byte: the export holds password hashes.
        let file =
            crate::store::file_modes::create_private(Path::new(&partial)).map_err(write_error)?;
        let mut out = BufWriter::new(file);
        let summary = export(pool, bucket, &mut out).await?;
        let file = out.into_inner().map_err(|e| write_error(e.into_error()))?;
        file.sync_all().map_err(write_error)?;
        std::fs::rename(&partial, path).map_err(write_error)?;
        Ok(summary)
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Imports a `cameo export` JSON file, or an ivatar export (`.xml` or `.xml.gz`). `report`
/// sees one line per account as soon as it is written.
///
/// The file is parsed on a blocking thread, which hands accounts over one at a time (at most
/// two waiting), so memory stays bounded by the largest account.
pub async fn import_file(
    pool: &Db,
    config: &Config,
    path: &Path,
    mut report: impl FnMut(&AccountReport),
) -> Result<ImportTotals, ExportError> {
    let shown = path.display().to_string();
    let (source, input) = read::open(path, &shown)?;
    let limits = intake_limits(config);
    let bucket = PhotoBucket::from_config(config).map_err(ExportError::Internal)?;
    let bucket = bucket.as_ref();
    let mut totals = ImportTotals::default();
    let (sender, mut items) = mpsc::channel::<Item>(2);
    let parser = tokio::task::spawn_blocking(move || read::parse(source, input, limits, sender));
    let origin = match source {
        Source::Json => Origin::Cameo,
        Source::Xml | Source::GzipXml => Origin::Ivatar,
    };
    while let Some(item) = items.recv().await {
        let line = match item {
            Item::Account(account) => {
                import_account(pool, (limits, bucket), *account, origin).await?
            }
            Item::Operator(holdings) => {
                import_operator(pool, (limits, bucket), holdings, origin).await?
            }
        };
        totals.count(&line);
        report(&line);
    }
    parser
        .await
        .map_err(|e| ExportError::Internal(format!("the parser failed: {e}")))?
        .map_err(|reason| ExportError::Format {
            path: shown,
            reason,
        })?;
    Ok(totals)
}
