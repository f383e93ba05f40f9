//! Where a photo shows, told truthfully per address: Libravatar clients (sites) ask the
//! server a domain's SRV records name, and libravatar.org when there are none, so a photo
//! stored here reaches other sites only for domains that point here (see
//! [`crate::federation::pointing`]). The account page shows this per address, and adding an
//! address whose domain does not point here says so at once.
//!
//! DNS never holds a page up for long: lookups run as tasks of their own (so the resolver's
//! cache fills even when the page stops waiting) and the page waits at most [`PAGE_WAIT`].

use std::collections::HashMap;
use std::time::Duration;

use actix_web::web;

use crate::federation::pointing::{Pointing, pointing_of};
use crate::state::AppState;

/// The longest a page waits for DNS answers before it says "not checked yet".
const PAGE_WAIT: Duration = Duration::from_millis(1500);

/// Whether an address's photo reaches sites, in words for the account page.
pub struct Reach {
    /// `here`, `elsewhere`, `nowhere` or `unknown`: the CSS class and what tests read.
    pub kind: &'static str,
    pub summary: String,
    pub advice: String,
}

/// The words for `domain` judged `pointing`.
pub fn reach_words(domain: &str, pointing: &Pointing) -> Reach {
    match pointing {
        Pointing::Here => Reach {
            kind: "here",
            summary: "Sites show this photo.".into(),
            advice: format!(
                "{domain} publishes Libravatar records that point at this server, so every \
                 site that shows Libravatar avatars asks here."
            ),
        },
        Pointing::Elsewhere(host) => Reach {
            kind: "elsewhere",
            summary: format!("Sites ask {host}, not this server."),
            advice: format!(
                "{domain} publishes Libravatar records for another server, so most sites show \
                 the photo kept there. If you run {domain}, point its records here; otherwise \
                 this photo is reached through this server's lookup API or apps set up to use \
                 this server."
            ),
        },
        Pointing::Nowhere => Reach {
            kind: "nowhere",
            summary: "Most sites will not show this photo.".into(),
            advice: format!(
                "{domain} publishes no Libravatar records, so sites ask libravatar.org for its \
                 avatars. If you run {domain}, publish SRV records that point here; otherwise \
                 this photo is reached through this server's lookup API or apps set up to use \
                 this server."
            ),
        },
        Pointing::Unknown => Reach {
            kind: "unknown",
            summary: "Not checked yet.".into(),
            advice: format!(
                "The DNS of {domain} did not answer in time; reload the page to check again."
            ),
        },
    }
}

/// How each of `domains` points, waiting at most [`PAGE_WAIT`] in all.
pub async fn pointings(
    state: &web::Data<AppState>,
    domains: Vec<String>,
) -> HashMap<String, Pointing> {
    let mut tasks = Vec::new();
    for domain in domains {
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            let pointing = pointing_of(&state.federation, &state.config.base_url, &domain).await;
            (domain, pointing)
        }));
    }
    let deadline = tokio::time::Instant::now() + PAGE_WAIT;
    let mut found = HashMap::new();
    for task in tasks {
        if let Ok(Ok((domain, pointing))) = tokio::time::timeout_at(deadline, task).await {
            found.insert(domain, pointing);
        }
    }
    found
}

/// The sentence added when an address is added whose domain does not point here, if any.
pub async fn warning_for_new_address(state: &web::Data<AppState>, domain: &str) -> Option<String> {
    let pointing = pointings(state, vec![domain.to_string()])
        .await
        .remove(domain)?;
    match pointing {
        Pointing::Here | Pointing::Unknown => None,
        other => {
            let words = reach_words(domain, &other);
            Some(format!("Note: {} {}", words.summary, words.advice))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_say_where_the_photo_shows_and_what_to_do() {
        let here = reach_words("example.org", &Pointing::Here);
        assert_eq!(here.kind, "here");
        let nowhere = reach_words("gmail.com", &Pointing::Nowhere);
        assert_eq!(nowhere.kind, "nowhere");
        assert!(nowhere.advice.contains("libravatar.org"));
        assert!(nowhere.advice.contains("lookup API"));
        let elsewhere = reach_words("example.net", &Pointing::Elsewhere("av.example.net".into()));
        assert!(elsewhere.summary.contains("av.example.net"));
        assert!(elsewhere.advice.contains("point its records here"));
        assert_eq!(reach_words("x.org", &Pointing::Unknown).kind, "unknown");
    }
}
