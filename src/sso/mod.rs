//! Single sign-on through one OpenID provider (`[oidc]`): the authorization code flow with
//! PKCE, `state` and `nonce`, on the `openidconnect` crate.
//!
//! - this file: [`Sso`], the provider as configured — discovery (cached; looked up again
//!   when a token's signature fails, for keys rotated since), the address the
//!   browser is sent to ([`Sso::begin`]), and the code exchanged for a checked ID token
//!   ([`Sso::finish`]); plus [`local_return_path`], the only places a login may land.
//! - [`http`]: the HTTP client handed to the crate (Cameo's, with timeouts and body caps).
//! - [`token`]: what an ID token proves, and why one is refused.
//! - [`account`]: which Cameo account the person is, and what happens to the address.
//!
//! The pending login (`state`, `nonce`, PKCE verifier) is kept server-side
//! (`store::oidc`), taken once, for [`LOGIN_LIFETIME_SECS`]; the handlers are in
//! `web::sso`.

pub mod account;
pub mod http;
pub mod token;

use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};

use crate::config::OidcSettings;
use http::ProviderHttp;
use token::{ProviderIdentity, TokenRefusal};

/// How long a login may stay at the provider before its callback is refused.
pub const LOGIN_LIFETIME_SECS: i64 = 600;
/// The callback path; `base_url` + this is the redirect URI registered at the provider.
pub const CALLBACK_PATH: &str = "/login/sso/callback";
/// How long discovered metadata and keys are used before they are fetched again (so a key
/// the provider rotated in is picked up).
const METADATA_LIFETIME: Duration = Duration::from_secs(900);

/// A client built from discovery: authorization endpoint set, token and userinfo endpoints
/// as the provider published them.
type ProviderClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why single sign-on did not sign anyone in.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The provider could not be reached or answered nonsense (502). The cause is for the
    /// log, not for the page.
    #[error(
        "The sign-in provider could not be reached, or its answer did not work. Try again later."
    )]
    Provider(String),
    /// The provider's ID token was not believed (403).
    #[error(transparent)]
    Token(#[from] TokenRefusal),
}

/// The browser's way to the provider, and what its callback needs.
pub struct Begun {
    pub authorize_url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

pub struct Sso {
    settings: OidcSettings,
    redirect_uri: RedirectUrl,
    http: ProviderHttp,
    discovered: tokio::sync::Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

impl Sso {
    pub fn new(settings: &OidcSettings, base_url: &str) -> Result<Sso, String> {
        let redirect_uri = RedirectUrl::new(format!("{base_url}{CALLBACK_PATH}"))
            .map_err(|e| format!("redirect URI: {e}"))?;
        Ok(Sso {
            settings: settings.clone(),
            redirect_uri,
            http: ProviderHttp::new(settings.timeout)?,
            discovered: tokio::sync::Mutex::new(None),
        })
    }

    /// The provider's name on the login page.
    pub fn display_name(&self) -> &str {
        &self.settings.display_name
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// The provider's metadata and keys, discovered at most every [`METADATA_LIFETIME`]
    /// unless `fresh` asks for them now.
    async fn metadata(&self, fresh: bool) -> Result<CoreProviderMetadata, SsoError> {
        let mut cached = self.discovered.lock().await;
        if let Some((metadata, at)) = cached.as_ref()
            && at.elapsed() < METADATA_LIFETIME
            && !fresh
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| SsoError::Provider(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| SsoError::Provider(format!("discovery: {e}")))?;
        *cached = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    /// The client for the current metadata, and the metadata (its issuer and keys).
    async fn client(&self) -> Result<(ProviderClient, CoreProviderMetadata), SsoError> {
        let metadata = self.metadata(false).await?;
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(
                self.settings.client_secret.expose().to_string(),
            )),
        )
        .set_redirect_uri(self.redirect_uri.clone());
        Ok((client, metadata))
    }

    /// A fresh login: the provider's authorization URL with this login's `state`, `nonce`
    /// and PKCE challenge (S256).
    pub async fn begin(&self) -> Result<Begun, SsoError> {
        let (client, _) = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(Begun {
            authorize_url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the callback's `code` (with the login's PKCE verifier) for tokens, and
    /// checks the ID token against the login's `nonce`.
    pub async fn finish(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<ProviderIdentity, SsoError> {
        let (client, metadata) = self.client().await?;
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| SsoError::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| SsoError::Provider(format!("token exchange: {e}")))?;
        let id_token = openidconnect::TokenResponse::id_token(&answer)
            .ok_or_else(|| SsoError::Provider("no ID token in the answer".into()))?;
        match self.check(id_token, &metadata, nonce) {
            // The provider may have rotated its keys since they were cached: look once more.
            Err(TokenRefusal::BadSignature) => {
                let fresh = self.metadata(true).await?;
                Ok(self.check(id_token, &fresh, nonce)?)
            }
            checked => Ok(checked?),
        }
    }

    fn check(
        &self,
        id_token: &CoreIdToken,
        metadata: &CoreProviderMetadata,
        nonce: &str,
    ) -> Result<ProviderIdentity, TokenRefusal> {
        let verifier = token::verifier(
            &self.settings.client_id,
            self.settings.client_secret.expose(),
            metadata.issuer(),
            metadata.jwks().clone(),
        );
        token::check(id_token, &verifier, nonce)
    }
}

/// Where a login may land: a path on this site (`/…`, not `//host` nor `/\host`, which
/// browsers read as another site), at most 512 bytes, no control characters; else
/// `/account`.
pub fn local_return_path(asked: &str) -> String {
    let local = asked.starts_with('/')
        && !asked.starts_with("//")
        && !asked.starts_with("/\\")
        && asked.len() <= 512
        && !asked.chars().any(|c| c.is_control() || c.is_whitespace());
    if local {
        asked.to_string()
    } else {
        "/account".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_landed_on() {
        assert_eq!(local_return_path("/account/data"), "/account/data");
        assert_eq!(local_return_path("/account?done=x"), "/account?done=x");
        for elsewhere in [
            "https://evil.example",
            "//evil.example/x",
            "/\\evil.example",
            "",
            "account",
            "/a b",
            "/a\tb",
            "javascript:alert(1)",
        ] {
            assert_eq!(local_return_path(elsewhere), "/account", "{elsewhere}");
        }
        assert_eq!(
            local_return_path(&format!("/{}", "a".repeat(600))),
            "/account"
        );
    }
}
