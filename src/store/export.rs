//! Whole accounts in and out, for `cameo export` and `cameo import-export`
//! ([`crate::operator::export`]).
//!
//! Export reads every account, address, photo and profile inside one read transaction
//! ([`Snapshot`]), so the document is the database as of one instant even while the server
//! runs. Import writes one account per write transaction ([`ImportTransaction`]); unlike the
//! pages of the server, it keeps the exported password hash and times, and stores photos
//! that already went through the intake. The rules (what conflicts, what is skipped) are the
//! caller's; these are the statements.

use super::profiles::{Profile, ProfileDetails, ProfileLink};
use super::{Db, Tx};
use crate::identity::Identity;
use crate::imaging::PreparedPhoto;

/// An account as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub created_at: i64,
}

/// A photo as stored, with its bytes.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PhotoRow {
    pub format: String,
    pub side: i64,
    pub content_digest: String,
    pub source_digest: String,
    pub created_at: i64,
    pub data: Vec<u8>,
}

/// An address as stored, naming its photo by content digest.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AddressRow {
    pub kind: String,
    pub address: String,
    pub confirmed_at: Option<i64>,
    pub created_at: i64,
    pub photo_digest: Option<String>,
}

/// A profile as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileRow {
    pub public: bool,
    pub display_name: String,
    pub about: String,
    /// `None` when the stored links do not parse (a hand-edited column).
    pub links: Option<Vec<ProfileLink>>,
    pub details: ProfileDetails,
}

/// An address row as it is before an import touches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct HeldAddress {
    pub id: i64,
    /// The account holding it; `None`: the operator.
    pub user_id: Option<i64>,
    pub photo_id: Option<i64>,
    pub confirmed_at: Option<i64>,
}

/// What an existing address becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressUpdate {
    pub holder: Option<i64>,
    pub photo_id: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub updated_at: i64,
}

/// A new address and whose it is.
#[derive(Clone, Copy, Debug)]
pub struct NewAddress<'a> {
    pub identity: &'a Identity,
    pub holder: Option<i64>,
    pub photo_id: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The database as of one instant, read for an export.
pub struct Snapshot {
    tx: Tx,
}

impl Snapshot {
    pub async fn begin(db: &Db) -> Result<Snapshot, sqlx::Error> {
        Ok(Snapshot {
            tx: db.begin_read().await?,
        })
    }

    /// Every account, oldest first.
    pub async fn accounts(&mut self) -> Result<Vec<AccountRow>, sqlx::Error> {
        on_tx!(self.tx, conn => sqlx::query_as(
            "SELECT id, email, password_hash, created_at FROM users ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await)
    }

    /// One account, for the export its holder downloads.
    pub async fn account(&mut self, user_id: i64) -> Result<Option<AccountRow>, sqlx::Error> {
        on_tx!(self.tx, conn => sqlx::query_as(
            "SELECT id, email, password_hash, created_at FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await)
    }

    /// The photos of an account (`Some(id)`) or of the operator (`None`), oldest first.
    pub async fn photos(&mut self, holder: Option<i64>) -> Result<Vec<PhotoRow>, sqlx::Error> {
        on_tx!(self.tx, conn => sqlx::query_as(
            "SELECT format, side, content_digest, source_digest, created_at, data FROM photos
             WHERE user_id IS NOT DISTINCT FROM $1 ORDER BY id",
        )
        .bind(holder)
        .fetch_all(&mut *conn)
        .await)
    }

    /// The addresses of an account (`Some(id)`) or of the operator (`None`), by address.
    /// Copies kept from WhatsApp gateways are left out: they are a cache of someone else's
    /// picture, fetched again by the next lookup, not something a person made here.
    pub async fn addresses(&mut self, holder: Option<i64>) -> Result<Vec<AddressRow>, sqlx::Error> {
        on_tx!(self.tx, conn => sqlx::query_as(
            "SELECT a.kind, a.address, a.confirmed_at, a.created_at,
                    p.content_digest AS photo_digest
             FROM addresses a LEFT JOIN photos p ON p.id = a.photo_id
             WHERE a.user_id IS NOT DISTINCT FROM $1 AND a.photo_source IS NULL
             ORDER BY a.address",
        )
        .bind(holder)
        .fetch_all(&mut *conn)
        .await)
    }

    pub async fn profile(&mut self, user_id: i64) -> Result<Option<ProfileRow>, sqlx::Error> {
        profile(&mut self.tx, user_id).await
    }

    /// Ends the read transaction; nothing was written.
    pub async fn finish(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

/// The id of the account that logs in as `email`.
pub async fn account_id(db: &Db, email: &str) -> Result<Option<i64>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(ACCOUNT_ID).bind(email).fetch_optional(pool).await)
}

/// A photo of `holder` (`None`: the operator) with this content or upload digest.
pub async fn find_photo(
    db: &Db,
    holder: Option<i64>,
    content_digest: &str,
    source_digest: &str,
) -> Result<Option<i64>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(FIND_PHOTO)
        .bind(holder)
        .bind(content_digest)
        .bind(source_digest)
        .fetch_optional(pool)
        .await)
}

/// One account's (or the operator's) writes, committed together or not at all.
pub struct ImportTransaction {
    tx: Tx,
}

impl ImportTransaction {
    /// A write transaction ([`Db::begin_write`]).
    pub async fn begin(db: &Db) -> Result<ImportTransaction, sqlx::Error> {
        Ok(ImportTransaction {
            tx: db.begin_write().await?,
        })
    }

    pub async fn account_id(&mut self, email: &str) -> Result<Option<i64>, sqlx::Error> {
        account_id_in(&mut self.tx, email).await
    }

    /// Creates an account with the given (already hashed) password and creation time.
    pub async fn insert_account(
        &mut self,
        email: &str,
        password_hash: &str,
        created_at: i64,
        now: i64,
    ) -> Result<i64, sqlx::Error> {
        on_tx!(self.tx, conn => sqlx::query_scalar(
            "INSERT INTO users (email, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(email)
        .bind(password_hash)
        .bind(created_at)
        .bind(now)
        .fetch_one(&mut *conn)
        .await)
    }

    pub async fn find_photo(
        &mut self,
        holder: Option<i64>,
        content_digest: &str,
        source_digest: &str,
    ) -> Result<Option<i64>, sqlx::Error> {
        find_photo_in(&mut self.tx, holder, content_digest, source_digest).await
    }

    /// Stores a photo that went through the intake; returns its id.
    pub async fn insert_photo(
        &mut self,
        holder: Option<i64>,
        photo: &PreparedPhoto,
        created_at: i64,
        now: i64,
    ) -> Result<i64, sqlx::Error> {
        super::photos::insert_row(&mut self.tx, photo, holder, created_at, now).await
    }

    /// The row of `address` (normalised), whoever holds it.
    pub async fn address(&mut self, address: &str) -> Result<Option<HeldAddress>, sqlx::Error> {
        on_tx!(self.tx, conn => sqlx::query_as(
            "SELECT id, user_id, photo_id, confirmed_at FROM addresses WHERE address = $1",
        )
        .bind(address)
        .fetch_optional(&mut *conn)
        .await)
    }

    pub async fn update_address(
        &mut self,
        id: i64,
        update: AddressUpdate,
    ) -> Result<(), sqlx::Error> {
        on_tx!(self.tx, conn => sqlx::query(
            "UPDATE addresses SET user_id = $1, photo_id = $2, confirmed_at = $3, updated_at = $4
             WHERE id = $5",
        )
        .bind(update.holder)
        .bind(update.photo_id)
        .bind(update.confirmed_at)
        .bind(update.updated_at)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|_| ()))
    }

    /// Inserts an address with its digests.
    pub async fn insert_address(&mut self, address: NewAddress<'_>) -> Result<(), sqlx::Error> {
        let identity = address.identity;
        let address_id: i64 = on_tx!(self.tx, conn => sqlx::query_scalar(
            "INSERT INTO addresses (kind, address, user_id, photo_id, confirmed_at, created_at,
                                    updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(identity.kind())
        .bind(identity.as_str())
        .bind(address.holder)
        .bind(address.photo_id)
        .bind(address.confirmed_at)
        .bind(address.created_at)
        .bind(address.updated_at)
        .fetch_one(&mut *conn)
        .await)?;
        // The same digests, and the same `exact` rule, as `store::addresses` writes.
        for (index, digest) in identity.digests().iter().enumerate() {
            let exact = matches!(identity, Identity::Email(_)) || index == 0;
            on_tx!(self.tx, conn => sqlx::query(
                "INSERT INTO address_digests (digest, address_id, exact)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(digest.to_hex())
            .bind(address_id)
            .bind(exact)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        }
        Ok(())
    }

    pub async fn profile(&mut self, user_id: i64) -> Result<Option<ProfileRow>, sqlx::Error> {
        profile(&mut self.tx, user_id).await
    }

    /// Stores a profile (already validated) for an account that has none.
    pub async fn insert_profile(
        &mut self,
        user_id: i64,
        profile: &Profile,
    ) -> Result<(), sqlx::Error> {
        let links =
            serde_json::to_string(&profile.links).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let details = &profile.details;
        on_tx!(self.tx, conn => sqlx::query(
            "INSERT INTO profiles (user_id, public, display_name, about, links, updated_at,
                                   location, job_title, company, pronouns, pronunciation,
                                   avatar_alt_text)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(user_id)
        .bind(profile.public)
        .bind(&profile.display_name)
        .bind(&profile.about)
        .bind(links)
        .bind(super::now())
        .bind(&details.location)
        .bind(&details.job_title)
        .bind(&details.company)
        .bind(&details.pronouns)
        .bind(&details.pronunciation)
        .bind(&details.avatar_alt_text)
        .execute(&mut *conn)
        .await
        .map(|_| ()))
    }

    /// Removes the operator's photos no address shows ([`super::photos::delete_unreferenced`]).
    pub async fn delete_unreferenced_photos(&mut self) -> Result<u64, sqlx::Error> {
        super::photos::delete_unreferenced(&mut self.tx).await
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

const ACCOUNT_ID: &str = "SELECT id FROM users WHERE email = $1";

const FIND_PHOTO: &str = "SELECT id FROM photos
     WHERE user_id IS NOT DISTINCT FROM $1 AND (content_digest = $2 OR source_digest = $3)
     ORDER BY id LIMIT 1";

async fn account_id_in(tx: &mut Tx, email: &str) -> Result<Option<i64>, sqlx::Error> {
    on_tx!(tx, conn => sqlx::query_scalar(ACCOUNT_ID).bind(email).fetch_optional(conn).await)
}

async fn find_photo_in(
    tx: &mut Tx,
    holder: Option<i64>,
    content_digest: &str,
    source_digest: &str,
) -> Result<Option<i64>, sqlx::Error> {
    on_tx!(tx, conn => sqlx::query_scalar(FIND_PHOTO)
        .bind(holder)
        .bind(content_digest)
        .bind(source_digest)
        .fetch_optional(conn)
        .await)
}

#[derive(sqlx::FromRow)]
struct StoredProfile {
    public: bool,
    display_name: String,
    about: String,
    links: String,
    #[sqlx(flatten)]
    details: ProfileDetails,
}

async fn profile(tx: &mut Tx, user_id: i64) -> Result<Option<ProfileRow>, sqlx::Error> {
    let sql = format!(
        "SELECT public, display_name, about, links, {} FROM profiles WHERE user_id = $1",
        super::profiles::DETAIL_COLUMNS
    );
    let row: Option<StoredProfile> = on_tx!(tx, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
    .bind(user_id)
    .fetch_optional(conn)
    .await)?;
    Ok(row.map(|row| ProfileRow {
        public: row.public,
        display_name: row.display_name,
        about: row.about,
        links: serde_json::from_str(&row.links).ok(),
        details: row.details,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fixture() -> (Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::store::open(&dir.path().join("cameo.db"))
            .await
            .unwrap();
        (pool, dir)
    }

    #[tokio::test]
    async fn an_imported_account_keeps_its_times_and_a_snapshot_reads_it_back() {
        let (pool, _dir) = fixture().await;
        let identity = Identity::parse("a@example.org").unwrap();
        let mut tx = ImportTransaction::begin(&pool).await.unwrap();
        let id = tx
            .insert_account("a@example.org", "!", 5, 10)
            .await
            .unwrap();
        let address = NewAddress {
            identity: &identity,
            holder: Some(id),
            photo_id: None,
            confirmed_at: Some(7),
            created_at: 6,
            updated_at: 10,
        };
        tx.insert_address(address).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(account_id(&pool, "a@example.org").await.unwrap(), Some(id));

        let mut snapshot = Snapshot::begin(&pool).await.unwrap();
        let accounts = snapshot.accounts().await.unwrap();
        assert_eq!(accounts.len(), 1);
        assert_eq!(
            (accounts[0].created_at, accounts[0].password_hash.as_str()),
            (5, "!")
        );
        let addresses = snapshot.addresses(Some(id)).await.unwrap();
        assert_eq!(addresses.len(), 1);
        assert_eq!(
            (addresses[0].confirmed_at, addresses[0].created_at),
            (Some(7), 6)
        );
        assert!(snapshot.addresses(None).await.unwrap().is_empty());
        assert_eq!(snapshot.profile(id).await.unwrap(), None);
        snapshot.finish().await.unwrap();
    }

    #[tokio::test]
    async fn a_rolled_back_import_leaves_nothing() {
        let (pool, _dir) = fixture().await;
        let mut tx = ImportTransaction::begin(&pool).await.unwrap();
        let id = tx
            .insert_account("a@example.org", "!", 5, 10)
            .await
            .unwrap();
        assert_eq!(tx.account_id("a@example.org").await.unwrap(), Some(id));
        tx.rollback().await.unwrap();
        assert_eq!(account_id(&pool, "a@example.org").await.unwrap(), None);
    }
}
