//! Parsing an avatar URL into an [`AvatarRequest`]: the "Query parameters" rules of
//! PROTOCOL.md, as pure functions with their tests beside them.
//!
//! - long and short names are one parameter, the long one wins; repeated: the last one wins;
//! - values are bounded (a 10 kB `d` is refused, never echoed) and so is the whole query;
//! - a bad size is the default size, an oversized one the maximum;
//! - an absolute `d=` URL is followed only to a trusted host (CWE-601).

use crate::config::DefaultStyle;
use crate::defaults::{Style, StyleOptions};
use crate::error::AppError;
use crate::identity::Digest;
use crate::imaging::PhotoFormat;

/// The size served when `s` is missing or unusable.
pub const DEFAULT_SIZE: u32 = 80;
/// Longest query string accepted.
pub const MAX_QUERY_LEN: usize = 16 * 1024;
/// Longest single parameter value accepted.
pub const MAX_VALUE_LEN: usize = 1024;

/// What the server does when there is no photo to serve (or `f=y`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    NotFound,
    Draw(Style),
    Redirect(String),
}

/// A fully parsed, validated avatar request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvatarRequest {
    pub digest: Digest,
    /// The format the URL's extension asks for, if any.
    pub format: Option<PhotoFormat>,
    pub size: u32,
    pub default: DefaultAction,
    pub force_default: bool,
    /// `gravatarproxy=n` turns the Gravatar proxy off for this request.
    pub gravatar_proxy: bool,
    /// `gravatarredirect=y` asks for a redirect to Gravatar instead of a proxied image.
    pub gravatar_redirect: bool,
}

/// The server settings a request is parsed against.
#[derive(Clone, Debug)]
pub struct RequestRules {
    pub max_size: u32,
    pub server_default: DefaultStyle,
    pub trusted_default_hosts: Vec<String>,
}

/// Parses the path segment after `/avatar/`: `HASH` or `HASH.EXT`.
pub fn parse_hash_segment(segment: &str) -> Result<(Digest, Option<PhotoFormat>), AppError> {
    if segment.len() > 80 {
        return Err(AppError::BadRequest(
            "the avatar path is too long: expected /avatar/HASH or /avatar/HASH.png".into(),
        ));
    }
    let (hash, extension) = match segment.split_once('.') {
        Some((hash, extension)) => (hash, Some(extension)),
        None => (segment, None),
    };
    let digest = Digest::parse_hex(hash)
        .map_err(|e| AppError::BadRequest(format!("invalid avatar hash: {e}")))?;
    let format = match extension {
        None => None,
        Some(extension) => Some(PhotoFormat::from_extension(extension).ok_or_else(|| {
            AppError::BadRequest(
                "unknown image extension: use .png, .jpg, .jpeg, .gif or .webp".into(),
            )
        })?),
    };
    Ok((digest, format))
}

/// The query parameters the protocol knows, after long/short and last-wins resolution.
#[derive(Default, Debug)]
struct RawParams {
    size: Option<String>,
    default: Option<String>,
    force: Option<String>,
    gravatar_proxy: Option<String>,
    gravatar_redirect: Option<String>,
    robohash: Option<String>,
    initials: Option<String>,
    name: Option<String>,
}

fn collect_params(query: &str) -> Result<RawParams, AppError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(AppError::UriTooLong(format!(
            "the query string is longer than {MAX_QUERY_LEN} bytes"
        )));
    }
    // Short and long values kept apart so the long name can win whatever the order.
    let mut short = RawParams::default();
    let mut long = RawParams::default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "s" => &mut short.size,
            "size" => &mut long.size,
            "d" => &mut short.default,
            "default" => &mut long.default,
            "f" => &mut short.force,
            "forcedefault" => &mut long.force,
            "gravatarproxy" => &mut long.gravatar_proxy,
            "gravatarredirect" => &mut long.gravatar_redirect,
            "robohash" => &mut long.robohash,
            "initials" => &mut long.initials,
            "name" => &mut long.name,
            _ => continue,
        };
        if value.len() > MAX_VALUE_LEN {
            return Err(AppError::BadRequest(format!(
                "the value of parameter '{name}' is longer than {MAX_VALUE_LEN} bytes"
            )));
        }
        *slot = Some(value.into_owned());
    }
    Ok(RawParams {
        size: long.size.or(short.size),
        default: long.default.or(short.default),
        force: long.force.or(short.force),
        ..long
    })
}

/// Parses a whole request: the path segment after `/avatar/` and the raw query string.
pub fn parse_avatar_request(
    segment: &str,
    query: &str,
    rules: &RequestRules,
) -> Result<AvatarRequest, AppError> {
    let (digest, format) = parse_hash_segment(segment)?;
    let params = collect_params(query)?;
    Ok(AvatarRequest {
        digest,
        format,
        size: parse_size(params.size.as_deref(), rules.max_size),
        default: match choose_default(params.default.as_deref(), rules) {
            DefaultAction::Draw(style) => DefaultAction::Draw(style.with_options(&StyleOptions {
                robohash: params.robohash.as_deref(),
                initials: params.initials.as_deref(),
                name: params.name.as_deref(),
            })),
            other => other,
        },
        force_default: params
            .force
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("y")),
        gravatar_proxy: !params
            .gravatar_proxy
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("n")),
        gravatar_redirect: params
            .gravatar_redirect
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("y")),
    })
}

/// Missing, empty, zero, negative or non-integer: the default; above the maximum: the maximum.
pub fn parse_size(value: Option<&str>, max_size: u32) -> u32 {
    let Some(text) = value.map(str::trim) else {
        return DEFAULT_SIZE.min(max_size);
    };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u64>() {
            Ok(0) => DEFAULT_SIZE.min(max_size),
            Ok(n) => n.min(u64::from(max_size)) as u32,
            // More digits than a u64 holds: certainly above the maximum.
            Err(_) => max_size,
        };
    }
    DEFAULT_SIZE.min(max_size)
}

/// Maps `d=` to what to do on a miss; unknown or untrusted values get the server default.
pub fn choose_default(value: Option<&str>, rules: &RequestRules) -> DefaultAction {
    let server_default = match rules.server_default {
        DefaultStyle::NotFound => DefaultAction::NotFound,
        DefaultStyle::Style(style) => DefaultAction::Draw(style),
    };
    let Some(value) = value.map(str::trim) else {
        return server_default;
    };
    if value == "404" {
        return DefaultAction::NotFound;
    }
    if let Some(style) = Style::from_name(value) {
        return DefaultAction::Draw(style);
    }
    match absolute_url_host(value) {
        Some(host) if rules.trusted_default_hosts.contains(&host) => {
            DefaultAction::Redirect(value.to_string())
        }
        _ => server_default,
    }
}

/// The lowercase host of an absolute http(s) URL that is safe to put in a `Location`
/// header, or None. Userinfo is looked past (`https://trusted@evil/` has host `evil`).
pub fn absolute_url_host(url: &str) -> Option<String> {
    if url.bytes().any(|b| b <= b' ' || b == b'\\' || b >= 0x7f) {
        return None;
    }
    let lower = url.get(..8)?.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return None;
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => host_port,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD5: &str = "0bc83cb571cd1c50ba6f3e8a78ef1346";

    fn rules() -> RequestRules {
        RequestRules {
            max_size: 512,
            server_default: DefaultStyle::Style(Style::Mp),
            trusted_default_hosts: vec!["trusted.example".into()],
        }
    }

    fn parse(query: &str) -> AvatarRequest {
        parse_avatar_request(MD5, query, &rules()).unwrap()
    }

    #[test]
    fn hash_with_extension_picks_the_format() {
        let (digest, format) = parse_hash_segment(&format!("{}.JPG", MD5.to_uppercase())).unwrap();
        assert_eq!(digest.to_hex(), MD5);
        assert_eq!(format, Some(PhotoFormat::Jpeg));
    }

    #[test]
    fn malformed_hash_segments_are_bad_requests() {
        for segment in [
            "xyz",
            &MD5[..31],
            "../etc/passwd",
            &format!("{MD5}.bmp"),
            "",
            &"a".repeat(200),
        ] {
            assert!(
                matches!(parse_hash_segment(segment), Err(AppError::BadRequest(_))),
                "{segment}"
            );
        }
    }

    #[test]
    fn size_missing_or_unusable_is_the_default() {
        for value in [
            None,
            Some(""),
            Some("0"),
            Some("-5"),
            Some("abc"),
            Some("12.5"),
            Some("1e3"),
        ] {
            assert_eq!(parse_size(value, 512), DEFAULT_SIZE, "{value:?}");
        }
    }

    #[test]
    fn size_above_max_is_clamped() {
        assert_eq!(parse_size(Some("513"), 512), 512);
        assert_eq!(parse_size(Some("99999999999999999999999"), 512), 512);
        assert_eq!(parse_size(Some("1"), 512), 1);
        assert_eq!(parse_size(Some("2048"), 2048), 2048);
    }

    #[test]
    fn long_name_wins_over_short_and_last_wins_when_repeated() {
        assert_eq!(parse("size=100&s=50").size, 100);
        assert_eq!(parse("s=50&size=100").size, 100);
        assert_eq!(parse("s=10&s=20").size, 20);
        assert_eq!(
            parse("d=retro&default=identicon").default,
            DefaultAction::Draw(Style::Identicon)
        );
    }

    #[test]
    fn special_defaults_are_recognised() {
        assert_eq!(parse("d=404").default, DefaultAction::NotFound);
        assert_eq!(parse("d=mm").default, DefaultAction::Draw(Style::Mp));
        assert_eq!(parse("d=blank").default, DefaultAction::Draw(Style::Blank));
        assert_eq!(
            parse("d=wavatar").default,
            DefaultAction::Draw(Style::Wavatar)
        );
        assert_eq!(parse("d=nonsense").default, DefaultAction::Draw(Style::Mp));
        assert_eq!(parse("").default, DefaultAction::Draw(Style::Mp));
    }

    #[test]
    fn style_options_reach_the_styles_that_take_them() {
        use crate::defaults::RobohashSet;
        assert_eq!(
            parse("d=robohash&robohash=set2").default,
            DefaultAction::Draw(Style::Robohash(RobohashSet::Set2))
        );
        assert_eq!(
            parse("robohash=set3&d=robohash&robohash=bogus").default,
            DefaultAction::Draw(Style::Robohash(RobohashSet::Set1)),
            "the last value wins, and an unknown set is the default one"
        );
        let DefaultAction::Draw(Style::Initials(letters)) =
            parse("d=initials&name=Ada%20Lovelace").default
        else {
            panic!("initials drawn");
        };
        assert_eq!(letters.as_str(), "AL");
        assert_eq!(
            parse("d=retro&initials=AB&robohash=set2").default,
            DefaultAction::Draw(Style::Retro)
        );
        let long = format!("d=initials&name={}", "x".repeat(MAX_VALUE_LEN + 1));
        assert!(parse_avatar_request(MD5, &long, &rules()).is_err());
    }

    #[test]
    fn redirect_only_to_trusted_hosts() {
        let trusted = "https://trusted.example/nobody.png";
        assert_eq!(
            parse(&format!("d={}", urlencode(trusted))).default,
            DefaultAction::Redirect(trusted.into())
        );
        for untrusted in [
            "https://evil.example/x.png",
            "https://trusted.example@evil.example/x.png",
            "//trusted.example/x.png",
            "javascript:alert(1)",
            "https://trusted.example.evil.example/",
            "https://trusted.example\\@evil.example/",
        ] {
            assert_eq!(
                parse(&format!("d={}", urlencode(untrusted))).default,
                DefaultAction::Draw(Style::Mp),
                "{untrusted}"
            );
        }
        assert_eq!(
            absolute_url_host("HTTPS://Trusted.Example:8443/a"),
            Some("trusted.example".into())
        );
    }

    #[test]
    fn force_default_only_with_y() {
        assert!(parse("f=y").force_default);
        assert!(parse("forcedefault=y").force_default);
        assert!(!parse("f=yes").force_default);
        assert!(!parse("f=n&").force_default);
    }

    #[test]
    fn gravatar_controls_are_parsed() {
        let request = parse("gravatarproxy=n&gravatarredirect=y");
        assert!(!request.gravatar_proxy && request.gravatar_redirect);
        let request = parse("");
        assert!(request.gravatar_proxy && !request.gravatar_redirect);
    }

    #[test]
    fn oversized_values_and_queries_are_refused_without_echo() {
        let huge = "x".repeat(MAX_VALUE_LEN + 1);
        let error = parse_avatar_request(MD5, &format!("d={huge}"), &rules()).unwrap_err();
        assert!(matches!(error, AppError::BadRequest(_)));
        assert!(!error.to_string().contains("xxxx"));
        let error = parse_avatar_request(MD5, &"a=b&".repeat(5000), &rules()).unwrap_err();
        assert!(matches!(error, AppError::UriTooLong(_)));
        // Unknown parameters are ignored however long, as long as the query fits.
        assert!(parse_avatar_request(MD5, &format!("zz={}", "y".repeat(1500)), &rules()).is_ok());
    }

    fn urlencode(text: &str) -> String {
        form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }
}
