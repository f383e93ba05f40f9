//! API tokens: made for an account, shown to its owner once, stored only as a SHA-256 of the
//! token (so a leaked database holds no usable token), revocable by the owner or operator.
//!
//! A token is `cameo_` followed by 256 random bits in hex; its first characters (`prefix`)
//! are kept in clear so the owner can tell tokens apart. [`authenticate`] is what the API
//! gate calls on every request: one indexed lookup by hash, whatever the token, and a write
//! of `last_used_at` at most once a minute, so a busy token does not cost a write per request.

use serde::Serialize;

use super::{Db, now};
use crate::api::scopes::Scopes;
use crate::error::AppError;
use crate::secrets::{random_token, token_hash};

/// What every token starts with, so a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "cameo_";
/// Characters of a token kept in clear: `cameo_` and six hex digits.
const SHOWN_PREFIX_CHARS: usize = TOKEN_PREFIX.len() + 6;
pub const MAX_NAME_CHARS: usize = 64;
/// Live (not revoked) tokens an account may hold at once.
pub const MAX_LIVE_TOKENS: i64 = 20;
/// `last_used_at` is only rewritten when it is at least this old.
const LAST_USED_RESOLUTION_SECS: i64 = 60;
/// How long a revoked token's row is kept for the operator's listing.
const REVOKED_KEPT_SECS: i64 = 30 * 86_400;

/// A live token, as the API gate needs it.
#[derive(Clone, Debug)]
pub struct AuthenticatedToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub scopes: Scopes,
}

/// A token as its owner sees it (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    /// Space-separated scope names ([`Scopes::to_text`]).
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A token with its owner's address, for the operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TokenListing {
    pub id: i64,
    pub account: String,
    pub name: String,
    pub prefix: String,
    /// Space-separated scope names ([`Scopes::to_text`]).
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// The name to store for a token: trimmed, 1 to 64 characters, no control characters.
pub fn check_name(name: &str) -> Result<String, AppError> {
    let invalid = |reason: String| AppError::Invalid("invalid_token_name", reason);
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err(invalid(
            "Give the token a name, e.g. the app that uses it.".into(),
        ));
    }
    if chars > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "The token name is too long: {chars} characters, at most {MAX_NAME_CHARS}."
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(
            "The token name cannot contain line breaks or control characters.".into(),
        ));
    }
    Ok(name.to_string())
}

/// Makes a token for `user_id` named `name` that may do `scopes`: its row and the plaintext,
/// which exists only in the return value. Refused (400, with a reason) for a bad name, no
/// scope, or a 21st live token.
pub async fn create(
    db: &Db,
    user_id: i64,
    name: &str,
    scopes: Scopes,
) -> Result<(TokenRow, String), AppError> {
    let name = check_name(name)?;
    if scopes.is_empty() {
        return Err(AppError::Invalid(
            "invalid_scope",
            "Choose at least one thing the token may do.".into(),
        ));
    }
    let plaintext = format!("{TOKEN_PREFIX}{}", random_token());
    let now = now();
    // One write transaction: two concurrent creations cannot both pass the count.
    let mut tx = db.begin_write().await?;
    let row: Option<TokenRow> = on_tx!(tx, conn => {
        sqlx::query("DELETE FROM api_tokens WHERE revoked_at <= $1")
            .bind(now - REVOKED_KEPT_SECS)
            .execute(&mut *conn)
            .await?;
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await?;
        if live >= MAX_LIVE_TOKENS {
            None
        } else {
            Some(
                sqlx::query_as(
                    "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, scopes)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     RETURNING id, user_id, name, prefix, scopes, created_at, last_used_at,
                               revoked_at",
                )
                .bind(user_id)
                .bind(&name)
                .bind(token_hash(&plaintext))
                .bind(&plaintext[..SHOWN_PREFIX_CHARS])
                .bind(now)
                .bind(scopes.to_text())
                .fetch_one(&mut *conn)
                .await?,
            )
        }
    });
    let Some(row) = row else {
        return Err(AppError::Invalid(
            "too_many_tokens",
            format!("An account can have at most {MAX_LIVE_TOKENS} tokens; revoke one first."),
        ));
    };
    tx.commit().await?;
    Ok((row, plaintext))
}

/// The account's live tokens, newest first.
pub async fn list_for_user(db: &Db, user_id: i64) -> Result<Vec<TokenRow>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT id, user_id, name, prefix, scopes, created_at, last_used_at, revoked_at
         FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL
         ORDER BY created_at DESC, id DESC",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)
}

/// Every token, revoked ones included, with its owner; only `user_id`'s when given.
pub async fn list_all(db: &Db, user_id: Option<i64>) -> Result<Vec<TokenListing>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT t.id, u.email AS account, t.name, t.prefix, t.scopes, t.created_at,
                t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE $1 IS NULL OR t.user_id = $1
         ORDER BY u.email, t.id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)
}

/// Revokes live token `id`: only if `owner` holds it, or any token when `owner` is `None`
/// (the operator). `false` when there is no such live token (for this owner).
pub async fn revoke(db: &Db, id: i64, owner: Option<i64>) -> Result<bool, sqlx::Error> {
    on_pool!(db, pool => sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1
         WHERE id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR user_id = $3)",
    )
    .bind(now())
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await
    .map(|done| done.rows_affected() > 0))
}

/// The live (not revoked) token whose plaintext is `token`, if any; records its use.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<AuthenticatedToken>, sqlx::Error> {
    authenticate_at(db, token, now()).await
}

async fn authenticate_at(
    db: &Db,
    token: &str,
    now: i64,
) -> Result<Option<AuthenticatedToken>, sqlx::Error> {
    // Looked up by hash: the time taken says nothing about how close a guess was.
    let found: Option<(i64, i64, String, String, Option<i64>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, user_id, name, scopes, last_used_at FROM api_tokens
         WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash(token))
    .fetch_optional(pool)
    .await)?;
    let Some((id, user_id, name, scopes, last_used_at)) = found else {
        return Ok(None);
    };
    if use_is_worth_recording(last_used_at, now) {
        // Conditional, so concurrent requests of one token write once. Bookkeeping only: a
        // failed write (a busy database) must not refuse a valid token.
        let recorded = on_pool!(db, pool => sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $1 - $3)",
        )
        .bind(now)
        .bind(id)
        .bind(LAST_USED_RESOLUTION_SECS)
        .execute(pool)
        .await
        .map(|_| ()));
        if let Err(error) = recorded {
            tracing::warn!(token_id = id, %error, "could not record an API token's use");
        }
    }
    Ok(Some(AuthenticatedToken {
        id,
        user_id,
        name,
        scopes: Scopes::from_stored(&scopes),
    }))
}

/// Whether a use at `now` should rewrite `last_used_at`: never used, or not in the last minute.
pub fn use_is_worth_recording(last_used_at: Option<i64>, now: i64) -> bool {
    last_used_at.is_none_or(|at| now - at >= LAST_USED_RESOLUTION_SECS)
}

/// `unix` as `YYYY-MM-DD HH:MM UTC`, for people.
pub fn utc_text(unix: i64) -> String {
    let (year, month, day, secs) = civil_date(unix);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// `unix` as RFC 3339 in UTC (`YYYY-MM-DDTHH:MM:SSZ`), for machines.
pub fn rfc3339_utc(unix: i64) -> String {
    let (year, month, day, secs) = civil_date(unix);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Year, month, day and seconds into the day of `unix` (Howard Hinnant's
/// `civil_from_days`).
fn civil_date(unix: i64) -> (i64, i64, i64, i64) {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        pool: Db,
        _dir: tempfile::TempDir,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::store::open(&dir.path().join("cameo.db"))
            .await
            .unwrap();
        Fixture { pool, _dir: dir }
    }

    async fn account(db: &Db, email: &str) -> i64 {
        crate::store::users::create(db, email, "not a real hash")
            .await
            .unwrap()
            .unwrap()
    }

    async fn stored_last_used(db: &Db, id: i64) -> Option<i64> {
        on_pool!(db, pool => sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await)
        .unwrap()
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  my app ").unwrap(), "my app");
        assert_eq!(check_name(&"é".repeat(64)).unwrap().chars().count(), 64);
        for bad in ["", "   ", "two\nlines", "tab\there", &"x".repeat(65)] {
            let error = check_name(bad).unwrap_err();
            assert_eq!(error.code(), "invalid_token_name", "{bad:?}");
        }
    }

    #[test]
    fn a_use_is_recorded_at_most_once_a_minute() {
        assert!(use_is_worth_recording(None, 1000));
        assert!(!use_is_worth_recording(Some(1000), 1000));
        assert!(!use_is_worth_recording(Some(1000), 1059));
        assert!(use_is_worth_recording(Some(1000), 1060));
    }

    #[test]
    fn times_are_shown_as_utc_dates() {
        assert_eq!(utc_text(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_text(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(utc_text(-86_400), "1969-12-31 00:00 UTC");
    }

    #[tokio::test]
    async fn a_created_token_is_shown_once_and_stored_only_hashed() {
        let f = fixture().await;
        let user = account(&f.pool, "ada@example.org").await;
        let (row, plaintext) = create(&f.pool, user, " ci ", Scopes::DEFAULT)
            .await
            .unwrap();
        assert!(plaintext.starts_with("cameo_"), "{plaintext}");
        assert_eq!(plaintext.len(), 6 + 64);
        assert_eq!((row.name.as_str(), row.user_id), ("ci", user));
        assert_eq!(row.prefix, plaintext[..12]);
        let stored: String = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
            .fetch_one(f.pool.sqlite().unwrap())
            .await
            .unwrap();
        assert_eq!(stored, token_hash(&plaintext));
        assert_eq!(list_for_user(&f.pool, user).await.unwrap(), vec![row]);
    }

    #[tokio::test]
    async fn a_live_token_authenticates_and_a_revoked_or_unknown_one_does_not() {
        let f = fixture().await;
        let user = account(&f.pool, "ada@example.org").await;
        let (row, plaintext) = create(&f.pool, user, "ci", Scopes::DEFAULT).await.unwrap();
        let found = authenticate(&f.pool, &plaintext).await.unwrap().unwrap();
        assert_eq!((found.id, found.user_id), (row.id, user));
        assert!(authenticate(&f.pool, "cameo_nope").await.unwrap().is_none());
        assert!(authenticate(&f.pool, &row.prefix).await.unwrap().is_none());
        assert!(revoke(&f.pool, row.id, Some(user)).await.unwrap());
        assert!(authenticate(&f.pool, &plaintext).await.unwrap().is_none());
        assert!(list_for_user(&f.pool, user).await.unwrap().is_empty());
        assert!(
            !revoke(&f.pool, row.id, None).await.unwrap(),
            "already revoked"
        );
    }

    #[tokio::test]
    async fn only_the_owner_or_the_operator_can_revoke() {
        let f = fixture().await;
        let ada = account(&f.pool, "ada@example.org").await;
        let bob = account(&f.pool, "bob@example.org").await;
        let (row, plaintext) = create(&f.pool, ada, "ci", Scopes::DEFAULT).await.unwrap();
        assert!(!revoke(&f.pool, row.id, Some(bob)).await.unwrap());
        assert!(authenticate(&f.pool, &plaintext).await.unwrap().is_some());
        assert!(revoke(&f.pool, row.id, None).await.unwrap());
        assert!(authenticate(&f.pool, &plaintext).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_account_holds_at_most_twenty_live_tokens() {
        let f = fixture().await;
        let user = account(&f.pool, "ada@example.org").await;
        let mut first = None;
        for n in 0..MAX_LIVE_TOKENS {
            let (row, _) = create(&f.pool, user, &format!("t{n}"), Scopes::DEFAULT)
                .await
                .unwrap();
            first.get_or_insert(row.id);
        }
        let error = create(&f.pool, user, "one more", Scopes::DEFAULT)
            .await
            .unwrap_err();
        assert_eq!(error.code(), "too_many_tokens");
        let other = account(&f.pool, "bob@example.org").await;
        assert!(
            create(&f.pool, other, "own quota", Scopes::DEFAULT)
                .await
                .is_ok()
        );
        revoke(&f.pool, first.unwrap(), Some(user)).await.unwrap();
        assert!(
            create(&f.pool, user, "one more", Scopes::DEFAULT)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn last_used_is_written_at_most_once_a_minute() {
        let f = fixture().await;
        let user = account(&f.pool, "ada@example.org").await;
        let (row, plaintext) = create(&f.pool, user, "ci", Scopes::DEFAULT).await.unwrap();
        assert_eq!(stored_last_used(&f.pool, row.id).await, None);
        authenticate_at(&f.pool, &plaintext, 1000).await.unwrap();
        authenticate_at(&f.pool, &plaintext, 1059).await.unwrap();
        assert_eq!(stored_last_used(&f.pool, row.id).await, Some(1000));
        authenticate_at(&f.pool, &plaintext, 1060).await.unwrap();
        assert_eq!(stored_last_used(&f.pool, row.id).await, Some(1060));
    }

    #[tokio::test]
    async fn the_operator_lists_every_token_with_its_account() {
        let f = fixture().await;
        let ada = account(&f.pool, "ada@example.org").await;
        let bob = account(&f.pool, "bob@example.org").await;
        let (revoked, _) = create(&f.pool, ada, "old", Scopes::DEFAULT).await.unwrap();
        create(&f.pool, bob, "bots", Scopes::DEFAULT).await.unwrap();
        revoke(&f.pool, revoked.id, None).await.unwrap();
        let all = list_all(&f.pool, None).await.unwrap();
        let summary: Vec<(&str, &str, bool)> = all
            .iter()
            .map(|t| (t.account.as_str(), t.name.as_str(), t.revoked_at.is_some()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("ada@example.org", "old", true),
                ("bob@example.org", "bots", false)
            ]
        );
        let bobs = list_all(&f.pool, Some(bob)).await.unwrap();
        assert_eq!(bobs.len(), 1);
        assert_eq!(bobs[0].account, "bob@example.org");
    }

    #[tokio::test]
    async fn deleting_an_account_deletes_its_tokens() {
        let f = fixture().await;
        let user = account(&f.pool, "ada@example.org").await;
        let (_, plaintext) = create(&f.pool, user, "ci", Scopes::DEFAULT).await.unwrap();
        crate::store::users::delete(&f.pool, user).await.unwrap();
        assert!(authenticate(&f.pool, &plaintext).await.unwrap().is_none());
        assert!(list_all(&f.pool, None).await.unwrap().is_empty());
    }
}
