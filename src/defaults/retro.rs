//! The `retro` style: an 8-bit pixel-art sprite, an 8×8 grid mirrored left to right, in a
//! foreground colour with some accent cells, on a light tint of the same hue.
//!
//! Everything comes from the digest's first 16 bytes, so MD5 and SHA-256 hashes are treated
//! alike: bytes 0..4 say which of the 32 left-half cells are lit, bytes 4..8 and 8..12 pick
//! accent cells (a cell is accent when both bits are set, about a quarter of lit cells), and
//! bytes 12..16 choose the colours. Output pixels map to cells by integer arithmetic, so
//! every size is crisp (cells differ by at most one pixel) and nothing is resampled.

use image::RgbaImage;

use super::color::hsl;
use crate::identity::Digest;

/// Sprite cells per side.
const SPRITE: u32 = 8;
/// Cells per side of the whole image: the sprite plus one empty cell of margin on each side.
const GRID: u32 = SPRITE + 2;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cell {
    Empty,
    Lit,
    Accent,
}

/// A `size`×`size` opaque retro sprite.
pub fn render(digest: &Digest, size: u32) -> RgbaImage {
    let bytes = digest.as_bytes();
    let bits = |offset: usize| {
        u32::from_be_bytes([
            bytes[offset],
            bytes[offset + 1],
            bytes[offset + 2],
            bytes[offset + 3],
        ])
    };
    let (lit, accent) = (bits(0), bits(4) & bits(8));
    // Left half of the sprite, indexed [row][column]; the right half is its mirror image.
    let mut cells = [[Cell::Empty; (SPRITE / 2) as usize]; SPRITE as usize];
    for (row, line) in cells.iter_mut().enumerate() {
        for (column, cell) in line.iter_mut().enumerate() {
            let bit = 1u32 << (row * 4 + column);
            *cell = match (lit & bit != 0, accent & bit != 0) {
                (false, _) => Cell::Empty,
                (true, false) => Cell::Lit,
                (true, true) => Cell::Accent,
            };
        }
    }

    let hue = u32::from(u16::from_be_bytes([bytes[12], bytes[13]])) * 360 / 65_536;
    // The accent sits 90..270° away from the foreground so the two never look alike.
    let accent_hue = hue + 90 + u32::from(bytes[14]) * 180 / 256;
    let shade = u32::from(bytes[15]);
    let foreground = hsl(hue, 55 + shade % 16, 38 + (shade >> 4) % 10);
    let accent_colour = hsl(accent_hue, 70, 55);
    let background = hsl(hue, 35, 94);

    // Columns: work out the cell from the left-half pixel and mirror it, so the image is
    // exactly symmetric at every size, odd sizes included.
    let column_of = |x: u32| {
        let mirrored = x.min(size - 1 - x);
        // mirrored < size / 2, so this is < GRID / 2 and fits the left half plus margin.
        u64::from(mirrored) * u64::from(GRID) / u64::from(size)
    };
    let row_of = |y: u32| u64::from(y) * u64::from(GRID) / u64::from(size);

    RgbaImage::from_fn(size, size, |x, y| {
        let (column, row) = (column_of(x), row_of(y));
        // Cell 0 and GRID - 1 are the margin; the rest shift down by one into the sprite.
        let cell = match (column.checked_sub(1), row.checked_sub(1)) {
            (Some(c), Some(r)) if r < u64::from(SPRITE) => cells
                .get(r as usize)
                .and_then(|line| line.get(c as usize))
                .copied()
                .unwrap_or(Cell::Empty),
            _ => Cell::Empty,
        };
        match cell {
            Cell::Empty => background,
            Cell::Lit => foreground,
            Cell::Accent => accent_colour,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str) -> Digest {
        Digest::md5_of(text)
    }

    #[test]
    fn is_exactly_sized_opaque_and_mirrored() {
        let digest = sample("alice@example.org");
        for size in [1, 2, 3, 7, 16, 80, 81, 127, 512] {
            let image = render(&digest, size);
            assert_eq!(image.dimensions(), (size, size));
            for (x, y, pixel) in image.enumerate_pixels() {
                assert_eq!(pixel[3], 255);
                assert_eq!(
                    pixel,
                    image.get_pixel(size - 1 - x, y),
                    "{size}: ({x}, {y})"
                );
            }
        }
    }

    #[test]
    fn margin_is_background_and_cells_are_crisp_blocks() {
        // 80 px: 8 px cells, so the outer 8 px ring is background and each cell is uniform.
        let image = render(&sample("bob@example.org"), 80);
        let background = *image.get_pixel(0, 0);
        for i in 0..80 {
            for edge in [0, 7, 72, 79] {
                assert_eq!(*image.get_pixel(i, edge), background);
                assert_eq!(*image.get_pixel(edge, i), background);
            }
        }
        for (x, y) in [(8, 8), (24, 40), (64, 64)] {
            assert_eq!(image.get_pixel(x, y), image.get_pixel(x + 7, y + 7));
        }
    }

    #[test]
    fn different_digests_look_different_and_sha256_works() {
        let a = render(&sample("alice@example.org"), 64);
        let b = render(&sample("bob@example.org"), 64);
        assert_ne!(a, b);
        let long = Digest::sha256_of("alice@example.org");
        assert_eq!(render(&long, 64), render(&long, 64));
    }
}
