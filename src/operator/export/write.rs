//! Writing the document as a stream: the labels first, then one account per line, then the
//! operator's holdings, all read from one [`Snapshot`] so the document is the database as of
//! one instant. Memory stays bounded by the largest account.
//!
//! Password hashes travel as they are, so people log in on the new server with their old
//! password; API tokens, sessions and pending mailed links are not exported.

use std::fmt;
use std::io::Write;

use crate::store::Db;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::ExportError;
use super::format::{Account, Address, FORMAT, Holdings, NO_PASSWORD, Photo, Profile, VERSION};
use crate::photo_store::{PhotoBucket, original_bytes};
use crate::store::export::{AccountRow, Snapshot};
use crate::store::now;

/// Counts printed after an export.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub accounts: usize,
    pub addresses: usize,
    pub photos: usize,
}

impl fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} accounts, {} addresses, {} photos",
            self.accounts, self.addresses, self.photos
        )
    }
}

/// Writes the whole document to `out`, reading inside one transaction.
pub async fn export(
    pool: &Db,
    bucket: Option<&PhotoBucket>,
    out: &mut impl Write,
) -> Result<ExportSummary, ExportError> {
    let mut snapshot = Snapshot::begin(pool).await?;
    let mut summary = ExportSummary::default();
    write_head(out)?;
    let users = snapshot.accounts().await?;
    for (index, user) in users.into_iter().enumerate() {
        let account = read_account(&mut snapshot, bucket, user).await?;
        write_account(out, &account, index, &mut summary)?;
    }
    let operator = read_holdings(&mut snapshot, bucket, None).await?;
    summary.addresses += operator.addresses.len();
    summary.photos += operator.photos.len();
    write_tail(out, &operator)?;
    snapshot.finish().await?;
    Ok(summary)
}

/// Writes one account's document to `out`: the same format, with that account alone and
/// no operator holdings, for the holder's own download (`/account/data`). Its password hash
/// is left out (`null`), so a copy that leaks gives nothing to guess passwords against; on
/// another server its holder sets a new password with "forgot password".
pub async fn export_account(
    pool: &Db,
    bucket: Option<&PhotoBucket>,
    user_id: i64,
    out: &mut impl Write,
) -> Result<ExportSummary, ExportError> {
    let mut snapshot = Snapshot::begin(pool).await?;
    let mut summary = ExportSummary::default();
    write_head(out)?;
    if let Some(user) = snapshot.account(user_id).await? {
        let mut account = read_account(&mut snapshot, bucket, user).await?;
        account.password_hash = None;
        write_account(out, &account, 0, &mut summary)?;
    }
    write_tail(out, &Holdings::default())?;
    snapshot.finish().await?;
    Ok(summary)
}

fn io_error(e: std::io::Error) -> ExportError {
    super::write_failed("the export", e)
}

fn json_error(e: serde_json::Error) -> ExportError {
    // Writing through `to_writer` reports the writer's own failures (a closed pipe) as I/O.
    match e.io_error_kind() {
        Some(kind) => io_error(kind.into()),
        None => ExportError::Internal(e.to_string()),
    }
}

/// The labels and the opening of the account list.
fn write_head(out: &mut impl Write) -> Result<(), ExportError> {
    write!(
        out,
        "{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"exported_at\":{},\"generator\":\"cameo {}\",\"accounts\":[",
        now(),
        env!("CARGO_PKG_VERSION")
    )
    .map_err(io_error)
}

/// One account on its own line, counted into `summary`.
fn write_account(
    out: &mut impl Write,
    account: &Account,
    index: usize,
    summary: &mut ExportSummary,
) -> Result<(), ExportError> {
    summary.accounts += 1;
    summary.addresses += account.addresses.len();
    summary.photos += account.photos.len();
    out.write_all(if index == 0 { b"\n" } else { b",\n" })
        .map_err(io_error)?;
    serde_json::to_writer(&mut *out, account).map_err(json_error)
}

/// The end of the account list, the operator's holdings, the end of the document.
fn write_tail(out: &mut impl Write, operator: &Holdings) -> Result<(), ExportError> {
    out.write_all(b"\n],\n\"operator\":").map_err(io_error)?;
    serde_json::to_writer(&mut *out, operator).map_err(json_error)?;
    out.write_all(b"}\n").map_err(io_error)
}

async fn read_account(
    snapshot: &mut Snapshot,
    bucket: Option<&PhotoBucket>,
    user: AccountRow,
) -> Result<Account, ExportError> {
    let holdings = read_holdings(snapshot, bucket, Some(user.id)).await?;
    Ok(Account {
        email: user.email,
        password_hash: Some(user.password_hash).filter(|h| h != NO_PASSWORD),
        created_at: Some(user.created_at),
        profile: read_profile(snapshot, user.id).await?,
        addresses: holdings.addresses,
        photos: holdings.photos,
    })
}

/// The photos and addresses held by an account (`Some(id)`) or the operator (`None`).
async fn read_holdings(
    snapshot: &mut Snapshot,
    bucket: Option<&PhotoBucket>,
    holder: Option<i64>,
) -> Result<Holdings, ExportError> {
    let mut photos: Vec<Photo> = Vec::new();
    for row in snapshot.photos(holder).await? {
        // Two uploads of the same picture are one photo to the addresses that name it.
        if photos.iter().any(|p| p.digest == row.content_digest) {
            continue;
        }
        // Bytes kept in the bucket are fetched, so an export holds every photo.
        let data = original_bytes(bucket, row.data, &row.content_digest)
            .await
            .map_err(|e| ExportError::Internal(e.to_string()))?;
        photos.push(Photo {
            digest: row.content_digest,
            format: row.format,
            side: u32::try_from(row.side).unwrap_or(0),
            source_digest: Some(row.source_digest),
            created_at: Some(row.created_at),
            data: BASE64.encode(&data),
        });
    }
    let addresses = snapshot
        .addresses(holder)
        .await?
        .into_iter()
        .map(|row| Address {
            kind: row.kind,
            address: row.address,
            confirmed: row.confirmed_at.is_some(),
            confirmed_at: row.confirmed_at,
            photo: row.photo_digest,
            created_at: Some(row.created_at),
        })
        .collect();
    Ok(Holdings { addresses, photos })
}

async fn read_profile(
    snapshot: &mut Snapshot,
    user_id: i64,
) -> Result<Option<Profile>, sqlx::Error> {
    Ok(snapshot.profile(user_id).await?.map(|row| Profile {
        public: row.public,
        display_name: row.display_name,
        about: row.about,
        links: row.links.unwrap_or_default(),
        details: row.details,
    }))
}
