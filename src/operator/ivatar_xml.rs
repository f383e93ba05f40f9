//! Reading a Libravatar / ivatar "export your data" file, so `cameo import-export` can take
//! people over from libravatar.org or another ivatar server.
//!
//! The file (`libravatar-export_USER.xml.gz`, gzipped; the caller unzips it) is one account:
//!
//! ```xml
//! <user xmlns="https://www.libravatar.org/schemas/export/0.2">
//!   <account username="alice" password="pbkdf2_sha256$…"/>
//!   <emails><email photo_id="7">alice@example.org</email></emails>
//!   <openids><openid photo_id="None">https://alice.example.org/</openid></openids>
//!   <photos><photo id="7" encoding="base64" format="png">iVBORw0…</photo></photos>
//! </user>
//! ```
//!
//! Every listed address is a confirmed one. Quirks of real files, all accepted: ivatar writes
//! the photo text as Python's bytes repr (`b'iVBOR…'`), `photo_id` is `None` for an address
//! without a photo, and the old site's 0.1 schema has no ids at all (nor a password). The
//! password is a Django hash Cameo cannot check, so it is dropped: the account is created
//! without a usable password and its holder sets one with "forgot password".
//!
//! This module only turns the XML into an [`Account`]; the import itself (intake of every
//! photo, the conflict rules) is the same as for Cameo's own export.

use std::io::BufRead;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;

use super::export::{Account, Address, Photo};
use crate::identity::Identity;

/// The namespace every Libravatar export schema version lives under.
const NAMESPACE_PREFIX: &str = "https://www.libravatar.org/schemas/export/";

/// The file as written, before it is made an account.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct IvatarExport {
    pub username: Option<String>,
    pub emails: Vec<Entry>,
    pub openids: Vec<Entry>,
    pub photos: Vec<IvatarPhoto>,
}

/// A confirmed email address or OpenID, and the id of its photo if it has one.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub address: String,
    pub photo_id: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct IvatarPhoto {
    pub id: Option<String>,
    pub format: Option<String>,
    /// The base64 text, cleaned of whitespace and of the `b'…'` wrapping.
    pub base64: String,
}

/// What is being read: which list the current element adds to.
enum Collecting {
    Email(Option<String>),
    OpenId(Option<String>),
    Photo {
        id: Option<String>,
        format: Option<String>,
    },
}

/// Reads the export XML. `max_text` bounds any one element's text (a photo's base64).
pub fn parse(input: impl BufRead, max_text: usize) -> Result<IvatarExport, String> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut open: Option<Collecting> = None;
    let mut export = IvatarExport::default();
    let mut seen_root = false;
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            format!(
                "not well-formed XML near byte {}: {e}",
                reader.error_position()
            )
        })?;
        match event {
            Event::Start(element) | Event::Empty(element) if path.is_empty() => {
                check_root(&element, seen_root)?;
                seen_root = true;
                path.push("user".into());
            }
            Event::Start(element) => {
                let name = element.local_name().as_ref().to_string();
                open = opening(&mut export, &path, &name, &element)?;
                path.push(name);
                text.clear();
            }
            Event::Empty(element) => {
                let name = element.local_name().as_ref().to_string();
                // An empty <email/> or <photo/> carries nothing worth keeping.
                opening(&mut export, &path, &name, &element)?;
            }
            Event::End(_) => {
                path.pop();
                if let Some(item) = open.take() {
                    close(&mut export, item, &text);
                }
                text.clear();
            }
            Event::Text(content) => append(&mut text, &content.xml10_content(), max_text)?,
            Event::CData(content) => append(&mut text, &content.xml10_content(), max_text)?,
            Event::GeneralRef(reference) => {
                append(&mut text, &resolve_reference(&reference)?, max_text)?;
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_root {
        return Err("the file holds no XML element".into());
    }
    Ok(export)
}

fn check_root(element: &BytesStart<'_>, seen_root: bool) -> Result<(), String> {
    let name = element.local_name().as_ref().to_string();
    if seen_root || name != "user" {
        return Err(format!(
            "not a Libravatar export: the document element is <{name}>, not <user>"
        ));
    }
    let namespace = attribute(element, "xmlns")?.unwrap_or_default();
    if !namespace.starts_with(NAMESPACE_PREFIX) {
        return Err(format!(
            "not a Libravatar export: <user> is not in the {NAMESPACE_PREFIX}… namespace"
        ));
    }
    Ok(())
}

/// Handles an element opening under `path`; returns what its text will be, if anything.
fn opening(
    export: &mut IvatarExport,
    path: &[String],
    name: &str,
    element: &BytesStart<'_>,
) -> Result<Option<Collecting>, String> {
    let parent = path.last().map(String::as_str);
    Ok(match (parent, name) {
        (Some("user"), "account") => {
            export.username = attribute(element, "username")?;
            None
        }
        (Some("emails"), "email") => Some(Collecting::Email(photo_id(element)?)),
        (Some("openids"), "openid") => Some(Collecting::OpenId(photo_id(element)?)),
        (Some("photos"), "photo") => {
            if let Some(encoding) = attribute(element, "encoding")?
                && encoding != "base64"
            {
                return Err(format!("a photo is in {encoding:?} encoding, not base64"));
            }
            Some(Collecting::Photo {
                id: attribute(element, "id")?,
                format: attribute(element, "format")?,
            })
        }
        _ => None,
    })
}

fn close(export: &mut IvatarExport, item: Collecting, text: &str) {
    let trimmed = text.trim();
    match item {
        Collecting::Email(photo_id) if !trimmed.is_empty() => export.emails.push(Entry {
            address: trimmed.to_string(),
            photo_id,
        }),
        Collecting::OpenId(photo_id) if !trimmed.is_empty() => export.openids.push(Entry {
            address: trimmed.to_string(),
            photo_id,
        }),
        Collecting::Photo { id, format } => export.photos.push(IvatarPhoto {
            id,
            format,
            base64: clean_base64(trimmed),
        }),
        _ => {}
    }
}

/// `photo_id="7"` → `Some("7")`; `"None"` (Python's) or no attribute → `None`.
fn photo_id(element: &BytesStart<'_>) -> Result<Option<String>, String> {
    Ok(attribute(element, "photo_id")?.filter(|id| !id.is_empty() && id != "None"))
}

fn attribute(element: &BytesStart<'_>, key: &str) -> Result<Option<String>, String> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| format!("a bad attribute: {e}"))?;
        if attribute.key.as_ref() == key {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| format!("a bad attribute value: {e}"))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn append(text: &mut String, more: &str, max_text: usize) -> Result<(), String> {
    if text.len() + more.len() > max_text {
        return Err(format!(
            "an element's text is longer than {max_text} bytes (a photo too large to import?)"
        ));
    }
    text.push_str(more);
    Ok(())
}

/// `&#x41;`, `&#65;` and the five predefined entities; a DTD's own entities are refused.
fn resolve_reference(reference: &BytesRef<'_>) -> Result<String, String> {
    if let Some(c) = reference
        .resolve_char_ref()
        .map_err(|e| format!("a bad character reference: {e}"))?
    {
        return Ok(c.to_string());
    }
    let c = match reference.as_ref() {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        other => return Err(format!("unknown entity &{other};")),
    };
    Ok(c.to_string())
}

/// Whitespace and Python's `b'…'` wrapping (with its literal `\n`s) removed.
pub fn clean_base64(text: &str) -> String {
    let text = text.trim();
    let text = text
        .strip_prefix("b'")
        .and_then(|inner| inner.strip_suffix('\''))
        .unwrap_or(text);
    text.replace("\\n", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The reference an address uses for photo `id` (or the `index`th photo when ids are absent).
fn photo_reference(id: Option<&str>, index: usize) -> String {
    match id {
        Some(id) => format!("ivatar-photo-{id}"),
        None => format!("ivatar-photo-#{index}"),
    }
}

/// The account to import: named by the username if it is an email address (ivatar's
/// usual case), otherwise by the first listed email address.
pub fn into_account(export: IvatarExport) -> Result<Account, String> {
    let as_email = |text: &str| match Identity::parse(text) {
        Ok(Identity::Email(email)) => Some(email),
        _ => None,
    };
    let email = export
        .username
        .as_deref()
        .and_then(as_email)
        .or_else(|| export.emails.iter().find_map(|e| as_email(&e.address)))
        .ok_or_else(|| {
            format!(
                "ivatar user {:?} has no email address to name a Cameo account by",
                export.username.unwrap_or_default()
            )
        })?;
    let address = |kind: &str, entry: Entry| Address {
        kind: kind.to_string(),
        address: entry.address,
        confirmed: true,
        confirmed_at: None,
        photo: entry.photo_id.map(|id| photo_reference(Some(&id), 0)),
        created_at: None,
    };
    let mut addresses: Vec<Address> = Vec::new();
    addresses.extend(export.emails.into_iter().map(|e| address("email", e)));
    addresses.extend(export.openids.into_iter().map(|e| address("openid", e)));
    let photos = export
        .photos
        .into_iter()
        .enumerate()
        .map(|(index, photo)| Photo {
            digest: photo_reference(photo.id.as_deref(), index),
            format: photo.format.unwrap_or_default(),
            side: 0,
            source_digest: None,
            created_at: None,
            data: photo.base64,
        })
        .collect();
    Ok(Account {
        email,
        password_hash: None,
        created_at: None,
        addresses,
        photos,
        profile: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?><user xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="https://www.libravatar.org/schemas/export/0.2 https://www.libravatar.org/schemas/export/0.2/export.xsd" xmlns="https://www.libravatar.org/schemas/export/0.2">
  <account username="alice" password="pbkdf2_sha256$1$x$y"/>
  <emails>
    <email photo_id="12">Alice@Example.org</email>
    <email photo_id="None">alice&#64;work.example</email>
  </emails>
  <openids>
    <openid photo_id="12">https://alice.example.org/?a=1&amp;b=2</openid>
  </openids>
  <photos>
    <photo id="12" encoding="base64" format="png">b'aGVs
bG8='</photo>
  </photos>
</user>
"#;

    #[test]
    fn ivatar_exports_are_read_with_their_quirks() {
        let export = parse(SAMPLE.as_bytes(), 1 << 20).unwrap();
        assert_eq!(export.username.as_deref(), Some("alice"));
        assert_eq!(
            export.emails,
            [
                Entry {
                    address: "Alice@Example.org".into(),
                    photo_id: Some("12".into())
                },
                Entry {
                    address: "alice@work.example".into(),
                    photo_id: None
                },
            ]
        );
        assert_eq!(
            export.openids[0].address,
            "https://alice.example.org/?a=1&b=2"
        );
        assert_eq!(export.photos[0].base64, "aGVsbG8=");
        assert_eq!(export.photos[0].format.as_deref(), Some("png"));
    }

    #[test]
    fn the_account_is_named_by_an_email_and_has_no_usable_password() {
        let account = into_account(parse(SAMPLE.as_bytes(), 1 << 20).unwrap()).unwrap();
        assert_eq!(account.email, "alice@example.org");
        assert_eq!(account.password_hash, None);
        assert_eq!(account.addresses.len(), 3);
        assert_eq!(
            account.addresses[0].photo.as_deref(),
            Some("ivatar-photo-12")
        );
        assert_eq!(account.addresses[1].photo, None);
        assert_eq!(account.addresses[2].kind, "openid");
        assert_eq!(account.photos[0].digest, "ivatar-photo-12");
    }

    #[test]
    fn other_xml_and_oversized_photos_are_refused() {
        assert!(parse(&b"<html><body/></html>"[..], 1 << 20).is_err());
        assert!(parse(&b"<user><account/></user>"[..], 1 << 20).is_err());
        assert!(parse(&b"not xml at all"[..], 1 << 20).is_err());
        let message = parse(SAMPLE.as_bytes(), 4).unwrap_err();
        assert!(message.contains("longer than 4 bytes"), "{message}");
    }

    #[test]
    fn base64_is_cleaned_of_python_bytes_repr() {
        assert_eq!(clean_base64(" b'QUJD\\nREVG' "), "QUJDREVG");
        assert_eq!(clean_base64("QUJD\n  REVG\n"), "QUJDREVG");
    }
}
