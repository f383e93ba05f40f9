//! The `robohash` style: a generated character in one of three looks, all our own drawings.
//!
//! * Set 1, robots: a boxy metal robot, head and shoulders. The head is a box, a trapezoid
//!   (either way up), a dome, an octagon or a tall can; on top sits an antenna (a rod with a
//!   light, a pair, a coil, a siren, a fin or a bolt), at the sides ear pieces (discs, vent
//!   boxes, rods or none); the eyes are a visor, a scanner bar, round lenses, an LED grid or
//!   square screens, the mouth a grille, vents, a speaker, teeth or an LED smile; rivets, a
//!   segmented neck and a chest panel (buttons, gauge, vents or a glowing core) finish it.
//!   Shaded metal: lighter at the top, a light rim at the top left and a dark one at the
//!   bottom right, an ink outline.
//! * Set 2, monsters: a blobby, brightly coloured creature: a round, pear, ghost, bean, wide
//!   or lumpy body, perhaps furry or spiky, with tentacles or feet, arms, horns, antennae, ears
//!   or a tuft, one to three eyes (perhaps on stalks, perhaps sleepy), a smile with fangs, a
//!   toothy grin, an "o", a tongue or a smirk, a pale belly and spots.
//! * Set 3, droid heads: a flat-design round head on a bold background badge: a circle, pill,
//!   squircle or wide oval head with a half-shade, a dark face screen with one big eye, two
//!   eyes, happy arcs or a scanner bar, ear discs, headphones or ear rods, an antenna, fin or
//!   bulb, blushing cheeks and a collar.
//!
//! Each set reads its own stream of choices ([`Seed`] salted `robohash-set1`, `-set2`,
//! `-set3`), so the looks vary independently. Shapes are signed distance functions from
//! [`super::paint`], painted with anti-aliasing at the requested size; this file adds a small
//! painter that can clip a shape to others, cut others out of it and paint vertical
//! gradients, which the shading needs. Only IEEE-exact arithmetic is used, so every machine
//! paints the same bytes.

use image::{Rgba, RgbaImage};

use super::color::hsl;
use super::paint::{Rgb, Seed, Shape, blend, shade};
use crate::identity::Digest;

/// The three looks `robohash=set1|set2|set3` selects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RobohashSet {
    #[default]
    Set1,
    Set2,
    Set3,
}

impl RobohashSet {
    /// The set a `robohash=` value names; other values give `None` (and the default look).
    pub fn from_name(name: &str) -> Option<RobohashSet> {
        match name {
            "set1" => Some(RobohashSet::Set1),
            "set2" => Some(RobohashSet::Set2),
            "set3" => Some(RobohashSet::Set3),
            _ => None,
        }
    }
}

/// A `size`×`size` opaque robot for `digest` in the look of `set`.
pub fn render(digest: &Digest, size: u32, set: RobohashSet) -> RgbaImage {
    match set {
        RobohashSet::Set1 => robot(digest, size),
        RobohashSet::Set2 => monster(digest, size),
        RobohashSet::Set3 => droid(digest, size),
    }
}

/// Hues of the lights in eyes and antennae: cyan, red, lime, amber, magenta, orange, blue.
const GLOW_HUES: [u32; 7] = [186, 355, 100, 46, 305, 24, 212];

// ---------------------------------------------------------------------------------------
// Set 1: robots
// ---------------------------------------------------------------------------------------

/// Where the features of a robot head go.
struct Head {
    /// Top and bottom edges.
    top: f32,
    bottom: f32,
    /// Half the width the eyes and mouth may use.
    half: f32,
    /// The heights of the eye line and the mouth.
    eyes: f32,
    mouth: f32,
}

fn robot(digest: &Digest, size: u32) -> RgbaImage {
    let mut seed = Seed::new(digest, "robohash-set1");
    let hue = seed.below(360);
    let painted = seed.chance(70);
    let metal = if painted {
        colour(hue, 32 + seed.below(24), 50 + seed.below(10))
    } else {
        colour(hue, 6 + seed.below(8), 62 + seed.below(8))
    };
    let trim_hue = hue + 150 + seed.below(60);
    let trim = if painted {
        colour(hue, 8, 60)
    } else {
        colour(trim_hue, 50, 52)
    };
    let glow_hue = *seed.pick(&GLOW_HUES);
    let glow = colour(glow_hue, 100, 58);
    let ink = colour(hue, 30, 13);
    let dark = colour(hue, 25, 17);
    let background_hue = hue + 110 + seed.below(140);
    let background = colour(background_hue, 42 + seed.below(20), 80 + seed.below(6));

    let mut art = Art::new(size, background);
    // A soft spotlight behind the robot.
    art.paint(
        &[rect(0.5, 0.5, 0.5, 0.5, 0.0)],
        &[],
        &[],
        Ink::Vertical {
            top: 0.0,
            from: shade(background, 0.35),
            bottom: 1.0,
            to: shade(background, -0.08),
        },
        1.0,
    );
    art.fill_with(&[circle(0.5, 0.5, 0.4)], shade(background, 0.5), 0.25);

    let look = Finish {
        line: 0.016,
        ink,
        rim: 0.022,
    };

    // Head shape and its frame.
    let variant = seed.below(6);
    let half_width = seed.between(0.22, 0.28);
    let half_height = seed.between(0.17, 0.21);
    let centre = 0.475;
    let (top, bottom) = (centre - half_height, centre + half_height);
    let (head, frame) = match variant {
        0 => (
            vec![rect(0.5, centre, half_width, half_height, 0.06)],
            Head::new(top, bottom, half_width * 0.82),
        ),
        // Wide at the top, narrow at the chin.
        1 => (
            vec![trapezoid(top, bottom, half_width, half_width * 0.72)],
            Head::new(top, bottom, half_width * 0.72),
        ),
        // Narrow at the top, wide at the jaw.
        2 => (
            vec![trapezoid(top, bottom, half_width * 0.7, half_width)],
            Head::new(top, bottom, half_width * 0.7),
        ),
        3 => {
            // A dome: a half disc on a box, a little taller than the others.
            let dome_top = top - 0.04;
            let dome_centre = dome_top + half_width;
            let box_half = ((bottom - dome_centre) / 2.0).max(0.02);
            (
                vec![
                    circle(0.5, dome_centre, half_width),
                    rect(0.5, bottom - box_half, half_width, box_half, 0.04),
                ],
                Head {
                    top: dome_top,
                    bottom,
                    half: half_width * 0.8,
                    eyes: dome_centre.max(top + 0.1),
                    mouth: bottom - 0.07,
                },
            )
        }
        4 => {
            let cut = 0.08;
            let (l, r, t, b) = (
                0.5 - half_width + 0.02,
                0.5 + half_width - 0.02,
                top + 0.02,
                bottom - 0.02,
            );
            (
                vec![polygon(
                    vec![
                        (l + cut, t),
                        (r - cut, t),
                        (r, t + cut),
                        (r, b - cut),
                        (r - cut, b),
                        (l + cut, b),
                        (l, b - cut),
                        (l, t + cut),
                    ],
                    0.02,
                )],
                Head::new(top, bottom, half_width * 0.8),
            )
        }
        _ => {
            // A tall can: narrower, taller, very round corners at the top.
            let half_width = half_width * 0.82;
            let tall_top = top - 0.05;
            (
                vec![
                    rect(
                        0.5,
                        (tall_top + bottom) / 2.0,
                        half_width,
                        (bottom - tall_top) / 2.0,
                        0.03,
                    ),
                    ellipse(0.5, tall_top + 0.005, half_width, 0.05),
                ],
                Head::new(tall_top, bottom, half_width * 0.85),
            )
        }
    };
    let antenna = seed.below(6);
    let ears = seed.below(4);
    let eyes = seed.below(5);
    let mouth = seed.below(5);
    let chest = seed.below(4);
    let rivets = seed.chance(65);

    // Body: the shoulders run off the bottom of the picture; the neck is a stack of rings.
    let body_colour = if seed.chance(50) { metal } else { trim };
    let neck_top = frame.bottom - 0.02;
    art.solid(
        &[rect(
            0.5,
            (neck_top + 0.84) / 2.0,
            0.075,
            (0.84 - neck_top) / 2.0,
            0.01,
        )],
        shade(trim, -0.15),
        &look,
    );
    for k in 0..3 {
        let y = neck_top + 0.035 + k as f32 * 0.035;
        if y < 0.8 {
            art.fill(&[capsule((0.44, y), (0.56, y), 0.006)], ink);
        }
    }
    let shoulders = [rect(0.5, 1.06, 0.4, 0.26, 0.13)];
    art.solid(&shoulders, body_colour, &look);
    chest_panel(&mut art, chest, &mut seed, body_colour, glow, dark, &look);
    if seed.chance(60) {
        for x in [0.2, 0.8] {
            rivet(&mut art, (x, 0.9), 0.018, body_colour, ink);
        }
    }

    // Behind the head: antenna and ears.
    robot_antenna(
        &mut art, antenna, &frame, metal, trim, glow, &look, &mut seed,
    );
    robot_ears(&mut art, ears, &frame, &head, trim, glow, dark, &look);

    art.solid(&head, metal, &look);
    // A soft gloss on the upper left of the face.
    art.paint(
        &[ellipse(
            0.5 - half_width * 0.45,
            frame.top + 0.06,
            half_width * 0.45,
            0.04,
        )],
        &head,
        &[],
        Ink::Flat([255, 255, 255]),
        0.22,
    );
    if rivets {
        let dx = frame.half + 0.02;
        let y0 = frame.top + 0.05;
        for (x, y) in [(0.5 - dx, y0), (0.5 + dx, y0)] {
            rivet(&mut art, (x, y), 0.014, metal, ink);
        }
    }
    robot_eyes(&mut art, eyes, &frame, metal, glow, dark, &look, &mut seed);
    robot_mouth(&mut art, mouth, &frame, metal, glow, dark, &look, &mut seed);
    art.into_image()
}

impl Head {
    fn new(top: f32, bottom: f32, half: f32) -> Head {
        let height = bottom - top;
        Head {
            top,
            bottom,
            half,
            eyes: top + height * 0.38,
            mouth: top + height * 0.76,
        }
    }
}

/// A dome-headed bolt.
fn rivet(art: &mut Art, at: (f32, f32), radius: f32, metal: Rgb, ink: Rgb) {
    art.fill(&[circle(at.0, at.1, radius + 0.006)], ink);
    art.fill(&[circle(at.0, at.1, radius)], shade(metal, -0.15));
    art.fill(
        &[circle(
            at.0 - radius * 0.3,
            at.1 - radius * 0.3,
            radius * 0.55,
        )],
        shade(metal, 0.55),
    );
}

/// A light: a glowing disc with a halo and a glint.
fn light(art: &mut Art, at: (f32, f32), radius: f32, glow: Rgb, ink: Rgb) {
    art.fill_with(&[circle(at.0, at.1, radius * 1.9)], glow, 0.25);
    art.fill(&[circle(at.0, at.1, radius + 0.012)], ink);
    art.fill(&[circle(at.0, at.1, radius)], glow);
    art.fill(&[circle(at.0, at.1, radius * 0.6)], shade(glow, 0.45));
    art.fill(
        &[circle(
            at.0 - radius * 0.35,
            at.1 - radius * 0.35,
            radius * 0.3,
        )],
        [255, 255, 255],
    );
}

#[allow(clippy::too_many_arguments)]
fn robot_antenna(
    art: &mut Art,
    variant: u32,
    frame: &Head,
    metal: Rgb,
    trim: Rgb,
    glow: Rgb,
    look: &Finish,
    seed: &mut Seed,
) {
    let top = frame.top;
    let rod = |art: &mut Art, from: (f32, f32), to: (f32, f32)| {
        art.fill(&[capsule(from, to, 0.011 + look.line)], look.ink);
        art.fill(&[capsule(from, to, 0.011)], shade(trim, 0.1));
    };
    match variant {
        0 => {
            let height = seed.between(0.1, 0.15);
            rod(art, (0.5, top + 0.02), (0.5, top - height));
            art.solid(&[rect(0.5, top, 0.05, 0.025, 0.015)], trim, look);
            light(art, (0.5, top - height), 0.032, glow, look.ink);
        }
        1 => {
            let spread = seed.between(0.1, 0.16);
            for side in [-1.0, 1.0] {
                let tip = (0.5 + side * spread, top - 0.11);
                rod(art, (0.5 + side * 0.06, top + 0.02), tip);
                light(art, tip, 0.024, glow, look.ink);
            }
        }
        2 => {
            // A coil spring with a ball on top.
            rod(art, (0.5, top + 0.02), (0.5, top - 0.14));
            for k in 0..4 {
                let y = top - 0.025 - k as f32 * 0.028;
                let loop_ = [ellipse(0.5, y, 0.04, 0.013)];
                art.fill(&grow(&loop_, look.line), look.ink);
                art.fill(&loop_, shade(trim, 0.2 - k as f32 * 0.08));
            }
            art.solid(&[circle(0.5, top - 0.15, 0.03)], metal, look);
        }
        3 => {
            // A siren: a glowing dome on a plate.
            let dome = [
                circle(0.5, top, 0.065),
                rect(0.5, top + 0.01, 0.065, 0.01, 0.0),
            ];
            art.fill_with(&[circle(0.5, top - 0.02, 0.12)], glow, 0.2);
            art.fill(&grow(&dome, look.line), look.ink);
            art.paint(
                &dome,
                &[],
                &[],
                Ink::Vertical {
                    top: top - 0.065,
                    from: shade(glow, 0.5),
                    bottom: top,
                    to: shade(glow, -0.2),
                },
                1.0,
            );
            art.fill_in(
                &[capsule((0.475, top - 0.04), (0.47, top - 0.01), 0.008)],
                &dome,
                [255, 255, 255],
                0.8,
            );
            art.solid(&[rect(0.5, top + 0.01, 0.09, 0.018, 0.01)], trim, look);
        }
        4 => {
            // A fin with slats.
            let height = seed.between(0.09, 0.13);
            let fin = [polygon(
                vec![
                    (0.45, top + 0.03),
                    (0.47, top - height),
                    (0.53, top - height - 0.02),
                    (0.57, top + 0.03),
                ],
                0.012,
            )];
            art.solid(&fin, trim, look);
            for k in 0..3 {
                let y = top - 0.015 - k as f32 * 0.03;
                art.fill(&[capsule((0.485, y), (0.535, y - 0.005), 0.005)], look.ink);
            }
        }
        _ => {
            // Two little bolts on the crown.
            for x in [0.42, 0.58] {
                art.solid(&[rect(x, top - 0.015, 0.018, 0.03, 0.006)], trim, look);
                rivet(art, (x, top - 0.045), 0.02, trim, look.ink);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn robot_ears(
    art: &mut Art,
    variant: u32,
    frame: &Head,
    head: &[Part],
    trim: Rgb,
    glow: Rgb,
    dark: Rgb,
    look: &Finish,
) {
    // The head's actual side at eye level.
    let y = frame.eyes + 0.02;
    let side = edge_at(head, y);
    match variant {
        0 => {
            for s in [-1.0, 1.0] {
                let x = 0.5 + s * side;
                art.solid(&[circle(x, y, 0.065)], trim, look);
                art.fill(&[circle(x, y, 0.032)], dark);
                art.fill(&[circle(x, y, 0.014)], glow);
            }
        }
        1 => {
            for s in [-1.0, 1.0] {
                let x = 0.5 + s * (side + 0.02);
                art.solid(&[rect(x, y, 0.04, 0.085, 0.015)], trim, look);
                for k in -1..=1 {
                    let vy = y + k as f32 * 0.035;
                    art.fill(
                        &[capsule((x - 0.018, vy), (x + 0.018, vy), 0.006)],
                        look.ink,
                    );
                }
            }
        }
        2 => {
            for s in [-1.0, 1.0] {
                let base = (0.5 + s * side, y);
                let tip = (0.5 + s * (side + 0.09), y - 0.16);
                art.fill(&[capsule(base, tip, 0.011 + look.line)], look.ink);
                art.fill(&[capsule(base, tip, 0.011)], shade(trim, 0.1));
                art.solid(&[rect(base.0, y, 0.03, 0.05, 0.012)], trim, look);
                light(art, tip, 0.022, glow, look.ink);
            }
        }
        _ => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn robot_eyes(
    art: &mut Art,
    variant: u32,
    frame: &Head,
    metal: Rgb,
    glow: Rgb,
    dark: Rgb,
    look: &Finish,
    seed: &mut Seed,
) {
    let y = frame.eyes;
    let half = frame.half;
    let white = [255, 255, 255];
    match variant {
        0 | 1 => {
            // A visor across the face, lit all along (0) or by a scanner spot (1).
            let band = [capsule((0.5 - half, y), (0.5 + half, y), 0.055)];
            art.fill(&grow(&band, 0.012), shade(metal, -0.35));
            art.fill(&band, dark);
            if variant == 0 {
                let inner = [capsule(
                    (0.5 - half + 0.04, y),
                    (0.5 + half - 0.04, y),
                    0.024,
                )];
                art.fill_with(&grow(&inner, 0.02), glow, 0.35);
                art.fill(&inner, glow);
                art.fill(
                    &[capsule(
                        (0.5 - half + 0.05, y - 0.006),
                        (0.5 + half - 0.05, y - 0.006),
                        0.008,
                    )],
                    shade(glow, 0.6),
                );
            } else {
                let at = 0.5 + seed.between(-0.6, 0.6) * (half - 0.06);
                let spot = [capsule((at - 0.05, y), (at + 0.05, y), 0.028)];
                art.fill_in(&grow(&spot, 0.03), &band, glow, 0.35);
                art.fill(&spot, glow);
                art.fill(
                    &[capsule((at - 0.03, y), (at + 0.03, y), 0.011)],
                    shade(glow, 0.6),
                );
            }
            // Glass reflection.
            art.fill_in(
                &[polygon(
                    vec![
                        (0.5 - half + 0.02, y - 0.06),
                        (0.5 - half + 0.12, y - 0.06),
                        (0.5 - half + 0.07, y + 0.06),
                        (0.5 - half - 0.03, y + 0.06),
                    ],
                    0.0,
                )],
                &band,
                white,
                0.22,
            );
        }
        2 => {
            // Round lenses in metal rims; one may be bigger.
            let big = seed.chance(30);
            let apart = half * 0.52;
            for (k, s) in [-1.0f32, 1.0].into_iter().enumerate() {
                let r = if big && k == 1 { 0.085 } else { 0.07 };
                let (x, y) = (0.5 + s * apart, y);
                art.solid(&[circle(x, y, r)], shade(metal, 0.2), look);
                art.fill(&[circle(x, y, r * 0.72)], dark);
                art.fill_with(&[circle(x, y, r * 0.5)], glow, 0.5);
                art.fill(&[circle(x, y, r * 0.36)], glow);
                art.fill(&[circle(x, y, r * 0.15)], dark);
                art.fill(&[circle(x - r * 0.25, y - r * 0.25, r * 0.12)], white);
            }
        }
        3 => {
            // An LED grid: a dark panel of square lamps, the eyes lit.
            let panel = [rect(0.5, y, half, 0.07, 0.02)];
            art.fill(&grow(&panel, 0.012), shade(metal, -0.35));
            art.fill(&panel, dark);
            let columns = 7;
            let pitch = (half * 2.0 - 0.04) / columns as f32;
            let cell = pitch * 0.36;
            let squint = seed.chance(40);
            for row in 0..3 {
                for column in 0..columns {
                    let x = 0.5 - half + 0.02 + pitch * (column as f32 + 0.5);
                    let cy = y - 0.04 + row as f32 * 0.04;
                    let eye_column = column == 1 || column == 2 || column == 4 || column == 5;
                    let lit = eye_column && (row == 1 || (!squint && row == 0));
                    let lamp = [rect(x, cy, cell, cell.min(0.015), 0.004)];
                    if lit {
                        art.fill_with(&grow(&lamp, 0.01), glow, 0.4);
                        art.fill(&lamp, shade(glow, 0.2));
                    } else {
                        art.fill(&lamp, shade(dark, 0.12));
                    }
                }
            }
        }
        _ => {
            // Square screens with pixel pupils.
            let apart = half * 0.5;
            let look_x = seed.between(-0.02, 0.02);
            for s in [-1.0, 1.0] {
                let x = 0.5 + s * apart;
                let screen = [rect(x, y, 0.07, 0.06, 0.015)];
                art.fill(&grow(&screen, 0.014), shade(metal, -0.35));
                art.fill(&screen, dark);
                art.fill_with(&screen, glow, 0.25);
                art.fill(&[rect(x + look_x, y, 0.028, 0.028, 0.004)], glow);
                art.fill(
                    &[rect(x + look_x - 0.01, y - 0.01, 0.008, 0.008, 0.0)],
                    shade(glow, 0.7),
                );
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn robot_mouth(
    art: &mut Art,
    variant: u32,
    frame: &Head,
    metal: Rgb,
    glow: Rgb,
    dark: Rgb,
    look: &Finish,
    seed: &mut Seed,
) {
    let y = frame.mouth;
    let half = (frame.half * seed.between(0.5, 0.75)).max(0.08);
    match variant {
        0 => {
            // A grille of vertical slats.
            let plate = [rect(0.5, y, half, 0.045, 0.015)];
            art.fill(&grow(&plate, 0.01), shade(metal, -0.35));
            art.fill(&plate, dark);
            let slats = 5 + (half * 20.0) as u32 % 3;
            let pitch = half * 2.0 / slats as f32;
            for k in 0..slats {
                let x = 0.5 - half + pitch * (k as f32 + 0.5);
                art.fill(
                    &[capsule((x, y - 0.028), (x, y + 0.028), 0.008)],
                    shade(metal, 0.15),
                );
            }
        }
        1 => {
            // Horizontal vents.
            for k in -1..=1 {
                let vy = y + k as f32 * 0.03;
                let w = half - (k as f32).abs() * 0.02;
                let slot = [capsule((0.5 - w, vy), (0.5 + w, vy), 0.009)];
                art.fill(&grow(&slot, 0.006), shade(metal, 0.35));
                art.fill(&slot, dark);
            }
        }
        2 => {
            // A speaker: a grid of holes.
            for row in -1..=1 {
                for column in -3i32..=3 {
                    let x = 0.5 + column as f32 * (half / 3.2);
                    let hole = [circle(x, y + row as f32 * 0.028, 0.01)];
                    art.fill(&grow(&hole, 0.005), shade(metal, 0.35));
                    art.fill(&hole, dark);
                }
            }
        }
        3 => {
            // Teeth: a pale bar cut by dark lines.
            let bar = [rect(0.5, y, half, 0.035, 0.012)];
            art.fill(&grow(&bar, look.line), look.ink);
            art.fill(&bar, [240, 236, 222]);
            let teeth = 6;
            let pitch = half * 2.0 / teeth as f32;
            for k in 1..teeth {
                let x = 0.5 - half + pitch * k as f32;
                art.fill(&[capsule((x, y - 0.035), (x, y + 0.035), 0.004)], look.ink);
            }
            art.fill(
                &[capsule((0.5 - half, y), (0.5 + half, y), 0.004)],
                look.ink,
            );
        }
        _ => {
            // An LED smile on a dark strip.
            let strip = [capsule((0.5 - half, y), (0.5 + half, y), 0.035)];
            art.fill(&grow(&strip, 0.01), shade(metal, -0.35));
            art.fill(&strip, dark);
            let dots = 7;
            for k in 0..dots {
                let t = k as f32 / (dots - 1) as f32 * 2.0 - 1.0;
                let x = 0.5 + t * (half - 0.02);
                let dy = 0.018 - t * t * 0.03;
                let lamp = [rect(x, y + dy, 0.008, 0.008, 0.002)];
                art.fill_with(&grow(&lamp, 0.008), glow, 0.4);
                art.fill(&lamp, shade(glow, 0.3));
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn chest_panel(
    art: &mut Art,
    variant: u32,
    seed: &mut Seed,
    body: Rgb,
    glow: Rgb,
    dark: Rgb,
    look: &Finish,
) {
    match variant {
        0 => {
            let plate = [rect(0.5, 0.93, 0.15, 0.055, 0.02)];
            art.solid(&plate, shade(body, -0.2), look);
            let hues = [seed.below(360), seed.below(360), seed.below(360)];
            for (k, hue) in hues.into_iter().enumerate() {
                let x = 0.5 + (k as f32 - 1.0) * 0.09;
                art.fill(&[circle(x, 0.93, 0.027)], look.ink);
                art.fill(&[circle(x, 0.93, 0.02)], colour(hue, 85, 55));
                art.fill(&[circle(x - 0.006, 0.924, 0.008)], [255, 255, 255]);
            }
        }
        1 => {
            // A gauge.
            art.solid(&[circle(0.5, 0.95, 0.075)], shade(body, 0.3), look);
            art.fill(&[circle(0.5, 0.95, 0.058)], [244, 240, 228]);
            let needle = direction(9 + seed.below(7) as usize);
            art.fill(
                &[capsule(
                    (0.5, 0.95),
                    (0.5 + needle.0 * 0.05, 0.95 + needle.1 * 0.05),
                    0.006,
                )],
                [200, 30, 30],
            );
            art.fill(&[circle(0.5, 0.95, 0.01)], dark);
        }
        2 => {
            for k in 0..3 {
                let y = 0.9 + k as f32 * 0.035;
                let slot = [capsule((0.38, y), (0.62, y), 0.01)];
                art.fill(&grow(&slot, 0.006), shade(body, 0.35));
                art.fill(&slot, dark);
            }
        }
        _ => {
            // A glowing core.
            art.fill_with(&[circle(0.5, 0.95, 0.12)], glow, 0.3);
            art.solid(&[circle(0.5, 0.95, 0.07)], shade(body, 0.1), look);
            art.fill(&[circle(0.5, 0.95, 0.05)], dark);
            art.fill(&[circle(0.5, 0.95, 0.036)], glow);
            art.fill(&[circle(0.5, 0.95, 0.018)], shade(glow, 0.7));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Set 2: monsters
// ---------------------------------------------------------------------------------------

fn monster(digest: &Digest, size: u32) -> RgbaImage {
    let mut seed = Seed::new(digest, "robohash-set2");
    let hue = seed.below(360);
    let skin = colour(hue, 58 + seed.below(22), 50 + seed.below(12));
    let ink = colour(hue, 45, 16);
    let background_hue = hue + 140 + seed.below(80);
    let background = colour(background_hue, 50 + seed.below(25), 84 + seed.below(6));
    let spot_hue = hue + 20 + seed.below(40);
    let belly = shade(skin, 0.45);
    let look = Finish {
        line: 0.018,
        ink,
        rim: 0.03,
    };

    let mut art = Art::new(size, background);
    // Bubbles float in the background.
    for _ in 0..5 {
        let (x, y, r) = (
            seed.between(0.05, 0.95),
            seed.between(0.05, 0.95),
            seed.between(0.02, 0.06),
        );
        art.fill_with(&[circle(x, y, r)], shade(background, 0.6), 0.6);
    }

    // The body: a frame (centre and radii) and the blob around it.
    let variant = seed.below(6);
    let rx = seed.between(0.24, 0.31);
    let ry = seed.between(0.24, 0.3);
    let cx = 0.5;
    let cy = 0.56;
    let body: Vec<Part> = match variant {
        0 => vec![ellipse(cx, cy, rx, ry)],
        1 => vec![
            circle(cx, cy - ry * 0.35, rx * 0.72),
            ellipse(cx, cy + ry * 0.25, rx * 1.08, ry * 0.72),
        ],
        2 => {
            // A ghost: a dome on a column, a wavy hem.
            let hem = cy + ry * 0.8;
            let mut parts = vec![
                circle(cx, cy - ry * 0.1, rx),
                rect(
                    cx,
                    (cy - ry * 0.1 + hem) / 2.0,
                    rx,
                    (hem - cy + ry * 0.1) / 2.0,
                    0.0,
                ),
            ];
            for k in 0..4 {
                let x = cx - rx + rx * 0.25 + k as f32 * rx * 0.5;
                parts.push(circle(x, hem, rx * 0.25));
            }
            parts
        }
        3 => vec![ellipse(cx, cy - 0.01, rx * 0.82, ry * 1.15)],
        4 => vec![ellipse(cx, cy + 0.03, rx * 1.2, ry * 0.85)],
        _ => {
            let mut parts = vec![circle(cx, cy, rx.min(ry) * 0.95)];
            for k in [9usize, 11, 13, 15, 1, 3] {
                let d = direction(k);
                let bump = seed.between(0.08, 0.12);
                parts.push(circle(cx + d.0 * rx * 0.85, cy + d.1 * ry * 0.85, bump));
            }
            parts
        }
    };
    let fur = seed.below(4); // 0 furry, 1 spiky, else smooth
    let eye_variant = seed.below(4);

    // Legs or tentacles hang below, arms at the sides: drawn first, so the body hides their
    // roots.
    let bottom = cy + ry * 0.7;
    let legs = seed.below(3);
    match legs {
        0 => {
            let count = 3 + seed.below(3);
            for k in 0..count {
                let t = k as f32 / (count - 1) as f32 * 2.0 - 1.0;
                let root = (cx + t * rx * 0.7, bottom);
                let sway = seed.between(-0.08, 0.08);
                let tip = (root.0 + t * 0.09 + sway, 0.98 + seed.between(-0.04, 0.04));
                let bend = (root.0 - sway * 1.5 + t * 0.02, (root.1 + tip.1) / 2.0);
                let limb = tapered(&bezier(root, bend, tip, 10), 0.045, 0.014);
                art.solid(&[limb], shade(skin, -0.08), &look);
            }
        }
        1 => {
            for s in [-1.0, 1.0] {
                let x = cx + s * rx * 0.5;
                let leg = [rect(x, bottom + 0.08, 0.045, 0.1, 0.03)];
                art.solid(&leg, shade(skin, -0.1), &look);
                let foot = [ellipse(x + s * 0.025, bottom + 0.18, 0.075, 0.04)];
                art.solid(&foot, shade(skin, -0.1), &look);
            }
        }
        _ => {}
    }
    if seed.chance(55) {
        let up = seed.chance(50);
        for s in [-1.0, 1.0] {
            let root = (cx + s * rx * 0.75, cy + ry * 0.1);
            let tip = (
                cx + s * (rx + 0.17),
                if up { cy - ry * 0.55 } else { cy + ry * 0.75 },
            );
            let bend = (cx + s * (rx + 0.14), cy + ry * 0.2);
            let arm = tapered(&bezier(root, bend, tip, 10), 0.04, 0.016);
            art.solid(&[arm], skin, &look);
        }
    }

    // Headgear behind the body's top.
    let top = cy - ry * if variant == 3 { 1.15 } else { 1.0 };
    let crest = seed.below(5);
    let horn = colour(40, 45, 88);
    match crest {
        0 => {
            // Curved horns.
            for s in [-1.0, 1.0] {
                let root = (cx + s * rx * 0.55, top + 0.06);
                let tip = (cx + s * (rx * 0.85 + 0.04), top - 0.13);
                let bend = (cx + s * (rx * 1.05 + 0.04), top + 0.02);
                let spine = bezier(root, bend, tip, 10);
                art.solid(&[tapered(&spine, 0.05, 0.006)], horn, &look);
            }
        }
        1 => {
            // Antennae with bobbles.
            for s in [-1.0, 1.0] {
                let root = (cx + s * 0.06, top + 0.04);
                let tip = (cx + s * 0.16, top - 0.14);
                let bend = (cx + s * 0.02, top - 0.1);
                let stalk = tapered(&bezier(root, bend, tip, 8), 0.014, 0.01);
                art.solid(&[stalk], shade(skin, -0.15), &look);
                art.solid(
                    &[circle(tip.0, tip.1, 0.04)],
                    colour(spot_hue, 80, 60),
                    &look,
                );
            }
        }
        2 => {
            // Pointed ears.
            for s in [-1.0, 1.0] {
                let ear = [polygon(
                    vec![
                        (cx + s * rx * 0.35, top + 0.08),
                        (cx + s * (rx * 0.95 + 0.05), top - 0.1),
                        (cx + s * rx * 0.95, top + 0.14),
                    ],
                    0.02,
                )];
                art.solid(&ear, skin, &look);
                art.fill(
                    &[polygon(
                        vec![
                            (cx + s * rx * 0.55, top + 0.08),
                            (cx + s * (rx * 0.93 + 0.03), top - 0.04),
                            (cx + s * rx * 0.88, top + 0.12),
                        ],
                        0.01,
                    )],
                    colour(340, 70, 78),
                );
            }
        }
        3 => {
            // A single horn.
            let horn_shape = [polygon(
                vec![
                    (cx - 0.05, top + 0.06),
                    (cx + 0.01, top - 0.15),
                    (cx + 0.05, top + 0.06),
                ],
                0.012,
            )];
            art.solid(&horn_shape, horn, &look);
        }
        _ => {
            // A tuft of hair.
            for k in -1..=1 {
                let root = (cx + k as f32 * 0.05, top + 0.05);
                let tip = (cx + k as f32 * 0.11, top - 0.09 + (k as f32).abs() * 0.03);
                let bend = (cx + k as f32 * 0.02, top - 0.06);
                let lock = tapered(&bezier(root, bend, tip, 8), 0.03, 0.006);
                art.solid(&[lock], shade(skin, -0.25), &look);
            }
        }
    }

    // Eyes on stalks grow from behind the body.
    let eye_y = cy - ry * 0.3;
    let stalk_r = rx * 0.22;
    let stalk_tips = [-1.0, 1.0].map(|s| (cx + s * rx * 0.45, top - 0.03));
    if eye_variant == 3 {
        for (s, tip) in [-1.0, 1.0].into_iter().zip(stalk_tips) {
            let root = (cx + s * rx * 0.2, top + 0.08);
            let bend = (cx + s * rx * 0.15, top - 0.02);
            let stalk = tapered(&bezier(root, bend, tip, 8), 0.03, 0.018);
            art.solid(&[stalk], skin, &look);
        }
    }

    // Fur or spikes round the body.
    if fur < 2 {
        let mut fringe = Vec::new();
        for k in 0..16 {
            let d = direction(k);
            let (x, y) = (cx + d.0 * rx * 0.97, cy + d.1 * ry * 0.97);
            if fur == 0 {
                fringe.push(circle(x, y, 0.045));
            } else if d.1 < 0.1 {
                let out = (cx + d.0 * (rx + 0.07), cy + d.1 * (ry + 0.07));
                let n = (-d.1 * 0.05, d.0 * 0.05);
                fringe.push(polygon(
                    vec![(x + n.0, y + n.1), out, (x - n.0, y - n.1)],
                    0.008,
                ));
            }
        }
        let fringe_colour = if fur == 0 { skin } else { shade(skin, -0.25) };
        art.fill(&grow(&fringe, look.line), ink);
        art.fill(&fringe, fringe_colour);
    }

    art.solid(&body, skin, &look);
    // Belly and spots.
    if seed.chance(60) {
        art.fill_in(
            &[ellipse(cx, cy + ry * 0.45, rx * 0.62, ry * 0.5)],
            &body,
            belly,
            0.9,
        );
    }
    if seed.chance(55) {
        let spots = colour(spot_hue, 60, 42);
        for _ in 0..5 {
            let d = direction(seed.below(16) as usize);
            let reach = seed.between(0.55, 0.9);
            let r = seed.between(0.018, 0.04);
            art.fill_in(
                &[circle(cx + d.0 * rx * reach, cy + d.1 * ry * reach, r)],
                &body,
                spots,
                0.7,
            );
        }
    }
    art.paint(
        &[ellipse(cx - rx * 0.45, cy - ry * 0.6, rx * 0.28, ry * 0.16)],
        &body,
        &[],
        Ink::Flat([255, 255, 255]),
        0.35,
    );

    // Eyes.
    let iris_hue = hue + 90 + seed.below(180);
    let iris = colour(iris_hue, 70, 50);
    let sleepy = seed.chance(25);
    let eyes: Vec<((f32, f32), f32)> = match eye_variant {
        0 => vec![((cx, eye_y), rx * 0.42)],
        1 => {
            let r = rx * 0.27;
            vec![((cx - rx * 0.38, eye_y), r), ((cx + rx * 0.38, eye_y), r)]
        }
        2 => vec![
            ((cx, eye_y - ry * 0.05), rx * 0.3),
            ((cx - rx * 0.55, eye_y + ry * 0.1), rx * 0.17),
            ((cx + rx * 0.55, eye_y + ry * 0.1), rx * 0.17),
        ],
        _ => stalk_tips.iter().map(|&tip| (tip, stalk_r)).collect(),
    };
    let gaze = (seed.between(-0.25, 0.25), seed.between(-0.15, 0.25));
    for ((x, y), r) in eyes {
        art.fill(&[circle(x, y, r + look.line)], ink);
        art.fill(&[circle(x, y, r)], [255, 255, 255]);
        let (ix, iy) = (x + gaze.0 * r, y + gaze.1 * r);
        art.fill_in(&[circle(ix, iy, r * 0.58)], &[circle(x, y, r)], iris, 1.0);
        art.fill_in(
            &[circle(ix, iy, r * 0.3)],
            &[circle(x, y, r)],
            [20, 18, 30],
            1.0,
        );
        art.fill(
            &[circle(ix - r * 0.2, iy - r * 0.22, r * 0.14)],
            [255, 255, 255],
        );
        if sleepy {
            art.fill_in(
                &[rect(x, y - r * 0.55, r * 1.2, r * 0.55, 0.0)],
                &[circle(x, y, r)],
                shade(skin, -0.1),
                1.0,
            );
            art.fill_in(
                &[capsule((x - r, y), (x + r, y), look.line * 0.6)],
                &[circle(x, y, r + look.line)],
                ink,
                1.0,
            );
        }
    }

    // Mouth.
    let mouth_y = cy + ry * 0.28;
    let width = rx * seed.between(0.35, 0.6);
    let white = [255, 252, 240];
    match seed.below(5) {
        mouth @ (0 | 1) => {
            // A wide smile, with fangs (0) or a row of teeth (1).
            let smile = [ellipse(cx, mouth_y, width, width * 0.75)];
            let lower = [rect(cx, mouth_y + 0.2, 0.5, 0.2, 0.0)];
            art.fill_in(&grow(&smile, look.line), &grow(&lower, look.line), ink, 1.0);
            art.fill_in(&smile, &lower, colour(350, 55, 25), 1.0);
            art.fill_in(
                &[ellipse(
                    cx,
                    mouth_y + width * 0.75,
                    width * 0.55,
                    width * 0.35,
                )],
                &smile,
                colour(350, 70, 62),
                1.0,
            );
            if mouth == 0 {
                for s in [-1.0, 1.0] {
                    let x = cx + s * width * 0.5;
                    art.fill(
                        &[polygon(
                            vec![
                                (x - 0.022, mouth_y),
                                (x + 0.022, mouth_y),
                                (x, mouth_y + 0.05),
                            ],
                            0.004,
                        )],
                        white,
                    );
                }
            } else {
                let teeth = 5;
                for k in 0..teeth {
                    let x = cx - width + width * 2.0 * (k as f32 + 0.5) / teeth as f32;
                    let w = width / teeth as f32;
                    art.fill_in(
                        &[polygon(
                            vec![
                                (x - w * 0.8, mouth_y),
                                (x + w * 0.8, mouth_y),
                                (x, mouth_y + 0.035),
                            ],
                            0.003,
                        )],
                        &smile,
                        white,
                        1.0,
                    );
                }
            }
        }
        2 => {
            let o = [ellipse(cx, mouth_y, width * 0.45, width * 0.55)];
            art.fill(&grow(&o, look.line), ink);
            art.fill(&o, colour(350, 55, 25));
            art.fill_in(
                &[ellipse(
                    cx,
                    mouth_y + width * 0.4,
                    width * 0.35,
                    width * 0.3,
                )],
                &o,
                colour(350, 70, 62),
                1.0,
            );
        }
        3 => {
            // A grin with the tongue out.
            let line = bezier(
                (cx - width, mouth_y - 0.01),
                (cx, mouth_y + 0.05),
                (cx + width, mouth_y - 0.01),
                8,
            );
            let tongue = [ellipse(cx + width * 0.3, mouth_y + 0.04, 0.04, 0.05)];
            art.fill(&grow(&tongue, look.line), ink);
            art.fill(&tongue, colour(350, 70, 62));
            art.fill(
                &[capsule(
                    (cx + width * 0.3, mouth_y + 0.03),
                    (cx + width * 0.3, mouth_y + 0.07),
                    0.004,
                )],
                colour(350, 55, 45),
            );
            polyline(&mut art, &line, look.line * 0.9, ink);
        }
        _ => {
            // A sideways smirk with one fang.
            let line = bezier(
                (cx - width, mouth_y),
                (cx, mouth_y + 0.03),
                (cx + width, mouth_y - 0.03),
                8,
            );
            art.fill(
                &[polygon(
                    vec![
                        (cx - 0.03, mouth_y + 0.01),
                        (cx, mouth_y + 0.012),
                        (cx - 0.016, mouth_y + 0.05),
                    ],
                    0.004,
                )],
                white,
            );
            polyline(&mut art, &line, look.line * 0.9, ink);
        }
    }
    art.into_image()
}

// ---------------------------------------------------------------------------------------
// Set 3: droid heads
// ---------------------------------------------------------------------------------------

fn droid(digest: &Digest, size: u32) -> RgbaImage {
    let mut seed = Seed::new(digest, "robohash-set3");
    let hue = seed.below(360);
    let background = colour(hue, 55 + seed.below(20), 46 + seed.below(10));
    let light_head = seed.chance(55);
    let head_hue = hue + 150 + seed.below(60);
    let head = if light_head {
        colour(hue, 12, 94)
    } else {
        colour(head_hue, 45 + seed.below(25), 62 + seed.below(10))
    };
    let accent_hue = hue + 120 + seed.below(120);
    let accent = colour(accent_hue, 75, 56);
    let screen = colour(hue + 200, 30, 15);
    let glow = colour(*seed.pick(&GLOW_HUES), 100, 62);
    let mut art = Art::new(size, background);

    // The badge behind: a disc, a split or rays.
    match seed.below(3) {
        0 => art.fill(&[circle(0.5, 0.5, 0.43)], shade(background, 0.14)),
        1 => art.fill(
            &[polygon(vec![(1.0, 0.0), (1.0, 1.0), (0.0, 1.0)], 0.0)],
            shade(background, -0.12),
        ),
        _ => {
            art.fill(&[ring(0.5, 0.5, 0.44, 0.03)], shade(background, 0.18));
            art.fill(&[ring(0.5, 0.5, 0.37, 0.015)], shade(background, 0.1));
        }
    }

    // Head shape and frame: centre, half width and half height.
    let (cx, cy) = (0.5, 0.5);
    let variant = seed.below(4);
    let (hw, hh, head_shape) = match variant {
        0 => {
            let r = seed.between(0.25, 0.29);
            (r, r, vec![circle(cx, cy, r)])
        }
        1 => {
            let (w, h) = (seed.between(0.29, 0.33), seed.between(0.2, 0.24));
            (w, h, vec![capsule((cx - w + h, cy), (cx + w - h, cy), h)])
        }
        2 => {
            let r = seed.between(0.24, 0.27);
            (r, r, vec![rect(cx, cy, r, r, r * 0.55)])
        }
        _ => {
            let (w, h) = (seed.between(0.3, 0.33), seed.between(0.23, 0.26));
            (w, h, vec![ellipse(cx, cy, w, h)])
        }
    };
    let shadow = shade(background, -0.35);
    let drop = |parts: &[Part]| move_all(parts, 0.018, 0.026);

    // The neck and collar at the bottom.
    let collar = [rect(cx, 1.03, 0.27, 0.16, 0.13)];
    let neck = [rect(cx, cy + hh + 0.05, 0.07, 0.06, 0.0)];
    art.fill_with(&drop(&collar), shadow, 0.35);
    art.fill(&neck, shade(head, -0.3));
    art.fill(&collar, accent);
    art.fill_in(
        &[rect(cx + 0.25, 0.95, 0.25, 0.12, 0.0)],
        &collar,
        shade(accent, -0.12),
        1.0,
    );
    art.fill(&[circle(cx, 0.94, 0.026)], glow);

    // Top: antenna, fin or bulb.
    let top = cy - hh;
    match seed.below(4) {
        0 => {
            let height = seed.between(0.1, 0.14);
            let stick = [capsule((cx, top + 0.02), (cx, top - height), 0.012)];
            art.fill_with(&drop(&stick), shadow, 0.35);
            art.fill(&stick, shade(head, -0.3));
            let ball = [circle(cx, top - height, 0.035)];
            art.fill_with(&drop(&ball), shadow, 0.35);
            art.fill(&ball, accent);
            art.fill_in(
                &[rect(cx + 0.035, top - height, 0.035, 0.04, 0.0)],
                &ball,
                shade(accent, -0.12),
                1.0,
            );
        }
        1 => {
            let fin = [ellipse(cx, top + 0.01, 0.05, 0.09)];
            art.fill_with(&drop(&fin), shadow, 0.35);
            art.fill(&fin, accent);
            art.fill_in(
                &[rect(cx + 0.05, top, 0.05, 0.1, 0.0)],
                &fin,
                shade(accent, -0.12),
                1.0,
            );
        }
        2 => {
            for s in [-1.0, 1.0] {
                let tip = (cx + s * hw * 0.55, top - 0.09);
                let stick = [capsule((cx + s * hw * 0.3, top + 0.03), tip, 0.01)];
                art.fill_with(&drop(&stick), shadow, 0.35);
                art.fill(&stick, shade(head, -0.3));
                art.fill(&[circle(tip.0, tip.1, 0.026)], glow);
            }
        }
        _ => {}
    }

    // Ears.
    let ears = seed.below(3);
    match ears {
        0 => {
            for s in [-1.0, 1.0] {
                let disc = [circle(cx + s * hw, cy, 0.075)];
                art.fill_with(&drop(&disc), shadow, 0.35);
                art.fill(&disc, accent);
                art.fill(
                    &[circle(cx + s * (hw + 0.01), cy, 0.04)],
                    shade(accent, -0.2),
                );
            }
        }
        1 => {
            // Headphones: a band over the top and two cups.
            let band = [ring(cx, cy, hw + 0.045, 0.028)];
            let upper = [rect(cx, cy - 0.3, 0.5, 0.3, 0.0)];
            art.paint(&drop(&band), &drop(&upper), &[], Ink::Flat(shadow), 0.35);
            art.fill_in(&band, &upper, accent, 1.0);
            for s in [-1.0, 1.0] {
                let cup = [rect(cx + s * (hw + 0.02), cy + 0.01, 0.045, 0.085, 0.04)];
                art.fill_with(&drop(&cup), shadow, 0.35);
                art.fill(&cup, shade(accent, -0.15));
            }
        }
        _ => {
            for s in [-1.0, 1.0] {
                let rod = [capsule(
                    (cx + s * hw, cy),
                    (cx + s * (hw + 0.08), cy - 0.02),
                    0.012,
                )];
                art.fill_with(&drop(&rod), shadow, 0.35);
                art.fill(&rod, shade(head, -0.3));
                art.fill(&[circle(cx + s * (hw + 0.08), cy - 0.02, 0.024)], accent);
            }
        }
    }

    // The head, half in shade.
    art.fill_with(&drop(&head_shape), shadow, 0.35);
    art.fill(&head_shape, head);
    art.fill_in(
        &[rect(cx + 0.5, cy, 0.5, 0.5, 0.0)],
        &head_shape,
        shade(head, -0.1),
        1.0,
    );
    if seed.chance(40) {
        // A cap of another colour.
        art.fill_in(
            &[rect(cx, cy - hh - 0.5 + hh * 0.45, 0.5, 0.5, 0.0)],
            &head_shape,
            accent,
            1.0,
        );
        art.fill_in(
            &[rect(cx + 0.5, cy - hh - 0.5 + hh * 0.45, 0.5, 0.5, 0.0)],
            &head_shape,
            shade(accent, -0.12),
            1.0,
        );
    }

    // The face screen and what it shows.
    let sw = hw * 0.72;
    let sh = hh * 0.5;
    let sy = cy + hh * 0.12;
    let face = if variant == 0 || variant == 2 && seed.chance(50) {
        vec![ellipse(cx, sy, sw, sh)]
    } else {
        vec![rect(cx, sy, sw, sh, sh * 0.6)]
    };
    art.fill(&face, screen);
    if seed.chance(50) {
        // Cheeks.
        for s in [-1.0, 1.0] {
            art.fill_with(
                &[ellipse(cx + s * (sw + 0.02), sy + sh * 0.9, 0.035, 0.022)],
                colour(350, 80, 70),
                0.7,
            );
        }
    }
    let glow_soft = shade(glow, -0.15);
    match seed.below(4) {
        0 => {
            // One big eye.
            let r = sh * 0.75;
            art.fill_with(&[circle(cx, sy, r * 1.35)], glow, 0.25);
            art.fill(&[ring(cx, sy, r * 0.8, r * 0.35)], glow);
            art.fill(&[circle(cx, sy, r * 0.28)], shade(glow, 0.6));
        }
        variant @ (1 | 2) => {
            // Two round eyes or two happy arcs, perhaps over a little smile.
            let smile = seed.chance(50);
            let ey = if smile { sy - sh * 0.2 } else { sy };
            for s in [-1.0, 1.0] {
                let x = cx + s * sw * 0.45;
                if variant == 1 {
                    let r = sh * 0.4;
                    art.fill_with(&[circle(x, ey, r * 1.5)], glow, 0.25);
                    art.fill(&[circle(x, ey, r)], glow);
                    art.fill(
                        &[circle(x - r * 0.3, ey - r * 0.3, r * 0.3)],
                        shade(glow, 0.7),
                    );
                } else {
                    let w = sh * 0.42;
                    let arc = bezier(
                        (x - w, ey + w * 0.3),
                        (x, ey - w * 1.2),
                        (x + w, ey + w * 0.3),
                        8,
                    );
                    polyline(&mut art, &arc, sh * 0.13, glow);
                }
            }
            if smile {
                let w = sw * 0.2;
                let my = sy + sh * 0.5;
                let arc = bezier(
                    (cx - w, my - sh * 0.1),
                    (cx, my + sh * 0.3),
                    (cx + w, my - sh * 0.1),
                    8,
                );
                polyline(&mut art, &arc, sh * 0.09, glow_soft);
            }
        }
        _ => {
            // A scanner bar with a bright dot.
            let bar = [capsule((cx - sw * 0.7, sy), (cx + sw * 0.7, sy), sh * 0.2)];
            art.fill(&bar, glow_soft);
            let at = cx + seed.between(-0.5, 0.5) * sw;
            art.fill_with(&[circle(at, sy, sh * 0.55)], glow, 0.35);
            art.fill(&[circle(at, sy, sh * 0.3)], shade(glow, 0.6));
        }
    }
    // Screen glare.
    art.fill_in(
        &[polygon(
            vec![
                (cx - sw, sy - sh),
                (cx - sw * 0.55, sy - sh),
                (cx - sw * 0.85, sy + sh),
                (cx - sw * 1.3, sy + sh),
            ],
            0.0,
        )],
        &face,
        [255, 255, 255],
        0.12,
    );
    // Bolts on the forehead.
    if seed.chance(50) {
        for s in [-1.0, 1.0] {
            art.fill(
                &[circle(cx + s * hw * 0.35, cy - hh * 0.65, 0.014)],
                shade(head, -0.25),
            );
        }
    }
    art.into_image()
}

// ---------------------------------------------------------------------------------------
// Drawing helpers
// ---------------------------------------------------------------------------------------

fn colour(hue: u32, saturation: u32, lightness: u32) -> Rgb {
    let Rgba([r, g, b, _]) = hsl(hue % 360, saturation, lightness);
    [r, g, b]
}

/// cos of 0°, 22.5°, 45°, 67.5° and 90°.
const COS16: [f32; 5] = [1.0, 0.923_879_5, 0.707_106_77, 0.382_683_43, 0.0];

/// The unit vector at `i` × 22.5° (clockwise on screen, from pointing right).
fn direction(i: usize) -> (f32, f32) {
    let k = i % 4;
    let (c, s) = (COS16[k], COS16[4 - k]);
    match (i / 4) % 4 {
        0 => (c, s),
        1 => (-s, c),
        2 => (-c, -s),
        _ => (s, -c),
    }
}

/// `steps + 1` points along the quadratic Bézier curve from `a` to `c` pulled towards `b`.
fn bezier(a: (f32, f32), b: (f32, f32), c: (f32, f32), steps: u32) -> Vec<(f32, f32)> {
    (0..=steps)
        .map(|k| {
            let t = k as f32 / steps as f32;
            let u = 1.0 - t;
            (
                u * u * a.0 + 2.0 * u * t * b.0 + t * t * c.0,
                u * u * a.1 + 2.0 * u * t * b.1 + t * t * c.1,
            )
        })
        .collect()
}

/// A limb along `spine`, `from` wide (half width) at its root and `to` at its tip, with a
/// round tip.
fn tapered(spine: &[(f32, f32)], from: f32, to: f32) -> Part {
    let last = spine.len() - 1;
    let mut left = Vec::with_capacity(spine.len());
    let mut right = Vec::with_capacity(spine.len());
    for (k, &p) in spine.iter().enumerate() {
        let before = spine[k.saturating_sub(1)];
        let after = spine[(k + 1).min(last)];
        let (tx, ty) = (after.0 - before.0, after.1 - before.1);
        let length = (tx * tx + ty * ty).sqrt().max(1e-6);
        let t = k as f32 / last.max(1) as f32;
        let w = from + (to - from) * t - to * 0.9;
        let n = (-ty / length * w, tx / length * w);
        left.push((p.0 + n.0, p.1 + n.1));
        right.push((p.0 - n.0, p.1 - n.1));
    }
    right.reverse();
    left.extend(right);
    polygon(left, to * 0.9)
}

/// A stroked line through `points`.
fn polyline(art: &mut Art, points: &[(f32, f32)], radius: f32, colour: Rgb) {
    let segments: Vec<Part> = points
        .windows(2)
        .map(|pair| capsule(pair[0], pair[1], radius))
        .collect();
    art.fill(&segments, colour);
}

/// How far from the centre line the edge of `region` is at height `y`, found by stepping
/// out from the middle.
fn edge_at(region: &[Part], y: f32) -> f32 {
    let mut reach = 0.0;
    while reach < 0.5 && nearest(region, (0.5 + reach, y)) < 0.0 {
        reach += 0.005;
    }
    reach
}

/// The finish of the shaded solids: ink outline width and colour, rim light width.
struct Finish {
    line: f32,
    ink: Rgb,
    rim: f32,
}

/// A shape with its outline pushed out by `round` (so polygons get round corners): the
/// distance is the shape's minus `round`.
#[derive(Clone, Debug)]
struct Part {
    shape: Shape,
    round: f32,
}

impl Part {
    fn distance(&self, p: (f32, f32)) -> f32 {
        self.shape.distance(p) - self.round
    }

    fn grown(&self, by: f32) -> Part {
        Part {
            shape: self.shape.clone(),
            round: self.round + by,
        }
    }

    fn moved(&self, dx: f32, dy: f32) -> Part {
        Part {
            shape: self.shape.moved(dx, dy),
            round: self.round,
        }
    }

    /// Bounds (min x, min y, max x, max y) that hold the part.
    fn bounds(&self) -> (f32, f32, f32, f32) {
        let (x0, y0, x1, y1) = self.shape.bounds();
        let r = self.round.max(0.0);
        (x0 - r, y0 - r, x1 + r, y1 + r)
    }
}

fn part(shape: Shape) -> Part {
    Part { shape, round: 0.0 }
}

fn circle(x: f32, y: f32, radius: f32) -> Part {
    part(Shape::Circle {
        centre: (x, y),
        radius,
    })
}

fn ellipse(x: f32, y: f32, rx: f32, ry: f32) -> Part {
    part(Shape::Ellipse {
        centre: (x, y),
        radii: (rx, ry),
    })
}

/// A box given by its centre and half extents.
fn rect(x: f32, y: f32, hx: f32, hy: f32, corner: f32) -> Part {
    part(Shape::RoundedBox {
        centre: (x, y),
        half: (hx, hy),
        corner,
    })
}

fn capsule(from: (f32, f32), to: (f32, f32), radius: f32) -> Part {
    part(Shape::Capsule { from, to, radius })
}

fn ring(x: f32, y: f32, radius: f32, thickness: f32) -> Part {
    part(Shape::Ring {
        centre: (x, y),
        radius,
        thickness,
    })
}

/// A polygon with its corners rounded by pushing the outline out by `round`.
/// A head outline centred on x = 0.5 from `top` to `bottom`, `top_half` wide at the top and
/// `bottom_half` at the bottom, its corners rounded by 0.03.
fn trapezoid(top: f32, bottom: f32, top_half: f32, bottom_half: f32) -> Part {
    polygon(
        vec![
            (0.5 - top_half + 0.03, top + 0.03),
            (0.5 + top_half - 0.03, top + 0.03),
            (0.5 + bottom_half - 0.03, bottom - 0.03),
            (0.5 - bottom_half + 0.03, bottom - 0.03),
        ],
        0.03,
    )
}

fn polygon(points: Vec<(f32, f32)>, round: f32) -> Part {
    Part {
        shape: Shape::Polygon(points),
        round,
    }
}

fn grow(region: &[Part], by: f32) -> Vec<Part> {
    region.iter().map(|p| p.grown(by)).collect()
}

fn move_all(region: &[Part], dx: f32, dy: f32) -> Vec<Part> {
    region.iter().map(|p| p.moved(dx, dy)).collect()
}

/// Distance to the union of `region`.
fn nearest(region: &[Part], p: (f32, f32)) -> f32 {
    region
        .iter()
        .map(|part| part.distance(p))
        .fold(f32::MAX, f32::min)
}

fn bounds_of(region: &[Part]) -> (f32, f32, f32, f32) {
    region.iter().map(Part::bounds).fold(
        (f32::MAX, f32::MAX, f32::MIN, f32::MIN),
        |(a, b, c, d), (x0, y0, x1, y1)| (a.min(x0), b.min(y0), c.max(x1), d.max(y1)),
    )
}

/// A box: min x, min y, max x, max y, in unit coordinates.
type Bounds = (f32, f32, f32, f32);

/// A region prepared for painting: each part with its bounds grown by a margin, so that the
/// distance at a point only looks at the parts near it. Every part farther than the margin
/// counts as `FAR`, which is the same to the painter: with a margin of a pixel, such a part
/// neither covers nor uncovers the point.
struct Nearby<'a> {
    parts: Vec<(Bounds, &'a Part)>,
    /// The parts whose bounds cross the current row, with their left and right ends.
    row: Vec<(f32, f32, &'a Part)>,
}

impl<'a> Nearby<'a> {
    /// Far enough (in unit coordinates) to mean "nowhere near".
    const FAR: f32 = 1.0;

    fn new(region: &'a [Part], margin: f32) -> Nearby<'a> {
        let parts = region
            .iter()
            .map(|part| {
                let (x0, y0, x1, y1) = part.bounds();
                ((x0 - margin, y0 - margin, x1 + margin, y1 + margin), part)
            })
            .collect();
        Nearby {
            parts,
            row: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Keeps the parts that reach the row at height `y` for [`Nearby::distance`].
    fn start_row(&mut self, y: f32) {
        self.row.clear();
        let crossing = self
            .parts
            .iter()
            .filter(|((_, y0, _, y1), _)| y >= *y0 && y <= *y1);
        self.row
            .extend(crossing.map(|&((x0, _, x1, _), part)| (x0, x1, part)));
    }

    /// The distance to the union at `p` (on the current row), or [`Nearby::FAR`] when no part
    /// is near. Stops early at `inside`: once a part holds `p` that deep, the rest cannot
    /// change what the painter does with the answer.
    fn distance(&self, p: (f32, f32), inside: f32) -> f32 {
        let mut nearest = Nearby::FAR;
        for &(x0, x1, part) in &self.row {
            if p.0 >= x0 && p.0 <= x1 {
                nearest = nearest.min(part.distance(p));
                if nearest <= inside {
                    break;
                }
            }
        }
        nearest
    }
}

/// What a region is painted with.
#[derive(Clone, Copy)]
enum Ink {
    Flat(Rgb),
    /// `from` at height `top`, `to` at `bottom`, mixed in between.
    Vertical {
        top: f32,
        from: Rgb,
        bottom: f32,
        to: Rgb,
    },
}

impl Ink {
    fn at(&self, y: f32) -> Rgb {
        match *self {
            Ink::Flat(colour) => colour,
            Ink::Vertical {
                top,
                from,
                bottom,
                to,
            } => {
                let t = ((y - top) / (bottom - top).max(1e-6)).clamp(0.0, 1.0);
                [0, 1, 2].map(|c| blend(from[c], to[c], t))
            }
        }
    }
}

/// A picture being painted with unions of [`Part`]s, which can be clipped to other regions
/// and have others cut out of them.
struct Art {
    image: RgbaImage,
    side: f32,
}

impl Art {
    fn new(size: u32, background: Rgb) -> Art {
        let [r, g, b] = background;
        Art {
            image: RgbaImage::from_pixel(size, size, Rgba([r, g, b, 255])),
            side: size as f32,
        }
    }

    fn fill(&mut self, region: &[Part], colour: Rgb) {
        self.paint(region, &[], &[], Ink::Flat(colour), 1.0);
    }

    fn fill_with(&mut self, region: &[Part], colour: Rgb, opacity: f32) {
        self.paint(region, &[], &[], Ink::Flat(colour), opacity);
    }

    /// Paints the part of `region` inside `within`.
    fn fill_in(&mut self, region: &[Part], within: &[Part], colour: Rgb, opacity: f32) {
        self.paint(region, within, &[], Ink::Flat(colour), opacity);
    }

    /// Paints `region`, clipped to `within` (unless empty) and less `outside`, at `opacity`.
    fn paint(
        &mut self,
        region: &[Part],
        within: &[Part],
        outside: &[Part],
        ink: Ink,
        opacity: f32,
    ) {
        let (mut x0, mut y0, mut x1, mut y1) = bounds_of(region);
        if !within.is_empty() {
            let (a, b, c, d) = bounds_of(within);
            (x0, y0, x1, y1) = (x0.max(a), y0.max(b), x1.min(c), y1.min(d));
        }
        let size = self.image.width();
        let to_pixel = |v: f32| (v * self.side).clamp(0.0, size as f32) as u32;
        let (x0, y0) = (
            to_pixel(x0).saturating_sub(1),
            to_pixel(y0).saturating_sub(1),
        );
        let (x1, y1) = ((to_pixel(x1) + 2).min(size), (to_pixel(y1) + 2).min(size));
        let side = self.side;
        // Parts more than a pixel from a point cannot change its coverage: skip them.
        let margin = 1.0 / side;
        let (mut region, mut within, mut outside) = (
            Nearby::new(region, margin),
            Nearby::new(within, margin),
            Nearby::new(outside, margin),
        );
        // More than half a pixel inside: full coverage, so deeper does not matter (see
        // `Nearby`); a little more than half, so rounding cannot make it 0.99.
        let inside = -0.6 / side;
        for y in y0..y1 {
            let py = (y as f32 + 0.5) / side;
            let colour = ink.at(py);
            for nearby in [&mut region, &mut within, &mut outside] {
                nearby.start_row(py);
            }
            for x in x0..x1 {
                let p = ((x as f32 + 0.5) / side, py);
                let mut d = region.distance(p, inside);
                if d * side >= 0.5 {
                    continue;
                }
                if !within.is_empty() {
                    d = d.max(within.distance(p, inside));
                }
                if !outside.is_empty() {
                    d = d.max(-outside.distance(p, inside));
                }
                let coverage = (0.5 - d * side).clamp(0.0, 1.0) * opacity;
                if coverage > 0.0 {
                    let pixel = self.image.get_pixel_mut(x, y);
                    for c in 0..3 {
                        pixel[c] = blend(pixel[c], colour[c], coverage);
                    }
                }
            }
        }
    }

    /// Paints `region` as a shaded solid: an ink outline, lighter at the top than at the
    /// bottom, a light rim along the top-left edges and a dark one along the bottom-right.
    fn solid(&mut self, region: &[Part], base: Rgb, finish: &Finish) {
        self.fill(&grow(region, finish.line), finish.ink);
        let (_, top, _, bottom) = bounds_of(region);
        self.paint(
            region,
            &[],
            &[],
            Ink::Vertical {
                top,
                from: shade(base, 0.18),
                bottom,
                to: shade(base, -0.14),
            },
            1.0,
        );
        let rim = finish.rim;
        self.paint(
            region,
            &[],
            &move_all(region, rim, rim),
            Ink::Flat(shade(base, 0.5)),
            0.7,
        );
        self.paint(
            region,
            &[],
            &move_all(region, -rim, -rim),
            Ink::Flat(shade(base, -0.3)),
            0.8,
        );
    }

    fn into_image(self) -> RgbaImage {
        self.image
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{self, per_mille_different, sample};
    use super::*;

    const SETS: [RobohashSet; 3] = [RobohashSet::Set1, RobohashSet::Set2, RobohashSet::Set3];

    #[test]
    fn set_names() {
        assert_eq!(RobohashSet::from_name("set1"), Some(RobohashSet::Set1));
        assert_eq!(RobohashSet::from_name("set2"), Some(RobohashSet::Set2));
        assert_eq!(RobohashSet::from_name("set3"), Some(RobohashSet::Set3));
        for other in ["", "set4", "SET1", "set", "any", " set1"] {
            assert_eq!(RobohashSet::from_name(other), None, "{other:?}");
        }
        assert_eq!(RobohashSet::default(), RobohashSet::Set1);
    }

    #[test]
    fn every_set_is_exactly_sized_and_opaque() {
        for set in SETS {
            let style = format!("{set:?}");
            testkit::assert_sized_and_opaque(&style, 0..1, |digest, size| {
                render(digest, size, set)
            });
        }
    }

    #[test]
    fn rendering_is_deterministic_and_works_for_sha256() {
        let long = Digest::sha256_of("alice@example.org");
        for set in SETS {
            assert_eq!(render(&sample(3), 64, set), render(&sample(3), 64, set));
            assert_eq!(render(&long, 48, set), render(&long, 48, set));
            assert_ne!(render(&long, 48, set), render(&sample(3), 48, set));
        }
    }

    #[test]
    fn twenty_digests_look_clearly_different_in_every_set() {
        for set in SETS {
            // More than 50‰ apart.
            testkit::assert_pairwise_apart(
                &format!("{set:?}"),
                |digest| render(digest, 64, set),
                51,
            );
        }
    }

    #[test]
    fn the_three_sets_look_different() {
        for n in 0..8 {
            let [one, two, three] = SETS.map(|set| render(&sample(n), 64, set));
            for (a, b) in [(&one, &two), (&one, &three), (&two, &three)] {
                let apart = per_mille_different(a, b);
                assert!(apart > 150, "digest {n}: sets only {apart}‰ apart");
            }
        }
    }

    #[test]
    fn golden_pictures_are_unchanged() {
        let changed: Vec<String> = SETS
            .into_iter()
            .zip(&GOLDEN)
            .flat_map(|(set, golden)| {
                let changed = testkit::changed_goldens(|digest| render(digest, 80, set), golden);
                changed
                    .into_iter()
                    .map(move |line| format!("{set:?} {line}"))
            })
            .collect();
        assert!(
            changed.is_empty(),
            "changed pictures:\n{}",
            changed.join("\n")
        );
    }

    /// SHA-256 of the raw RGBA bytes at 80 px for alice, bob and carol, a row for each of
    /// [`SETS`]; a change here means the drawing changed.
    const GOLDEN: [[&str; 3]; 3] = [
        [
            "c0b88c1f2967c14e80d1e896311d5ce0ec2872d97d35416c2278e17b86501efd",
            "b4c112384eb1ad98ef63046d5e01ddeeb76bda5ea8eb288b9d803c577b3ebae3",
            "6eed6ac52c25cdc490144ab53e59fa261ef0ce23f057116ef8b8f02eddb896a4",
        ],
        [
            "71091b60e07edac9e62c2f16ad0d72f9173fa3b511127d3cfb0557a4d9e4360d",
            "bdddbe96aade13a3ab50e0750fd816e8ec6215b9976b702d0f4af546f1b64416",
            "6bd950697fca3c6c5b104f8321309a86b44495dd9ee267e67a1836316b93f50c",
        ],
        [
            "7dd1ae99a9d57ac23d982dd6779da2fa353d247d9db3c5f1608d097b46ad6075",
            "b5c6cf678dca07601b2a7d76ca6ccf0d43b5bfa11cc4d0163c4ecb407e9b1a58",
            "f4e889cc0fe5570ca7cfd92bf1999bd31f9edbe04fbf4dbcee0ee38f0faedf61",
        ],
    ];

    /// Prints how long a picture takes (run with `--release --ignored --nocapture`).
    #[test]
    #[ignore]
    fn timing() {
        for (k, set) in SETS.into_iter().enumerate() {
            let style = format!("robohash{}", k + 1);
            testkit::print_timing(&style, &[(80, 200), (512, 10)], |digest, size| {
                render(digest, size, set)
            });
        }
    }

    /// Writes preview PNGs and contact sheets per set to `/tmp/cameo-preview` (see
    /// [`testkit::write_previews`]).
    #[test]
    #[ignore]
    fn write_previews() {
        for (k, set) in SETS.into_iter().enumerate() {
            let style = format!("robohash{}", k + 1);
            testkit::write_previews(&style, |digest, size| render(digest, size, set));
        }
    }
}
