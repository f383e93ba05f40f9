//! Generated default images: what `/avatar/HASH` shows when there is no photo.
//!
//! One file per style, each exposing `render(digest, size[, option]) -> RgbaImage`; this file
//! names the styles, reads their per-request options (`robohash=`, `initials=`, `name=`) and
//! dispatches. Every style is our own procedural drawing, deterministic (same digest, size and
//! options give the same pixels on every machine) and drawn at the requested size, so nothing
//! is a blurry upscale. The encoded bytes are cached by the render cache (keyed by the whole
//! [`Style`], options included), so the drawing cost is paid once per (digest, size, format).

mod blank;
mod color;
pub mod flat_png;
mod identicon;
mod initials;
mod monsterid;
mod mp;
mod pagan;
mod paint;
mod retro;
mod robohash;
#[cfg(test)]
mod testkit;
mod wavatar;

use std::fmt;

use image::RgbaImage;

pub use self::robohash::RobohashSet;
use crate::identity::Digest;

/// A style Cameo draws itself, with the options that change its pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    Mp,
    Identicon,
    MonsterId,
    Wavatar,
    Retro,
    Robohash(RobohashSet),
    Pagan,
    Initials(Letters),
    Blank,
    Color,
}

/// The per-request options some styles read.
#[derive(Clone, Copy, Debug, Default)]
pub struct StyleOptions<'a> {
    /// `robohash=set1|set2|set3`; other values give set 1.
    pub robohash: Option<&'a str>,
    /// `initials=`: the letters themselves (the first three are kept).
    pub initials: Option<&'a str>,
    /// `name=`: a name to take initials from, when `initials=` is absent.
    pub name: Option<&'a str>,
}

/// Up to three characters for the `initials` style, kept inline so that a [`Style`] stays
/// `Copy` and can be part of a cache key.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Letters {
    chars: [char; 3],
    len: u8,
}

impl Letters {
    /// The letters `initials=` or `name=` give, by the rules of [`initials::letters`].
    pub fn from_options(options: &StyleOptions) -> Letters {
        let source = options.initials.or(options.name).unwrap_or_default();
        let mut letters = Letters::default();
        for c in initials::letters(source).chars().take(3) {
            letters.chars[usize::from(letters.len)] = c;
            letters.len += 1;
        }
        letters
    }

    pub fn as_str(&self) -> String {
        self.chars[..usize::from(self.len)].iter().collect()
    }
}

impl fmt::Debug for Letters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl Style {
    /// Every style, each option-taking style in its default look; the order of the gallery.
    pub const ALL: [Style; 10] = [
        Style::Mp,
        Style::Identicon,
        Style::MonsterId,
        Style::Wavatar,
        Style::Retro,
        Style::Robohash(RobohashSet::Set1),
        Style::Pagan,
        Style::Initials(Letters {
            chars: ['\0'; 3],
            len: 0,
        }),
        Style::Blank,
        Style::Color,
    ];

    /// Every distinct look: [`Style::ALL`] with all three robohash sets.
    pub fn every_look() -> impl Iterator<Item = Style> {
        Style::ALL.into_iter().flat_map(|style| match style {
            Style::Robohash(_) => vec![
                Style::Robohash(RobohashSet::Set1),
                Style::Robohash(RobohashSet::Set2),
                Style::Robohash(RobohashSet::Set3),
            ],
            other => vec![other],
        })
    }

    /// The style a `d=` value names (`mm` being the old name of `mp`), in its default look.
    pub fn from_name(name: &str) -> Option<Style> {
        let name = if name == "mm" { "mp" } else { name };
        Style::ALL.into_iter().find(|style| style.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Style::Mp => "mp",
            Style::Identicon => "identicon",
            Style::MonsterId => "monsterid",
            Style::Wavatar => "wavatar",
            Style::Retro => "retro",
            Style::Robohash(_) => "robohash",
            Style::Pagan => "pagan",
            Style::Initials(_) => "initials",
            Style::Blank => "blank",
            Style::Color => "color",
        }
    }

    /// This style with the request's options applied; styles without options are unchanged.
    pub fn with_options(self, options: &StyleOptions) -> Style {
        match self {
            Style::Robohash(_) => Style::Robohash(
                options
                    .robohash
                    .and_then(RobohashSet::from_name)
                    .unwrap_or_default(),
            ),
            Style::Initials(_) => Style::Initials(Letters::from_options(options)),
            other => other,
        }
    }

    /// The query string that asks for exactly this look, e.g. `d=robohash&robohash=set2`.
    pub fn query(self) -> String {
        match self {
            Style::Robohash(set) => format!("d=robohash&robohash={}", robohash_set_name(set)),
            Style::Initials(letters) if letters.len > 0 => {
                let encoded: String =
                    form_urlencoded::byte_serialize(letters.as_str().as_bytes()).collect();
                format!("d=initials&initials={encoded}")
            }
            other => format!("d={}", other.name()),
        }
    }

    /// Whether the drawing depends on the digest (`mp` and `blank` do not), which decides
    /// whether rendered bytes can be shared between hashes in the cache.
    pub fn depends_on_digest(self) -> bool {
        !matches!(self, Style::Mp | Style::Blank)
    }

    /// Whether drawing and encoding this style at `size` takes only tens of microseconds
    /// (the flat pixel-art styles up to 128 px, per `cargo bench --bench render`): cheaper
    /// than handing the work to another thread, so a miss draws it where it is asked.
    pub fn is_cheap_at(self, size: u32) -> bool {
        size <= 128
            && matches!(
                self,
                Style::Identicon | Style::Retro | Style::Color | Style::Blank
            )
    }

    /// Draws and encodes this style for `digest` at `size`×`size` in `format`: what a miss
    /// serves. An identicon PNG is drawn straight as palette indices.
    pub fn encode(
        self,
        digest: &Digest,
        size: u32,
        format: crate::imaging::PhotoFormat,
        jpeg_quality: u8,
    ) -> image::ImageResult<Vec<u8>> {
        let size = size.max(1);
        if self == Style::Identicon && format == crate::imaging::PhotoFormat::Png {
            let (palette, indices) = identicon::render_indexed(digest, size);
            if let Some(png) = flat_png::encode_indexed(&palette, &indices, size, size) {
                return Ok(png);
            }
        }
        flat_png::encode_generated(self.render(digest, size), format, jpeg_quality)
    }

    /// Draws this style for `digest` at exactly `size`×`size` pixels.
    pub fn render(self, digest: &Digest, size: u32) -> RgbaImage {
        let size = size.max(1);
        match self {
            Style::Mp => mp::render(size),
            Style::Identicon => identicon::render(digest, size),
            Style::MonsterId => monsterid::render(digest, size),
            Style::Wavatar => wavatar::render(digest, size),
            Style::Retro => retro::render(digest, size),
            Style::Robohash(set) => robohash::render(digest, size, set),
            Style::Pagan => pagan::render(digest, size),
            Style::Initials(letters) => initials::render(digest, size, &letters.as_str()),
            Style::Blank => blank::render(size),
            Style::Color => color::render(digest, size),
        }
    }
}

/// The `robohash=` value that selects `set`.
fn robohash_set_name(set: RobohashSet) -> &'static str {
    match set {
        RobohashSet::Set1 => "set1",
        RobohashSet::Set2 => "set2",
        RobohashSet::Set3 => "set3",
    }
}

/// The names `d=` accepts for drawn styles, in gallery order (plus the alias `mm`).
pub fn style_names() -> Vec<&'static str> {
    Style::ALL.iter().map(|style| style.name()).collect()
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::testkit::{per_mille_different, sample};
    use super::*;

    fn initials(text: &str) -> Style {
        Style::Initials(Letters::from_options(&StyleOptions {
            initials: Some(text),
            ..StyleOptions::default()
        }))
    }

    fn colour_distance(a: &image::Rgba<u8>, b: &image::Rgba<u8>) -> f64 {
        let squares: u32 = (0..3).map(|c| u32::from(a[c].abs_diff(b[c])).pow(2)).sum();
        f64::from(squares).sqrt()
    }

    #[test]
    fn every_look_renders_exactly_the_requested_size() {
        for style in Style::every_look().chain([initials("JD")]) {
            for size in [1, 2, 16, 80, 127, 512] {
                let image = style.render(&sample(1), size);
                assert_eq!(image.dimensions(), (size, size), "{style:?} at {size}");
            }
        }
    }

    #[test]
    fn every_look_is_deterministic() {
        for style in Style::every_look().chain([initials("JD")]) {
            assert_eq!(
                style.render(&sample(2), 80).as_raw(),
                style.render(&sample(2), 80).as_raw(),
                "{style:?}"
            );
        }
    }

    #[test]
    fn twenty_hashes_give_twenty_clearly_different_pictures_in_every_look() {
        let looks = Style::every_look().chain([initials("JD")]);
        for style in looks.filter(|s| s.depends_on_digest()) {
            let pictures: Vec<RgbaImage> = (0..20).map(|n| style.render(&sample(n), 64)).collect();
            for (i, a) in pictures.iter().enumerate() {
                for (j, b) in pictures.iter().enumerate().skip(i + 1) {
                    if matches!(style, Style::Color | Style::Initials(_)) {
                        // The digest picks only the colour here (the letters come from the
                        // request): every pair must be told apart side by side, at least 10
                        // apart in RGB, several just-noticeable differences.
                        let distance = colour_distance(a.get_pixel(0, 0), b.get_pixel(0, 0));
                        assert!(
                            distance >= 10.0,
                            "{style:?}: hashes {i} and {j} only {distance:.1} apart in colour"
                        );
                        continue;
                    }
                    let apart = per_mille_different(a, b);
                    assert!(
                        apart >= 50,
                        "{style:?}: hashes {i} and {j} only {apart}‰ apart"
                    );
                }
            }
        }
    }

    #[test]
    fn the_three_robohash_sets_look_different() {
        let sets = [RobohashSet::Set1, RobohashSet::Set2, RobohashSet::Set3]
            .map(|set| Style::Robohash(set).render(&sample(5), 64));
        assert!(per_mille_different(&sets[0], &sets[1]) >= 100);
        assert!(per_mille_different(&sets[0], &sets[2]) >= 100);
        assert!(per_mille_different(&sets[1], &sets[2]) >= 100);
    }

    #[test]
    fn names_round_trip_and_options_apply_only_where_they_mean_something() {
        for style in Style::ALL {
            assert_eq!(Style::from_name(style.name()), Some(style));
        }
        assert_eq!(Style::from_name("mm"), Some(Style::Mp));
        assert_eq!(Style::from_name("nope"), None);
        let options = StyleOptions {
            robohash: Some("set3"),
            initials: Some("ab"),
            name: Some("Zed Zulu"),
        };
        assert_eq!(
            Style::from_name("robohash").unwrap().with_options(&options),
            Style::Robohash(RobohashSet::Set3)
        );
        let odd_set = StyleOptions {
            robohash: Some("set9"),
            ..options
        };
        assert_eq!(
            Style::Robohash(RobohashSet::Set2).with_options(&odd_set),
            Style::Robohash(RobohashSet::Set1)
        );
        let Style::Initials(letters) = Style::from_name("initials").unwrap().with_options(&options)
        else {
            panic!("initials keeps its style");
        };
        assert_eq!(letters.as_str(), "AB", "initials= wins over name=");
        assert_eq!(Style::Retro.with_options(&options), Style::Retro);
        assert_eq!(
            Style::Robohash(RobohashSet::Set2).query(),
            "d=robohash&robohash=set2"
        );
        assert_eq!(initials("JD").query(), "d=initials&initials=JD");
        assert_eq!(Style::Mp.query(), "d=mp");
    }

    /// SHA-256 of the PNG the server would send: pins pixels and encoding together.
    fn png_digest(style: Style, digest: &Digest, size: u32) -> String {
        let picture = image::DynamicImage::ImageRgba8(style.render(digest, size));
        let png = crate::imaging::encode_picture(&picture, crate::imaging::PhotoFormat::Png, 90)
            .expect("PNG encodes");
        hex::encode(Sha256::digest(png))
    }

    #[test]
    fn golden_pngs_are_byte_identical_across_runs_and_machines() {
        let alice = Digest::md5_of("alice@example.org");
        let bob = Digest::sha256_of("bob@example.org");
        let mut actual = Vec::new();
        for style in Style::every_look().chain([initials("JD")]) {
            for (who, digest) in [("alice", &alice), ("bob", &bob)] {
                actual.push(format!(
                    "{} {who} {}",
                    style.query(),
                    png_digest(style, digest, 80)
                ));
            }
        }
        let actual = actual.join("\n");
        assert_eq!(
            actual,
            GOLDEN.trim(),
            "a drawing changed; if on purpose, update GOLDEN"
        );
    }

    const GOLDEN: &str = "
d=mp alice 7bce2d5401265ed2b39064784c00fde21a82ae1b1d5d376f3713320f0fa7898a
d=mp bob 7bce2d5401265ed2b39064784c00fde21a82ae1b1d5d376f3713320f0fa7898a
d=identicon alice baee96e6e6997f65d37a46c32b614d33e51661352105494b55b1166b2e0fe5e6
d=identicon bob 2e105f22489283738fdc7203aab6f247a87dfa99c8ee6dc4ba66269e1f391c69
d=monsterid alice ef70267ecdf624d33bbfd9b6cc68aed5fb96a531819b02714f96ac1ad438848e
d=monsterid bob bf6eca88e92b4e253993ee9bcb20fb4252fc4a3f55238ae56177e5057d6376f7
d=wavatar alice 143e921599b482bd9594e345bb772b4779ab0d5e43daec551791da0dd881b5a5
d=wavatar bob 5b814498f4eeb43e153ff3f1cb787b79b3d25625165203326ce7cfeca1f6f8a7
d=retro alice 6ac3518cb65e7c575078abd782e39bdff60183e1c6cedb78207498a8a69853d7
d=retro bob ce5807fd790458b43bdaf01b5e9bc57d7512de497efa8e63a253a8801f3ac56a
d=robohash&robohash=set1 alice 798c6782ee0d77ecccc5829ae792c156677da0e2436fdd70995d692996e07a5d
d=robohash&robohash=set1 bob 05eddf51f95935b192b57cd5fc7fc044159553ea1c10a6dab88c267ee91bed9f
d=robohash&robohash=set2 alice eca61baa0e9930ebe8dc71b6e2c649c8ba31f8b31e122ee1daca05ac393bc13a
d=robohash&robohash=set2 bob db082d3576d051c12d11905da4e6da4ee4f70c1104b34effba6912c7d5ab6688
d=robohash&robohash=set3 alice bc7668283f3331170c83ec12901c40a2503d44ddb060ebaff2c9abc91bb355e4
d=robohash&robohash=set3 bob 352401c97964265d3dc8e3c9cace52d9f84ae75cad9aeacff18ea2d700c1b1aa
d=pagan alice 2943b6806bee72eb319f4463db89190009f0614a98a15bb659933a752903d07d
d=pagan bob 2491450c64a1c328aeea1d25d14fbbc1b9d0691289744e3f56eadde46d010c42
d=initials alice 72ea02184bce3cd17ca70957af1a48402e189691a5b7652c44b5a2df020f95be
d=initials bob f94ba10122b0bbcb7110b846fb33d6246614e970b679887f4916a1faaf268cef
d=blank alice 93f197ed64807d06a13069cf542216abb0111fe5ea8943ad80826c4b1b857a47
d=blank bob 93f197ed64807d06a13069cf542216abb0111fe5ea8943ad80826c4b1b857a47
d=color alice d9cdecdab9c8ba9f2956ef3e7b6c31507c31e49b5b993276e98f68cf29249da7
d=color bob 3ffcda0efc5048444b1c6c84f0f04f727dc8ccfcbdd387d92395ea60ad7e05eb
d=initials&initials=JD alice dd85793e06ec68b55370301ffe14164edb48bf2396b9652032ec943a7d26cdcc
d=initials&initials=JD bob 2f46f7491c10e757a0bd733974965b896c0e4c43c48da092ea94235c12276738
";

    /// Rewrites `static/defaults.png`, the picture in README: every look except `blank` for
    /// four addresses at 64 px. Run `cargo test --lib write_contact_sheet -- --ignored`.
    #[test]
    #[ignore]
    fn write_contact_sheet() {
        let people = [
            ("alice@example.org", "Alice Liddell"),
            ("bob@example.org", "Bob Dylan"),
            ("carol@example.org", "Carol Shaw"),
            ("dmitri@example.org", "Дмитрий Менделеев"),
        ];
        let (side, gap) = (64u32, 8u32);
        let looks: Vec<&'static str> = Style::every_look()
            .filter(|style| *style != Style::Blank)
            .map(|style| style.name())
            .collect();
        let columns = looks.len() as u32;
        let mut sheet = RgbaImage::from_pixel(
            columns * (side + gap) + gap,
            people.len() as u32 * (side + gap) + gap,
            image::Rgba([0, 0, 0, 0]),
        );
        for (row, (address, name)) in people.iter().enumerate() {
            let options = StyleOptions {
                name: Some(name),
                ..StyleOptions::default()
            };
            let digest = Digest::md5_of(address);
            let styles = Style::every_look().filter(|style| *style != Style::Blank);
            for (column, style) in styles.enumerate() {
                let style = match style {
                    Style::Initials(_) => style.with_options(&options),
                    other => other,
                };
                let picture = style.render(&digest, side);
                let x = gap + column as u32 * (side + gap);
                let y = gap + row as u32 * (side + gap);
                image::imageops::replace(&mut sheet, &picture, x.into(), y.into());
            }
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static/defaults.png");
        sheet.save(&path).unwrap();
        println!("{} looks: {}", looks.len(), looks.join(" "));
    }
}
