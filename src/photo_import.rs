//! Photos an account brings in from elsewhere (`/account/data`): from a web address it
//! names, or from the Gravatar upstream for one of its own confirmed email addresses.
//!
//! A web address is somebody else's choice of host, so it is fetched only through the
//! guarded client of [`crate::outbound`] (public addresses only, no redirects followed); the
//! Gravatar upstream is the operator's choice (`gravatar_upstream`) and goes through the
//! upstream client, asking `?d=404` so "no photo" is a 404 and not a default image. Either
//! way the body is capped at the upload limit, the request at the outbound timeout, and the
//! bytes then go through the same bounded intake as an upload. Who may ask how often is the
//! caller's ([`crate::web::data`]).
//!
//! Each way an import fails is an [`ImportRefusal`] with a sentence for the account holder
//! and an HTTP status; deciding them is pure and tested here.

use actix_web::http::StatusCode;
use bytes::Bytes;

use crate::identity::Digest;
use crate::imaging::IntakeError;
use crate::outbound::{Fetched, Outbound, OutboundError};

/// Longest web address accepted.
pub const MAX_URL_CHARS: usize = 2048;
/// The side asked of Gravatar (its largest), lowered to the server's `max_size` when smaller.
pub const GRAVATAR_SIDE: u32 = 2048;

/// Why a photo was not imported, in words for the account holder.
#[derive(Debug, thiserror::Error)]
pub enum ImportRefusal {
    #[error("Give the full web address of an image, starting with http:// or https://.")]
    BadUrl,
    #[error("The web address is longer than {MAX_URL_CHARS} characters.")]
    UrlTooLong,
    #[error("A web address with a user name or password in it is not fetched.")]
    UrlWithCredentials,
    #[error(
        "{0} is a private or local network address: Cameo fetches photos only from public servers."
    )]
    PrivateAddress(String),
    #[error(
        "The server did not answer in time; try again later, or download the image and upload it."
    )]
    Timeout,
    #[error("The server could not be reached: {0}.")]
    Unreachable(String),
    #[error("The file is larger than {0} bytes, the most this server accepts.")]
    TooLarge(usize),
    #[error("The address redirects elsewhere; give the address of the image itself.")]
    Redirected,
    #[error("The server answered with status {0}, not with an image.")]
    Status(u16),
    #[error("Gravatar has no photo for {0}.")]
    NoGravatarPhoto(String),
    #[error("The file is not a photo this server takes: {0}.")]
    Refused(IntakeError),
}

impl ImportRefusal {
    /// The status of the page that reports it.
    pub fn status(&self) -> StatusCode {
        match self {
            ImportRefusal::BadUrl
            | ImportRefusal::UrlTooLong
            | ImportRefusal::UrlWithCredentials
            | ImportRefusal::PrivateAddress(_) => StatusCode::BAD_REQUEST,
            ImportRefusal::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ImportRefusal::Unreachable(_)
            | ImportRefusal::Redirected
            | ImportRefusal::Status(_) => StatusCode::BAD_GATEWAY,
            ImportRefusal::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ImportRefusal::NoGravatarPhoto(_) => StatusCode::NOT_FOUND,
            ImportRefusal::Refused(IntakeError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            ImportRefusal::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn from_outbound(error: OutboundError) -> ImportRefusal {
        match error {
            OutboundError::BadUrl => ImportRefusal::BadUrl,
            OutboundError::PrivateAddress(address) => ImportRefusal::PrivateAddress(address),
            OutboundError::Timeout => ImportRefusal::Timeout,
            OutboundError::Connect(reason) => ImportRefusal::Unreachable(reason),
            OutboundError::TooLarge(limit) => ImportRefusal::TooLarge(limit),
        }
    }
}

/// Checks a typed web address before anything is counted or fetched: http(s), a host, no
/// credentials, bounded length. Whether its host is public is checked when it is fetched
/// (a name can resolve anywhere).
pub fn parse_import_url(typed: &str) -> Result<url::Url, ImportRefusal> {
    let typed = typed.trim();
    if typed.chars().count() > MAX_URL_CHARS {
        return Err(ImportRefusal::UrlTooLong);
    }
    let url = url::Url::parse(typed).map_err(|_| ImportRefusal::BadUrl)?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ImportRefusal::BadUrl);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ImportRefusal::UrlWithCredentials);
    }
    Ok(url)
}

/// The upstream URL of `digest`'s photo at `side` pixels, 404 when it has none.
pub fn gravatar_photo_url(upstream: &str, digest: &Digest, side: u32) -> String {
    format!(
        "{}/avatar/{digest}?d=404&s={side}",
        upstream.trim_end_matches('/')
    )
}

/// What a fetch answered, as image bytes or the refusal to show.
fn image_body(
    fetched: Fetched,
    missing: impl FnOnce() -> ImportRefusal,
) -> Result<Bytes, ImportRefusal> {
    match fetched.status {
        200 => Ok(fetched.body),
        300..=399 => Err(ImportRefusal::Redirected),
        404 => Err(missing()),
        status => Err(ImportRefusal::Status(status)),
    }
}

/// Fetches `url` with the guarded client: at most `max_bytes`, public addresses only.
pub async fn fetch_url(
    outbound: &Outbound,
    url: &url::Url,
    max_bytes: usize,
) -> Result<Bytes, ImportRefusal> {
    let fetched = outbound
        .get_guarded(url.as_str(), max_bytes)
        .await
        .map_err(ImportRefusal::from_outbound)?;
    image_body(fetched, || ImportRefusal::Status(404))
}

/// Fetches `digest`'s photo from the Gravatar upstream; `shown` names the address in the
/// refusal when there is none.
pub async fn fetch_gravatar(
    outbound: &Outbound,
    url: &str,
    max_bytes: usize,
    shown: &str,
) -> Result<Bytes, ImportRefusal> {
    let fetched = outbound
        .get_upstream(url, max_bytes)
        .await
        .map_err(ImportRefusal::from_outbound)?;
    image_body(fetched, || {
        ImportRefusal::NoGravatarPhoto(shown.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_full_http_addresses_without_credentials_are_taken() {
        assert!(parse_import_url(" https://example.org/me.png ").is_ok());
        assert!(parse_import_url("http://192.0.2.1:8080/a").is_ok());
        for typed in [
            "",
            "example.org/me.png",
            "ftp://example.org/a",
            "file:///etc/passwd",
            "javascript:alert(1)",
        ] {
            assert!(
                matches!(parse_import_url(typed), Err(ImportRefusal::BadUrl)),
                "{typed}"
            );
        }
        assert!(matches!(
            parse_import_url("https://user:pw@example.org/a.png"),
            Err(ImportRefusal::UrlWithCredentials)
        ));
        let long = format!("https://example.org/{}", "a".repeat(MAX_URL_CHARS));
        assert!(matches!(
            parse_import_url(&long),
            Err(ImportRefusal::UrlTooLong)
        ));
    }

    #[test]
    fn the_gravatar_url_asks_for_a_404_instead_of_a_default() {
        let digest = Digest::parse_hex("0bc83cb571cd1c50ba6f3e8a78ef1346").unwrap();
        assert_eq!(
            gravatar_photo_url("https://secure.gravatar.com/", &digest, 512),
            "https://secure.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?d=404&s=512"
        );
    }

    #[test]
    fn each_failure_has_its_status() {
        let fetched = |status| Fetched {
            status,
            content_type: None,
            body: Bytes::new(),
        };
        let missing = || ImportRefusal::NoGravatarPhoto("a@example.org".into());
        assert_eq!(
            image_body(fetched(404), missing).unwrap_err().status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            image_body(fetched(302), missing).unwrap_err().status(),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            image_body(fetched(500), missing).unwrap_err().status(),
            StatusCode::BAD_GATEWAY
        );
        assert!(image_body(fetched(200), missing).is_ok());
        let timeout = ImportRefusal::from_outbound(OutboundError::Timeout);
        assert_eq!(timeout.status(), StatusCode::GATEWAY_TIMEOUT);
        let private =
            ImportRefusal::from_outbound(OutboundError::PrivateAddress("127.0.0.1".into()));
        assert_eq!(private.status(), StatusCode::BAD_REQUEST);
        assert!(
            private
                .to_string()
                .contains("127.0.0.1 is a private or local network address")
        );
        assert_eq!(
            ImportRefusal::from_outbound(OutboundError::TooLarge(10)).status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            ImportRefusal::Refused(IntakeError::NotAnImage).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
