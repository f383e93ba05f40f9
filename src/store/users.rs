//! Accounts and their sessions.

use super::{Db, Tx, now};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
}

/// The account behind a live session, with that session's CSRF token.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionUser {
    pub user_id: i64,
    pub email: String,
    pub csrf_token: String,
}

/// Creates an account; `None` if the email is already taken.
pub async fn create(db: &Db, email: &str, password_hash: &str) -> Result<Option<i64>, sqlx::Error> {
    let now = now();
    on_pool!(db, pool => sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(email)
    .bind(password_hash)
    .bind(now)
    .bind(now)
    .fetch_optional(pool)
    .await)
}

pub async fn by_email(db: &Db, email: &str) -> Result<Option<User>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as("SELECT id, email, password_hash FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(pool)
        .await)
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as("SELECT id, email, password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// Sets a new password, ends every session of the account except `keep` (if any), and
/// voids every reset link of the account: a link mailed before the change must not undo it.
pub async fn set_password(
    db: &Db,
    user_id: i64,
    password_hash: &str,
    keep_session: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    replace_password(&mut tx, user_id, password_hash, keep_session).await?;
    tx.commit().await
}

/// Uses the reset link whose token hashes to `token_hash` and sets the new password in one
/// transaction: `None` (and nothing changed) if the link is unknown, used or expired. Every
/// session and every other reset link of the account ends with it.
pub async fn reset_password(
    db: &Db,
    token_hash: &str,
    password_hash: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let now = now();
    let mut tx = db.begin_write().await?;
    let user_id: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "UPDATE tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = 'reset_password'
           AND used_at IS NULL AND expires_at > $3
         RETURNING user_id",
    )
    .bind(now)
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await)?;
    if let Some(user_id) = user_id {
        replace_password(&mut tx, user_id, password_hash, None).await?;
    }
    tx.commit().await?;
    Ok(user_id)
}

async fn replace_password(
    tx: &mut Tx,
    user_id: i64,
    password_hash: &str,
    keep_session: Option<&str>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now())
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        // `IS DISTINCT FROM`: a NULL `keep_session` keeps none (SQLite has it since 3.39).
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2")
            .bind(user_id)
            .bind(keep_session)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM tokens WHERE user_id = $1 AND purpose = 'reset_password'")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Deletes the account and, by cascade, its sessions, tokens, addresses and photos.
pub async fn delete(db: &Db, user_id: i64) -> Result<(), sqlx::Error> {
    write_on_pool!(db, pool => sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user_id)
        .execute(pool)
        .await
        .map(|_| ()))
}

pub async fn create_session(
    db: &Db,
    token_hash: &str,
    user_id: i64,
    csrf_token: &str,
    lifetime_secs: i64,
) -> Result<(), sqlx::Error> {
    let now = now();
    // Expired sessions are swept here, at the one place sessions are made, and with them
    // rate-limit windows long over (a week: no limit counts over a longer window).
    on_pool!(db, pool => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
    super::throttles::purge(db, 7 * 86_400).await?;
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(now)
    .bind(now + lifetime_secs)
    .execute(pool)
    .await
    .map(|_| ()))
}

pub async fn session_user(db: &Db, token_hash: &str) -> Result<Option<SessionUser>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT s.user_id, u.email, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now())
    .fetch_optional(pool)
    .await)
}

pub async fn delete_session(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await
        .map(|_| ()))
}
