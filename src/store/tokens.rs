//! Single-use, expiring tokens: address confirmations, password resets, OpenID proofs.
//! Only SHA-256 hashes of mailed tokens are stored; using one marks it used atomically.

use super::{Db, now};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    ConfirmAddress,
    ResetPassword,
    OpenIdProof,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::ConfirmAddress => "confirm_address",
            Purpose::ResetPassword => "reset_password",
            Purpose::OpenIdProof => "openid_proof",
        }
    }
}

/// An address an account has asked for and not yet proven.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PendingClaim {
    pub address: String,
    pub purpose: String,
    pub proof: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub purpose: Purpose,
    pub user_id: i64,
    pub address: Option<&'a str>,
    pub proof: Option<&'a str>,
    pub lifetime_secs: i64,
}

/// Stores a token. A new claim for the same address by the same account replaces the old.
pub async fn insert(db: &Db, token: NewToken<'_>) -> Result<(), sqlx::Error> {
    let now = now();
    let mut tx = db.begin_write().await?;
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM tokens WHERE expires_at <= $1 OR used_at IS NOT NULL")
            .bind(now)
            .execute(&mut *conn)
            .await?;
        if let Some(address) = token.address {
            sqlx::query("DELETE FROM tokens WHERE user_id = $1 AND address = $2 AND purpose = $3")
                .bind(token.user_id)
                .bind(address)
                .bind(token.purpose.name())
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query(
            "INSERT INTO tokens (token_hash, purpose, user_id, address, proof, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.token_hash)
        .bind(token.purpose.name())
        .bind(token.user_id)
        .bind(token.address)
        .bind(token.proof)
        .bind(now)
        .bind(now + token.lifetime_secs)
        .execute(&mut *conn)
        .await?;
    });
    tx.commit().await
}

/// Uses a token once: marks it used and returns its account and address, or `None` if it is
/// unknown, expired, already used, or for another purpose.
pub async fn take(
    db: &Db,
    token_hash: &str,
    purpose: Purpose,
) -> Result<Option<(i64, Option<String>)>, sqlx::Error> {
    let now = now();
    on_pool!(db, pool => sqlx::query_as(
        "UPDATE tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3
           AND used_at IS NULL AND expires_at > $4
         RETURNING user_id, address",
    )
    .bind(now)
    .bind(token_hash)
    .bind(purpose.name())
    .bind(now)
    .fetch_optional(pool)
    .await)
}

/// The account of a live (unused, unexpired) token, without using it: cheap checks come
/// before expensive work.
pub async fn live_owner(
    db: &Db,
    token_hash: &str,
    purpose: Purpose,
) -> Result<Option<i64>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT user_id FROM tokens WHERE token_hash = $1 AND purpose = $2
           AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose.name())
    .bind(now())
    .fetch_optional(pool)
    .await)
}

/// The address a live token confirms, without using it: the confirm page names it.
pub async fn live_address(
    db: &Db,
    token_hash: &str,
    purpose: Purpose,
) -> Result<Option<String>, sqlx::Error> {
    let found: Option<Option<String>> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT address FROM tokens WHERE token_hash = $1 AND purpose = $2
           AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose.name())
    .bind(now())
    .fetch_optional(pool)
    .await)?;
    Ok(found.flatten())
}

/// When the newest live token of `purpose` for the account was made (its mail sent), if any.
pub async fn newest_live(
    db: &Db,
    user_id: i64,
    purpose: Purpose,
) -> Result<Option<i64>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar(
        "SELECT MAX(created_at) FROM tokens WHERE user_id = $1 AND purpose = $2
           AND used_at IS NULL AND expires_at > $3",
    )
    .bind(user_id)
    .bind(purpose.name())
    .bind(now())
    .fetch_one(pool)
    .await)
}

/// The account's live claims (confirmation mails sent, OpenID proofs awaited).
pub async fn pending_claims(db: &Db, user_id: i64) -> Result<Vec<PendingClaim>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT address, purpose, proof, created_at, expires_at FROM tokens
         WHERE user_id = $1 AND address IS NOT NULL AND used_at IS NULL AND expires_at > $2
         ORDER BY address",
    )
    .bind(user_id)
    .bind(now())
    .fetch_all(pool)
    .await)
}

/// The live OpenID proof value for this account's claim on `address`.
pub async fn openid_proof(
    db: &Db,
    user_id: i64,
    address: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT token_hash, proof FROM tokens WHERE user_id = $1 AND address = $2
           AND purpose = 'openid_proof' AND used_at IS NULL AND expires_at > $3",
    )
    .bind(user_id)
    .bind(address)
    .bind(now())
    .fetch_optional(pool)
    .await)
}

/// Withdraws a pending claim.
pub async fn cancel_claim(db: &Db, user_id: i64, address: &str) -> Result<bool, sqlx::Error> {
    on_pool!(db, pool => sqlx::query(
        "DELETE FROM tokens WHERE user_id = $1 AND address = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(address)
    .execute(pool)
    .await
    .map(|done| done.rows_affected() > 0))
}
