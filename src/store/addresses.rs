//! Addresses (emails and OpenIDs), their digests, and the operator's writes to them.

use sqlx::{Sqlite, SqlitePool, Transaction};

use super::now;
use super::photos::delete_unreferenced;
use crate::identity::Identity;
use crate::imaging::PreparedPhoto;

/// What an operator write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetPhotoOutcome {
    /// A new confirmed address was created with the photo.
    Imported,
    /// The address existed; its photo was replaced.
    Updated,
    /// The address already had exactly this photo.
    Unchanged,
}

impl SetPhotoOutcome {
    pub fn word(self) -> &'static str {
        match self {
            SetPhotoOutcome::Imported => "imported",
            SetPhotoOutcome::Updated => "updated",
            SetPhotoOutcome::Unchanged => "unchanged",
        }
    }
}

/// One row of `cameo list`.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct AddressListing {
    pub address: String,
    pub kind: String,
    pub confirmed: bool,
    pub photo_id: Option<i64>,
    pub photo_format: Option<String>,
    pub photo_side: Option<i64>,
    pub updated_at: i64,
}

/// The upload digest of the photo currently served for `identity`, if it is confirmed and
/// has one. Lets a bulk import skip decoding a file it has already imported.
pub async fn current_source_digest(
    pool: &SqlitePool,
    identity: &Identity,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT p.source_digest FROM addresses a JOIN photos p ON p.id = a.photo_id
         WHERE a.address = ? AND a.confirmed_at IS NOT NULL",
    )
    .bind(identity.as_str())
    .fetch_optional(pool)
    .await
}

/// Makes `identity` a confirmed address served with `photo`, creating it if needed, in one
/// transaction. An identical photo already stored is reused rather than stored twice.
pub async fn set_confirmed_photo(
    pool: &SqlitePool,
    identity: &Identity,
    photo: &PreparedPhoto,
) -> Result<SetPhotoOutcome, sqlx::Error> {
    let mut tx = super::begin_write(pool).await?;
    let now = now();
    let existing: Option<(i64, Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT id, photo_id, confirmed_at FROM addresses WHERE address = ?")
            .bind(identity.as_str())
            .fetch_optional(&mut *tx)
            .await?;

    let photo_id = find_or_insert_photo(&mut tx, photo, now).await?;
    let outcome = match existing {
        Some((_, Some(current), Some(_))) if current == photo_id => SetPhotoOutcome::Unchanged,
        Some((address_id, _, confirmed_at)) => {
            sqlx::query(
                "UPDATE addresses SET photo_id = ?, confirmed_at = ?, updated_at = ? WHERE id = ?",
            )
            .bind(photo_id)
            .bind(confirmed_at.unwrap_or(now))
            .bind(now)
            .bind(address_id)
            .execute(&mut *tx)
            .await?;
            SetPhotoOutcome::Updated
        }
        None => {
            let address_id: i64 = sqlx::query_scalar(
                "INSERT INTO addresses (kind, address, photo_id, confirmed_at, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(identity.kind())
            .bind(identity.as_str())
            .bind(photo_id)
            .bind(now)
            .bind(now)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            insert_digests(&mut tx, address_id, identity).await?;
            SetPhotoOutcome::Imported
        }
    };
    if outcome == SetPhotoOutcome::Unchanged {
        tx.rollback().await?;
        return Ok(outcome);
    }
    delete_unreferenced(&mut *tx).await?;
    tx.commit().await?;
    Ok(outcome)
}

async fn find_or_insert_photo(
    tx: &mut Transaction<'_, Sqlite>,
    photo: &PreparedPhoto,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let existing: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM photos WHERE content_digest = ? AND format = ? AND user_id IS NULL LIMIT 1",
    )
    .bind(&photo.content_digest)
    .bind(photo.format.name())
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    sqlx::query_scalar(
        "INSERT INTO photos (format, data, side, content_digest, source_digest, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(photo.format.name())
    .bind(&photo.data)
    .bind(i64::from(photo.side))
    .bind(&photo.content_digest)
    .bind(&photo.source_digest)
    .bind(now)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

async fn insert_digests(
    tx: &mut Transaction<'_, Sqlite>,
    address_id: i64,
    identity: &Identity,
) -> Result<(), sqlx::Error> {
    let digests = identity.digests();
    for (index, digest) in digests.iter().enumerate() {
        // Emails: both digests are exact. OpenIDs: only the first (the URL itself) is.
        let exact = matches!(identity, Identity::Email(_)) || index == 0;
        sqlx::query(
            "INSERT OR IGNORE INTO address_digests (digest, address_id, exact) VALUES (?, ?, ?)",
        )
        .bind(digest.to_hex())
        .bind(address_id)
        .bind(exact)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Removes an address (and its photo, if nothing else uses it). Returns whether it existed.
pub async fn remove(pool: &SqlitePool, identity: &Identity) -> Result<bool, sqlx::Error> {
    let mut tx = super::begin_write(pool).await?;
    let removed = sqlx::query("DELETE FROM addresses WHERE address = ?")
        .bind(identity.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
        > 0;
    delete_unreferenced(&mut *tx).await?;
    tx.commit().await?;
    Ok(removed)
}

/// Every address, in address order.
pub async fn list(pool: &SqlitePool) -> Result<Vec<AddressListing>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.address, a.kind, a.confirmed_at IS NOT NULL AS confirmed, a.photo_id,
                p.format AS photo_format, p.side AS photo_side, a.updated_at
         FROM addresses a LEFT JOIN photos p ON p.id = a.photo_id
         ORDER BY a.address",
    )
    .fetch_all(pool)
    .await
}

/// An address as its owner sees it on the profile page.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OwnedAddress {
    pub id: i64,
    pub address: String,
    pub kind: String,
    pub photo_id: Option<i64>,
}

pub async fn owned_by(pool: &SqlitePool, user_id: i64) -> Result<Vec<OwnedAddress>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, address, kind, photo_id FROM addresses
         WHERE user_id = ? AND confirmed_at IS NOT NULL ORDER BY address",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// Who holds `identity` now: `Some(Some(user))`, `Some(None)` for the operator, `None` if
/// nobody has confirmed it.
pub async fn holder(
    pool: &SqlitePool,
    identity: &Identity,
) -> Result<Option<Option<i64>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT user_id FROM addresses WHERE address = ? AND confirmed_at IS NOT NULL",
    )
    .bind(identity.as_str())
    .fetch_optional(pool)
    .await
}

/// Confirms `identity` for `user_id`. If another account (or the operator) held it, it moves
/// to this account without a photo: a new confirmation detaches it from the old holder.
pub async fn confirm_for_user(
    pool: &SqlitePool,
    user_id: i64,
    identity: &Identity,
) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(pool).await?;
    let now = now();
    let existing: Option<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, user_id FROM addresses WHERE address = ?")
            .bind(identity.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    match existing {
        Some((address_id, holder)) => {
            let keep_photo = holder == Some(user_id);
            sqlx::query(
                "UPDATE addresses SET user_id = ?, confirmed_at = ?, updated_at = ?,
                        photo_id = CASE WHEN ? THEN photo_id ELSE NULL END
                 WHERE id = ?",
            )
            .bind(user_id)
            .bind(now)
            .bind(now)
            .bind(keep_photo)
            .bind(address_id)
            .execute(&mut *tx)
            .await?;
        }
        None => {
            let address_id: i64 = sqlx::query_scalar(
                "INSERT INTO addresses (kind, address, user_id, confirmed_at, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(identity.kind())
            .bind(identity.as_str())
            .bind(user_id)
            .bind(now)
            .bind(now)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            insert_digests(&mut tx, address_id, identity).await?;
        }
    }
    delete_unreferenced(&mut *tx).await?;
    tx.commit().await
}

/// Points the account's address at one of the account's photos (or at none). Returns false
/// when the address or the photo is not the account's: nothing changes then.
pub async fn assign_photo(
    pool: &SqlitePool,
    user_id: i64,
    address_id: i64,
    photo_id: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE addresses SET photo_id = ?, updated_at = ?
         WHERE id = ? AND user_id = ? AND confirmed_at IS NOT NULL
           AND (? IS NULL OR EXISTS (SELECT 1 FROM photos WHERE id = ? AND user_id = ?))",
    )
    .bind(photo_id)
    .bind(now())
    .bind(address_id)
    .bind(user_id)
    .bind(photo_id)
    .bind(photo_id)
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() > 0)
}

/// Removes one of the account's addresses. Returns false if it is not the account's.
pub async fn remove_owned(
    pool: &SqlitePool,
    user_id: i64,
    address_id: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM addresses WHERE id = ? AND user_id = ?")
        .bind(address_id)
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() > 0)
}
