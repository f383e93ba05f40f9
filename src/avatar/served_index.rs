//! Which photo every served digest shows, held in memory exactly, so that the hot path
//! answers hits and misses alike without asking the database.
//!
//! - One 20-byte entry per served digest: the digest's first 12 bytes (96 bits: no accidental
//!   clash among billions of digests, and no crafted one either, since finding a second
//!   digest with the same 96-bit prefix is a 2⁹⁶ search), the photo's id and when the photo
//!   became the address's (`Last-Modified`). The photo's version and format are kept once
//!   per photo. About 40 MB per million addresses (each answers to an MD5 and a SHA-256
//!   digest), plus a few bytes per distinct photo.
//! - Entries live in one sorted array (binary search, no per-entry allocation, no pointer
//!   chasing). The change feed updates an entry in place; a digest that is new since the
//!   array was built goes to a small side table, and a removed one is marked gone; both are
//!   folded into the array once they add up to a thirty-second of it.
//! - A row whose numbers do not fit (an id or a time past 2³²) is kept as "ask the
//!   database", never guessed.

use std::collections::{HashMap, HashSet};

use crate::identity::Digest;
use crate::imaging::PhotoFormat;
use crate::store::photos::PhotoRef;

const PREFIX_BYTES: usize = 12;
type Prefix = [u8; PREFIX_BYTES];

/// `photo` of an entry whose digest no longer serves anything.
const GONE: u32 = u32::MAX;
/// `photo` of an entry the database must answer (its numbers do not fit).
const ASK: u32 = u32::MAX - 1;
/// Side-table entries (new digests plus gone ones) that always wait for a merge.
const MIN_MERGE: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    prefix: Prefix,
    photo: u32,
    modified_at: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PhotoMeta {
    version: u32,
    format: PhotoFormat,
    /// A domain's default image (such a photo is never an address's own).
    domain_default: bool,
}

/// What memory knows of a digest.
#[derive(Debug, PartialEq, Eq)]
pub enum Known {
    Served(PhotoRef),
    NotServed,
    /// Served, but its numbers did not fit: ask the database.
    AskDatabase,
}

pub struct ServedIndex {
    /// Sorted by prefix, one entry per prefix.
    entries: Vec<Entry>,
    /// Digests first served since the array was built (none of them is in `entries`).
    added: HashMap<Prefix, Entry>,
    /// Entries of `entries` marked gone.
    gone: usize,
    photos: HashMap<u32, PhotoMeta>,
}

fn prefix_of(digest: &Digest) -> Prefix {
    let mut prefix = [0; PREFIX_BYTES];
    prefix.copy_from_slice(&digest.as_bytes()[..PREFIX_BYTES]);
    prefix
}

/// The entry and photo numbers of `photo`, or `ASK` when they do not fit in 32 bits.
fn compact(prefix: Prefix, photo: &PhotoRef) -> (Entry, Option<PhotoMeta>) {
    let fits = (
        u32::try_from(photo.id).ok().filter(|id| *id < ASK),
        u32::try_from(photo.modified_at).ok(),
        u32::try_from(photo.version).ok(),
    );
    match fits {
        (Some(id), Some(modified_at), Some(version)) => (
            Entry {
                prefix,
                photo: id,
                modified_at,
            },
            Some(PhotoMeta {
                version,
                format: photo.format,
                domain_default: photo.domain_default,
            }),
        ),
        _ => (
            Entry {
                prefix,
                photo: ASK,
                modified_at: 0,
            },
            None,
        ),
    }
}

/// Collects the served digests read at start, then sorts them once.
pub struct IndexBuilder {
    entries: Vec<Entry>,
    photos: HashMap<u32, PhotoMeta>,
}

impl IndexBuilder {
    /// Room for `expected` digests, so the array is allocated once.
    pub fn with_capacity(expected: usize) -> IndexBuilder {
        IndexBuilder {
            entries: Vec::with_capacity(expected),
            photos: HashMap::new(),
        }
    }

    /// Adds what `digest` serves through one address.
    pub fn push(&mut self, digest: &Digest, photo: &PhotoRef) {
        let (entry, meta) = compact(prefix_of(digest), photo);
        if let Some(meta) = meta {
            self.photos.insert(entry.photo, meta);
        }
        self.entries.push(entry);
    }

    /// The index, and the hex prefixes of digests that more than one address answers to
    /// (rare: OpenID variants): which of them wins is the database's to say, so the caller
    /// asks it and [`ServedIndex::set`]s the answer.
    pub fn finish(mut self) -> (ServedIndex, Vec<String>) {
        self.entries.sort_unstable_by_key(|entry| entry.prefix);
        let mut shared = Vec::new();
        self.entries.dedup_by(|later, kept| {
            let same = later.prefix == kept.prefix;
            if same && shared.last() != Some(&kept.prefix) {
                shared.push(kept.prefix);
            }
            same
        });
        self.entries.shrink_to_fit();
        let index = ServedIndex {
            entries: self.entries,
            added: HashMap::new(),
            gone: 0,
            photos: self.photos,
        };
        (index, shared.iter().map(hex::encode).collect())
    }
}

impl ServedIndex {
    /// What `digest` serves.
    pub fn answer(&self, digest: &Digest) -> Known {
        let prefix = prefix_of(digest);
        let entry = match self.position(&prefix) {
            Ok(at) => &self.entries[at],
            Err(_) => match self.added.get(&prefix) {
                Some(entry) => entry,
                None => return Known::NotServed,
            },
        };
        match entry.photo {
            GONE => Known::NotServed,
            ASK => Known::AskDatabase,
            id => match self.photos.get(&id) {
                Some(meta) => Known::Served(PhotoRef {
                    id: i64::from(id),
                    version: i64::from(meta.version),
                    format: meta.format,
                    modified_at: i64::from(entry.modified_at),
                    domain_default: meta.domain_default,
                }),
                None => Known::AskDatabase,
            },
        }
    }

    /// Records what `digest` serves now (`None`: nothing), as the change feed reported it.
    pub fn set(&mut self, digest: &Digest, served: Option<&PhotoRef>) {
        let prefix = prefix_of(digest);
        let entry = match served {
            Some(photo) => {
                let (entry, meta) = compact(prefix, photo);
                if let Some(meta) = meta {
                    self.photos.insert(entry.photo, meta);
                }
                entry
            }
            None => Entry {
                prefix,
                photo: GONE,
                modified_at: 0,
            },
        };
        match self.position(&prefix) {
            Ok(at) => {
                let was_gone = self.entries[at].photo == GONE;
                let is_gone = entry.photo == GONE;
                self.entries[at] = entry;
                match (was_gone, is_gone) {
                    (false, true) => self.gone += 1,
                    (true, false) => self.gone -= 1,
                    _ => {}
                }
            }
            Err(_) if entry.photo == GONE => {
                self.added.remove(&prefix);
            }
            Err(_) => {
                self.added.insert(prefix, entry);
            }
        }
    }

    /// Whether the side table and the gone entries are worth folding into the array.
    pub fn wants_merge(&self) -> bool {
        self.added.len() + self.gone > MIN_MERGE.max(self.entries.len() / 32)
    }

    /// Folds new digests into the sorted array, drops gone ones and photos no digest
    /// shows any more. In place: the array grows by the new digests only.
    pub fn merge(&mut self) {
        self.entries.retain(|entry| entry.photo != GONE);
        self.gone = 0;
        let mut new: Vec<Entry> = self.added.drain().map(|(_, entry)| entry).collect();
        new.sort_unstable_by_key(|entry| entry.prefix);
        merge_sorted_into(&mut self.entries, new);
        self.added.shrink_to_fit();
        let shown: HashSet<u32> = self.entries.iter().map(|entry| entry.photo).collect();
        self.photos.retain(|id, _| shown.contains(id));
        self.photos.shrink_to_fit();
    }

    /// Digests that serve a photo.
    pub fn served(&self) -> usize {
        self.entries.len() - self.gone + self.added.len()
    }

    /// Bytes held: the index itself, the array, the side table and the photo table (their
    /// allocations, with hashbrown's control byte per slot).
    pub fn byte_size(&self) -> usize {
        let entry = std::mem::size_of::<Entry>();
        std::mem::size_of::<Self>()
            + self.entries.capacity() * entry
            + self.added.capacity() * (std::mem::size_of::<(Prefix, Entry)>() + 1)
            + self.photos.capacity() * (std::mem::size_of::<(u32, PhotoMeta)>() + 1)
    }

    fn position(&self, prefix: &Prefix) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|entry| entry.prefix.cmp(prefix))
    }
}

/// Merges sorted `new` (no prefix of which is in `entries`) into sorted `entries`, from the
/// back, so nothing is moved twice and no second array is needed.
fn merge_sorted_into(entries: &mut Vec<Entry>, new: Vec<Entry>) {
    if new.is_empty() {
        return;
    }
    let old_len = entries.len();
    entries.reserve_exact(new.len());
    let filler = new[0];
    entries.resize(old_len + new.len(), filler);
    let (mut old, mut added, mut write) = (old_len, new.len(), entries.len());
    while added > 0 {
        write -= 1;
        if old > 0 && entries[old - 1].prefix > new[added - 1].prefix {
            old -= 1;
            entries[write] = entries[old];
        } else {
            added -= 1;
            entries[write] = new[added];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u32) -> Digest {
        if n.is_multiple_of(2) {
            Digest::md5_of(&format!("user{n}@example.org"))
        } else {
            Digest::sha256_of(&format!("user{n}@example.org"))
        }
    }

    fn photo(id: i64) -> PhotoRef {
        PhotoRef {
            id,
            version: id % 7,
            format: PhotoFormat::Jpeg,
            modified_at: 1_700_000_000 + id,
            domain_default: id % 5 == 0,
        }
    }

    fn built(count: u32) -> ServedIndex {
        let mut builder = IndexBuilder::with_capacity(count as usize);
        for n in 0..count {
            builder.push(&digest(n), &photo(i64::from(n % 100)));
        }
        let (index, shared) = builder.finish();
        assert!(shared.is_empty());
        index
    }

    #[test]
    fn every_built_digest_answers_its_photo_and_strangers_answer_nothing() {
        let index = built(10_000);
        for n in 0..10_000 {
            assert_eq!(
                index.answer(&digest(n)),
                Known::Served(photo(i64::from(n % 100)))
            );
        }
        assert!((10_000..20_000).all(|n| index.answer(&digest(n)) == Known::NotServed));
        assert_eq!(index.served(), 10_000);
    }

    #[test]
    fn a_digest_of_several_addresses_is_kept_once_and_named_for_the_database() {
        let mut builder = IndexBuilder::with_capacity(4);
        builder.push(&digest(1), &photo(5));
        builder.push(&digest(2), &photo(5));
        builder.push(&digest(1), &photo(6));
        builder.push(&digest(1), &photo(7));
        let (index, shared) = builder.finish();
        assert_eq!(index.served(), 2);
        assert_eq!(shared, vec![digest(1).to_hex()[..24].to_string()]);
        assert!(matches!(index.answer(&digest(1)), Known::Served(_)));
    }

    #[test]
    fn changes_are_answered_at_once_and_survive_a_merge() {
        let mut index = built(1_000);
        index.set(&digest(3), Some(&photo(42)));
        index.set(&digest(4), None);
        index.set(&digest(5_000), Some(&photo(7)));
        index.set(&digest(5_001), Some(&photo(8)));
        index.set(&digest(5_001), None);
        let check = |index: &ServedIndex| {
            assert_eq!(index.answer(&digest(3)), Known::Served(photo(42)));
            assert_eq!(index.answer(&digest(4)), Known::NotServed);
            assert_eq!(index.answer(&digest(5_000)), Known::Served(photo(7)));
            assert_eq!(index.answer(&digest(5_001)), Known::NotServed);
            assert_eq!(index.answer(&digest(6)), Known::Served(photo(6)));
            assert_eq!(index.served(), 1_000);
        };
        check(&index);
        index.merge();
        check(&index);
        assert!(index.entries.is_sorted_by_key(|entry| entry.prefix));
        index.set(&digest(4), Some(&photo(9)));
        assert_eq!(index.answer(&digest(4)), Known::Served(photo(9)));
    }

    #[test]
    fn many_new_digests_ask_for_a_merge_and_stay_sorted_after_it() {
        let mut index = built(100);
        for n in 100..5_000 {
            index.set(&digest(n), Some(&photo(1)));
        }
        assert!(index.wants_merge());
        index.merge();
        assert!(!index.wants_merge());
        assert!(index.entries.is_sorted_by_key(|entry| entry.prefix));
        assert_eq!(index.entries.len(), 5_000);
        assert!((0..5_000).all(|n| matches!(index.answer(&digest(n)), Known::Served(_))));
    }

    #[test]
    fn numbers_that_do_not_fit_send_the_reader_to_the_database() {
        let mut index = built(10);
        index.set(&digest(1), Some(&photo(i64::from(u32::MAX) + 5)));
        let mut late = photo(3);
        late.modified_at = i64::from(u32::MAX) + 1;
        index.set(&digest(2), Some(&late));
        assert_eq!(index.answer(&digest(1)), Known::AskDatabase);
        assert_eq!(index.answer(&digest(2)), Known::AskDatabase);
    }

    #[test]
    fn a_photo_no_digest_shows_is_dropped_at_the_merge() {
        let mut index = built(4);
        index.set(&digest(0), Some(&photo(77)));
        index.set(&digest(0), Some(&photo(0)));
        assert!(index.photos.contains_key(&77));
        index.merge();
        assert!(!index.photos.contains_key(&77));
    }

    #[test]
    fn an_entry_is_twenty_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 20);
        let index = built(100_000);
        assert!(
            index.byte_size() < 100_000 * 20 + 16 * 1024,
            "{}",
            index.byte_size()
        );
    }
}
