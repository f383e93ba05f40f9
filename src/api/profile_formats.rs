//! Gravatar's other profile formats, written from the same JSON document as `/HASH.json`:
//! XML (`/HASH.xml`: `<response>` around the document, an array as its element repeated)
//! and PHP (`/HASH.php`: the document as PHP's `serialize()` writes an array).
//!
//! Both are plain functions of a [`serde_json::Value`], so every format carries exactly the
//! fields of the JSON one.

use std::fmt::Write;

use serde_json::Value;

/// `document` as XML under `<response>`: an object's members become elements named after
/// their keys (in the document's key order), an array repeats its key's element once per
/// item, text is escaped.
pub fn to_xml(document: &Value) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>");
    write_xml_children(&mut xml, document);
    xml.push_str("</response>\n");
    xml
}

fn write_xml_children(xml: &mut String, value: &Value) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                let items = match member {
                    Value::Array(items) => items.iter().collect(),
                    single => vec![single],
                };
                for item in items {
                    let _ = write!(xml, "<{key}>");
                    write_xml_children(xml, item);
                    let _ = write!(xml, "</{key}>");
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| write_xml_children(xml, item)),
        Value::String(text) => xml.push_str(&quick_xml::escape::escape(text.as_str())),
        Value::Null => {}
        other => xml.push_str(&other.to_string()),
    }
}

/// `document` as PHP's `serialize()` writes it: objects and arrays as arrays (arrays keyed
/// `0…n-1`), strings with their length in bytes.
pub fn to_php(document: &Value) -> String {
    let mut php = String::new();
    write_php(&mut php, document);
    php
}

fn write_php(php: &mut String, value: &Value) {
    match value {
        Value::Null => php.push_str("N;"),
        Value::Bool(flag) => {
            let _ = write!(php, "b:{};", u8::from(*flag));
        }
        Value::Number(number) if number.is_i64() || number.is_u64() => {
            let _ = write!(php, "i:{number};");
        }
        Value::Number(number) => {
            let _ = write!(php, "d:{number};");
        }
        Value::String(text) => write_php_string(php, text),
        Value::Array(items) => {
            let _ = write!(php, "a:{}:{{", items.len());
            for (index, item) in items.iter().enumerate() {
                let _ = write!(php, "i:{index};");
                write_php(php, item);
            }
            php.push('}');
        }
        Value::Object(members) => {
            let _ = write!(php, "a:{}:{{", members.len());
            for (key, member) in members {
                write_php_string(php, key);
                write_php(php, member);
            }
            php.push('}');
        }
    }
}

fn write_php_string(php: &mut String, text: &str) {
    let _ = write!(php, "s:{}:\"{text}\";", text.len());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn xml_repeats_array_elements_and_escapes_text() {
        let document = json!({ "entry": [{
            "hash": "ab",
            "photos": [{ "value": "https://x.example/a?b=1&c=2", "type": "thumbnail" }],
            "aboutMe": "<b>hi</b> & \"bye\"",
        }]});
        let xml = to_xml(&document);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response><entry>"));
        assert!(xml.contains("<hash>ab</hash>"));
        assert!(xml.contains(
            "<photos><type>thumbnail</type><value>https://x.example/a?b=1&amp;c=2</value></photos>"
        ));
        assert!(xml.contains("<aboutMe>&lt;b&gt;hi&lt;/b&gt; &amp; &quot;bye&quot;</aboutMe>"));
        assert!(xml.ends_with("</entry></response>\n"));
    }

    #[test]
    fn php_serializes_like_phps_serialize() {
        // PHP: serialize(['entry' => [['hash' => 'ab', 'n' => 2, 'ok' => true, 'x' => null]]])
        let document = json!({ "entry": [{ "hash": "ab", "n": 2, "ok": true, "x": null }] });
        assert_eq!(
            to_php(&document),
            "a:1:{s:5:\"entry\";a:1:{i:0;a:4:{s:4:\"hash\";s:2:\"ab\";s:1:\"n\";i:2;\
             s:2:\"ok\";b:1;s:1:\"x\";N;}}}"
        );
    }

    #[test]
    fn php_string_lengths_count_bytes() {
        assert_eq!(to_php(&json!("Zoë")), "s:4:\"Zoë\";");
        assert_eq!(to_php(&json!("say \"hi\"")), "s:8:\"say \"hi\"\";");
    }
}
