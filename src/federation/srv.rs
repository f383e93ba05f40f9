//! Choosing an avatar server from SRV records, exactly as every Libravatar client library does
//! it (RFC 2782 style; PROTOCOL.md "Federation"). Pure: the random draw is injected, so tests
//! pin it.
//!
//! The steps, in order:
//! 1. a single record is used as it is (whatever its priority and weight);
//! 2. otherwise only the records with the lowest priority number are kept;
//! 3. zero-weight records go first, and each record gets the running sum of the weights;
//! 4. r is drawn uniformly in `[0, total]` inclusive and the first record whose running sum is
//!    ≥ r is taken (so a zero-weight record is only taken when r = 0);
//! 5. the taken record is sanitised: one trailing dot stripped, the host must match
//!    `^[0-9a-zA-Z.-]+$` and the port be 1..=65535. If it is unusable, the pick fails and the
//!    client falls back to the Libravatar CDN — the clients do not try another record, and
//!    neither do we, so Cameo predicts what they will really do.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

/// The Libravatar fallback for plain http when a domain has no usable record.
pub const FALLBACK_HTTP_HOST: &str = "cdn.libravatar.org";
/// The Libravatar fallback for https when a domain has no usable record.
pub const FALLBACK_HTTPS_HOST: &str = "seccdn.libravatar.org";

/// One SRV record as found in DNS, target as written there (usually with a trailing dot).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SrvRecord {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

/// A sanitised host and port that a URL can be built from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerTarget {
    pub host: String,
    pub port: u16,
}

/// Why a record cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnusableTarget {
    #[error("the target {0:?} is not a host name (only letters, digits, '.' and '-' are allowed)")]
    BadHost(String),
    #[error("port 0 is not a usable port (1 to 65535)")]
    BadPort,
}

/// Picks the record a client would pick (steps 1-4), before sanitising.
///
/// `draw(total)` must return an integer in `0..=total`; production passes [`random_draw`].
/// Returns `None` only for an empty list.
pub fn pick_srv_record(
    records: &[SrvRecord],
    mut draw: impl FnMut(u32) -> u32,
) -> Option<&SrvRecord> {
    if let [only] = records {
        return Some(only);
    }
    let top_priority = records.iter().map(|r| r.priority).min()?;
    let mut candidates: Vec<&SrvRecord> = records
        .iter()
        .filter(|r| r.priority == top_priority)
        .collect();
    // A stable sort keeps the DNS order among the zero-weight and among the weighted records.
    candidates.sort_by_key(|r| r.weight != 0);
    let total = candidates
        .iter()
        .fold(0u32, |sum, r| sum.saturating_add(u32::from(r.weight)));
    let r = draw(total).min(total);
    let mut running_sum = 0u32;
    for candidate in &candidates {
        running_sum = running_sum.saturating_add(u32::from(candidate.weight));
        if running_sum >= r {
            return Some(candidate);
        }
    }
    // Unreachable with r ≤ total, but a fallback beats a panic.
    candidates.last().copied()
}

/// Sanitises a record's target (step 5).
pub fn sanitise_target(record: &SrvRecord) -> Result<ServerTarget, UnusableTarget> {
    let host = record
        .target
        .strip_suffix('.')
        .unwrap_or(&record.target)
        .to_string();
    let host_is_valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !host_is_valid {
        return Err(UnusableTarget::BadHost(
            record.target.chars().take(100).collect(),
        ));
    }
    if record.port == 0 {
        return Err(UnusableTarget::BadPort);
    }
    Ok(ServerTarget {
        host,
        port: record.port,
    })
}

/// The whole client procedure: pick, then sanitise. `None` means "fall back to the CDN".
pub fn pick_srv_target(
    records: &[SrvRecord],
    draw: impl FnMut(u32) -> u32,
) -> Option<ServerTarget> {
    pick_srv_record(records, draw).and_then(|record| sanitise_target(record).ok())
}

/// The base URL (no trailing slash) for a target: the port is left out only for https on 443
/// and http on 80, so https on port 80 is written `https://host:80`.
pub fn base_url_for(target: &ServerTarget, secure: bool) -> String {
    let scheme = if secure { "https" } else { "http" };
    let default_port = if secure { 443 } else { 80 };
    if target.port == default_port {
        format!("{scheme}://{}", target.host)
    } else {
        format!("{scheme}://{}:{}", target.host, target.port)
    }
}

/// Where clients go when a domain has no usable record.
pub fn fallback_base_url(secure: bool) -> String {
    if secure {
        format!("https://{FALLBACK_HTTPS_HOST}")
    } else {
        format!("http://{FALLBACK_HTTP_HOST}")
    }
}

/// A uniform integer in `0..=total`, for production picks.
///
/// Randomness comes from std's per-process random hasher keys mixed with a counter: no extra
/// crate, and plenty for load spreading (this is not cryptographic and need not be). The
/// modulo bias is below 2^-32 because `total` fits in 32 bits and the hash has 64.
pub fn random_draw(total: u32) -> u32 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let bound = u64::from(total) + 1;
    // bound ≤ 2^32, so the remainder fits in a u32.
    u32::try_from(hasher.finish() % bound).unwrap_or(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(priority: u16, weight: u16, port: u16, target: &str) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            port,
            target: target.to_string(),
        }
    }

    fn pinned(r: u32) -> impl FnMut(u32) -> u32 {
        move |_total| r
    }

    #[test]
    fn empty_list_picks_nothing() {
        assert_eq!(pick_srv_record(&[], pinned(0)), None);
        assert_eq!(pick_srv_target(&[], pinned(0)), None);
    }

    #[test]
    fn single_record_is_used_as_it_is_without_a_draw() {
        let records = [record(50, 0, 8080, "only.example.")];
        let picked = pick_srv_target(&records, |_| panic!("no draw for one record"));
        assert_eq!(
            picked,
            Some(ServerTarget {
                host: "only.example".into(),
                port: 8080
            })
        );
    }

    #[test]
    fn only_the_lowest_priority_number_is_kept() {
        let records = [
            record(20, 100, 80, "backup.example."),
            record(10, 1, 80, "main.example."),
        ];
        let mut totals = Vec::new();
        let picked = pick_srv_record(&records, |total| {
            totals.push(total);
            total
        });
        assert_eq!(picked.map(|r| r.target.as_str()), Some("main.example."));
        assert_eq!(totals, vec![1], "the backup's weight is not in the total");
    }

    #[test]
    fn draw_is_asked_for_the_total_weight() {
        let records = [record(0, 2, 80, "a."), record(0, 5, 80, "b.")];
        let mut seen = None;
        pick_srv_record(&records, |total| {
            seen = Some(total);
            0
        });
        assert_eq!(seen, Some(7));
    }

    #[test]
    fn first_running_sum_at_or_above_r_is_taken() {
        // Running sums: a=1, b=4, c=6.
        let records = [
            record(0, 1, 80, "a."),
            record(0, 3, 80, "b."),
            record(0, 2, 80, "c."),
        ];
        let target_for = |r| pick_srv_record(&records, pinned(r)).map(|x| x.target.clone());
        assert_eq!(target_for(0).as_deref(), Some("a."));
        assert_eq!(target_for(1).as_deref(), Some("a."));
        assert_eq!(target_for(2).as_deref(), Some("b."));
        assert_eq!(target_for(4).as_deref(), Some("b."));
        assert_eq!(target_for(5).as_deref(), Some("c."));
        assert_eq!(target_for(6).as_deref(), Some("c."));
    }

    #[test]
    fn zero_weight_records_go_first_and_win_only_when_r_is_zero() {
        let records = [record(0, 5, 80, "weighted."), record(0, 0, 80, "zero.")];
        let target_for = |r| pick_srv_record(&records, pinned(r)).map(|x| x.target.clone());
        assert_eq!(target_for(0).as_deref(), Some("zero."));
        assert_eq!(target_for(1).as_deref(), Some("weighted."));
        assert_eq!(target_for(5).as_deref(), Some("weighted."));
    }

    #[test]
    fn all_zero_weights_pick_the_first_record() {
        let records = [record(0, 0, 80, "first."), record(0, 0, 80, "second.")];
        assert_eq!(
            pick_srv_record(&records, pinned(0)).map(|x| x.target.as_str()),
            Some("first.")
        );
    }

    #[test]
    fn an_out_of_range_draw_is_clamped_to_the_total() {
        let records = [record(0, 1, 80, "a."), record(0, 1, 80, "b.")];
        assert_eq!(
            pick_srv_record(&records, pinned(99)).map(|x| x.target.as_str()),
            Some("b.")
        );
    }

    #[test]
    fn one_trailing_dot_is_stripped() {
        let target = sanitise_target(&record(0, 0, 443, "avatars.example.org.")).unwrap();
        assert_eq!(target.host, "avatars.example.org");
        let no_dot = sanitise_target(&record(0, 0, 443, "avatars.example.org")).unwrap();
        assert_eq!(no_dot.host, "avatars.example.org");
    }

    #[test]
    fn bad_hosts_are_unusable() {
        for bad in [
            "under_score.example.",
            ".",
            "",
            "sp ace.example",
            "ünï.example",
            "a/b",
        ] {
            assert!(
                matches!(
                    sanitise_target(&record(0, 0, 80, bad)),
                    Err(UnusableTarget::BadHost(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn port_zero_is_unusable_and_the_full_range_is_fine() {
        assert_eq!(
            sanitise_target(&record(0, 0, 0, "a.example.")),
            Err(UnusableTarget::BadPort)
        );
        for port in [1, 80, 443, 65535] {
            assert!(sanitise_target(&record(0, 0, port, "a.example.")).is_ok());
        }
    }

    #[test]
    fn picking_an_unusable_record_falls_back_rather_than_trying_another() {
        let records = [record(0, 0, 80, "bad_host."), record(0, 1, 80, "good.")];
        assert_eq!(pick_srv_target(&records, pinned(0)), None);
        assert!(pick_srv_target(&records, pinned(1)).is_some());
    }

    #[test]
    fn url_omits_only_the_default_port_of_its_scheme() {
        let at = |port| ServerTarget {
            host: "a.example".into(),
            port,
        };
        assert_eq!(base_url_for(&at(443), true), "https://a.example");
        assert_eq!(base_url_for(&at(80), false), "http://a.example");
        assert_eq!(base_url_for(&at(80), true), "https://a.example:80");
        assert_eq!(base_url_for(&at(443), false), "http://a.example:443");
        assert_eq!(base_url_for(&at(8080), false), "http://a.example:8080");
    }

    #[test]
    fn fallbacks_are_the_libravatar_cdns() {
        assert_eq!(fallback_base_url(false), "http://cdn.libravatar.org");
        assert_eq!(fallback_base_url(true), "https://seccdn.libravatar.org");
    }

    #[test]
    fn random_draw_stays_within_bounds() {
        assert_eq!(random_draw(0), 0);
        assert!((0..1000).all(|_| random_draw(3) <= 3));
        let seen: std::collections::HashSet<u32> = (0..1000).map(|_| random_draw(3)).collect();
        assert_eq!(seen.len(), 4, "every value in 0..=3 comes up");
    }

    /// A small deterministic generator (SplitMix64), so the statistical test never flakes.
    fn seeded_draw(seed: u64) -> impl FnMut(u32) -> u32 {
        let mut state = seed;
        move |total| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z % (u64::from(total) + 1)) as u32
        }
    }

    #[test]
    fn weights_one_to_three_share_the_picks_about_one_to_three() {
        // r ∈ {0,1,2,3,4}: "light" (sum 1) wins r ∈ {0,1} = 40%, "heavy" (sum 4) wins 60%.
        // That is the clients' exact behaviour with the inclusive draw; with a zero-weight
        // record absent, weights 1:3 give 2/5 : 3/5, not 1/4 : 3/4.
        let records = [record(0, 1, 80, "light."), record(0, 3, 80, "heavy.")];
        let mut draw = seeded_draw(7);
        let draws = 10_000;
        let light = (0..draws)
            .filter(|_| pick_srv_record(&records, &mut draw).is_some_and(|r| r.target == "light."))
            .count();
        let share = light as f64 / draws as f64;
        assert!((share - 0.4).abs() < 0.02, "light share {share}");
    }

    #[test]
    fn production_draw_spreads_by_weight_too() {
        let records = [record(0, 10, 80, "light."), record(0, 30, 80, "heavy.")];
        let draws = 10_000;
        let heavy = (0..draws)
            .filter(|_| {
                pick_srv_record(&records, random_draw).is_some_and(|r| r.target == "heavy.")
            })
            .count();
        // r ∈ 0..=40: heavy wins r ∈ 11..=40, 30/41 ≈ 73.2%.
        let share = heavy as f64 / draws as f64;
        assert!((share - 30.0 / 41.0).abs() < 0.03, "heavy share {share}");
    }
}
