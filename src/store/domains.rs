//! Domains and who administers them: the accounts the operator named per domain
//! (`domain_admins`), what such an account sees of its domains (every address), the photo
//! it may take off an address, and each domain's default image (`domain_defaults`, a photo
//! row of no account). Every query that acts on an address is scoped to the domain, so an
//! administrator of one domain can do nothing to another's addresses.

use serde::Serialize;

use super::{Db, now};
use crate::imaging::PreparedPhoto;

/// The normalised form of a domain typed by the operator or in a URL: lowercase, trimmed,
/// no trailing dot; `None` when it cannot be an email domain (the check an email address's
/// domain passes, so `x@DOMAIN` must parse).
pub fn normalise_domain(typed: &str) -> Option<String> {
    let domain = typed.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() || domain.len() > 253 || domain.contains(['@', '/', ' ']) {
        return None;
    }
    match crate::identity::Identity::parse(&format!("admin@{domain}")) {
        Ok(identity) => identity.domain().map(str::to_string),
        Err(_) => None,
    }
}

/// One administrator of one domain, for the operator's listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DomainAdmin {
    pub domain: String,
    pub account: String,
    pub granted_at: i64,
}

/// An address of a domain as its administrator sees it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DomainAddress {
    pub id: i64,
    pub address: String,
    pub confirmed: bool,
    pub photo_id: Option<i64>,
    /// The owning account's login, if an account owns it.
    pub owner: Option<String>,
}

/// Names `user_id` an administrator of `domain`; `false` if it already was.
pub async fn grant(db: &Db, domain: &str, user_id: i64) -> Result<bool, sqlx::Error> {
    write_on_pool!(db, pool => sqlx::query(
        "INSERT INTO domain_admins (domain, user_id, granted_at) VALUES ($1, $2, $3)
         ON CONFLICT (domain, user_id) DO NOTHING",
    )
    .bind(domain)
    .bind(user_id)
    .bind(now())
    .execute(pool)
    .await
    .map(|done| done.rows_affected() > 0))
}

/// Takes `domain` away from `user_id`; `false` if it did not administer it.
pub async fn revoke(db: &Db, domain: &str, user_id: i64) -> Result<bool, sqlx::Error> {
    write_on_pool!(db, pool => sqlx::query(
        "DELETE FROM domain_admins WHERE domain = $1 AND user_id = $2",
    )
    .bind(domain)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|done| done.rows_affected() > 0))
}

/// Every administrator of every domain, by domain.
pub async fn list_admins(db: &Db) -> Result<Vec<DomainAdmin>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT d.domain, u.email AS account, d.granted_at
         FROM domain_admins d JOIN users u ON u.id = d.user_id
         ORDER BY d.domain, u.email",
    )
    .fetch_all(pool)
    .await)
}

/// The domains `user_id` administers, sorted.
pub async fn administered_by(db: &Db, user_id: i64) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT domain FROM domain_admins WHERE user_id = $1 ORDER BY domain",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)
}

/// Whether `user_id` administers `domain`.
pub async fn administers(db: &Db, user_id: i64, domain: &str) -> Result<bool, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM domain_admins WHERE user_id = $1 AND domain = $2",
    )
    .bind(user_id)
    .bind(domain)
    .fetch_one(pool)
    .await
    .map(|n| n > 0))
}

/// Every address of `domain` (confirmed or not), with its owner, by address.
pub async fn addresses_in(db: &Db, domain: &str) -> Result<Vec<DomainAddress>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT a.id, a.address, a.confirmed_at IS NOT NULL AS confirmed, a.photo_id,
                u.email AS owner
         FROM addresses a LEFT JOIN users u ON u.id = a.user_id
         WHERE a.domain = $1
         ORDER BY a.address",
    )
    .bind(domain)
    .fetch_all(pool)
    .await)
}

/// Takes the photo off address `address_id` of `domain` (the photo stays in its owner's
/// account; an operator photo no address shows any more is deleted). `false` when the
/// address is not the domain's or shows no photo.
pub async fn take_photo_off(db: &Db, domain: &str, address_id: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let taken = on_tx!(tx, conn => sqlx::query(
        "UPDATE addresses SET photo_id = NULL, updated_at = $1
         WHERE id = $2 AND domain = $3 AND photo_id IS NOT NULL",
    )
    .bind(now())
    .bind(address_id)
    .bind(domain)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0);
    super::photos::delete_unreferenced(&mut tx).await?;
    tx.commit().await?;
    Ok(taken)
}

/// Makes `photo` the default image of `domain`, set by `set_by`; the one it replaces is
/// deleted in the same transaction.
pub async fn set_default(
    db: &Db,
    domain: &str,
    photo: &PreparedPhoto,
    set_by: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let now = now();
    let photo_id = super::photos::insert_row(&mut tx, photo, None, now, now).await?;
    let replaced: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT photo_id FROM domain_defaults WHERE domain = $1",
    )
    .bind(domain)
    .fetch_optional(&mut *conn)
    .await)?;
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO domain_defaults (domain, photo_id, set_by, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (domain) DO UPDATE
         SET photo_id = excluded.photo_id, set_by = excluded.set_by,
             updated_at = excluded.updated_at",
    )
    .bind(domain)
    .bind(photo_id)
    .bind(set_by)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ()))?;
    if let Some(old) = replaced {
        on_tx!(tx, conn => sqlx::query("DELETE FROM photos WHERE id = $1 AND user_id IS NULL")
            .bind(old)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
    }
    tx.commit().await?;
    Ok(())
}

/// Removes `domain`'s default image; `false` if it had none.
pub async fn remove_default(db: &Db, domain: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let photo: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "DELETE FROM domain_defaults WHERE domain = $1 RETURNING photo_id",
    )
    .bind(domain)
    .fetch_optional(&mut *conn)
    .await)?;
    if let Some(photo) = photo {
        on_tx!(tx, conn => sqlx::query("DELETE FROM photos WHERE id = $1 AND user_id IS NULL")
            .bind(photo)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
    }
    tx.commit().await?;
    Ok(photo.is_some())
}

/// The photo id of `domain`'s default image, if it has one.
pub async fn default_photo(db: &Db, domain: &str) -> Result<Option<i64>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT photo_id FROM domain_defaults WHERE domain = $1",
    )
    .bind(domain)
    .fetch_optional(pool)
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::store::photos::PhotoRef;
    use crate::store::testkit::{prepared_photo, temp_database};

    #[test]
    fn domains_are_normalised_or_refused() {
        assert_eq!(
            normalise_domain(" Example.ORG. ").as_deref(),
            Some("example.org")
        );
        for bad in ["", "a b.org", "x@y.org", "http://x.org", &"a".repeat(300)] {
            assert_eq!(normalise_domain(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_default_image_serves_photo_less_addresses_of_its_domain_only() {
        let database = temp_database().await;
        let pool = &database.pool;
        let with_photo = Identity::parse("ada@corp.test").unwrap();
        crate::store::addresses::set_confirmed_photo(pool, &with_photo, &prepared_photo("a"))
            .await
            .unwrap();
        let user = crate::store::users::create(pool, "it@corp.test", "x")
            .await
            .unwrap()
            .unwrap();
        set_default(pool, "corp.test", &prepared_photo("logo"), user)
            .await
            .unwrap();
        let own = crate::store::photos::photo_for_digest(pool, &with_photo.digests()[0])
            .await
            .unwrap()
            .unwrap();
        assert!(!own.domain_default, "an own photo wins over the domain's");
        assert_eq!(default_photo(pool, "other.test").await.unwrap(), None);
        let logo = default_photo(pool, "corp.test").await.unwrap().unwrap();
        set_default(pool, "corp.test", &prepared_photo("logo2"), user)
            .await
            .unwrap();
        let replaced = default_photo(pool, "corp.test").await.unwrap().unwrap();
        assert_ne!(logo, replaced);
        let mut tx = pool.begin_read().await.unwrap();
        let left: i64 = on_tx!(tx, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM photos WHERE id = $1",
        )
        .bind(logo)
        .fetch_one(&mut *conn)
        .await)
        .unwrap();
        assert_eq!(left, 0, "the replaced image is deleted");
        drop(tx);
        assert!(remove_default(pool, "corp.test").await.unwrap());
        assert!(!remove_default(pool, "corp.test").await.unwrap());
    }

    #[tokio::test]
    async fn every_read_of_the_served_answers_sees_a_domains_default() {
        let database = temp_database().await;
        let pool = &database.pool;
        let user = crate::store::users::create(pool, "it@corp.test", "x")
            .await
            .unwrap()
            .unwrap();
        let bare = Identity::parse("it@corp.test").unwrap();
        crate::store::addresses::confirm_for_user(pool, user, &bare)
            .await
            .unwrap();
        let elsewhere = Identity::parse("it@other.test").unwrap();
        crate::store::addresses::confirm_for_user(pool, user, &elsewhere)
            .await
            .unwrap();
        set_default(pool, "corp.test", &prepared_photo("logo"), user)
            .await
            .unwrap();
        let logo = default_photo(pool, "corp.test").await.unwrap().unwrap();
        for digest in bare.digests() {
            let served = crate::store::photos::photo_for_digest(pool, &digest)
                .await
                .unwrap()
                .expect("the domain's default");
            assert_eq!((served.id, served.domain_default), (logo, true));
        }
        let streamed = crate::store::hot_read::each_served_answer(
            &database.path,
            |_| Vec::new(),
            |all: &mut Vec<(String, PhotoRef)>, digest, photo| all.push((digest.into(), *photo)),
        )
        .unwrap();
        let hexes: Vec<String> = bare.digests().iter().map(|d| d.to_hex()).collect();
        assert_eq!(
            streamed.len(),
            2,
            "only it@corp.test's digests: {streamed:?}"
        );
        assert!(
            streamed.iter().all(|(hex, photo)| hexes.contains(hex)
                && photo.domain_default
                && photo.id == logo)
        );
        let from_sqlx = crate::store::photos::each_served_answer(
            pool,
            |_| 0,
            |count: &mut usize, _, photo| *count += usize::from(photo.domain_default),
        )
        .await
        .unwrap();
        assert_eq!(from_sqlx, 2);
    }
}
