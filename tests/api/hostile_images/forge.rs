//! Byte-level forgery of hostile files: PNG chunks with real CRCs, zlib streams of zeros,
//! GIFs with hand-written screens, frames and LZW data, WebP and JPEG headers.
//!
//! Written by hand rather than with an encoder because encoders refuse to write what these
//! files declare (a 30000×30000 PNG, a frame larger than its screen, 10 000 frames).

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

/// Encodes a small picture with the `image` crate: the honest starting point of a forgery.
pub fn honest(format: ImageFormat, side: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(side, side, |x, y| Rgb([(x * 7) as u8, (y * 5) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, format)
        .expect("encode");
    out.into_inner()
}

pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut typed = kind.to_vec();
    typed.extend_from_slice(data);
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(&typed);
    chunk.extend_from_slice(&crc32fast::hash(&typed).to_be_bytes());
    chunk
}

/// A PNG declaring `width`×`height` 8-bit pixels of `colour_type` (0 grey, 2 RGB, 6 RGBA),
/// whose one IDAT holds `idat`.
pub fn png(width: u32, height: u32, colour_type: u8, idat: &[u8]) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, colour_type, 0, 0, 0]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(png_chunk(b"IHDR", &ihdr));
    bytes.extend(png_chunk(b"IDAT", idat));
    bytes.extend(png_chunk(b"IEND", &[]));
    bytes
}

/// Bits written least significant first, as DEFLATE and GIF's LZW both want.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    pending: u32,
    count: u32,
}

impl BitWriter {
    fn write(&mut self, value: u32, bits: u32) {
        self.pending |= value << self.count;
        self.count += bits;
        while self.count >= 8 {
            self.bytes.push(self.pending as u8);
            self.pending >>= 8;
            self.count -= 8;
        }
    }

    /// A Huffman code: its bits go most significant first.
    fn write_code(&mut self, code: u32, bits: u32) {
        let reversed = code.reverse_bits() >> (32 - bits);
        self.write(reversed, bits);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.bytes.push(self.pending as u8);
        }
        self.bytes
    }
}

/// A zlib stream inflating to `length` zero bytes: one fixed-Huffman block of a literal zero
/// then 258-byte copies at distance 1, 13 bits each (about 1:160).
pub fn zlib_zeros(length: usize) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.write(1, 1); // final block
    bits.write(1, 2); // fixed Huffman codes
    let mut written = 0;
    if length > 0 {
        bits.write_code(0x30, 8); // literal 0
        written = 1;
    }
    while length - written >= 258 {
        bits.write_code(0xC5, 8); // length 258 (symbol 285)
        bits.write_code(0, 5); // distance 1
        written += 258;
    }
    while written < length {
        bits.write_code(0x30, 8);
        written += 1;
    }
    bits.write_code(0, 7); // end of block
    let mut stream = vec![0x78, 0x01];
    stream.extend(bits.finish());
    // Adler-32 of zeros: a stays 1, b grows by 1 per byte.
    let b = (length % 65_521) as u32;
    stream.extend_from_slice(&((b << 16) | 1).to_be_bytes());
    stream
}

/// A frame of a forged GIF: its rectangle, and its pixels as indices 0-3 (LZW-compressed).
pub struct GifFrame {
    pub left: u16,
    pub top: u16,
    pub width: u16,
    pub height: u16,
    pub lzw: Vec<u8>,
}

impl GifFrame {
    /// A frame whose every pixel is palette index `index`.
    pub fn solid(left: u16, top: u16, width: u16, height: u16, index: u8) -> GifFrame {
        let count = usize::from(width) * usize::from(height);
        GifFrame {
            left,
            top,
            width,
            height,
            lzw: gif_lzw(std::iter::repeat_n(index, count)),
        }
    }
}

/// A GIF89a with a four-colour global palette, looping, 10 ms per frame; `after` follows the
/// trailer (where a polyglot keeps its payload).
pub fn gif(screen: (u16, u16), frames: &[GifFrame], after: &[u8]) -> Vec<u8> {
    let mut bytes = b"GIF89a".to_vec();
    bytes.extend_from_slice(&screen.0.to_le_bytes());
    bytes.extend_from_slice(&screen.1.to_le_bytes());
    bytes.extend_from_slice(&[0x81, 0, 0]); // global palette of 4 colours
    bytes.extend_from_slice(&[0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]);
    bytes.extend_from_slice(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00");
    for frame in frames {
        bytes.extend_from_slice(&[0x21, 0xF9, 4, 0x04, 1, 0, 0, 0]);
        bytes.push(0x2C);
        for value in [frame.left, frame.top, frame.width, frame.height] {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        bytes.push(0); // no local palette, not interlaced
        bytes.push(2); // LZW minimum code size
        for block in frame.lzw.chunks(255) {
            bytes.push(block.len() as u8);
            bytes.extend_from_slice(block);
        }
        bytes.push(0);
    }
    bytes.push(0x3B);
    bytes.extend_from_slice(after);
    bytes
}

/// GIF's variable-width LZW over palette indices 0-3 (minimum code size 2).
pub fn gif_lzw(pixels: impl Iterator<Item = u8>) -> Vec<u8> {
    const CLEAR: u16 = 4;
    const END: u16 = 5;
    const FIRST: u16 = 6;
    let mut bits = BitWriter::default();
    let mut table = vec![[0u16; 4]; 4096];
    let mut next = FIRST;
    let mut width = 3;
    bits.write(u32::from(CLEAR), width);
    let mut current: Option<u16> = None;
    for pixel in pixels {
        let pixel = usize::from(pixel & 3);
        let Some(prefix) = current else {
            current = Some(pixel as u16);
            continue;
        };
        let child = table[usize::from(prefix)][pixel];
        if child != 0 {
            current = Some(child);
            continue;
        }
        bits.write(u32::from(prefix), width);
        if next >= 1 << width && width < 12 {
            width += 1;
        }
        if next < 4096 {
            table[usize::from(prefix)][pixel] = next;
            next += 1;
        } else {
            bits.write(u32::from(CLEAR), width);
            table.iter_mut().for_each(|entry| *entry = [0; 4]);
            next = FIRST;
            width = 3;
        }
        current = Some(pixel as u16);
    }
    if let Some(prefix) = current {
        bits.write(u32::from(prefix), width);
        if next >= 1 << width && width < 12 {
            width += 1;
        }
    }
    bits.write(u32::from(END), width);
    bits.finish()
}

/// A lossless WebP (VP8L) header declaring `width`×`height`, followed by `body`.
pub fn webp_lossless_declaring(width: u32, height: u32, body: &[u8]) -> Vec<u8> {
    let packed = (width - 1) | ((height - 1) << 14);
    let mut chunk = vec![0x2F];
    chunk.extend_from_slice(&packed.to_le_bytes());
    chunk.extend_from_slice(body);
    riff_webp(&[(b"VP8L", &chunk)])
}

/// An extended WebP (VP8X) declaring a `width`×`height` canvas (24-bit sides) around a 1×1
/// lossless image.
pub fn webp_extended_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut vp8x = vec![0u8; 4];
    vp8x.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    let mut vp8l = vec![0x2F];
    vp8l.extend_from_slice(&0u32.to_le_bytes());
    vp8l.extend_from_slice(&[0; 16]);
    riff_webp(&[(b"VP8X", &vp8x), (b"VP8L", &vp8l)])
}

fn riff_webp(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    for (kind, data) in chunks {
        body.extend_from_slice(*kind);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut bytes = b"RIFF".to_vec();
    bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
    bytes.extend(body);
    bytes
}

/// A JPEG with `segment` (marker and payload) inserted right after its SOI marker.
pub fn jpeg_with_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = jpeg[..2].to_vec();
    bytes.extend_from_slice(&[0xFF, marker]);
    bytes.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(&jpeg[2..]);
    bytes
}

/// A JPEG whose SOF0 declares `width`×`height` (the scan data is for the real, small size).
pub fn jpeg_declaring(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg.to_vec();
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG");
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// An Exif APP1 payload that lies: 65 535 IFD entries promised, an orientation entry with a
/// count of 4 billion values at an offset past the end, and a next-IFD link to itself.
pub fn absurd_exif() -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&0xFFFFu16.to_le_bytes());
    for _ in 0..3 {
        tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
        tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
        tiff.extend_from_slice(&u32::MAX.to_le_bytes()); // count
        tiff.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes()); // value offset
    }
    tiff.extend_from_slice(&8u32.to_le_bytes()); // next IFD: itself
    tiff.resize(60_000, 0xAB);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff);
    payload
}

/// A minimal ZIP archive holding one stored file: what a PNG+ZIP polyglot carries.
pub fn zip_with(name: &str, content: &[u8]) -> Vec<u8> {
    let crc = crc32fast::hash(content);
    let mut zip = b"PK\x03\x04\x0a\0\0\0\0\0\0\0\0\0".to_vec();
    zip.extend_from_slice(&crc.to_le_bytes());
    zip.extend_from_slice(&(content.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(content.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
    zip.extend_from_slice(&[0, 0]);
    zip.extend_from_slice(name.as_bytes());
    zip.extend_from_slice(content);
    let central_at = zip.len() as u32;
    let mut central = b"PK\x01\x02\x14\0\x0a\0\0\0\0\0\0\0\0\0".to_vec();
    central.extend_from_slice(&crc.to_le_bytes());
    central.extend_from_slice(&(content.len() as u32).to_le_bytes());
    central.extend_from_slice(&(content.len() as u32).to_le_bytes());
    central.extend_from_slice(&(name.len() as u16).to_le_bytes());
    central.extend_from_slice(&[0; 12]);
    central.extend_from_slice(&0u32.to_le_bytes());
    central.extend_from_slice(name.as_bytes());
    let central_len = central.len() as u32;
    zip.extend(central);
    zip.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    zip.extend_from_slice(&central_len.to_le_bytes());
    zip.extend_from_slice(&central_at.to_le_bytes());
    zip.extend_from_slice(&[0, 0]);
    zip
}
