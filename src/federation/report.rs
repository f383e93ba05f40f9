//! What the domain check found: one [`CheckReport`], serialised as JSON for
//! `/tools/check.json` and `cameo check-domain --json`, rendered as HTML by
//! `templates/check.html`, and as plain text for the CLI by [`CheckReport::to_text`].

use std::fmt::Write as _;

use super::probe::ProbeOutcome;

#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckReport {
    /// The query as typed, trimmed.
    pub query: String,
    /// `domain`, `email` or `openid`.
    pub kind: &'static str,
    /// The normalised email address or OpenID URL, when the query was one.
    pub identity: Option<String>,
    pub domain: String,
    /// What a client does for `http://` avatar URLs (`_avatars._tcp`).
    pub http: ServiceReport,
    /// What a client does for `https://` avatar URLs (`_avatars-sec._tcp`).
    pub https: ServiceReport,
}

/// One SRV service and its consequences.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceReport {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The name looked up, e.g. `_avatars._tcp.example.org`.
    pub name: String,
    pub records: Vec<RecordReport>,
    /// Why no records were found (NXDOMAIN, no records, SERVFAIL, timeout).
    pub failure: Option<Problem>,
    pub chosen: ChosenServer,
    /// Avatar URLs for the queried address on the chosen server (none for a bare domain).
    pub avatar_urls: Vec<AvatarUrl>,
    /// The probe of the chosen server; `None` when it is the Libravatar fallback.
    pub probe: Option<ProbeReport>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordReport {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
    pub usable: bool,
    /// Why the record is unusable.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
}

/// The server a client would use.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChosenServer {
    /// `srv` (published by the domain) or `fallback` (the Libravatar CDN).
    pub source: &'static str,
    pub host: String,
    pub port: u16,
    pub base_url: String,
    /// Why the fallback is used.
    pub reason: Option<String>,
    /// The host's A and AAAA addresses (only looked up for a published server).
    pub addresses: Vec<String>,
    pub address_failure: Option<Problem>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AvatarUrl {
    /// `md5` or `sha256`.
    pub algorithm: &'static str,
    pub url: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ProbeReport {
    pub url: String,
    #[serde(flatten)]
    pub outcome: ProbeOutcome,
}

impl CheckReport {
    /// The report as the web page and `/tools/check.json` show it: DNS facts (records,
    /// addresses, failures) are public data and stay; each probe says only whether the
    /// server answers as an avatar server ([`ProbeOutcome::public_verdict`]).
    pub fn for_the_public(mut self) -> CheckReport {
        for service in [&mut self.http, &mut self.https] {
            if let Some(probe) = &mut service.probe {
                probe.outcome = probe.outcome.public_verdict();
            }
        }
        self
    }

    /// Plain text for `cameo check-domain`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Domain check for {} ({})", self.query, self.kind);
        if let Some(identity) = &self.identity {
            let _ = writeln!(out, "Normalised address: {identity}");
        }
        let _ = writeln!(out, "Domain: {}", self.domain);
        for service in [&self.http, &self.https] {
            service.write_text(&mut out);
        }
        out
    }
}

impl ServiceReport {
    fn write_text(&self, out: &mut String) {
        let _ = writeln!(out, "\n{} avatars: SRV {}", self.scheme, self.name);
        if let Some(failure) = &self.failure {
            let _ = writeln!(out, "  no SRV records: {}", failure.message);
        }
        for record in &self.records {
            let verdict = match &record.problem {
                Some(problem) => format!("UNUSABLE: {problem}"),
                None => "usable".to_string(),
            };
            let _ = writeln!(
                out,
                "  record: priority {} weight {} port {} target {}  ({verdict})",
                record.priority, record.weight, record.port, record.target
            );
        }
        let chosen = &self.chosen;
        let _ = writeln!(out, "  server a client uses: {}", chosen.base_url);
        // With a DNS failure the reason repeats the line above; otherwise it says which record.
        if let (Some(reason), None) = (&chosen.reason, &self.failure) {
            let _ = writeln!(out, "    (the Libravatar fallback: {reason})");
        }
        if !chosen.addresses.is_empty() {
            let _ = writeln!(out, "  addresses: {}", chosen.addresses.join(", "));
        }
        if let Some(failure) = &chosen.address_failure {
            let _ = writeln!(out, "  addresses: none ({})", failure.message);
        }
        for url in &self.avatar_urls {
            let _ = writeln!(out, "  avatar URL ({}): {}", url.algorithm, url.url);
        }
        match &self.probe {
            Some(probe) => {
                let verdict = if probe.outcome.ok { "OK" } else { "PROBLEM" };
                let _ = writeln!(out, "  probe: GET {}", probe.url);
                let _ = writeln!(out, "    {verdict}: {}", probe.outcome.message);
            }
            None => {
                let _ = writeln!(
                    out,
                    "  probe: not run (the domain publishes no usable server)"
                );
            }
        }
    }
}
