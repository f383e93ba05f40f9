//! PNG for flat pictures: a generated default with at most 16 colours (identicon, retro,
//! pagan, color, blank) is written as an indexed PNG of 1, 2 or 4 bits a pixel instead of
//! 32-bit RGBA.
//!
//! A miss for a never-seen hash draws a new picture every time, so its encoding is on the
//! hot path of a public avatar server: an 80 px identicon as RGBA is 25,600 bytes to filter
//! and deflate; as a 1-bit palette image it is 800. The pixels are the same; only the
//! encoding differs (and the file is no larger). Pictures with more colours
//! (anti-aliased styles) are left to the general encoder: counting stops at the 17th colour.

use image::RgbaImage;

/// Most colours a palette here holds.
const MAX_COLOURS: usize = 16;

/// A generated picture in `format`: an indexed PNG when it is flat enough, otherwise the
/// general encoder's output (what the renderer serves, and what the benchmark measures).
pub fn encode_generated(
    picture: RgbaImage,
    format: crate::imaging::PhotoFormat,
    jpeg_quality: u8,
) -> image::ImageResult<Vec<u8>> {
    if format == crate::imaging::PhotoFormat::Png
        && let Some(bytes) = encode_flat_png(&picture)
    {
        return Ok(bytes);
    }
    crate::imaging::encode_picture(
        &image::DynamicImage::ImageRgba8(picture),
        format,
        jpeg_quality,
    )
}

/// The indexed PNG of `picture`, or `None` when it has more than 16 colours.
pub fn encode_flat_png(picture: &RgbaImage) -> Option<Vec<u8>> {
    let (palette, indices) = index_colours(picture)?;
    let (width, height) = picture.dimensions();
    encode_indexed(&palette, &indices, width, height)
}

/// The indexed PNG of a picture given as `palette` (RGBA) and one index into it per pixel,
/// row by row; `None` past 16 colours (or if the indices do not fill `width`×`height`).
pub fn encode_indexed(
    palette: &[[u8; 4]],
    indices: &[u8],
    width: u32,
    height: u32,
) -> Option<Vec<u8>> {
    if palette.len() > MAX_COLOURS || indices.len() != width as usize * height as usize {
        return None;
    }
    let depth = match palette.len() {
        0..=2 => png::BitDepth::One,
        3..=4 => png::BitDepth::Two,
        _ => png::BitDepth::Four,
    };
    let bits = depth as usize;
    let row_bytes = (width as usize * bits).div_ceil(8);
    let mut packed = vec![0u8; row_bytes * height as usize];
    let columns = width as usize;
    for y in 0..height as usize {
        let (row, out) = (y * columns, y * row_bytes);
        // Blocky pictures repeat whole rows: copy the packed row instead of packing again.
        if y > 0 && indices[row - columns..row] == indices[row..row + columns] {
            packed.copy_within(out - row_bytes..out, out);
            continue;
        }
        for (x, index) in indices[row..row + columns].iter().enumerate() {
            let bit = x * bits;
            packed[out + bit / 8] |= index << (8 - bits - bit % 8);
        }
    }
    let rgb: Vec<u8> = palette.iter().flat_map(|c| [c[0], c[1], c[2]]).collect();
    let alpha: Vec<u8> = palette.iter().map(|c| c[3]).collect();

    let mut out = Vec::with_capacity(packed.len() / 4 + 128);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(depth);
    encoder.set_palette(rgb);
    if alpha.iter().any(|&a| a != 255) {
        encoder.set_trns(alpha);
    }
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::NoFilter);
    let mut writer = encoder.write_header().ok()?;
    writer.write_image_data(&packed).ok()?;
    writer.finish().ok()?;
    Some(out)
}

/// The distinct colours of `picture` (first seen first) and each pixel's index, or `None`
/// past [`MAX_COLOURS`]. Flat pictures come in runs, so the last colour is tried first.
fn index_colours(picture: &RgbaImage) -> Option<(Vec<[u8; 4]>, Vec<u8>)> {
    let mut palette: Vec<[u8; 4]> = Vec::with_capacity(MAX_COLOURS);
    let mut indices = Vec::with_capacity(picture.len() / 4);
    let mut last: Option<([u8; 4], u8)> = None;
    let stride = picture.width() as usize * 4;
    let raw = picture.as_raw();
    for (y, row) in raw.chunks_exact(stride.max(1)).enumerate() {
        // A row equal to the one above has its indices already.
        if y > 0 && raw[(y - 1) * stride..y * stride] == *row {
            let above = indices.len() - stride / 4;
            indices.extend_from_within(above..);
            continue;
        }
        for pixel in row.chunks_exact(4) {
            let colour = [pixel[0], pixel[1], pixel[2], pixel[3]];
            let index = match last {
                Some((seen, index)) if seen == colour => index,
                _ => {
                    let index = match palette.iter().position(|c| *c == colour) {
                        Some(index) => index,
                        None if palette.len() < MAX_COLOURS => {
                            palette.push(colour);
                            palette.len() - 1
                        }
                        None => return None,
                    } as u8;
                    last = Some((colour, index));
                    index
                }
            };
            indices.push(index);
        }
    }
    Some((palette, indices))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::Style;
    use crate::identity::Digest;

    fn decode(bytes: &[u8]) -> RgbaImage {
        image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .unwrap()
            .into_rgba8()
    }

    #[test]
    fn flat_styles_keep_every_pixel_at_any_size() {
        let digest = Digest::md5_of("alice@example.org");
        for style in [Style::Identicon, Style::Retro, Style::Color, Style::Blank] {
            for size in [1, 7, 16, 80, 129] {
                let picture = style.render(&digest, size);
                let bytes = encode_flat_png(&picture)
                    .unwrap_or_else(|| panic!("{style:?} at {size} px is flat"));
                assert_eq!(decode(&bytes), picture, "{style:?} at {size} px");
            }
        }
    }

    #[test]
    fn an_identicon_is_no_larger_than_its_rgba_encoding() {
        let picture = Style::Identicon.render(&Digest::md5_of("bob@example.org"), 80);
        let flat = encode_flat_png(&picture).unwrap();
        let rgba = crate::imaging::encode_picture(
            &image::DynamicImage::ImageRgba8(picture),
            crate::imaging::PhotoFormat::Png,
            85,
        )
        .unwrap();
        assert!(
            flat.len() <= rgba.len(),
            "{} bytes indexed, {} as RGBA",
            flat.len(),
            rgba.len()
        );
    }

    #[test]
    fn pictures_with_many_colours_are_left_alone() {
        let gradient = RgbaImage::from_fn(32, 32, |x, y| {
            image::Rgba([x as u8 * 8, y as u8 * 8, 0, 255])
        });
        assert_eq!(encode_flat_png(&gradient), None);
        let sixteen = RgbaImage::from_fn(16, 1, |x, _| image::Rgba([x as u8, 0, 0, 255]));
        assert_eq!(decode(&encode_flat_png(&sixteen).unwrap()), sixteen);
    }
}
