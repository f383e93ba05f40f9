//! What `cameo token create|list|revoke` does: API tokens managed by the operator, for any
//! account, straight on the database (safe against a live server, like the rest of
//! [`crate::operator`]). The web page `/account/tokens` is the account holder's own way.

use crate::store::Db;

use super::OperatorError;
use crate::api::scopes::Scopes;
use crate::identity::Identity;
use crate::store::api_tokens::{self, TokenListing, TokenRow, utc_text};
use crate::store::users;

/// The id of the account whose login is `email`, or why there is none.
pub(super) async fn account_id(pool: &Db, email: &str) -> Result<i64, OperatorError> {
    let unknown = || OperatorError::UnknownAccount(email.trim().to_string());
    let identity = Identity::parse(email).map_err(|_| unknown())?;
    let Identity::Email(normalised) = identity else {
        return Err(unknown());
    };
    users::by_email(pool, &normalised)
        .await?
        .map(|user| user.id)
        .ok_or_else(unknown)
}

/// Makes a token named `name` that may do `scopes` for the account `email`: its row and
/// the plaintext.
pub async fn create(
    pool: &Db,
    email: &str,
    name: &str,
    scopes: Scopes,
) -> Result<(TokenRow, String), OperatorError> {
    let user_id = account_id(pool, email).await?;
    Ok(api_tokens::create(pool, user_id, name, scopes).await?)
}

/// Every token (revoked ones too), or only the account `email`'s.
pub async fn list(pool: &Db, email: Option<&str>) -> Result<Vec<TokenListing>, OperatorError> {
    let user_id = match email {
        Some(email) => Some(account_id(pool, email).await?),
        None => None,
    };
    Ok(api_tokens::list_all(pool, user_id).await?)
}

/// Revokes any account's live token `id`; `false` if there is no such live token.
pub async fn revoke(pool: &Db, id: i64) -> Result<bool, OperatorError> {
    Ok(api_tokens::revoke(pool, id, None).await?)
}

/// The listing as a table, one token a line, then a count.
pub fn table(rows: &[TokenListing]) -> String {
    let mut out = format!(
        "{:>5}  {:<30} {:<24} {:<13} {:<26} {:<21} {:<21} {}\n",
        "ID", "ACCOUNT", "NAME", "PREFIX", "SCOPES", "CREATED", "LAST USED", "STATE"
    );
    for row in rows {
        let state = match row.revoked_at {
            Some(at) => format!("revoked {}", utc_text(at)),
            None => "live".to_string(),
        };
        out.push_str(&format!(
            "{:>5}  {:<30} {:<24} {:<13} {:<26} {:<21} {:<21} {state}\n",
            row.id,
            row.account,
            row.name,
            format!("{}…", row.prefix),
            row.scopes,
            utc_text(row.created_at),
            row.last_used_at
                .map_or_else(|| "never".to_string(), utc_text),
        ));
    }
    out.push_str(&format!("{} token(s)", rows.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_state_and_never_used_tokens() {
        let row = |id, revoked_at| TokenListing {
            id,
            account: "ada@example.org".into(),
            name: "ci".into(),
            prefix: "cameo_0a1b2c".into(),
            scopes: "lookup avatars:write".into(),
            created_at: 0,
            last_used_at: None,
            revoked_at,
        };
        let text = table(&[row(1, None), row(2, Some(1_700_000_000))]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].contains("LAST USED"));
        assert!(lines[1].contains("cameo_0a1b2c…") && lines[1].ends_with("live"));
        assert!(lines[1].contains("lookup avatars:write"), "{}", lines[1]);
        assert!(lines[1].contains("1970-01-01 00:00 UTC") && lines[1].contains("never"));
        assert!(
            lines[2].ends_with("revoked 2023-11-14 22:13 UTC"),
            "{}",
            lines[2]
        );
        assert_eq!(lines[3], "2 token(s)");
    }

    #[tokio::test]
    async fn an_unknown_account_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::store::open(&dir.path().join("cameo.db"))
            .await
            .unwrap();
        for email in ["nobody@example.org", "not an address"] {
            let error = create(&pool, email, "ci", Scopes::DEFAULT)
                .await
                .unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("no account is registered as {email}")
            );
        }
        assert!(list(&pool, Some("nobody@example.org")).await.is_err());
        assert!(list(&pool, None).await.unwrap().is_empty());
    }
}
