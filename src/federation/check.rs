//! The domain check: what a Libravatar client would find for a domain, email or OpenID
//! (PROTOCOL.md "Federation"), behind `/tools/check`, `/tools/check.json` and
//! `cameo check-domain`.
//!
//! For both services it reports the SRV records (each marked usable or not), the server a
//! client would pick (or the Libravatar fallback, and why), that server's A/AAAA addresses,
//! the avatar URLs (email: MD5 and SHA-256; OpenID: SHA-256), and a probe of
//! `/avatar/HASH?d=404&s=80`. Only servers the domain publishes are resolved and probed: the
//! fallback CDN is Libravatar's business, not the domain's.

use super::report::{
    AvatarUrl, CheckReport, ChosenServer, ProbeReport, Problem, RecordReport, ServiceReport,
};
use super::srv::{self, SrvRecord};
use super::{Federation, service_name};
use crate::config::Config;
use crate::identity::{Digest, Identity, IdentityError};
use crate::outbound::Outbound;

/// Longest query accepted (the longest identity Cameo accepts).
pub const MAX_QUERY_LEN: usize = crate::identity::MAX_IDENTITY_LEN;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("enter a domain, an email address or an OpenID URL to check")]
    Empty,
    #[error("the query is longer than {MAX_QUERY_LEN} characters")]
    TooLong,
    #[error("{0}")]
    BadAddress(IdentityError),
    #[error("{0:?} is not a domain name (letters, digits and '-' in dot-separated labels)")]
    BadDomain(String),
}

impl CheckError {
    /// A stable machine-readable code for `{"error": ..., "code": ...}`.
    pub fn code(&self) -> &'static str {
        match self {
            CheckError::Empty => "empty_query",
            CheckError::TooLong => "query_too_long",
            CheckError::BadAddress(_) => "invalid_address",
            CheckError::BadDomain(_) => "invalid_domain",
        }
    }
}

/// A query, understood: the domain to look up and, for an address, its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckTarget {
    pub domain: String,
    pub identity: Option<Identity>,
}

/// An http(s) URL is an OpenID, text with an `@` an email address, anything else a domain.
pub fn parse_query(query: &str) -> Result<CheckTarget, CheckError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(CheckError::Empty);
    }
    if query.len() > MAX_QUERY_LEN {
        return Err(CheckError::TooLong);
    }
    let lower_start = query.get(..8).unwrap_or(query).to_ascii_lowercase();
    let is_openid = lower_start.starts_with("http://") || lower_start.starts_with("https://");
    if !is_openid && !query.contains('@') {
        return Ok(CheckTarget {
            domain: validate_domain(query)?,
            identity: None,
        });
    }
    let identity = Identity::parse(query).map_err(CheckError::BadAddress)?;
    let domain = validate_domain(identity.domain().unwrap_or_default())?;
    Ok(CheckTarget {
        domain,
        identity: Some(identity),
    })
}

/// A DNS host name: at most 253 characters, dot-separated labels of 1-63 letters, digits and
/// hyphens, not starting or ending with a hyphen. One trailing dot is allowed and dropped.
pub fn validate_domain(text: &str) -> Result<String, CheckError> {
    let domain = text.trim().strip_suffix('.').unwrap_or(text.trim());
    let valid_label = |label: &str| {
        (1..=63).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if domain.is_empty() || domain.len() > 253 || !domain.split('.').all(valid_label) {
        return Err(CheckError::BadDomain(text.chars().take(80).collect()));
    }
    Ok(domain.to_ascii_lowercase())
}

/// Runs the whole check. Fails only on bad input; every DNS or network problem is reported.
pub async fn check(federation: &Federation, query: &str) -> Result<CheckReport, CheckError> {
    let target = parse_query(query)?;
    let (http, https) = tokio::join!(
        check_service(federation, &target, false),
        check_service(federation, &target, true),
    );
    Ok(CheckReport {
        query: query.trim().to_string(),
        kind: target.identity.as_ref().map_or("domain", Identity::kind),
        identity: target.identity.as_ref().map(|i| i.as_str().to_string()),
        domain: target.domain,
        http,
        https,
    })
}

async fn check_service(
    federation: &Federation,
    target: &CheckTarget,
    secure: bool,
) -> ServiceReport {
    let name = service_name(&target.domain, secure);
    let (records, failure) = match federation.resolver.lookup(&name).await {
        Ok(records) => (records, None),
        Err(failure) => (
            Vec::new(),
            Some(Problem {
                code: failure.code(),
                message: failure.to_string(),
            }),
        ),
    };
    let mut chosen = choose_server(&records, failure.as_ref(), secure);
    let avatar_urls = avatar_urls(&chosen.base_url, target.identity.as_ref());
    let mut probe = None;
    if chosen.source == "srv" {
        let url = format!(
            "{}/avatar/{}?d=404&s=80",
            chosen.base_url,
            probe_digest(target)
        );
        let (addresses, outcome) = tokio::join!(
            federation.resolver.lookup_addresses(&chosen.host),
            federation.prober.probe(&url),
        );
        match addresses {
            Ok(found) => chosen.addresses = found.iter().map(|ip| ip.to_string()).collect(),
            Err(failure) => {
                chosen.address_failure = Some(Problem {
                    code: failure.code(),
                    message: failure.to_string(),
                });
            }
        }
        probe = Some(ProbeReport { url, outcome });
    }
    ServiceReport {
        scheme: if secure { "https" } else { "http" },
        name,
        records: records.iter().map(record_report).collect(),
        failure,
        chosen,
        avatar_urls,
        probe,
    }
}

fn record_report(record: &SrvRecord) -> RecordReport {
    let problem = srv::sanitise_target(record).err().map(|e| e.to_string());
    RecordReport {
        priority: record.priority,
        weight: record.weight,
        port: record.port,
        target: record.target.clone(),
        usable: problem.is_none(),
        problem,
    }
}

/// Picks as a client would; explains a fallback.
fn choose_server(records: &[SrvRecord], failure: Option<&Problem>, secure: bool) -> ChosenServer {
    let picked = srv::pick_srv_record(records, srv::random_draw);
    let reason = match picked.map(srv::sanitise_target) {
        Some(Ok(target)) => {
            return ChosenServer {
                source: "srv",
                base_url: srv::base_url_for(&target, secure),
                host: target.host,
                port: target.port,
                reason: None,
                addresses: Vec::new(),
                address_failure: None,
            };
        }
        Some(Err(unusable)) => format!("the record a client picks is unusable: {unusable}"),
        None => match failure {
            Some(problem) => format!("no SRV records: {}", problem.message),
            None => "no SRV records".to_string(),
        },
    };
    let (host, port) = if secure {
        (srv::FALLBACK_HTTPS_HOST, 443)
    } else {
        (srv::FALLBACK_HTTP_HOST, 80)
    };
    ChosenServer {
        source: "fallback",
        host: host.to_string(),
        port,
        base_url: srv::fallback_base_url(secure),
        reason: Some(reason),
        addresses: Vec::new(),
        address_failure: None,
    }
}

/// Email: MD5 and SHA-256. OpenID: SHA-256 of the URL as given (its first digest).
fn avatar_urls(base_url: &str, identity: Option<&Identity>) -> Vec<AvatarUrl> {
    let digests: Vec<Digest> = match identity {
        Some(identity @ Identity::Email(_)) => identity.digests(),
        Some(identity @ Identity::OpenId(_)) => identity.digests().into_iter().take(1).collect(),
        // Phones have no domain to check; `parse` never yields one here.
        Some(Identity::Phone(_)) | None => Vec::new(),
    };
    digests
        .iter()
        .map(|digest| AvatarUrl {
            algorithm: if digest.is_md5() { "md5" } else { "sha256" },
            url: format!("{base_url}/avatar/{digest}"),
        })
        .collect()
}

/// The hash the probe asks for: the address's own (MD5 for an email, SHA-256 for an OpenID),
/// or for a bare domain one that surely has no photo, so a sensible server answers 404.
fn probe_digest(target: &CheckTarget) -> Digest {
    match &target.identity {
        Some(identity) => identity
            .digests()
            .first()
            .copied()
            .unwrap_or_else(|| Digest::md5_of(identity.as_str())),
        None => Digest::md5_of(&format!("cameo-domain-check@{}", target.domain)),
    }
}

/// `cameo check-domain`: runs the check with `config` (its `dns_servers` and
/// `allow_private_probe`) and returns what to print, text or JSON. `Err` is a one-line reason.
pub async fn check_domain_command(
    config: &Config,
    query: &str,
    json: bool,
) -> Result<String, String> {
    let outbound = Outbound::new(config.gravatar_timeout, config.allow_private_probe)?;
    let federation = Federation::new(config, outbound)?;
    let report = check(&federation, query).await.map_err(|e| e.to_string())?;
    if json {
        serde_json::to_string_pretty(&report).map_err(|e| format!("cannot write JSON: {e}"))
    } else {
        Ok(report.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_is_a_domain() {
        let target = parse_query(" Example.ORG. ").unwrap();
        assert_eq!(target.domain, "example.org");
        assert_eq!(target.identity, None);
    }

    #[test]
    fn an_email_checks_the_domain_after_its_last_at() {
        let target = parse_query("Alice@Example.org").unwrap();
        assert_eq!(target.domain, "example.org");
        assert_eq!(
            target.identity,
            Some(Identity::Email("alice@example.org".into()))
        );
    }

    #[test]
    fn an_openid_checks_its_host() {
        let target = parse_query("https://ID.example.org:8443/bob").unwrap();
        assert_eq!(target.domain, "id.example.org");
        assert!(matches!(target.identity, Some(Identity::OpenId(_))));
    }

    #[test]
    fn bad_queries_are_refused_with_a_code() {
        assert_eq!(parse_query("  ").unwrap_err().code(), "empty_query");
        let long = "a".repeat(MAX_QUERY_LEN + 1);
        assert_eq!(parse_query(&long).unwrap_err().code(), "query_too_long");
        assert_eq!(parse_query("alice@").unwrap_err().code(), "invalid_address");
        for bad in [
            "exa mple.org",
            "under_score.org",
            "-a.org",
            "a..org",
            "http://[::1]/",
        ] {
            let code = parse_query(bad).unwrap_err().code();
            assert!(
                code == "invalid_domain" || code == "invalid_address",
                "{bad}: {code}"
            );
        }
        assert_eq!(
            parse_query("bob@[10.0.0.1]").unwrap_err().code(),
            "invalid_domain"
        );
        assert!(validate_domain(&format!("{}.org", "a".repeat(64))).is_err());
    }

    #[test]
    fn email_urls_have_both_hashes_and_openid_urls_sha256_only() {
        let email = Identity::parse("alice@example.org").unwrap();
        let urls = avatar_urls("https://a.example", Some(&email));
        assert_eq!(urls.len(), 2);
        assert_eq!(urls[0].algorithm, "md5");
        assert_eq!(
            urls[0].url,
            format!("https://a.example/avatar/{}", email.digests()[0])
        );
        assert_eq!(urls[1].algorithm, "sha256");
        let openid = Identity::parse("https://example.org/bob").unwrap();
        let urls = avatar_urls("https://a.example", Some(&openid));
        assert_eq!(urls.len(), 1);
        assert_eq!(urls[0].algorithm, "sha256");
        assert!(avatar_urls("https://a.example", None).is_empty());
    }

    #[test]
    fn no_records_fall_back_with_the_reason() {
        let failure = Problem {
            code: "nxdomain",
            message: "the name does not exist (NXDOMAIN)".into(),
        };
        let chosen = choose_server(&[], Some(&failure), true);
        assert_eq!(chosen.source, "fallback");
        assert_eq!(chosen.base_url, "https://seccdn.libravatar.org");
        assert!(chosen.reason.unwrap().contains("NXDOMAIN"));
    }

    #[test]
    fn an_unusable_pick_falls_back_and_says_why() {
        let bad = SrvRecord {
            priority: 0,
            weight: 0,
            port: 0,
            target: "avatars.example.org.".into(),
        };
        let chosen = choose_server(&[bad], None, false);
        assert_eq!(chosen.base_url, "http://cdn.libravatar.org");
        assert!(chosen.reason.unwrap().contains("port 0"));
    }
}
