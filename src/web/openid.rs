//! Finding `rel="me"` links in an OpenID page: a small, forgiving scan of `<link>` and `<a>`
//! tags (no full HTML parser needed for one attribute pair), bounded by the page cap.

/// Every `href` of a `<link>` or `<a>` tag whose `rel` contains the token `me`.
pub fn rel_me_links(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut rest = 0;
    while let Some(start) = lower[rest..].find('<').map(|i| rest + i) {
        let end = lower[start..].find('>').map_or(lower.len(), |i| start + i);
        let tag = &html[start + 1..end];
        rest = end.min(lower.len().saturating_sub(1)).max(start + 1);
        let name = tag
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if name != "link" && name != "a" {
            continue;
        }
        let attributes = parse_attributes(&tag[name.len()..]);
        let is_me = attributes.iter().any(|(key, value)| {
            key == "rel"
                && value
                    .split_whitespace()
                    .any(|token| token.eq_ignore_ascii_case("me"))
        });
        if is_me && let Some((_, href)) = attributes.iter().find(|(key, _)| key == "href") {
            links.push(decode_entities(href.trim()));
        }
    }
    links
}

/// `key="value"`, `key='value'` and `key=value` pairs, keys lowercased.
fn parse_attributes(text: &str) -> Vec<(String, String)> {
    let mut attributes = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() || c == '/' {
            continue;
        }
        let mut key_end = start + c.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key_end = i + c.len_utf8();
            chars.next();
        }
        let key = text[start..key_end].to_ascii_lowercase();
        while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none_or(|&(_, c)| c != '=') {
            attributes.push((key, String::new()));
            continue;
        }
        chars.next();
        while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let value = match chars.peek().copied() {
            Some((i, quote @ ('"' | '\''))) => {
                chars.next();
                let value_start = i + 1;
                let mut value_end = text.len();
                for (j, c) in chars.by_ref() {
                    if c == quote {
                        value_end = j;
                        break;
                    }
                }
                text[value_start..value_end.max(value_start)].to_string()
            }
            Some((i, _)) => {
                let mut value_end = text.len();
                while let Some(&(j, c)) = chars.peek() {
                    if c.is_whitespace() {
                        value_end = j;
                        break;
                    }
                    chars.next();
                }
                text[i..value_end].to_string()
            }
            None => String::new(),
        };
        attributes.push((key, value));
    }
    attributes
}

fn decode_entities(text: &str) -> String {
    text.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
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
    fn survives_broken_markup() {
        for html in [
            "<",
            "<a",
            "<a rel=",
            "<a rel='me' href='x",
            "<<<>>>",
            "<link rel=me href=\"a&amp;b\">",
        ] {
            let _ = rel_me_links(html);
        }
        assert_eq!(rel_me_links("<link rel=me href=\"a&amp;b\">"), vec!["a&b"]);
    }
}
