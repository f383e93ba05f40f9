//! A WebP's chunks, walked without decoding, so that a lossy bitstream cannot claim more
//! pixels than the canvas that was checked against the pixel budget.
//!
//! An extended WebP (VP8X) declares its canvas, and that is what a decoder reports; but each
//! lossy `VP8 ` bitstream inside declares its own size, and the decoder allocates its planes at
//! that size before it notices the two disagree. A 474-byte file with a 16×769 canvas and a
//! 14584×14584 bitstream asked for a 213 MB allocation (found by fuzz/fuzz_targets/intake.rs).
//! Lossless (`VP8L`) and alpha data are decoded at the canvas or frame size, so need no check.

use super::intake::IntakeError;

/// The RIFF header: `RIFF`, the file size, `WEBP`.
const RIFF_HEADER: usize = 12;
/// An `ANMF` chunk's frame header, before the frame's own chunks.
const FRAME_HEADER: usize = 16;

/// Refuses a WebP whose lossy bitstreams (still, or frames of an animation) declare more
/// pixels across than a `width`×`height` canvas. Malformed structure is left to the decoder.
pub fn check_webp_layout(bytes: &[u8], width: u32, height: u32) -> Result<(), IntakeError> {
    match bytes.get(RIFF_HEADER..) {
        Some(chunks) => check_chunks(chunks, (width, height), false),
        None => Ok(()),
    }
}

fn check_chunks(mut chunks: &[u8], canvas: (u32, u32), in_frame: bool) -> Result<(), IntakeError> {
    while chunks.len() >= 8 {
        let size = u32::from_le_bytes([chunks[4], chunks[5], chunks[6], chunks[7]]) as usize;
        let body = &chunks[8..];
        let data = &body[..size.min(body.len())];
        match &chunks[..4] {
            b"VP8 " => {
                if let Some((width, height)) = lossy_dimensions(data)
                    && (width > canvas.0 || height > canvas.1)
                {
                    return Err(IntakeError::Corrupt(format!(
                        "its image data declares {width}×{height} pixels, more than its {}×{} canvas",
                        canvas.0, canvas.1
                    )));
                }
            }
            b"ANMF" if !in_frame => {
                if let Some(frame_chunks) = data.get(FRAME_HEADER..) {
                    check_chunks(frame_chunks, canvas, true)?;
                }
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        let advance = size.saturating_add(size & 1);
        match body.get(advance..) {
            Some(rest) => chunks = rest,
            None => break,
        }
    }
    Ok(())
}

/// The size a lossy key frame declares: after the 3-byte frame tag and the start code
/// 9d 01 2a, two 14-bit little-endian sides (the top two bits are a scaling hint).
fn lossy_dimensions(data: &[u8]) -> Option<(u32, u32)> {
    if data.get(3..6)? != [0x9D, 0x01, 0x2A] {
        return None;
    }
    let side = |at: usize| u32::from(u16::from_le_bytes([data[at], data[at + 1]]) & 0x3FFF);
    data.get(6..10)?;
    Some((side(6), side(8)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut bytes = kind.to_vec();
        bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
        bytes.extend_from_slice(data);
        if data.len() % 2 == 1 {
            bytes.push(0);
        }
        bytes
    }

    fn lossy(width: u16, height: u16) -> Vec<u8> {
        let mut data = vec![0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A];
        data.extend_from_slice(&width.to_le_bytes());
        data.extend_from_slice(&height.to_le_bytes());
        data.extend_from_slice(&[0; 7]);
        chunk(b"VP8 ", &data)
    }

    fn webp(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut bytes = b"RIFF".to_vec();
        bytes.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
        bytes.extend_from_slice(b"WEBP");
        bytes.extend(body);
        bytes
    }

    #[test]
    fn a_bitstream_the_size_of_its_canvas_passes() {
        let vp8x = chunk(b"VP8X", &[0, 0, 0, 0, 15, 0, 0, 15, 0, 0]);
        assert_eq!(
            check_webp_layout(&webp(&[vp8x, lossy(16, 16)]), 16, 16),
            Ok(())
        );
    }

    #[test]
    fn a_bitstream_larger_than_its_canvas_is_refused() {
        let vp8x = chunk(b"VP8X", &[0, 0, 0, 0, 15, 0, 0, 0, 3, 0]);
        let error = check_webp_layout(&webp(&[vp8x, lossy(14_584, 14_584)]), 16, 769);
        assert_eq!(
            error.unwrap_err().to_string(),
            "the image could not be read, it is not a valid image: its image data declares 14584×14584 pixels, more \
             than its 16×769 canvas"
        );
    }

    #[test]
    fn animation_frames_are_checked_too() {
        let mut frame = vec![0u8; FRAME_HEADER];
        frame.extend(lossy(4000, 10));
        let bytes = webp(&[chunk(b"ANIM", &[0; 6]), chunk(b"ANMF", &frame)]);
        assert!(matches!(
            check_webp_layout(&bytes, 100, 100),
            Err(IntakeError::Corrupt(_))
        ));
    }

    #[test]
    fn truncated_structure_is_left_to_the_decoder() {
        let vp8x = chunk(b"VP8X", &[0, 0, 0, 0, 15, 0, 0, 15, 0, 0]);
        let bytes = webp(&[vp8x, lossy(16, 16)]);
        for end in 0..bytes.len() {
            assert_eq!(
                check_webp_layout(&bytes[..end], 16, 16),
                Ok(()),
                "cut at {end}"
            );
        }
    }
}
