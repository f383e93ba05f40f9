//! Whether a domain's Libravatar SRV records point at *this* server, for the account page:
//! a Libravatar client asks the server a domain publishes (`_avatars-sec._tcp` for https
//! pages, `_avatars._tcp` for http), and falls back to libravatar.org when there is none, so a
//! photo stored here shows on other sites only for domains that point here.
//!
//! A record points here when its target is this server's host, or resolves to the same IP
//! address, on this server's port (or the scheme's default port, which a proxy in front may
//! answer). Lookups go through the cached [`super::resolver::SrvResolver`].

use std::net::IpAddr;

use super::Federation;
use super::srv::{SrvRecord, sanitise_target};

/// What the account page says about one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pointing {
    /// At least one record points at this server.
    Here,
    /// The domain publishes records, all for another server (its host, as published).
    Elsewhere(String),
    /// No usable records: clients ask libravatar.org.
    Nowhere,
    /// DNS did not answer (in time); nothing can be said yet.
    Unknown,
}

/// This server's host and port, from `base_url` (`scheme://host[:port]`).
pub fn own_endpoint(base_url: &str) -> Option<(String, u16)> {
    let url = reqwest::Url::parse(base_url).ok()?;
    let host = url
        .host_str()?
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    Some((host, url.port_or_known_default()?))
}

/// Whether `record` names this server: same host, or a host whose addresses include this
/// server's (`target_addresses`), on this server's port or a scheme default.
pub fn record_points_here(
    record: &SrvRecord,
    own: &(String, u16),
    own_addresses: &[IpAddr],
    target_addresses: &[IpAddr],
) -> bool {
    let Ok(target) = sanitise_target(record) else {
        return false;
    };
    let port_matches = target.port == own.1 || target.port == 80 || target.port == 443;
    let host_matches = target.host.eq_ignore_ascii_case(&own.0)
        || target_addresses.iter().any(|a| own_addresses.contains(a));
    port_matches && host_matches
}

/// Looks the domain's records up (http and https services, cached) and judges them.
pub async fn pointing_of(federation: &Federation, base_url: &str, domain: &str) -> Pointing {
    let Some(own) = own_endpoint(base_url) else {
        return Pointing::Unknown;
    };
    let (http_name, https_name) = (
        super::service_name(domain, false),
        super::service_name(domain, true),
    );
    let (http, https) = tokio::join!(
        federation.resolver.lookup(&http_name),
        federation.resolver.lookup(&https_name),
    );
    let timed_out = |r: &Result<_, super::resolver::DnsFailure>| {
        matches!(
            r,
            Err(super::resolver::DnsFailure::Timeout
                | super::resolver::DnsFailure::ServerFailure(_)
                | super::resolver::DnsFailure::Other(_))
        )
    };
    if timed_out(&http) && timed_out(&https) {
        return Pointing::Unknown;
    }
    let records: Vec<SrvRecord> = [http, https].into_iter().flatten().flatten().collect();
    let Some(first) = records.iter().find_map(|r| sanitise_target(r).ok()) else {
        return Pointing::Nowhere;
    };
    let own_addresses = match own.0.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => federation
            .resolver
            .lookup_addresses(&own.0)
            .await
            .unwrap_or_default(),
    };
    for record in &records {
        let target_addresses = match sanitise_target(record) {
            Ok(target) => federation
                .resolver
                .lookup_addresses(&target.host)
                .await
                .unwrap_or_default(),
            Err(_) => continue,
        };
        if record_points_here(record, &own, &own_addresses, &target_addresses) {
            return Pointing::Here;
        }
    }
    Pointing::Elsewhere(first.host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(target: &str, port: u16) -> SrvRecord {
        SrvRecord {
            priority: 0,
            weight: 0,
            port,
            target: target.into(),
        }
    }

    #[test]
    fn the_own_endpoint_has_the_scheme_default_port() {
        assert_eq!(
            own_endpoint("https://Avatars.Example.org"),
            Some(("avatars.example.org".into(), 443))
        );
        assert_eq!(
            own_endpoint("http://127.0.0.1:8080"),
            Some(("127.0.0.1".into(), 8080))
        );
        assert_eq!(own_endpoint("not a url"), None);
    }

    #[test]
    fn a_record_points_here_by_name_or_by_address_on_the_right_port() {
        let own = ("avatars.example.org".to_string(), 443);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert!(record_points_here(
            &record("avatars.example.org.", 443),
            &own,
            &[],
            &[]
        ));
        assert!(record_points_here(
            &record("AVATARS.example.org", 80),
            &own,
            &[],
            &[]
        ));
        assert!(record_points_here(
            &record("cname.example.org.", 443),
            &own,
            &[ip],
            &[ip]
        ));
        assert!(!record_points_here(
            &record("cname.example.org.", 443),
            &own,
            &[ip],
            &[other]
        ));
        assert!(!record_points_here(
            &record("avatars.example.org.", 8443),
            &own,
            &[],
            &[]
        ));
        assert!(!record_points_here(
            &record("_bad.example.org.", 443),
            &own,
            &[],
            &[]
        ));
    }
}
