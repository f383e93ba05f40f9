//! Renditions: a stored original or a generated picture → `size`×`size` bytes in a format.
//!
//! Resizing uses fast_image_resize's SIMD Lanczos3 (about 8× faster than `image`'s own
//! Lanczos3 on this machine, STACK-NOTES.md), with alpha handled premultiplied so transparent
//! edges do not bleed dark. PNG is written with fast compression: renditions are cached, and
//! the default compression costs 15× the time for a few percent of bytes.

use std::io::Cursor;

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ExtendedColorType, ImageEncoder, ImageReader, Limits, Rgb, RgbImage};

use super::PhotoFormat;
use super::animation::{StoredAnimation, is_on_ladder};

/// JPEG quality of served renditions.
pub const RENDER_JPEG_QUALITY: u8 = 85;

/// A decoded stored original: a still picture (RGB8 or RGBA8) or an animation (its encoded
/// bytes and first frame, see [`StoredAnimation`]).
#[derive(Clone, Debug)]
pub enum Original {
    Still(DynamicImage),
    Animated(StoredAnimation),
}

impl Original {
    /// Bytes held in memory, for cache weights.
    pub fn byte_size(&self) -> usize {
        match self {
            Original::Still(picture) => picture.as_bytes().len(),
            Original::Animated(animation) => animation.byte_size(),
        }
    }

    pub fn is_animated(&self) -> bool {
        matches!(self, Original::Animated(_))
    }

    /// This original at `size`×`size` in `format`. Animations stay animated as GIF at the
    /// ladder's sizes; other sizes and formats get their first frame.
    pub fn render(&self, size: u32, format: PhotoFormat) -> image::ImageResult<Vec<u8>> {
        match (self, format) {
            (Original::Animated(animation), PhotoFormat::Gif) if is_on_ladder(size) => {
                animation.render(size)
            }
            (Original::Animated(animation), _) => {
                let still = resize_square(&animation.first_frame(), size);
                encode_picture(&still, format, RENDER_JPEG_QUALITY)
            }
            (Original::Still(picture), _) => {
                encode_picture(&resize_square(picture, size), format, RENDER_JPEG_QUALITY)
            }
        }
    }
}

/// Decodes a stored original (already validated at intake); an animation only as far as its
/// first frame.
pub fn decode_original(bytes: &[u8]) -> Result<Original, String> {
    if image::guess_format(bytes).ok() == Some(image::ImageFormat::Gif)
        && let Some(animation) = StoredAnimation::read(bytes.to_vec()).map_err(|e| e.to_string())?
    {
        return Ok(Original::Animated(animation));
    }
    decode_still(bytes)
        .map(Original::Still)
        .map_err(|e| e.to_string())
}

fn decode_still(bytes: &[u8]) -> image::ImageResult<DynamicImage> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    // Stored originals are at most 2048×2048; the limit only guards against a damaged row.
    let mut limits = Limits::default();
    limits.max_image_width = Some(4096);
    limits.max_image_height = Some(4096);
    reader.limits(limits);
    let picture = reader.decode()?;
    Ok(match picture {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => picture,
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.into_rgba8()),
        other => DynamicImage::ImageRgb8(other.into_rgb8()),
    })
}

/// Resizes an RGB8/RGBA8 picture to `side`×`side` with Lanczos3.
/// The input must already be square; a non-square input is stretched.
pub fn resize_square(picture: &DynamicImage, side: u32) -> DynamicImage {
    let side = side.max(1);
    if picture.width() == side && picture.height() == side {
        return picture.clone();
    }
    let mut target = DynamicImage::new(side, side, picture.color());
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    match Resizer::new().resize(picture, &mut target, &options) {
        Ok(()) => target,
        // Only reachable with a pixel type fast_image_resize lacks; `image` handles every type.
        Err(_) => picture.resize_exact(side, side, image::imageops::FilterType::Lanczos3),
    }
}

/// Encodes a picture in `format`. JPEG has no alpha: transparent areas become white.
pub fn encode_picture(
    picture: &DynamicImage,
    format: PhotoFormat,
    jpeg_quality: u8,
) -> image::ImageResult<Vec<u8>> {
    let mut out = Vec::with_capacity(estimate_size(picture));
    let (width, height) = (picture.width(), picture.height());
    match format {
        PhotoFormat::Png => {
            let encoder = PngEncoder::new_with_quality(
                &mut out,
                CompressionType::Fast,
                image::codecs::png::FilterType::Adaptive,
            );
            write_raw(encoder, picture)?;
        }
        PhotoFormat::Jpeg => {
            let flat = flatten_on_white(picture);
            JpegEncoder::new_with_quality(&mut out, jpeg_quality).write_image(
                flat.as_raw(),
                width,
                height,
                ExtendedColorType::Rgb8,
            )?;
        }
        PhotoFormat::Gif => {
            let frame = image::Frame::new(picture.to_rgba8());
            let mut encoder = GifEncoder::new_with_speed(&mut out, 10);
            encoder.encode_frame(frame)?;
        }
        PhotoFormat::WebP => write_raw(WebPEncoder::new_lossless(&mut out), picture)?,
    }
    Ok(out)
}

fn write_raw(encoder: impl ImageEncoder, picture: &DynamicImage) -> image::ImageResult<()> {
    let color = match picture {
        DynamicImage::ImageRgba8(_) => ExtendedColorType::Rgba8,
        DynamicImage::ImageRgb8(_) => ExtendedColorType::Rgb8,
        _ => return write_raw(encoder, &DynamicImage::ImageRgba8(picture.to_rgba8())),
    };
    encoder.write_image(picture.as_bytes(), picture.width(), picture.height(), color)
}

fn flatten_on_white(picture: &DynamicImage) -> RgbImage {
    match picture {
        DynamicImage::ImageRgb8(rgb) => rgb.clone(),
        other => {
            let rgba = other.to_rgba8();
            RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
                let [r, g, b, a] = rgba.get_pixel(x, y).0;
                let blend = |c: u8| {
                    let (c, a) = (u32::from(c), u32::from(a));
                    ((c * a + 255 * (255 - a) + 127) / 255) as u8
                };
                Rgb([blend(r), blend(g), blend(b)])
            })
        }
    }
}

fn estimate_size(picture: &DynamicImage) -> usize {
    (picture.width() as usize * picture.height() as usize).min(1 << 20) + 1024
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, Rgba, RgbaImage};

    fn red_left_blue_right(side: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(side, side, |x, _| {
            if x < side / 2 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        }))
    }

    #[test]
    fn resize_keeps_left_red_and_right_blue() {
        for side in [16, 80, 512] {
            let resized = resize_square(&red_left_blue_right(200), side);
            assert_eq!(resized.dimensions(), (side, side));
            let left = resized.get_pixel(0, side / 2).0;
            let right = resized.get_pixel(side - 1, side / 2).0;
            assert!(left[0] > 200 && left[2] < 50, "{left:?}");
            assert!(right[2] > 200 && right[0] < 50, "{right:?}");
        }
    }

    #[test]
    fn every_format_round_trips_with_its_size() {
        let picture = red_left_blue_right(40);
        for format in [
            PhotoFormat::Png,
            PhotoFormat::Jpeg,
            PhotoFormat::Gif,
            PhotoFormat::WebP,
        ] {
            let bytes = encode_picture(&picture, format, RENDER_JPEG_QUALITY).unwrap();
            assert_eq!(image::guess_format(&bytes).unwrap(), format.image_format());
            let decoded = decode_still(&bytes).unwrap();
            assert_eq!(decoded.dimensions(), (40, 40), "{format:?}");
        }
    }

    #[test]
    fn jpeg_flattens_transparency_onto_white() {
        let clear = DynamicImage::ImageRgba8(RgbaImage::from_pixel(8, 8, Rgba([0, 0, 0, 0])));
        let bytes = encode_picture(&clear, PhotoFormat::Jpeg, 90).unwrap();
        let decoded = image::load_from_memory(&bytes).unwrap().into_rgb8();
        assert!(decoded.pixels().all(|p| p.0.iter().all(|&c| c > 245)));
    }
}
