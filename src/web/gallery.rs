//! `/tools/defaults`: every generated default style for a few sample addresses, at 40 and
//! 128 px, with the URL to copy. The pictures are ordinary avatar URLs with `f=y`, so the page
//! shows exactly what a site embedding them would get.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::pages::{Layout, render_page};
use super::session::Visitor;
use crate::defaults::Style;
use crate::error::AppError;
use crate::identity::Digest;
use crate::state::AppState;

/// Sample people: an address (hashed as shown) and a name for `initials`.
const SAMPLES: [(&str, &str, HashKind); 3] = [
    ("alice@example.org", "Alice Liddell", HashKind::Md5),
    ("bob@example.net", "Bob Okafor", HashKind::Md5),
    ("zoë@example.com", "Zoë Ünal", HashKind::Sha256),
];

#[derive(Clone, Copy)]
enum HashKind {
    Md5,
    Sha256,
}

struct Sample {
    address: &'static str,
    hash_name: &'static str,
    /// `/avatar/HASH?s=128&…&f=y` and the same at 40 px: what the page shows.
    src_128: String,
    src_40: String,
    /// The absolute URL a site would embed.
    url: String,
}

struct Look {
    title: String,
    /// What sets this look apart, in a few words.
    note: &'static str,
    samples: Vec<Sample>,
}

#[derive(Template)]
#[template(path = "gallery.html")]
struct GalleryPage {
    layout: Layout,
    looks: Vec<Look>,
    default_style: String,
}

pub async fn gallery_page(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let page = GalleryPage {
        layout: Layout::new("Default images", &visitor, &state),
        looks: looks(&state.config.base_url),
        default_style: state.config.default_style.to_string(),
    };
    render_page(&visitor, &page, StatusCode::OK)
}

/// Every look, each with every sample.
fn looks(base_url: &str) -> Vec<Look> {
    Style::every_look()
        .map(|style| Look {
            title: match style {
                Style::Robohash(_) => style.query().replace("d=robohash&robohash=", "robohash, "),
                _ => style.name().to_string(),
            },
            note: note(style),
            samples: SAMPLES
                .iter()
                .map(|&(address, name, kind)| sample(base_url, style, address, name, kind))
                .collect(),
        })
        .collect()
}

fn sample(
    base_url: &str,
    style: Style,
    address: &'static str,
    name: &str,
    kind: HashKind,
) -> Sample {
    let (digest, hash_name) = match kind {
        HashKind::Md5 => (Digest::md5_of(address), "MD5"),
        HashKind::Sha256 => (Digest::sha256_of(address), "SHA-256"),
    };
    let query = match style {
        // Initials come from a name given in the URL.
        Style::Initials(_) => {
            let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
            format!("d=initials&name={encoded}")
        }
        _ => style.query(),
    };
    let path = |size: u32| format!("/avatar/{digest}?s={size}&{query}");
    Sample {
        address,
        hash_name,
        src_128: format!("{}&f=y", path(128)),
        src_40: format!("{}&f=y", path(40)),
        url: format!("{base_url}{}", path(128)),
    }
}

fn note(style: Style) -> &'static str {
    match style {
        Style::Mp => "the same neutral silhouette for everyone",
        Style::Identicon => "a mirrored block pattern",
        Style::MonsterId => "a little monster",
        Style::Wavatar => "a cheerful face",
        Style::Retro => "an 8-bit sprite",
        Style::Robohash(_) => "a robot or creature; robohash=set1, set2 or set3",
        Style::Pagan => "a pixel-art adventurer",
        Style::Initials(_) => "letters from initials= or name=",
        Style::Blank => "a transparent image",
        Style::Color => "one colour",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_look_has_every_sample_with_forced_defaults_and_a_clean_copy_url() {
        let looks = looks("https://avatars.example");
        assert_eq!(looks.len(), Style::every_look().count());
        for look in &looks {
            assert_eq!(look.samples.len(), SAMPLES.len());
            for sample in &look.samples {
                assert!(sample.src_128.contains("s=128") && sample.src_128.ends_with("&f=y"));
                assert!(sample.src_40.contains("s=40"));
                assert!(sample.url.starts_with("https://avatars.example/avatar/"));
                assert!(
                    !sample.url.contains("f=y"),
                    "the copied URL shows photos too"
                );
            }
        }
        let initials = looks.iter().find(|l| l.title == "initials").unwrap();
        assert!(
            initials.samples[2]
                .url
                .ends_with("d=initials&name=Zo%C3%AB+%C3%9Cnal")
        );
        assert!(looks.iter().any(|l| l.title == "robohash, set3"));
    }
}
