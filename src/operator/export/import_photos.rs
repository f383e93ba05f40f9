//! The photos of an imported account: decoded from base64, their digest checked (for a
//! Cameo export), and either found already held here (same content or upload digest) or
//! passed through the intake ([`crate::imaging::prepare_within_budget`]), so no unchecked bytes
//! are ever stored. The intake runs before the account's write transaction starts, off the
//! async executor, one photo at a time; storing happens inside it ([`store_photos`]).

use std::collections::HashMap;

use crate::store::Db;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest as _, Sha256};

use super::ExportError;
use super::format::Photo;
use super::import::{Origin, Written};
use crate::imaging::budget::DEFAULT_IMAGE_MEMORY_BUDGET;
use crate::imaging::{
    ImageBudget, IntakeLimits, PhotoFormat, PreparedPhoto, prepare_within_budget,
};
use crate::photo_store::{PhotoBucket, offload};
use crate::store::export::{ImportTransaction, find_photo};
use crate::store::now;

/// A photo ready to be linked: already held here, or checked by the intake and to be stored.
pub(super) enum Ready {
    Held(i64),
    New(Box<PreparedPhoto>, i64),
}

/// The intake limits of an import and the bucket photo bytes go to (if any).
pub(super) type PhotoIntake<'a> = (IntakeLimits, Option<&'a PhotoBucket>);

/// Decodes each photo and either finds it already held by `lookup` (`Some(holder)`; `None`
/// for an account that does not exist yet) or passes it through the intake.
pub(super) async fn ready_photos(
    pool: &Db,
    (limits, bucket): PhotoIntake<'_>,
    lookup: Option<Option<i64>>,
    photos: &[Photo],
    origin: Origin,
    skipped: &mut Vec<String>,
) -> Result<Vec<(String, Ready)>, ExportError> {
    let mut ready = Vec::new();
    // Photos are prepared one after another, so this budget never makes one wait; it refuses
    // a photo whose decode alone would exceed the default budget, as the server would.
    let budget = ImageBudget::new(DEFAULT_IMAGE_MEMORY_BUDGET, std::time::Duration::ZERO);
    for photo in photos {
        let name = short(&photo.digest);
        let Ok(bytes) = BASE64.decode(photo.data.trim()) else {
            skipped.push(format!("photo {name}: the data is not base64"));
            continue;
        };
        let digest = sha256_hex(&bytes);
        if origin == Origin::Cameo && !photo.digest.eq_ignore_ascii_case(&digest) {
            skipped.push(format!(
                "photo {name}: the data does not match its digest (a damaged export?)"
            ));
            continue;
        }
        let source_digest = photo
            .source_digest
            .clone()
            .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
            .unwrap_or_else(|| digest.clone());
        if let Some(holder) = lookup
            && let Some(id) = find_photo(pool, holder, &digest, &source_digest).await?
        {
            ready.push((photo.digest.clone(), Ready::Held(id)));
            continue;
        }
        match prepare_within_budget(&budget, bytes, limits, None).await {
            Ok(prepared) => {
                // Into the bucket (if any) before any row names it.
                let mut prepared = offload(bucket, prepared)
                    .await
                    .map_err(|e| ExportError::Internal(e.to_string()))?;
                prepared.source_digest = source_digest;
                // A WebP or still-GIF upload is stored as PNG bytes but served as uploaded:
                // the exported format says which, the bytes cannot.
                if let Some(format) = PhotoFormat::from_name(&photo.format) {
                    prepared.format = format;
                }
                let created_at = photo.created_at.unwrap_or_else(now);
                ready.push((
                    photo.digest.clone(),
                    Ready::New(Box::new(prepared), created_at),
                ));
            }
            Err(error) => skipped.push(format!("photo {name}: {error}")),
        }
    }
    Ok(ready)
}

/// Stores the new photos (unless one arrived meanwhile); returns each photo reference's id.
pub(super) async fn store_photos(
    tx: &mut ImportTransaction,
    holder: Option<i64>,
    ready: Vec<(String, Ready)>,
    now: i64,
    written: &mut Written,
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut ids = HashMap::new();
    for (reference, photo) in ready {
        let id = match photo {
            Ready::Held(id) => id,
            Ready::New(photo, created_at) => {
                let held = tx
                    .find_photo(holder, &photo.content_digest, &photo.source_digest)
                    .await?;
                match held {
                    Some(id) => id,
                    None => {
                        written.photos += 1;
                        tx.insert_photo(holder, &photo, created_at, now).await?
                    }
                }
            }
        };
        ids.insert(reference, id);
    }
    Ok(ids)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A digest shortened for messages.
pub(super) fn short(reference: &str) -> &str {
    reference.get(..16).unwrap_or(reference)
}
