//! Identities and their digests: the "Identity and hashes" rules of PROTOCOL.md.
//!
//! An avatar is addressed by the MD5 or SHA-256 of a normalised email address, by the
//! SHA-256 of a normalised OpenID URL, or by the SHA-256 of a phone number in E.164
//! (normalised in [`crate::phone`]). This module owns the normalisation rules, the
//! [`Digest`] type that the hot path parses from a URL, and the list of digests under which a
//! confirmed address must be findable.

use std::fmt;

use md5::Md5;
use sha2::{Digest as _, Sha256};

/// Longest identity we accept (RFC 5321 caps a path at 256 octets; OpenID URLs get the same room).
pub const MAX_IDENTITY_LEN: usize = 512;

/// A hash from an avatar URL: 16 bytes (MD5) or 32 bytes (SHA-256).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Digest {
    Md5([u8; 16]),
    Sha256([u8; 32]),
}

impl Digest {
    /// Parses 32 or 64 hex digits in any case.
    pub fn parse_hex(text: &str) -> Result<Digest, DigestError> {
        match text.len() {
            32 => {
                let mut bytes = [0u8; 16];
                hex::decode_to_slice(text, &mut bytes).map_err(|_| DigestError::NotHex)?;
                Ok(Digest::Md5(bytes))
            }
            64 => {
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(text, &mut bytes).map_err(|_| DigestError::NotHex)?;
                Ok(Digest::Sha256(bytes))
            }
            other => Err(DigestError::WrongLength(other)),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Digest::Md5(bytes) => bytes,
            Digest::Sha256(bytes) => bytes,
        }
    }

    pub fn is_md5(&self) -> bool {
        matches!(self, Digest::Md5(_))
    }

    /// Lowercase hex, the form used in URLs and in the database.
    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }

    pub fn md5_of(text: &str) -> Digest {
        Digest::Md5(Md5::digest(text.as_bytes()).into())
    }

    pub fn sha256_of(text: &str) -> Digest {
        Digest::Sha256(Sha256::digest(text.as_bytes()).into())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("a hash is 32 (MD5) or 64 (SHA-256) hex digits, this one has {0} characters")]
    WrongLength(usize),
    #[error("a hash is made of hex digits 0-9 and a-f only")]
    NotHex,
}

/// What an address is: an email, an OpenID URL or a phone number (E.164), already normalised.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Identity {
    Email(String),
    OpenId(String),
    Phone(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the address is empty")]
    Empty,
    #[error("the address is longer than {MAX_IDENTITY_LEN} bytes")]
    TooLong,
    #[error("'{0}' is neither an email address (name@domain) nor an http(s) OpenID URL")]
    Unrecognised(String),
    #[error("the email address has no domain after its last '@'")]
    EmailWithoutDomain,
    #[error("the email address contains whitespace or control characters")]
    EmailWithBadCharacters,
    #[error("the OpenID URL has no host")]
    OpenIdWithoutHost,
    #[error("{0}")]
    Phone(#[from] crate::phone::PhoneError),
}

impl Identity {
    /// Parses what a user or operator typed: an OpenID if it starts with http:// or https://,
    /// otherwise an email address.
    pub fn parse(input: &str) -> Result<Identity, IdentityError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(IdentityError::Empty);
        }
        if trimmed.len() > MAX_IDENTITY_LEN {
            return Err(IdentityError::TooLong);
        }
        let lower_start = trimmed.get(..8).unwrap_or(trimmed).to_ascii_lowercase();
        let identity = if lower_start.starts_with("http://") || lower_start.starts_with("https://")
        {
            normalise_openid(trimmed).map(Identity::OpenId)?
        } else {
            normalise_email(trimmed).map(Identity::Email)?
        };
        // Lowercasing can lengthen text (`Ⱥ` is 2 bytes, `ⱥ` 3), and the stored form must
        // parse again to itself (found by fuzz/fuzz_targets/identity.rs).
        if identity.as_str().len() > MAX_IDENTITY_LEN {
            return Err(IdentityError::TooLong);
        }
        Ok(identity)
    }

    /// Like [`Identity::parse`], and also phone numbers and WhatsApp person chat ids (what
    /// the operator CLI and imports take; the web pages take no phones, which nobody can
    /// confirm there). A number without `+` is read in `default_region`.
    pub fn parse_with_phones(
        input: &str,
        default_region: Option<phonenumber::country::Id>,
    ) -> Result<Identity, IdentityError> {
        if crate::phone::looks_like_phone(input) {
            let e164 = crate::phone::normalise_phone(input, default_region)?;
            return Ok(Identity::Phone(e164));
        }
        Identity::parse(input)
    }

    /// The normalised text that is hashed.
    pub fn as_str(&self) -> &str {
        match self {
            Identity::Email(text) | Identity::OpenId(text) | Identity::Phone(text) => text,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Identity::Email(_) => "email",
            Identity::OpenId(_) => "openid",
            Identity::Phone(_) => "phone",
        }
    }

    /// The domain federation looks up: text after the last `@` of an email, the host of an OpenID.
    pub fn domain(&self) -> Option<&str> {
        match self {
            Identity::Email(address) => address.rsplit_once('@').map(|(_, domain)| domain),
            Identity::OpenId(url) => openid_host(url),
            Identity::Phone(_) => None,
        }
    }

    /// Every digest under which this identity's avatar must be found.
    ///
    /// Emails: MD5 and SHA-256. OpenIDs: SHA-256 of the URL and of its common variants
    /// (http/https, with and without a trailing slash), as ivatar stores them, so a client
    /// that writes the URL slightly differently still finds the photo. Phones: SHA-256 of
    /// the E.164 text.
    pub fn digests(&self) -> Vec<Digest> {
        match self {
            Identity::Phone(e164) => vec![Digest::sha256_of(e164)],
            Identity::Email(address) => {
                vec![Digest::md5_of(address), Digest::sha256_of(address)]
            }
            Identity::OpenId(url) => {
                let mut digests: Vec<Digest> = openid_variants(url)
                    .iter()
                    .map(|v| Digest::sha256_of(v))
                    .collect();
                digests.dedup();
                digests
            }
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Trim and lowercase the whole address, as Libravatar and Gravatar both specify.
fn normalise_email(trimmed: &str) -> Result<String, IdentityError> {
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IdentityError::EmailWithBadCharacters);
    }
    let Some((local, domain)) = trimmed.rsplit_once('@') else {
        return Err(IdentityError::Unrecognised(
            trimmed.chars().take(64).collect(),
        ));
    };
    if local.is_empty() {
        return Err(IdentityError::Unrecognised(
            trimmed.chars().take(64).collect(),
        ));
    }
    if domain.is_empty() || domain.starts_with('.') || domain.ends_with('.') {
        return Err(IdentityError::EmailWithoutDomain);
    }
    Ok(trimmed.to_lowercase())
}

/// Lowercase the scheme and the host; keep `user:password@`, the port, path, query and
/// fragment exactly as given (the Libravatar API's OpenID rule).
fn normalise_openid(trimmed: &str) -> Result<String, IdentityError> {
    let (scheme, rest) = trimmed
        .split_once("://")
        .ok_or_else(|| IdentityError::Unrecognised(trimmed.chars().take(64).collect()))?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, authority),
    };
    if host_port.is_empty() || host_port.starts_with(':') {
        return Err(IdentityError::OpenIdWithoutHost);
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IdentityError::Unrecognised(
            trimmed.chars().take(64).collect(),
        ));
    }
    let mut url = scheme.to_ascii_lowercase();
    url.push_str("://");
    if let Some(userinfo) = userinfo {
        url.push_str(userinfo);
        url.push('@');
    }
    url.push_str(&host_port.to_lowercase());
    url.push_str(tail);
    Ok(url)
}

fn openid_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        &host_port[..host_port.find(']').map_or(host_port.len(), |i| i + 1)]
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    (!host.is_empty()).then_some(host)
}

/// The URL itself first, then http/https and trailing-slash variants.
fn openid_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_string()];
    let other_scheme = if let Some(rest) = url.strip_prefix("https://") {
        format!("http://{rest}")
    } else if let Some(rest) = url.strip_prefix("http://") {
        format!("https://{rest}")
    } else {
        url.to_string()
    };
    for base in [url.to_string(), other_scheme] {
        let toggled = match base.strip_suffix('/') {
            Some(without) => without.to_string(),
            None if !base.contains(['?', '#']) => format!("{base}/"),
            None => base.clone(),
        };
        for candidate in [base, toggled] {
            if !variants.contains(&candidate) {
                variants.push(candidate);
            }
        }
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased_before_hashing() {
        let messy = Identity::parse(" Alice@Example.ORG ").unwrap();
        let clean = Identity::parse("alice@example.org").unwrap();
        assert_eq!(messy, clean);
        assert_eq!(messy.digests(), clean.digests());
    }

    #[test]
    fn email_digests_match_known_vectors() {
        let id = Identity::parse("MyEmailAddress@example.com ").unwrap();
        let digests = id.digests();
        assert_eq!(digests[0].to_hex(), "0bc83cb571cd1c50ba6f3e8a78ef1346");
        assert_eq!(
            digests[1].to_hex(),
            "84059b07d4be67b806386c0aad8070a23f18836bbaae342275dc0a83414c32ee"
        );
    }

    #[test]
    fn digest_parses_any_case_and_rejects_bad_text() {
        let upper = Digest::parse_hex("0BC83CB571CD1C50BA6F3E8A78EF1346").unwrap();
        assert_eq!(upper.to_hex(), "0bc83cb571cd1c50ba6f3e8a78ef1346");
        assert_eq!(Digest::parse_hex("abc"), Err(DigestError::WrongLength(3)));
        assert_eq!(Digest::parse_hex(&"g".repeat(32)), Err(DigestError::NotHex));
        assert!(Digest::parse_hex(&"a".repeat(31)).is_err());
        assert!(Digest::parse_hex(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn openid_lowercases_scheme_and_host_only() {
        let id = Identity::parse("HTTP://UserName:Password@EXAMPLE.COM/ID/Bob").unwrap();
        assert_eq!(
            id,
            Identity::OpenId("http://UserName:Password@example.com/ID/Bob".into())
        );
        assert_eq!(id.domain(), Some("example.com"));
    }

    #[test]
    fn openid_variants_cover_scheme_and_trailing_slash() {
        let id = Identity::parse("https://example.com/bob").unwrap();
        let digests = id.digests();
        assert_eq!(digests.len(), 4);
        assert_eq!(digests[0], Digest::sha256_of("https://example.com/bob"));
        for variant in [
            "http://example.com/bob",
            "https://example.com/bob/",
            "http://example.com/bob/",
        ] {
            assert!(digests.contains(&Digest::sha256_of(variant)), "{variant}");
        }
    }

    #[test]
    fn phones_are_identities_hashed_as_e164_only_where_phones_are_taken() {
        let phone = Identity::parse_with_phones("15551234567@s.whatsapp.net", None).unwrap();
        assert_eq!(phone, Identity::Phone("+15551234567".into()));
        assert_eq!(phone.kind(), "phone");
        assert_eq!(phone.domain(), None);
        assert_eq!(phone.digests(), vec![Digest::sha256_of("+15551234567")]);
        // The stored form reads back to itself; emails and OpenIDs are unchanged.
        assert_eq!(Identity::parse_with_phones(phone.as_str(), None), Ok(phone));
        assert_eq!(
            Identity::parse_with_phones("Bob@Example.org", None),
            Identity::parse("bob@example.org")
        );
        // The web's parser takes no phones.
        assert!(Identity::parse("+15551234567").is_err());
        assert!(matches!(
            Identity::parse_with_phones("555 123 4567", None),
            Err(IdentityError::Phone(_))
        ));
    }

    #[test]
    fn email_domain_is_after_the_last_at() {
        let id = Identity::parse("\"a@b\"@Example.org").unwrap();
        assert_eq!(id.domain(), Some("example.org"));
    }

    #[test]
    fn a_normalised_identity_parses_again_to_itself() {
        // 406 bytes as typed, 603 once lowercased: past the limit only after normalisation.
        let growing = format!("{}@example.org", "Ⱥ".repeat(197));
        assert!(growing.len() <= MAX_IDENTITY_LEN);
        assert_eq!(Identity::parse(&growing), Err(IdentityError::TooLong));
        let openid = format!("https://{}.example/", "Ⱥ".repeat(240));
        assert_eq!(Identity::parse(&openid), Err(IdentityError::TooLong));
        for text in [
            "ÀLICE@EXAMPLE.ORG",
            "İ@example.org",
            "HTTPS://ÉXAMPLE.COM/Bob",
        ] {
            let identity = Identity::parse(text).unwrap();
            assert_eq!(Identity::parse(identity.as_str()), Ok(identity));
        }
    }

    #[test]
    fn bad_identities_are_refused_with_a_reason() {
        assert_eq!(Identity::parse("   "), Err(IdentityError::Empty));
        assert!(matches!(
            Identity::parse("no-at-sign"),
            Err(IdentityError::Unrecognised(_))
        ));
        assert_eq!(
            Identity::parse("alice@"),
            Err(IdentityError::EmailWithoutDomain)
        );
        assert_eq!(
            Identity::parse("a b@example.org"),
            Err(IdentityError::EmailWithBadCharacters)
        );
        assert_eq!(
            Identity::parse("https:///path"),
            Err(IdentityError::OpenIdWithoutHost)
        );
        assert_eq!(
            Identity::parse(&format!("{}@example.org", "a".repeat(600))),
            Err(IdentityError::TooLong)
        );
    }
}
