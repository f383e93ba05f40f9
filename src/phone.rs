//! Phone numbers as identities, and WhatsApp chat ids (seeds 003 GoWA and 004 Green API).
//!
//! A phone number is stored, hashed and served in E.164 (`+15551234567`), normalised with the
//! `phonenumber` crate (libphonenumber's metadata): a number written with `+` needs nothing
//! else, one written without it is read in `phone_default_region` (refused when none is
//! configured). WhatsApp's person chat ids (`15551234567@c.us`, `15551234567@s.whatsapp.net`)
//! are the international number without `+`. Its avatar digest is the SHA-256 of the E.164
//! text (README "Phone numbers"). Group chat ids (`…@g.us`) are not phones: only the gateway
//! providers take them ([`ChatId::parse`]).
//!
//! Numbers are checked for shape (a country code libphonenumber knows, 7 to 15 digits in
//! all), not for being assigned: WhatsApp ids are what the gateways say they are, and the
//! seeds' own examples (`15551234567@c.us`) use unassigned ranges.

use phonenumber::country::Id as Region;

use crate::identity::Digest;

/// Longest text read as a phone number or chat id (a chat id of a group is the longest).
pub const MAX_PHONE_INPUT: usize = 64;
/// E.164 allows 15 digits; fewer than 7 is no real number anywhere.
const E164_DIGITS: std::ops::RangeInclusive<usize> = 7..=15;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("the phone number is longer than {MAX_PHONE_INPUT} characters")]
    TooLong,
    #[error("a phone number is digits with an optional +, spaces, dots, dashes and brackets")]
    BadCharacters,
    #[error("a number without + needs a country: write it as +<country code><number>")]
    NoRegion,
    #[error("that is not a phone number libphonenumber recognises")]
    Unrecognised,
    #[error("a WhatsApp chat id is digits@c.us, digits@s.whatsapp.net or (groups) id@g.us")]
    BadChatId,
    #[error("group chat ids (@g.us) are accepted by the WhatsApp gateways only")]
    GroupNotAPhone,
}

/// Reads `phone_default_region`: a two-letter region code (`US`, `de`), or empty for none.
pub fn parse_region(text: &str) -> Result<Option<Region>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let upper = text.to_ascii_uppercase();
    if upper.len() != 2 {
        return Err(format!("{text:?} is not a two-letter region code"));
    }
    upper
        .parse::<Region>()
        .map(Some)
        .map_err(|_| format!("{text:?} is not a region libphonenumber knows"))
}

/// Whether `text` looks like a phone number or a person's chat id rather than an email:
/// the CLI and import decide with this which parser to use.
pub fn looks_like_phone(text: &str) -> bool {
    let text = text.trim();
    if let Some((user, server)) = text.rsplit_once('@') {
        return matches!(
            server.to_ascii_lowercase().as_str(),
            "c.us" | "s.whatsapp.net"
        ) && !user.is_empty()
            && user.bytes().all(|b| b.is_ascii_digit());
    }
    text.starts_with('+')
        || (text.bytes().any(|b| b.is_ascii_digit())
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || b" ()-.".contains(&b)))
}

/// Normalises a phone number or a person's chat id to E.164.
pub fn normalise_phone(input: &str, default_region: Option<Region>) -> Result<String, PhoneError> {
    match ChatId::parse(input, default_region)? {
        ChatId::Person(e164) => Ok(e164),
        ChatId::Group(_) => Err(PhoneError::GroupNotAPhone),
    }
}

/// What a gateway is asked about: a person (by E.164 number) or a group (by its id).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChatId {
    /// E.164, `+` and digits.
    Person(String),
    /// A group id as written before `@g.us` (digits, or digits-digits), lowercase suffix.
    Group(String),
}

impl ChatId {
    pub fn parse(input: &str, default_region: Option<Region>) -> Result<ChatId, PhoneError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(PhoneError::Empty);
        }
        if text.chars().count() > MAX_PHONE_INPUT {
            return Err(PhoneError::TooLong);
        }
        let Some((user, server)) = text.rsplit_once('@') else {
            return e164_of(text, default_region).map(ChatId::Person);
        };
        match server.to_ascii_lowercase().as_str() {
            // A chat id is the international number without `+`.
            "c.us" | "s.whatsapp.net" if is_digits(user) => {
                e164_of(&format!("+{user}"), None).map(ChatId::Person)
            }
            "g.us" if is_group_id(user) => Ok(ChatId::Group(user.to_string())),
            _ => Err(PhoneError::BadChatId),
        }
    }

    /// The text stored and hashed: E.164 for a person, `ID@g.us` for a group.
    pub fn address(&self) -> String {
        match self {
            ChatId::Person(e164) => e164.clone(),
            ChatId::Group(id) => format!("{id}@g.us"),
        }
    }

    /// The digest `/avatar/HASH` serves it under: SHA-256 of [`ChatId::address`].
    pub fn digest(&self) -> Digest {
        Digest::sha256_of(&self.address())
    }

    /// The id GoWA and Green API take: `DIGITS@c.us` or `ID@g.us`.
    pub fn whatsapp_jid(&self) -> String {
        match self {
            ChatId::Person(e164) => format!("{}@c.us", e164.trim_start_matches('+')),
            ChatId::Group(id) => format!("{id}@g.us"),
        }
    }

    pub fn is_group(&self) -> bool {
        matches!(self, ChatId::Group(_))
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `DIGITS` or `DIGITS-DIGITS` (the old creator-timestamp form of group ids).
fn is_group_id(text: &str) -> bool {
    let mut parts = text.split('-');
    let first_ok = parts.next().is_some_and(is_digits);
    let rest: Vec<&str> = parts.collect();
    first_ok && rest.len() <= 1 && rest.iter().all(|part| is_digits(part)) && text.len() <= 40
}

/// E.164 of a number as typed. Only digits and the usual separators are handed to the
/// parser (no letters, extensions or `tel:` forms), so its input is small and plain.
fn e164_of(text: &str, default_region: Option<Region>) -> Result<String, PhoneError> {
    let (plus, rest) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if !rest
        .bytes()
        .all(|b| b.is_ascii_digit() || b" ()-.".contains(&b))
        || !rest.bytes().any(|b| b.is_ascii_digit())
    {
        return Err(PhoneError::BadCharacters);
    }
    let region = match (plus, default_region) {
        (true, _) => None,
        (false, Some(region)) => Some(region),
        (false, None) => return Err(PhoneError::NoRegion),
    };
    let number = phonenumber::parse(region, text).map_err(|_| PhoneError::Unrecognised)?;
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    let digits = e164.trim_start_matches('+');
    if !e164.starts_with('+') || !is_digits(digits) || !E164_DIGITS.contains(&digits.len()) {
        return Err(PhoneError::Unrecognised);
    }
    Ok(e164)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Option<Region> {
        parse_region("us").unwrap()
    }

    #[test]
    fn international_numbers_normalise_to_e164_whatever_the_separators() {
        for typed in [
            "+1 555 123 4567",
            "+1 (555) 123-4567",
            " +1.555.123.4567 ",
            "+15551234567",
        ] {
            assert_eq!(
                normalise_phone(typed, None),
                Ok("+15551234567".into()),
                "{typed}"
            );
        }
        assert_eq!(
            normalise_phone("+44 20 7946 0958", None),
            Ok("+442079460958".into())
        );
        assert_eq!(
            normalise_phone("+49 (030) 1234567", None),
            Ok("+49301234567".into()),
            "the national trunk 0 is dropped"
        );
    }

    #[test]
    fn numbers_without_plus_are_read_in_the_default_region_or_refused() {
        assert_eq!(
            normalise_phone("(555) 123-4567", us()),
            Ok("+15551234567".into())
        );
        let germany = parse_region("DE").unwrap();
        assert_eq!(
            normalise_phone("030 1234567", germany),
            Ok("+49301234567".into())
        );
        assert_eq!(
            normalise_phone("555 123 4567", None),
            Err(PhoneError::NoRegion)
        );
        // A `+` number ignores the default region.
        assert_eq!(
            normalise_phone("+44 20 7946 0958", us()),
            Ok("+442079460958".into())
        );
    }

    #[test]
    fn person_chat_ids_are_their_number() {
        for id in [
            "15551234567@c.us",
            "15551234567@s.whatsapp.net",
            "15551234567@C.US",
        ] {
            assert_eq!(normalise_phone(id, None), Ok("+15551234567".into()), "{id}");
        }
        let chat = ChatId::parse("11001234567@c.us", None).unwrap();
        assert_eq!(chat.whatsapp_jid(), "11001234567@c.us");
        assert_eq!(
            ChatId::parse("+1 555 123 4567", None)
                .unwrap()
                .whatsapp_jid(),
            "15551234567@c.us"
        );
    }

    #[test]
    fn group_chat_ids_are_chats_but_not_phones() {
        let group = ChatId::parse("11001234567-1581234048@g.us", None).unwrap();
        assert_eq!(group, ChatId::Group("11001234567-1581234048".into()));
        assert_eq!(group.whatsapp_jid(), "11001234567-1581234048@g.us");
        assert!(group.is_group());
        assert_eq!(
            normalise_phone("120363025246125486@g.us", None),
            Err(PhoneError::GroupNotAPhone)
        );
    }

    #[test]
    fn bad_numbers_and_ids_are_refused_with_a_reason() {
        assert_eq!(normalise_phone("  ", None), Err(PhoneError::Empty));
        assert_eq!(
            normalise_phone(&"1".repeat(80), us()),
            Err(PhoneError::TooLong)
        );
        for bad in [
            "+1 555 CALL NOW",
            "+1 555 123 4567 ext 9",
            "tel:+15551234567",
            "+",
        ] {
            assert_eq!(
                normalise_phone(bad, None),
                Err(PhoneError::BadCharacters),
                "{bad}"
            );
        }
        for bad in ["+999 1234567", "+1 23", "+1 5551234567890123"] {
            assert_eq!(
                normalise_phone(bad, None),
                Err(PhoneError::Unrecognised),
                "{bad}"
            );
        }
        for bad in [
            "abc@c.us",
            "@c.us",
            "+1555@c.us",
            "1555@example.org",
            "x-y@g.us",
            "1-2-3@g.us",
        ] {
            assert_eq!(
                ChatId::parse(bad, None),
                Err(PhoneError::BadChatId),
                "{bad}"
            );
        }
    }

    #[test]
    fn regions_are_two_letters_libphonenumber_knows() {
        assert_eq!(parse_region(""), Ok(None));
        assert!(parse_region("gb").unwrap().is_some());
        assert!(parse_region("USA").is_err());
        assert!(parse_region("ZZ").is_err());
    }

    #[test]
    fn phone_like_text_is_told_from_emails_and_urls() {
        for phone in [
            "+15551234567",
            "(555) 123-4567",
            "15551234567@c.us",
            "1@s.whatsapp.net",
        ] {
            assert!(looks_like_phone(phone), "{phone}");
        }
        for other in [
            "alice@example.org",
            "123@example.org",
            "https://example.org/",
            "1@g.us",
            "abc",
        ] {
            assert!(!looks_like_phone(other), "{other}");
        }
    }

    /// The README's table of vectors: each typed form normalises to the E.164 shown, whose
    /// SHA-256 is the hash shown (so the documentation cannot drift from the code).
    #[test]
    fn readme_vectors_are_right() {
        let readme = include_str!("../README.md");
        let section = readme
            .split("## Phone numbers and WhatsApp")
            .nth(1)
            .expect("the README documents phone numbers");
        let mut checked = 0;
        for line in section.lines().take_while(|l| !l.starts_with("## ")) {
            let cells: Vec<&str> = line
                .split('|')
                .map(|c| c.trim().trim_matches('`'))
                .collect();
            if cells.len() != 5 || !cells[2].starts_with('+') {
                continue;
            }
            let chat = ChatId::parse(cells[1], None).unwrap();
            assert_eq!(chat.address(), cells[2], "{line}");
            assert_eq!(chat.digest().to_hex(), cells[3], "{line}");
            checked += 1;
        }
        assert!(checked >= 4, "only {checked} vectors found");
    }

    #[test]
    fn the_digest_is_sha256_of_e164() {
        let chat = ChatId::parse("+1 555 123 4567", None).unwrap();
        assert_eq!(chat.address(), "+15551234567");
        assert_eq!(chat.digest(), Digest::sha256_of("+15551234567"));
    }
}
