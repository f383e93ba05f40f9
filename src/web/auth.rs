//! Account security as plain functions: password hashing (argon2id), random tokens and
//! their stored hashes, constant-time comparison, and the login rate limiter.

use std::net::IpAddr;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest as _, Sha256};

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Argon2 hashes whatever it is given; an upper bound keeps a 10 MB "password" out.
pub const MAX_PASSWORD_BYTES: usize = 1024;

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

/// The token of a mailed link from its path: 64 hex digits, or "no such link".
pub fn link_token(path: actix_web::web::Path<String>) -> Result<String, crate::error::AppError> {
    let token = path.into_inner();
    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(token)
    } else {
        Err(crate::error::AppError::NotFound("no such link".into()))
    }
}

/// An argon2id PHC string (argon2's defaults: m=19 MiB, t=2, p=1, per OWASP's guidance).
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| format!("hashing a password: {e}"))
}

pub fn verify_password(stored: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// 256 random bits as 64 hex digits: session ids, CSRF tokens, mailed links.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source failing is not something a request can recover from.
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    hex::encode(bytes)
}

/// What is stored for a token: its SHA-256, so a leaked database holds no usable token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares without an early exit, so timing does not reveal how much of a token matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Counts failed logins per client address and per account within a window; a key with too
/// many failures is locked out until the window passes. Successful logins clear the account.
pub struct LoginLimiter {
    by_client: moka::sync::Cache<IpAddr, u32>,
    by_account: moka::sync::Cache<String, u32>,
    max_per_client: u32,
    max_per_account: u32,
    window: Duration,
}

impl LoginLimiter {
    pub fn new(max_per_client: u32, max_per_account: u32, window: Duration) -> LoginLimiter {
        LoginLimiter {
            by_client: failure_counter(window),
            by_account: failure_counter(window),
            max_per_client,
            max_per_account,
            window,
        }
    }

    /// `Err(minutes)` when this client or account is locked out.
    pub fn check(&self, client: IpAddr, account: &str) -> Result<(), u64> {
        let client_failures = self.by_client.get(&client).unwrap_or(0);
        let account_failures = self.by_account.get(account).unwrap_or(0);
        if client_failures >= self.max_per_client || account_failures >= self.max_per_account {
            return Err(self.window.as_secs().div_ceil(60));
        }
        Ok(())
    }

    pub fn record_failure(&self, client: IpAddr, account: &str) {
        // moka's TTL counts from insertion: each failure restarts the window, so a steady
        // trickle of guesses stays locked out.
        let client_failures = self.by_client.get(&client).unwrap_or(0) + 1;
        self.by_client.insert(client, client_failures);
        let account_failures = self.by_account.get(account).unwrap_or(0) + 1;
        self.by_account
            .insert(account.to_string(), account_failures);
    }

    pub fn record_success(&self, account: &str) {
        self.by_account.invalidate(account);
    }
}

fn failure_counter<K>(window: Duration) -> moka::sync::Cache<K, u32>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
{
    moka::sync::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(window)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterz"));
        assert!(!verify_password("not a hash", "anything"));
        assert_ne!(
            hash,
            hash_password("correct horse battery").unwrap(),
            "salted"
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
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }

    #[test]
    fn constant_time_comparison_is_equality() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }

    #[test]
    fn limiter_locks_out_an_account_and_a_client() {
        let limiter = LoginLimiter::new(4, 2, Duration::from_secs(600));
        let (one, two): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert!(limiter.check(one, "a@x").is_ok());
        limiter.record_failure(one, "a@x");
        limiter.record_failure(two, "a@x");
        assert_eq!(
            limiter.check(one, "a@x"),
            Err(10),
            "account locked whatever the client"
        );
        assert!(limiter.check(one, "b@x").is_ok());
        limiter.record_failure(one, "b@x");
        limiter.record_failure(one, "c@x");
        assert!(
            limiter.check(one, "d@x").is_ok(),
            "three failures from one client"
        );
        limiter.record_failure(one, "d@x");
        assert!(
            limiter.check(one, "d@x").is_err(),
            "client locked whatever the account"
        );
        assert!(limiter.check(two, "d@x").is_ok());
        limiter.record_success("a@x");
        assert!(limiter.check(two, "a@x").is_ok());
    }
}
