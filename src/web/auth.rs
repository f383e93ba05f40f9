//! Account security as plain functions: password rules and the rate limits of the account
//! pages (hashing, random tokens and comparisons live in [`crate::secrets`]).
//!
//! Every limit is a fixed window in the shared `throttles` table (so it holds across
//! processes and nodes), keyed by `client::limit_key_of` (an IPv6 client by its /64), and
//! counted *before* the work it guards: a burst of parallel requests cannot all pass the
//! check before any of them is counted. Hashing itself runs in `passwords::PasswordQueue`.

use crate::error::AppError;
pub use crate::secrets::{
    MAX_PASSWORD_BYTES, constant_time_eq, hash_password, random_token, token_hash, verify_password,
};
use crate::store::{Db, throttles};

pub const MIN_PASSWORD_CHARS: usize = 10;

/// Why a new password is refused, in words for the form.
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "Use at least {MIN_PASSWORD_CHARS} characters for your password."
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "Use at most {MAX_PASSWORD_BYTES} bytes for your password."
        ));
    }
    Ok(())
}

/// A new password and its repetition, checked together.
pub fn check_password_pair(password: &str, again: &str) -> Result<(), String> {
    check_new_password(password)?;
    if password != again {
        return Err("The two passwords differ.".into());
    }
    Ok(())
}

/// What an email-only form (sign-up, adding an address) says about what was typed, if it is
/// not an email address: never a word about OpenID, which such a form does not take.
pub fn email_problem(typed: &str) -> Option<String> {
    use crate::identity::{Identity, IdentityError};
    match Identity::parse(typed) {
        Ok(Identity::Email(_)) => None,
        Ok(Identity::OpenId(_) | Identity::Phone(_))
        | Err(IdentityError::Unrecognised(_) | IdentityError::OpenIdWithoutHost) => {
            Some("Enter an email address, like name@example.org.".into())
        }
        Err(IdentityError::Empty) => Some("Enter your email address.".into()),
        Err(error) => Some(format!("That email address does not work: {error}.")),
    }
}

/// Which password field a [`check_password_pair`] refusal belongs beside.
pub fn password_field_of(problem: &str) -> &'static str {
    if problem.contains("differ") {
        "password_again"
    } else {
        "password"
    }
}

/// The token of a mailed link from its path: 64 hex digits, or "no such link".
pub fn link_token(path: actix_web::web::Path<String>) -> Result<String, crate::error::AppError> {
    let token = path.into_inner();
    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(token)
    } else {
        Err(crate::error::AppError::NotFound("no such link".into()))
    }
}

/// A rate limit kept in the shared `throttles` table: at most `max` hits per `window_secs`
/// for one key in `scope`, counted before the work it guards.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub scope: &'static str,
    pub max: u32,
    pub window_secs: i64,
    /// The first sentence of the refusal; when to try again follows.
    pub refusal: &'static str,
}

const HOUR: i64 = 3600;
const QUARTER_HOUR: i64 = 900;

/// Sign-ups from one client key (an IPv4 address or an IPv6 /64).
pub const SIGNUPS_PER_CLIENT: Limit = Limit {
    scope: "signup",
    max: 5,
    window_secs: HOUR,
    refusal: "Too many sign-ups from your network.",
};
/// "Forgot my password" forms from one client key.
pub const FORGOTS_PER_CLIENT: Limit = Limit {
    scope: "forgot",
    max: 5,
    window_secs: HOUR,
    refusal: "Too many password-reset requests from your network.",
};
/// New passwords posted to reset links from one client key (counted before the link is
/// looked up, so guessing links is bounded too).
pub const RESETS_PER_CLIENT: Limit = Limit {
    scope: "reset",
    max: 10,
    window_secs: HOUR,
    refusal: "Too many password resets from your network.",
};
/// Log-in attempts from one client key, whatever the account.
pub const LOGINS_PER_CLIENT: Limit = Limit {
    scope: "login_client",
    max: 20,
    window_secs: QUARTER_HOUR,
    refusal: "Too many login attempts from your network.",
};
/// Log-in attempts for one account, whoever makes them.
pub const LOGINS_PER_ACCOUNT: Limit = Limit {
    scope: "login_account",
    max: 5,
    window_secs: QUARTER_HOUR,
    refusal: "Too many login attempts for this account.",
};
/// Passwords typed by a logged-in account to change its password or delete itself.
pub const REAUTHS_PER_ACCOUNT: Limit = Limit {
    scope: "reauth",
    max: 5,
    window_secs: QUARTER_HOUR,
    refusal: "Too many password attempts.",
};
/// Mails asked for from one client key (sign-ups, added addresses, reset links).
pub const MAILS_PER_CLIENT: Limit = Limit {
    scope: "mail_client",
    max: 10,
    window_secs: HOUR,
    refusal: "Too many mails were asked for from your network.",
};
/// Confirmation mails one account asks for.
pub const MAILS_PER_ACCOUNT: Limit = Limit {
    scope: "mail_account",
    max: 10,
    window_secs: HOUR,
    refusal: "Your account asked for too many mails.",
};
/// Mails to one address, whoever asks.
pub const MAILS_PER_RECIPIENT: Limit = Limit {
    scope: "mail_recipient",
    max: 3,
    window_secs: HOUR,
    refusal: "Too many mails went to this address lately.",
};
/// A link still pending is not mailed again until its mail is this old.
pub const MAIL_COOL_DOWN_SECS: i64 = 600;

/// When to try again, in words: "in 1 minute", "in 14 minutes", "in 2 hours".
pub fn wait_words(seconds: u64) -> String {
    let minutes = seconds.div_ceil(60).max(1);
    match minutes {
        1 => "in 1 minute".into(),
        2..=90 => format!("in {minutes} minutes"),
        _ => format!("in {} hours", minutes.div_ceil(60)),
    }
}

/// Counts one hit for `key` against `limit` and refuses (429, with when to try again) when
/// the key is over it. Returns the hit's verdict when allowed.
pub async fn take(pool: &Db, limit: Limit, key: &str) -> Result<throttles::Verdict, AppError> {
    let verdict = throttles::hit(pool, limit.scope, key, limit.max, limit.window_secs).await?;
    if verdict.allowed() {
        return Ok(verdict);
    }
    Err(AppError::Throttled {
        reason: format!(
            "{} Try again {}.",
            limit.refusal,
            wait_words(verdict.retry_after)
        ),
        retry_after: verdict.retry_after,
    })
}

/// Forgets `key`'s hits after a success, unless other hits were counted after `counted`
/// (the success's own verdict): a burst of guesses sent with the right password must not
/// get a fresh window from it.
pub async fn forget_if_alone(
    pool: &Db,
    limit: Limit,
    key: &str,
    counted: throttles::Verdict,
) -> Result<(), AppError> {
    let now = throttles::peek(pool, limit.scope, key, limit.max, limit.window_secs).await?;
    if now.is_some_and(|now| now.hits == counted.hits) {
        throttles::clear(pool, limit.scope, key).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_forms_never_mention_openid() {
        for typed in ["bob", "https://example.org/", "", "bob@", "a b@example.org"] {
            let problem = email_problem(typed).unwrap();
            assert!(!problem.contains("OpenID"), "{typed}: {problem}");
        }
        assert_eq!(email_problem("bob@example.org"), None);
        assert_eq!(
            password_field_of("The two passwords differ."),
            "password_again"
        );
    }

    #[test]
    fn new_passwords_are_bounded() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough pw").is_ok());
        assert!(check_new_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(!verify_password(
            "$argon2id$v=19$m=19456,t=2,p=1$x$y",
            &"x".repeat(5000)
        ));
    }

    #[test]
    fn waits_are_said_in_minutes_then_hours() {
        assert_eq!(wait_words(0), "in 1 minute");
        assert_eq!(wait_words(59), "in 1 minute");
        assert_eq!(wait_words(61), "in 2 minutes");
        assert_eq!(wait_words(900), "in 15 minutes");
        assert_eq!(wait_words(3600), "in 60 minutes");
        assert_eq!(wait_words(6 * 3600), "in 6 hours");
    }

    #[test]
    fn login_limits_are_five_per_account_and_twenty_per_client_in_fifteen_minutes() {
        assert_eq!(
            (LOGINS_PER_ACCOUNT.max, LOGINS_PER_ACCOUNT.window_secs),
            (5, 900)
        );
        assert_eq!(
            (LOGINS_PER_CLIENT.max, LOGINS_PER_CLIENT.window_secs),
            (20, 900)
        );
        assert_eq!(MAILS_PER_RECIPIENT.max, 3);
    }

    #[tokio::test]
    async fn a_success_forgets_the_attempts_only_when_none_came_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::store::open(&dir.path().join("t.db")).await.unwrap();
        let first = take(&pool, LOGINS_PER_ACCOUNT, "a@x").await.unwrap();
        take(&pool, LOGINS_PER_ACCOUNT, "a@x").await.unwrap();
        forget_if_alone(&pool, LOGINS_PER_ACCOUNT, "a@x", first)
            .await
            .unwrap();
        let third = take(&pool, LOGINS_PER_ACCOUNT, "a@x").await.unwrap();
        assert_eq!(third.hits, 3, "a later attempt keeps the window");
        forget_if_alone(&pool, LOGINS_PER_ACCOUNT, "a@x", third)
            .await
            .unwrap();
        assert_eq!(
            take(&pool, LOGINS_PER_ACCOUNT, "a@x").await.unwrap().hits,
            1
        );
    }

    #[tokio::test]
    async fn a_key_over_its_limit_is_refused_with_when_to_try_again() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::store::open(&dir.path().join("t.db")).await.unwrap();
        for _ in 0..SIGNUPS_PER_CLIENT.max {
            take(&pool, SIGNUPS_PER_CLIENT, "10.0.0.1").await.unwrap();
        }
        let refused = take(&pool, SIGNUPS_PER_CLIENT, "10.0.0.1")
            .await
            .unwrap_err();
        assert_eq!(refused.retry_after(), Some(3600));
        assert_eq!(
            refused.to_string(),
            "Too many sign-ups from your network. Try again in 60 minutes."
        );
        assert!(take(&pool, SIGNUPS_PER_CLIENT, "10.0.0.2").await.is_ok());
    }
}
