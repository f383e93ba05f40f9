//! Addresses (emails, OpenIDs and phones), their digests, and the operator's writes to them.

use super::photos::delete_unreferenced;
use super::{Db, Tx, now};
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
    db: &Db,
    identity: &Identity,
) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT p.source_digest FROM addresses a JOIN photos p ON p.id = a.photo_id
         WHERE a.address = $1 AND a.confirmed_at IS NOT NULL",
    )
    .bind(identity.as_str())
    .fetch_optional(pool)
    .await)
}

/// Makes `identity` a confirmed address served with `photo`, creating it if needed, in one
/// transaction. An identical photo already stored is reused rather than stored twice.
pub async fn set_confirmed_photo(
    db: &Db,
    identity: &Identity,
    photo: &PreparedPhoto,
) -> Result<SetPhotoOutcome, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let now = now();
    let existing: Option<(i64, Option<i64>, Option<i64>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, photo_id, confirmed_at FROM addresses WHERE address = $1",
    )
    .bind(identity.as_str())
    .fetch_optional(conn)
    .await)?;

    let photo_id = find_or_insert_photo(&mut tx, photo, now).await?;
    let outcome = match existing {
        Some((_, Some(current), Some(_))) if current == photo_id => SetPhotoOutcome::Unchanged,
        Some((address_id, _, confirmed_at)) => {
            on_tx!(tx, conn => sqlx::query(
                "UPDATE addresses SET photo_id = $1, confirmed_at = $2, updated_at = $3,
                        photo_source = NULL, photo_source_id = NULL
                 WHERE id = $4",
            )
            .bind(photo_id)
            .bind(confirmed_at.unwrap_or(now))
            .bind(now)
            .bind(address_id)
            .execute(conn)
            .await
            .map(|_| ()))?;
            SetPhotoOutcome::Updated
        }
        None => {
            let address_id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
                "INSERT INTO addresses (kind, address, photo_id, confirmed_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(identity.kind())
            .bind(identity.as_str())
            .bind(photo_id)
            .bind(now)
            .bind(now)
            .bind(now)
            .fetch_one(conn)
            .await)?;
            insert_digests(&mut tx, address_id, identity).await?;
            SetPhotoOutcome::Imported
        }
    };
    if outcome == SetPhotoOutcome::Unchanged {
        tx.rollback().await?;
        return Ok(outcome);
    }
    delete_unreferenced(&mut tx).await?;
    tx.commit().await?;
    Ok(outcome)
}

pub(super) async fn find_or_insert_photo(
    tx: &mut Tx,
    photo: &PreparedPhoto,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let existing: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT id FROM photos
         WHERE content_digest = $1 AND format = $2 AND user_id IS NULL AND source IS NULL
           AND NOT EXISTS (SELECT 1 FROM domain_defaults WHERE photo_id = photos.id)
         LIMIT 1",
    )
    .bind(&photo.content_digest)
    .bind(photo.format.name())
    .fetch_optional(&mut *conn)
    .await)?;
    match existing {
        Some(id) => Ok(id),
        None => super::photos::insert_row(tx, photo, None, now, now).await,
    }
}

async fn insert_digests(
    tx: &mut Tx,
    address_id: i64,
    identity: &Identity,
) -> Result<(), sqlx::Error> {
    let digests = identity.digests();
    for (index, digest) in digests.iter().enumerate() {
        // Emails: both digests are exact. OpenIDs: only the first (the URL itself) is.
        let exact = matches!(identity, Identity::Email(_)) || index == 0;
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO address_digests (digest, address_id, exact) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(digest.to_hex())
        .bind(address_id)
        .bind(exact)
        .execute(conn)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

/// Removes an address (and its photo, if nothing else uses it). Returns whether it existed.
pub async fn remove(db: &Db, identity: &Identity) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let removed = on_tx!(tx, conn => sqlx::query("DELETE FROM addresses WHERE address = $1")
        .bind(identity.as_str())
        .execute(conn)
        .await
        .map(|done| done.rows_affected() > 0))?;
    delete_unreferenced(&mut tx).await?;
    tx.commit().await?;
    Ok(removed)
}

/// Every address, in address order.
pub async fn list(db: &Db) -> Result<Vec<AddressListing>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT a.address, a.kind, a.confirmed_at IS NOT NULL AS confirmed, a.photo_id,
                p.format AS photo_format, p.side AS photo_side, a.updated_at
         FROM addresses a LEFT JOIN photos p ON p.id = a.photo_id
         ORDER BY a.address",
    )
    .fetch_all(pool)
    .await)
}

/// An address as its owner sees it on the profile page.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OwnedAddress {
    pub id: i64,
    pub address: String,
    pub kind: String,
    pub photo_id: Option<i64>,
}

pub async fn owned_by(db: &Db, user_id: i64) -> Result<Vec<OwnedAddress>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT id, address, kind, photo_id FROM addresses
         WHERE user_id = $1 AND confirmed_at IS NOT NULL ORDER BY address",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)
}

/// Who holds `identity` now: `Some(Some(user))`, `Some(None)` for the operator, `None` if
/// nobody has confirmed it.
pub async fn holder(db: &Db, identity: &Identity) -> Result<Option<Option<i64>>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM addresses WHERE address = $1 AND confirmed_at IS NOT NULL",
    )
    .bind(identity.as_str())
    .fetch_optional(pool)
    .await)
}

/// Confirms `identity` for `user_id`. If another account (or the operator) held it, it moves
/// to this account without a photo: a new confirmation detaches it from the old holder.
pub async fn confirm_for_user(
    db: &Db,
    user_id: i64,
    identity: &Identity,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let now = now();
    let existing: Option<(i64, Option<i64>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, user_id FROM addresses WHERE address = $1",
    )
    .bind(identity.as_str())
    .fetch_optional(conn)
    .await)?;
    match existing {
        Some((address_id, holder)) => {
            let keep_photo = holder == Some(user_id);
            on_tx!(tx, conn => sqlx::query(
                "UPDATE addresses SET user_id = $1, confirmed_at = $2, updated_at = $3,
                        photo_id = CASE WHEN $4 THEN photo_id ELSE NULL END
                 WHERE id = $5",
            )
            .bind(user_id)
            .bind(now)
            .bind(now)
            .bind(keep_photo)
            .bind(address_id)
            .execute(conn)
            .await
            .map(|_| ()))?;
        }
        None => {
            let address_id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
                "INSERT INTO addresses (kind, address, user_id, confirmed_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(identity.kind())
            .bind(identity.as_str())
            .bind(user_id)
            .bind(now)
            .bind(now)
            .bind(now)
            .fetch_one(conn)
            .await)?;
            insert_digests(&mut tx, address_id, identity).await?;
        }
    }
    delete_unreferenced(&mut tx).await?;
    tx.commit().await
}

/// Points the account's address at one of the account's photos (or at none). Returns false
/// when the address or the photo is not the account's: nothing changes then.
pub async fn assign_photo(
    db: &Db,
    user_id: i64,
    address_id: i64,
    photo_id: Option<i64>,
) -> Result<bool, sqlx::Error> {
    write_on_pool!(db, pool => sqlx::query(
        "UPDATE addresses SET photo_id = $1, updated_at = $2
         WHERE id = $3 AND user_id = $4 AND confirmed_at IS NOT NULL
           AND ($1 IS NULL OR EXISTS (SELECT 1 FROM photos WHERE id = $1 AND user_id = $4))",
    )
    .bind(photo_id)
    .bind(now())
    .bind(address_id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|done| done.rows_affected() > 0))
}

/// Removes one of the account's addresses. Returns false if it is not the account's.
pub async fn remove_owned(db: &Db, user_id: i64, address_id: i64) -> Result<bool, sqlx::Error> {
    write_on_pool!(db, pool => sqlx::query("DELETE FROM addresses WHERE id = $1 AND user_id = $2")
        .bind(address_id)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected() > 0))
}
