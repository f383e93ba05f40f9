//! Finding `rel="me"` links in an OpenID page with a WHATWG HTML tokenizer (html5gum): every
//! `<a>` and `<link>` start tag whose `rel` holds the token `me`. The tokenizer decodes
//! character references and lowercases names as a browser does, and it never slices text by
//! hand, so no page can make it panic (a hand-written scanner once sliced inside a multi-byte
//! character). The work is linear in the page, which the caller caps at 256 KiB; the links
//! kept are bounded too.

use html5gum::{Token, Tokenizer};

/// At most this many links are collected from one page.
pub const MAX_LINKS: usize = 64;
/// Longer `href`s are skipped (no proof URL is anywhere near this long).
pub const MAX_HREF_LEN: usize = 2048;

/// Every `href` of an `<a>` or `<link>` start tag whose `rel` contains the token `me`
/// (ASCII case-insensitive, whitespace-separated), trimmed, in page order, unresolved.
pub fn rel_me_links(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    for token in Tokenizer::new(html).flatten() {
        let Token::StartTag(tag) = token else {
            continue;
        };
        if !matches!(tag.name.as_slice(), b"a" | b"link") {
            continue;
        }
        let is_me = tag
            .attributes
            .get(b"rel".as_slice())
            .is_some_and(|rel| rel_has_me(rel));
        let href = tag.attributes.get(b"href".as_slice());
        if let (true, Some(href)) = (is_me, href) {
            let href = String::from_utf8_lossy(href).trim().to_string();
            if !href.is_empty() && href.len() <= MAX_HREF_LEN {
                links.push(href);
            }
        }
        if links.len() == MAX_LINKS {
            break;
        }
    }
    links
}

/// Whether a `rel` value lists `me` among its space-separated tokens.
fn rel_has_me(rel: &[u8]) -> bool {
    rel.split(u8::is_ascii_whitespace)
        .any(|token| token.eq_ignore_ascii_case(b"me"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rel_me_on_link_and_a_tags() {
        let html = r#"<html><head><LINK REL="me authn" HREF="https://cameo.example/openid/proof/abc">
            <link rel=stylesheet href=/x.css></head>
            <body><a href='https://other.example/' rel='me'>me</a><a rel="mentor" href="/no"></a></body>"#;
        assert_eq!(
            rel_me_links(html),
            vec![
                "https://cameo.example/openid/proof/abc",
                "https://other.example/"
            ]
        );
    }

    #[test]
    fn character_references_in_attributes_are_decoded() {
        assert_eq!(rel_me_links("<link rel=me href=\"a&amp;b\">"), vec!["a&b"]);
        assert_eq!(
            rel_me_links("<a rel=&#x6d;e href=&quot;x&quot;>"),
            vec!["\"x\""]
        );
    }

    #[test]
    fn an_unclosed_tag_ending_in_a_multibyte_character_does_not_panic() {
        // The input that panicked the hand-written scanner (a slice inside `é`).
        assert!(rel_me_links("<a rel=me href=x é").is_empty());
        for html in [
            "<",
            "<a",
            "<a rel=",
            "<a rel='me' href='x",
            "<<<>>>",
            "<é",
            "<a é",
            "<a rel=me href=é",
            "<a\u{0}rel=me href=x>",
            "<!--<a rel=me href=x>",
            "<a rel=me href=x\u{10FFFF}",
        ] {
            let _ = rel_me_links(html);
        }
    }

    #[test]
    fn links_inside_comments_and_attribute_values_are_not_links() {
        assert!(rel_me_links("<!-- <a rel=me href=x> -->").is_empty());
        assert!(rel_me_links("<p title='<a rel=me href=x>'>").is_empty());
    }

    #[test]
    fn rel_tokens_are_whole_words_in_any_case() {
        assert_eq!(rel_me_links("<a rel='friend\tME' href=y>"), vec!["y"]);
        assert!(rel_me_links("<a rel='meh' href=y>").is_empty());
        assert!(rel_me_links("<a rel='me' >").is_empty());
        assert!(rel_me_links("<div rel=me href=y>").is_empty());
    }

    #[test]
    fn the_links_kept_are_bounded() {
        let page = "<a rel=me href=x>".repeat(MAX_LINKS * 4);
        assert_eq!(rel_me_links(&page).len(), MAX_LINKS);
        let long = format!("<a rel=me href={}>", "x".repeat(MAX_HREF_LEN + 1));
        assert!(rel_me_links(&long).is_empty());
    }
}
