//! Drawing kit shared by the generated styles: a canvas painted with anti-aliased shapes given
//! in unit coordinates, and a deterministic stream of choices drawn from a digest.
//!
//! Shapes are signed distance functions evaluated at each pixel centre, in pixels, so edges
//! get analytic anti-aliasing at every size (crisp at 16 px, smooth at 2048 px) and nothing is
//! ever resampled. Coordinates are fractions of the image side: (0, 0) is the top-left
//! corner, (1, 1) the bottom-right one. Only IEEE-exact operations (+, -, ×, ÷, sqrt) are
//! used, so every machine paints the same bytes.

use image::{Rgba, RgbaImage};
use sha2::{Digest as _, Sha256};

use crate::identity::Digest;

/// An opaque colour.
pub type Rgb = [u8; 3];

/// A shape in unit coordinates.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Circle {
        centre: (f32, f32),
        radius: f32,
    },
    Ellipse {
        centre: (f32, f32),
        radii: (f32, f32),
    },
    /// An axis-aligned box with rounded corners (`corner` 0 gives a sharp rectangle).
    RoundedBox {
        centre: (f32, f32),
        half: (f32, f32),
        corner: f32,
    },
    /// Every point within `radius` of the segment from `from` to `to`: a thick line with round
    /// ends.
    Capsule {
        from: (f32, f32),
        to: (f32, f32),
        radius: f32,
    },
    /// A simple polygon (convex or not), its vertices in order.
    Polygon(Vec<(f32, f32)>),
    /// The band between two circles of one centre.
    Ring {
        centre: (f32, f32),
        radius: f32,
        thickness: f32,
    },
}

impl Shape {
    /// Signed distance from `p` to the shape, in unit coordinates: negative inside.
    pub fn distance(&self, p: (f32, f32)) -> f32 {
        match self {
            Shape::Circle { centre, radius } => length(sub(p, *centre)) - radius,
            Shape::Ellipse { centre, radii } => ellipse_distance(sub(p, *centre), *radii),
            Shape::RoundedBox {
                centre,
                half,
                corner,
            } => rounded_box_distance(sub(p, *centre), *half, *corner),
            Shape::Capsule { from, to, radius } => segment_distance(p, *from, *to) - radius,
            Shape::Polygon(points) => polygon_distance(p, points),
            Shape::Ring {
                centre,
                radius,
                thickness,
            } => (length(sub(p, *centre)) - radius).abs() - thickness / 2.0,
        }
    }

    /// A box (min x, min y, max x, max y) in unit coordinates that holds the whole shape.
    pub fn bounds(&self) -> (f32, f32, f32, f32) {
        let around = |c: (f32, f32), rx: f32, ry: f32| (c.0 - rx, c.1 - ry, c.0 + rx, c.1 + ry);
        match self {
            Shape::Circle { centre, radius } => around(*centre, *radius, *radius),
            Shape::Ellipse { centre, radii } => around(*centre, radii.0, radii.1),
            Shape::RoundedBox { centre, half, .. } => around(*centre, half.0, half.1),
            Shape::Capsule { from, to, radius } => (
                from.0.min(to.0) - radius,
                from.1.min(to.1) - radius,
                from.0.max(to.0) + radius,
                from.1.max(to.1) + radius,
            ),
            Shape::Polygon(points) => points.iter().fold(
                (f32::MAX, f32::MAX, f32::MIN, f32::MIN),
                |(x0, y0, x1, y1), &(x, y)| (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            ),
            Shape::Ring {
                centre,
                radius,
                thickness,
            } => {
                let outer = radius + thickness / 2.0;
                around(*centre, outer, outer)
            }
        }
    }

    /// The same shape moved by (`dx`, `dy`).
    pub fn moved(&self, dx: f32, dy: f32) -> Shape {
        let m = |(x, y): (f32, f32)| (x + dx, y + dy);
        match self {
            Shape::Circle { centre, radius } => Shape::Circle {
                centre: m(*centre),
                radius: *radius,
            },
            Shape::Ellipse { centre, radii } => Shape::Ellipse {
                centre: m(*centre),
                radii: *radii,
            },
            Shape::RoundedBox {
                centre,
                half,
                corner,
            } => Shape::RoundedBox {
                centre: m(*centre),
                half: *half,
                corner: *corner,
            },
            Shape::Capsule { from, to, radius } => Shape::Capsule {
                from: m(*from),
                to: m(*to),
                radius: *radius,
            },
            Shape::Polygon(points) => Shape::Polygon(points.iter().map(|&p| m(p)).collect()),
            Shape::Ring {
                centre,
                radius,
                thickness,
            } => Shape::Ring {
                centre: m(*centre),
                radius: *radius,
                thickness: *thickness,
            },
        }
    }
}

/// A square picture being painted.
pub struct Canvas {
    image: RgbaImage,
    side: f32,
}

impl Canvas {
    /// A `size`×`size` canvas filled with `background`.
    pub fn new(size: u32, background: Rgb) -> Canvas {
        let [r, g, b] = background;
        Canvas {
            image: RgbaImage::from_pixel(size, size, Rgba([r, g, b, 255])),
            side: size as f32,
        }
    }

    /// Paints `shape` in `colour` at full strength.
    pub fn fill(&mut self, shape: &Shape, colour: Rgb) {
        self.fill_with_opacity(shape, colour, 1.0);
    }

    /// Paints `shape` in `colour` mixed over what is there at `opacity` (0..=1).
    pub fn fill_with_opacity(&mut self, shape: &Shape, colour: Rgb, opacity: f32) {
        let Some((x0, y0, x1, y1)) = self.pixel_bounds(shape) else {
            return;
        };
        let side = self.side;
        for y in y0..y1 {
            for x in x0..x1 {
                let centre = ((x as f32 + 0.5) / side, (y as f32 + 0.5) / side);
                // Distance in pixels; a pixel whose centre is on the edge is half covered.
                let coverage = (0.5 - shape.distance(centre) * side).clamp(0.0, 1.0) * opacity;
                if coverage > 0.0 {
                    let pixel = self.image.get_pixel_mut(x, y);
                    for channel in 0..3 {
                        pixel[channel] = blend(pixel[channel], colour[channel], coverage);
                    }
                }
            }
        }
    }

    /// The pixel rectangle (exclusive ends) the shape can touch, clipped to the canvas.
    fn pixel_bounds(&self, shape: &Shape) -> Option<(u32, u32, u32, u32)> {
        let (x0, y0, x1, y1) = shape.bounds();
        let size = self.image.width();
        let to_pixel = |v: f32| (v * self.side).clamp(0.0, size as f32);
        // One pixel of margin for the anti-aliased fringe.
        let (x0, y0) = (to_pixel(x0) as u32, to_pixel(y0) as u32);
        let (x0, y0) = (x0.saturating_sub(1), y0.saturating_sub(1));
        let x1 = (to_pixel(x1) as u32 + 2).min(size);
        let y1 = (to_pixel(y1) as u32 + 2).min(size);
        (x0 < x1 && y0 < y1).then_some((x0, y0, x1, y1))
    }

    pub fn into_image(self) -> RgbaImage {
        self.image
    }
}

/// Mixes two channel values, `coverage` (0..=1) being the share of `over`.
pub fn blend(under: u8, over: u8, coverage: f32) -> u8 {
    let mixed = f32::from(under) + (f32::from(over) - f32::from(under)) * coverage;
    // The clamp keeps the cast in range whatever rounding did.
    mixed.round().clamp(0.0, 255.0) as u8
}

/// `colour` moved towards black (`amount` < 0) or white (`amount` > 0), `amount` in -1..=1.
pub fn shade(colour: Rgb, amount: f32) -> Rgb {
    let target = if amount < 0.0 { 0 } else { 255 };
    colour.map(|c| blend(c, target, amount.abs().min(1.0)))
}

/// A deterministic stream of choices drawn from a digest: SHA-256 of a style-specific salt
/// and the digest, extended by counter blocks, so any number of choices can be taken and
/// two styles never read the same bits.
pub struct Seed {
    salt: Vec<u8>,
    block: [u8; 32],
    counter: u32,
    position: usize,
}

impl Seed {
    pub fn new(digest: &Digest, salt: &str) -> Seed {
        let mut material = salt.as_bytes().to_vec();
        material.push(0);
        material.extend_from_slice(digest.as_bytes());
        let mut seed = Seed {
            salt: material,
            block: [0; 32],
            counter: 0,
            position: 0,
        };
        seed.refill();
        seed
    }

    fn refill(&mut self) {
        let mut hasher = Sha256::new();
        hasher.update(&self.salt);
        hasher.update(self.counter.to_be_bytes());
        self.block = hasher.finalize().into();
        self.counter += 1;
        self.position = 0;
    }

    pub fn byte(&mut self) -> u8 {
        if self.position == self.block.len() {
            self.refill();
        }
        let byte = self.block[self.position];
        self.position += 1;
        byte
    }

    /// A number in `0..n` (`n` ≥ 1; 0 is treated as 1), nearly uniform for small `n`.
    pub fn below(&mut self, n: u32) -> u32 {
        let wide = u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()]);
        ((u64::from(wide) * u64::from(n.max(1))) >> 32) as u32
    }

    /// A number in `low..=high` in steps of 1/65535 of the range.
    pub fn between(&mut self, low: f32, high: f32) -> f32 {
        let step = f32::from(u16::from_be_bytes([self.byte(), self.byte()])) / 65_535.0;
        low + (high - low) * step
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }
}

fn sub(a: (f32, f32), b: (f32, f32)) -> (f32, f32) {
    (a.0 - b.0, a.1 - b.1)
}

fn dot(a: (f32, f32), b: (f32, f32)) -> f32 {
    a.0 * b.0 + a.1 * b.1
}

fn length(a: (f32, f32)) -> f32 {
    dot(a, a).sqrt()
}

/// Signed distance to an ellipse centred at the origin: the first-order approximation
/// (value over gradient), exact on the outline and close enough near it for anti-aliasing.
fn ellipse_distance(p: (f32, f32), radii: (f32, f32)) -> f32 {
    let (rx, ry) = (radii.0.max(1e-6), radii.1.max(1e-6));
    let k0 = length((p.0 / rx, p.1 / ry));
    let k1 = length((p.0 / (rx * rx), p.1 / (ry * ry)));
    if k1 == 0.0 {
        return -rx.min(ry);
    }
    k0 * (k0 - 1.0) / k1
}

fn rounded_box_distance(p: (f32, f32), half: (f32, f32), corner: f32) -> f32 {
    let corner = corner.min(half.0).min(half.1).max(0.0);
    let qx = p.0.abs() - (half.0 - corner);
    let qy = p.1.abs() - (half.1 - corner);
    length((qx.max(0.0), qy.max(0.0))) + qx.max(qy).min(0.0) - corner
}

fn segment_distance(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    segment_distance_squared(p, a, b).sqrt()
}

/// The square of [`segment_distance`]: comparing squares finds the nearest of many segments
/// with one square root (the same answer, since `sqrt` is monotonic and correctly rounded).
fn segment_distance_squared(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (pa, ba) = (sub(p, a), sub(b, a));
    let along = dot(ba, ba);
    let h = if along == 0.0 {
        0.0
    } else {
        (dot(pa, ba) / along).clamp(0.0, 1.0)
    };
    let off = (pa.0 - ba.0 * h, pa.1 - ba.1 * h);
    dot(off, off)
}

/// Signed distance to a simple polygon: the nearest edge gives the magnitude, the even-odd
/// crossing count the sign.
fn polygon_distance(p: (f32, f32), points: &[(f32, f32)]) -> f32 {
    if points.len() < 2 {
        return f32::MAX;
    }
    let mut nearest_squared = f32::MAX;
    let mut inside = false;
    let mut previous = points[points.len() - 1];
    for &current in points {
        nearest_squared = nearest_squared.min(segment_distance_squared(p, previous, current));
        let (a, b) = (previous, current);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < (b.0 - a.0) * (p.1 - a.1) / (b.1 - a.1) + a.0 {
            inside = !inside;
        }
        previous = current;
    }
    let nearest = nearest_squared.sqrt();
    if inside { -nearest } else { nearest }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHITE: Rgb = [255, 255, 255];
    const BLACK: Rgb = [0, 0, 0];

    fn rgb(image: &RgbaImage, x: u32, y: u32) -> Rgb {
        let p = image.get_pixel(x, y);
        [p[0], p[1], p[2]]
    }

    #[test]
    fn distances_are_negative_inside_and_positive_outside() {
        let shapes = [
            Shape::Circle {
                centre: (0.5, 0.5),
                radius: 0.2,
            },
            Shape::Ellipse {
                centre: (0.5, 0.5),
                radii: (0.3, 0.1),
            },
            Shape::RoundedBox {
                centre: (0.5, 0.5),
                half: (0.2, 0.1),
                corner: 0.05,
            },
            Shape::Capsule {
                from: (0.3, 0.5),
                to: (0.7, 0.5),
                radius: 0.05,
            },
            Shape::Polygon(vec![(0.3, 0.3), (0.7, 0.3), (0.5, 0.7)]),
            Shape::Ring {
                centre: (0.5, 0.0),
                radius: 0.5,
                thickness: 0.1,
            },
        ];
        for shape in &shapes {
            assert!(shape.distance((0.5, 0.5)) < 0.0, "{shape:?} centre");
            assert!(shape.distance((0.02, 0.98)) > 0.0, "{shape:?} corner");
        }
    }

    #[test]
    fn fill_covers_inside_leaves_outside_and_blends_the_edge() {
        let mut canvas = Canvas::new(40, WHITE);
        canvas.fill(
            &Shape::Circle {
                centre: (0.5, 0.5),
                radius: 0.25,
            },
            BLACK,
        );
        let image = canvas.into_image();
        assert_eq!(rgb(&image, 20, 20), BLACK);
        assert_eq!(rgb(&image, 2, 2), WHITE);
        let grey = image.pixels().filter(|p| p[0] > 0 && p[0] < 255).count();
        assert!(grey > 10, "{grey} anti-aliased pixels");
    }

    #[test]
    fn shapes_off_the_canvas_are_ignored() {
        let mut canvas = Canvas::new(8, WHITE);
        canvas.fill(
            &Shape::Circle {
                centre: (5.0, -3.0),
                radius: 0.5,
            },
            BLACK,
        );
        assert!(canvas.into_image().pixels().all(|p| p[0] == 255));
    }

    #[test]
    fn seeds_are_deterministic_salted_and_bounded() {
        let digest = Digest::md5_of("alice@example.org");
        let take = |salt| {
            let mut seed = Seed::new(&digest, salt);
            (0..100).map(|_| seed.byte()).collect::<Vec<_>>()
        };
        assert_eq!(take("a"), take("a"));
        assert_ne!(take("a"), take("b"));
        let mut seed = Seed::new(&digest, "x");
        for n in [1, 2, 3, 7, 100] {
            assert!((0..200).all(|_| seed.below(n) < n));
        }
        assert_eq!(seed.below(0), 0);
        for _ in 0..100 {
            let v = seed.between(0.25, 0.5);
            assert!((0.25..=0.5).contains(&v));
        }
    }

    #[test]
    fn shade_moves_towards_black_or_white() {
        assert_eq!(shade([100, 100, 100], -1.0), BLACK);
        assert_eq!(shade([100, 100, 100], 1.0), WHITE);
        assert_eq!(shade([100, 100, 100], 0.0), [100, 100, 100]);
    }
}
