//! What an ID token proves, checked: its signature against the provider's published keys,
//! its issuer, its audience (this client), its expiry and its nonce (this login's) — by
//! `openidconnect`'s verifier — and then what Cameo reads from it ([`ProviderIdentity`]).
//!
//! Each way a token is refused is a [`TokenRefusal`] with a sentence for the person logging
//! in; the tests below sign tokens with a key made for them and break one rule each.

use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::{ClaimsVerificationError, ClientId, ClientSecret, IssuerUrl, Nonce};

use crate::identity::Identity;

/// Who the provider says logged in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderIdentity {
    pub issuer: String,
    pub subject: String,
    /// The `email` claim, normalised, when it is an email address.
    pub email: Option<Identity>,
    /// `email_verified = true`: the provider vouches that the person holds `email`.
    pub email_verified: bool,
    /// The `picture` claim (a URL), if any.
    pub picture: Option<String>,
}

impl ProviderIdentity {
    /// The address the provider vouches for, if it does.
    pub fn verified_email(&self) -> Option<&Identity> {
        self.email.as_ref().filter(|_| self.email_verified)
    }
}

/// Why an ID token was not believed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("The provider's answer was not signed with its published keys.")]
    BadSignature,
    #[error("The sign-in came from another provider than the one this server uses.")]
    WrongIssuer,
    #[error("The sign-in was meant for another application, not this server.")]
    WrongAudience,
    #[error("The sign-in has expired; try again.")]
    Expired,
    #[error("The sign-in does not belong to this login attempt; start again from the login page.")]
    WrongNonce,
    #[error("The provider's answer could not be checked: {0}")]
    Unusable(String),
}

/// The verifier for this client: RS256 (the verifier's default), issuer matched exactly.
pub fn verifier(
    client_id: &str,
    client_secret: &str,
    issuer: &IssuerUrl,
    keys: CoreJsonWebKeySet,
) -> CoreIdTokenVerifier<'static> {
    CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(client_id.to_string()),
        ClientSecret::new(client_secret.to_string()),
        issuer.clone(),
        keys,
    )
}

/// Checks `token` for this login (`nonce`) and reads who it names.
pub fn check(
    token: &CoreIdToken,
    verifier: &CoreIdTokenVerifier<'_>,
    nonce: &str,
) -> Result<ProviderIdentity, TokenRefusal> {
    let claims = token
        .claims(verifier, &Nonce::new(nonce.to_string()))
        .map_err(refusal_of)?;
    Ok(identity_of(claims))
}

fn refusal_of(error: ClaimsVerificationError) -> TokenRefusal {
    match error {
        ClaimsVerificationError::SignatureVerification(_) => TokenRefusal::BadSignature,
        ClaimsVerificationError::InvalidIssuer(_) => TokenRefusal::WrongIssuer,
        ClaimsVerificationError::InvalidAudience(_) => TokenRefusal::WrongAudience,
        ClaimsVerificationError::Expired(_) => TokenRefusal::Expired,
        ClaimsVerificationError::InvalidNonce(_) => TokenRefusal::WrongNonce,
        other => TokenRefusal::Unusable(other.to_string()),
    }
}

fn identity_of(claims: &CoreIdTokenClaims) -> ProviderIdentity {
    let email = claims
        .email()
        .and_then(|email| Identity::parse(email.as_str()).ok())
        .filter(|identity| matches!(identity, Identity::Email(_)));
    ProviderIdentity {
        issuer: claims.issuer().as_str().to_string(),
        subject: claims.subject().as_str().to_string(),
        email,
        email_verified: claims.email_verified() == Some(true),
        picture: claims
            .picture()
            .and_then(|picture| picture.get(None))
            .map(|url| url.as_str().to_string()),
    }
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
