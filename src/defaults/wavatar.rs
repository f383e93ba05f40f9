//! The `wavatar` style: a round, flat-coloured face that fills the frame, on a bold
//! background, with eyes, brows, mouth, cheeks and a hair-do or hat chosen by the digest.
//!
//! Where `monsterid` draws a whole inked creature on a pale ground, this is a sticker: no
//! outlines, a big face disc with a soft drop shadow, and strong colour. Every choice comes
//! from a [`Seed`] salted with `"wavatar"`, taken in a fixed order:
//!
//! 1. colours: the background from a palette of twelve bold mid tones (hue nudged ±10°), and
//!    a scheme that places the face hue complementary, analogous (±40..70°) or triadic to
//!    it; the face is a light pastel, the hair a natural colour or a deep tone of a related
//!    hue, kept clearly darker or lighter than the background;
//! 2. the face: its size and roundness, and ears or not;
//! 3. the top: bare, long hair, two buns, a scalloped fringe, spikes over a jagged fringe, a
//!    quiff curl over a side-swept hairline, a beanie with a bobble, or a sprout with two
//!    leaves; the eyes move down if the hair hangs low, and brows it would cover are left out;
//! 4. the eyes: dots, big shiny eyes, happy arcs, contented arcs, a wink or spectacles, and
//!    how far apart they sit;
//! 5. the brows: none, straight, slanted up or down, or arched;
//! 6. the nose: none, a dot or a little snout;
//! 7. the mouth: a smile, an open grin with a tongue, a little "o", a cat mouth, a smirk, a
//!    toothy grin or a tongue poking out;
//! 8. the cheeks: none, blush or freckles.
//!
//! Drawing uses the shapes of [`super::paint`] and the curve helpers of `monsterid`, so it is
//! made at the requested size and only needs +, −, ×, ÷ and √.

use image::RgbaImage;

use super::monsterid::{
    Point, arc_band, arc_points, bezier, direction, hull_of_circles, mirror, on_ellipse, rgb,
    smooth, stride_for, tapered,
};
use super::paint::{Canvas, Rgb, Seed, Shape, shade};
use crate::identity::Digest;

/// The face disc's centre.
const CENTRE: Point = (0.5, 0.54);

/// Natural hair colours (hue °, saturation %, lightness %).
const HAIR: [(u32, u32, u32); 5] = [
    (26, 48, 22),  // dark brown
    (20, 58, 34),  // chestnut
    (16, 68, 44),  // ginger
    (228, 18, 18), // near black
    (282, 22, 24), // aubergine
];

/// Rough perceived brightness, 0..=255.
fn luma(colour: Rgb) -> i32 {
    let [r, g, b] = colour.map(i32::from);
    (2 * r + 5 * g + b) / 8
}

/// Width of the strokes that draw arcs (closed eyes, smiles).
const STROKE: f32 = 0.042;

const WHITE: Rgb = [255, 255, 255];

/// Background colours (hue °, saturation %, lightness %): bold but not neon; greens and
/// yellows are kept deeper than blues and reds so they do not glare.
const BACKGROUNDS: [(u32, u32, u32); 12] = [
    (4, 68, 58),   // coral red
    (22, 78, 54),  // orange
    (40, 78, 50),  // gold
    (94, 44, 44),  // grass
    (140, 40, 42), // green
    (174, 52, 38), // teal
    (196, 62, 46), // cerulean
    (218, 58, 54), // blue
    (240, 42, 56), // indigo
    (266, 42, 52), // violet
    (298, 36, 48), // plum
    (334, 58, 54), // raspberry
];

/// A `size`×`size` opaque wavatar picture for `digest`.
pub fn render(digest: &Digest, size: u32) -> RgbaImage {
    let mut seed = Seed::new(digest, "wavatar");
    let colours = Colours::choose(&mut seed);
    let mut art = Art {
        canvas: Canvas::new(size, colours.background),
        stride: stride_for(size),
    };
    let radius = seed.between(0.36, 0.4);
    let radii = (radius * seed.between(1.0, 1.08), radius);
    let ears = seed.chance(30);
    let top = *seed.pick(&[
        Top::Bare,
        Top::LongHair,
        Top::Buns,
        Top::Fringe,
        Top::Fringe,
        Top::Spikes,
        Top::Spikes,
        Top::Quiff,
        Top::Quiff,
        Top::Beanie,
        Top::Sprout,
        Top::Sprout,
    ]);

    // The drop shadow, things behind the face, the face, then what sits on it.
    art.canvas.fill(
        &Shape::Ellipse {
            centre: (CENTRE.0 + 0.02, CENTRE.1 + 0.035),
            radii,
        },
        shade(colours.background, -0.22),
    );
    if ears {
        for step in [64, 0] {
            let at = on_ellipse(CENTRE, radii, step);
            let d = direction(step);
            let centre = (at.0 - d.0 * 0.02, at.1 + 0.02);
            art.canvas.fill(
                &Shape::Circle {
                    centre,
                    radius: 0.075,
                },
                shade(colours.face, -0.08),
            );
            art.canvas.fill(
                &Shape::Circle {
                    centre: (centre.0 + d.0 * 0.01, centre.1),
                    radius: 0.04,
                },
                shade(colours.face, -0.2),
            );
        }
    }
    let face = Shape::Ellipse {
        centre: CENTRE,
        radii,
    };
    top_back(&mut art, &colours, radii, top);
    // A crescent of shade on the lower right gives the disc some body.
    art.canvas.fill(&face, shade(colours.face, -0.07));
    art.canvas.fill(
        &Shape::Ellipse {
            centre: (CENTRE.0 - 0.012, CENTRE.1 - 0.02),
            radii: (radii.0 - 0.02, radii.1 - 0.015),
        },
        colours.face,
    );
    let hairline = match top {
        Top::Bare => 0.0,
        Top::LongHair | Top::Buns | Top::Fringe => fringe(&mut art, &colours, radii, &mut seed),
        Top::Spikes => spikes(&mut art, &colours, radii, &mut seed),
        Top::Quiff => quiff(&mut art, &colours, radii, &mut seed),
        Top::Beanie => beanie(&mut art, &colours, radii, &mut seed),
        Top::Sprout => sprout(&mut art, &colours, radii, &mut seed),
    };
    features(&mut art, &colours, radii, hairline, &mut seed);
    art.canvas.into_image()
}

/// What sits on top of the head.
#[derive(Clone, Copy)]
enum Top {
    Bare,
    /// Hair falling behind the head to the shoulders, with a fringe in front.
    LongHair,
    /// Two buns behind the crown.
    Buns,
    Fringe,
    Spikes,
    Quiff,
    Beanie,
    Sprout,
}

struct Art {
    canvas: Canvas,
    stride: usize,
}

impl Art {
    fn fill_all(&mut self, shapes: &[Shape], colour: Rgb) {
        for shape in shapes {
            self.canvas.fill(shape, colour);
        }
    }
}

struct Colours {
    background: Rgb,
    face: Rgb,
    /// Eyes, brows and mouth.
    ink: Rgb,
    hair: Rgb,
    /// A contrasting colour for hat bands, bobbles and the lower half of big irises.
    trim: Rgb,
    blush: Rgb,
}

impl Colours {
    fn choose(seed: &mut Seed) -> Colours {
        let &(hue, saturation, lightness) = seed.pick(&BACKGROUNDS);
        let hue = hue + 350 + seed.below(21);
        let face_hue = match seed.below(3) {
            0 => hue + 160 + seed.below(41),
            1 => {
                if seed.chance(50) {
                    hue + 40 + seed.below(31)
                } else {
                    hue + 290 + seed.below(31)
                }
            }
            _ => hue + *seed.pick(&[120, 240]),
        };
        let background = rgb(
            hue,
            saturation + seed.below(9),
            lightness + seed.below(7) - 3,
        );
        let face = rgb(face_hue, 40 + seed.below(25), 77 + seed.below(8));
        let hair = if seed.chance(55) {
            let &(h, s, l) = seed.pick(&HAIR);
            rgb(h, s, l)
        } else {
            let hair_hue = hue + *seed.pick(&[25, 335, 180]);
            rgb(hair_hue, 50 + seed.below(20), 28 + seed.below(12))
        };
        // Hair sits on the background too: keep it clearly darker or lighter than that.
        let hair = match luma(hair) - luma(background) {
            -45..=0 => shade(hair, -0.5),
            1..=45 => shade(hair, 0.4),
            _ => hair,
        };
        Colours {
            background,
            face,
            ink: rgb(face_hue, 40, 17),
            hair,
            trim: rgb(face_hue + 180, 70, 62),
            blush: rgb(350 + seed.below(20), 85, 68),
        }
    }
}

/// Hair behind the face: long hair falling to the shoulders, or two buns.
fn top_back(art: &mut Art, colours: &Colours, radii: Point, top: Top) {
    match top {
        Top::LongHair => art.canvas.fill(
            &Shape::RoundedBox {
                centre: (CENTRE.0, CENTRE.1 + 0.08),
                half: (radii.0 + 0.045, radii.1 + 0.06),
                corner: radii.0 + 0.04,
            },
            colours.hair,
        ),
        Top::Buns => {
            for step in [84, mirror(84)] {
                let at = on_ellipse(CENTRE, radii, step);
                art.canvas.fill(
                    &Shape::Circle {
                        centre: at,
                        radius: 0.1,
                    },
                    colours.hair,
                );
            }
        }
        _ => {}
    }
}

/// The first step from the left (64) up towards the top (96) where `radii` around the
/// face centre reaches above `y`.
fn step_above(radii: Point, y: f32) -> usize {
    let mut step = 64;
    while step < 96 && on_ellipse(CENTRE, radii, step).1 > y {
        step += 1;
    }
    step
}

/// A cap of hair over the top of the face whose lower edge is a row of scallops. Returns the
/// lowest point of the hair over the forehead (as do the other tops).
fn fringe(art: &mut Art, colours: &Colours, radii: Point, seed: &mut Seed) -> f32 {
    let depth = seed.between(0.3, 0.45);
    let over = (radii.0 + 0.02, radii.1 + 0.02);
    let line = CENTRE.1 - radii.1 * depth;
    let from = step_above(over, line);
    let cap = arc_points(CENTRE, over, from, mirror(from), art.stride);
    let (left, right) = (cap[0].0, cap[cap.len() - 1].0);
    art.canvas.fill(&Shape::Polygon(cap), colours.hair);
    let count = 3 + seed.below(3);
    let width = (right - left) / count as f32;
    for i in 0..count {
        let x = left + width * (i as f32 + 0.5);
        art.canvas.fill(
            &Shape::Ellipse {
                centre: (x, line),
                radii: (width * 0.55, width * 0.45),
            },
            colours.hair,
        );
    }
    line + width * 0.45
}

/// Three to five spikes standing up from a cap on the crown.
fn spikes(art: &mut Art, colours: &Colours, radii: Point, seed: &mut Seed) -> f32 {
    let count = 3 + seed.below(3) as usize;
    let length = seed.between(0.1, 0.15);
    // Keep all the spikes' roots within the cap (steps 80..=112), evenly either side of the top.
    // An even spread puts the spikes exactly symmetric.
    let spread = (8 + 2 * seed.below(2) as usize).min(32 / (count - 1));
    let lean = if seed.chance(50) { 0.03 } else { -0.03 };
    let mut shapes = Vec::new();
    for i in 0..count {
        let step = 96 + spread * i - spread * (count - 1) / 2;
        let d = direction(step);
        let base = on_ellipse(CENTRE, (radii.0 * 0.95, radii.1 * 0.95), step);
        let tip = on_ellipse(CENTRE, (radii.0 + length, radii.1 + length), step);
        let bend = (tip.0 + d.1 * lean, tip.1 - d.0 * lean);
        let middle = ((base.0 + bend.0) / 2.0, (base.1 + bend.1) / 2.0);
        shapes.extend(tapered(
            &bezier(base, middle, bend, smooth(4, art.stride)),
            0.055,
            0.012,
        ));
    }
    // The cap, its lower edge a row of points hanging over the forehead.
    let over = (radii.0 + 0.01, radii.1 + 0.01);
    let mut cap = arc_points(CENTRE, over, 76, 116, art.stride);
    let (left, right) = (cap[0], cap[cap.len() - 1]);
    let teeth = 4 + seed.below(2);
    for j in 1..2 * teeth {
        let x = right.0 + (left.0 - right.0) * j as f32 / (2 * teeth) as f32;
        cap.push((x, left.1 + if j % 2 == 1 { 0.065 } else { 0.0 }));
    }
    shapes.push(Shape::Polygon(cap));
    art.fill_all(&shapes, colours.hair);
    left.1 + 0.065
}

/// One big curl swept over the top of the head from a side-swept hairline.
fn quiff(art: &mut Art, colours: &Colours, radii: Point, seed: &mut Seed) -> f32 {
    let lean = if seed.chance(50) { 1.0 } else { -1.0 };
    let height = seed.between(0.13, 0.18);
    let base = (CENTRE.0 - lean * 0.06, CENTRE.1 - radii.1 * 0.78);
    let peak = (CENTRE.0 + lean * 0.02, CENTRE.1 - radii.1 - height);
    let tip = (CENTRE.0 + lean * 0.16, CENTRE.1 - radii.1 - 0.03);
    let mut shapes = tapered(&bezier(base, peak, tip, smooth(8, art.stride)), 0.085, 0.02);
    // The hairline: the crown above a curve that dips towards one side.
    let over = (radii.0 + 0.01, radii.1 + 0.01);
    let mut cap = arc_points(CENTRE, over, 76, 116, art.stride);
    let (left, right) = (cap[0], cap[cap.len() - 1]);
    let dip = (CENTRE.0 + lean * 0.2, left.1 + 0.2);
    cap.extend(bezier(right, dip, left, 32 / art.stride as u32));
    shapes.push(Shape::Polygon(cap));
    art.fill_all(&shapes, colours.hair);
    left.1 + 0.1
}

/// A knitted beanie with a bobble.
fn beanie(art: &mut Art, colours: &Colours, radii: Point, seed: &mut Seed) -> f32 {
    let brim_y = CENTRE.1 - radii.1 * seed.between(0.35, 0.45);
    let dome = (radii.0 * 0.98, radii.1 + 0.03);
    let from = step_above(dome, brim_y);
    let cap = arc_points(CENTRE, dome, from, mirror(from), art.stride);
    let (left, right) = (cap[0].0, cap[cap.len() - 1].0);
    art.canvas.fill(&Shape::Polygon(cap), colours.hair);
    art.canvas.fill(
        &Shape::Circle {
            centre: (CENTRE.0, CENTRE.1 - radii.1 - 0.04),
            radius: 0.065,
        },
        colours.trim,
    );
    art.canvas.fill(
        &Shape::RoundedBox {
            centre: (CENTRE.0, brim_y),
            half: ((right - left) / 2.0 + 0.025, 0.045),
            corner: 0.045,
        },
        colours.trim,
    );
    brim_y + 0.045
}

/// A little stalk on the crown with two leaves.
fn sprout(art: &mut Art, colours: &Colours, radii: Point, seed: &mut Seed) -> f32 {
    let base = (CENTRE.0, CENTRE.1 - radii.1 + 0.02);
    let height = seed.between(0.1, 0.13);
    let top = (base.0 + 0.02, base.1 - height);
    let bend = (base.0 - 0.03, base.1 - height / 2.0);
    let stalk = tapered(
        &bezier(base, bend, top, smooth(4, art.stride)),
        0.024,
        0.018,
    );
    art.fill_all(&stalk, colours.hair);
    let leaf = rgb(110 + seed.below(40), 55, 45);
    for sign in [-1.0, 1.0] {
        let tip = (top.0 + sign * 0.12, top.1 - 0.04);
        let middle = ((top.0 + tip.0) / 2.0, (top.1 + tip.1) / 2.0);
        let mut shapes = hull_of_circles(&[(top, 0.01), (middle, 0.036)], 0.0);
        shapes.extend(hull_of_circles(&[(middle, 0.036), (tip, 0.008)], 0.0));
        art.fill_all(&shapes, leaf);
    }
    base.1
}

/// Eyes, brows, nose, mouth and cheeks, with the eyes kept below `hairline`.
fn features(art: &mut Art, colours: &Colours, radii: Point, hairline: f32, seed: &mut Seed) {
    let ink = colours.ink;
    let eye_y = CENTRE.1 - radii.1 * seed.between(0.0, 0.12);
    let apart = seed.between(0.125, 0.165);
    let style = seed.below(12);
    let size = seed.between(0.052, 0.066);
    // How far each eye style reaches above its centre.
    let reach = match style {
        0..=2 | 9..=10 => size,
        3..=5 => size * 1.45,
        6..=8 => size * 0.6,
        _ => (size * 1.9).min(apart - 0.025),
    };
    let eye_y = eye_y.max(hairline + reach + 0.02);
    let eyes = [(CENTRE.0 - apart, eye_y), (CENTRE.0 + apart, eye_y)];
    let mut brow_gap = size + 0.045;
    match style {
        // Dots with a glint.
        0..=2 => {
            for &(x, y) in &eyes {
                art.canvas.fill(
                    &Shape::Ellipse {
                        centre: (x, y),
                        radii: (size * 0.85, size),
                    },
                    ink,
                );
                glint(art, (x - size * 0.3, y - size * 0.35), size * 0.32);
            }
        }
        // Big shiny eyes: a tall dark oval with two glints.
        3..=5 => {
            let (rx, ry) = (size * 1.15, size * 1.45);
            for &(x, y) in &eyes {
                art.canvas.fill(
                    &Shape::Ellipse {
                        centre: (x, y),
                        radii: (rx, ry),
                    },
                    ink,
                );
                art.canvas.fill(
                    &Shape::Ellipse {
                        centre: (x, y + ry * 0.45),
                        radii: (rx * 0.6, ry * 0.35),
                    },
                    shade(colours.trim, -0.2),
                );
                glint(art, (x - rx * 0.3, y - ry * 0.35), rx * 0.38);
                glint(art, (x + rx * 0.35, y + ry * 0.15), rx * 0.16);
            }
            brow_gap = ry + 0.04;
        }
        // Happy closed eyes: upside-down arcs.
        6..=7 => {
            for &(x, y) in &eyes {
                let band = arc_band(
                    (x, y + size * 0.5),
                    (size, size),
                    72,
                    120,
                    STROKE,
                    art.stride,
                );
                art.fill_all(&band, ink);
            }
        }
        // Contented closed eyes: arcs like little smiles.
        8 => {
            for &(x, y) in &eyes {
                let band = arc_band(
                    (x, y - size * 0.5),
                    (size, size * 0.8),
                    8,
                    56,
                    STROKE,
                    art.stride,
                );
                art.fill_all(&band, ink);
            }
        }
        // A wink: one dot, one arc.
        9..=10 => {
            let (left, right) = (eyes[0], eyes[1]);
            art.canvas.fill(
                &Shape::Ellipse {
                    centre: left,
                    radii: (size * 0.85, size),
                },
                ink,
            );
            glint(
                art,
                (left.0 - size * 0.3, left.1 - size * 0.35),
                size * 0.32,
            );
            let band = arc_band(
                (right.0, right.1 + size * 0.5),
                (size, size),
                72,
                120,
                STROKE,
                art.stride,
            );
            art.fill_all(&band, ink);
        }
        // Round spectacles over dot eyes.
        _ => {
            let r = (size * 1.9).min(apart - 0.025);
            for &(x, y) in &eyes {
                art.canvas.fill_with_opacity(
                    &Shape::Circle {
                        centre: (x, y),
                        radius: r,
                    },
                    WHITE,
                    0.45,
                );
                art.canvas.fill(
                    &Shape::Circle {
                        centre: (x, y),
                        radius: size * 0.7,
                    },
                    ink,
                );
                art.canvas.fill(
                    &Shape::Ring {
                        centre: (x, y),
                        radius: r,
                        thickness: 0.028,
                    },
                    ink,
                );
            }
            art.canvas.fill(
                &Shape::Capsule {
                    from: (eyes[0].0 + r, eye_y),
                    to: (eyes[1].0 - r, eye_y),
                    radius: 0.014,
                },
                ink,
            );
            brow_gap = r + 0.04;
        }
    }

    // Brows.
    let brow = match seed.below(6) {
        0..=1 => None,
        2 => Some((0.0, 0.0)),
        3 => Some((0.025, 0.0)),
        4 => Some((-0.025, 0.0)),
        _ => Some((0.0, 0.02)),
    };
    // Brows that would be under the hair are hidden by it.
    let brow = brow.filter(|_| eye_y - brow_gap - 0.03 > hairline);
    if let Some((slant, arch)) = brow {
        let half = 0.045;
        for (sign, &(x, y)) in [-1.0, 1.0].iter().zip(&eyes) {
            let y = y - brow_gap;
            // Slant > 0 lifts the inner ends (worried), < 0 drops them (determined).
            let inner = (x - sign * half, y - slant);
            let outer = (x + sign * half, y + slant * 0.3);
            let middle = (
                (inner.0 + outer.0) / 2.0,
                (inner.1 + outer.1) / 2.0 - arch * 2.0,
            );
            let line = tapered(
                &bezier(inner, middle, outer, smooth(4, art.stride)),
                0.018,
                0.016,
            );
            art.fill_all(&line, colours.hair);
        }
    }

    // Nose.
    let nose_y = CENTRE.1 + radii.1 * 0.12;
    match seed.below(4) {
        0 => art.canvas.fill(
            &Shape::Ellipse {
                centre: (CENTRE.0, nose_y),
                radii: (0.03, 0.022),
            },
            shade(colours.face, -0.22),
        ),
        1 => art.canvas.fill(
            &Shape::Ellipse {
                centre: (CENTRE.0, nose_y),
                radii: (0.022, 0.016),
            },
            ink,
        ),
        _ => {}
    }

    // Mouth.
    let mouth = (CENTRE.0, CENTRE.1 + radii.1 * 0.4);
    let half = seed.between(0.085, 0.12);
    match seed.below(14) {
        0..=2 => {
            let band = arc_band(
                (mouth.0, mouth.1 - half * 0.35),
                (half, half * 0.6),
                8,
                56,
                STROKE,
                art.stride,
            );
            art.fill_all(&band, ink);
        }
        3..=4 => {
            // Open grin with a tongue.
            let mut outline = arc_points(
                (mouth.0, mouth.1 - 0.02),
                (half, half * 0.85),
                0,
                64,
                art.stride,
            );
            outline.push((mouth.0, mouth.1 - 0.02));
            art.canvas.fill(&Shape::Polygon(outline), ink);
            art.canvas.fill(
                &Shape::Ellipse {
                    centre: (mouth.0, mouth.1 - 0.02 + half * 0.58),
                    radii: (half * 0.5, half * 0.25),
                },
                [236, 110, 128],
            );
        }
        5..=6 => {
            art.canvas.fill(
                &Shape::Ellipse {
                    centre: (mouth.0, mouth.1 + 0.01),
                    radii: (0.035, 0.042),
                },
                ink,
            );
        }
        7..=8 => {
            // A cat mouth: two little arcs meeting in the middle.
            let r = half * 0.5;
            for x in [mouth.0 - r, mouth.0 + r] {
                let band = arc_band(
                    (x, mouth.1 - r * 0.4),
                    (r, r * 0.8),
                    4,
                    60,
                    0.03,
                    art.stride,
                );
                art.fill_all(&band, ink);
            }
        }
        9 => {
            // A lopsided smirk.
            let side = if seed.chance(50) { 1.0 } else { -1.0 };
            let from = (mouth.0 - side * half, mouth.1);
            let to = (mouth.0 + side * half, mouth.1 - 0.03);
            let middle = (mouth.0 + side * 0.02, mouth.1 + 0.02);
            let line = tapered(
                &bezier(from, middle, to, smooth(6, art.stride)),
                0.018,
                0.018,
            );
            art.fill_all(&line, ink);
        }
        10..=11 => {
            // A toothy grin: a dark D with a white band of teeth on top.
            let top = (mouth.0, mouth.1 - 0.025);
            let mut outline = arc_points(top, (half * 1.1, half * 0.8), 0, 64, art.stride);
            outline.push(top);
            art.canvas.fill(&Shape::Polygon(outline), ink);
            let teeth = arc_points(top, (half * 0.95, half * 0.35), 0, 64, art.stride);
            let mut band = teeth.clone();
            band.push(top);
            art.canvas.fill(&Shape::Polygon(band), WHITE);
        }
        _ => {
            // A smile with the tongue poking out.
            let centre = (mouth.0 + half * 0.3, mouth.1 + half * 0.3);
            art.canvas.fill(
                &Shape::Ellipse {
                    centre,
                    radii: (half * 0.38, half * 0.45),
                },
                [236, 110, 128],
            );
            let band = arc_band(
                (mouth.0, mouth.1 - half * 0.35),
                (half, half * 0.6),
                8,
                56,
                STROKE,
                art.stride,
            );
            art.fill_all(&band, ink);
        }
    }

    // Cheeks.
    let cheek_y = mouth.1 - 0.04;
    let cheek_x = apart + 0.07;
    match seed.below(3) {
        0 => {
            for sign in [-1.0, 1.0] {
                art.canvas.fill_with_opacity(
                    &Shape::Ellipse {
                        centre: (CENTRE.0 + sign * cheek_x, cheek_y),
                        radii: (0.065, 0.04),
                    },
                    colours.blush,
                    0.6,
                );
            }
        }
        1 => {
            for sign in [-1.0, 1.0] {
                for (dx, dy) in [(-0.025, 0.0), (0.025, 0.0), (0.0, 0.025)] {
                    art.canvas.fill(
                        &Shape::Circle {
                            centre: (CENTRE.0 + sign * cheek_x + dx, cheek_y + dy - 0.01),
                            radius: 0.011,
                        },
                        shade(colours.face, -0.3),
                    );
                }
            }
        }
        _ => {}
    }
}

/// A white highlight dot.
fn glint(art: &mut Art, centre: Point, radius: f32) {
    art.canvas.fill(&Shape::Circle { centre, radius }, WHITE);
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{self, sample};
    use super::*;

    #[test]
    fn is_exactly_sized_and_opaque_at_any_size() {
        testkit::assert_sized_and_opaque("wavatar", 0..4, render);
    }

    #[test]
    fn the_face_is_in_the_middle_on_a_plain_background() {
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
    fn twenty_hashes_give_twenty_clearly_different_faces() {
        testkit::assert_pairwise_apart("wavatar", |digest| render(digest, 64), 100);
    }

    #[test]
    fn golden_pixels() {
        testkit::assert_golden(|digest| render(digest, 80), &GOLDEN);
    }

    /// SHA-256 of the raw RGBA bytes at 80 px for alice, bob and carol.
    const GOLDEN: [&str; 3] = [
        "6a12de1fd44fa169e8ade336ce1a8ca83b61d8c897ff37a77ed37885f6adb383",
        "4207e950b9cbde864c18cbbeb9e0d60ae2adca28b0b1c808ee129f8c59cd2782",
        "b0dfdc9b53691ea09e6b0b620aa32c8b85569be9aa26afd96b95d4f14d3ae5b7",
    ];

    /// Writes preview PNGs and contact sheets to `/tmp/cameo-preview` (see
    /// [`testkit::write_previews`]).
    #[test]
    #[ignore]
    fn write_previews() {
        testkit::write_previews("wavatar", render);
    }

    /// Prints the mean render time at 80 and 512 px (run with --release).
    #[test]
    #[ignore]
    fn timing() {
        testkit::print_timing("wavatar", &[(80, 200), (512, 200)], render);
    }
}
