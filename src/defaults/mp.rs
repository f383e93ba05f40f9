//! The `mp` ("mystery person") style: a neutral grey head-and-shoulders silhouette on a light
//! grey background, the same for every hash.
//!
//! The figure is a circle for the head and a rounded box for the shoulders, painted with the
//! anti-aliased shapes of [`super::paint`], so the outline is smooth at 16 px and sharp at
//! 2048 px without any resampling.

use image::RgbaImage;

use super::paint::{Canvas, Rgb, Shape};

const BACKGROUND: Rgb = [0xE4, 0xE6, 0xE9];
const FIGURE: Rgb = [0x9A, 0xA0, 0xA8];

/// The head: centre and radius as fractions of the image side.
const HEAD_CENTRE: (f32, f32) = (0.5, 0.385);
const HEAD_RADIUS: f32 = 0.185;

/// The shoulders: a box whose bottom runs off the image, with corners rounded so much that
/// its top reads as a pair of shoulders. Centre, half extents and corner radius as fractions.
const BODY_CENTRE: (f32, f32) = (0.5, 0.98);
const BODY_HALF: (f32, f32) = (0.34, 0.32);
const BODY_RADIUS: f32 = 0.26;

/// A `size`×`size` opaque silhouette.
pub fn render(size: u32) -> RgbaImage {
    let mut canvas = Canvas::new(size, BACKGROUND);
    canvas.fill(
        &Shape::Circle {
            centre: HEAD_CENTRE,
            radius: HEAD_RADIUS,
        },
        FIGURE,
    );
    canvas.fill(
        &Shape::RoundedBox {
            centre: BODY_CENTRE,
            half: BODY_HALF,
            corner: BODY_RADIUS,
        },
        FIGURE,
    );
    canvas.into_image()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(image: &RgbaImage, x: u32, y: u32) -> [u8; 3] {
        let p = image.get_pixel(x, y);
        [p[0], p[1], p[2]]
    }

    #[test]
    fn head_and_shoulders_are_figure_and_corners_are_background() {
        for size in [16, 80, 512] {
            let image = render(size);
            assert_eq!(image.dimensions(), (size, size));
            let head_y = (HEAD_CENTRE.1 * size as f32) as u32;
            assert_eq!(rgb(&image, size / 2, head_y), FIGURE, "head at {size}");
            assert_eq!(rgb(&image, size / 2, size - 1), FIGURE, "body at {size}");
            assert_eq!(rgb(&image, 0, 0), BACKGROUND, "corner at {size}");
            assert_eq!(
                rgb(&image, size - 1, size - 1),
                BACKGROUND,
                "corner at {size}"
            );
        }
    }

    #[test]
    fn is_opaque_and_anti_aliased() {
        let image = render(80);
        assert!(image.pixels().all(|p| p[3] == 255));
        // Edge pixels take values between the two greys, not only the two greys.
        let in_between = image
            .pixels()
            .filter(|p| p[0] > FIGURE[0] && p[0] < BACKGROUND[0])
            .count();
        assert!(in_between > 20, "{in_between} blended pixels");
    }

    #[test]
    fn tiny_sizes_do_not_panic() {
        for size in 1..=8 {
            assert_eq!(render(size).dimensions(), (size, size));
        }
    }
}
