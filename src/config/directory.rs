//! The `[directory]` table of cameo.toml: where the company directory (LDAP / Active
//! Directory) is, how to bind and search it, and how its photos rank against people's own
//! (src/directory/). Every key is validated here; `--set directory.KEY=VALUE` overrides one.
//!
//! The bind password is never a key: `bind_password_env` names an environment variable and
//! `bind_password_file` a file that holds it, read at each sync, so it appears in no config
//! file, no `cameo config` output and no log.

use std::path::PathBuf;
use std::time::Duration;

/// Whose photo an address shows when a person who owns it uploaded one and the directory
/// has one too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precedence {
    /// The directory's photo wins.
    Directory,
    /// A photo the person set wins; the directory's fills in when they set none.
    User,
}

impl Precedence {
    pub fn name(self) -> &'static str {
        match self {
            Precedence::Directory => "directory",
            Precedence::User => "user",
        }
    }
}

/// Where the bind password comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordSource {
    /// An anonymous or passwordless bind.
    None,
    /// The named environment variable.
    Env(String),
    /// The file's contents, without a trailing newline.
    File(PathBuf),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectorySettings {
    /// `ldap://HOST[:PORT]` or `ldaps://HOST[:PORT]`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    pub starttls: bool,
    /// PEM file of the CA that signed the directory's certificate (default: the system's).
    pub ca_file: Option<PathBuf>,
    /// Empty: an anonymous bind.
    pub bind_dn: String,
    pub password: PasswordSource,
    pub base_dn: String,
    pub filter: String,
    /// Entries that also match this filter are treated as disabled (besides AD's
    /// `userAccountControl` bit 0x2). Empty: none.
    pub disabled_filter: String,
    /// Attributes holding email addresses; `proxyAddresses` values keep only `smtp:` ones.
    pub address_attributes: Vec<String>,
    /// Attributes that may hold the photo, in order of preference.
    pub photo_attributes: Vec<String>,
    /// How often the server syncs (zero: only `cameo directory sync`).
    pub interval: Duration,
    pub precedence: Precedence,
    /// Entries per page of the Simple Paged Results control.
    pub page_size: u32,
    /// Connecting, binding and each page of a search.
    pub timeout: Duration,
}

/// The keys of the table, with their defaults ("" = required or none).
const KEYS: &[(&str, &str)] = &[
    ("url", ""),
    ("starttls", "false"),
    ("ca_file", ""),
    ("bind_dn", ""),
    ("bind_password_env", ""),
    ("bind_password_file", ""),
    ("base_dn", ""),
    ("filter", "(objectClass=person)"),
    ("disabled_filter", ""),
    ("address_attributes", "mail,proxyAddresses"),
    ("photo_attributes", "thumbnailPhoto,jpegPhoto"),
    ("interval_s", "3600"),
    ("precedence", "user"),
    ("page_size", "500"),
    ("timeout_s", "30"),
];

/// Reads the table (`None` when neither the file nor a flag names a directory). `flags` are
/// the command line's `directory.KEY` settings, which win over the file's.
pub fn from_table(
    table: Option<&toml::Value>,
    flags: &std::collections::BTreeMap<String, String>,
) -> Result<Option<DirectorySettings>, String> {
    let table = match table {
        None => toml::Table::new(),
        Some(toml::Value::Table(table)) => table.clone(),
        Some(_) => return Err("`directory` must be a table: [directory]".into()),
    };
    let mut values = std::collections::BTreeMap::new();
    for (key, value) in &table {
        values.insert(key.clone(), toml_text(value));
    }
    for (key, value) in flags {
        if let Some(key) = key.strip_prefix("directory.") {
            values.insert(key.to_string(), value.clone());
        }
    }
    if values.is_empty() {
        return Ok(None);
    }
    if let Some(unknown) = values.keys().find(|k| !KEYS.iter().any(|(n, _)| n == k)) {
        let known: Vec<&str> = KEYS.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "[directory]: unknown key `{unknown}` (known keys: {})",
            known.join(", ")
        ));
    }
    let get = |key: &str| -> String {
        values
            .get(key)
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| {
                let default = KEYS.iter().find(|(n, _)| *n == key).map(|(_, d)| *d);
                default.unwrap_or_default().to_string()
            })
    };
    let bad = |key: &str, expected: &str| format!("[directory] {key}: expected {expected}");
    let url = parse_ldap_url(&get("url")).map_err(|e| bad("url", &e))?;
    let starttls = match get("starttls").as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(bad("starttls", "true or false")),
    };
    if starttls && url.starts_with("ldaps://") {
        return Err(bad(
            "starttls",
            "false with an ldaps:// url (it is TLS already)",
        ));
    }
    let password = match (get("bind_password_env"), get("bind_password_file")) {
        (env, file) if !env.is_empty() && !file.is_empty() => {
            return Err(bad(
                "bind_password_env",
                "only one of bind_password_env and bind_password_file",
            ));
        }
        (env, _) if !env.is_empty() => {
            if !env.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') || env.len() > 100 {
                return Err(bad("bind_password_env", "an environment variable's name"));
            }
            PasswordSource::Env(env)
        }
        (_, file) if !file.is_empty() => PasswordSource::File(PathBuf::from(file)),
        _ => PasswordSource::None,
    };
    let base_dn = get("base_dn");
    if base_dn.is_empty() || base_dn.len() > 1000 {
        return Err(bad(
            "base_dn",
            "the DN searched under, e.g. ou=people,dc=example,dc=org",
        ));
    }
    let filter = parse_filter(&get("filter")).map_err(|e| bad("filter", &e))?;
    let disabled_filter = match get("disabled_filter") {
        empty if empty.is_empty() => empty,
        text => parse_filter(&text).map_err(|e| bad("disabled_filter", &e))?,
    };
    let ca_file = Some(get("ca_file"))
        .filter(|f| !f.is_empty())
        .map(PathBuf::from);
    Ok(Some(DirectorySettings {
        url,
        starttls,
        ca_file,
        bind_dn: get("bind_dn"),
        password,
        base_dn,
        filter,
        disabled_filter,
        address_attributes: parse_attributes(&get("address_attributes"))
            .map_err(|e| bad("address_attributes", &e))?,
        photo_attributes: parse_attributes(&get("photo_attributes"))
            .map_err(|e| bad("photo_attributes", &e))?,
        interval: Duration::from_secs(
            parse_in(&get("interval_s"), 0, 604_800)
                .map_err(|e| bad("interval_s", &format!("seconds, {e}")))?,
        ),
        precedence: match get("precedence").as_str() {
            "user" => Precedence::User,
            "directory" => Precedence::Directory,
            _ => return Err(bad("precedence", "user or directory")),
        },
        page_size: parse_in(&get("page_size"), 1, 10_000).map_err(|e| bad("page_size", &e))? as u32,
        timeout: Duration::from_secs(
            parse_in(&get("timeout_s"), 1, 600)
                .map_err(|e| bad("timeout_s", &format!("seconds, {e}")))?,
        ),
    }))
}

impl DirectorySettings {
    /// The table as `cameo config` prints it (the password only as where it is read from).
    pub fn to_toml(&self) -> String {
        let list = |items: &[String]| {
            let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
            format!("[{}]", quoted.join(", "))
        };
        let (env, file) = match &self.password {
            PasswordSource::None => (String::new(), String::new()),
            PasswordSource::Env(name) => (name.clone(), String::new()),
            PasswordSource::File(path) => (String::new(), path.display().to_string()),
        };
        let ca_file = self.ca_file.as_ref().map(|p| p.display().to_string());
        let lines = [
            ("url", format!("{:?}", self.url)),
            ("starttls", self.starttls.to_string()),
            ("ca_file", format!("{:?}", ca_file.unwrap_or_default())),
            ("bind_dn", format!("{:?}", self.bind_dn)),
            ("bind_password_env", format!("{env:?}")),
            ("bind_password_file", format!("{file:?}")),
            ("base_dn", format!("{:?}", self.base_dn)),
            ("filter", format!("{:?}", self.filter)),
            ("disabled_filter", format!("{:?}", self.disabled_filter)),
            ("address_attributes", list(&self.address_attributes)),
            ("photo_attributes", list(&self.photo_attributes)),
            ("interval_s", self.interval.as_secs().to_string()),
            ("precedence", format!("{:?}", self.precedence.name())),
            ("page_size", self.page_size.to_string()),
            ("timeout_s", self.timeout.as_secs().to_string()),
        ];
        let mut text = String::from("\n[directory]\n");
        for (key, value) in lines {
            text.push_str(&format!("{key} = {value}\n"));
        }
        text
    }
}

fn toml_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| match item {
                toml::Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

fn parse_ldap_url(text: &str) -> Result<String, String> {
    let expected = "ldap://HOST[:PORT] or ldaps://HOST[:PORT]";
    let url = url::Url::parse(text).map_err(|_| expected.to_string())?;
    let plain = matches!(url.scheme(), "ldap" | "ldaps")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && matches!(url.path(), "" | "/")
        && url.query().is_none();
    if plain {
        Ok(text.trim_end_matches('/').to_string())
    } else {
        Err(expected.into())
    }
}

/// An LDAP filter: parenthesised, balanced, at most 1,000 characters. The server parses it;
/// this catches a missing parenthesis before a sync starts.
pub fn parse_filter(text: &str) -> Result<String, String> {
    let expected =
        "an LDAP filter in parentheses, e.g. (objectClass=person), at most 1000 characters";
    if text.len() > 1000 || !text.starts_with('(') || !text.ends_with(')') {
        return Err(expected.into());
    }
    let mut depth: i32 = 0;
    for (index, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 || (depth == 0 && index + 1 < text.len()) {
            return Err(expected.into());
        }
    }
    if depth == 0 {
        Ok(text.to_string())
    } else {
        Err(expected.into())
    }
}

/// A list of attribute names (letters, digits, '-'; starting with a letter).
fn parse_attributes(text: &str) -> Result<Vec<String>, String> {
    let expected = "a list of attribute names, e.g. [\"mail\", \"proxyAddresses\"]";
    let names: Vec<String> = text
        .split(',')
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    let valid = |n: &String| {
        n.len() <= 64
            && n.starts_with(|c: char| c.is_ascii_alphabetic())
            && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if names.is_empty() || names.len() > 16 || !names.iter().all(valid) {
        return Err(expected.into());
    }
    Ok(names)
}

fn parse_in(text: &str, min: u64, max: u64) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("an integer from {min} to {max}")),
    }
}

#[cfg(test)]
mod tests;
