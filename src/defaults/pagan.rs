//! The `pagan` style: a little pixel-art fantasy figure, a warrior or a mage holding a weapon
//! in one hand and a shield in the other, on a plain background.
//!
//! The figure is a 16×16 grid of cells stacked from layers, each a picture of letters, one
//! letter per palette slot: the body (head, eyes, hands), the clothes (tunic, plate, robe,
//! mail under a tabard, or a jerkin with a cape), the headgear (knight's helm, hood with
//! glowing eyes, plumed helm, horned helm, wizard's hat, crown, short or long hair), perhaps a
//! beard, the shield on the left arm (round, kite or tower, charged with a boss, a cross, a
//! split field, a band or nothing) and the weapon in the right hand (sword, axe, staff with an
//! orb, spear, mace or hammer).
//!
//! A [`Seed`] salted `pagan` makes every choice, in this order: the background hue, tint and
//! lightness; the cloth hue; skin, hair, cloth, cape, legs, metal, shield field and emblem,
//! orb and plume colours; then clothes, headgear, beard, weapon, shield and emblem. Filled
//! cells get a darker edge on the right and a lighter one on the top and left, every empty
//! cell touching the figure becomes the outline, as in hand-made sprites, and a strip of
//! darker ground lies under the feet.
//!
//! Output pixels map to cells by integer arithmetic (cell = pixel × 16 / size), so every size
//! is made of crisp blocks that differ by at most one pixel; below 16 px neighbouring cells
//! merge and each pixel shows its nearest cell.

use image::{Rgba, RgbaImage};

use super::color::hsl;
use super::paint::{Rgb, Seed, shade};
use crate::identity::Digest;

/// Cells per side.
const GRID: usize = 16;

type Layer = [&'static str; GRID];

/// The head, the eyes and the two hands.
const BODY: Layer = [
    "................",
    "................",
    "................",
    ".....ssssss.....",
    ".....ssssss.....",
    ".....sesses.....",
    ".....ssssss.....",
    "......ssss......",
    "................",
    "..s..........s..",
    "................",
    "................",
    "................",
    "................",
    "................",
    "................",
];

const CLOTHES: [Layer; 5] = [
    // A tunic.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "....aaaaaaaa....",
        "...aaaaaaaaaa...",
        ".....aaaaaa.....",
        ".....bbBbbb.....",
        ".....llllll.....",
        ".....ll..ll.....",
        "....fff..fff....",
        "................",
    ],
    // Plate armour over a tunic.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "....mmaaaamm....",
        "...ammmmmmmma...",
        ".....mmmmmm.....",
        ".....bbBbbb.....",
        ".....llllll.....",
        ".....mm..mm.....",
        "....fff..fff....",
        "................",
    ],
    // A robe with a sash.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "....aaaaaaaa....",
        "...aaaaggaaaa...",
        ".....aaggaa.....",
        ".....bbbbbb.....",
        ".....aaaaaa.....",
        "....aaaaaaaa....",
        "....aaaaaaaa....",
        "................",
    ],
    // Mail under a tabard.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "....mmaaaamm....",
        "...mnmaaaamnm...",
        ".....maaaam.....",
        ".....bbBbbb.....",
        ".....laaaal.....",
        ".....ll..ll.....",
        "....fff..fff....",
        "................",
    ],
    // A jerkin with a collar and a cape behind the legs.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "....ccaaaacc....",
        "...aaaaaaaaaa...",
        "....caaaaaac....",
        "....cbbBbbbc....",
        "....clllllc.....",
        "....cll..llc....",
        "....fff..fff....",
        "................",
    ],
];

/// What goes on the head; the first two cover the face, so no beard goes with them.
const HEADGEAR: [Layer; 8] = [
    // A knight's great helm with a visor slit.
    [
        "................",
        "......mmmm......",
        ".....mmmmmm.....",
        ".....mmmmmm.....",
        ".....mmmmmm.....",
        ".....mxxxxm.....",
        ".....mmmmmm.....",
        "......mmmm......",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
    // A hood that shades the face.
    [
        "................",
        "................",
        "......cccc......",
        ".....cccccc.....",
        "....cccccccc....",
        "....ccoxxocc....",
        "....ccxxxxcc....",
        "....ccxxxxcc....",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
    // A helm with a plume.
    [
        "......RR........",
        ".....RR.........",
        ".....Rmmmm......",
        ".....mmmmmm.....",
        ".....mmmmmm.....",
        ".....m....m.....",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
    // A horned helm.
    [
        "................",
        "....i......i....",
        "....i.mmmm.i....",
        ".....immmmi.....",
        ".....mmmmmm.....",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
    // A wizard's hat.
    [
        ".........c......",
        "........cc......",
        ".......ccc......",
        "......ccccc.....",
        "....cccgcccc....",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
    // A crown on short hair.
    [
        "................",
        "................",
        ".....g.gg.g.....",
        ".....gggggg.....",
        ".....hhhhhh.....",
        ".....h....h.....",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
    // Short hair.
    [
        "................",
        "................",
        "......hhhh......",
        ".....hhhhhh.....",
        ".....hhhhhh.....",
        ".....h....h.....",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
    // Long hair.
    [
        "................",
        "................",
        "......hhhh......",
        ".....hhhhhh.....",
        "....hhhhhhhh....",
        "....hh....hh....",
        "....hh....hh....",
        "....h......h....",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
];

/// Headgear that hides the chin.
const FACE_COVERED: usize = 2;

const BEARDS: [Layer; 2] = [
    // A short beard in the hair colour.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        ".....h....h.....",
        ".....hhhhhh.....",
        "......hhhh......",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
    // A long white beard.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        ".....d....d.....",
        ".....dddddd.....",
        "......dddd......",
        ".......dd.......",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
];

/// Weapons, held in the right hand (on the viewer's right, at column 13, row 9).
const WEAPONS: [Layer; 6] = [
    // A sword.
    [
        "................",
        ".............w..",
        ".............w..",
        ".............w..",
        ".............w..",
        ".............w..",
        ".............w..",
        ".............w..",
        "............ggg.",
        "................",
        ".............k..",
        ".............g..",
        "................",
        "................",
        "................",
        "................",
    ],
    // A double-bitted axe.
    [
        "................",
        ".............k..",
        "............wkw.",
        "...........wwkww",
        "...........wwkww",
        "............wkw.",
        ".............k..",
        ".............k..",
        ".............k..",
        "................",
        ".............k..",
        ".............k..",
        ".............k..",
        "................",
        "................",
        "................",
    ],
    // A staff with an orb.
    [
        "................",
        "............oo..",
        "............oo..",
        "............gk..",
        ".............k..",
        ".............k..",
        ".............k..",
        ".............k..",
        ".............k..",
        "................",
        ".............k..",
        ".............k..",
        ".............k..",
        ".............k..",
        "................",
        "................",
    ],
    // A spear.
    [
        ".............w..",
        "............www.",
        "............www.",
        ".............w..",
        "............gkg.",
        ".............k..",
        ".............k..",
        ".............k..",
        ".............k..",
        "................",
        ".............k..",
        ".............k..",
        ".............k..",
        ".............k..",
        "................",
        "................",
    ],
    // A flanged mace.
    [
        "................",
        ".............w..",
        "............www.",
        "...........wwwww",
        "............www.",
        ".............w..",
        ".............k..",
        ".............k..",
        ".............k..",
        "................",
        ".............k..",
        ".............g..",
        "................",
        "................",
        "................",
        "................",
    ],
    // A war hammer.
    [
        "................",
        "................",
        "...........wwww.",
        "...........wwww.",
        ".............k..",
        ".............k..",
        ".............k..",
        ".............k..",
        ".............k..",
        "................",
        ".............k..",
        ".............k..",
        ".............g..",
        "................",
        "................",
        "................",
    ],
];

/// Shield shapes, on the left arm: `p` is the field, `r` the rim.
const SHIELDS: [Layer; 3] = [
    // Round.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "..rr............",
        ".rppr...........",
        "rppppr..........",
        "rppppr..........",
        ".rppr...........",
        "..rr............",
        "................",
        "................",
        "................",
    ],
    // Kite.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        ".rrrr...........",
        ".pppp...........",
        ".pppp...........",
        ".pppp...........",
        "..pp............",
        "..pp............",
        "................",
        "................",
        "................",
    ],
    // Tower.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        ".rrrr...........",
        ".pppp...........",
        ".pppp...........",
        ".pppp...........",
        ".pppp...........",
        ".pppp...........",
        ".rrrr...........",
        "................",
        "................",
        "................",
    ],
];

/// Charges on a shield: `q` cells take the emblem colour where the shield's field is.
const EMBLEMS: [Layer; 4] = [
    // A boss.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "..qq............",
        "..qq............",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
    // A cross.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "..q.............",
        "..q.............",
        "qqqqqq..........",
        "..q.............",
        "..q.............",
        "..q.............",
        "................",
        "................",
        "................",
    ],
    // A field split down the middle.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "...qqq..........",
        "...qqq..........",
        "...qqq..........",
        "...qqq..........",
        "...qqq..........",
        "...qqq..........",
        "...qqq..........",
        "................",
        "................",
        "................",
    ],
    // A band across.
    [
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
        "qqqqqq..........",
        "................",
        "................",
        "................",
        "................",
        "................",
        "................",
    ],
];

const SKINS: [Rgb; 6] = [
    [255, 219, 172],
    [241, 194, 150],
    [224, 172, 120],
    [198, 134, 90],
    [160, 102, 66],
    [120, 76, 50],
];

const HAIR: [Rgb; 7] = [
    [58, 38, 24],
    [120, 72, 36],
    [222, 182, 94],
    [176, 64, 30],
    [38, 36, 44],
    [205, 205, 212],
    [240, 220, 160],
];

const METALS: [Rgb; 4] = [
    [192, 200, 214],
    [205, 138, 72],
    [228, 190, 72],
    [118, 124, 140],
];

/// Orb and plume hues.
const MAGIC_HUES: [u32; 6] = [190, 300, 50, 120, 0, 265];

/// The colours the letters of the layers stand for.
struct Palette {
    skin: Rgb,
    hair: Rgb,
    cloth: Rgb,
    cape: Rgb,
    legs: Rgb,
    metal: Rgb,
    field: Rgb,
    emblem: Rgb,
    rim: Rgb,
    magic: Rgb,
    plume: Rgb,
}

impl Palette {
    fn of(&self, letter: u8) -> Option<Rgb> {
        Some(match letter {
            b's' => self.skin,
            b'e' => [30, 24, 36],
            b'x' => [24, 22, 32],
            b'h' => self.hair,
            b'd' => [236, 236, 242],
            b'a' => self.cloth,
            b'c' => self.cape,
            b'l' => self.legs,
            b'b' => [104, 66, 36],
            b'B' | b'g' => [238, 192, 64],
            b'f' => [78, 50, 32],
            b'm' => self.metal,
            b'w' => [218, 226, 238],
            b'k' => [132, 86, 46],
            b'i' => [242, 232, 206],
            b'o' => self.magic,
            b'r' => self.rim,
            b'p' => self.field,
            b'q' => self.emblem,
            b'R' => self.plume,
            b'n' => shade(self.metal, -0.35),
            _ => return None,
        })
    }
}

/// A `size`×`size` opaque pagan picture for `digest`.
pub fn render(digest: &Digest, size: u32) -> RgbaImage {
    let mut seed = Seed::new(digest, "pagan");
    let background_hue = seed.below(360);
    let background = colour(background_hue, 38 + seed.below(20), 76 + seed.below(8));
    let ink = colour(background_hue, 35, 15);
    let cloth_hue = seed.below(360);
    let field_hue = cloth_hue + 90 + seed.below(180);
    let palette = Palette {
        skin: *seed.pick(&SKINS),
        hair: *seed.pick(&HAIR),
        cloth: colour(cloth_hue, 50 + seed.below(25), 40 + seed.below(12)),
        cape: colour(cloth_hue + 150 + seed.below(60), 45, 38),
        legs: colour(cloth_hue + 20, 22, 28 + seed.below(10)),
        metal: *seed.pick(&METALS),
        field: colour(field_hue, 60 + seed.below(20), 42 + seed.below(10)),
        emblem: if seed.chance(50) {
            [240, 216, 112]
        } else {
            [240, 240, 236]
        },
        rim: [150, 156, 170],
        magic: colour(*seed.pick(&MAGIC_HUES), 95, 62),
        plume: colour(*seed.pick(&MAGIC_HUES), 75, 50),
    };

    let clothes = seed.below(CLOTHES.len() as u32) as usize;
    let headgear = seed.below(HEADGEAR.len() as u32) as usize;
    let beard = seed.below(4) as usize;
    let weapon = seed.below(WEAPONS.len() as u32) as usize;
    let shield = seed.below(SHIELDS.len() as u32) as usize;
    let emblem = seed.below(EMBLEMS.len() as u32 + 1) as usize;

    let mut cells = [[b'.'; GRID]; GRID];
    let mut stamp = |layer: &Layer, only_on: Option<u8>| {
        for (row, line) in layer.iter().enumerate() {
            for (column, &letter) in line.as_bytes().iter().enumerate() {
                let cell = &mut cells[row][column];
                if letter != b'.' && only_on.is_none_or(|under| *cell == under) {
                    *cell = letter;
                }
            }
        }
    };
    stamp(&BODY, None);
    stamp(&CLOTHES[clothes], None);
    stamp(&HEADGEAR[headgear], None);
    if headgear >= FACE_COVERED && beard < BEARDS.len() {
        stamp(&BEARDS[beard], None);
    }
    stamp(&SHIELDS[shield], None);
    if let Some(emblem) = EMBLEMS.get(emblem) {
        stamp(emblem, Some(b'p'));
    }
    stamp(&WEAPONS[weapon], None);

    // Colour each cell: the figure shaded at its edges, its outline, a shadow on the ground,
    // the background.
    let ground = shade(background, -0.12);
    let letter = |row: usize, column: usize| cells[row][column];
    let same = |row: usize, column: usize, dr: isize, dc: isize| {
        let (r, c) = (row as isize + dr, column as isize + dc);
        (0..GRID as isize).contains(&r)
            && (0..GRID as isize).contains(&c)
            && cells[r as usize][c as usize] == cells[row][column]
    };
    let filled = |row: isize, column: isize| {
        (0..GRID as isize).contains(&row)
            && (0..GRID as isize).contains(&column)
            && cells[row as usize][column as usize] != b'.'
    };
    let mut colours = [[background; GRID]; GRID];
    for (row, line) in colours.iter_mut().enumerate() {
        for (column, out) in line.iter_mut().enumerate() {
            let here = letter(row, column);
            *out = match palette.of(here) {
                Some(base) if matches!(here, b'e' | b'x') => base,
                Some(base) => {
                    let (r, c) = (row as isize, column as isize);
                    if !filled(r, c + 1) && same(row, column, 0, -1) {
                        shade(base, -0.22)
                    } else if !filled(r - 1, c) || !filled(r, c - 1) && same(row, column, 0, 1) {
                        shade(base, 0.22)
                    } else {
                        base
                    }
                }
                None => {
                    let (r, c) = (row as isize, column as isize);
                    if [(0, 1), (0, -1), (1, 0), (-1, 0)]
                        .iter()
                        .any(|(dr, dc)| filled(r + dr, c + dc))
                    {
                        ink
                    } else if row == GRID - 1 && (3..13).contains(&column) {
                        ground
                    } else {
                        background
                    }
                }
            };
        }
    }

    let cell_of = |v: u32| (u64::from(v) * GRID as u64 / u64::from(size.max(1))) as usize;
    RgbaImage::from_fn(size, size, |x, y| {
        let [r, g, b] = colours[cell_of(y).min(GRID - 1)][cell_of(x).min(GRID - 1)];
        Rgba([r, g, b, 255])
    })
}

fn colour(hue: u32, saturation: u32, lightness: u32) -> Rgb {
    let Rgba([r, g, b, _]) = hsl(hue % 360, saturation, lightness);
    [r, g, b]
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{self, sample};
    use super::*;

    #[test]
    fn layers_are_sixteen_by_sixteen_and_use_known_letters() {
        let palette = Palette {
            skin: [0; 3],
            hair: [0; 3],
            cloth: [0; 3],
            cape: [0; 3],
            legs: [0; 3],
            metal: [0; 3],
            field: [0; 3],
            emblem: [0; 3],
            rim: [0; 3],
            magic: [0; 3],
            plume: [0; 3],
        };
        let layers = [&BODY]
            .into_iter()
            .chain(&CLOTHES)
            .chain(&HEADGEAR)
            .chain(&BEARDS)
            .chain(&WEAPONS)
            .chain(&SHIELDS)
            .chain(&EMBLEMS);
        for layer in layers {
            for line in layer {
                assert_eq!(line.len(), GRID, "{line}");
                for letter in line.bytes().filter(|&l| l != b'.') {
                    assert!(palette.of(letter).is_some(), "{}", letter as char);
                }
            }
        }
    }

    #[test]
    fn is_exactly_sized_and_opaque() {
        testkit::assert_sized_and_opaque("pagan", 0..1, render);
    }

    #[test]
    fn cells_are_crisp_blocks() {
        // 80 px: 5 px cells, each one colour, and 16 px: one pixel a cell.
        let image = render(&sample(1), 80);
        for row in 0..16 {
            for column in 0..16 {
                let first = image.get_pixel(column * 5, row * 5);
                for (dx, dy) in [(4, 0), (0, 4), (4, 4), (2, 3)] {
                    assert_eq!(image.get_pixel(column * 5 + dx, row * 5 + dy), first);
                }
            }
        }
        let small = render(&sample(1), 16);
        for (x, y, pixel) in small.enumerate_pixels() {
            assert_eq!(pixel, image.get_pixel(x * 5 + 2, y * 5 + 2));
        }
    }

    #[test]
    fn is_deterministic_and_works_for_sha256() {
        assert_eq!(render(&sample(2), 64), render(&sample(2), 64));
        let long = Digest::sha256_of("alice@example.org");
        assert_eq!(render(&long, 64), render(&long, 64));
        assert_ne!(render(&long, 64), render(&sample(2), 64));
    }

    #[test]
    fn twenty_digests_look_clearly_different() {
        // Colour only, 40 of tolerance; more than 50‰ apart.
        let apart = |a: &RgbaImage, b: &RgbaImage| testkit::per_mille_beyond(a, b, 3, 40);
        testkit::assert_pairwise_apart_by("pagan", |digest| render(digest, 64), apart, 51);
    }

    #[test]
    fn golden_pictures_are_unchanged() {
        testkit::assert_golden(|digest| render(digest, 80), &GOLDEN);
    }

    /// SHA-256 of the raw RGBA bytes at 80 px for alice, bob and carol.
    const GOLDEN: [&str; 3] = [
        "267339db591c2db52d723eaaaa0a0262c2c5df5e8763389457107dd55357d045",
        "fe63ffc2b70b1ae9966c8801104f7868a7f2fe282b7e873f668249449122ebf4",
        "b591a221c17930a18764b8429ded7e9e76cde7ad423b739767027f199cb32b9c",
    ];

    /// Prints how long a picture takes (run with `--release --ignored --nocapture`).
    #[test]
    #[ignore]
    fn timing() {
        testkit::print_timing("pagan", &[(80, 2000), (512, 100)], render);
    }

    /// Writes preview PNGs and contact sheets to `/tmp/cameo-preview` (see
    /// [`testkit::write_previews`]).
    #[test]
    #[ignore]
    fn write_previews() {
        testkit::write_previews("pagan", render);
    }
}
