//! What the fuzz targets check, beyond "no panic": shared by the targets and by the corpus
//! replay test (`tests/api/fuzz_corpus.rs` includes this file), so CI guards the corpus
//! without a fuzzer.

use cameo::avatar::request::{
    AvatarRequest, DefaultAction, RequestRules, absolute_url_host, parse_avatar_request, parse_size,
};
use cameo::config::DefaultStyle;
use cameo::defaults::Style;
use cameo::identity::{Digest, Identity};
use cameo::imaging::intake::MAX_STORED_SIDE;
use cameo::imaging::{IntakeLimits, PhotoFormat, decode_original, prepare_photo};
use cameo::web::openid::{MAX_HREF_LEN, MAX_LINKS, rel_me_links};

/// The `max_size` requests are parsed against.
pub const MAX_SIZE: u32 = 512;

/// Intake limits: the upload size of the default configuration and a 4-megapixel budget, so
/// that any single allocation above the targets' `-malloc_limit_mb=128` means a bound was not
/// applied before allocating.
pub const INTAKE_LIMITS: IntakeLimits = IntakeLimits {
    max_bytes: 10_000_000,
    max_pixels: 4_000_000,
};

/// `SEGMENT?QUERY`, split the way the handler sees a request: the path segment after
/// `/avatar/`, then the raw query string. The size is within 1..=max_size, a redirect only
/// goes to a trusted host, and a refusal is short (it never echoes a long value).
pub fn check_request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (segment, query) = text.split_once('?').unwrap_or((text, ""));
    let rules = RequestRules {
        max_size: MAX_SIZE,
        server_default: DefaultStyle::Style(Style::Mp),
        trusted_default_hosts: vec!["trusted.example".into()],
    };
    match parse_avatar_request(segment, query, &rules) {
        Ok(request) => check_parsed_request(&request),
        Err(error) => {
            let message = error.to_string();
            assert!(message.len() < 200, "refusals are short: {message:.300}");
        }
    }
    let size = parse_size(Some(query), MAX_SIZE);
    assert!((1..=MAX_SIZE).contains(&size));
    if let Some(host) = absolute_url_host(query) {
        assert!(!host.is_empty());
        assert!(!host.bytes().any(|b| b <= b' ' || b >= 0x7f));
    }
}

fn check_parsed_request(request: &AvatarRequest) {
    assert!((1..=MAX_SIZE).contains(&request.size), "{}", request.size);
    if let DefaultAction::Redirect(url) = &request.default {
        assert_eq!(absolute_url_host(url).as_deref(), Some("trusted.example"));
    }
}

/// A normalised identity (email, OpenID, or phone as the CLI reads it) parses again to itself
/// (the stored form is a fixed point, so its digests never drift), it has digests, and a parsed digest prints back as the lowercase hex
/// it came from.
pub fn check_identity(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(identity) = Identity::parse(text) {
        let again = Identity::parse(identity.as_str());
        assert_eq!(again.as_ref(), Ok(&identity), "normalisation is idempotent");
        let digests = identity.digests();
        assert!(!digests.is_empty() && digests.len() <= 4);
        if let Some(domain) = identity.domain() {
            assert!(!domain.is_empty());
        }
    }
    // Phones (what the CLI takes): the E.164 form reads back to itself, with no region.
    let region = cameo::phone::parse_region("US").ok().flatten();
    if let Ok(phone @ Identity::Phone(_)) = Identity::parse_with_phones(text, region) {
        let again = Identity::parse_with_phones(phone.as_str(), None);
        assert_eq!(again.as_ref(), Ok(&phone), "E.164 is a fixed point");
        assert_eq!(phone.digests().len(), 1);
    }
    if let Ok(digest) = Digest::parse_hex(text) {
        assert_eq!(digest.to_hex(), text.to_ascii_lowercase());
        assert_eq!(Digest::parse_hex(&digest.to_hex()), Ok(digest));
    }
}

/// The whole intake, as an upload or `cameo add` runs it. An accepted photo is a square of at
/// most the stored side, decodes again as a stored original and renders at a small size.
pub fn check_intake(data: &[u8]) {
    let Ok(photo) = prepare_photo(data, INTAKE_LIMITS) else {
        return;
    };
    assert!((1..=MAX_STORED_SIDE).contains(&photo.side));
    let original = decode_original(&photo.data).expect("a stored original decodes");
    original
        .render(16, PhotoFormat::Png)
        .expect("a stored original renders");
}

/// An OpenID page, read as the claim check reads it (lossy UTF-8). The links found are
/// bounded in number and length, non-empty and trimmed.
pub fn check_rel_me(data: &[u8]) {
    let page = String::from_utf8_lossy(data);
    let links = rel_me_links(&page);
    assert!(links.len() <= MAX_LINKS);
    for link in &links {
        assert!(!link.is_empty() && link.len() <= MAX_HREF_LEN);
        assert_eq!(link.trim(), link);
    }
}
