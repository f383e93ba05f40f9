//! Outbound HTTP, bounded and SSRF-safe.
//!
//! Two clients, one rule each:
//! - [`Outbound::upstream`] talks to hosts the *operator* configured (the Gravatar base URL),
//!   wherever they are — tests point it at loopback.
//! - [`Outbound::guarded`] talks to hosts that a *client* or DNS chose (federation probes,
//!   OpenID proofs). It connects only to public addresses ([`is_public`]: both IANA
//!   special-purpose registries refused, embedded IPv4 judged as IPv4): names are resolved by
//!   a resolver that keeps only public addresses of every address a name resolves to, IP
//!   literals are checked before any request, and redirects are not followed (so a public
//!   page cannot bounce a fetch to a private one). `allow_private_probe` lifts the address
//!   rule for tests.
//!
//! [`credentialed_client`] with [`send_capped`] talks to operator-configured APIs that
//! take credentials (the WhatsApp gateways), with no redirects.
//!
//! Who may make Cameo probe other servers, and how often, is [`probe_budget`].
//!
//! Both have a connect timeout and a total timeout, and every body is read with a size cap,
//! so no upstream can make a request hang or exhaust memory. TLS is rustls with the ring
//! provider: no system OpenSSL.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

pub mod probe_budget;
pub mod special_addresses;
pub use special_addresses::is_public;

const CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);
const USER_AGENT: &str = concat!("Cameo/", env!("CARGO_PKG_VERSION"), " (avatar server)");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("invalid URL")]
    BadUrl,
    #[error("{0} is not a public address")]
    PrivateAddress(String),
    #[error("timed out")]
    Timeout,
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
}

/// A response read whole (within its cap).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
}

#[derive(Clone)]
pub struct Outbound {
    pub upstream: reqwest::Client,
    pub guarded: reqwest::Client,
    allow_private: bool,
}

/// Makes ring the process's TLS provider (rustls is built without a default one), before
/// any client (HTTP, SMTP, the photo bucket) is built. Several servers may be built in one
/// process (tests); only the first install counts.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Outbound {
    /// `total_timeout` bounds every request from connect to the last body byte.
    pub fn new(total_timeout: Duration, allow_private: bool) -> Result<Outbound, String> {
        install_tls_provider();
        let base = || {
            reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .connect_timeout(CONNECT_TIMEOUT.min(total_timeout))
                .timeout(total_timeout)
                .pool_idle_timeout(Duration::from_secs(30))
        };
        let upstream = base()
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        let mut guarded = base().redirect(reqwest::redirect::Policy::none());
        if !allow_private {
            guarded = guarded.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        let guarded = guarded.build().map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Outbound {
            upstream,
            guarded,
            allow_private,
        })
    }

    /// GET `url` with the guarded client, refusing non-public IP literals up front.
    pub async fn get_guarded(&self, url: &str, max_bytes: usize) -> Result<Fetched, OutboundError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| OutboundError::BadUrl)?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(OutboundError::BadUrl);
        }
        if !self.allow_private {
            match parsed.host() {
                Some(url::Host::Ipv4(ip)) if !is_public(IpAddr::V4(ip)) => {
                    return Err(OutboundError::PrivateAddress(ip.to_string()));
                }
                Some(url::Host::Ipv6(ip)) if !is_public(IpAddr::V6(ip)) => {
                    return Err(OutboundError::PrivateAddress(ip.to_string()));
                }
                None => return Err(OutboundError::BadUrl),
                _ => {}
            }
        }
        fetch(&self.guarded, parsed, max_bytes).await
    }

    /// GET `url` with the upstream client.
    pub async fn get_upstream(
        &self,
        url: &str,
        max_bytes: usize,
    ) -> Result<Fetched, OutboundError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| OutboundError::BadUrl)?;
        fetch(&self.upstream, parsed, max_bytes).await
    }
}

/// Sends a GET and reads at most `max_bytes` of body.
async fn fetch(
    client: &reqwest::Client,
    url: reqwest::Url,
    max_bytes: usize,
) -> Result<Fetched, OutboundError> {
    send_capped(client.get(url), max_bytes).await
}

/// A client for APIs the operator configured with credentials (the WhatsApp gateways):
/// the same timeouts as [`Outbound`]'s, and no redirects, so a credential in a URL or a
/// header is never sent on to another place (nor logged by the client as it redirects).
pub fn credentialed_client(total_timeout: Duration) -> Result<reqwest::Client, String> {
    install_tls_provider();
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT.min(total_timeout))
        .timeout(total_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// Sends a prepared request (built on one of this module's clients) and reads at most
/// `max_bytes` of its body. Errors never carry the URL.
pub async fn send_capped(
    request: reqwest::RequestBuilder,
    max_bytes: usize,
) -> Result<Fetched, OutboundError> {
    let mut response = request.send().await.map_err(describe)?;
    if response
        .content_length()
        .is_some_and(|length| length > max_bytes as u64)
    {
        return Err(OutboundError::TooLarge(max_bytes));
    }
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(100).collect());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        if body.len() + chunk.len() > max_bytes {
            return Err(OutboundError::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        status,
        content_type,
        body: Bytes::from(body),
    })
}

fn describe(error: reqwest::Error) -> OutboundError {
    // URLs may hold credentials (Green API's token is a path segment): never in the text.
    let error = error.without_url();
    if error.is_timeout() {
        return OutboundError::Timeout;
    }
    // The innermost cause is the useful part ("connection refused", "not a public address").
    let mut source: &dyn std::error::Error = &error;
    while let Some(inner) = source.source() {
        source = inner;
    }
    let text = source.to_string();
    if let Some(address) = text.strip_prefix(PRIVATE_PREFIX) {
        return OutboundError::PrivateAddress(address.to_string());
    }
    OutboundError::Connect(text.chars().take(160).collect())
}

const PRIVATE_PREFIX: &str = "refusing non-public address ";

/// Resolves with the system resolver and keeps public addresses only.
struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() {
                let shown = resolved.first().map_or(host, |a| a.ip().to_string());
                return Err(format!("{PRIVATE_PREFIX}{shown}").into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_ranges_are_not_public() {
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(address.parse().unwrap()), "{address}");
        }
        for address in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(address.parse().unwrap()), "{address}");
        }
    }

    #[tokio::test]
    async fn guarded_client_refuses_private_literals_and_names() {
        let outbound = Outbound::new(Duration::from_secs(1), false).unwrap();
        for url in [
            "http://127.0.0.1:9/",
            "http://[::1]:9/",
            "http://169.254.169.254/latest",
            "http://[::7f00:1]:9/",
            "http://[64:ff9b::7f00:1]:9/",
            "http://[2002:7f00:1::1]:9/",
            "http://[fec0::1]:9/",
            "http://198.18.0.1:9/",
        ] {
            assert!(
                matches!(
                    outbound.get_guarded(url, 100).await,
                    Err(OutboundError::PrivateAddress(_))
                ),
                "{url}"
            );
        }
        let by_name = outbound.get_guarded("http://localhost:9/", 100).await;
        assert!(
            matches!(by_name, Err(OutboundError::PrivateAddress(_))),
            "{by_name:?}"
        );
        assert_eq!(
            outbound
                .get_guarded("file:///etc/passwd", 100)
                .await
                .unwrap_err(),
            OutboundError::BadUrl
        );
    }

    #[tokio::test]
    async fn bodies_are_capped() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            // No Content-Length: the cap must hold while streaming.
            let body = vec![b'x'; 5000];
            let head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
            socket.write_all(head.as_bytes()).await.ok();
            socket.write_all(&body).await.ok();
        });
        let outbound = Outbound::new(Duration::from_secs(2), true).unwrap();
        let result = outbound
            .get_guarded(&format!("http://{address}/"), 1000)
            .await;
        assert_eq!(result.unwrap_err(), OutboundError::TooLarge(1000));
    }
}
