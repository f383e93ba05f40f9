//! A GIF's block structure, walked without decompressing anything, so that an animation's cost
//! is bounded before any decoder runs.
//!
//! The header's logical screen does not bound a GIF: each frame declares its own rectangle, and
//! decoders allocate and decompress a frame at its own size whatever the screen says. A 2 MB
//! file with a 2×2 screen and 300 frames of 3000×3000 kept the decoder busy for nearly a minute
//! (found by `tests/api/hostile_images.rs`). So every frame is charged the larger of its own
//! area and the screen's against the pixel budget, and frames are counted, before decoding.

use super::animation::{MAX_ANIMATION_PIXELS, MAX_FRAMES};
use super::intake::IntakeError;

/// What the walk found: enough to price the decode before it runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GifLayout {
    /// Frames seen (a truncated file may have fewer than it will decode: the decoder then
    /// refuses it).
    pub frames: usize,
    /// The sum over frames of the larger of the frame's and the screen's area.
    pub charged_pixels: u64,
}

const SCREEN_DESCRIPTOR_END: usize = 13;
const EXTENSION: u8 = 0x21;
const IMAGE_DESCRIPTOR: u8 = 0x2C;

/// Refuses a GIF with more than [`MAX_FRAMES`] frames, a screen or frame larger than
/// `max_pixels`, or frames that together exceed `max_pixels` (or, for an animation, the
/// tighter [`MAX_ANIMATION_PIXELS`]). Truncated or malformed structure is left to the
/// decoder, which refuses it with its own reason.
pub fn check_gif_layout(bytes: &[u8], max_pixels: u64) -> Result<GifLayout, IntakeError> {
    let Some(header) = bytes.get(..SCREEN_DESCRIPTOR_END) else {
        return Ok(GifLayout::default());
    };
    let (screen_width, screen_height) = (le16(&header[6..8]), le16(&header[8..10]));
    let screen = u64::from(screen_width) * u64::from(screen_height);
    if screen > max_pixels {
        return Err(IntakeError::TooManyPixels {
            width: screen_width,
            height: screen_height,
            limit: max_pixels,
        });
    }
    let mut at = SCREEN_DESCRIPTOR_END + palette_len(header[10]);
    let mut frames = 0;
    let mut charged = 0u64;
    let layout = |frames, charged_pixels| GifLayout {
        frames,
        charged_pixels,
    };
    loop {
        match bytes.get(at) {
            Some(&EXTENSION) => match skip_sub_blocks(bytes, at + 2) {
                Some(next) => at = next,
                None => return Ok(layout(frames, charged)),
            },
            Some(&IMAGE_DESCRIPTOR) => {
                let Some(descriptor) = bytes.get(at + 1..at + 10) else {
                    return Ok(layout(frames, charged));
                };
                let (width, height) = (le16(&descriptor[4..6]), le16(&descriptor[6..8]));
                // The descriptor, a local palette, the LZW minimum code size, the data.
                let data = at + 10 + palette_len(descriptor[8]) + 1;
                frames += 1;
                if frames > MAX_FRAMES {
                    return Err(IntakeError::TooManyFrames { limit: MAX_FRAMES });
                }
                let area = u64::from(width) * u64::from(height);
                if area > max_pixels {
                    return Err(IntakeError::TooManyPixels {
                        width,
                        height,
                        limit: max_pixels,
                    });
                }
                charged += area.max(screen);
                let limit = if frames > 1 {
                    max_pixels.min(MAX_ANIMATION_PIXELS)
                } else {
                    max_pixels
                };
                if charged > limit {
                    return Err(IntakeError::AnimationTooLarge { frames, limit });
                }
                match skip_sub_blocks(bytes, data) {
                    Some(next) => at = next,
                    None => return Ok(layout(frames, charged)),
                }
            }
            // The trailer, or something the decoder will refuse.
            _ => return Ok(layout(frames, charged)),
        }
    }
}

fn le16(bytes: &[u8]) -> u32 {
    u32::from(u16::from_le_bytes([bytes[0], bytes[1]]))
}

/// Bytes of the colour table a packed field announces (global or local, same layout).
fn palette_len(packed: u8) -> usize {
    if packed & 0x80 == 0 {
        0
    } else {
        3 << ((packed & 0x07) + 1)
    }
}

/// The position after a chain of sub-blocks (length byte, data, …, zero), or None if cut short.
fn skip_sub_blocks(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let length = usize::from(*bytes.get(at)?);
        at += 1;
        if length == 0 {
            return Some(at);
        }
        at += length;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GIF with a `screen` and frames of the given sizes (one empty data block each).
    fn layout(screen: (u16, u16), frames: &[(u16, u16)]) -> Vec<u8> {
        let mut bytes = b"GIF89a".to_vec();
        bytes.extend_from_slice(&screen.0.to_le_bytes());
        bytes.extend_from_slice(&screen.1.to_le_bytes());
        bytes.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
        bytes.extend_from_slice(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00");
        for (width, height) in frames {
            bytes.extend_from_slice(&[0x21, 0xF9, 4, 0, 1, 0, 0, 0, 0x2C, 0, 0, 0, 0]);
            bytes.extend_from_slice(&width.to_le_bytes());
            bytes.extend_from_slice(&height.to_le_bytes());
            bytes.extend_from_slice(&[0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0x4C, 1, 0]);
        }
        bytes.push(0x3B);
        bytes
    }

    #[test]
    fn frames_within_the_screen_and_budget_pass() {
        assert_eq!(
            check_gif_layout(&layout((10, 10), &[(10, 10); 3]), 300),
            Ok(GifLayout {
                frames: 3,
                charged_pixels: 300
            })
        );
    }

    #[test]
    fn frames_larger_than_the_screen_are_charged_their_own_area() {
        let bytes = layout((2, 2), &[(3000, 3000); 300]);
        assert_eq!(
            check_gif_layout(&bytes, 40_000_000),
            Err(IntakeError::AnimationTooLarge {
                frames: 3,
                limit: MAX_ANIMATION_PIXELS
            })
        );
    }

    #[test]
    fn one_frame_past_the_budget_is_refused_by_its_size() {
        let bytes = layout((1, 1), &[(65_535, 65_535)]);
        assert!(matches!(
            check_gif_layout(&bytes, 40_000_000),
            Err(IntakeError::TooManyPixels {
                width: 65_535,
                height: 65_535,
                ..
            })
        ));
        let bytes = layout((65_535, 65_535), &[(1, 1)]);
        assert!(matches!(
            check_gif_layout(&bytes, 40_000_000),
            Err(IntakeError::TooManyPixels { width: 65_535, .. })
        ));
    }

    #[test]
    fn animations_are_capped_tighter_than_stills() {
        // The amplification attack's upload: 300 frames of 360×360, 38.9 M frame-pixels.
        let bytes = layout((360, 360), &[(360, 360); 300]);
        assert_eq!(
            check_gif_layout(&bytes, 40_000_000),
            Err(IntakeError::AnimationTooLarge {
                frames: 155,
                limit: MAX_ANIMATION_PIXELS
            })
        );
        let bytes = layout((256, 256), &[(256, 256); 300]);
        assert!(check_gif_layout(&bytes, 40_000_000).is_ok());
        // A single frame is a still: the still budget applies.
        let bytes = layout((5000, 5000), &[(5000, 5000)]);
        assert!(check_gif_layout(&bytes, 40_000_000).is_ok());
    }

    #[test]
    fn frames_are_counted_before_any_is_decoded() {
        let bytes = layout((1, 1), &vec![(1, 1); MAX_FRAMES + 1]);
        assert_eq!(
            check_gif_layout(&bytes, 40_000_000),
            Err(IntakeError::TooManyFrames { limit: MAX_FRAMES })
        );
        assert_eq!(
            check_gif_layout(&layout((1, 1), &vec![(1, 1); MAX_FRAMES]), 40_000_000)
                .map(|layout| layout.frames),
            Ok(MAX_FRAMES)
        );
    }

    #[test]
    fn truncated_structure_is_left_to_the_decoder() {
        let bytes = layout((10, 10), &[(10, 10); 2]);
        for end in 0..bytes.len() {
            assert!(check_gif_layout(&bytes[..end], 300).is_ok(), "cut at {end}");
        }
    }
}
