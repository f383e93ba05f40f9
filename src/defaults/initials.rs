//! The `initials` style: up to three letters in white on a colour chosen from the digest, the
//! look of a mail client's contact picture.
//!
//! **Letters.** [`letters`] turns an `initials=` or `name=` value into at most three upper-case
//! characters; its doc comment holds the exact rules.
//!
//! **Colour.** The hue comes from the digest's first two bytes (the same hue as the `color`
//! style, so a person keeps their colour across the two styles), the saturation (55–75 %) from
//! the third. The lightness is then the highest one (at most 70 %) at which white text keeps a
//! WCAG contrast of at least 3.6:1 to 5.0:1, the target picked by the fourth byte: well above
//! the 3:1 that WCAG asks of large text, for every hue, yellows and cyans included (they come
//! out as mustard and teal rather than washed-out pastels).
//!
//! **Type.** The letters are DejaVu Sans Bold (bundled in `static/fonts/`, Bitstream Vera
//! licence, see `LICENSE-DejaVu.txt` there), laid out with the font's advances and its `kern`
//! table, and rasterised with `ab_glyph` straight from the outlines at the requested size:
//! anti-aliased, never resampled. Sizing and centring use the outlines' real ink bounds, not
//! line metrics:
//! - one or two letters get a cap height of 46 % of the side, three letters 40 %;
//! - the ink may be at most 80 % of the side wide and 70 % high, and its bounding box must
//!   fit in a circle of 86 % of the side, so a round crop never comes near it (wide pairs such
//!   as ЖК or WM, descenders and accents make the letters smaller than that cap height);
//! - below 48 px these limits grow, up to 12 % at 16 px, for legibility;
//! - the ink box is centred both ways; the baseline lands on a whole pixel and the cap height
//!   is a whole number of pixels, so the flat tops and bottoms of E, Д, Ж stay crisp at 16 px.
//!
//! Letters from right-to-left scripts (Hebrew, Arabic, …) are drawn right to left.
//!
//! **Fallback.** When there are no letters, or one of them has no glyph in the font (CJK, most
//! Indic scripts, Thai, emoji, …), a white head-and-shoulders silhouette (the geometry of the
//! `mp` style) is drawn on the colour instead: a tofu box would look broken, a bare colour
//! would be indistinguishable from the `color` style.
//!
//! Everything is deterministic: integer HSL, IEEE-exact arithmetic for the contrast search
//! (no `powf`), and `ab_glyph`'s plain `f32` rasteriser.

use std::sync::LazyLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, point};
use image::RgbaImage;
use unicode_segmentation::UnicodeSegmentation;

use super::color::hsl;
use super::paint::{Canvas, Rgb, Shape, blend};
use crate::identity::Digest;

/// DejaVu Sans Bold 2.37, from Debian's fonts-dejavu-core.
static FONT_DATA: &[u8] = include_bytes!("../../static/fonts/DejaVuSans-Bold.ttf");

/// The parsed font and its cap height, parsed once. `None` only if the bundled file were
/// broken (a test makes sure it is not); every picture would then be the fallback.
static FONT: LazyLock<Option<Typeface>> = LazyLock::new(|| {
    let font = FontRef::try_from_slice(FONT_DATA).ok()?;
    let cap_height = font.outline(font.glyph_id('H'))?.bounds.min.y;
    Some(Typeface { font, cap_height })
});

struct Typeface {
    font: FontRef<'static>,
    /// Height of a flat capital (the top of `H`) in font units.
    cap_height: f32,
}

/// The most characters drawn.
const MAX_LETTERS: usize = 3;

/// Text colour.
const WHITE: Rgb = [255, 255, 255];

/// Cap height as a share of the side, for one or two letters and for three.
const CAP_SHARE: f32 = 0.46;
const CAP_SHARE_THREE: f32 = 0.40;
/// Widest and tallest the ink may be, as shares of the side.
const MAX_WIDTH_SHARE: f32 = 0.80;
const MAX_HEIGHT_SHARE: f32 = 0.70;
/// Longest the diagonal of the ink box may be: it then fits in a circle of this diameter,
/// inside the circle a round crop leaves.
const MAX_DIAGONAL_SHARE: f32 = 0.86;
/// Small pictures give the letters up to this much more room (fully at 16 px and below,
/// fading out by 48 px): legibility matters more than margins there.
const SMALL_BOOST: f32 = 0.12;

/// Lightness bounds (percent) of the background search.
const MAX_LIGHTNESS: u32 = 70;
const MIN_LIGHTNESS: u32 = 15;
/// Contrast of white on the background, in hundredths: the lowest target and its range.
const MIN_CONTRAST: u32 = 360;
const CONTRAST_RANGE: u32 = 140;

/// The fallback silhouette: head and shoulders, as fractions of the side (as in `mp`).
const HEAD_CENTRE: (f32, f32) = (0.5, 0.385);
const HEAD_RADIUS: f32 = 0.185;
const BODY_CENTRE: (f32, f32) = (0.5, 0.98);
const BODY_HALF: (f32, f32) = (0.34, 0.32);
const BODY_RADIUS: f32 = 0.26;
/// The silhouette is a little softer than the letters would be.
const SILHOUETTE_OPACITY: f32 = 0.92;

/// The letters to draw for an `initials=` or `name=` value: at most 3 characters, "" when
/// nothing usable is left.
///
/// The rules, in order:
/// 1. Surrounding whitespace is trimmed. The value is split into words at whitespace and at
///    `.`, `_` and `-` (so `john.doe`, `john_doe` and `Jean-Luc` are several words).
/// 2. Only *letters* count: grapheme clusters (user-perceived characters) whose first
///    character is alphabetic or numeric (`char::is_alphanumeric`) and that are not emoji (a
///    cluster with the emoji selector U+FE0F or the keycap mark U+20E3, such as `1️⃣` or `ℹ️`,
///    is an emoji). Punctuation, symbols, emoji and control characters are skipped, and a
///    word without letters is ignored altogether.
/// 3. A value with a single word (that has letters) of at most 3 letters is taken as initials
///    already, all its letters kept (`ab` → `AB`, `JD` → `JD`, `王小明` → `王小明`), unless it
///    is a capitalised name: an upper-case first letter followed by a lower-case one (`Bob` →
///    `B`, `Al` → `A`).
/// 4. Otherwise the first letter of each of the first 3 words is taken (`Ada Lovelace` →
///    `AL`, `Jean-Luc Picard` → `JLP`, `a.b.c.d` → `ABC`; one longer word gives one letter,
///    `Anna` → `A`).
/// 5. Of each letter only its base character is kept: combining marks are dropped, because
///    the renderer does no mark positioning (precomposed `É` keeps its accent; `E` + U+0301
///    gives `E`).
/// 6. Each character is upper-cased with the full Unicode mapping, which may expand
///    (`ß` → `SS`); characters of the expansion that are not alphanumeric are dropped. When the
///    font has a glyph for the lower-case character but not for its upper case (Georgian
///    Mkhedruli, whose capitals are recent), the lower case is kept.
/// 7. The result is cut to its first 3 characters (`ß ß` → `SSS`).
pub fn letters(source: &str) -> String {
    let words: Vec<(&str, char)> = source
        .trim()
        .split(|c: char| c.is_whitespace() || matches!(c, '.' | '_' | '-'))
        .filter_map(|word| Some((word, word.graphemes(true).find_map(base_letter)?)))
        .take(MAX_LETTERS)
        .collect();
    let picked: Vec<char> = match words.as_slice() {
        [] => return String::new(),
        [(word, first)] => {
            let all: Vec<char> = word
                .graphemes(true)
                .filter_map(base_letter)
                .take(MAX_LETTERS + 1)
                .collect();
            let capitalised =
                first.is_uppercase() && all.get(1).is_some_and(|second| second.is_lowercase());
            if all.len() <= MAX_LETTERS && !capitalised {
                all
            } else {
                vec![*first]
            }
        }
        several => several.iter().map(|&(_, letter)| letter).collect(),
    };
    picked
        .into_iter()
        .flat_map(upper_case)
        .filter(|c| c.is_alphanumeric())
        .take(MAX_LETTERS)
        .collect()
}

/// The base character of a grapheme cluster that is a letter or digit (not an emoji).
fn base_letter(cluster: &str) -> Option<char> {
    let base = cluster.chars().next()?;
    let emoji = cluster
        .chars()
        .any(|c| matches!(c, '\u{FE0F}' | '\u{20E3}'));
    (base.is_alphanumeric() && !emoji).then_some(base)
}

/// `c` in upper case, unless only the lower case can be drawn (see rule 6 of [`letters`]).
fn upper_case(c: char) -> Vec<char> {
    let upper: Vec<char> = c.to_uppercase().collect();
    let drawable = |c: char| FONT.as_ref().is_some_and(|t| t.font.glyph_id(c).0 != 0);
    if upper.iter().all(|&u| drawable(u)) || !drawable(c) {
        upper
    } else {
        vec![c]
    }
}

/// A `size`×`size` opaque picture of `letters` on a colour chosen from `digest`.
///
/// At most the first 3 characters of `letters` are drawn. When `letters` is empty, or holds
/// a character the font cannot draw (no glyph, or only blank ones such as spaces), the picture
/// is the fallback silhouette on the same colour.
pub fn render(digest: &Digest, size: u32, letters: &str) -> RgbaImage {
    let mut canvas = Canvas::new(size, background(digest));
    let Some((typeface, line)) = FONT
        .as_ref()
        .and_then(|t| Some((t, Line::lay_out(t, letters)?)))
    else {
        draw_silhouette(&mut canvas);
        return canvas.into_image();
    };
    let mut image = canvas.into_image();
    draw_line(&mut image, typeface, &line);
    image
}

/// The background for `digest`: see the module documentation.
fn background(digest: &Digest) -> Rgb {
    let bytes = digest.as_bytes();
    let hue = u32::from(u16::from_be_bytes([bytes[0], bytes[1]])) * 360 / 65_536;
    let saturation = 55 + u32::from(bytes[2]) % 21; // 55..=75 %
    let contrast = MIN_CONTRAST + u32::from(bytes[3]) * CONTRAST_RANGE / 255; // 3.60..=5.00
    let colour = (MIN_LIGHTNESS..=MAX_LIGHTNESS)
        .rev()
        .map(|lightness| hsl(hue, saturation, lightness))
        .find(|colour| contrast_with_white(rgb(*colour)) * 100.0 >= f64::from(contrast))
        .unwrap_or_else(|| hsl(hue, saturation, MIN_LIGHTNESS));
    rgb(colour)
}

fn rgb(pixel: image::Rgba<u8>) -> Rgb {
    [pixel[0], pixel[1], pixel[2]]
}

/// The WCAG 2 contrast ratio of white text on `colour`: 1.05 / (L + 0.05).
fn contrast_with_white(colour: Rgb) -> f64 {
    let [r, g, b] = colour.map(linear);
    let luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    1.05 / (luminance + 0.05)
}

/// An sRGB channel in linear light (the WCAG formula), with `y^2.4` computed as
/// `y² · (y²)^(1/5)` by Newton's method so that only IEEE-exact operations are used.
fn linear(channel: u8) -> f64 {
    let v = f64::from(channel) / 255.0;
    if v <= 0.04045 {
        return v / 12.92;
    }
    let y = (v + 0.055) / 1.055; // 0.052..=1
    let square = y * y;
    // The fifth root of square (≥ 0.0027, root ≥ 0.3), approached from above.
    let mut root = 1.0;
    for _ in 0..40 {
        root = (4.0 * root + square / (root * root * root * root)) / 5.0;
    }
    square * root
}

/// Letters laid out on a baseline, in font units (y up), pen starting at 0.
struct Line {
    /// Each glyph and the pen position it is drawn at.
    glyphs: Vec<(GlyphId, f32)>,
    /// Ink bounds of the whole line: left, bottom, right, top.
    ink: (f32, f32, f32, f32),
    count: usize,
}

impl Line {
    /// `None` when there is nothing drawable: see [`render`].
    fn lay_out(typeface: &Typeface, letters: &str) -> Option<Line> {
        let font = &typeface.font;
        let mut chars: Vec<char> = letters.chars().take(MAX_LETTERS).collect();
        if chars.iter().all(|&c| is_right_to_left(c)) {
            chars.reverse();
        }
        let mut glyphs = Vec::with_capacity(chars.len());
        let mut ink: Option<(f32, f32, f32, f32)> = None;
        let mut pen = 0.0;
        let mut previous: Option<GlyphId> = None;
        for c in chars.iter().copied() {
            let id = font.glyph_id(c);
            if id.0 == 0 {
                return None;
            }
            if let Some(previous) = previous {
                pen += font.kern_unscaled(previous, id);
            }
            if let Some(outline) = font.outline(id) {
                // ab_glyph's unscaled bounds: min is (x_min, y_max), max is (x_max, y_min).
                let b = outline.bounds;
                let glyph_ink = (pen + b.min.x, b.max.y, pen + b.max.x, b.min.y);
                ink = Some(match ink {
                    None => glyph_ink,
                    Some(i) => (
                        i.0.min(glyph_ink.0),
                        i.1.min(glyph_ink.1),
                        i.2.max(glyph_ink.2),
                        i.3.max(glyph_ink.3),
                    ),
                });
                glyphs.push((id, pen));
            }
            pen += font.h_advance_unscaled(id);
            previous = Some(id);
        }
        let ink = ink?;
        Some(Line {
            glyphs,
            ink,
            count: chars.len(),
        })
    }
}

/// Whether `c` belongs to a right-to-left script (Hebrew, Arabic, Syriac, Thaana, N'Ko and
/// their presentation forms).
fn is_right_to_left(c: char) -> bool {
    matches!(c,
        '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

/// Draws `line` in white, sized and centred as the module documentation says.
fn draw_line(image: &mut RgbaImage, typeface: &Typeface, line: &Line) {
    let font = &typeface.font;
    let side = image.width() as f32;
    let (left, bottom, right, top) = line.ink;
    let (width, height) = ((right - left).max(1.0), (top - bottom).max(1.0));
    let cap_share = if line.count >= 3 {
        CAP_SHARE_THREE
    } else {
        CAP_SHARE
    };
    let boost = 1.0 + SMALL_BOOST * ((48.0 - side) / 32.0).clamp(0.0, 1.0);
    let room = side * boost;
    // Pixels per font unit: the cap height wanted, unless the ink would be too wide or tall.
    let mut scale = (room * cap_share / typeface.cap_height)
        .min(room * MAX_WIDTH_SHARE / width)
        .min(room * MAX_HEIGHT_SHARE / height)
        .min(room * MAX_DIAGONAL_SHARE / (width * width + height * height).sqrt());
    // A whole number of pixels of cap height, once there are a few.
    let cap_pixels = (typeface.cap_height * scale).floor();
    if cap_pixels >= 4.0 {
        scale = cap_pixels / typeface.cap_height;
    }
    let centre = side / 2.0;
    let origin_x = centre - (left + right) / 2.0 * scale;
    let baseline = (centre + (top + bottom) / 2.0 * scale).round();
    let px_scale = PxScale::from(scale * font.height_unscaled());

    for &(id, pen) in &line.glyphs {
        let glyph = id.with_scale_and_position(px_scale, point(origin_x + pen * scale, baseline));
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|x, y, coverage| {
            let px = bounds.min.x + x as f32;
            let py = bounds.min.y + y as f32;
            if px < 0.0 || py < 0.0 || px >= side || py >= side {
                return;
            }
            let pixel = image.get_pixel_mut(px as u32, py as u32);
            let coverage = coverage.clamp(0.0, 1.0);
            for channel in 0..3 {
                pixel[channel] = blend(pixel[channel], WHITE[channel], coverage);
            }
        });
    }
}

/// The fallback: a white head and shoulders.
fn draw_silhouette(canvas: &mut Canvas) {
    let head = Shape::Circle {
        centre: HEAD_CENTRE,
        radius: HEAD_RADIUS,
    };
    let body = Shape::RoundedBox {
        centre: BODY_CENTRE,
        half: BODY_HALF,
        corner: BODY_RADIUS,
    };
    canvas.fill_with_opacity(&head, WHITE, SILHOUETTE_OPACITY);
    canvas.fill_with_opacity(&body, WHITE, SILHOUETTE_OPACITY);
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{fingerprint, sample};
    use super::*;

    /// The WCAG formula with `powf`, to check the IEEE-exact one against.
    fn wcag_contrast(colour: Rgb) -> f64 {
        let [r, g, b] = colour.map(|c| {
            let v = f64::from(c) / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        });
        1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)
    }

    fn corner(image: &RgbaImage) -> Rgb {
        rgb(*image.get_pixel(0, 0))
    }

    /// Share of the middle half of the picture that is ink: pixels at least halfway from the
    /// background colour (the corner) to white in every channel. Tiny thin letters at 16 px
    /// are anti-aliased to tints, so "near white" alone would miss them.
    fn ink_share_in_centre(image: &RgbaImage) -> f64 {
        let size = image.width();
        let background = corner(image);
        let (low, high) = (size / 4, size - size / 4);
        let mut ink = 0;
        let mut all = 0;
        for y in low..high {
            for x in low..high {
                all += 1;
                let pixel = image.get_pixel(x, y).0;
                if (0..3).all(|c| u32::from(pixel[c]) * 2 >= u32::from(background[c]) + 255) {
                    ink += 1;
                }
            }
        }
        f64::from(ink) / f64::from(all.max(1))
    }

    #[test]
    fn letters_of_ascii_names_and_initials() {
        for (source, expected) in [
            ("Ada Lovelace", "AL"),
            ("  ada   lovelace  ", "AL"),
            ("Grace Brewster Murray Hopper", "GBM"),
            ("Jean-Luc Picard", "JLP"),
            ("john.doe", "JD"),
            ("john_doe_99", "JD9"),
            ("a.b.c.d", "ABC"),
            ("J. R. R. Tolkien", "JRR"),
            ("Anna", "A"),
            ("Bob", "B"),
            ("Al", "A"),
            ("ab", "AB"),
            ("jd", "JD"),
            ("JD", "JD"),
            ("xyz", "XYZ"),
            ("ABCD", "A"),
            ("42", "42"),
            ("R2 D2", "RD"),
            ("(Bob) O'Brien", "BO"),
            ("& Co", "C"),
            ("", ""),
            ("   ", ""),
            ("-._ ", ""),
        ] {
            assert_eq!(letters(source), expected, "{source:?}");
        }
    }

    #[test]
    fn letters_of_other_scripts() {
        for (source, expected) in [
            ("Émile Zola", "ÉZ"),
            ("émile zola", "ÉZ"),
            ("Zoë Ünal", "ZÜ"),
            ("Øyvind Ågren", "ØÅ"),
            ("E\u{301}mile Zola", "EZ"),
            ("Γιώργος Παπαδόπουλος", "ΓΠ"),
            ("ωμέγα", "Ω"),
            ("Жанна Кузнецова", "ЖК"),
            ("юрий гагарин", "ЮГ"),
            ("ЖК", "ЖК"),
            ("王", "王"),
            ("王小明", "王小明"),
            ("欧阳娜娜", "欧"),
            ("山田 太郎", "山太"),
            ("דוד לוי", "דל"),
            ("ß", "SS"),
            ("ßara", "SS"),
            ("ß ß", "SSS"),
            ("straße müller", "SM"),
            ("ǆemal", "Ǆ"),
            ("ნინო", "ნ"),
        ] {
            assert_eq!(letters(source), expected, "{source:?}");
        }
    }

    #[test]
    fn emoji_symbols_and_control_characters_are_skipped() {
        for (source, expected) in [
            ("😀", ""),
            ("😀🎉 👍🏽 ❤️", ""),
            ("👨‍👩‍👧‍👦", ""),
            ("🇫🇷", ""),
            ("1️⃣ #️⃣ ℹ️", ""),
            ("★ ♥ → ∑", ""),
            ("😀 Ada 🎉 Lovelace", "AL"),
            ("😀ab", "AB"),
            ("\u{0}\u{7}\u{1b}", ""),
            ("\u{0}J\tD\n", "JD"),
            ("J\u{0}D", "JD"),
            ("\u{202E}Ada\u{202C} \u{200B}Lovelace", "AL"),
            ("Z\u{335}\u{321}\u{31b}algo", "Z"),
        ] {
            assert_eq!(letters(source), expected, "{source:?}");
        }
    }

    #[test]
    fn letters_of_very_long_input_are_at_most_three() {
        assert_eq!(letters(&"a".repeat(100_000)), "A");
        assert_eq!(letters(&"ab ".repeat(100_000)), "AAA");
        assert_eq!(letters(&"ß".repeat(100_000)), "SS");
        assert_eq!(letters(&"😀".repeat(100_000)), "");
        assert_eq!(letters(&format!("{}x", " ".repeat(100_000))), "X");
        assert_eq!(letters(&"\u{301}".repeat(100_000)), "");
        for source in ["ß ß ß", "ﬃ ﬃ", "ΐΐΐ", "Grace Brewster Murray Hopper"] {
            assert!(letters(source).chars().count() <= 3, "{source:?}");
        }
    }

    #[test]
    fn every_letter_picked_from_latin_greek_and_cyrillic_names_has_a_glyph() {
        let font = &FONT.as_ref().expect("the bundled font parses").font;
        for source in [
            "Émile Zola",
            "Γιώργος",
            "Жанна Кузнецова",
            "ß",
            "ნინო",
            "דוד",
        ] {
            for c in letters(source).chars() {
                assert_ne!(font.glyph_id(c).0, 0, "{c:?} of {source:?}");
            }
        }
    }

    #[test]
    fn the_exact_contrast_matches_the_powf_formula() {
        for c in 0..=255u8 {
            let exact = wcag_contrast([c, c, c]);
            assert!((contrast_with_white([c, c, c]) - exact).abs() < 1e-9, "{c}");
        }
    }

    #[test]
    fn white_text_has_at_least_3_6_to_1_contrast_on_every_background() {
        let (mut lowest, mut highest) = (f64::MAX, 0.0f64);
        let mut check = |digest: &Digest| {
            let contrast = wcag_contrast(background(digest));
            lowest = lowest.min(contrast);
            highest = highest.max(contrast);
        };
        for n in 0..3000 {
            check(&sample(n));
        }
        // Every hue, saturation and target, through the first four bytes.
        for hue in (0..=u16::MAX).step_by(97) {
            for (s, c) in [(0u8, 0u8), (20, 0), (0, 255), (20, 255), (7, 128)] {
                let [h0, h1] = hue.to_be_bytes();
                let mut bytes = [0u8; 16];
                bytes[..4].copy_from_slice(&[h0, h1, s, c]);
                check(&Digest::Md5(bytes));
            }
        }
        println!("contrast of white: {lowest:.2}..{highest:.2}");
        assert!(
            lowest >= 3.6,
            "WCAG large text asks for 3:1; we keep 3.6:1, got {lowest}"
        );
        assert!(highest < 7.0, "backgrounds stay mid-tones, got {highest}");
    }

    #[test]
    fn exact_size_and_opaque_at_every_size() {
        for size in [1, 2, 3, 7, 16, 80, 127, 512] {
            for text in ["A", "JD", "ABC", "", "王"] {
                let image = render(&sample(1), size, text);
                assert_eq!(image.dimensions(), (size, size), "{text:?} at {size}");
                assert!(image.pixels().all(|p| p[3] == 255), "{text:?} at {size}");
            }
        }
        assert_eq!(render(&sample(1), 0, "A").dimensions(), (0, 0));
    }

    #[test]
    fn odd_inputs_never_panic() {
        let digest = Digest::sha256_of("odd@example.org");
        for text in [
            " ", "\u{0}", "\u{301}", "AV", "W W", "WWW", "ΐΐΐ", "\u{fffd}", "ﬃ", "𝔸",
        ] {
            for size in [1, 5, 64, 2048] {
                assert_eq!(render(&digest, size, text).dimensions(), (size, size));
            }
        }
    }

    #[test]
    fn is_deterministic() {
        for text in ["A", "ÉZ", "王"] {
            assert!(
                render(&sample(2), 80, text) == render(&sample(2), 80, text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn letters_are_really_drawn() {
        for text in ["A", "JD", "ÉZ", "ЖК", "ABC", "I", "WWW"] {
            for size in [16, 80, 512] {
                let image = render(&sample(3), size, text);
                let share = ink_share_in_centre(&image);
                assert!(share > 0.06, "{text:?} at {size}: {share}");
                // The corners keep the background.
                assert_eq!(corner(&image), background(&sample(3)));
                let last = size - 1;
                assert_eq!(rgb(*image.get_pixel(last, last)), background(&sample(3)));
            }
        }
        let empty = render(&sample(3), 80, "");
        assert!(ink_share_in_centre(&empty) > 0.1, "the silhouette is drawn");
    }

    #[test]
    fn missing_glyphs_give_the_silhouette() {
        let silhouette = render(&sample(4), 80, "");
        for text in ["王", "A王", "한", "ก", " ", "\u{0}"] {
            assert!(render(&sample(4), 80, text) == silhouette, "{text:?}");
        }
        assert!(render(&sample(4), 80, "A") != silhouette);
    }

    #[test]
    fn different_letters_give_different_pictures() {
        let texts = ["A", "B", "JD", "DJ", "ÉZ", "EZ", "ЖК", "ABC", ""];
        let pictures: Vec<RgbaImage> = texts.iter().map(|t| render(&sample(5), 80, t)).collect();
        for i in 0..texts.len() {
            for j in i + 1..texts.len() {
                let differ = pictures[i]
                    .pixels()
                    .zip(pictures[j].pixels())
                    .filter(|(p, q)| p != q)
                    .count();
                assert!(
                    differ > 200,
                    "{:?} and {:?}: {differ} pixels",
                    texts[i],
                    texts[j]
                );
            }
        }
    }

    #[test]
    fn right_to_left_letters_are_drawn_right_to_left() {
        // Hebrew "דל" is drawn as the picture of "לד" laid out left to right would be, had
        // that not been reversed too: compare with the two letters drawn one by one.
        let logical = render(&sample(6), 80, "דל");
        let reversed = render(&sample(6), 80, "לד");
        assert_ne!(logical, reversed);
        let font = &FONT.as_ref().unwrap();
        let line = Line::lay_out(font, "דל").unwrap();
        assert_eq!(line.glyphs[0].0, font.font.glyph_id('ל'));
    }

    #[test]
    fn twenty_digests_give_clearly_different_backgrounds() {
        let colours: Vec<Rgb> = (0..20)
            .map(|n| corner(&render(&sample(n), 16, "JD")))
            .collect();
        let mut closest = u32::MAX;
        for (i, a) in colours.iter().enumerate() {
            for b in &colours[i + 1..] {
                // Squared distance in RGB, the sum over channels.
                let distance: u32 = (0..3).map(|c| u32::from(a[c].abs_diff(b[c])).pow(2)).sum();
                closest = closest.min(distance);
            }
        }
        // At least 10 apart (Euclidean), several times what the eye can tell side by side.
        assert!(
            closest >= 100,
            "two of the twenty colours are only √{closest} apart"
        );
    }

    #[test]
    fn golden_pixels() {
        let cases = [
            (Digest::md5_of("alice@example.org"), "AL"),
            (Digest::sha256_of("bob@example.org"), "ÉZ"),
            (Digest::md5_of("carol@example.org"), "ЖКФ"),
        ];
        let actual: Vec<String> = cases
            .iter()
            .map(|(digest, text)| {
                let image = render(digest, 80, text);
                format!("{text} {}", fingerprint(&image))
            })
            .collect();
        assert_eq!(
            actual.join("\n"),
            GOLDEN.trim(),
            "a drawing changed; if on purpose, update"
        );
    }

    const GOLDEN: &str = "
AL 16a24ffe43fbf836a38cbc2435e8985941ffea2f4a7d83a2f6bda7faf3c3d479
ÉZ a276c36f01bd07776a7a47943757b090a84079da4c2c36ddeb30d8ccbd0c47ad
ЖКФ c5195bc0aca69a1d93f6392740caeae319ced8f05d0a390c701dfa7bd4120b12
";

    /// Writes `/tmp/cameo-preview/initials-*.png` to look at.
    #[test]
    #[ignore]
    fn write_previews() {
        let directory = std::path::Path::new("/tmp/cameo-preview");
        std::fs::create_dir_all(directory).unwrap();
        let texts = ["A", "JD", "ÉZ", "ЖК", "王", "ABC"];
        for (n, text) in texts.iter().enumerate() {
            for size in [16, 80, 512] {
                let name = format!("initials-{}-{size}.png", n + 1);
                render(&sample(n as u32), size, text)
                    .save(directory.join(name))
                    .unwrap();
            }
        }
        // A contact sheet: rows of 12 digests, each row other letters, at 80 and 16 px.
        let rows = ["A", "JD", "ÉZ", "ЖК", "ΓΠ", "ABC", "WM", "Ij", "", "QÅ"];
        for (size, gap) in [(80u32, 8u32), (16, 4)] {
            let columns = 12;
            let width = columns * (size + gap) + gap;
            let height = rows.len() as u32 * (size + gap) + gap;
            let mut sheet = RgbaImage::from_pixel(width, height, image::Rgba([250, 250, 250, 255]));
            for (row, text) in rows.iter().enumerate() {
                for column in 0..columns {
                    let picture = render(&sample(row as u32 * 12 + column), size, text);
                    let x = gap + column * (size + gap);
                    let y = gap + row as u32 * (size + gap);
                    image::imageops::replace(&mut sheet, &picture, x.into(), y.into());
                }
            }
            sheet
                .save(directory.join(format!("initials-sheet-{size}.png")))
                .unwrap();
        }
    }

    /// Prints how long a picture takes (run with `--release --ignored --nocapture`).
    #[test]
    #[ignore]
    fn timing() {
        for (size, rounds) in [(16u32, 2000u32), (80, 1000), (512, 100), (2048, 10)] {
            for text in ["JD", "ABC", ""] {
                let start = std::time::Instant::now();
                for n in 0..rounds {
                    std::hint::black_box(render(&sample(n), size, text));
                }
                let each = start.elapsed() / rounds;
                println!("initials {text:?} at {size} px: {each:?} per picture");
            }
        }
    }
}
