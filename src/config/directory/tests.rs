//! The `[directory]` table's parsing and validation.

use super::*;

fn read(text: &str) -> Result<Option<DirectorySettings>, String> {
    let table: toml::Table = text.parse().unwrap();
    from_table(table.get("directory"), &Default::default())
}

#[test]
fn a_minimal_table_takes_the_defaults() {
    let settings =
        read("[directory]\nurl = \"ldaps://dc1.example.org\"\nbase_dn = \"dc=example,dc=org\"")
            .unwrap()
            .unwrap();
    assert_eq!(settings.url, "ldaps://dc1.example.org");
    assert_eq!(settings.filter, "(objectClass=person)");
    assert_eq!(settings.address_attributes, ["mail", "proxyAddresses"]);
    assert_eq!(settings.photo_attributes, ["thumbnailPhoto", "jpegPhoto"]);
    assert_eq!(settings.precedence, Precedence::User);
    assert_eq!(settings.interval, Duration::from_secs(3600));
    assert_eq!(settings.password, PasswordSource::None);
    assert_eq!(read("").unwrap(), None);
}

#[test]
fn bad_values_are_refused_naming_the_key() {
    let base = "[directory]\nbase_dn = \"dc=x\"\n";
    for (extra, key) in [
        ("url = \"http://x\"", "url"),
        ("url = \"ldap://u:p@x\"", "url"),
        ("url = \"ldaps://x\"\nstarttls = true", "starttls"),
        (
            "url = \"ldap://x\"\nfilter = \"objectClass=person\"",
            "filter",
        ),
        ("url = \"ldap://x\"\nfilter = \"(a=b))(\"", "filter"),
        ("url = \"ldap://x\"\nprecedence = \"mine\"", "precedence"),
        (
            "url = \"ldap://x\"\nphoto_attributes = [\"a b\"]",
            "photo_attributes",
        ),
        (
            "url = \"ldap://x\"\nbind_password_env = \"A\"\nbind_password_file = \"f\"",
            "bind_password_env",
        ),
        (
            "url = \"ldap://x\"\nbind_password = \"secret\"",
            "bind_password",
        ),
    ] {
        let error = read(&format!("{base}{extra}")).unwrap_err();
        assert!(error.contains(key), "{extra}: {error}");
        assert!(!error.contains("secret"), "{error}");
    }
}

#[test]
fn flags_override_the_file_and_the_password_is_printed_as_its_source() {
    let table: toml::Table =
        "[directory]\nurl = \"ldap://a\"\nbase_dn = \"dc=x\"\nbind_password_env = \"LDAP_PW\""
            .parse()
            .unwrap();
    let flags = [("directory.precedence".to_string(), "directory".to_string())].into();
    let settings = from_table(table.get("directory"), &flags).unwrap().unwrap();
    assert_eq!(settings.precedence, Precedence::Directory);
    let printed = settings.to_toml();
    assert!(
        printed.contains("bind_password_env = \"LDAP_PW\""),
        "{printed}"
    );
    assert!(printed.contains("precedence = \"directory\""), "{printed}");
}
