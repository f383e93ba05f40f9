//! Who the client is when Cameo runs behind a reverse proxy: the address that login limits
//! and API rate limits count against, and whether the visitor came over HTTPS.
//!
//! `X-Forwarded-For` is a list anyone can write to: a client sends whatever it likes, and
//! each proxy appends the address it received the request from. So the header is believed
//! only as far as it was written by proxies the operator listed in `trusted_proxies`:
//! - the TCP peer must itself be a trusted proxy, or the header is not looked at at all;
//! - the list is walked right to left (nearest hop first), and each entry is taken only
//!   while the hop that wrote it is trusted; the first untrusted address is the client;
//! - a malformed entry (a name, `unknown`, an empty item) stops the walk at the last good
//!   address rather than skipping ahead into what the client wrote;
//! - only the last [`MAX_FORWARDED_LEN`] bytes are read, which hold the entries proxies
//!   appended; the client-written start of a huge header is never parsed.
//!
//! With `trusted_proxies` empty (the default) the header is ignored, so sending it cannot
//! move a client into somebody else's rate-limit window, nor out of its own.

use std::net::{IpAddr, SocketAddr};

use actix_web::HttpRequest;
use ipnet::IpNet;

use crate::config::Config;

/// How much of the end of `X-Forwarded-For` is read: room for dozens of hops, each an IPv6
/// address with a port at most.
pub const MAX_FORWARDED_LEN: usize = 1024;
/// Longest `X-Forwarded-Proto` looked at.
const MAX_PROTO_LEN: usize = 64;

/// The client's address: `peer` itself, or the nearest untrusted hop of `forwarded_for`
/// when `peer` is a trusted proxy (see the module comment for the rules).
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let mut client = peer.to_canonical();
    let Some(header) = forwarded_for else {
        return client;
    };
    for entry in forwarded_tail(header).rsplit(',') {
        if !is_trusted(client, trusted) {
            break;
        }
        match parse_hop(entry) {
            Some(hop) => client = hop,
            None => break,
        }
    }
    client
}

/// The key a rate limit or lock-out counts `client` under: an IPv4 address as it is, an
/// IPv6 address cut to its first `v6_prefix` bits (`2001:db8:1:2::/64`), since one IPv6
/// client usually holds a whole /64 and can rotate freely inside it.
pub fn limit_key(client: IpAddr, v6_prefix: u8) -> String {
    match client.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match ipnet::Ipv6Net::new(v6, v6_prefix.min(128)) {
            Ok(net) => net.trunc().to_string(),
            Err(_) => v6.to_string(),
        },
    }
}

/// [`limit_key`] of a request's client, with the configured IPv6 prefix.
pub fn limit_key_of(request: &HttpRequest, config: &Config) -> String {
    limit_key(client_ip_of(request, config), config.ipv6_client_prefix)
}

/// Whether the visitor reached the outermost proxy over HTTPS, as the trusted proxy that
/// connected to us says in `X-Forwarded-Proto`. From an untrusted peer, always `false`:
/// Cameo itself speaks plain HTTP.
pub fn is_https(peer: IpAddr, forwarded_proto: Option<&str>, trusted: &[IpNet]) -> bool {
    if !is_trusted(peer.to_canonical(), trusted) {
        return false;
    }
    forwarded_proto
        .filter(|value| value.len() <= MAX_PROTO_LEN)
        // A proxy that appends writes its own view last: the peer's word is the last item.
        .and_then(|value| value.rsplit(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// [`client_ip`] for an actix request: the TCP peer, every `X-Forwarded-For` line (several
/// lines mean one comma-joined list), and the configured trusted proxies.
pub fn client_ip_of(request: &HttpRequest, config: &Config) -> IpAddr {
    let peer = request
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |addr: SocketAddr| addr.ip());
    // The usual deployment trusts nothing: skip gathering the header on every request.
    if !is_trusted(peer.to_canonical(), &config.trusted_proxies) {
        return peer.to_canonical();
    }
    let lines: Vec<&[u8]> = request
        .headers()
        .get_all("x-forwarded-for")
        .map(|value| value.as_bytes())
        .collect();
    if lines.is_empty() {
        return client_ip(peer, None, &config.trusted_proxies);
    }
    // Bytes that are not UTF-8 become U+FFFD and so a malformed entry; they cannot hide the
    // well-formed entries the proxies appended after them.
    let joined = String::from_utf8_lossy(&lines.join(&b","[..])).into_owned();
    client_ip(peer, Some(&joined), &config.trusted_proxies)
}

fn is_trusted(address: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&address))
}

/// The last [`MAX_FORWARDED_LEN`] bytes of the header, starting at a whole entry: the
/// first, cut entry of a shortened header is dropped, so a truncated address is never
/// mistaken for another one.
fn forwarded_tail(header: &str) -> &str {
    if header.len() <= MAX_FORWARDED_LEN {
        return header;
    }
    let mut start = header.len() - MAX_FORWARDED_LEN;
    while !header.is_char_boundary(start) {
        start += 1;
    }
    let tail = &header[start..];
    tail.find(',').map_or("", |comma| &tail[comma + 1..])
}

/// One hop: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]` or
/// `[2001:db8::1]:443`, with spaces around; IPv4-mapped IPv6 addresses become IPv4.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let address = if let Ok(address) = entry.parse::<IpAddr>() {
        address
    } else if let Ok(socket) = entry.parse::<SocketAddr>() {
        socket.ip()
    } else {
        let inner = entry.strip_prefix('[')?.strip_suffix(']')?;
        inner.parse::<std::net::Ipv6Addr>().ok()?.into()
    };
    Some(address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|net| net.parse().unwrap()).collect()
    }

    const PROXY: &str = "127.0.0.1";

    #[test]
    fn ipv6_clients_are_counted_by_their_prefix() {
        assert_eq!(limit_key(ip("203.0.113.7"), 64), "203.0.113.7");
        assert_eq!(limit_key(ip("::ffff:203.0.113.7"), 64), "203.0.113.7");
        let a = limit_key(ip("2001:db8:1:2:aaaa::1"), 64);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, limit_key(ip("2001:db8:1:2:ffff:1:2:3"), 64));
        assert_ne!(a, limit_key(ip("2001:db8:1:3::1"), 64));
        assert_eq!(limit_key(ip("2001:db8:1:2::1"), 48), "2001:db8:1::/48");
        assert_eq!(limit_key(ip("2001:db8::1"), 128), "2001:db8::1/128");
    }

    #[test]
    fn without_a_header_the_peer_is_the_client() {
        let trusted = nets(&["127.0.0.0/8"]);
        assert_eq!(client_ip(ip(PROXY), None, &trusted), ip(PROXY));
        assert_eq!(client_ip(ip("203.0.113.7"), None, &[]), ip("203.0.113.7"));
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let header = Some("198.51.100.1");
        assert_eq!(client_ip(ip(PROXY), header, &[]), ip(PROXY));
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("203.0.113.7"), header, &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let trusted = nets(&["127.0.0.1/32"]);
        assert_eq!(
            client_ip(ip(PROXY), Some("198.51.100.1"), &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn what_the_client_prepended_is_ignored() {
        // The client sent "1.1.1.1, 2.2.2.2"; the proxy appended the real address.
        let trusted = nets(&["127.0.0.1/32"]);
        let header = Some("1.1.1.1, 2.2.2.2, 198.51.100.1");
        assert_eq!(client_ip(ip(PROXY), header, &trusted), ip("198.51.100.1"));
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_to_the_first_untrusted_hop() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        let header = Some("6.6.6.6, 198.51.100.1, 10.0.0.2, 10.1.2.3");
        assert_eq!(client_ip(ip(PROXY), header, &trusted), ip("198.51.100.1"));
    }

    #[test]
    fn a_chain_of_only_trusted_hops_ends_at_the_first() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        let header = Some("10.0.0.9, 10.0.0.2");
        assert_eq!(client_ip(ip(PROXY), header, &trusted), ip("10.0.0.9"));
    }

    #[test]
    fn an_untrusted_hop_in_the_middle_stops_the_walk() {
        // 203.0.113.5 is not a proxy of ours: what it says about its own client is hearsay.
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        let header = Some("10.0.0.7, 203.0.113.5, 10.0.0.2");
        assert_eq!(client_ip(ip(PROXY), header, &trusted), ip("203.0.113.5"));
    }

    #[test]
    fn ipv6_peers_and_hops_work_with_and_without_brackets_and_ports() {
        let trusted = nets(&["::1/128", "fd00::/8"]);
        for header in [
            "2001:db8::42",
            "[2001:db8::42]",
            "[2001:db8::42]:4711",
            " 2001:db8::42 , fd00::1",
            "[2001:db8::42]:1, [fd00::1]:2",
        ] {
            assert_eq!(
                client_ip(ip("::1"), Some(header), &trusted),
                ip("2001:db8::42"),
                "{header}"
            );
        }
        assert_eq!(
            client_ip(ip("::1"), Some("198.51.100.1:5555"), &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn ipv4_mapped_addresses_count_as_ipv4() {
        let trusted = nets(&["127.0.0.1/32"]);
        assert_eq!(
            client_ip(
                ip("::ffff:127.0.0.1"),
                Some("::ffff:198.51.100.1"),
                &trusted
            ),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_good_address() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        for header in [
            "unknown",
            "",
            "   ",
            "198.51.100.1,",
            "198.51.100.1, , 10.0.0.2",
            "198.51.100.1, evil.example, 10.0.0.2",
            "198.51.100.1, 10.0.0.2 10.0.0.3",
            "198.51.100.1, 1.2.3.4.5",
            "198.51.100.1, [10.0.0.2",
            "198.51.100.1, 10.0.0.2]",
            "198.51.100.1, 999.0.0.1",
            "198.51.100.1, for=10.0.0.2",
        ] {
            let found = client_ip(ip(PROXY), Some(header), &trusted);
            assert!(
                found == ip(PROXY) || found == ip("10.0.0.2"),
                "{header:?} gave {found}"
            );
            assert_ne!(found, ip("198.51.100.1"), "{header:?}: walked past garbage");
        }
    }

    #[test]
    fn a_huge_header_is_read_only_at_its_end() {
        let trusted = nets(&["127.0.0.1/32"]);
        let padding = "6.6.6.6, ".repeat(100_000);
        let header = format!("{padding}198.51.100.1");
        assert_eq!(
            client_ip(ip(PROXY), Some(&header), &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn a_cut_entry_at_the_start_of_the_tail_is_dropped() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        // Trusted hops fill the tail, which starts two bytes into "111.2.3.4": read as it
        // is, the walk would end at 1.2.3.4, an address nobody sent.
        let hops = format!("{}10.0.0.2", "10.0.0.1,".repeat(112));
        let header = format!("111.2.3.4,{hops}");
        assert_eq!(header.len(), MAX_FORWARDED_LEN + 2);
        assert_eq!(
            client_ip(ip(PROXY), Some(&header), &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(forwarded_tail(&"x".repeat(5000)), "");
        assert!(forwarded_tail(&"é".repeat(1000)).is_empty());
    }

    #[test]
    fn https_is_believed_only_from_a_trusted_proxy() {
        let trusted = nets(&["127.0.0.1/32"]);
        assert!(is_https(ip(PROXY), Some("https"), &trusted));
        assert!(is_https(ip(PROXY), Some("HTTPS"), &trusted));
        assert!(is_https(ip(PROXY), Some("http, https"), &trusted));
        assert!(!is_https(ip(PROXY), Some("https, http"), &trusted));
        assert!(!is_https(ip(PROXY), Some("http"), &trusted));
        assert!(!is_https(ip(PROXY), None, &trusted));
        assert!(!is_https(ip(PROXY), Some("https"), &[]));
        assert!(!is_https(ip("203.0.113.7"), Some("https"), &trusted));
        let long = format!("{}https", " ".repeat(100));
        assert!(!is_https(ip(PROXY), Some(&long), &trusted));
    }

    #[test]
    fn the_actix_helper_joins_repeated_header_lines() {
        use actix_web::test::TestRequest;
        let mut config = Config::for_data_dir(std::path::Path::new("/nonexistent"));
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let request = TestRequest::default()
            .peer_addr(peer)
            .append_header(("X-Forwarded-For", "6.6.6.6"))
            .append_header(("X-Forwarded-For", "198.51.100.1"))
            .to_http_request();
        assert_eq!(
            client_ip_of(&request, &config),
            ip(PROXY),
            "nothing trusted"
        );
        config.trusted_proxies = nets(&["127.0.0.1/32"]);
        assert_eq!(client_ip_of(&request, &config), ip("198.51.100.1"));
        let bare = TestRequest::default().peer_addr(peer).to_http_request();
        assert_eq!(client_ip_of(&bare, &config), ip(PROXY));
    }
}
