//! Intake of untrusted image bytes (CLI `add`/`import`, later the upload form).
//!
//! Rules, in the order they are applied, each refusal with a reason a person can act on:
//! 1. the file size is bounded (`max_upload_bytes`) before anything is parsed;
//! 2. the format is sniffed from the bytes, never from a file name: PNG, JPEG, GIF, WebP only;
//! 3. the dimensions are read from the header and checked against the pixel budget and the
//!    longest side *before* any pixel buffer is allocated (a JPEG over them is decoded at
//!    1/2, 1/4 or 1/8 scale instead when one fits, see [`super::jpeg_scaled`]), and the decoder runs under
//!    `image::Limits` as well, so a PNG declaring 100000×100000 is refused in microseconds
//!    (a GIF's frames are counted and charged first, and a WebP's lossy bitstreams must fit
//!    its canvas, see [`super::gif_layout`] and [`super::webp_layout`]);
//! 4. EXIF orientation is applied, the picture is centre-cropped to a square and capped at
//!    2048×2048;
//! 5. the result is re-encoded (PNG, or JPEG for JPEG sources) so no metadata, trailing bytes
//!    or polyglot payload survives.
//!
//! Animated GIFs stay animated (see [`super::animation`] for their tighter bounds).

use std::io::Cursor;

use actix_web::http::StatusCode;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use sha2::{Digest as _, Sha256};

use super::PhotoFormat;
use super::animation::decode_gif_frames;
use super::gif_layout::{GifLayout, check_gif_layout};
use super::jpeg_scaled::{
    decode_scaled, is_progressive, scale_for, scaled_peak_bytes, scaled_size,
};
use super::render::{encode_picture, resize_square};
use super::webp_layout::check_webp_layout;

/// Largest side of a stored original.
pub const MAX_STORED_SIDE: u32 = 2048;
/// Largest side the decoder accepts at all, whatever the pixel budget says.
const MAX_DECODED_SIDE: u32 = 16_384;
/// JPEG quality for stored originals: high, since every rendition is derived from it.
const STORED_JPEG_QUALITY: u8 = 92;

#[derive(Clone, Copy, Debug)]
pub struct IntakeLimits {
    pub max_bytes: u64,
    pub max_pixels: u64,
}

/// A validated original, ready to store.
#[derive(Clone, Debug)]
pub struct PreparedPhoto {
    /// The format the photo is served in by default: the format it was uploaded in.
    pub format: PhotoFormat,
    /// The re-encoded square original (PNG, or JPEG for JPEG uploads).
    pub data: Vec<u8>,
    pub side: u32,
    /// SHA-256 of `data`, lowercase hex.
    pub content_digest: String,
    /// SHA-256 of the bytes as uploaded, so a re-import of the same file is spotted unread.
    pub source_digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; at most {limit} bytes are accepted")]
    TooLarge { size: u64, limit: u64 },
    #[error("this is not an image Cameo reads; use PNG, JPEG, GIF or WebP")]
    NotAnImage,
    #[error("{0} images are not accepted; use PNG, JPEG, GIF or WebP")]
    UnsupportedFormat(String),
    #[error("the image is {width}×{height} pixels; at most {limit} pixels are accepted")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error(
        "the image is {width}×{height} pixels; sides longer than {limit} pixels are not accepted"
    )]
    SideTooLong { width: u32, height: u32, limit: u32 },
    #[error("the animation has more than {limit} frames")]
    TooManyFrames { limit: usize },
    #[error("the animation's first {frames} frames add up to more than {limit} pixels")]
    AnimationTooLarge { frames: usize, limit: u64 },
    #[error("the image has no pixels")]
    NoPixels,
    #[error("decoding it needs {needed} bytes of memory; this server decodes at most {budget}")]
    ExceedsMemoryBudget { needed: u64, budget: u64 },
    #[error("the server is busy decoding other images; try again in {retry_after} seconds")]
    Busy { retry_after: u64 },
    #[error("the image could not be read, it is not a valid image: {0}")]
    Corrupt(String),
}

impl IntakeError {
    pub fn code(&self) -> &'static str {
        match self {
            IntakeError::Empty => "empty_file",
            IntakeError::TooLarge { .. } => "file_too_large",
            IntakeError::NotAnImage => "not_an_image",
            IntakeError::UnsupportedFormat(_) => "unsupported_format",
            IntakeError::TooManyPixels { .. } => "too_many_pixels",
            IntakeError::SideTooLong { .. } => "side_too_long",
            IntakeError::TooManyFrames { .. } => "too_many_frames",
            IntakeError::AnimationTooLarge { .. } => "animation_too_large",
            IntakeError::NoPixels => "no_pixels",
            IntakeError::ExceedsMemoryBudget { .. } => "exceeds_memory_budget",
            IntakeError::Busy { .. } => "busy",
            IntakeError::Corrupt(_) => "corrupt_image",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            IntakeError::TooLarge { .. }
            | IntakeError::TooManyPixels { .. }
            | IntakeError::SideTooLong { .. }
            | IntakeError::TooManyFrames { .. }
            | IntakeError::AnimationTooLarge { .. }
            | IntakeError::ExceedsMemoryBudget { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            IntakeError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            IntakeError::NotAnImage | IntakeError::UnsupportedFormat(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            IntakeError::Empty | IntakeError::NoPixels | IntakeError::Corrupt(_) => {
                StatusCode::BAD_REQUEST
            }
        }
    }
}

/// A square the uploader chose, in the picture's pixels after EXIF orientation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CropSquare {
    pub x: u32,
    pub y: u32,
    pub size: u32,
}

impl CropSquare {
    /// The square clamped into a `width`×`height` picture: a cropper that rounds a pixel past
    /// the edge gets the nearest square inside, not an error.
    pub fn clamped(self, width: u32, height: u32) -> (u32, u32, u32) {
        let size = self.size.clamp(1, width.min(height).max(1));
        (self.x.min(width - size), self.y.min(height - size), size)
    }
}

/// Validates and normalises an uploaded image, centre-cropped. CPU-bound: call from a
/// blocking thread. Outside tests, intake goes through
/// [`super::budget::prepare_within_budget`], which reserves the decode's memory first.
pub fn prepare_photo(bytes: &[u8], limits: IntakeLimits) -> Result<PreparedPhoto, IntakeError> {
    prepare_cropped_photo(bytes, limits, None)
}

/// As [`prepare_photo`], cropped to `crop` when given.
pub fn prepare_cropped_photo(
    bytes: &[u8],
    limits: IntakeLimits,
    crop: Option<CropSquare>,
) -> Result<PreparedPhoto, IntakeError> {
    inspect(bytes, limits)?.prepare(bytes, crop)
}

/// What the header of an upload declares, checked against the limits; nothing decoded yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inspected {
    pub format: PhotoFormat,
    pub width: u32,
    pub height: u32,
    /// Bytes of the decoder's output buffer for the (first) picture.
    pub decoded_bytes: u64,
    /// For a GIF: its frames and the pixels they are charged (see [`check_gif_layout`]).
    pub gif: Option<GifLayout>,
    /// Whether its EXIF orientation turns or flips it (a copy of the pixels).
    pub rotated: bool,
    /// A JPEG above the pixel limit, decoded at 1/denominator: (denominator, progressive).
    pub jpeg_scale: Option<(u32, bool)>,
    max_pixels: u64,
}

/// Rules 1–3 of the module comment: size, format and declared dimensions, read from the
/// header in microseconds, so a refusal or a memory reservation can precede any decode.
pub fn inspect(bytes: &[u8], limits: IntakeLimits) -> Result<Inspected, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::Empty);
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(IntakeError::TooLarge {
            size: bytes.len() as u64,
            limit: limits.max_bytes,
        });
    }
    let format = sniff_format(bytes)?;
    let gif = match format {
        PhotoFormat::Gif => Some(check_gif_layout(bytes, limits.max_pixels)?),
        _ => None,
    };
    let mut decoder = open_decoder(bytes, format, limits.max_pixels)?;
    let (width, height) = decoder.dimensions();
    let jpeg_scale = match check_dimensions(width, height, limits.max_pixels) {
        Ok(()) => None,
        // A JPEG too large at full size is decoded smaller, if a DCT scale fits the limits.
        Err(refusal @ (IntakeError::TooManyPixels { .. } | IntakeError::SideTooLong { .. }))
            if format == PhotoFormat::Jpeg =>
        {
            let denominator =
                scale_for(width, height, limits.max_pixels, MAX_DECODED_SIDE).ok_or(refusal)?;
            Some((denominator, is_progressive(bytes)?))
        }
        Err(refusal) => return Err(refusal),
    };
    if format == PhotoFormat::WebP {
        check_webp_layout(bytes, width, height)?;
    }
    // Metadata only (EXIF sits in the header); a failure here is charged as a rotation and
    // left for the decode to report.
    let rotated = guard_decoder(|| decoder.orientation().map_err(describe_decode_error))
        != Ok(Orientation::NoTransforms);
    Ok(Inspected {
        format,
        width,
        height,
        decoded_bytes: decoder.total_bytes(),
        gif,
        rotated,
        jpeg_scale,
        max_pixels: limits.max_pixels,
    })
}

impl Inspected {
    /// The most memory [`Self::prepare`] holds at once with `crop`, from the declared header
    /// alone (see [`peak_intake_bytes`]).
    pub fn peak_bytes(&self, crop: Option<CropSquare>) -> u64 {
        peak_intake_bytes(self, crop)
    }

    /// Rules 4–5: decodes, orients, crops and re-encodes. CPU-bound: a blocking thread.
    pub fn prepare(
        &self,
        bytes: &[u8],
        crop: Option<CropSquare>,
    ) -> Result<PreparedPhoto, IntakeError> {
        let format = self.format;
        if self.gif.is_some_and(|layout| layout.frames > 1)
            && let Some(animation) =
                guard_decoder(|| decode_gif_frames(bytes, self.max_pixels, crop))?
        {
            let data = animation
                .encode_gif()
                .map_err(|e| IntakeError::Corrupt(e.to_string()))?;
            return Ok(PreparedPhoto {
                format,
                side: animation.side(),
                content_digest: hex::encode(Sha256::digest(&data)),
                source_digest: source_digest(bytes),
                data,
            });
        }
        let (picture, crop) = match self.jpeg_scale {
            Some((denominator, _)) => (
                self.decode_jpeg_scaled(bytes, denominator, crop)?,
                crop.map(|c| c.scaled_down(denominator)),
            ),
            None => (decode_bounded(bytes, format, self.max_pixels)?, crop),
        };
        let square = crop_to_square(picture, crop);
        let square = if square.width() > MAX_STORED_SIDE {
            resize_square(&square, MAX_STORED_SIDE)
        } else {
            square
        };
        let data = match format {
            PhotoFormat::Jpeg => encode_picture(&square, PhotoFormat::Jpeg, STORED_JPEG_QUALITY),
            _ => encode_picture(&square, PhotoFormat::Png, 0),
        }
        .map_err(|e| IntakeError::Corrupt(e.to_string()))?;
        Ok(PreparedPhoto {
            format,
            side: square.width(),
            content_digest: hex::encode(Sha256::digest(&data)),
            source_digest: source_digest(bytes),
            data,
        })
    }
}

impl Inspected {
    /// A JPEG above the pixel limit at 1/`denominator`, EXIF orientation applied.
    fn decode_jpeg_scaled(
        &self,
        bytes: &[u8],
        denominator: u32,
        crop: Option<CropSquare>,
    ) -> Result<DynamicImage, IntakeError> {
        let orientation = guard_decoder(|| {
            open_decoder(bytes, self.format, self.max_pixels)?
                .orientation()
                .map_err(describe_decode_error)
        })
        .unwrap_or(Orientation::NoTransforms);
        let mut picture = decode_scaled(bytes, denominator, self.peak_bytes(crop))?;
        picture.apply_orientation(orientation);
        Ok(picture)
    }

    /// This shape as the picture a scaled JPEG decode yields.
    fn scaled_shape(&self, denominator: u32) -> Inspected {
        let (width, height) = scaled_size(self.width, self.height, denominator);
        Inspected {
            width,
            height,
            decoded_bytes: u64::from(width) * u64::from(height) * 3,
            jpeg_scale: None,
            ..*self
        }
    }
}

impl CropSquare {
    /// The same square in a picture decoded at 1/`denominator`.
    pub fn scaled_down(self, denominator: u32) -> CropSquare {
        CropSquare {
            x: self.x / denominator,
            y: self.y / denominator,
            size: (self.size / denominator).max(1),
        }
    }
}

/// Fixed room for decoder state, encoder buffers and the re-encoded output of a normal photo.
const INTAKE_OVERHEAD_BYTES: u64 = 8 << 20;
/// Bytes per pixel of the RGBA8 working copies intake may make.
const WORKING_BYTES_PER_PIXEL: u64 = 4;

/// Peak memory of preparing an upload whose header [`inspect`] read, cropped to `crop`.
/// A still holds its decoder's output (and for WebP its YUV planes), an RGBA copy when its colour type or EXIF orientation needs one, the square
/// crop when it is not the whole picture, and above [`MAX_STORED_SIDE`] the resizer's
/// intermediate (2048 × the source side) and target. An animation adds every frame cropped
/// and a resized or encoder copy of them (RGBA, at most its charged pixels each).
/// Measured by `tests/api/attack_images.rs` (`the_budget_charges_at_least_what_a_huge_decode_
/// holds`): a 6320×6320 RGB PNG holds +173 MB while it is prepared and is charged 192 MB; a
/// 6000×4000 JPEG holds +120 MB and is charged 188 MB; an 8160×6120 (50 MP) baseline JPEG,
/// decoded at half size, holds +75 MB and is charged 220 MB.
pub fn peak_intake_bytes(shape: &Inspected, crop: Option<CropSquare>) -> u64 {
    if let Some((denominator, progressive)) = shape.jpeg_scale {
        let crop = crop.map(|c| c.scaled_down(denominator));
        return scaled_peak_bytes(shape.width, shape.height, denominator, progressive)
            + peak_intake_bytes(&shape.scaled_shape(denominator), crop);
    }
    let (width, height) = (u64::from(shape.width), u64::from(shape.height));
    let pixels = width * height;
    // Not measured for WebP: its YUV planes are charged at 2 bytes per pixel to be safe.
    let decoder_planes = match shape.format {
        PhotoFormat::WebP => pixels * 2,
        PhotoFormat::Png | PhotoFormat::Gif | PhotoFormat::Jpeg => 0,
    };
    let eight_bit = shape.decoded_bytes == pixels * 3 || shape.decoded_bytes == pixels * 4;
    let converted = if eight_bit && !shape.rotated {
        0
    } else {
        pixels * WORKING_BYTES_PER_PIXEL
    };
    let side = width.min(height);
    let cropped = if width != height || crop.is_some() {
        side * side * WORKING_BYTES_PER_PIXEL
    } else {
        0
    };
    let stored = u64::from(MAX_STORED_SIDE);
    let resized = if side > stored {
        stored * (side + stored) * WORKING_BYTES_PER_PIXEL
    } else {
        0
    };
    let animation = shape
        .gif
        .filter(|layout| layout.frames > 1)
        .map_or(0, |layout| {
            layout.charged_pixels * 2 * WORKING_BYTES_PER_PIXEL
                + pixels * 2 * WORKING_BYTES_PER_PIXEL
        });
    shape.decoded_bytes
        + decoder_planes
        + converted
        + cropped
        + resized
        + animation
        + INTAKE_OVERHEAD_BYTES
}

/// SHA-256 of uploaded bytes, lowercase hex.
pub fn source_digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn sniff_format(bytes: &[u8]) -> Result<PhotoFormat, IntakeError> {
    if let Some(name) = iso_media_photo(bytes) {
        return Err(IntakeError::UnsupportedFormat(name.to_string()));
    }
    let guessed = image::guess_format(bytes).map_err(|_| IntakeError::NotAnImage)?;
    PhotoFormat::from_image_format(guessed)
        .ok_or_else(|| IntakeError::UnsupportedFormat(format!("{guessed:?}").to_uppercase()))
}

/// HEIC (an iPhone's own format) and AVIF photos, by the brand of their ISO media `ftyp`
/// box, so their refusal names them rather than calling them "not an image".
fn iso_media_photo(bytes: &[u8]) -> Option<&'static str> {
    if bytes.get(4..8) != Some(b"ftyp") {
        return None;
    }
    match bytes.get(8..12)? {
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
            Some("HEIC (save it as JPEG first)")
        }
        b"avif" | b"avis" => Some("AVIF"),
        _ => None,
    }
}

/// A decoder positioned after the header, under limits. The header is read without side
/// limits so that a refusal can say what was declared; [`check_dimensions`] applies them.
fn open_decoder(
    bytes: &[u8],
    format: PhotoFormat,
    max_pixels: u64,
) -> Result<Box<dyn ImageDecoder + '_>, IntakeError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(decoder_limits(max_pixels));
    reader
        .into_decoder()
        .map(|decoder| Box::new(decoder) as Box<dyn ImageDecoder + '_>)
        .map_err(describe_decode_error)
}

fn decoder_limits(max_pixels: u64) -> Limits {
    let mut limits = Limits::default();
    // Room for the decoded buffer at up to 8 bytes per pixel, plus decoder working space.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    limits
}

fn check_dimensions(width: u32, height: u32, max_pixels: u64) -> Result<(), IntakeError> {
    if width == 0 || height == 0 {
        return Err(IntakeError::NoPixels);
    }
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(IntakeError::TooManyPixels {
            width,
            height,
            limit: max_pixels,
        });
    }
    if width.max(height) > MAX_DECODED_SIDE {
        return Err(IntakeError::SideTooLong {
            width,
            height,
            limit: MAX_DECODED_SIDE,
        });
    }
    Ok(())
}

/// Decodes a picture whose header [`inspect`] accepted, under limits.
fn decode_bounded(
    bytes: &[u8],
    format: PhotoFormat,
    max_pixels: u64,
) -> Result<DynamicImage, IntakeError> {
    let mut decoder = open_decoder(bytes, format, max_pixels)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, max_pixels)?;
    let mut limits = decoder_limits(max_pixels);
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    // What `ImageReader::decode` does and `from_decoder` does not: the output buffer counts.
    limits
        .reserve(decoder.total_bytes())
        .map_err(describe_decode_error)?;
    decoder.set_limits(limits).map_err(describe_decode_error)?;
    let (orientation, mut picture) = guard_decoder(|| {
        let orientation = decoder.orientation().map_err(describe_decode_error)?;
        let picture = DynamicImage::from_decoder(decoder).map_err(describe_decode_error)?;
        Ok((orientation, picture))
    })?;
    picture.apply_orientation(orientation);
    Ok(if picture.color().has_alpha() {
        DynamicImage::ImageRgba8(picture.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(picture.into_rgb8())
    })
}

/// Runs third-party decoding of hostile bytes. A decoder that panics (zune-jpeg 0.5.15 does on
/// some malformed JPEGs: an `unwrap` in its AVX2 IDCT, upstream zune-image#409, found by
/// fuzz/fuzz_targets/intake.rs) refuses the file instead of failing the image worker.
fn guard_decoder<T>(decode: impl FnOnce() -> Result<T, IntakeError>) -> Result<T, IntakeError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).unwrap_or_else(|_| {
        Err(IntakeError::Corrupt(
            "its decoder failed on malformed data".to_string(),
        ))
    })
}

fn describe_decode_error(error: image::ImageError) -> IntakeError {
    match error {
        image::ImageError::Limits(_) => IntakeError::Corrupt(
            "its dimensions or memory needs exceed what Cameo accepts".to_string(),
        ),
        image::ImageError::Unsupported(e) => IntakeError::Corrupt(format!("unsupported: {e}")),
        other => {
            // Decoder messages can be long; keep the first line and a bounded length.
            let text = other.to_string();
            let first_line = text.lines().next().unwrap_or("decoding failed");
            IntakeError::Corrupt(first_line.chars().take(160).collect())
        }
    }
}

/// Keeps the chosen square, or the centred one.
fn crop_to_square(picture: DynamicImage, crop: Option<CropSquare>) -> DynamicImage {
    let (width, height) = (picture.width(), picture.height());
    let (x, y, side) = crop
        .unwrap_or_else(|| centre_square(width, height))
        .clamped(width, height);
    if (x, y, side) == (0, 0, width) && width == height {
        return picture;
    }
    picture.crop_imm(x, y, side, side)
}

/// The largest centred square of a `width`×`height` picture.
pub fn centre_square(width: u32, height: u32) -> CropSquare {
    let size = width.min(height);
    CropSquare {
        x: (width - size) / 2,
        y: (height - size) / 2,
        size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb, RgbImage};

    #[test]
    fn heic_photos_are_named_when_refused() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(
            prepare_photo(heic, LIMITS).unwrap_err().to_string(),
            "HEIC (save it as JPEG first) images are not accepted; use PNG, JPEG, GIF or WebP"
        );
        assert_eq!(iso_media_photo(b"\0\0\0\x18ftypisom"), None);
    }

    const LIMITS: IntakeLimits = IntakeLimits {
        max_bytes: 10_000_000,
        max_pixels: 40_000_000,
    };

    fn png_bytes(image: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                image.as_raw(),
                image.width(),
                image.height(),
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        out
    }

    /// A PNG that declares a huge picture, with (almost) no pixel data behind it.
    fn png_declaring(width: u32, height: u32) -> Vec<u8> {
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [
            (b"IHDR", &ihdr[..]),
            (b"IDAT", &[0x78, 0x9c][..]),
            (b"IEND", &[][..]),
        ] {
            let mut chunk = kind.to_vec();
            chunk.extend_from_slice(data);
            bytes.extend_from_slice(&(data.len() as u32).to_be_bytes());
            bytes.extend_from_slice(&chunk);
            bytes.extend_from_slice(&crc32fast::hash(&chunk).to_be_bytes());
        }
        bytes
    }

    #[test]
    fn the_decode_cost_counts_only_the_copies_a_picture_needs() {
        let limits = IntakeLimits {
            max_bytes: 10 << 20,
            max_pixels: 40_000_000,
        };
        let square = inspect(&png_declaring(6320, 6320), limits).unwrap();
        let rgb = 6320 * 6320 * 3;
        let resizer = 2048 * (6320 + 2048) * 4;
        assert_eq!(square.peak_bytes(None), rgb + resizer + (8 << 20));
        let crop = Some(CropSquare {
            x: 0,
            y: 0,
            size: 100,
        });
        assert_eq!(
            square.peak_bytes(crop) - square.peak_bytes(None),
            6320 * 6320 * 4
        );
        let small = inspect(&png_declaring(300, 100), limits).unwrap();
        assert_eq!(
            small.peak_bytes(None),
            300 * 100 * 3 + 100 * 100 * 4 + (8 << 20)
        );
        let webp = Inspected {
            format: PhotoFormat::WebP,
            ..small
        };
        assert_eq!(
            webp.peak_bytes(None) - small.peak_bytes(None),
            300 * 100 * 2
        );
        let rotated = Inspected {
            rotated: true,
            ..small
        };
        assert_eq!(
            rotated.peak_bytes(None) - small.peak_bytes(None),
            300 * 100 * 4
        );
    }

    #[test]
    fn landscape_is_centre_cropped_to_square() {
        let mut image = RgbImage::from_pixel(300, 100, Rgb([0, 0, 255]));
        for y in 0..100 {
            for x in 100..200 {
                image.put_pixel(x, y, Rgb([255, 0, 0]));
            }
        }
        let photo = prepare_photo(&png_bytes(&image), LIMITS).unwrap();
        assert_eq!(photo.side, 100);
        assert_eq!(photo.format, PhotoFormat::Png);
        let decoded = image::load_from_memory(&photo.data).unwrap().into_rgb8();
        assert_eq!(decoded.dimensions(), (100, 100));
        assert!(decoded.pixels().all(|p| *p == Rgb([255, 0, 0])));
    }

    #[test]
    fn a_chosen_square_is_kept_and_clamped_inside() {
        let mut image = RgbImage::from_pixel(200, 100, Rgb([0, 0, 255]));
        for y in 0..50 {
            for x in 150..200 {
                image.put_pixel(x, y, Rgb([255, 0, 0]));
            }
        }
        let crop = Some(CropSquare {
            x: 150,
            y: 0,
            size: 50,
        });
        let photo = prepare_cropped_photo(&png_bytes(&image), LIMITS, crop).unwrap();
        assert_eq!(photo.side, 50);
        let decoded = image::load_from_memory(&photo.data).unwrap().into_rgb8();
        assert!(decoded.pixels().all(|p| *p == Rgb([255, 0, 0])));
        assert_eq!(
            CropSquare {
                x: 190,
                y: 90,
                size: 50
            }
            .clamped(200, 100),
            (150, 50, 50)
        );
        assert_eq!(
            CropSquare {
                x: 0,
                y: 0,
                size: 900
            }
            .clamped(200, 100),
            (0, 0, 100)
        );
        assert_eq!(
            CropSquare {
                x: 5,
                y: 5,
                size: 0
            }
            .clamped(200, 100),
            (5, 5, 1)
        );
    }

    #[test]
    fn huge_declared_dimensions_are_refused_before_allocation() {
        let started = std::time::Instant::now();
        let error = prepare_photo(&png_declaring(100_000, 100_000), LIMITS).unwrap_err();
        assert!(
            matches!(
                error,
                IntakeError::TooManyPixels { .. } | IntakeError::Corrupt(_)
            ),
            "{error:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let error = prepare_photo(&png_declaring(8000, 8000), LIMITS).unwrap_err();
        assert!(
            matches!(error, IntakeError::TooManyPixels { width: 8000, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn refusals_name_the_declared_dimensions() {
        // The side limit used to fire inside the decoder first, with a reason naming nothing.
        assert_eq!(
            prepare_photo(&png_declaring(30_000, 30_000), LIMITS).unwrap_err(),
            IntakeError::TooManyPixels {
                width: 30_000,
                height: 30_000,
                limit: LIMITS.max_pixels
            }
        );
        let error = prepare_photo(&png_declaring(1, 20_000), LIMITS).unwrap_err();
        assert_eq!(
            error,
            IntakeError::SideTooLong {
                width: 1,
                height: 20_000,
                limit: MAX_DECODED_SIDE
            }
        );
        assert!(error.to_string().contains("1×20000"), "{error}");
    }

    #[test]
    fn gif_frames_larger_than_their_screen_are_charged_before_decoding() {
        let big = crate::imaging::animation::Animation {
            frames: vec![
                (
                    image::RgbaImage::new(2000, 2000),
                    image::Delay::from_numer_denom_ms(10, 1)
                );
                2
            ],
        }
        .encode_gif()
        .unwrap();
        // Shrink the logical screen to 2×2: the frames keep their 2000×2000 rectangles.
        let mut bytes = big;
        bytes[6..10].copy_from_slice(&[2, 0, 2, 0]);
        let started = std::time::Instant::now();
        let limits = IntakeLimits {
            max_pixels: 5_000_000,
            ..LIMITS
        };
        assert_eq!(
            prepare_photo(&bytes, limits).unwrap_err(),
            IntakeError::AnimationTooLarge {
                frames: 2,
                limit: 5_000_000
            }
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
    }

    #[test]
    fn a_webp_bitstream_larger_than_its_canvas_is_refused_before_decoding() {
        // A 16×16 canvas around a lossy bitstream declaring 14584×14584: the decoder would
        // allocate 213 MB of planes before comparing the two.
        let mut bytes = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0\x0f\0\0\x0f\0\0".to_vec();
        bytes.extend_from_slice(b"VP8 \x14\0\0\0\x10\x02\0\x9d\x01\x2a\xf8\x38\xf8\x38");
        bytes.extend_from_slice(&[0; 10]);
        let size = (bytes.len() - 8) as u32;
        bytes[4..8].copy_from_slice(&size.to_le_bytes());
        let error = prepare_photo(&bytes, LIMITS).unwrap_err();
        assert_eq!(
            error,
            IntakeError::Corrupt(
                "its image data declares 14584×14584 pixels, more than its 16×16 canvas".into()
            )
        );
    }

    #[test]
    fn a_panicking_decoder_refuses_the_file() {
        // Panics zune-jpeg 0.5.15 (its AVX2 IDCT, or its scalar one with debug assertions).
        let bytes = include_bytes!("testdata/zune-jpeg-idct-panic.jpg");
        match prepare_photo(bytes, LIMITS) {
            Ok(_) => {}
            Err(IntakeError::Corrupt(reason)) => assert!(!reason.is_empty()),
            Err(other) => panic!("{other:?}"),
        }
        assert_eq!(
            guard_decoder::<()>(|| panic!("decoder bug")),
            Err(IntakeError::Corrupt(
                "its decoder failed on malformed data".into()
            ))
        );
    }

    #[test]
    fn non_images_and_other_formats_are_refused_with_reasons() {
        assert_eq!(prepare_photo(b"", LIMITS).unwrap_err(), IntakeError::Empty);
        assert_eq!(
            prepare_photo(b"hello world", LIMITS).unwrap_err(),
            IntakeError::NotAnImage
        );
        let bmp = b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0";
        assert!(matches!(
            prepare_photo(bmp, LIMITS).unwrap_err(),
            IntakeError::UnsupportedFormat(name) if name == "BMP"
        ));
        let tiny = IntakeLimits {
            max_bytes: 10,
            ..LIMITS
        };
        assert!(matches!(
            prepare_photo(&[0u8; 11], tiny).unwrap_err(),
            IntakeError::TooLarge {
                size: 11,
                limit: 10
            }
        ));
    }

    #[test]
    fn truncated_image_is_corrupt_not_a_panic() {
        let bytes = png_bytes(&RgbImage::from_pixel(64, 64, Rgb([1, 2, 3])));
        let error = prepare_photo(&bytes[..bytes.len() / 2], LIMITS).unwrap_err();
        assert!(matches!(error, IntakeError::Corrupt(_)), "{error:?}");
    }

    #[test]
    fn trailing_bytes_do_not_survive_reencoding() {
        let mut bytes = png_bytes(&RgbImage::from_pixel(8, 8, Rgb([9, 9, 9])));
        bytes.extend_from_slice(b"<script>alert(1)</script>");
        let photo = prepare_photo(&bytes, LIMITS).unwrap();
        assert!(!photo.data.windows(8).any(|w| w == b"<script>"));
        assert_ne!(photo.source_digest, photo.content_digest);
    }

    #[test]
    fn animated_gif_stays_animated_and_square() {
        let frames = [[255, 0, 0, 255], [0, 0, 255, 255]].map(|c| {
            (
                image::RgbaImage::from_pixel(60, 30, image::Rgba(c)),
                image::Delay::from_numer_denom_ms(50, 1),
            )
        });
        let bytes = crate::imaging::animation::Animation {
            frames: frames.to_vec(),
        }
        .encode_gif()
        .unwrap();
        let photo = prepare_photo(&bytes, LIMITS).unwrap();
        assert_eq!((photo.format, photo.side), (PhotoFormat::Gif, 30));
        match crate::imaging::decode_original(&photo.data).unwrap() {
            crate::imaging::Original::Animated(animation) => assert_eq!(animation.frame_count(), 2),
            crate::imaging::Original::Still(_) => panic!("animation lost"),
        }
    }

    #[test]
    fn oversized_originals_are_capped() {
        let bytes = png_bytes(&RgbImage::from_pixel(2100, 2100, Rgb([5, 6, 7])));
        let photo = prepare_photo(&bytes, LIMITS).unwrap();
        assert_eq!(photo.side, MAX_STORED_SIDE);
    }
}
