//! The `monsterid` style: a friendly little monster on a light tinted background, put
//! together from parts the digest chooses.
//!
//! Every choice comes from a [`Seed`] salted with `"monsterid"`, taken in a fixed order:
//!
//! 1. colours: the body colour from a hand-picked palette (hue nudged ±8°, lightness ±4 %),
//!    the background a pale tint of a hue 120..240° away, an accent hue for irises and
//!    antenna bulbs;
//! 2. the body: a round blob, a tall rounded box, a pear, a rounded triangle or a wide bun,
//!    each with jittered proportions; the body decides where the face and limbs go;
//! 3. the head gear: nothing, horns, antennae, round or pointed ears, or a tuft;
//! 4. the limbs: arms (down, up or waving) and legs with feet, each optional;
//! 5. the skin: spots, a pale belly patch, both or neither;
//! 6. the face: one, two or three eyes (sizes, gaze, irises, sleepy lids), a mouth (smile,
//!    smile with fangs, open mouth with teeth and tongue, zig-zag or a little "o") and
//!    sometimes blushing cheeks.
//!
//! Parts are outlined in a dark ink of the body's hue (each part is painted grown by the ink
//! width in ink, then in its colour), and the body gets a soft shadow on its lower right.
//! Everything is made of [`Shape`]s in unit coordinates, so it is drawn at the requested
//! size; curves are polygons through a constant table of directions, so only +, −, ×, ÷ and
//! √ are used and every machine paints the same bytes. The smallest features are about 1/16
//! of the side, so a 16 px monster is still a coloured blob with eyes.

use image::RgbaImage;

use super::color::hsl;
use super::paint::{Canvas, Rgb, Seed, Shape, shade};
use crate::identity::Digest;

pub(super) type Point = (f32, f32);

/// Width of the ink outline around every part, as a fraction of the side.
const INK: f32 = 0.022;

/// Body colours (hue °, saturation %, lightness %): friendly mid tones, no mud.
const PALETTE: [(u32, u32, u32); 14] = [
    (148, 52, 56), // mint
    (172, 55, 45), // teal
    (198, 68, 56), // sky
    (226, 62, 64), // periwinkle
    (262, 48, 62), // lavender
    (288, 42, 56), // orchid
    (328, 62, 66), // pink
    (6, 72, 64),   // coral
    (24, 82, 58),  // orange
    (43, 84, 55),  // mustard
    (16, 60, 72),  // peach
    (108, 42, 52), // leaf
    (352, 58, 56), // red
    (190, 36, 48), // slate
];

/// A `size`×`size` opaque monsterid picture for `digest`.
pub fn render(digest: &Digest, size: u32) -> RgbaImage {
    let mut seed = Seed::new(digest, "monsterid");
    let colours = Colours::choose(&mut seed);
    let mut art = Art {
        canvas: Canvas::new(size, colours.background),
        stride: stride_for(size),
        pixel: 1.0 / size as f32,
        ink: colours.ink,
    };
    let body = Body::choose(&mut seed);
    let gear = Gear::choose(&mut seed);
    let arms = Arms::choose(&mut seed);
    let legs = seed.chance(70);
    let skin = (seed.chance(40), seed.chance(40));

    // The ground shadow, then the parts behind the body, the body, its skin and the face.
    let shadow_y = body.ground + if legs { 0.075 } else { 0.025 };
    art.canvas.fill(
        &Shape::Ellipse {
            centre: (0.5, shadow_y),
            radii: (body.half_width * 0.95, 0.035),
        },
        shade(colours.background, -0.09),
    );
    gear.paint(&mut art, &body, &colours, &mut seed);
    arms.paint(&mut art, &body, &colours);
    if legs {
        paint_legs(&mut art, &body, &colours);
    }
    body.paint(&mut art, &colours);
    if skin.0 {
        paint_spots(&mut art, &body, &colours, skin.1, &mut seed);
    }
    if skin.1 {
        let (centre, radii) = body.belly;
        art.canvas
            .fill(&Shape::Ellipse { centre, radii }, colours.belly);
    }
    paint_face(&mut art, &body, &colours, &mut seed);
    art.canvas.into_image()
}

/// The canvas with what every part needs to paint itself.
struct Art {
    canvas: Canvas,
    /// Step through [`direction`] when tracing curves: fewer points on small canvases.
    stride: usize,
    /// One pixel, in unit coordinates.
    pixel: f32,
    ink: Rgb,
}

impl Art {
    /// Paints each shape grown by the ink width in ink, then all of them in `colour`, so a
    /// part made of several overlapping shapes gets one outline around the whole.
    fn outlined(&mut self, shapes: &[Shape], colour: Rgb) {
        for shape in shapes {
            for outer in grown(shape, INK) {
                self.canvas.fill(&outer, self.ink);
            }
        }
        for shape in shapes {
            self.canvas.fill(shape, colour);
        }
    }

    fn fill_all(&mut self, shapes: &[Shape], colour: Rgb) {
        for shape in shapes {
            self.canvas.fill(shape, colour);
        }
    }
}

/// Curve resolution for a canvas side: 32 points a circle up to 128 px, 64 up to 1024 px and
/// 128 above. Polygon cost grows with its corners; this keeps edges within about half a pixel
/// of the true curve at every size.
pub(super) fn stride_for(size: u32) -> usize {
    match size {
        0..=128 => 4,
        129..=1024 => 2,
        _ => 1,
    }
}

/// How many pieces a curve drawn in `steps` pieces on a small canvas needs at this `stride`:
/// more on large canvases, so bends stay smooth.
pub(super) fn smooth(steps: u32, stride: usize) -> u32 {
    steps * (4 / stride.clamp(1, 4)) as u32
}

struct Colours {
    background: Rgb,
    body: Rgb,
    ink: Rgb,
    /// The body's own shadow and its spots.
    dark: Rgb,
    belly: Rgb,
    accent: Rgb,
    horn: Rgb,
    cheek: Rgb,
    /// Whether pink cheeks suit the body colour (not on yellow-greens to teals, where they
    /// turn muddy).
    blushes: bool,
}

impl Colours {
    fn choose(seed: &mut Seed) -> Colours {
        let &(hue, saturation, lightness) = seed.pick(&PALETTE);
        let hue = hue + 352 + seed.below(17);
        let lightness = lightness + seed.below(9) - 4;
        let background_hue = hue + 120 + seed.below(121);
        let accent_hue = hue + 150 + seed.below(61);
        let body = rgb(hue, saturation, lightness);
        Colours {
            background: rgb(background_hue, 46, 92),
            body,
            ink: rgb(hue, 45, 17),
            dark: shade(body, -0.18),
            belly: shade(body, 0.45),
            accent: rgb(accent_hue, 62, 50),
            horn: if seed.chance(60) {
                rgb(42, 58, 90)
            } else {
                shade(body, -0.3)
            },
            cheek: rgb(350, 85, 74),
            blushes: !(50..200).contains(&(hue % 360)),
        }
    }
}

/// An opaque colour from HSL.
pub(super) fn rgb(hue: u32, saturation: u32, lightness: u32) -> Rgb {
    let p = hsl(hue, saturation, lightness);
    [p[0], p[1], p[2]]
}

/// The body's outline and where everything else attaches.
struct Body {
    outline: Outline,
    /// An ellipse (centre, radii) inside the top of the body: head gear sprouts from it.
    head: (Point, Point),
    /// Half the body's width, at the shoulders.
    half_width: f32,
    shoulder_y: f32,
    /// Half the distance between the legs, and the bottom of the body.
    hip: f32,
    ground: f32,
    eyes_y: f32,
    /// How far from the middle the outer eyes may sit.
    face_half: f32,
    mouth_y: f32,
    belly: (Point, Point),
    /// Places for spots (centre, radius), in the body away from the face.
    spots: [(Point, f32); 6],
}

enum Outline {
    Oval {
        centre: Point,
        radii: Point,
    },
    Boxy {
        centre: Point,
        half: Point,
        corner: f32,
    },
    /// The convex hull of circles given clockwise on screen.
    Blob(Vec<(Point, f32)>),
}

impl Outline {
    /// The shapes whose union is the outline grown by `grow` and moved by `shift`.
    fn shapes(&self, grow: f32, shift: Point) -> Vec<Shape> {
        let at = |p: Point| (p.0 + shift.0, p.1 + shift.1);
        match self {
            Outline::Oval { centre, radii } => vec![Shape::Ellipse {
                centre: at(*centre),
                radii: (radii.0 + grow, radii.1 + grow),
            }],
            Outline::Boxy {
                centre,
                half,
                corner,
            } => vec![Shape::RoundedBox {
                centre: at(*centre),
                half: (half.0 + grow, half.1 + grow),
                corner: corner + grow,
            }],
            Outline::Blob(circles) => {
                let moved: Vec<(Point, f32)> = circles.iter().map(|&(c, r)| (at(c), r)).collect();
                hull_of_circles(&moved, grow)
            }
        }
    }
}

impl Body {
    fn choose(seed: &mut Seed) -> Body {
        match seed.below(5) {
            0 => {
                let (cy, rx, ry) = (0.53, seed.between(0.29, 0.34), seed.between(0.28, 0.31));
                Body {
                    outline: Outline::Oval {
                        centre: (0.5, cy),
                        radii: (rx, ry),
                    },
                    head: ((0.5, cy), (rx, ry)),
                    half_width: rx,
                    shoulder_y: cy + 0.05,
                    hip: rx * 0.45,
                    ground: cy + ry,
                    eyes_y: cy - 0.08,
                    face_half: rx * 0.58,
                    mouth_y: cy + 0.07,
                    belly: ((0.5, cy + ry * 0.68), (rx * 0.46, ry * 0.2)),
                    spots: ring_spots((0.5, cy), (rx, ry)),
                }
            }
            1 => {
                let (cy, hx, hy) = (0.54, seed.between(0.23, 0.27), seed.between(0.29, 0.32));
                let corner = hx * seed.between(0.55, 0.95);
                Body {
                    outline: Outline::Boxy {
                        centre: (0.5, cy),
                        half: (hx, hy),
                        corner,
                    },
                    head: ((0.5, cy - 0.02), (hx * 0.95, hy)),
                    half_width: hx,
                    shoulder_y: cy + 0.04,
                    hip: hx * 0.55,
                    ground: cy + hy,
                    eyes_y: cy - 0.1,
                    face_half: hx * 0.62,
                    mouth_y: cy + 0.05,
                    belly: ((0.5, cy + hy * 0.68), (hx * 0.6, hy * 0.2)),
                    spots: ring_spots((0.5, cy), (hx * 0.95, hy * 0.95)),
                }
            }
            2 => {
                let (top, bottom) = (seed.between(0.16, 0.19), seed.between(0.25, 0.28));
                let (ty, by) = (0.37, 0.6);
                Body {
                    outline: Outline::Blob(vec![((0.5, ty), top), ((0.5, by), bottom)]),
                    head: ((0.5, ty), (top, top)),
                    half_width: bottom,
                    shoulder_y: by - 0.02,
                    hip: bottom * 0.5,
                    ground: by + bottom,
                    eyes_y: ty + 0.01,
                    face_half: top * 0.62,
                    mouth_y: ty + 0.15,
                    belly: ((0.5, by + bottom * 0.6), (bottom * 0.52, bottom * 0.25)),
                    spots: ring_spots((0.5, by), (bottom, bottom)),
                }
            }
            3 => {
                let top = seed.between(0.13, 0.16);
                let foot = seed.between(0.12, 0.15);
                let spread = seed.between(0.19, 0.22);
                let (ty, by) = (0.3, 0.7);
                Body {
                    outline: Outline::Blob(vec![
                        ((0.5, ty), top),
                        ((0.5 + spread, by), foot),
                        ((0.5 - spread, by), foot),
                    ]),
                    head: ((0.5, ty + 0.02), (top + 0.02, top)),
                    half_width: spread + foot - 0.02,
                    shoulder_y: 0.6,
                    hip: spread * 0.6,
                    ground: by + foot,
                    eyes_y: 0.44,
                    face_half: 0.14,
                    mouth_y: 0.6,
                    belly: ((0.5, by + 0.03), (spread * 0.6, 0.06)),
                    spots: ring_spots((0.5, 0.58), (spread + 0.02, 0.22)),
                }
            }
            _ => {
                let (cy, hx, hy) = (0.57, seed.between(0.32, 0.35), seed.between(0.23, 0.26));
                Body {
                    outline: Outline::Boxy {
                        centre: (0.5, cy),
                        half: (hx, hy),
                        corner: hy * seed.between(0.7, 0.95),
                    },
                    head: ((0.5, cy), (hx * 0.92, hy)),
                    half_width: hx,
                    shoulder_y: cy + 0.04,
                    hip: hx * 0.5,
                    ground: cy + hy,
                    eyes_y: cy - 0.08,
                    face_half: hx * 0.5,
                    mouth_y: cy + 0.06,
                    belly: ((0.5, cy + hy * 0.7), (hx * 0.45, hy * 0.2)),
                    spots: ring_spots((0.5, cy), (hx, hy)),
                }
            }
        }
    }

    fn paint(&self, art: &mut Art, colours: &Colours) {
        let outline = self.outline.shapes(INK, (0.0, 0.0));
        art.fill_all(&outline, art.ink);
        art.fill_all(&self.outline.shapes(0.0, (0.0, 0.0)), colours.dark);
        // The lit part: the body eroded and nudged up-left, leaving a shadow on the lower right.
        art.fill_all(&self.outline.shapes(-0.035, (-0.012, -0.03)), colours.body);
        // A glint of light on the upper left.
        let (centre, radii) = self.head;
        let inside = (radii.0 * 0.8, radii.1 * 0.8);
        let glint = arc_band(centre, inside, 74, 86, 0.03, art.stride);
        art.fill_all(&glint, shade(colours.body, 0.35));
    }
}

/// Six spot places around the rim of an ellipse, kept inside it: the upper corners, the
/// sides, then the lower corners (where a belly patch would go); the face sits in the middle.
fn ring_spots(centre: Point, radii: Point) -> [(Point, f32); 6] {
    const REACH: f32 = 0.72;
    [80, 112, 64, 0, 44, 20].map(|step| {
        let d = direction(step);
        let at = (
            centre.0 + d.0 * radii.0 * REACH,
            centre.1 + d.1 * radii.1 * REACH,
        );
        (at, 0.03 + 0.012 * (step % 3) as f32)
    })
}

/// What grows on top of the head.
enum Gear {
    None,
    Horns,
    Antennae,
    RoundEars,
    PointedEars,
    Tuft,
}

impl Gear {
    fn choose(seed: &mut Seed) -> Gear {
        match seed.below(20) {
            0..=2 => Gear::None,
            3..=7 => Gear::Horns,
            8..=11 => Gear::Antennae,
            12..=14 => Gear::RoundEars,
            15..=17 => Gear::PointedEars,
            _ => Gear::Tuft,
        }
    }

    fn paint(&self, art: &mut Art, body: &Body, colours: &Colours, seed: &mut Seed) {
        let (centre, radii) = body.head;
        let rim = |step: usize| on_ellipse(centre, radii, step);
        match self {
            Gear::None => {}
            Gear::Horns => {
                let step = 82 + seed.below(6) as usize;
                let length = seed.between(0.09, 0.13);
                let curl = seed.between(-0.04, 0.05);
                for side in [step, mirror(step)] {
                    let base = rim(side);
                    let out = direction(side);
                    let up = direction(if side < 96 { side + 10 } else { side - 10 });
                    let tip = (base.0 + up.0 * length, base.1 + up.1 * length - 0.03);
                    // Bend the middle sideways for a curled horn.
                    let bend = if side < 96 { curl } else { -curl };
                    let middle = (
                        (base.0 + tip.0) / 2.0 + out.0 * 0.01 - bend,
                        (base.1 + tip.1) / 2.0,
                    );
                    let spine = bezier(base, middle, tip, smooth(6, art.stride));
                    art.outlined(&tapered(&spine, 0.055, 0.016), colours.horn);
                }
            }
            Gear::Antennae => {
                let step = 82 + seed.below(6) as usize;
                let length = seed.between(0.13, 0.17);
                let lean = seed.between(-0.04, 0.05);
                for side in [step, mirror(step)] {
                    let base = rim(side);
                    let up = direction(if side < 96 { side + 6 } else { side - 6 });
                    // Short enough for the bulb to stay in the picture.
                    let length = length.min((base.1 - 0.085) / -up.1);
                    let lean = if side < 96 { -lean } else { lean };
                    let tip = (base.0 + up.0 * length + lean, base.1 + up.1 * length);
                    let middle = ((base.0 + tip.0) / 2.0 - lean, (base.1 + tip.1) / 2.0);
                    let spine = bezier(base, middle, tip, smooth(5, art.stride));
                    let stalk = tapered(&spine, 0.022, 0.016);
                    art.outlined(&stalk, colours.dark);
                    let bulb = Shape::Circle {
                        centre: tip,
                        radius: 0.045,
                    };
                    art.outlined(std::slice::from_ref(&bulb), colours.accent);
                    art.canvas.fill(
                        &Shape::Circle {
                            centre: (tip.0 - 0.014, tip.1 - 0.014),
                            radius: 0.014,
                        },
                        shade(colours.accent, 0.6),
                    );
                }
            }
            Gear::RoundEars => {
                let step = 76 + seed.below(8) as usize;
                let radius = seed.between(0.065, 0.085);
                for side in [step, mirror(step)] {
                    let d = direction(side);
                    let base = rim(side);
                    let c = (base.0 + d.0 * 0.045, base.1 + d.1 * 0.045);
                    let ear = Shape::Circle { centre: c, radius };
                    art.outlined(std::slice::from_ref(&ear), colours.body);
                    art.canvas.fill(
                        &Shape::Circle {
                            centre: c,
                            radius: radius * 0.55,
                        },
                        colours.cheek,
                    );
                }
            }
            Gear::PointedEars => {
                let step = 72 + seed.below(10) as usize;
                let length = seed.between(0.1, 0.13);
                for side in [step, mirror(step)] {
                    let base = rim(side);
                    let out = direction(if side < 96 { side + 4 } else { side - 4 });
                    let tip = (base.0 + out.0 * length, base.1 + out.1 * length - 0.03);
                    let ear = hull_of_circles(&[(base, 0.06), (tip, 0.018)], 0.0);
                    art.outlined(&ear, colours.body);
                    let inner_tip = (
                        base.0 + (tip.0 - base.0) * 0.75,
                        base.1 + (tip.1 - base.1) * 0.75,
                    );
                    art.fill_all(
                        &hull_of_circles(&[(base, 0.032), (inner_tip, 0.01)], 0.0),
                        colours.cheek,
                    );
                }
            }
            Gear::Tuft => {
                let top = rim(96);
                let height = seed.between(0.08, 0.11);
                // One outline around all three spikes.
                let mut spikes = Vec::new();
                for (dx, lean, scale) in [(-0.045, -0.05, 0.8), (0.045, 0.05, 0.8), (0.0, 0.0, 1.0)]
                {
                    let base = (top.0 + dx, top.1 + 0.04);
                    let tip = (base.0 + lean, base.1 - height * scale - 0.03);
                    let middle = (base.0 + lean * 0.2, (base.1 + tip.1) / 2.0);
                    let spine = bezier(base, middle, tip, smooth(5, art.stride));
                    spikes.extend(tapered(&spine, 0.045, 0.014));
                }
                art.outlined(&spikes, colours.dark);
            }
        }
    }
}

/// Arm poses, left and right.
struct Arms {
    lift: Option<(f32, f32)>,
}

impl Arms {
    fn choose(seed: &mut Seed) -> Arms {
        if !seed.chance(70) {
            return Arms { lift: None };
        }
        // How far each hand sits below (+) or above (−) the shoulder.
        let poses = [(0.09, 0.09), (-0.1, -0.1), (0.09, -0.11), (0.05, 0.05)];
        let &(left, right) = seed.pick(&poses);
        Arms {
            lift: Some(if seed.chance(50) {
                (left, right)
            } else {
                (right, left)
            }),
        }
    }

    fn paint(&self, art: &mut Art, body: &Body, colours: &Colours) {
        let Some((left, right)) = self.lift else {
            return;
        };
        for (sign, lift) in [(-1.0, left), (1.0, right)] {
            let shoulder = (0.5 + sign * (body.half_width - 0.06), body.shoulder_y);
            let reach = 0.1 - lift.abs() * 0.25;
            let hand = (
                0.5 + sign * (body.half_width + reach),
                body.shoulder_y + lift,
            );
            let elbow = (
                (shoulder.0 + hand.0) / 2.0 + sign * 0.02,
                (shoulder.1 + hand.1) / 2.0 + 0.02,
            );
            let spine = bezier(shoulder, elbow, hand, smooth(4, art.stride));
            let mut arm = tapered(&spine, 0.045, 0.04);
            arm.push(Shape::Circle {
                centre: hand,
                radius: 0.05,
            });
            art.outlined(&arm, colours.body);
        }
    }
}

fn paint_legs(art: &mut Art, body: &Body, colours: &Colours) {
    let colour = shade(colours.body, -0.08);
    for sign in [-1.0, 1.0] {
        let x = 0.5 + sign * body.hip;
        let leg = [
            Shape::Capsule {
                from: (x, body.ground - 0.06),
                to: (x, body.ground + 0.04),
                radius: 0.05,
            },
            Shape::Ellipse {
                centre: (x + sign * 0.02, body.ground + 0.055),
                radii: (0.075, 0.04),
            },
        ];
        art.outlined(&leg, colour);
    }
}

fn paint_spots(art: &mut Art, body: &Body, colours: &Colours, belly: bool, seed: &mut Seed) {
    let light = seed.chance(35);
    let colour = if light {
        shade(colours.body, 0.3)
    } else {
        colours.dark
    };
    for (i, &(centre, radius)) in body.spots.iter().enumerate() {
        // The last two places are the lower corners, where a belly patch would be.
        if seed.chance(60) && !(belly && i >= 4) {
            art.canvas.fill(&Shape::Circle { centre, radius }, colour);
        }
    }
}

fn paint_face(art: &mut Art, body: &Body, colours: &Colours, seed: &mut Seed) {
    // Eyes: (x offset from the middle, y, radius).
    let eyes: Vec<(f32, f32, f32)> = match seed.below(10) {
        0..=1 => {
            let r = seed.between(0.1, 0.125);
            vec![(0.0, body.eyes_y, r)]
        }
        2..=7 => {
            let r = seed.between(0.065, 0.085);
            let gap = (r + seed.between(0.01, 0.035)).min(body.face_half);
            let odd = if seed.chance(25) { 0.8 } else { 1.0 };
            vec![(-gap, body.eyes_y, r), (gap, body.eyes_y, r * odd)]
        }
        _ => {
            let r = seed.between(0.055, 0.065);
            let gap = (r + 0.035).min(body.face_half);
            vec![
                (-gap, body.eyes_y + 0.02, r),
                (gap, body.eyes_y + 0.02, r),
                (0.0, body.eyes_y - 0.085, r * 0.9),
            ]
        }
    };
    let gaze = direction(seed.below(128) as usize);
    let gaze_reach = seed.between(0.0, 0.35);
    let iris = seed.chance(45);
    let sleepy = seed.chance(22);
    for &(dx, y, r) in &eyes {
        let centre = (0.5 + dx, y);
        let white = Shape::Circle { centre, radius: r };
        art.outlined(std::slice::from_ref(&white), [250, 250, 246]);
        let look = (
            centre.0 + gaze.0 * r * gaze_reach,
            centre.1 + gaze.1 * r * gaze_reach,
        );
        let pupil = if iris {
            art.canvas.fill(
                &Shape::Circle {
                    centre: look,
                    radius: r * 0.62,
                },
                colours.accent,
            );
            r * 0.34
        } else {
            r * 0.52
        };
        art.canvas.fill(
            &Shape::Circle {
                centre: look,
                radius: pupil,
            },
            [34, 30, 42],
        );
        art.canvas.fill(
            &Shape::Circle {
                centre: (look.0 - r * 0.2, look.1 - r * 0.22),
                radius: r * 0.2,
            },
            [255, 255, 255],
        );
        if sleepy {
            // A lid over the top third: the circle's cap above a chord, and an inked edge.
            let over = r + INK + 1.5 * art.pixel;
            let cap = arc_points(centre, (over, over), 72, 120, art.stride);
            art.canvas.fill(&Shape::Polygon(cap), colours.body);
            let (a, b) = (
                on_ellipse(centre, (r, r), 72),
                on_ellipse(centre, (r, r), 120),
            );
            art.canvas.fill(
                &Shape::Capsule {
                    from: (a.0 - 0.008, a.1),
                    to: (b.0 + 0.008, b.1),
                    radius: INK * 0.9,
                },
                art.ink,
            );
        }
    }

    // Below the lowest eye, whatever the eyes' sizes.
    let eyes_bottom = eyes.iter().map(|&(_, y, r)| y + r).fold(0.0, f32::max);
    let mouth_y = body.mouth_y.max(eyes_bottom + INK + 0.05);
    let half = seed.between(0.07, 0.11).min(body.face_half + 0.03);
    match seed.below(10) {
        0..=2 => smile(art, (0.5, mouth_y), half, seed.chance(50)),
        3..=4 => {
            smile(art, (0.5, mouth_y), half, false);
            let fang = |x: f32| {
                Shape::Polygon(vec![
                    (x - 0.022, mouth_y + 0.025),
                    (x + 0.022, mouth_y + 0.025),
                    (x, mouth_y + 0.072),
                ])
            };
            let xs: &[f32] = if seed.chance(50) {
                &[-0.45, 0.45]
            } else {
                &[0.3]
            };
            for &x in xs {
                let fang = fang(0.5 + x * half);
                art.outlined(&[fang], [252, 252, 248]);
            }
        }
        5..=7 => open_mouth(art, (0.5, mouth_y - 0.015), half, seed.chance(50)),
        8 => {
            let steps = 4 + 2 * seed.below(2) as usize;
            let height = 0.022;
            let points: Vec<Point> = (0..=steps)
                .map(|i| {
                    let x = 0.5 - half + 2.0 * half * i as f32 / steps as f32;
                    let y = mouth_y + if i % 2 == 0 { -height } else { height };
                    (x, y)
                })
                .collect();
            for pair in points.windows(2) {
                art.canvas.fill(
                    &Shape::Capsule {
                        from: pair[0],
                        to: pair[1],
                        radius: 0.02,
                    },
                    art.ink,
                );
            }
        }
        _ => {
            let centre = (0.5, mouth_y + 0.01);
            let radii = (0.04, 0.05);
            art.canvas.fill(
                &Shape::Ellipse {
                    centre,
                    radii: (radii.0 + INK, radii.1 + INK),
                },
                art.ink,
            );
            art.canvas.fill(
                &Shape::Ellipse {
                    centre: (0.5, mouth_y + 0.035),
                    radii: (0.028, 0.018),
                },
                [226, 96, 112],
            );
        }
    }
    if seed.chance(45) && colours.blushes {
        let spread = body.face_half + 0.04;
        for sign in [-1.0, 1.0] {
            art.canvas.fill_with_opacity(
                &Shape::Ellipse {
                    centre: (0.5 + sign * spread, mouth_y - 0.015),
                    radii: (0.05, 0.03),
                },
                colours.cheek,
                0.55,
            );
        }
    }
}

/// A smile: an inked band along the lower part of an ellipse; a wide one is deeper and longer.
fn smile(art: &mut Art, centre: Point, half: f32, wide: bool) {
    let depth = if wide { half * 0.75 } else { half * 0.5 };
    let middle = (centre.0, centre.1 - depth * 0.6);
    let (from, to) = if wide { (6, 58) } else { (10, 54) };
    let band = arc_band(middle, (half, depth), from, to, 0.045, art.stride);
    art.fill_all(&band, art.ink);
}

/// An open mouth: flat on top, round below, with teeth and sometimes a tongue.
fn open_mouth(art: &mut Art, top: Point, half: f32, tongue: bool) {
    let depth = half * 0.85;
    // The ink: the same half-ellipse grown, and a bar along the top edge.
    let ink = arc_points(top, (half + INK, depth + INK), 0, 64, art.stride);
    art.canvas.fill(&Shape::Polygon(ink), art.ink);
    art.canvas.fill(
        &Shape::Capsule {
            from: (top.0 - half, top.1),
            to: (top.0 + half, top.1),
            radius: INK,
        },
        art.ink,
    );
    let inside = arc_points(top, (half, depth), 0, 64, art.stride);
    art.canvas.fill(&Shape::Polygon(inside), [92, 26, 44]);
    if tongue {
        art.canvas.fill(
            &Shape::Ellipse {
                centre: (top.0, top.1 + depth * 0.66),
                radii: (half * 0.45, depth * 0.3),
            },
            [232, 104, 122],
        );
    }
    let tooth = half * 0.22;
    for sign in [-1.0, 1.0] {
        let x = top.0 + sign * half * 0.42;
        art.canvas.fill(
            &Shape::RoundedBox {
                centre: (x, top.1 + tooth * 0.6),
                half: (tooth * 0.75, tooth * 0.9),
                corner: tooth * 0.3,
            },
            [252, 252, 248],
        );
    }
}

/// `shape` grown by `by` all round, as shapes whose union it is. Polygons must be convex
/// (all this file grows are): the grown one is the hull of circles on its corners.
fn grown(shape: &Shape, by: f32) -> Vec<Shape> {
    let one = match shape {
        Shape::Circle { centre, radius } => Shape::Circle {
            centre: *centre,
            radius: radius + by,
        },
        Shape::Ellipse { centre, radii } => Shape::Ellipse {
            centre: *centre,
            radii: (radii.0 + by, radii.1 + by),
        },
        Shape::RoundedBox {
            centre,
            half,
            corner,
        } => Shape::RoundedBox {
            centre: *centre,
            half: (half.0 + by, half.1 + by),
            corner: corner + by,
        },
        Shape::Capsule { from, to, radius } => Shape::Capsule {
            from: *from,
            to: *to,
            radius: radius + by,
        },
        Shape::Ring {
            centre,
            radius,
            thickness,
        } => Shape::Ring {
            centre: *centre,
            radius: *radius,
            thickness: thickness + 2.0 * by,
        },
        Shape::Polygon(points) => {
            let mut circles: Vec<(Point, f32)> = points.iter().map(|&p| (p, by)).collect();
            // hull_of_circles wants clockwise on screen, i.e. a positive shoelace sum with
            // y pointing down.
            let area: f32 = points
                .iter()
                .zip(points.iter().cycle().skip(1))
                .map(|(a, b)| a.0 * b.1 - b.0 * a.1)
                .sum();
            if area < 0.0 {
                circles.reverse();
            }
            return hull_of_circles(&circles, 0.0);
        }
    };
    vec![one]
}

/// sin(k × 90°/32) for k = 0..=32: a quarter of the unit circle; the rest follows by symmetry.
const QUARTER_SINE: [f32; 33] = [
    0.0,
    0.049067676,
    0.09801714,
    0.14673047,
    0.19509032,
    0.24298018,
    0.29028466,
    0.33688986,
    0.38268343,
    0.42755508,
    0.47139674,
    0.51410276,
    0.55557024,
    0.5956993,
    0.6343933,
    0.671559,
    0.70710677,
    0.7409511,
    0.77301043,
    0.8032075,
    0.8314696,
    0.8577286,
    0.8819213,
    0.9039893,
    0.9238795,
    0.94154406,
    0.95694035,
    0.97003126,
    0.98078525,
    0.9891765,
    0.9951847,
    0.99879545,
    1.0,
];

/// Steps around the circle.
pub(super) const STEPS: usize = 128;

/// The unit vector `step` × 2.8125° clockwise on screen from "right": 0 points right, 32
/// down, 64 left, 96 up (y grows downwards).
pub(super) fn direction(step: usize) -> Point {
    let step = step % STEPS;
    let (quarter, within) = (step / 32, step % 32);
    let (s, c) = (QUARTER_SINE[within], QUARTER_SINE[32 - within]);
    match quarter {
        0 => (c, s),
        1 => (-s, c),
        2 => (-c, -s),
        _ => (s, -c),
    }
}

/// The step mirrored left to right.
pub(super) fn mirror(step: usize) -> usize {
    (STEPS + STEPS / 2 - step % STEPS) % STEPS
}

pub(super) fn on_ellipse(centre: Point, radii: Point, step: usize) -> Point {
    let d = direction(step);
    (centre.0 + radii.0 * d.0, centre.1 + radii.1 * d.1)
}

/// Points of an ellipse from step `from` clockwise to step `to` (both included), every
/// `stride` steps.
pub(super) fn arc_points(
    centre: Point,
    radii: Point,
    from: usize,
    to: usize,
    stride: usize,
) -> Vec<Point> {
    let span = (to + STEPS - from % STEPS) % STEPS;
    let mut points: Vec<Point> = (0..span)
        .step_by(stride.max(1))
        .map(|k| on_ellipse(centre, radii, from + k))
        .collect();
    points.push(on_ellipse(centre, radii, to));
    points
}

/// A band `width` wide along an elliptic arc, with round ends.
pub(super) fn arc_band(
    centre: Point,
    radii: Point,
    from: usize,
    to: usize,
    width: f32,
    stride: usize,
) -> Vec<Shape> {
    let h = width / 2.0;
    let mut points = arc_points(centre, (radii.0 + h, radii.1 + h), from, to, stride);
    let mut inner = arc_points(centre, (radii.0 - h, radii.1 - h), from, to, stride);
    inner.reverse();
    points.extend(inner);
    vec![
        Shape::Polygon(points),
        Shape::Circle {
            centre: on_ellipse(centre, radii, from),
            radius: h,
        },
        Shape::Circle {
            centre: on_ellipse(centre, radii, to),
            radius: h,
        },
    ]
}

/// The convex hull of circles (centre, radius) listed clockwise on screen, each radius grown
/// by `grow`: the circles plus the polygon through the outer tangent points between
/// neighbours. Their union is the smooth outline; every circle must be on the hull.
pub(super) fn hull_of_circles(circles: &[(Point, f32)], grow: f32) -> Vec<Shape> {
    let mut shapes: Vec<Shape> = circles
        .iter()
        .map(|&(centre, radius)| Shape::Circle {
            centre,
            radius: radius + grow,
        })
        .collect();
    if circles.len() < 2 {
        return shapes;
    }
    let mut points = Vec::with_capacity(2 * circles.len());
    for (i, &(a, ra)) in circles.iter().enumerate() {
        let (b, rb) = circles[(i + 1) % circles.len()];
        let (ra, rb) = (ra + grow, rb + grow);
        let d = (b.0 - a.0, b.1 - a.1);
        let length = (d.0 * d.0 + d.1 * d.1).sqrt();
        if length <= 1e-6 {
            continue;
        }
        let u = (d.0 / length, d.1 / length);
        // The outward normal of the tangent line, tilted towards the smaller circle.
        let sin = ((ra - rb) / length).clamp(-1.0, 1.0);
        let cos = (1.0 - sin * sin).sqrt();
        let m = (u.1 * cos + u.0 * sin, -u.0 * cos + u.1 * sin);
        points.push((a.0 + ra * m.0, a.1 + ra * m.1));
        points.push((b.0 + rb * m.0, b.1 + rb * m.1));
    }
    if points.len() >= 3 {
        shapes.push(Shape::Polygon(points));
    }
    shapes
}

/// A quadratic Bézier curve from `a` to `c` pulled towards `b`, as `steps` + 1 points.
pub(super) fn bezier(a: Point, b: Point, c: Point, steps: u32) -> Vec<Point> {
    (0..=steps)
        .map(|i| {
            let t = i as f32 / steps as f32;
            let (u, v, w) = ((1.0 - t) * (1.0 - t), 2.0 * (1.0 - t) * t, t * t);
            (u * a.0 + v * b.0 + w * c.0, u * a.1 + v * b.1 + w * c.1)
        })
        .collect()
}

/// A stroke along `spine` whose radius goes from `from` to `to`: each segment is the hull of
/// its two end circles.
pub(super) fn tapered(spine: &[Point], from: f32, to: f32) -> Vec<Shape> {
    let last = spine.len().saturating_sub(1).max(1) as f32;
    let radius = |i: usize| from + (to - from) * i as f32 / last;
    let mut shapes = Vec::new();
    for (i, pair) in spine.windows(2).enumerate() {
        let segment = hull_of_circles(&[(pair[0], radius(i)), (pair[1], radius(i + 1))], 0.0);
        // Each segment's end circle is the next one's start circle: keep just one.
        if i == 0 {
            shapes.extend(segment);
        } else {
            shapes.extend(segment.into_iter().skip(1));
        }
    }
    shapes
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{self, sample};
    use super::*;

    #[test]
    fn is_exactly_sized_and_opaque_at_any_size() {
        testkit::assert_sized_and_opaque("monsterid", 0..4, render);
    }

    #[test]
    fn the_monster_is_in_the_middle_on_a_plain_background() {
        for n in 0..20 {
            let image = render(&sample(n), 80);
            let corner = *image.get_pixel(0, 0);
            for (x, y) in [(79, 0), (0, 79), (79, 79)] {
                assert_eq!(*image.get_pixel(x, y), corner, "hash {n} at ({x}, {y})");
            }
            // Most of the central square is drawn on.
            let drawn = (20..60)
                .flat_map(|y| (20..60).map(move |x| (x, y)))
                .filter(|&(x, y)| {
                    let p = image.get_pixel(x, y);
                    (0..3).any(|c| p[c].abs_diff(corner[c]) > 40)
                })
                .count();
            assert!(drawn > 1000, "hash {n}: {drawn} of 1600 pixels drawn on");
        }
    }

    #[test]
    fn is_deterministic_and_takes_sha256() {
        testkit::assert_deterministic_for_md5_and_sha256(render);
    }

    #[test]
    fn twenty_hashes_give_twenty_clearly_different_monsters() {
        testkit::assert_pairwise_apart("monsterid", |digest| render(digest, 64), 100);
    }

    #[test]
    fn golden_pixels() {
        testkit::assert_golden(|digest| render(digest, 80), &GOLDEN);
    }

    /// SHA-256 of the raw RGBA bytes at 80 px for alice, bob and carol.
    const GOLDEN: [&str; 3] = [
        "b42e24e434406b03d69b1b84dce3e3178e32a803c7d7a229176998a72acd36fd",
        "b5c09beaec981613440ea141ff91df41d582240b5e0ba89132298477bcff1cc4",
        "d2ad9da1cdc09b414aac71b8499fb672b7cf871c6dfed1a8fd414cfd3b3c3222",
    ];

    /// Writes preview PNGs and contact sheets to `/tmp/cameo-preview` (see
    /// [`testkit::write_previews`]).
    #[test]
    #[ignore]
    fn write_previews() {
        testkit::write_previews("monsterid", render);
    }

    /// Prints the mean render time at 80 and 512 px (run with --release).
    #[test]
    #[ignore]
    fn timing() {
        testkit::print_timing("monsterid", &[(80, 200), (512, 200)], render);
    }
}
