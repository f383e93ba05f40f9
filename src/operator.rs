//! What the operator CLI does: `add`, `remove` (emails, OpenIDs and phone numbers), `list`,
//! `import`; in [`tokens`],
//! `token create|list|revoke`; in [`backup`], `backup` and `restore`; in [`directory`],
//! `directory sync`; in [`export`] (with
//! [`ivatar_xml`] for libravatar.org's files), `export` and `import-export`.
//!
//! These work on the database directly, so they are safe to run against a live server: the
//! store serialises write transactions, and the server notices the writes at once on SQLite
//! and within its poll interval on PostgreSQL (`store::changes`).
//! Every file goes through the same intake as an upload; one bad file in an import is
//! reported and skipped, never fatal.

pub mod backup;
pub mod directory;
pub mod domain_admins;
pub mod export;
pub mod ivatar_xml;
pub mod migrate_store;
pub mod tokens;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::store::Db;
use futures_util::StreamExt;

use crate::config::Config;
use crate::error::AppError;
use crate::identity::Identity;
use crate::imaging::{
    ImageBudget, IntakeError, IntakeLimits, PhotoFormat, intake, prepare_within_budget,
};
use crate::photo_store::{PhotoBucket, offload};
use crate::state::intake_limits;
use crate::store::addresses::{self, AddressListing, SetPhotoOutcome};

/// Why a file or address could not be used, phrased for the operator.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("{0}")]
    Address(#[from] crate::identity::IdentityError),
    #[error("{0}")]
    Image(#[from] IntakeError),
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{0}")]
    Name(String),
    #[error("no account is registered as {0}")]
    UnknownAccount(String),
    #[error("{0}")]
    App(#[from] AppError),
    #[error("{0}")]
    Bucket(#[from] crate::photo_store::BucketError),
}

impl From<sqlx::Error> for OperatorError {
    fn from(error: sqlx::Error) -> OperatorError {
        OperatorError::App(AppError::Database(error))
    }
}

/// Reads a file, refusing it before reading if it is larger than the intake allows.
fn read_bounded(path: &Path, limits: IntakeLimits) -> Result<Vec<u8>, OperatorError> {
    let read_error = |e: std::io::Error| OperatorError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if !metadata.is_file() {
        return Err(OperatorError::Name("not a regular file".into()));
    }
    if metadata.len() > limits.max_bytes {
        return Err(IntakeError::TooLarge {
            size: metadata.len(),
            limit: limits.max_bytes,
        }
        .into());
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // `take` bounds the read even if the file grows while we read it.
    file.take(limits.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    Ok(bytes)
}

/// Gives `address` the photo in `photo_path`: a new confirmed address, or a replaced photo.
pub async fn add(
    pool: &Db,
    config: &Config,
    address: &str,
    photo_path: &Path,
) -> Result<SetPhotoOutcome, OperatorError> {
    let identity = Identity::parse_with_phones(address, config.phone_default_region)?;
    let limits = intake_limits(config);
    let bytes = read_bounded(photo_path, limits)?;
    let intake = Intake {
        limits,
        budget: command_budget(config),
        bucket: PhotoBucket::from_config(config).map_err(OperatorError::Name)?,
    };
    set_photo_from_bytes(pool, &identity, bytes, &intake).await
}

/// What a CLI command needs to take photos in: the limits, a memory budget, and the bucket
/// the bytes go to (if `photo_store` names one).
struct Intake {
    limits: IntakeLimits,
    budget: ImageBudget,
    bucket: Option<PhotoBucket>,
}

/// The image memory budget of one CLI command: the configured size, like the server's, but
/// patient, since an operator's batch should wait for room rather than skip files.
pub fn command_budget(config: &Config) -> ImageBudget {
    ImageBudget::new(
        config.image_memory_budget,
        std::time::Duration::from_secs(3600),
    )
}

async fn set_photo_from_bytes(
    pool: &Db,
    identity: &Identity,
    bytes: Vec<u8>,
    intake: &Intake,
) -> Result<SetPhotoOutcome, OperatorError> {
    if addresses::current_source_digest(pool, identity)
        .await?
        .as_deref()
        == Some(intake::source_digest(&bytes).as_str())
    {
        return Ok(SetPhotoOutcome::Unchanged);
    }
    let photo = prepare_within_budget(&intake.budget, bytes, intake.limits, None).await?;
    // The bytes reach the bucket before the row that needs them is committed.
    let photo = offload(intake.bucket.as_ref(), photo).await?;
    Ok(addresses::set_confirmed_photo(pool, identity, &photo).await?)
}

/// Removes `address` (an email, OpenID or phone number) and its photo if nothing else uses it.
pub async fn remove(pool: &Db, config: &Config, address: &str) -> Result<bool, OperatorError> {
    let identity = Identity::parse_with_phones(address, config.phone_default_region)?;
    Ok(addresses::remove(pool, &identity).await?)
}

pub async fn list(pool: &Db) -> Result<Vec<AddressListing>, OperatorError> {
    Ok(addresses::list(pool).await?)
}

/// The result for one file of an import.
#[derive(Debug)]
pub struct ImportLine {
    pub file_name: String,
    pub result: Result<(Identity, SetPhotoOutcome), OperatorError>,
}

impl fmt::Display for ImportLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.result {
            Ok((identity, outcome)) => write!(f, "{:<9} {identity}", outcome.word()),
            Err(error) => write!(f, "skipped   {}: {error}", self.file_name),
        }
    }
}

/// Totals of an import, printed last.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub imported: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: usize,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} imported, {} updated, {} unchanged, {} skipped",
            self.imported, self.updated, self.unchanged, self.skipped
        )
    }
}

/// Imports every `ADDRESS.(jpg|jpeg|png|gif|webp)` in `dir`, in name order, decoding several
/// files at once; `report` sees one line per file as soon as it (and all before it) is done.
pub async fn import_dir(
    pool: &Db,
    config: &Config,
    dir: &Path,
    mut report: impl FnMut(&ImportLine),
) -> Result<ImportSummary, OperatorError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| OperatorError::Read {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    let intake = Intake {
        limits: intake_limits(config),
        budget: command_budget(config),
        bucket: PhotoBucket::from_config(config).map_err(OperatorError::Name)?,
    };
    let mut lines = futures_util::stream::iter(paths)
        .map(|path| import_file(pool, path, &intake))
        .buffered(config.image_workers.max(1));
    let mut summary = ImportSummary::default();
    while let Some(line) = lines.next().await {
        match &line.result {
            Ok((_, SetPhotoOutcome::Imported)) => summary.imported += 1,
            Ok((_, SetPhotoOutcome::Updated)) => summary.updated += 1,
            Ok((_, SetPhotoOutcome::Unchanged)) => summary.unchanged += 1,
            Err(_) => summary.skipped += 1,
        }
        report(&line);
    }
    Ok(summary)
}

async fn import_file(pool: &Db, path: PathBuf, intake: &Intake) -> ImportLine {
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let result = async {
        let identity = address_from_file_name(&file_name)?;
        let bytes = read_bounded(&path, intake.limits)?;
        let outcome = set_photo_from_bytes(pool, &identity, bytes, intake).await?;
        Ok((identity, outcome))
    }
    .await;
    ImportLine { file_name, result }
}

/// `alice@example.org.jpg` → `alice@example.org`. Only emails: a file name cannot hold an
/// OpenID URL's slashes.
pub fn address_from_file_name(file_name: &str) -> Result<Identity, OperatorError> {
    let (stem, extension) = file_name.rsplit_once('.').ok_or_else(|| {
        OperatorError::Name("not named ADDRESS.jpg, .jpeg, .png, .gif or .webp".into())
    })?;
    if PhotoFormat::from_extension(extension).is_none() {
        return Err(OperatorError::Name(format!(
            "extension .{extension} is not one of .jpg, .jpeg, .png, .gif, .webp"
        )));
    }
    match Identity::parse(stem)? {
        identity @ Identity::Email(_) => Ok(identity),
        Identity::OpenId(_) | Identity::Phone(_) => Err(OperatorError::Name(
            "file names hold email addresses only".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_give_email_addresses() {
        assert_eq!(
            address_from_file_name("Alice@Example.org.JPG").unwrap(),
            Identity::Email("alice@example.org".into())
        );
        assert!(address_from_file_name("alice@example.org").is_err());
        assert!(address_from_file_name("notes.txt").is_err());
        assert!(address_from_file_name("no-at-sign.png").is_err());
        assert!(address_from_file_name(".DS_Store").is_err());
    }
}
