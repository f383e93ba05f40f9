//! Reading a file to import: telling a Cameo export from an ivatar one by its first bytes
//! ([`sniff`]), refusing more than [`MAX_IMPORT_BYTES`] (on disk and once unzipped), and
//! parsing it as a stream on a blocking thread that hands each account over a channel as soon
//! as it is read.
//!
//! A Cameo document's `format` and `version` are checked before anything in it is sent on;
//! when a tool sorted the keys so the data comes first, the data is held back until the
//! labels are read, so nothing of an unknown document is ever imported.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserializer;
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use tokio::sync::mpsc;

use super::ExportError;
use super::format::{Account, FORMAT, Holdings, VERSION};
use crate::imaging::IntakeLimits;
use crate::operator::ivatar_xml;

/// Larger inputs are refused before anything is read (and a gzip stream may not unpack past it).
pub const MAX_IMPORT_BYTES: u64 = 2 << 30;

/// What a file to import is, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Json,
    Xml,
    GzipXml,
}

/// JSON starts with `{`, XML with `<`, gzip with 1f 8b (after an optional BOM and spaces).
pub fn sniff(head: &[u8]) -> Option<Source> {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some(Source::GzipXml);
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Some(Source::Json),
        Some(b'<') => Some(Source::Xml),
        _ => None,
    }
}

/// A reader that fails, rather than stops, once more than `left` bytes came through, so a
/// gzip bomb or a file growing while read is refused instead of imported in part.
pub(super) struct Bounded<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the input is larger than {MAX_IMPORT_BYTES} bytes"),
            )
        })?;
        Ok(n)
    }
}

/// What the parser hands over, one at a time.
pub(super) enum Item {
    Account(Box<Account>),
    Operator(Holdings),
}

/// The file to import, opened and bounded, with its first bytes read to tell what it is.
pub(super) type Input = BufReader<Bounded<File>>;

/// Opens `path` (`shown` in messages), refusing a file too large or of no known kind.
pub(super) fn open(path: &Path, shown: &str) -> Result<(Source, Input), ExportError> {
    let read_error = |e: std::io::Error| ExportError::Read {
        path: shown.to_string(),
        reason: e.to_string(),
    };
    let file = File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > MAX_IMPORT_BYTES {
        return Err(ExportError::Read {
            path: shown.to_string(),
            reason: format!("it is {size} bytes; at most {MAX_IMPORT_BYTES} are imported"),
        });
    }
    let mut input = BufReader::new(Bounded {
        inner: file,
        left: MAX_IMPORT_BYTES,
    });
    let source =
        sniff(input.fill_buf().map_err(read_error)?).ok_or_else(|| ExportError::Format {
            path: shown.to_string(),
            reason: "neither a Cameo export (JSON) nor a Libravatar export (XML, gzipped or not)"
                .into(),
        })?;
    Ok((source, input))
}

/// Parses `input` as `source` says, sending each item on; blocks, so it runs on a blocking
/// thread. The error is the reason, for the caller to put the file's name to.
pub(super) fn parse(
    source: Source,
    input: Input,
    limits: IntakeLimits,
    sender: mpsc::Sender<Item>,
) -> Result<(), String> {
    // Base64 is 4/3 of the bytes; a little room for line breaks and the b'' wrapping.
    let max_text = usize::try_from(limits.max_bytes / 3 * 4 + 4096).unwrap_or(usize::MAX);
    match source {
        Source::Json => parse_json(input, sender),
        Source::Xml => parse_ivatar(input, max_text, sender),
        Source::GzipXml => {
            let unzipped = Bounded {
                inner: flate2::read::MultiGzDecoder::new(input),
                left: MAX_IMPORT_BYTES,
            };
            parse_ivatar(BufReader::new(unzipped), max_text, sender)
        }
    }
}

fn parse_ivatar(
    input: impl BufRead,
    max_text: usize,
    sender: mpsc::Sender<Item>,
) -> Result<(), String> {
    let account = ivatar_xml::into_account(ivatar_xml::parse(input, max_text)?)?;
    sender
        .blocking_send(Item::Account(Box::new(account)))
        .map_err(|_| "the import stopped".to_string())
}

/// Parses the JSON document as a stream, sending each account on as soon as it is read.
fn parse_json(input: impl Read, sender: mpsc::Sender<Item>) -> Result<(), String> {
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    deserializer
        .deserialize_map(DocumentVisitor { sender: &sender })
        .and_then(|()| deserializer.end())
        .map_err(|e| e.to_string())
}

struct DocumentVisitor<'a> {
    sender: &'a mpsc::Sender<Item>,
}

impl<'de> Visitor<'de> for DocumentVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {FORMAT} document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut format_seen = false;
        let mut version_seen = false;
        let mut held = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    let format: String = map.next_value()?;
                    if format != FORMAT {
                        return Err(A::Error::custom(format!(
                            "\"format\" is {format:?}, not {FORMAT:?}"
                        )));
                    }
                    format_seen = true;
                }
                "version" => {
                    let version: u64 = map.next_value()?;
                    if version != u64::from(VERSION) {
                        return Err(A::Error::custom(format!(
                            "this is version {version} of the format; this cameo reads version {VERSION}"
                        )));
                    }
                    version_seen = true;
                }
                // Data before the labels (a tool that sorts keys): held back until the
                // labels are checked, so nothing of an unknown document is imported.
                "accounts" if !(format_seen && version_seen) => {
                    let accounts: Vec<Account> = map.next_value()?;
                    held.extend(accounts.into_iter().map(|a| Item::Account(Box::new(a))));
                }
                "operator" if !(format_seen && version_seen) => {
                    held.push(Item::Operator(map.next_value()?));
                }
                "accounts" => map.next_value_seed(AccountsSeed {
                    sender: self.sender,
                })?,
                "operator" => {
                    let holdings: Holdings = map.next_value()?;
                    send(self.sender, Item::Operator(holdings))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !format_seen || !version_seen {
            return Err(A::Error::custom(format!(
                "not a {FORMAT} document (no \"format\" or \"version\")"
            )));
        }
        for item in held {
            send(self.sender, item)?;
        }
        Ok(())
    }
}

fn send<E: serde::de::Error>(sender: &mpsc::Sender<Item>, item: Item) -> Result<(), E> {
    sender
        .blocking_send(item)
        .map_err(|_| E::custom("the import stopped"))
}

struct AccountsSeed<'a> {
    sender: &'a mpsc::Sender<Item>,
}

impl<'de> DeserializeSeed<'de> for AccountsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for AccountsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of accounts")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(account) = seq.next_element::<Account>()? {
            send(self.sender, Item::Account(Box::new(account)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_apart_by_their_first_bytes() {
        assert_eq!(sniff(b"{\"format\":"), Some(Source::Json));
        assert_eq!(sniff(b"\xEF\xBB\xBF  \n{"), Some(Source::Json));
        assert_eq!(sniff(b"<?xml version"), Some(Source::Xml));
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Some(Source::GzipXml));
        assert_eq!(sniff(b"SQLite format 3\0"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn bounded_input_fails_past_its_limit() {
        let mut small = Bounded {
            inner: &b"0123456789"[..],
            left: 10,
        };
        assert_eq!(small.read_to_end(&mut Vec::new()).unwrap(), 10);
        let mut large = Bounded {
            inner: &b"0123456789"[..],
            left: 9,
        };
        assert!(large.read_to_end(&mut Vec::new()).is_err());
    }

    fn stream(json: &str) -> (Result<(), String>, Vec<Item>) {
        let (sender, mut receiver) = mpsc::channel(16);
        let result = parse_json(json.as_bytes(), sender);
        let mut items = Vec::new();
        while let Ok(item) = receiver.try_recv() {
            items.push(item);
        }
        (result, items)
    }

    #[test]
    fn documents_stream_accounts_and_ignore_unknown_fields() {
        let (result, items) = stream(
            r#"{"format":"cameo-export","version":1,"exported_at":5,"later":[1,2],
                "accounts":[{"email":"a@example.org","extra":true},{"email":"b@example.org"}],
                "operator":{"addresses":[],"photos":[]}}"#,
        );
        assert_eq!(result, Ok(()));
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[1], Item::Account(a) if a.email == "b@example.org"));
        assert!(matches!(&items[2], Item::Operator(_)));
    }

    #[test]
    fn other_formats_and_versions_are_refused() {
        let (result, _) = stream(r#"{"format":"something-else","version":1,"accounts":[]}"#);
        assert!(result.unwrap_err().contains("something-else"));
        let (result, _) = stream(r#"{"format":"cameo-export","version":2,"accounts":[]}"#);
        assert!(result.unwrap_err().contains("version 2"));
        let (result, items) = stream(r#"{"accounts":[{"email":"a@example.org"}]}"#);
        assert!(result.is_err());
        assert!(
            items.is_empty(),
            "nothing is imported from an unlabelled document"
        );
    }

    #[test]
    fn sorted_keys_are_read_too_once_the_labels_are_checked() {
        let (result, items) = stream(
            r#"{"accounts":[{"email":"a@example.org"}],"format":"cameo-export","version":1}"#,
        );
        assert_eq!(result, Ok(()));
        assert_eq!(items.len(), 1);
        let (result, items) =
            stream(r#"{"accounts":[{"email":"a@example.org"}],"format":"other","version":1}"#);
        assert!(result.is_err());
        assert!(items.is_empty());
    }
}
