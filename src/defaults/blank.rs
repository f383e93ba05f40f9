//! The `blank` style: a fully transparent square, for sites that want "no avatar" to show
//! nothing at all while still getting a valid image of the requested size.

use image::RgbaImage;

/// A `size`×`size` image whose every channel, alpha included, is 0.
pub fn render(size: u32) -> RgbaImage {
    // `RgbaImage::new` zero-fills the buffer, which is exactly transparent black.
    RgbaImage::new(size, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_fully_transparent_at_the_requested_size() {
        for size in [1, 16, 80, 513] {
            let image = render(size);
            assert_eq!(image.dimensions(), (size, size));
            assert!(image.as_raw().iter().all(|&channel| channel == 0));
        }
    }
}
