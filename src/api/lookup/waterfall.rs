//! The waterfall: each provider asked in order until one has the avatar, and what asking
//! one provider means (this server's addresses, the Libravatar server a domain publishes,
//! the Gravatar upstream, or a WhatsApp gateway through [`super::super::phone_lookup`]).

use std::time::Instant;

use super::super::phone_lookup;
use super::{LookupAnswer, LookupRequest, LookupResult, Outcome, Provider, Source, Subject, Tried};
use crate::config::GravatarMode;
use crate::error::AppError;
use crate::gravatar::UpstreamAnswer;
use crate::identity::Digest;
use crate::imaging::PhotoFormat;
use crate::state::AppState;

/// Tries each provider in order until one has the avatar. The first provider that would
/// reach another server spends one probe of the client's outbound budget (`Err`: spent).
pub(super) async fn run_waterfall(
    state: &AppState,
    lookup: &LookupRequest,
    client_key: &str,
) -> Result<LookupResult, AppError> {
    let sha256 = lookup.subject.avatar_digest();
    let mut tried = Vec::new();
    let mut probe_spent = false;
    for &provider in &lookup.providers {
        if !probe_spent && reaches_the_network(state, provider) {
            crate::outbound::probe_budget::spend_for(&state.pool, &state.config, client_key)
                .await?;
            probe_spent = true;
        }
        let started = Instant::now();
        let outcome = match &lookup.subject {
            Subject::Email(email) => ask_for_email(state, provider, email).await,
            Subject::Chat(chat) => phone_lookup::ask(state, provider, chat).await,
        };
        tried.push(Tried {
            provider,
            outcome: outcome.code().to_string(),
            ms: started.elapsed().as_millis() as u64,
        });
        if let Outcome::Found {
            image,
            name,
            source_url,
        } = outcome
        {
            let source = Source {
                name: provider.name().to_string(),
                url: source_url,
            };
            let answer = LookupAnswer::for_subject(&lookup.subject, image, source, tried);
            return Ok(LookupResult::Answer(LookupAnswer { name, ..answer }));
        }
    }
    let clean_miss = tried
        .iter()
        .any(|t| t.outcome == "not_found" || t.outcome == "no_server" || t.outcome == "disabled");
    if lookup.allow_default {
        let base = &state.config.base_url;
        let image = format!("{base}/avatar/{sha256}?d={}", state.config.default_style);
        let source = Source {
            name: "default".into(),
            url: base.clone(),
        };
        let answer = LookupAnswer::for_subject(&lookup.subject, image, source, tried);
        return Ok(LookupResult::Answer(LookupAnswer {
            is_default: true,
            ..answer
        }));
    }
    if clean_miss {
        Ok(LookupResult::Miss(tried))
    } else {
        let timeouts = tried.iter().all(|t| t.outcome == "timeout");
        Ok(LookupResult::Failure { tried, timeouts })
    }
}

/// Whether asking `provider` makes an outbound request (and so spends the probe budget).
fn reaches_the_network(state: &AppState, provider: Provider) -> bool {
    match provider {
        Provider::Local => false,
        Provider::Libravatar => true,
        Provider::Gravatar => state.gravatar.mode() != GravatarMode::Off,
        Provider::Gowa | Provider::Greenapi => state
            .gateways
            .is_enabled(phone_lookup::gateway_of(provider)),
    }
}

impl Subject {
    /// The SHA-256 digest its avatar is served under.
    pub fn avatar_digest(&self) -> Digest {
        match self {
            Subject::Email(email) => Digest::sha256_of(email),
            Subject::Chat(chat) => chat.digest(),
        }
    }
}

/// One email provider's answer (phone-only providers never get here: `check_providers`).
async fn ask_for_email(state: &AppState, provider: Provider, email: &str) -> Outcome {
    let md5 = Digest::md5_of(email);
    match provider {
        Provider::Local => ask_local(state, &Digest::sha256_of(email)).await,
        Provider::Libravatar => ask_libravatar(state, email, &md5).await,
        Provider::Gravatar => ask_gravatar(state, &md5).await,
        Provider::Gowa | Provider::Greenapi => Outcome::Unavailable("disabled"),
    }
}

async fn ask_local(state: &AppState, sha256: &Digest) -> Outcome {
    match state.lookup.photo_for(sha256).await {
        // A domain's default image is not the person's photo.
        Ok(Some(photo)) if !photo.domain_default => Outcome::Found {
            image: format!("{}/avatar/{sha256}", state.config.base_url),
            name: local_name(state, sha256).await,
            source_url: state.config.base_url.clone(),
        },
        Ok(_) => Outcome::NotFound,
        Err(error) => {
            tracing::error!(%error, "local lookup failed");
            Outcome::Failed
        }
    }
}

/// The display name of the address's owner, when their profile is public.
async fn local_name(state: &AppState, sha256: &Digest) -> Option<String> {
    crate::store::profiles::public_profile_for_digest(&state.pool, sha256)
        .await
        .ok()
        .flatten()
        .map(|profile| profile.display_name)
        .filter(|name| !name.is_empty())
}

async fn ask_libravatar(state: &AppState, email: &str, md5: &Digest) -> Outcome {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return Outcome::NotFound;
    };
    // The https server if the domain publishes one (what https sites embed), else http.
    let published = match state.federation.discover(domain, true).await {
        Some(base) => Some(base),
        None => state.federation.discover(domain, false).await,
    };
    let base = match published {
        Some(base) => base,
        None if state.config.libravatar_fallback.is_empty() => {
            return Outcome::Unavailable("no_server");
        }
        None => state.config.libravatar_fallback.clone(),
    };
    if base == state.config.base_url {
        // The domain's server is this one: `local` is the authority, no need to ask ourselves.
        return Outcome::Unavailable("no_server");
    }
    let image = format!("{base}/avatar/{md5}");
    let probe = state
        .federation
        .prober
        .probe(&format!("{image}?s=80&d=404"))
        .await;
    // A server that does not answer as an avatar server is `error`, however it failed
    // (refused, timed out, HTTP 503): the API does not tell third parties' ports apart.
    match probe.code {
        "image" => Outcome::Found {
            image,
            name: None,
            source_url: base,
        },
        "not_found" => Outcome::NotFound,
        _ => Outcome::Failed,
    }
}

async fn ask_gravatar(state: &AppState, md5: &Digest) -> Outcome {
    let gravatar = &state.gravatar;
    if gravatar.mode() == GravatarMode::Off {
        return Outcome::Unavailable("disabled");
    }
    match gravatar.ask(*md5, 80, PhotoFormat::Png).await {
        UpstreamAnswer::Found(_) => Outcome::Found {
            // In proxy mode our own URL serves it, so visitors never talk to Gravatar.
            image: match gravatar.mode() {
                GravatarMode::Proxy => format!("{}/avatar/{md5}", state.config.base_url),
                _ => format!("{}/avatar/{md5}", gravatar.upstream()),
            },
            name: gravatar.profile_name(*md5).await,
            source_url: gravatar.upstream().to_string(),
        },
        UpstreamAnswer::Missing => Outcome::NotFound,
        UpstreamAnswer::Failed(reason) if reason.contains("timed out") => Outcome::TimedOut,
        UpstreamAnswer::Failed(_) | UpstreamAnswer::BackingOff => Outcome::Failed,
    }
}
