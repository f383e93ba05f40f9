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
    use super::super::testkit::{fingerprint, sample};
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
        for size in [1, 2, 3, 7, 16, 80, 127, 512] {
            let image = render(&sample(0), size);
            assert_eq!(image.dimensions(), (size, size));
            assert!(image.pixels().all(|p| p[3] == 255), "{size}");
        }
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
        let pictures: Vec<RgbaImage> = (0..20).map(|n| render(&sample(n), 64)).collect();
        for (i, a) in pictures.iter().enumerate() {
            for (j, b) in pictures.iter().enumerate().skip(i + 1) {
                let different = a
                    .pixels()
                    .zip(b.pixels())
                    .filter(|(p, q)| (0..3).any(|c| p[c].abs_diff(q[c]) > 40))
                    .count();
                let apart = different * 1000 / a.pixels().len();
                assert!(apart > 50, "digests {i} and {j} only {apart}‰ apart");
            }
        }
    }

    #[test]
    fn golden_pictures_are_unchanged() {
        // SHA-256 of the raw RGBA at 80 px; a change here means the drawing changed.
        let golden = [
            (
                "alice@example.org",
                "267339db591c2db52d723eaaaa0a0262c2c5df5e8763389457107dd55357d045",
            ),
            (
                "bob@example.org",
                "fe63ffc2b70b1ae9966c8801104f7868a7f2fe282b7e873f668249449122ebf4",
            ),
            (
                "carol@example.org",
                "b591a221c17930a18764b8429ded7e9e76cde7ad423b739767027f199cb32b9c",
            ),
        ];
        let mut wrong = Vec::new();
        for (email, expected) in golden {
            let image = render(&Digest::md5_of(email), 80);
            let actual = fingerprint(&image);
            if actual != expected {
                wrong.push(format!("{email}: {actual}"));
            }
        }
        assert!(wrong.is_empty(), "changed pictures:\n{}", wrong.join("\n"));
    }

    /// Prints how long a picture takes: `cargo test --release --lib defaults::pagan --
    /// --ignored --nocapture`.
    #[test]
    #[ignore]
    fn timing() {
        for (size, rounds) in [(80, 2000u32), (512, 100)] {
            let start = std::time::Instant::now();
            for n in 0..rounds {
                std::hint::black_box(render(&sample(n), size));
            }
            println!(
                "pagan at {size} px: {:?} a picture",
                start.elapsed() / rounds
            );
        }
    }

    /// Writes PNGs of eight digests at 16, 80 and 512 px to /tmp/cameo-preview, with contact
    /// sheets: `pagan-sheet.png` (80 px, and the first eight at 16 px enlarged in the second row)
    /// and
    /// `pagan-sheet-large.png` (256 px).
    #[test]
    #[ignore]
    fn write_previews() {
        let dir = std::path::Path::new("/tmp/cameo-preview");
        std::fs::create_dir_all(dir).unwrap();
        let white = Rgba([255, 255, 255, 255]);
        let mut sheet = RgbaImage::from_pixel(8 * 84 + 4, 5 * 84 + 4, white);
        let mut large = RgbaImage::from_pixel(4 * 260 + 4, 2 * 260 + 4, white);
        for n in 0..8 {
            for size in [16, 80, 512] {
                let image = render(&sample(n), size);
                image
                    .save(dir.join(format!("pagan-{n}-{size}.png")))
                    .unwrap();
            }
            let x = i64::from(4 + n * 84);
            image::imageops::overlay(&mut sheet, &render(&sample(n), 80), x, 4);
            let small = render(&sample(n), 16);
            let big = image::imageops::resize(&small, 80, 80, image::imageops::FilterType::Nearest);
            image::imageops::overlay(&mut sheet, &big, x, 88);
            let (x, y) = (4 + (n % 4) * 260, 4 + (n / 4) * 260);
            image::imageops::overlay(&mut large, &render(&sample(n), 256), x.into(), y.into());
        }
        for n in 8..32 {
            let (x, y) = (4 + (n % 8) * 84, 4 + (n / 8 + 1) * 84);
            image::imageops::overlay(&mut sheet, &render(&sample(n), 80), x.into(), y.into());
        }
        sheet.save(dir.join("pagan-sheet.png")).unwrap();
        large.save(dir.join("pagan-sheet-large.png")).unwrap();
    }
}
