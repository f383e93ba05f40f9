//! Photos: validated originals and the lookup the hot path makes for a digest.

use sqlx::SqlitePool;

use crate::identity::Digest;
use crate::imaging::PhotoFormat;

/// What the hot path needs to know about the photo behind a digest, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotoRef {
    pub id: i64,
    pub version: i64,
    pub format: PhotoFormat,
    pub content_digest: String,
    /// When this photo became the one served for the address (Unix seconds).
    pub modified_at: i64,
}

#[derive(sqlx::FromRow)]
struct PhotoRefRow {
    id: i64,
    version: i64,
    format: String,
    content_digest: String,
    modified_at: i64,
}

/// The photo served for `digest`: the photo of the confirmed address the digest belongs to.
/// The exact digest of an address wins over another address's OpenID variant.
pub async fn photo_for_digest(
    pool: &SqlitePool,
    digest: &Digest,
) -> Result<Option<PhotoRef>, sqlx::Error> {
    let row: Option<PhotoRefRow> = sqlx::query_as(
        "SELECT p.id, p.version, p.format, p.content_digest,
                MAX(p.updated_at, a.updated_at) AS modified_at
         FROM address_digests d
         JOIN addresses a ON a.id = d.address_id
         JOIN photos p ON p.id = a.photo_id
         WHERE d.digest = ? AND a.confirmed_at IS NOT NULL
         ORDER BY d.exact DESC, a.confirmed_at DESC
         LIMIT 1",
    )
    .bind(digest.to_hex())
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|row| {
        Some(PhotoRef {
            id: row.id,
            version: row.version,
            format: PhotoFormat::from_name(&row.format)?,
            content_digest: row.content_digest,
            modified_at: row.modified_at,
        })
    }))
}

/// The stored original's bytes, if the photo (still) exists at that version.
pub async fn photo_data(
    pool: &SqlitePool,
    id: i64,
    version: i64,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT data FROM photos WHERE id = ? AND version = ?")
        .bind(id)
        .bind(version)
        .fetch_optional(pool)
        .await
}

/// Deletes photos no address points at. Returns how many were removed.
pub async fn delete_unreferenced<'e, E>(executor: E) -> Result<u64, sqlx::Error>
where
    E: sqlx::SqliteExecutor<'e>,
{
    let result = sqlx::query(
        "DELETE FROM photos WHERE NOT EXISTS (SELECT 1 FROM addresses WHERE photo_id = photos.id)",
    )
    .execute(executor)
    .await?;
    Ok(result.rows_affected())
}
