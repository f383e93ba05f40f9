//! Animated GIFs: decoded frame by frame under limits, kept animated through intake and
//! rendering (PROTOCOL.md "Photos": animated GIFs stay animated).
//!
//! An animation costs its frame count in memory and CPU at every step, so it is bounded more
//! tightly than a still: at most [`MAX_FRAMES`] frames, all frames together within
//! [`MAX_ANIMATION_PIXELS`], and stored at most [`MAX_ANIMATED_SIDE`] pixels wide. Other
//! output formats get the first frame.
//!
//! Serving is where an animation amplifies: a 7.2 MB upload (300 frames of 360×360) rendered
//! to 20–24 MB at ~3.3 s of a worker for each of 512 sizes. So a stored animation is kept as
//! its encoded bytes plus its first frame ([`StoredAnimation`]), and rendered only at the sizes
//! of [`ANIMATION_LADDER`], streamed one frame at a time, with at most
//! [`RENDITION_FRAME_PIXELS`] frame-pixels (every n-th frame is kept and the delays of the
//! dropped ones added to it, so it plays as long as the original) and at most
//! [`MAX_RENDITION_BYTES`]. Any other size gets the first frame as a still at exactly that size
//! (PROTOCOL.md: exactly size×size; "at the least, serve their first frame correctly").

use std::io::Cursor;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::{AnimationDecoder, Delay, DynamicImage, Frame, ImageDecoder, Limits, RgbaImage};

use super::intake::{CropSquare, IntakeError, centre_square};
use super::render::resize_square;

/// Most frames an animation may have.
pub const MAX_FRAMES: usize = 300;
/// Most frame-pixels (the sum over frames of each frame's area) an uploaded animation may
/// have: 300 frames of 256×256 with a little slack, or 76 frames of 512×512. About 80 MB of
/// RGBA while intake holds the frames; a still keeps the larger `max_image_pixels` budget.
pub const MAX_ANIMATION_PIXELS: u64 = 20_000_000;
/// The sizes animations are rendered at; every other size gets the first frame as a still.
/// Common avatar sizes (Libravatar's 80 default, 2× variants of the small ones), so at most
/// ten animated renditions exist per photo version however many sizes clients ask for.
pub const ANIMATION_LADDER: [u32; 10] = [16, 24, 32, 48, 64, 80, 96, 128, 256, 512];
/// Most frame-pixels one animated rendition resizes and encodes: all 300 frames at 80 px,
/// every 2nd at 128, every 5th at 256 (about 0.5 s of one core, measured in
/// `bench/attack/animations.sh`).
pub const RENDITION_FRAME_PIXELS: u64 = 4 << 20;
/// Largest animated rendition sent; above it, every other frame is dropped again.
pub const MAX_RENDITION_BYTES: usize = 2 << 20;

/// Whether `size` is rendered animated.
pub fn is_on_ladder(size: u32) -> bool {
    ANIMATION_LADDER.contains(&size)
}

/// Keep every `n`-th frame so that the kept frames at `side`×`side` fit `frame_pixels`.
pub fn frame_stride(frames: usize, side: u32, frame_pixels: u64) -> usize {
    let per_frame = u64::from(side.max(1)).pow(2);
    let affordable = (frame_pixels / per_frame).max(1) as usize;
    frames.div_ceil(affordable).max(1)
}
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

/// A stored animation as the render cache keeps it: the encoded GIF (already validated,
/// square, at most [`MAX_ANIMATED_SIDE`]) and its first frame, never all frames decoded.
#[derive(Clone, Debug)]
pub struct StoredAnimation {
    bytes: Vec<u8>,
    first_frame: RgbaImage,
    frames: usize,
}

impl StoredAnimation {
    /// Reads a stored GIF: `Ok(None)` if it has a single frame (a still).
    pub fn read(bytes: Vec<u8>) -> image::ImageResult<Option<StoredAnimation>> {
        let frames =
            super::gif_layout::check_gif_layout(&bytes, u64::MAX).map_or(0, |layout| layout.frames);
        if frames <= 1 {
            return Ok(None);
        }
        let first_frame = GifDecoder::new(Cursor::new(&bytes))?
            .into_frames()
            .next()
            .transpose()?
            .map(Frame::into_buffer)
            .unwrap_or_else(|| RgbaImage::new(1, 1));
        Ok(Some(StoredAnimation {
            bytes,
            first_frame,
            frames,
        }))
    }

    pub fn first_frame(&self) -> DynamicImage {
        DynamicImage::ImageRgba8(self.first_frame.clone())
    }

    pub fn frame_count(&self) -> usize {
        self.frames
    }

    /// Bytes held (for cache weights).
    pub fn byte_size(&self) -> usize {
        self.bytes.len() + self.first_frame.as_raw().len()
    }

    /// The animation at `side`×`side` (a size on the ladder), within the frame-pixel and byte
    /// caps. Holds one decoded frame at a time.
    pub fn render(&self, side: u32) -> image::ImageResult<Vec<u8>> {
        let mut stride = frame_stride(self.frames, side, RENDITION_FRAME_PIXELS);
        loop {
            let encoded = self.encode_every(stride, side)?;
            if encoded.len() <= MAX_RENDITION_BYTES || stride >= self.frames {
                return Ok(encoded);
            }
            stride *= 2;
        }
    }

    /// Every `stride`-th frame resized to `side`, each carrying the delays of the frames
    /// dropped after it.
    fn encode_every(&self, stride: usize, side: u32) -> image::ImageResult<Vec<u8>> {
        let mut out = Vec::new();
        {
            let mut encoder = GifEncoder::new_with_speed(&mut out, 10);
            encoder.set_repeat(Repeat::Infinite)?;
            let mut pending: Option<(RgbaImage, u32)> = None;
            let decoder = GifDecoder::new(Cursor::new(&self.bytes))?;
            for (index, frame) in decoder.into_frames().enumerate() {
                let frame = frame?;
                let delay_ms = delay_millis(frame.delay());
                if index % stride != 0 {
                    if let Some((_, total)) = pending.as_mut() {
                        *total = total.saturating_add(delay_ms);
                    }
                    continue;
                }
                if let Some((picture, total)) = pending.take() {
                    encoder.encode_frame(timed_frame(picture, total))?;
                }
                let resized = resize_square(&DynamicImage::ImageRgba8(frame.into_buffer()), side);
                pending = Some((resized.into_rgba8(), delay_ms));
            }
            if let Some((picture, total)) = pending {
                encoder.encode_frame(timed_frame(picture, total))?;
            }
        }
        Ok(out)
    }
}

fn delay_millis(delay: Delay) -> u32 {
    let (numerator, denominator) = delay.numer_denom_ms();
    numerator / denominator.max(1)
}

fn timed_frame(picture: RgbaImage, delay_ms: u32) -> Frame {
    Frame::from_parts(picture, 0, 0, Delay::from_numer_denom_ms(delay_ms, 1))
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
    fn the_stride_keeps_rendered_frame_pixels_within_the_cap() {
        assert_eq!(frame_stride(300, 80, RENDITION_FRAME_PIXELS), 1);
        assert_eq!(frame_stride(300, 128, RENDITION_FRAME_PIXELS), 2);
        assert_eq!(frame_stride(300, 256, RENDITION_FRAME_PIXELS), 5);
        assert_eq!(frame_stride(300, 512, RENDITION_FRAME_PIXELS), 19);
        assert_eq!(frame_stride(1, 512, 1), 1);
        assert_eq!(frame_stride(10, 0, 0), 10);
        for side in ANIMATION_LADDER {
            let stride = frame_stride(MAX_FRAMES, side, RENDITION_FRAME_PIXELS);
            let kept = MAX_FRAMES.div_ceil(stride) as u64;
            assert!(kept * u64::from(side).pow(2) <= RENDITION_FRAME_PIXELS.max(1 << 18));
        }
    }

    #[test]
    fn the_ladder_is_short_and_within_the_largest_size() {
        assert!(ANIMATION_LADDER.len() <= 10);
        assert!(ANIMATION_LADDER.windows(2).all(|w| w[0] < w[1]));
        assert!(is_on_ladder(80) && !is_on_ladder(81) && !is_on_ladder(0));
    }

    #[test]
    fn a_stored_animation_renders_thinned_out_but_as_long() {
        let colours: Vec<[u8; 4]> = (0..12).map(|i| [i * 20, 0, 255 - i * 20, 255]).collect();
        let stored = StoredAnimation::read(animated_gif(32, &colours))
            .unwrap()
            .unwrap();
        assert_eq!(stored.first_frame().into_rgba8().dimensions(), (32, 32));
        let every_third = stored.encode_every(3, 16).unwrap();
        let frames = GifDecoder::new(Cursor::new(every_third))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap();
        assert_eq!(frames.len(), 4);
        assert!(frames.iter().all(|f| f.buffer().dimensions() == (16, 16)));
        assert!(frames.iter().all(|f| delay_millis(f.delay()) == 300));
        let blue_first = frames[0].buffer().get_pixel(8, 8).0;
        let later = frames[3].buffer().get_pixel(8, 8).0;
        assert!(
            blue_first[2] > 200 && later[0] > 150,
            "{blue_first:?} {later:?}"
        );
        assert!(
            StoredAnimation::read(animated_gif(8, &[[1, 2, 3, 255]]))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_rendition_above_the_byte_cap_drops_frames_until_it_fits() {
        // Noise does not compress: 40 frames of 512×512 noise are ~10 MB at full rate.
        let mut seed = 7u32;
        let mut noise = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) as u8
        };
        let frames: Vec<(RgbaImage, Delay)> = (0..40)
            .map(|_| {
                let frame =
                    RgbaImage::from_fn(256, 256, |_, _| Rgba([noise(), noise(), noise(), 255]));
                (frame, Delay::from_numer_denom_ms(50, 1))
            })
            .collect();
        let bytes = Animation { frames }.encode_gif().unwrap();
        let stored = StoredAnimation::read(bytes).unwrap().unwrap();
        let rendered = stored.render(512).unwrap();
        assert!(rendered.len() <= MAX_RENDITION_BYTES, "{}", rendered.len());
        let frames = GifDecoder::new(Cursor::new(rendered))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap();
        assert!(frames.len() >= 2 && frames.len() < 40, "{}", frames.len());
        assert_eq!(frames[0].buffer().dimensions(), (512, 512));
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
