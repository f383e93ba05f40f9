//! One directory entry as Cameo reads it, from the attributes the search returned: its
//! stable key, its email addresses (`mail`, and `proxyAddresses` values with their `smtp:`
//! prefixes), its photo (the first configured attribute that has one) and whether it is
//! disabled (AD's `userAccountControl` bit 0x2). Pure functions over the attribute maps.

use std::collections::HashMap;

use crate::identity::Identity;

/// AD's ACCOUNTDISABLE flag in `userAccountControl`.
const ACCOUNT_DISABLED: i64 = 0x2;

/// The attributes of one entry, as the LDAP client hands them over: UTF-8 values in `text`,
/// the others (photos, objectGUID) in `binary`.
#[derive(Debug, Default)]
pub struct RawEntry {
    pub dn: String,
    pub text: HashMap<String, Vec<String>>,
    pub binary: HashMap<String, Vec<Vec<u8>>>,
}

/// What an entry gives: its addresses (normalised, each once) and its photo's bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct ReadEntry {
    pub key: String,
    pub dn: String,
    pub addresses: Vec<String>,
    /// Values that are not email addresses, said why (reported, then ignored).
    pub unusable: Vec<String>,
    pub photo: Option<Vec<u8>>,
    pub disabled: bool,
}

/// Reads `raw` with the configured attributes.
pub fn read_entry(
    raw: RawEntry,
    address_attributes: &[String],
    photo_attributes: &[String],
) -> ReadEntry {
    let mut addresses = Vec::new();
    let mut unusable = Vec::new();
    for attribute in address_attributes {
        let is_proxy = attribute.eq_ignore_ascii_case("proxyAddresses");
        for value in text_values(&raw, attribute) {
            let candidate = if is_proxy {
                match proxy_address_email(value) {
                    Some(email) => email,
                    None => continue,
                }
            } else {
                value.as_str()
            };
            match Identity::parse(candidate) {
                Ok(Identity::Email(email)) => {
                    if !addresses.contains(&email) {
                        addresses.push(email);
                    }
                }
                _ => unusable.push(format!("{attribute} {candidate:?} is not an email address")),
            }
        }
    }
    ReadEntry {
        key: entry_key(&raw),
        photo: first_photo(&raw, photo_attributes).map(<[u8]>::to_vec),
        disabled: is_disabled(&raw),
        dn: raw.dn,
        addresses,
        unusable,
    }
}

/// The email of an AD `proxyAddresses` value: `SMTP:` (the primary) or `smtp:` (an alias);
/// `None` for other kinds (`X500:`, `SIP:`, `x400:` …) and for values without a prefix.
pub fn proxy_address_email(value: &str) -> Option<&str> {
    let (prefix, rest) = value.split_once(':')?;
    (prefix.eq_ignore_ascii_case("smtp") && !rest.is_empty()).then_some(rest)
}

/// The first value of the first of `attributes` that has a non-empty one. A photo that
/// happens to be valid UTF-8 (a broken one, say) arrives among the text values.
pub fn first_photo<'a>(raw: &'a RawEntry, attributes: &[String]) -> Option<&'a [u8]> {
    attributes.iter().find_map(|attribute| {
        let binary = find(&raw.binary, attribute)
            .and_then(|values| values.iter().find(|v| !v.is_empty()))
            .map(Vec::as_slice);
        binary.or_else(|| {
            text_values(raw, attribute)
                .iter()
                .find(|v| !v.is_empty())
                .map(String::as_bytes)
        })
    })
}

/// Whether AD's `userAccountControl` has the disabled bit.
pub fn is_disabled(raw: &RawEntry) -> bool {
    text_values(raw, "userAccountControl")
        .first()
        .and_then(|value| value.trim().parse::<i64>().ok())
        .is_some_and(|flags| flags & ACCOUNT_DISABLED != 0)
}

/// The entry's stable id: OpenLDAP's `entryUUID`, AD's `objectGUID` (hex), else its DN
/// (lowercased: DNs compare case-insensitively). Prefixed so the three never collide.
pub fn entry_key(raw: &RawEntry) -> String {
    if let Some(uuid) = text_values(raw, "entryUUID").first() {
        return format!("uuid:{}", uuid.to_ascii_lowercase());
    }
    if let Some(guid) = find(&raw.binary, "objectGUID").and_then(|v| v.first()) {
        return format!("guid:{}", hex::encode(guid));
    }
    format!("dn:{}", raw.dn.to_lowercase())
}

fn text_values<'a>(raw: &'a RawEntry, attribute: &str) -> &'a [String] {
    find(&raw.text, attribute).map_or(&[], Vec::as_slice)
}

/// LDAP attribute names compare case-insensitively; servers answer in the schema's case.
fn find<'a, V>(map: &'a HashMap<String, V>, attribute: &str) -> Option<&'a V> {
    map.get(attribute).or_else(|| {
        map.iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(attribute))
            .map(|(_, values)| values)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn raw(text: &[(&str, &[&str])], binary: &[(&str, &[&[u8]])]) -> RawEntry {
        RawEntry {
            dn: "CN=Ada,OU=People,DC=example,DC=org".into(),
            text: text
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
            binary: binary
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|b| b.to_vec()).collect()))
                .collect(),
        }
    }

    #[test]
    fn proxy_addresses_keep_only_smtp_values_without_their_prefix() {
        assert_eq!(
            proxy_address_email("SMTP:Ada@Example.org"),
            Some("Ada@Example.org")
        );
        assert_eq!(
            proxy_address_email("smtp:ada.l@example.org"),
            Some("ada.l@example.org")
        );
        assert_eq!(proxy_address_email("X500:/o=Org/cn=ada"), None);
        assert_eq!(proxy_address_email("sip:ada@example.org"), None);
        assert_eq!(proxy_address_email("ada@example.org"), None);
        assert_eq!(proxy_address_email("smtp:"), None);
    }

    #[test]
    fn addresses_come_from_every_attribute_normalised_and_once() {
        let entry = raw(
            &[
                ("mail", &["Ada@Example.org"]),
                (
                    "proxyaddresses",
                    &[
                        "SMTP:ada@example.org",
                        "smtp:a.lovelace@example.org",
                        "X500:/o=x",
                        "smtp:not an address",
                    ],
                ),
            ],
            &[],
        );
        let read = read_entry(entry, &attributes(&["mail", "proxyAddresses"]), &[]);
        assert_eq!(
            read.addresses,
            ["ada@example.org", "a.lovelace@example.org"]
        );
        assert_eq!(read.unusable.len(), 1, "{:?}", read.unusable);
        assert!(read.unusable[0].contains("not an address"));
    }

    #[test]
    fn the_photo_is_the_first_value_of_the_first_attribute_that_has_one() {
        let entry = raw(
            &[],
            &[
                ("thumbnailPhoto", &[b""]),
                ("jpegPhoto", &[b"\xff\xd8one", b"\xff\xd8two"]),
            ],
        );
        let photos = attributes(&["thumbnailPhoto", "jpegPhoto"]);
        assert_eq!(first_photo(&entry, &photos), Some(&b"\xff\xd8one"[..]));
        let both = raw(
            &[],
            &[
                ("thumbnailPhoto", &[b"\x89thumb"]),
                ("jpegPhoto", &[b"\xff\xd8"]),
            ],
        );
        assert_eq!(first_photo(&both, &photos), Some(&b"\x89thumb"[..]));
        let text = raw(&[("jpegPhoto", &["not a photo"])], &[]);
        assert_eq!(first_photo(&text, &photos), Some(&b"not a photo"[..]));
        assert_eq!(first_photo(&raw(&[], &[]), &photos), None);
    }

    #[test]
    fn the_disabled_bit_of_user_account_control_disables() {
        assert!(is_disabled(&raw(&[("userAccountControl", &["514"])], &[])));
        assert!(!is_disabled(&raw(&[("userAccountControl", &["512"])], &[])));
        assert!(!is_disabled(&raw(&[("userAccountControl", &["x"])], &[])));
        assert!(!is_disabled(&raw(&[], &[])));
    }

    #[test]
    fn the_key_is_entry_uuid_then_object_guid_then_the_dn() {
        let uuid = raw(
            &[("entryUUID", &["3F2504E0-4F89-11D3-9A0C-0305E82C3301"])],
            &[],
        );
        assert_eq!(
            entry_key(&uuid),
            "uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301"
        );
        let guid = raw(&[], &[("objectGUID", &[&[0xde, 0xad, 0xbe, 0xef]])]);
        assert_eq!(entry_key(&guid), "guid:deadbeef");
        assert_eq!(
            entry_key(&raw(&[], &[])),
            "dn:cn=ada,ou=people,dc=example,dc=org"
        );
    }
}
