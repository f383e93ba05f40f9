//! Which addresses a client-chosen fetch may connect to: the SSRF rule of
//! [`crate::outbound`] and the federation probe.
//!
//! Both IANA special-purpose address registries (IPv4 and IPv6, as of 2026) are refused
//! entry by entry, including the few entries that are globally reachable but never an avatar
//! server (anycast relays, AS112, AMT). IPv6 is accepted only inside global unicast
//! `2000::/3`, so everything IANA reserves outside it (IPv4-compatible `::/96`, `100::/64`,
//! SRv6 `5f00::/16`, ULA, link-local, site-local `fec0::/10`, multicast) is refused without
//! a table row. An IPv4 address embedded in an IPv6 form is judged by the IPv4 rules where
//! the form really reaches that IPv4 host (IPv4-mapped, NAT64's well-known prefix, which a
//! DNS64 resolver hands to IPv6-only servers, and ISATAP interface identifiers); forms that
//! tunnel through third-party relays (6to4, Teredo) are refused outright.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One refused range: its first address, prefix length and what IANA calls it.
pub struct Range<A> {
    pub network: A,
    pub prefix: u8,
    pub name: &'static str,
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8, name: &'static str) -> Range<Ipv4Addr> {
    Range {
        network: Ipv4Addr::new(a, b, c, d),
        prefix,
        name,
    }
}

const fn v6(segments: [u16; 8], prefix: u8, name: &'static str) -> Range<Ipv6Addr> {
    let [a, b, c, d, e, f, g, h] = segments;
    Range {
        network: Ipv6Addr::new(a, b, c, d, e, f, g, h),
        prefix,
        name,
    }
}

/// The IANA IPv4 Special-Purpose Address Registry, every entry (narrower entries inside a
/// listed block, such as 192.0.0.0/29 inside 192.0.0.0/24, are covered by it), plus
/// multicast and the deprecated 6to4 relay anycast.
pub const REFUSED_V4: &[Range<Ipv4Addr>] = &[
    v4(0, 0, 0, 0, 8, "\"this network\" (RFC 791)"),
    v4(10, 0, 0, 0, 8, "private use (RFC 1918)"),
    v4(100, 64, 0, 0, 10, "shared address space, CGNAT (RFC 6598)"),
    v4(127, 0, 0, 0, 8, "loopback (RFC 1122)"),
    v4(169, 254, 0, 0, 16, "link local (RFC 3927)"),
    v4(172, 16, 0, 0, 12, "private use (RFC 1918)"),
    v4(
        192,
        0,
        0,
        0,
        24,
        "IETF protocol assignments, DS-Lite, PCP/TURN anycast, NAT64 discovery (RFC 6890)",
    ),
    v4(192, 0, 2, 0, 24, "documentation TEST-NET-1 (RFC 5737)"),
    v4(192, 31, 196, 0, 24, "AS112-v4 (RFC 7535)"),
    v4(192, 52, 193, 0, 24, "AMT (RFC 7450)"),
    v4(
        192,
        88,
        99,
        0,
        24,
        "deprecated 6to4 relay anycast (RFC 7526)",
    ),
    v4(192, 168, 0, 0, 16, "private use (RFC 1918)"),
    v4(
        192,
        175,
        48,
        0,
        24,
        "direct delegation AS112 service (RFC 7534)",
    ),
    v4(198, 18, 0, 0, 15, "benchmarking (RFC 2544)"),
    v4(198, 51, 100, 0, 24, "documentation TEST-NET-2 (RFC 5737)"),
    v4(203, 0, 113, 0, 24, "documentation TEST-NET-3 (RFC 5737)"),
    v4(224, 0, 0, 0, 4, "multicast (RFC 5771)"),
    v4(
        240,
        0,
        0,
        0,
        4,
        "reserved, and limited broadcast 255.255.255.255 (RFC 1112, RFC 919)",
    ),
];

/// Global unicast, the only IPv6 space any public server is numbered from.
const GLOBAL_UNICAST: Range<Ipv6Addr> = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3, "global unicast");
/// IPv4-mapped addresses: the IPv4 host itself.
const IPV4_MAPPED: Range<Ipv6Addr> = v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96, "IPv4-mapped");
/// NAT64's well-known prefix (RFC 6052): the operator's translator reaches the IPv4 host.
const NAT64_WELL_KNOWN: Range<Ipv6Addr> = v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, "NAT64");

/// The IANA IPv6 Special-Purpose Address Registry entries inside global unicast (the rest
/// of the registry lies outside `2000::/3` and is refused with it): every one refused.
pub const REFUSED_V6: &[Range<Ipv6Addr>] = &[
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF protocol assignments: Teredo, PCP/TURN anycast, benchmarking 2001:2::/48, AMT, AS112, ORCHID, drone remote ID (RFC 2928)",
    ),
    v6(
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        32,
        "documentation (RFC 3849)",
    ),
    v6(
        [0x2002, 0, 0, 0, 0, 0, 0, 0],
        16,
        "6to4, relayed through third parties (RFC 3056)",
    ),
    v6(
        [0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0],
        48,
        "direct delegation AS112 service (RFC 7534)",
    ),
    v6(
        [0x3fff, 0, 0, 0, 0, 0, 0, 0],
        20,
        "documentation (RFC 9637)",
    ),
];

impl Range<Ipv4Addr> {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0);
        u32::from(ip) & mask == u32::from(self.network) & mask
    }
}

impl Range<Ipv6Addr> {
    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        let mask = u128::MAX
            .checked_shl(128 - u32::from(self.prefix))
            .unwrap_or(0);
        u128::from(ip) & mask == u128::from(self.network) & mask
    }
}

/// Whether a client-chosen fetch may connect to `ip`: a public unicast address that is not
/// in either special-purpose registry, judged by its IPv4 rules where it embeds one.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !REFUSED_V4.iter().any(|range| range.contains(ip))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    GLOBAL_UNICAST.contains(ip) && !REFUSED_V6.iter().any(|range| range.contains(ip))
}

/// The IPv4 host an IPv6 address really reaches: IPv4-mapped, NAT64 (well-known prefix) and
/// ISATAP interface identifiers (`…:0:5efe:a.b.c.d` and `…:200:5efe:a.b.c.d`, RFC 5214).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let low = Ipv4Addr::from(u128::from(ip) as u32);
    let segments = ip.segments();
    let isatap = segments[5] == 0x5efe && (segments[4] & 0xfdff) == 0;
    let embeds = IPV4_MAPPED.contains(ip) || NAT64_WELL_KNOWN.contains(ip) || isatap;
    embeds.then_some(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every refused range: its CIDR as the registry writes it, an address inside, and the
    /// nearest address just outside (public).
    const V4_ROWS: &[(&str, &str, &str)] = &[
        ("0.0.0.0/8", "0.255.255.255", "1.0.0.0"),
        ("10.0.0.0/8", "10.1.2.3", "11.0.0.0"),
        ("100.64.0.0/10", "100.127.255.255", "100.128.0.0"),
        ("127.0.0.0/8", "127.0.0.1", "128.0.0.0"),
        ("169.254.0.0/16", "169.254.169.254", "169.255.0.0"),
        ("172.16.0.0/12", "172.31.255.255", "172.32.0.0"),
        ("192.0.0.0/24", "192.0.0.9", "192.0.1.0"),
        ("192.0.2.0/24", "192.0.2.1", "192.0.3.0"),
        ("192.31.196.0/24", "192.31.196.1", "192.31.197.0"),
        ("192.52.193.0/24", "192.52.193.1", "192.52.194.0"),
        ("192.88.99.0/24", "192.88.99.1", "192.88.100.0"),
        ("192.168.0.0/16", "192.168.1.1", "192.169.0.0"),
        ("192.175.48.0/24", "192.175.48.1", "192.175.49.0"),
        ("198.18.0.0/15", "198.19.255.255", "198.20.0.0"),
        ("198.51.100.0/24", "198.51.100.7", "198.51.101.0"),
        ("203.0.113.0/24", "203.0.113.9", "203.0.114.0"),
        ("224.0.0.0/4", "224.0.0.1", "223.255.255.255"),
        ("240.0.0.0/4", "255.255.255.255", "223.255.255.254"),
    ];

    const V6_ROWS: &[(&str, &str, &str)] = &[
        ("2001::/23", "2001:2::1", "2001:200::1"),
        ("2001:db8::/32", "2001:db8::1", "2001:db9::1"),
        ("2002::/16", "2002:101:101::1", "2003::1"),
        ("2620:4f:8000::/48", "2620:4f:8000::1", "2620:4f:8001::1"),
        ("3fff::/20", "3fff:fff::1", "3fff:1000::1"),
    ];

    /// IPv6 refused without a table row because it lies outside `2000::/3`, or embeds an
    /// IPv4 address the IPv4 rules refuse.
    const V6_OUTSIDE_GLOBAL_OR_EMBEDDED: &[&str] = &[
        "::",
        "::1",
        "::7f00:1",         // IPv4-compatible 127.0.0.1 (deprecated ::/96)
        "::101:101",        // IPv4-compatible, even of a public address
        "::ffff:127.0.0.1", // IPv4-mapped
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",    // NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
        "64:ff9b:1::101:101", // local-use NAT64 (RFC 8215)
        "100::1",             // discard-only (RFC 6666)
        "100:0:0:1::1",       // dummy prefix (RFC 9780)
        "5f00::1",            // SRv6 SIDs (RFC 9602)
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1", // site-local (deprecated, RFC 3879)
        "ff02::1",
        "2606:4700::5efe:a00:1",      // ISATAP of 10.0.0.1
        "2606:4700::200:5efe:7f00:1", // ISATAP (universal bit) of 127.0.0.1
        "2001::1",                    // Teredo
        "2001:10::1",                 // ORCHID
        "2001:20::1",                 // ORCHIDv2
    ];

    const PUBLIC: &[&str] = &[
        "1.1.1.1",
        "93.184.216.34",
        "2606:4700:4700::1111",
        "2a00:1450:4001::1",
        "::ffff:1.1.1.1",
        "64:ff9b::101:101", // NAT64 of 1.1.1.1: how a DNS64 network reaches it
        "2606:4700::5efe:101:101", // ISATAP of a public address
    ];

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn every_refused_range_refuses_inside_and_accepts_just_outside() {
        for (cidr, inside, outside) in V4_ROWS.iter().chain(V6_ROWS) {
            assert!(!is_public(ip(inside)), "{inside} is inside {cidr}");
            assert!(is_public(ip(outside)), "{outside} is just outside {cidr}");
        }
    }

    #[test]
    fn every_range_in_the_code_has_a_row_in_the_table() {
        let v4 = REFUSED_V4
            .iter()
            .map(|r| format!("{}/{}", r.network, r.prefix));
        let v6 = REFUSED_V6
            .iter()
            .map(|r| format!("{}/{}", r.network, r.prefix));
        let listed: Vec<String> = v4.chain(v6).collect();
        let rows: Vec<&str> = V4_ROWS.iter().chain(V6_ROWS).map(|row| row.0).collect();
        assert_eq!(listed, rows);
    }

    #[test]
    fn ipv6_outside_global_unicast_or_embedding_a_refused_ipv4_is_refused() {
        for address in V6_OUTSIDE_GLOBAL_OR_EMBEDDED {
            assert!(!is_public(ip(address)), "{address}");
        }
    }

    #[test]
    fn public_addresses_and_their_embedded_forms_are_accepted() {
        for address in PUBLIC {
            assert!(is_public(ip(address)), "{address}");
        }
    }
}
