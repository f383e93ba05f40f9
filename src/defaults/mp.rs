//! The `mp` ("mystery person") style: a neutral grey head-and-shoulders silhouette on a light
//! grey background, the same for every hash.
//!
//! The figure is drawn from signed distance functions (a circle for the head, a rounded box
//! for the shoulders) evaluated at each pixel centre. Turning the distance into coverage
//! gives analytic anti-aliasing, so the outline is smooth at 16 px and sharp at 2048 px
//! without any resampling.

use image::{Rgba, RgbaImage};

const BACKGROUND: [u8; 3] = [0xE4, 0xE6, 0xE9];
const FIGURE: [u8; 3] = [0x9A, 0xA0, 0xA8];

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
    let side = size as f32;
    let head = (
        HEAD_CENTRE.0 * side,
        HEAD_CENTRE.1 * side,
        HEAD_RADIUS * side,
    );
    let body_centre = (BODY_CENTRE.0 * side, BODY_CENTRE.1 * side);
    let body_half = (BODY_HALF.0 * side, BODY_HALF.1 * side);
    let body_radius = BODY_RADIUS * side;

    RgbaImage::from_fn(size, size, |x, y| {
        let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
        let to_head = circle_distance(px - head.0, py - head.1, head.2);
        let to_body = rounded_box_distance(
            px - body_centre.0,
            py - body_centre.1,
            body_half,
            body_radius,
        );
        // Distance is in pixels; a pixel whose centre is on the edge is half covered.
        let coverage = (0.5 - to_head.min(to_body)).clamp(0.0, 1.0);
        Rgba([
            blend(BACKGROUND[0], FIGURE[0], coverage),
            blend(BACKGROUND[1], FIGURE[1], coverage),
            blend(BACKGROUND[2], FIGURE[2], coverage),
            255,
        ])
    })
}

/// Signed distance from a point (relative to the centre) to a circle: negative inside.
fn circle_distance(dx: f32, dy: f32, radius: f32) -> f32 {
    (dx * dx + dy * dy).sqrt() - radius
}

/// Signed distance from a point (relative to the centre) to a box with rounded corners.
fn rounded_box_distance(dx: f32, dy: f32, half: (f32, f32), radius: f32) -> f32 {
    let qx = dx.abs() - (half.0 - radius);
    let qy = dy.abs() - (half.1 - radius);
    let (ox, oy) = (qx.max(0.0), qy.max(0.0));
    (ox * ox + oy * oy).sqrt() + qx.max(qy).min(0.0) - radius
}

/// Mixes two channel values, `coverage` (0..=1) being the share of `over`.
fn blend(under: u8, over: u8, coverage: f32) -> u8 {
    let mixed = f32::from(under) + (f32::from(over) - f32::from(under)) * coverage;
    // The clamp keeps the cast in range whatever rounding did.
    mixed.round().clamp(0.0, 255.0) as u8
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
