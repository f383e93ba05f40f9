//! Photos: validated originals and the lookup the hot path makes for a digest.

use super::{Db, Tx};

use crate::identity::Digest;
use crate::imaging::{PhotoFormat, PreparedPhoto};

/// What the hot path needs to know about the photo behind a digest, without its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhotoRef {
    pub id: i64,
    pub version: i64,
    pub format: PhotoFormat,
    /// When this photo became the one served for the address (Unix seconds).
    pub modified_at: i64,
    /// The address shows no photo of its own: this is its domain's default image, served
    /// only where a drawn default would be ([`crate::avatar::handler`]).
    pub domain_default: bool,
}

#[derive(sqlx::FromRow)]
struct PhotoRefRow {
    id: i64,
    version: i64,
    format: String,
    modified_at: i64,
    #[sqlx(default)]
    domain_default: bool,
}

/// The photo served for `digest`: the photo of the confirmed address the digest belongs to,
/// or its domain's default image when it has none. An address's own photo wins over a
/// domain's default, and the exact digest of an address over another address's OpenID
/// variant.
pub async fn photo_for_digest(db: &Db, digest: &Digest) -> Result<Option<PhotoRef>, sqlx::Error> {
    let row: Option<PhotoRefRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT p.id, p.version, p.format,
                CASE WHEN p.updated_at > a.updated_at THEN p.updated_at
                     ELSE a.updated_at END AS modified_at,
                a.photo_id IS NULL AS domain_default
         FROM address_digests d
         JOIN addresses a ON a.id = d.address_id
         LEFT JOIN domain_defaults dd ON a.photo_id IS NULL AND dd.domain = a.domain
         JOIN photos p ON p.id = COALESCE(a.photo_id, dd.photo_id)
         WHERE d.digest = $1 AND a.confirmed_at IS NOT NULL
         ORDER BY a.photo_id IS NULL, d.exact DESC, a.confirmed_at DESC
         LIMIT 1",
    )
    .bind(digest.to_hex())
    .fetch_optional(pool)
    .await)?;
    Ok(row.and_then(PhotoRefRow::into_ref))
}

impl PhotoRefRow {
    fn into_ref(self) -> Option<PhotoRef> {
        Some(PhotoRef {
            id: self.id,
            version: self.version,
            format: PhotoFormat::from_name(&self.format)?,
            modified_at: self.modified_at,
            domain_default: self.domain_default,
        })
    }
}

/// The stored original's bytes (empty when they live in the photo bucket) and its content
/// digest, if the photo (still) exists at that version.
pub async fn photo_data(
    db: &Db,
    id: i64,
    version: i64,
) -> Result<Option<(Vec<u8>, String)>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT data, content_digest FROM photos WHERE id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_optional(pool)
    .await)
}

/// Which of `digests` some photo row stores (its bytes' SHA-256): what the photo bucket must
/// keep.
pub async fn stored_content_digests(
    db: &Db,
    digests: &[String],
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let mut stored = std::collections::HashSet::new();
    for chunk in digests.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT DISTINCT content_digest FROM photos WHERE content_digest IN ({})",
            marks.join(", ")
        );
        // Only placeholders are formatted in; the digests are bound.
        let found: Vec<String> = on_pool!(db, pool => {
            let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()));
            for digest in chunk {
                query = query.bind(digest);
            }
            query.fetch_all(pool).await
        })?;
        stored.extend(found);
    }
    Ok(stored)
}

/// Deletes operator photos (no owning account) that no address points at any more, that
/// are no domain's default image, and directory photos whose entry let them go. Account
/// photos stay until their owner deletes them. Returns how many were removed.
pub async fn delete_unreferenced(tx: &mut Tx) -> Result<u64, sqlx::Error> {
    on_tx!(tx, conn => sqlx::query(
        "DELETE FROM photos WHERE user_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM addresses WHERE photo_id = photos.id)
           AND NOT EXISTS (SELECT 1 FROM domain_defaults WHERE photo_id = photos.id)
           AND NOT EXISTS (SELECT 1 FROM directory_entries WHERE photo_id = photos.id)",
    )
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))
}

/// A photo as its owner sees it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OwnedPhoto {
    pub id: i64,
    pub version: i64,
    pub format: String,
    pub side: i64,
    pub content_digest: String,
    pub updated_at: i64,
}

/// Inserts `photo` as a row held by `holder` (an account; `None`: the operator's photos) and
/// returns its id. With a photo bucket its `data` is already empty: the bytes went first.
pub async fn insert_row(
    tx: &mut Tx,
    photo: &PreparedPhoto,
    holder: Option<i64>,
    created_at: i64,
    updated_at: i64,
) -> Result<i64, sqlx::Error> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO photos (format, data, side, content_digest, source_digest,
                             user_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(photo.format.name())
    .bind(&photo.data)
    .bind(i64::from(photo.side))
    .bind(&photo.content_digest)
    .bind(&photo.source_digest)
    .bind(holder)
    .bind(created_at)
    .bind(updated_at)
    .fetch_one(&mut *conn)
    .await)
}

/// Stores an uploaded photo for an account, unless it already holds `max_photos`: the count
/// is checked inside the same write transaction as the insert ([`Db::begin_write`]), so
/// parallel uploads cannot both take the last slot (12 at once took an account to 13 of 10).
/// `None` when the account is full.
pub async fn insert_owned(
    db: &Db,
    user_id: i64,
    photo: &PreparedPhoto,
    max_photos: u32,
) -> Result<Option<i64>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let now = super::now();
    let held: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT COUNT(*) FROM photos WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await)?;
    if held >= i64::from(max_photos) {
        return Ok(None);
    }
    let id = insert_row(&mut tx, photo, Some(user_id), now, now).await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// How many photos an account holds (a cheap check before decoding an upload; the one that
/// holds is [`insert_owned`]'s).
pub async fn count_owned(db: &Db, user_id: i64) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM photos WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await)
}

pub async fn owned_by(db: &Db, user_id: i64) -> Result<Vec<OwnedPhoto>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT id, version, format, side, content_digest, updated_at FROM photos
         WHERE user_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)
}

/// One of the account's photos, as the renderer needs it; `None` if it is not the account's.
pub async fn owned_ref(
    db: &Db,
    user_id: i64,
    photo_id: i64,
) -> Result<Option<PhotoRef>, sqlx::Error> {
    let row: Option<PhotoRefRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, version, format, updated_at AS modified_at FROM photos
         WHERE id = $1 AND user_id = $2",
    )
    .bind(photo_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await)?;
    Ok(row.and_then(PhotoRefRow::into_ref))
}

/// Deletes one of the account's photos; addresses showing it fall back to no photo.
pub async fn delete_owned(db: &Db, user_id: i64, photo_id: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let now = super::now();
    let deleted = on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE addresses SET photo_id = NULL, updated_at = $1
             WHERE photo_id = $2 AND user_id = $3",
        )
        .bind(now)
        .bind(photo_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM photos WHERE id = $1 AND user_id = $2")
            .bind(photo_id)
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            > 0
    });
    tx.commit().await?;
    Ok(deleted)
}

/// Every digest that serves a photo, with the photo it serves, streamed: `start` gets how
/// many rows there are (to size the index), `each` each digest once, with the photo that
/// wins for it (as [`photo_for_digest`] orders them). The same answers as
/// [`super::hot_read::each_served_answer`], which reads a SQLite file directly; this one is
/// for PostgreSQL, where there is no file.
pub async fn each_served_answer<T>(
    db: &Db,
    start: impl FnOnce(u64) -> T,
    mut each: impl FnMut(&mut T, &str, &PhotoRef),
) -> Result<T, sqlx::Error> {
    use futures_util::TryStreamExt;
    let mut tx = db.begin_read().await?;
    let folded = on_tx!(tx, conn => {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM address_digests")
            .fetch_one(&mut *conn)
            .await?;
        let mut folded = start(count.max(0) as u64);
        let mut rows = sqlx::query_as::<_, (String, i64, i64, String, i64, bool)>(
            "SELECT d.digest, p.id, p.version, p.format,
                    CASE WHEN p.updated_at > a.updated_at THEN p.updated_at
                         ELSE a.updated_at END,
                    a.photo_id IS NULL
             FROM address_digests d
             JOIN addresses a ON a.id = d.address_id
             LEFT JOIN domain_defaults dd ON a.photo_id IS NULL AND dd.domain = a.domain
             JOIN photos p ON p.id = COALESCE(a.photo_id, dd.photo_id)
             WHERE a.confirmed_at IS NOT NULL
             ORDER BY d.digest, a.photo_id IS NULL, d.exact DESC, a.confirmed_at DESC",
        )
        .fetch(&mut *conn);
        let mut last = String::new();
        while let Some((hex, id, version, format, modified_at, domain_default)) =
            rows.try_next().await?
        {
            // The winner comes first; the digest's other rows are skipped.
            if hex == last {
                continue;
            }
            let row = PhotoRefRow {
                id,
                version,
                format,
                modified_at,
                domain_default,
            };
            if let Some(photo) = row.into_ref() {
                each(&mut folded, &hex, &photo);
            }
            last = hex;
        }
        folded
    });
    tx.rollback().await?;
    Ok(folded)
}
