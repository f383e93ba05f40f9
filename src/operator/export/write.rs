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
use crate::store::export::Snapshot;
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
    let io = |e: std::io::Error| ExportError::Write {
        path: "the export".into(),
        reason: e.to_string(),
    };
    let json = |e: serde_json::Error| ExportError::Internal(e.to_string());
    let mut snapshot = Snapshot::begin(pool).await?;
    let mut summary = ExportSummary::default();
    write!(
        out,
        "{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"exported_at\":{},\"generator\":\"cameo {}\",\"accounts\":[",
        now(),
        env!("CARGO_PKG_VERSION")
    )
    .map_err(io)?;
    let users = snapshot.accounts().await?;
    for (index, user) in users.into_iter().enumerate() {
        let holdings = read_holdings(&mut snapshot, bucket, Some(user.id)).await?;
        let account = Account {
            email: user.email,
            password_hash: Some(user.password_hash).filter(|h| h != NO_PASSWORD),
            created_at: Some(user.created_at),
            profile: read_profile(&mut snapshot, user.id).await?,
            addresses: holdings.addresses,
            photos: holdings.photos,
        };
        summary.accounts += 1;
        summary.addresses += account.addresses.len();
        summary.photos += account.photos.len();
        out.write_all(if index == 0 { b"\n" } else { b",\n" })
            .map_err(io)?;
        serde_json::to_writer(&mut *out, &account).map_err(json)?;
    }
    let operator = read_holdings(&mut snapshot, bucket, None).await?;
    summary.addresses += operator.addresses.len();
    summary.photos += operator.photos.len();
    out.write_all(b"\n],\n\"operator\":").map_err(io)?;
    serde_json::to_writer(&mut *out, &operator).map_err(json)?;
    out.write_all(b"}\n").map_err(io)?;
    snapshot.finish().await?;
    Ok(summary)
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
