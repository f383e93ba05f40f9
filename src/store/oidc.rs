//! Single sign-on's rows: which account an OpenID provider's subject is (`oidc_links`), and
//! the logins sent to the provider that have not come back yet (`oidc_logins`).

use super::{Db, now};

/// A login sent to the provider: what its callback needs, taken once.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PendingLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub expires_at: i64,
}

/// The account a subject is linked to, and whether its picture was imported already.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Link {
    pub user_id: i64,
    pub picture_imported_at: Option<i64>,
}

/// Keeps a login sent to the provider until its `expires_at`, and sweeps expired ones.
pub async fn save_login(
    db: &Db,
    state_hash: &str,
    pending: &PendingLogin,
) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => sqlx::query("DELETE FROM oidc_logins WHERE expires_at <= $1")
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ()))?;
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO oidc_logins (state_hash, nonce, pkce_verifier, return_to, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(state_hash)
    .bind(&pending.nonce)
    .bind(&pending.pkce_verifier)
    .bind(&pending.return_to)
    .bind(pending.expires_at)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Takes (deletes and returns) the login whose state hashes to `state_hash`, if it is there
/// and not expired: a second callback with the same state finds nothing.
pub async fn take_login(db: &Db, state_hash: &str) -> Result<Option<PendingLogin>, sqlx::Error> {
    let taken: Option<PendingLogin> = on_pool!(db, pool => sqlx::query_as(
        "DELETE FROM oidc_logins WHERE state_hash = $1
         RETURNING nonce, pkce_verifier, return_to, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(pool)
    .await)?;
    Ok(taken.filter(|login| login.expires_at > now()))
}

pub async fn link_of(db: &Db, issuer: &str, subject: &str) -> Result<Option<Link>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT user_id, picture_imported_at FROM oidc_links WHERE issuer = $1 AND subject = $2",
    )
    .bind(issuer)
    .bind(subject)
    .fetch_optional(pool)
    .await)
}

/// Links (issuer, subject) to an existing account; false if the subject was linked already.
pub async fn link(db: &Db, issuer: &str, subject: &str, user_id: i64) -> Result<bool, sqlx::Error> {
    let now = now();
    write_on_pool!(db, pool => sqlx::query(
        "INSERT INTO oidc_links (issuer, subject, user_id, created_at, last_login_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (issuer, subject) DO NOTHING",
    )
    .bind(issuer)
    .bind(subject)
    .bind(user_id)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await
    .map(|done| done.rows_affected() > 0))
}

/// Creates an account named `email` with `password_hash` (the no-password marker) and links
/// (issuer, subject) to it, in one transaction. `None` (nothing written) when an account
/// already has that login name.
pub async fn create_linked_account(
    db: &Db,
    email: &str,
    password_hash: &str,
    issuer: &str,
    subject: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let now = now();
    let mut tx = db.begin_write().await?;
    let user_id: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(email)
    .bind(password_hash)
    .bind(now)
    .bind(now)
    .fetch_optional(conn)
    .await)?;
    if let Some(user_id) = user_id {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO oidc_links (issuer, subject, user_id, created_at, last_login_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(issuer)
        .bind(subject)
        .bind(user_id)
        .bind(now)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ()))?;
    }
    tx.commit().await?;
    Ok(user_id)
}

pub async fn note_login(db: &Db, issuer: &str, subject: &str) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => sqlx::query(
        "UPDATE oidc_links SET last_login_at = $1 WHERE issuer = $2 AND subject = $3",
    )
    .bind(now())
    .bind(issuer)
    .bind(subject)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Claims the one picture import of a link: true for the one caller that flips it.
pub async fn claim_picture_import(
    db: &Db,
    issuer: &str,
    subject: &str,
) -> Result<bool, sqlx::Error> {
    on_pool!(db, pool => sqlx::query(
        "UPDATE oidc_links SET picture_imported_at = $1
         WHERE issuer = $2 AND subject = $3 AND picture_imported_at IS NULL",
    )
    .bind(now())
    .bind(issuer)
    .bind(subject)
    .execute(pool)
    .await
    .map(|done| done.rows_affected() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pending_login_is_taken_once_and_never_after_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("t.db")).await.unwrap();
        let pending = |expires_at| PendingLogin {
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            return_to: "/account".into(),
            expires_at,
        };
        save_login(&db, "live", &pending(now() + 600))
            .await
            .unwrap();
        save_login(&db, "old", &pending(now() - 1)).await.unwrap();
        assert_eq!(take_login(&db, "live").await.unwrap().unwrap().nonce, "n");
        assert!(take_login(&db, "live").await.unwrap().is_none());
        assert!(take_login(&db, "old").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_account_is_created_linked_and_its_picture_claimed_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(&dir.path().join("t.db")).await.unwrap();
        let id = create_linked_account(&db, "a@example.org", "!", "https://i", "s1")
            .await
            .unwrap()
            .unwrap();
        assert!(
            create_linked_account(&db, "a@example.org", "!", "https://i", "s2")
                .await
                .unwrap()
                .is_none()
        );
        assert!(link_of(&db, "https://i", "s2").await.unwrap().is_none());
        assert_eq!(
            link_of(&db, "https://i", "s1")
                .await
                .unwrap()
                .unwrap()
                .user_id,
            id
        );
        assert!(!link(&db, "https://i", "s1", id).await.unwrap());
        assert!(claim_picture_import(&db, "https://i", "s1").await.unwrap());
        assert!(!claim_picture_import(&db, "https://i", "s1").await.unwrap());
    }
}
