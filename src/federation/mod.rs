//! Libravatar federation: SRV discovery of a domain's avatar server and the domain check
//! (PROTOCOL.md "Federation").
//!
//! - [`srv`]: picking the target from SRV records, exactly as Libravatar clients do (pure).
//! - [`resolver`]: hickory-resolver against the configured DNS servers, with TTL caching.
//! - [`check`]: the domain check behind `/tools/check` and `cameo check-domain`.
//! - [`pointing`]: whether a domain's records point at this server (the account page).
//! - [`probe`]: the check's HTTP probe of a published server, resolved through [`resolver`].
//! - [`report`]: what the check found, as JSON (serde) and as text for the CLI.

pub mod check;
pub mod pointing;
pub mod probe;
pub mod report;
pub mod resolver;
pub mod srv;

use crate::config::Config;
use crate::outbound::Outbound;

/// The SRV service a client looks up for plain-http avatar URLs.
pub const HTTP_SERVICE: &str = "_avatars._tcp";
/// The SRV service a client looks up for https avatar URLs; its target must serve HTTPS.
pub const HTTPS_SERVICE: &str = "_avatars-sec._tcp";

/// Discovery and checks, shared by the web handlers, the CLI and (later) the lookup API.
pub struct Federation {
    pub resolver: resolver::SrvResolver,
    pub outbound: Outbound,
    pub prober: probe::Prober,
    pub allow_private_probe: bool,
}

impl Federation {
    pub fn new(config: &Config, outbound: Outbound) -> Result<Federation, String> {
        let resolver = resolver::SrvResolver::new(&config.dns_servers)?;
        Ok(Federation {
            prober: probe::Prober::new(resolver.clone(), config.allow_private_probe)?,
            resolver,
            outbound,
            allow_private_probe: config.allow_private_probe,
        })
    }

    /// The base URL (`scheme://host[:port]`, no trailing slash) of the avatar server that
    /// `domain` publishes for http (`secure = false`) or https, picked as a client would.
    ///
    /// `None` when the domain has no usable record (NXDOMAIN, no records, DNS failure, or the
    /// picked record is unusable): a client then uses [`srv::fallback_base_url`], and
    /// [`Federation::discover_or_fallback`] does exactly that. Cached, so it never waits on
    /// DNS for more than a few seconds, and usually not at all.
    pub async fn discover(&self, domain: &str, secure: bool) -> Option<String> {
        let records = self
            .resolver
            .lookup(&service_name(domain, secure))
            .await
            .ok()?;
        let target = srv::pick_srv_target(&records, srv::random_draw)?;
        Some(srv::base_url_for(&target, secure))
    }

    /// [`Federation::discover`], falling back to the Libravatar CDN as clients do.
    pub async fn discover_or_fallback(&self, domain: &str, secure: bool) -> String {
        match self.discover(domain, secure).await {
            Some(base) => base,
            None => srv::fallback_base_url(secure),
        }
    }
}

/// `_avatars._tcp.DOMAIN` or `_avatars-sec._tcp.DOMAIN`.
pub fn service_name(domain: &str, secure: bool) -> String {
    let service = if secure { HTTPS_SERVICE } else { HTTP_SERVICE };
    format!("{service}.{}", domain.trim().trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_follow_the_libravatar_convention() {
        assert_eq!(
            service_name("example.org", false),
            "_avatars._tcp.example.org"
        );
        assert_eq!(
            service_name("example.org.", true),
            "_avatars-sec._tcp.example.org"
        );
    }
}
