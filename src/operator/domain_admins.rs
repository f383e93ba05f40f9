//! What `cameo domain-admin add|remove|list` does: which accounts administer which domain
//! (they act on `/domains`, see [`crate::web::domains`]), straight on the database.

use super::OperatorError;
use super::tokens::account_id;
use crate::store::Db;
use crate::store::api_tokens::utc_text;
use crate::store::domains::{self, DomainAdmin, normalise_domain};

fn checked_domain(typed: &str) -> Result<String, OperatorError> {
    normalise_domain(typed)
        .ok_or_else(|| OperatorError::Name(format!("{:?} is not a domain", typed.trim())))
}

/// Lets the account `email` administer `domain`; returns the domain as stored.
pub async fn add(pool: &Db, domain: &str, email: &str) -> Result<String, OperatorError> {
    let domain = checked_domain(domain)?;
    let user_id = account_id(pool, email).await?;
    domains::grant(pool, &domain, user_id).await?;
    Ok(domain)
}

/// Takes `domain` away from the account `email`; `false` if it did not administer it.
pub async fn remove(pool: &Db, domain: &str, email: &str) -> Result<bool, OperatorError> {
    let domain = checked_domain(domain)?;
    let user_id = account_id(pool, email).await?;
    Ok(domains::revoke(pool, &domain, user_id).await?)
}

/// The listing as a table, one administrator a line, then a count.
pub fn table(rows: &[DomainAdmin]) -> String {
    let mut out = format!("{:<30} {:<30} {}\n", "DOMAIN", "ACCOUNT", "SINCE");
    for row in rows {
        out.push_str(&format!(
            "{:<30} {:<30} {}\n",
            row.domain,
            row.account,
            utc_text(row.granted_at)
        ));
    }
    out.push_str(&format!("{} administrator(s)", rows.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_each_administrator() {
        let row = DomainAdmin {
            domain: "corp.test".into(),
            account: "it@corp.test".into(),
            granted_at: 0,
        };
        let text = table(&[row]);
        assert!(text.lines().nth(1).unwrap().starts_with("corp.test"));
        assert!(text.ends_with("1 administrator(s)"));
        assert!(checked_domain("not a domain").is_err());
    }
}
