//! Copies of WhatsApp avatars that a gateway lookup kept (src/gateways/): stored on the
//! phone's (or group's) address row like any photo, so `/avatar/HASH`, the served index and
//! the change feed know them, with `photo_source` saying which gateway the copy came from.
//!
//! A photo the operator (or an owner) set is never replaced by a copy, and a gateway that
//! says "no avatar" removes only its own copy.

use super::addresses::find_or_insert_photo;
use super::photos::delete_unreferenced;
use super::{Db, now};
use crate::identity::Digest;
use crate::imaging::PreparedPhoto;

/// Where the photo of an address came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhotoOrigin {
    /// Set on this server (operator or owner), confirmed and with a photo: `local` serves it.
    Here,
    /// A copy from gateway `source`; `source_id` tells whether the picture changed.
    Gateway { source: String, source_id: String },
    /// No address, or one without a served photo.
    Nothing,
}

type OriginRow = (Option<i64>, Option<i64>, Option<String>, Option<String>);

pub async fn photo_origin(db: &Db, address: &str) -> Result<PhotoOrigin, sqlx::Error> {
    let row: Option<OriginRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT photo_id, confirmed_at, photo_source, photo_source_id FROM addresses
         WHERE address = $1",
    )
    .bind(address)
    .fetch_optional(pool)
    .await)?;
    Ok(match row {
        Some((Some(_), Some(_), None, _)) => PhotoOrigin::Here,
        Some((Some(_), Some(_), Some(source), source_id)) => PhotoOrigin::Gateway {
            source,
            source_id: source_id.unwrap_or_default(),
        },
        _ => PhotoOrigin::Nothing,
    })
}

/// The address a copy is kept under.
#[derive(Clone, Copy, Debug)]
pub struct CopyTarget<'a> {
    /// `phone` or `whatsapp_group`.
    pub kind: &'a str,
    /// E.164, or `ID@g.us`.
    pub address: &'a str,
    /// SHA-256 of `address`: the one digest it is served under.
    pub digest: Digest,
}

/// Keeps `photo` as `target`'s copy from `source`. Returns false (and writes nothing) when
/// the address has a photo set on this server.
pub async fn keep_copy(
    db: &Db,
    target: CopyTarget<'_>,
    source: &str,
    source_id: &str,
    photo: &PreparedPhoto,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let now = now();
    let existing: Option<(i64, Option<i64>, Option<String>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, photo_id, photo_source FROM addresses WHERE address = $1",
    )
    .bind(target.address)
    .fetch_optional(conn)
    .await)?;
    if let Some((_, Some(_), None)) = existing {
        tx.rollback().await?;
        return Ok(false);
    }
    let photo_id = find_or_insert_photo(&mut tx, photo, now).await?;
    match existing {
        Some((address_id, _, _)) => {
            on_tx!(tx, conn => sqlx::query(
                "UPDATE addresses SET photo_id = $1, photo_source = $2, photo_source_id = $3,
                        confirmed_at = COALESCE(confirmed_at, $4), updated_at = $4
                 WHERE id = $5",
            )
            .bind(photo_id)
            .bind(source)
            .bind(source_id)
            .bind(now)
            .bind(address_id)
            .execute(conn)
            .await
            .map(|_| ()))?;
        }
        None => {
            let address_id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
                "INSERT INTO addresses (kind, address, photo_id, confirmed_at, created_at,
                                        updated_at, photo_source, photo_source_id)
                 VALUES ($1, $2, $3, $4, $4, $4, $5, $6) RETURNING id",
            )
            .bind(target.kind)
            .bind(target.address)
            .bind(photo_id)
            .bind(now)
            .bind(source)
            .bind(source_id)
            .fetch_one(conn)
            .await)?;
            on_tx!(tx, conn => sqlx::query(
                "INSERT INTO address_digests (digest, address_id, exact) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(target.digest.to_hex())
            .bind(address_id)
            .bind(true)
            .execute(conn)
            .await
            .map(|_| ()))?;
        }
    }
    delete_unreferenced(&mut tx).await?;
    tx.commit().await?;
    Ok(true)
}

/// Forgets `address`'s copy from `source` (the gateway now says there is no avatar).
/// Returns whether there was one.
pub async fn drop_copy(db: &Db, address: &str, source: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let removed = on_tx!(tx, conn => sqlx::query(
        "DELETE FROM addresses WHERE address = $1 AND photo_source = $2",
    )
    .bind(address)
    .bind(source)
    .execute(conn)
    .await
    .map(|done| done.rows_affected() > 0))?;
    delete_unreferenced(&mut tx).await?;
    tx.commit().await?;
    Ok(removed)
}
