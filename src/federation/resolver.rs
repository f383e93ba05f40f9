//! DNS for federation: SRV and A/AAAA lookups through hickory-resolver, against the configured
//! `dns_servers` (or the system's resolvers), with answers cached so a slow or broken DNS never
//! stalls anything (PROTOCOL.md "Federation").
//!
//! - Each query gets one attempt with a 2 s timeout, and a whole lookup is cut off at 3 s.
//! - SRV answers are cached for their TTL, but at least an hour (as the protocol asks) and at
//!   most a day; failures (NXDOMAIN, no records, SERVFAIL, timeouts) for a minute. The cache is
//!   bounded in entries, and concurrent lookups of one name share a single query.
//! - A/AAAA lookups (only the domain check needs them) rely on hickory's own TTL cache.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::{TokioResolver, lookup::Lookup};

use super::srv::SrvRecord;

const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Bounds a whole lookup (UDP, a TCP retry on truncation, several configured servers).
const LOOKUP_DEADLINE: Duration = Duration::from_secs(3);
const MIN_ANSWER_CACHE: Duration = Duration::from_secs(3600);
const MAX_ANSWER_CACHE: Duration = Duration::from_secs(86_400);
const FAILURE_CACHE: Duration = Duration::from_secs(60);
const MAX_CACHED_NAMES: u64 = 10_000;

/// Why a lookup found nothing usable, phrased for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsFailure {
    #[error("the name does not exist (NXDOMAIN)")]
    NxDomain,
    #[error("the name exists but has no {0} records")]
    NoRecords(&'static str),
    #[error("the DNS server answered {0}")]
    ServerFailure(String),
    #[error("the DNS server did not answer in time")]
    Timeout,
    #[error("the DNS lookup failed: {0}")]
    Other(String),
}

impl DnsFailure {
    /// A stable machine-readable code for JSON reports.
    pub fn code(&self) -> &'static str {
        match self {
            DnsFailure::NxDomain => "nxdomain",
            DnsFailure::NoRecords(_) => "no_records",
            DnsFailure::ServerFailure(_) => "server_failure",
            DnsFailure::Timeout => "timeout",
            DnsFailure::Other(_) => "dns_error",
        }
    }

    fn from_net_error(error: &NetError, record_type: &'static str) -> DnsFailure {
        match error {
            NetError::Dns(DnsError::NoRecordsFound(NoRecords { response_code, .. })) => {
                match *response_code {
                    ResponseCode::NXDomain => DnsFailure::NxDomain,
                    ResponseCode::NoError => DnsFailure::NoRecords(record_type),
                    code => DnsFailure::ServerFailure(describe_code(code)),
                }
            }
            NetError::Dns(DnsError::ResponseCode(code)) => {
                DnsFailure::ServerFailure(describe_code(*code))
            }
            NetError::Timeout => DnsFailure::Timeout,
            other => DnsFailure::Other(other.to_string().chars().take(160).collect()),
        }
    }
}

/// `SERVFAIL (Server Failure)`, `REFUSED (Query Refused)`, … as DNS tools print them.
fn describe_code(code: ResponseCode) -> String {
    let short = match code {
        ResponseCode::ServFail => "SERVFAIL",
        ResponseCode::Refused => "REFUSED",
        ResponseCode::FormErr => "FORMERR",
        ResponseCode::NotImp => "NOTIMP",
        ResponseCode::NotAuth => "NOTAUTH",
        _ => return format!("error code {}", u16::from(code)),
    };
    format!("{short} ({})", code.to_str())
}

/// SRV records with the TTL they may be cached for.
#[derive(Debug, Clone)]
struct SrvAnswer {
    records: Vec<SrvRecord>,
    ttl: Duration,
}

type CachedSrv = Result<SrvAnswer, DnsFailure>;

/// How long each cached outcome lives.
struct CacheLifetime;

impl moka::Expiry<String, CachedSrv> for CacheLifetime {
    fn expire_after_create(&self, _: &String, value: &CachedSrv, _: Instant) -> Option<Duration> {
        Some(answer_lifetime(value))
    }
}

fn answer_lifetime(value: &CachedSrv) -> Duration {
    match value {
        Ok(answer) => answer.ttl.clamp(MIN_ANSWER_CACHE, MAX_ANSWER_CACHE),
        Err(_) => FAILURE_CACHE,
    }
}

/// Cheap to clone: clones share the hickory resolver and the cache.
#[derive(Clone)]
pub struct SrvResolver {
    resolver: TokioResolver,
    srv_answers: moka::future::Cache<String, CachedSrv>,
}

impl SrvResolver {
    /// A resolver asking `servers` (each over UDP, and TCP for long answers), or the system's
    /// resolvers when the list is empty. An unreadable system configuration is not fatal:
    /// avatar serving must not depend on DNS, so lookups then fail with a clear message.
    pub fn new(servers: &[SocketAddr]) -> Result<SrvResolver, String> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = if servers.is_empty() {
            TokioResolver::builder_tokio().unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot read the system DNS configuration; SRV discovery will fail until dns_servers is set");
                TokioResolver::builder_with_config(ResolverConfig::default(), provider)
            })
        } else {
            let name_servers = servers.iter().map(name_server_for).collect();
            let mut builder = TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(name_servers),
                provider,
            );
            // Operator-chosen servers answer for everything: the hosts file must not hide them.
            builder.options_mut().use_hosts_file = ResolveHosts::Never;
            builder
        };
        let options = builder.options_mut();
        options.timeout = QUERY_TIMEOUT;
        options.attempts = 1;
        options.cache_size = 1024;
        // Names are always queried fully qualified; search domains would only add queries.
        options.ndots = 0;
        let resolver = builder.build().map_err(|e| format!("DNS resolver: {e}"))?;
        Ok(SrvResolver {
            resolver,
            srv_answers: moka::future::Cache::builder()
                .max_capacity(MAX_CACHED_NAMES)
                .expire_after(CacheLifetime)
                .build(),
        })
    }

    /// The SRV records of `service_name` (e.g. `_avatars._tcp.example.org`), cached.
    pub async fn lookup(&self, service_name: &str) -> Result<Vec<SrvRecord>, DnsFailure> {
        let name = fully_qualified(service_name);
        self.srv_answers
            .get_with(name.clone(), self.query_srv(name))
            .await
            .map(|answer| answer.records)
    }

    async fn query_srv(&self, name: String) -> CachedSrv {
        let lookup = self
            .with_deadline(self.resolver.srv_lookup(name), "SRV")
            .await?;
        let mut ttl = u32::MAX;
        let records: Vec<SrvRecord> = lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::SRV(srv) => {
                    ttl = ttl.min(record.ttl);
                    Some(SrvRecord {
                        priority: srv.priority,
                        weight: srv.weight,
                        port: srv.port,
                        target: srv.target.to_string(),
                    })
                }
                _ => None,
            })
            .collect();
        if records.is_empty() {
            return Err(DnsFailure::NoRecords("SRV"));
        }
        Ok(SrvAnswer {
            records,
            ttl: Duration::from_secs(u64::from(ttl)),
        })
    }

    /// The IPv4 and IPv6 addresses of `host`. Fails only when neither family has any; a real
    /// failure (timeout, SERVFAIL) is reported before a mere absence of records.
    pub async fn lookup_addresses(&self, host: &str) -> Result<Vec<IpAddr>, DnsFailure> {
        let name = fully_qualified(host);
        let (v4, v6) = tokio::join!(
            self.with_deadline(self.resolver.ipv4_lookup(name.clone()), "A"),
            self.with_deadline(self.resolver.ipv6_lookup(name), "AAAA"),
        );
        let addresses_in = |lookup: &Lookup| -> Vec<IpAddr> {
            lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                    _ => None,
                })
                .collect()
        };
        match (v4, v6) {
            (Err(v4), Err(v6)) => Err(match (&v4, &v6) {
                (DnsFailure::NoRecords(_), DnsFailure::NoRecords(_)) => {
                    DnsFailure::NoRecords("A or AAAA")
                }
                (DnsFailure::NoRecords(_) | DnsFailure::NxDomain, real) => real.clone(),
                _ => v4,
            }),
            (v4, v6) => {
                let mut addresses = Vec::new();
                for lookup in [v4, v6].iter().flatten() {
                    addresses.extend(addresses_in(lookup));
                }
                Ok(addresses)
            }
        }
    }

    async fn with_deadline(
        &self,
        query: impl Future<Output = Result<Lookup, NetError>>,
        record_type: &'static str,
    ) -> Result<Lookup, DnsFailure> {
        match tokio::time::timeout(LOOKUP_DEADLINE, query).await {
            Ok(Ok(lookup)) => Ok(lookup),
            Ok(Err(error)) => Err(DnsFailure::from_net_error(&error, record_type)),
            Err(_) => Err(DnsFailure::Timeout),
        }
    }
}

/// Lowercase with one trailing dot, so the cache key is canonical and no search domain applies.
fn fully_qualified(name: &str) -> String {
    let mut name = name.trim().to_ascii_lowercase();
    if !name.ends_with('.') {
        name.push('.');
    }
    name
}

fn name_server_for(address: &SocketAddr) -> NameServerConfig {
    let connection = |mut config: ConnectionConfig| {
        config.port = address.port();
        config
    };
    NameServerConfig::new(
        address.ip(),
        true,
        vec![
            connection(ConnectionConfig::udp()),
            connection(ConnectionConfig::tcp()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_live_at_least_an_hour_and_failures_a_minute() {
        let answer = |secs| {
            Ok(SrvAnswer {
                records: Vec::new(),
                ttl: Duration::from_secs(secs),
            })
        };
        assert_eq!(answer_lifetime(&answer(60)), MIN_ANSWER_CACHE);
        assert_eq!(answer_lifetime(&answer(7200)), Duration::from_secs(7200));
        assert_eq!(answer_lifetime(&answer(u64::MAX / 4)), MAX_ANSWER_CACHE);
        assert_eq!(answer_lifetime(&Err(DnsFailure::Timeout)), FAILURE_CACHE);
    }

    #[test]
    fn names_are_made_fully_qualified_and_lowercase() {
        assert_eq!(
            fully_qualified(" _Avatars._tcp.Example.org "),
            "_avatars._tcp.example.org."
        );
        assert_eq!(fully_qualified("a.example."), "a.example.");
    }

    #[test]
    fn failures_read_as_plain_words() {
        let nx = NetError::from(NoRecords::new(
            hickory_resolver::proto::op::Query::default(),
            ResponseCode::NXDomain,
        ));
        assert_eq!(DnsFailure::from_net_error(&nx, "SRV"), DnsFailure::NxDomain);
        let empty = NetError::from(NoRecords::new(
            hickory_resolver::proto::op::Query::default(),
            ResponseCode::NoError,
        ));
        assert_eq!(
            DnsFailure::from_net_error(&empty, "SRV").to_string(),
            "the name exists but has no SRV records"
        );
        let servfail = NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail));
        assert_eq!(
            DnsFailure::from_net_error(&servfail, "SRV").to_string(),
            "the DNS server answered SERVFAIL (Server Failure)"
        );
        assert_eq!(
            DnsFailure::from_net_error(&NetError::Timeout, "A"),
            DnsFailure::Timeout
        );
    }

    #[tokio::test]
    async fn an_unanswering_server_times_out_quickly_and_the_failure_is_cached() {
        // A bound UDP socket that never answers.
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = silent.local_addr().unwrap();
        let resolver = SrvResolver::new(&[address]).unwrap();
        let started = Instant::now();
        let first = resolver.lookup("_avatars._tcp.example.test").await;
        assert!(first.is_err(), "{first:?}");
        assert!(started.elapsed() < Duration::from_millis(3500));
        let again = Instant::now();
        assert_eq!(resolver.lookup("_avatars._tcp.example.test").await, first);
        assert!(
            again.elapsed() < Duration::from_millis(50),
            "served from the cache"
        );
    }
}
