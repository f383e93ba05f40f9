//! The domain check's probe: does the server a domain publishes answer
//! `/avatar/HASH?d=404&s=80` sensibly (an image, or a 404)?
//!
//! Why not `Outbound::get_guarded`: that client resolves names with the system resolver, but
//! the check reports what the *configured* `dns_servers` say, and a probe must reach the very
//! addresses the report shows (tests serve `avatars.example.test` from a DNS server on
//! loopback that the system knows nothing of). So the probe client resolves through the
//! federation resolver, and applies the same SSRF rule as the guarded client: only public
//! addresses (see [`crate::outbound::is_public`]) unless `allow_private_probe`, IP literals
//! checked before any request, no redirects, a short timeout and a size cap.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::resolver::SrvResolver;
use crate::outbound::{Fetched, OutboundError, is_public};

const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);
/// An 80 px avatar is a few kB; anything far larger is not a sensible answer.
pub const PROBE_MAX_BYTES: usize = 256 << 10;
const USER_AGENT: &str = concat!("Cameo/", env!("CARGO_PKG_VERSION"), " (domain check)");

/// What the probe found, for the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProbeOutcome {
    /// `image`, `not_found`, `unexpected`, `refused_private`, `timeout`, `connection_failed`,
    /// `too_large` or `bad_url`.
    pub code: &'static str,
    /// One sentence for people.
    pub message: String,
    /// Whether this is a sensible answer (an image or a 404).
    pub ok: bool,
    pub status: Option<u16>,
    pub content_type: Option<String>,
}

impl ProbeOutcome {
    /// What a page or API answer tells anybody about a probed server: only whether it answers
    /// as an avatar server. Refused, timed out, TLS failure, HTTP 503 or a private address
    /// all read the same, so the check cannot be used to map third parties' ports and
    /// services (the operator's `cameo check-domain` keeps the details).
    pub fn public_verdict(&self) -> ProbeOutcome {
        let (code, message) = if self.ok {
            ("avatar_server", "answers as an avatar server")
        } else {
            (
                "no_avatar_server",
                "does not answer as an avatar server (an image or a 404 for d=404)",
            )
        };
        ProbeOutcome {
            code,
            message: message.to_string(),
            ok: self.ok,
            status: None,
            content_type: None,
        }
    }
}

#[derive(Clone)]
pub struct Prober {
    client: reqwest::Client,
    allow_private: bool,
}

impl Prober {
    pub fn new(dns: SrvResolver, allow_private: bool) -> Result<Prober, String> {
        crate::outbound::install_tls_provider();
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(PROBE_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(ProbeDns { dns, allow_private }))
            .build()
            .map_err(|e| format!("probe HTTP client: {e}"))?;
        Ok(Prober {
            client,
            allow_private,
        })
    }

    /// GETs `url` and says what the answer means.
    pub async fn probe(&self, url: &str) -> ProbeOutcome {
        classify(self.fetch(url).await)
    }

    async fn fetch(&self, url: &str) -> Result<Fetched, OutboundError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| OutboundError::BadUrl)?;
        let literal = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(OutboundError::BadUrl),
        };
        if let Some(ip) = literal.filter(|ip| !self.allow_private && !is_public(*ip)) {
            return Err(OutboundError::PrivateAddress(ip.to_string()));
        }
        let mut response = self.client.get(parsed).send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(100).collect());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > PROBE_MAX_BYTES {
                return Err(OutboundError::TooLarge(PROBE_MAX_BYTES));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            content_type,
            body: Bytes::from(body),
        })
    }
}

/// Turns a probe's answer into the report's words. Pure, so every branch is unit-tested.
pub fn classify(result: Result<Fetched, OutboundError>) -> ProbeOutcome {
    let outcome = |code, ok, message: String| ProbeOutcome {
        code,
        message,
        ok,
        status: None,
        content_type: None,
    };
    let fetched = match result {
        Ok(fetched) => fetched,
        Err(OutboundError::PrivateAddress(address)) => {
            return outcome(
                "refused_private",
                false,
                format!("not probed: {address} is a private, loopback or link-local address"),
            );
        }
        Err(OutboundError::Timeout) => {
            return outcome("timeout", false, "no answer within 3 seconds".into());
        }
        Err(OutboundError::Connect(reason)) => {
            return outcome(
                "connection_failed",
                false,
                format!("connection failed: {reason}"),
            );
        }
        Err(OutboundError::TooLarge(limit)) => {
            let message = format!("the answer is larger than {limit} bytes");
            return outcome("too_large", false, message);
        }
        Err(OutboundError::BadUrl) => {
            return outcome("bad_url", false, "the avatar URL is not valid".into());
        }
    };
    let declared_image = fetched
        .content_type
        .as_deref()
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("image/"));
    let dimensions = image::ImageReader::new(std::io::Cursor::new(&fetched.body))
        .with_guessed_format()
        .ok()
        .and_then(|reader| reader.into_dimensions().ok());
    let (code, ok, message) = match (fetched.status, declared_image, dimensions) {
        (200, true, Some((width, height))) => {
            ("image", true, format!("serves an image ({width}×{height})"))
        }
        (200, _, _) => (
            "unexpected",
            false,
            "answers 200 but the body is not an image with an image content type".to_string(),
        ),
        (404, _, _) => (
            "not_found",
            true,
            "answers 404 (no avatar for this address)".to_string(),
        ),
        (status @ 300..=399, _, _) => (
            "unexpected",
            false,
            format!("answers HTTP {status} (a redirect); with d=404 it should answer 200 or 404"),
        ),
        (status, _, _) => (
            "unexpected",
            false,
            format!("answers HTTP {status}; expected an image (200) or 404"),
        ),
    };
    ProbeOutcome {
        code,
        message,
        ok,
        status: Some(fetched.status),
        content_type: fetched.content_type,
    }
}

/// A name resolved to nothing but non-public addresses.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not a public address")]
struct NotPublic(IpAddr);

/// Resolves through the federation resolver, keeping public addresses only (unless allowed).
struct ProbeDns {
    dns: SrvResolver,
    allow_private: bool,
}

impl Resolve for ProbeDns {
    fn resolve(&self, name: Name) -> Resolving {
        let dns = self.dns.clone();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found = dns.lookup_addresses(name.as_str()).await?;
            let usable: Vec<SocketAddr> = found
                .iter()
                .filter(|ip| allow_private || is_public(**ip))
                .map(|ip| SocketAddr::new(*ip, 0))
                .collect();
            match found.first() {
                Some(first) if usable.is_empty() => Err(NotPublic(*first).into()),
                _ => {
                    let addrs: Addrs = Box::new(usable.into_iter());
                    Ok(addrs)
                }
            }
        })
    }
}

fn describe(error: reqwest::Error) -> OutboundError {
    if error.is_timeout() {
        return OutboundError::Timeout;
    }
    // The innermost cause is the useful part ("connection refused", "not a public address").
    let mut source: &dyn std::error::Error = &error;
    while let Some(inner) = source.source() {
        if let Some(NotPublic(ip)) = inner.downcast_ref::<NotPublic>() {
            return OutboundError::PrivateAddress(ip.to_string());
        }
        source = inner;
    }
    OutboundError::Connect(source.to_string().chars().take(160).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, content_type: &str, body: &[u8]) -> Result<Fetched, OutboundError> {
        Ok(Fetched {
            status,
            content_type: Some(content_type.to_string()),
            body: Bytes::copy_from_slice(body),
        })
    }

    fn tiny_png() -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::new(2, 3)
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn an_image_with_an_image_type_is_sensible() {
        let outcome = classify(answer(200, "image/png", &tiny_png()));
        assert_eq!(outcome.code, "image");
        assert!(outcome.ok);
        assert_eq!(outcome.message, "serves an image (2×3)");
    }

    #[test]
    fn a_200_that_is_not_an_image_is_unexpected() {
        assert_eq!(
            classify(answer(200, "text/html", b"<html>")).code,
            "unexpected"
        );
        assert_eq!(
            classify(answer(200, "image/png", b"nope")).code,
            "unexpected"
        );
        assert_eq!(
            classify(answer(200, "text/plain", &tiny_png())).code,
            "unexpected"
        );
    }

    #[test]
    fn a_404_is_sensible() {
        let outcome = classify(answer(404, "text/plain", b"not found"));
        assert_eq!(outcome.code, "not_found");
        assert!(outcome.ok);
        assert_eq!(outcome.message, "answers 404 (no avatar for this address)");
    }

    #[test]
    fn redirects_and_errors_are_unexpected() {
        for status in [302, 500, 403] {
            let outcome = classify(answer(status, "text/plain", b""));
            assert_eq!(outcome.code, "unexpected", "{status}");
            assert!(!outcome.ok);
            assert!(outcome.message.contains(&status.to_string()));
        }
    }

    #[test]
    fn transport_failures_are_named() {
        let private = classify(Err(OutboundError::PrivateAddress("127.0.0.1".into())));
        assert_eq!(private.code, "refused_private");
        assert!(private.message.contains("127.0.0.1"));
        assert_eq!(classify(Err(OutboundError::Timeout)).code, "timeout");
        assert_eq!(
            classify(Err(OutboundError::Connect("refused".into()))).code,
            "connection_failed"
        );
        assert_eq!(classify(Err(OutboundError::TooLarge(10))).code, "too_large");
    }

    #[test]
    fn the_public_verdict_tells_only_whether_an_avatar_server_answers() {
        let failures = [
            Err(OutboundError::PrivateAddress("10.0.0.1".into())),
            Err(OutboundError::Timeout),
            Err(OutboundError::Connect("Connection refused".into())),
            Err(OutboundError::TooLarge(10)),
            answer(503, "text/plain", b"down"),
            answer(200, "text/html", b"<html>"),
        ];
        let verdicts: Vec<ProbeOutcome> = failures
            .into_iter()
            .map(|result| classify(result).public_verdict())
            .collect();
        assert!(verdicts.iter().all(|v| *v == verdicts[0]), "{verdicts:?}");
        assert_eq!(verdicts[0].code, "no_avatar_server");
        assert_eq!(verdicts[0].status, None);
        let image = classify(answer(200, "image/png", &tiny_png())).public_verdict();
        let missing = classify(answer(404, "text/plain", b"")).public_verdict();
        assert_eq!(image, missing);
        assert_eq!(image.code, "avatar_server");
        assert!(image.ok);
    }

    #[tokio::test]
    async fn private_ip_literals_are_refused_before_any_request() {
        let dns = SrvResolver::new(&["127.0.0.1:9".parse().unwrap()]).unwrap();
        let prober = Prober::new(dns, false).unwrap();
        for url in [
            "http://127.0.0.1:9/avatar/x",
            "http://[::1]/",
            "http://10.0.0.1/",
        ] {
            assert_eq!(prober.probe(url).await.code, "refused_private", "{url}");
        }
    }
}
