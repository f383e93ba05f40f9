//! ID tokens signed in-process with a key made for the tests, each breaking one rule.

use std::sync::OnceLock;

use chrono::{Duration, Utc};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, EmptyAdditionalClaims, EndUserEmail, EndUserPictureUrl, IssuerUrl, JsonWebKeyId,
    LocalizedClaim, Nonce, PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use rsa::pkcs1::EncodeRsaPrivateKey;

use super::*;

const ISSUER: &str = "https://id.example.org";
const CLIENT: &str = "cameo";
const NONCE: &str = "the-nonce-of-this-login";

/// The provider's key (and an impostor's under the same key id), made once per test run.
fn keys() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pem = || {
            rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
                .unwrap()
                .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
                .unwrap()
                .to_string()
        };
        (pem(), pem())
    })
}

fn signing_key(pem: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("k1".into()))).unwrap()
}

/// The provider's published keys.
fn published() -> CoreJsonWebKeySet {
    CoreJsonWebKeySet::new(vec![signing_key(&keys().0).as_verification_key()])
}

struct Claims {
    issuer: &'static str,
    audience: &'static str,
    expires_in: Duration,
    nonce: &'static str,
    email_verified: Option<bool>,
}

fn good() -> Claims {
    Claims {
        issuer: ISSUER,
        audience: CLIENT,
        expires_in: Duration::minutes(5),
        nonce: NONCE,
        email_verified: Some(true),
    }
}

fn signed(claims: Claims, pem: &str) -> CoreIdToken {
    let now = Utc::now();
    let mut picture = LocalizedClaim::new();
    picture.insert(
        None,
        EndUserPictureUrl::new("https://pics.example.org/a.png".into()),
    );
    let standard = StandardClaims::new(SubjectIdentifier::new("user-42".into()))
        .set_email(Some(EndUserEmail::new("Alice@Example.org".into())))
        .set_email_verified(claims.email_verified)
        .set_picture(Some(picture));
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(claims.issuer.into()).unwrap(),
        vec![Audience::new(claims.audience.into())],
        now + claims.expires_in,
        now - Duration::minutes(1),
        standard,
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(claims.nonce.into())));
    CoreIdToken::new(
        claims,
        &signing_key(pem),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .unwrap()
}

fn checked(claims: Claims) -> Result<ProviderIdentity, TokenRefusal> {
    checked_signed_by(claims, &keys().0)
}

fn checked_signed_by(claims: Claims, pem: &str) -> Result<ProviderIdentity, TokenRefusal> {
    let issuer = IssuerUrl::new(ISSUER.into()).unwrap();
    let verifier = verifier(CLIENT, "client-secret", &issuer, published());
    check(&signed(claims, pem), &verifier, NONCE)
}

#[test]
fn a_good_token_names_the_subject_its_verified_address_and_picture() {
    let identity = checked(good()).unwrap();
    assert_eq!(identity.issuer, ISSUER);
    assert_eq!(identity.subject, "user-42");
    assert_eq!(
        identity.verified_email().map(Identity::as_str),
        Some("alice@example.org")
    );
    assert_eq!(
        identity.picture.as_deref(),
        Some("https://pics.example.org/a.png")
    );
}

#[test]
fn a_token_from_another_issuer_is_refused() {
    let claims = Claims {
        issuer: "https://evil.example.net",
        ..good()
    };
    assert_eq!(checked(claims), Err(TokenRefusal::WrongIssuer));
}

#[test]
fn a_token_for_another_client_is_refused() {
    let claims = Claims {
        audience: "another-app",
        ..good()
    };
    assert_eq!(checked(claims), Err(TokenRefusal::WrongAudience));
}

#[test]
fn an_expired_token_is_refused() {
    let claims = Claims {
        expires_in: Duration::minutes(-10),
        ..good()
    };
    assert_eq!(checked(claims), Err(TokenRefusal::Expired));
}

#[test]
fn a_token_of_another_login_attempt_is_refused() {
    let claims = Claims {
        nonce: "someone-elses-nonce",
        ..good()
    };
    assert_eq!(checked(claims), Err(TokenRefusal::WrongNonce));
}

#[test]
fn a_token_signed_with_another_key_is_refused() {
    let impostor = &keys().1;
    assert_eq!(
        checked_signed_by(good(), impostor),
        Err(TokenRefusal::BadSignature)
    );
}

#[test]
fn an_unverified_or_unstated_email_is_not_vouched_for() {
    for email_verified in [Some(false), None] {
        let identity = checked(Claims {
            email_verified,
            ..good()
        })
        .unwrap();
        assert!(identity.email.is_some());
        assert_eq!(identity.verified_email(), None, "{email_verified:?}");
    }
}
