//! Generated default images: what `/avatar/HASH` shows when there is no photo.
//!
//! One file per style, each exposing `render(digest, size) -> RgbaImage`. Every style is
//! deterministic (same digest and size give the same pixels on every machine) and draws at
//! the requested size, so nothing is a blurry upscale. The encoded bytes are cached by the
//! render cache, so the drawing cost is paid once per (digest, size, format).

mod blank;
mod color;
mod identicon;
mod mp;
mod paint;
mod retro;

use image::RgbaImage;

use crate::identity::Digest;

/// A style Cameo draws itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    Mp,
    Identicon,
    Retro,
    Blank,
    Color,
}

/// Styles the protocol names that this build does not draw yet; requests for them get the
/// server's configured default (ivatar's behaviour for unknown styles).
const NOT_YET_DRAWN: [&str; 5] = ["monsterid", "wavatar", "robohash", "pagan", "initials"];

impl Style {
    pub const ALL: [Style; 5] = [
        Style::Mp,
        Style::Identicon,
        Style::Retro,
        Style::Blank,
        Style::Color,
    ];

    /// The style a `d=` value names, `mm` being the old name of `mp`.
    pub fn from_name(name: &str) -> Option<Style> {
        match name {
            "mp" | "mm" => Some(Style::Mp),
            "identicon" => Some(Style::Identicon),
            "retro" => Some(Style::Retro),
            "blank" => Some(Style::Blank),
            "color" => Some(Style::Color),
            _ => None,
        }
    }

    /// Whether the protocol names this style even though Cameo does not draw it yet.
    pub fn is_known_but_not_drawn(name: &str) -> bool {
        NOT_YET_DRAWN.contains(&name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Style::Mp => "mp",
            Style::Identicon => "identicon",
            Style::Retro => "retro",
            Style::Blank => "blank",
            Style::Color => "color",
        }
    }

    /// Whether the drawing depends on the digest (`mp` and `blank` do not), which decides
    /// whether rendered bytes can be shared between hashes in the cache.
    pub fn depends_on_digest(self) -> bool {
        !matches!(self, Style::Mp | Style::Blank)
    }

    /// Draws this style for `digest` at exactly `size`×`size` pixels.
    pub fn render(self, digest: &Digest, size: u32) -> RgbaImage {
        let size = size.max(1);
        match self {
            Style::Mp => mp::render(size),
            Style::Identicon => identicon::render(digest, size),
            Style::Retro => retro::render(digest, size),
            Style::Blank => blank::render(size),
            Style::Color => color::render(digest, size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: u8) -> Digest {
        Digest::md5_of(&format!("user{n}@example.org"))
    }

    #[test]
    fn every_style_renders_exactly_the_requested_size() {
        for style in Style::ALL {
            for size in [1, 16, 80, 127, 512] {
                let image = style.render(&sample(1), size);
                assert_eq!(image.dimensions(), (size, size), "{style:?} at {size}");
            }
        }
    }

    #[test]
    fn every_style_is_deterministic() {
        for style in Style::ALL {
            assert_eq!(
                style.render(&sample(2), 80).as_raw(),
                style.render(&sample(2), 80).as_raw(),
                "{style:?}"
            );
        }
    }

    #[test]
    fn hash_dependent_styles_differ_between_hashes() {
        for style in Style::ALL.into_iter().filter(|s| s.depends_on_digest()) {
            assert_ne!(
                style.render(&sample(3), 64).as_raw(),
                style.render(&sample(4), 64).as_raw(),
                "{style:?}"
            );
        }
    }

    #[test]
    fn style_names_round_trip() {
        for style in Style::ALL {
            assert_eq!(Style::from_name(style.name()), Some(style));
        }
        assert_eq!(Style::from_name("mm"), Some(Style::Mp));
        assert_eq!(Style::from_name("nope"), None);
        assert!(Style::is_known_but_not_drawn("wavatar"));
    }
}
