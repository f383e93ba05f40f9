//! What the operator's probes ask the database: is it answering (`/readyz`), and how much is
//! stored (the `/metrics` gauges). Both are cheap enough to run at every scrape or probe.

use super::Db;

/// How many photos and addresses the database holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoredCounts {
    pub photos: i64,
    pub confirmed_addresses: i64,
    pub unconfirmed_addresses: i64,
}

/// One round trip through the pool: a connection can be had and the database answers.
pub async fn ping(db: &Db) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
}

/// The counts, in one read transaction so they agree with each other. `COUNT(*)` on
/// `photos` walks its smallest index, not the rows with their image blobs.
pub async fn counts(db: &Db) -> Result<StoredCounts, sqlx::Error> {
    let (photos, confirmed_addresses, unconfirmed_addresses): (i64, i64, i64) = on_pool!(db, pool => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM photos),
                    (SELECT COUNT(*) FROM addresses WHERE confirmed_at IS NOT NULL),
                    (SELECT COUNT(*) FROM addresses WHERE confirmed_at IS NULL)",
        )
        .fetch_one(pool)
        .await)?;
    Ok(StoredCounts {
        photos,
        confirmed_addresses,
        unconfirmed_addresses,
    })
}
