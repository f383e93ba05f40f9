//! Large JPEGs decoded at reduced scale: a 50-megapixel phone photo is more pixels than the
//! intake decodes at full size (`max_image_pixels`), but JPEG stores 8×8 blocks of frequency
//! coefficients, and an inverse DCT of 4×4, 2×2 or 1×1 of them yields the picture at 1/2, 1/4
//! or 1/8 of its size directly. So such a photo is accepted at the largest of those scales
//! that fits the pixel limit: its full-size pixels never exist in memory.
//!
//! Decoding is jpeg-decoder's (image's own zune-jpeg has no scaled decode). What it holds:
//! the scaled output and its component planes, and for a progressive JPEG every coefficient
//! of the full picture (2 bytes per sample) — charged to the memory budget in
//! [`scaled_peak_bytes`] before any decode starts.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, RgbImage};
use jpeg_decoder::{CodingProcess, Decoder, PixelFormat};

use super::intake::IntakeError;

/// The scale denominators a JPEG IDCT can produce directly.
const DENOMINATORS: [u32; 3] = [2, 4, 8];

/// The smallest denominator (largest picture) at which a `width`×`height` JPEG fits in
/// `max_pixels` with no side above `max_side`, or `None` if even 1/8 does not.
pub fn scale_for(width: u32, height: u32, max_pixels: u64, max_side: u32) -> Option<u32> {
    DENOMINATORS.into_iter().find(|&denominator| {
        let (w, h) = scaled_size(width, height, denominator);
        u64::from(w) * u64::from(h) <= max_pixels && w.max(h) <= max_side
    })
}

/// The size of the picture decoded at 1/`denominator` (rounded up, as the IDCT does).
pub fn scaled_size(width: u32, height: u32, denominator: u32) -> (u32, u32) {
    (width.div_ceil(denominator), height.div_ceil(denominator))
}

/// Whether the JPEG is progressive (its coefficients are all kept while it decodes); read
/// from the header alone.
pub fn is_progressive(bytes: &[u8]) -> Result<bool, IntakeError> {
    let mut decoder = Decoder::new(Cursor::new(bytes));
    guarded(|| decoder.read_info())?;
    let info = decoder.info().ok_or(IntakeError::NotAnImage)?;
    Ok(info.coding_process == CodingProcess::DctProgressive)
}

/// Bytes a scaled decode holds at most: for a progressive JPEG the coefficients of every
/// sample (3 components at full resolution, 2 bytes each, at worst), plus the scaled output
/// and its planes (4 bytes per scaled pixel each).
pub fn scaled_peak_bytes(width: u32, height: u32, denominator: u32, progressive: bool) -> u64 {
    let (w, h) = scaled_size(width, height, denominator);
    let coefficients = if progressive {
        u64::from(width.next_multiple_of(16)) * u64::from(height.next_multiple_of(16)) * 3 * 2
    } else {
        0
    };
    coefficients + u64::from(w) * u64::from(h) * 8
}

/// Decodes the JPEG at 1/`denominator` of its size (before EXIF orientation), allowing the
/// decoder at most `max_bytes` of buffers.
pub fn decode_scaled(
    bytes: &[u8],
    denominator: u32,
    max_bytes: u64,
) -> Result<DynamicImage, IntakeError> {
    let mut decoder = Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(usize::try_from(max_bytes).unwrap_or(usize::MAX));
    guarded(|| decoder.read_info())?;
    let info = decoder.info().ok_or(IntakeError::NotAnImage)?;
    let (w, h) = scaled_size(u32::from(info.width), u32::from(info.height), denominator);
    let requested = (
        u16::try_from(w).unwrap_or(u16::MAX),
        u16::try_from(h).unwrap_or(u16::MAX),
    );
    let (out_w, out_h) = guarded(|| decoder.scale(requested.0, requested.1))?;
    let pixels = guarded(|| decoder.decode())?;
    let (out_w, out_h) = (u32::from(out_w), u32::from(out_h));
    let picture = match info.pixel_format {
        PixelFormat::RGB24 => RgbImage::from_raw(out_w, out_h, pixels).map(DynamicImage::ImageRgb8),
        PixelFormat::L8 => GrayImage::from_raw(out_w, out_h, pixels)
            .map(|gray| DynamicImage::ImageRgb8(DynamicImage::ImageLuma8(gray).into_rgb8())),
        PixelFormat::L16 | PixelFormat::CMYK32 => {
            return Err(IntakeError::UnsupportedFormat(
                "CMYK or 12-bit JPEG".to_string(),
            ));
        }
    };
    picture.ok_or_else(|| IntakeError::Corrupt("its decoder returned too few pixels".into()))
}

/// Runs jpeg-decoder on hostile bytes: an error or a panic (its `info` panics on component
/// counts it does not expect) refuses the file.
fn guarded<T>(decode: impl FnOnce() -> Result<T, jpeg_decoder::Error>) -> Result<T, IntakeError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(IntakeError::Corrupt(
            error.to_string().chars().take(160).collect(),
        )),
        Err(_) => Err(IntakeError::Corrupt(
            "its decoder failed on malformed data".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_scale_that_fits_is_chosen() {
        // A 50-megapixel phone photo under the default 40-megapixel limit: half size.
        assert_eq!(scale_for(8160, 6120, 40_000_000, 16_384), Some(2));
        assert_eq!(scaled_size(8160, 6120, 2), (4080, 3060));
        assert_eq!(scale_for(8160, 6120, 4_000_000, 16_384), Some(4));
        assert_eq!(scale_for(8160, 6120, 1_000_000, 16_384), Some(8));
        assert_eq!(scale_for(65_535, 65_535, 40_000_000, 16_384), None);
        assert_eq!(
            scale_for(40_000, 100, 40_000_000, 16_384),
            Some(4),
            "side limit"
        );
    }

    #[test]
    fn progressive_jpegs_are_charged_their_coefficients() {
        let baseline = scaled_peak_bytes(8160, 6120, 2, false);
        assert_eq!(baseline, 4080 * 3060 * 8);
        let progressive = scaled_peak_bytes(8160, 6120, 2, true);
        assert_eq!(progressive - baseline, 8160 * 6128 * 6);
    }

    #[test]
    fn a_scaled_decode_halves_each_side_and_keeps_the_colours() {
        let mut source = RgbImage::new(64, 32);
        for (x, _, pixel) in source.enumerate_pixels_mut() {
            *pixel = if x < 32 {
                image::Rgb([220, 20, 20])
            } else {
                image::Rgb([20, 20, 220])
            };
        }
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95)
            .encode_image(&source)
            .unwrap();
        assert!(!is_progressive(&bytes).unwrap());
        let half = decode_scaled(&bytes, 2, 1 << 20).unwrap().into_rgb8();
        assert_eq!(half.dimensions(), (32, 16));
        assert!(half.get_pixel(4, 8)[0] > 180 && half.get_pixel(28, 8)[2] > 180);
        assert!(matches!(
            decode_scaled(&bytes[..200], 2, 1 << 20),
            Err(IntakeError::Corrupt(_))
        ));
    }
}
