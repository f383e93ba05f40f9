//! Animated GIFs: decoded frame by frame under limits, kept animated through intake and
//! rendering (PROTOCOL.md "Photos": animated GIFs stay animated).
//!
//! An animation costs its frame count in memory and CPU at every step, so it is bounded more
//! tightly than a still: at most [`MAX_FRAMES`] frames, all frames together within the pixel
//! budget, and stored at most [`MAX_ANIMATED_SIDE`] pixels wide. Other output formats get the
//! first frame.

use std::io::Cursor;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::{AnimationDecoder, Delay, DynamicImage, Frame, ImageDecoder, Limits, RgbaImage};

use super::intake::{CropSquare, IntakeError, centre_square};
use super::render::resize_square;

/// Most frames an animation may have.
pub const MAX_FRAMES: usize = 300;
/// Largest side of a stored animation.
pub const MAX_ANIMATED_SIDE: u32 = 512;

/// Square frames with their delays.
#[derive(Clone, Debug)]
pub struct Animation {
    pub frames: Vec<(RgbaImage, Delay)>,
}

impl Animation {
    pub fn side(&self) -> u32 {
        self.frames.first().map_or(0, |(frame, _)| frame.width())
    }

    /// Bytes held by the decoded frames (for cache weights).
    pub fn byte_size(&self) -> usize {
        self.frames
            .iter()
            .map(|(frame, _)| frame.as_raw().len())
            .sum()
    }

    pub fn first_frame(&self) -> DynamicImage {
        self.frames.first().map_or_else(
            || DynamicImage::new_rgba8(1, 1),
            |(f, _)| DynamicImage::ImageRgba8(f.clone()),
        )
    }

    /// Every frame resized to `side`×`side`.
    pub fn resized(&self, side: u32) -> Animation {
        let frames = self
            .frames
            .iter()
            .map(|(frame, delay)| {
                let resized = resize_square(&DynamicImage::ImageRgba8(frame.clone()), side);
                (resized.into_rgba8(), *delay)
            })
            .collect();
        Animation { frames }
    }

    /// Encodes as a looping GIF.
    pub fn encode_gif(&self) -> image::ImageResult<Vec<u8>> {
        let mut out = Vec::new();
        {
            let mut encoder = GifEncoder::new_with_speed(&mut out, 10);
            encoder.set_repeat(Repeat::Infinite)?;
            let frames = self
                .frames
                .iter()
                .map(|(frame, delay)| Frame::from_parts(frame.clone(), 0, 0, *delay));
            encoder.encode_frames(frames)?;
        }
        Ok(out)
    }
}

/// Decodes every frame of a GIF, centre-cropped to a square. `Ok(None)` for a single-frame
/// GIF, which is treated as a still. Refuses too many frames or too many pixels in total.
pub fn decode_gif_frames(
    bytes: &[u8],
    max_pixels: u64,
    crop: Option<CropSquare>,
) -> Result<Option<Animation>, IntakeError> {
    let corrupt = |e: image::ImageError| IntakeError::Corrupt(first_line(&e.to_string()));
    let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(4).saturating_add(16 << 20));
    decoder.set_limits(limits).map_err(corrupt)?;
    let (crop_x, crop_y, side) = crop
        .unwrap_or_else(|| centre_square(width, height))
        .clamped(width.max(1), height.max(1));
    let frame_pixels = u64::from(width) * u64::from(height);
    let mut frames = Vec::new();
    for (index, frame) in decoder.into_frames().enumerate() {
        if index >= MAX_FRAMES {
            return Err(IntakeError::TooManyFrames { limit: MAX_FRAMES });
        }
        if frame_pixels.saturating_mul(index as u64 + 1) > max_pixels {
            return Err(IntakeError::AnimationTooLarge {
                frames: index + 1,
                limit: max_pixels,
            });
        }
        let frame = frame.map_err(corrupt)?;
        let delay = frame.delay();
        let canvas = frame.into_buffer();
        let square = image::imageops::crop_imm(&canvas, crop_x, crop_y, side, side).to_image();
        frames.push((square, delay));
    }
    if frames.len() <= 1 {
        return Ok(None);
    }
    let animation = Animation { frames };
    Ok(Some(if side > MAX_ANIMATED_SIDE {
        animation.resized(MAX_ANIMATED_SIDE)
    } else {
        animation
    }))
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("decoding failed")
        .chars()
        .take(160)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    pub fn animated_gif(side: u32, colours: &[[u8; 4]]) -> Vec<u8> {
        let animation = Animation {
            frames: colours
                .iter()
                .map(|c| {
                    (
                        RgbaImage::from_pixel(side, side, Rgba(*c)),
                        Delay::from_numer_denom_ms(100, 1),
                    )
                })
                .collect(),
        };
        animation.encode_gif().unwrap()
    }

    #[test]
    fn frames_survive_a_round_trip_and_resize() {
        let bytes = animated_gif(40, &[[255, 0, 0, 255], [0, 0, 255, 255], [0, 255, 0, 255]]);
        let animation = decode_gif_frames(&bytes, 40_000_000, None)
            .unwrap()
            .unwrap();
        assert_eq!(animation.frames.len(), 3);
        let small = animation.resized(10);
        assert_eq!(small.side(), 10);
        assert!(
            small.frames[1].0.get_pixel(5, 5).0[2] > 200,
            "second frame is blue"
        );
    }

    #[test]
    fn a_single_frame_gif_is_a_still() {
        let bytes = animated_gif(8, &[[1, 2, 3, 255]]);
        assert!(
            decode_gif_frames(&bytes, 40_000_000, None)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn too_many_frames_are_refused() {
        let colours: Vec<[u8; 4]> = (0..=MAX_FRAMES).map(|i| [i as u8, 0, 0, 255]).collect();
        let bytes = animated_gif(2, &colours);
        assert_eq!(
            decode_gif_frames(&bytes, 40_000_000, None).unwrap_err(),
            IntakeError::TooManyFrames { limit: MAX_FRAMES }
        );
    }

    #[test]
    fn frames_share_the_pixel_budget() {
        let bytes = animated_gif(100, &[[0, 0, 0, 255]; 5]);
        assert!(matches!(
            decode_gif_frames(&bytes, 30_000, None).unwrap_err(),
            IntakeError::AnimationTooLarge { frames: 4, .. }
        ));
    }
}
