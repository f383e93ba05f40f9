//! The `[oidc]` keys: single sign-on through one OpenID provider the operator names
//! (`src/sso/`), and `password_login`, which can switch local passwords off once it is set.
//!
//! In the TOML file the keys sit in an `[oidc]` table (`issuer = …`); as environment
//! variables and `--set` flags they are flat (`CAMEO_OIDC_ISSUER`, `oidc_issuer`). The client
//! secret comes from `oidc_client_secret` (best as `CAMEO_OIDC_CLIENT_SECRET`) or from the
//! file `oidc_client_secret_file` names; it is a [`Secret`]: printed as "(set)", never logged.

use std::path::Path;
use std::time::Duration;

use super::{ConfigError, Layers, parse_int_in};
use crate::secrets::Secret;

/// The provider and this server's registration with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcSettings {
    /// The issuer identifier exactly as the provider states it (and as ID tokens carry it).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Scopes asked for; always includes `openid`.
    pub scopes: Vec<String>,
    /// How the login page names the provider ("Log in with …").
    pub display_name: String,
    /// Total time for one request to the provider (discovery, keys, token exchange).
    pub timeout: Duration,
}

/// Longest client secret read from a file or a variable.
const MAX_SECRET_BYTES: usize = 1024;

/// `[oidc]` when `oidc_issuer` is set, `None` otherwise; refuses half a setup.
pub(super) fn oidc_settings(layers: &Layers) -> Result<Option<OidcSettings>, ConfigError> {
    let issuer = layers.parse("oidc_issuer", parse_issuer)?;
    let client_id = layers.parse("oidc_client_id", |v| {
        if v.len() <= 255 && v.chars().all(|c| c.is_ascii_graphic()) {
            Ok(v.to_string())
        } else {
            Err("printable ASCII without spaces, at most 255 characters".into())
        }
    })?;
    let inline_secret = layers.parse("oidc_client_secret", parse_secret)?;
    let secret_file = layers.parse("oidc_client_secret_file", |v| Ok(v.to_string()))?;
    let scopes = layers.parse("oidc_scopes", parse_scopes)?;
    let display_name = layers.parse("oidc_display_name", |v| {
        if (1..=60).contains(&v.chars().count()) && !v.chars().any(char::is_control) {
            Ok(v.to_string())
        } else {
            Err("1 to 60 characters".into())
        }
    })?;
    let timeout =
        Duration::from_millis(layers.parse("oidc_timeout_ms", |v| parse_int_in(v, 500, 30_000))?);
    if issuer.is_empty() {
        return Ok(None);
    }
    if client_id.is_empty() {
        return Err(ConfigError("oidc_issuer needs oidc_client_id".into()));
    }
    let client_secret = match (inline_secret.is_empty(), secret_file.is_empty()) {
        (false, true) => inline_secret,
        (true, false) => read_secret_file(Path::new(&secret_file))?,
        (false, false) => {
            return Err(ConfigError(
                "set oidc_client_secret or oidc_client_secret_file, not both".into(),
            ));
        }
        (true, true) => {
            return Err(ConfigError(
                "oidc_issuer needs oidc_client_secret or oidc_client_secret_file".into(),
            ));
        }
    };
    Ok(Some(OidcSettings {
        issuer,
        client_id,
        client_secret,
        scopes,
        display_name,
        timeout,
    }))
}

/// `password_login = false` only makes sense with a provider to log in with.
pub(super) fn check_password_login(
    password_login: bool,
    oidc: Option<&OidcSettings>,
) -> Result<(), ConfigError> {
    if !password_login && oidc.is_none() {
        return Err(ConfigError(
            "password_login = false needs [oidc] (nobody could log in)".into(),
        ));
    }
    Ok(())
}

/// An https URL, or http on a loopback host (a provider on the same machine, or a test's).
/// Kept exactly as typed: ID tokens must carry the same string.
fn parse_issuer(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Ok(String::new());
    }
    let url = url::Url::parse(text).map_err(|_| "not a URL".to_string())?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err("missing host".into()),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("https://, or http:// on a loopback host".into()),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err("no query, fragment or user name".into());
    }
    Ok(text.to_string())
}

fn parse_secret(text: &str) -> Result<Secret, String> {
    if text.len() <= MAX_SECRET_BYTES && text.chars().all(|c| c.is_ascii_graphic()) {
        Ok(Secret::new(text.to_string()))
    } else {
        Err(format!(
            "printable ASCII without spaces, at most {MAX_SECRET_BYTES} bytes"
        ))
    }
}

/// The secret in `path`, without its trailing newline; errors never show its content.
fn read_secret_file(path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "cannot read oidc_client_secret_file {}: {e}",
            path.display()
        ))
    })?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(ConfigError(format!(
            "oidc_client_secret_file {} is empty",
            path.display()
        )));
    }
    parse_secret(secret).map_err(|rule| {
        ConfigError(format!(
            "oidc_client_secret_file {}: expected {rule}",
            path.display()
        ))
    })
}

/// Space- or comma-separated scope names; `openid` is added when missing.
fn parse_scopes(text: &str) -> Result<Vec<String>, String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in text.split([' ', ',']).filter(|s| !s.is_empty()) {
        let valid = scope.len() <= 64
            && scope
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
        if !valid {
            return Err(format!("{scope:?} is not a scope name"));
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    if scopes.len() > 20 {
        return Err("at most 20 scopes".into());
    }
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    Ok(scopes)
}

/// Moves the keys of an `[oidc]` table in the config file to their flat `oidc_*` names.
pub(super) fn flatten_oidc_table(file: &mut toml::Table) -> Result<(), ConfigError> {
    let Some(table) = file.remove("oidc") else {
        return Ok(());
    };
    let toml::Value::Table(table) = table else {
        return Err(ConfigError("`oidc` must be a table: [oidc]".into()));
    };
    for (name, value) in table {
        file.insert(format!("oidc_{name}"), value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_https_or_loopback_http_and_kept_as_typed() {
        assert_eq!(
            parse_issuer("https://id.example.org/realms/staff/").unwrap(),
            "https://id.example.org/realms/staff/"
        );
        assert!(parse_issuer("http://127.0.0.1:9000").is_ok());
        assert!(parse_issuer("http://localhost:9000").is_ok());
        assert!(parse_issuer("http://id.example.org").is_err());
        assert!(parse_issuer("ftp://id.example.org").is_err());
        assert!(parse_issuer("https://id.example.org/?x=1").is_err());
        assert_eq!(parse_issuer("").unwrap(), "");
    }

    #[test]
    fn openid_is_always_asked_for_and_scopes_are_bounded() {
        assert_eq!(
            parse_scopes("email profile").unwrap(),
            ["openid", "email", "profile"]
        );
        assert_eq!(parse_scopes("openid,email").unwrap(), ["openid", "email"]);
        assert!(parse_scopes("email \"x").is_err());
    }

    #[test]
    fn the_oidc_table_becomes_flat_keys() {
        let mut file: toml::Table =
            "[oidc]\nissuer = \"https://id.example.org\"\nclient_id = \"cameo\""
                .parse()
                .unwrap();
        flatten_oidc_table(&mut file).unwrap();
        assert_eq!(file["oidc_issuer"].as_str(), Some("https://id.example.org"));
        assert_eq!(file["oidc_client_id"].as_str(), Some("cameo"));
        let mut wrong: toml::Table = "oidc = 1".parse().unwrap();
        assert!(flatten_oidc_table(&mut wrong).is_err());
    }

    #[test]
    fn a_secret_file_is_read_without_its_newline_and_never_echoed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cret-value\n").unwrap();
        assert_eq!(read_secret_file(&path).unwrap().expose(), "s3cret-value");
        std::fs::write(&path, "has space inside\n").unwrap();
        let refused = read_secret_file(&path).unwrap_err().to_string();
        assert!(!refused.contains("space inside"), "{refused}");
    }

    fn load(file: &str, env: &[(&str, &str)]) -> Result<super::super::Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cameo.toml");
        std::fs::write(&path, file).unwrap();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let layers = Layers::load(Some(&path), env, Default::default())?;
        super::super::Config::from_layers(&layers)
    }

    #[test]
    fn an_oidc_table_with_its_secret_in_the_environment_is_read_and_never_printed() {
        let file = "password_login = false\n[oidc]\nissuer = \"https://id.example.org\"\n\
                    client_id = \"cameo\"\ndisplay_name = \"Example ID\"\n";
        let config = load(file, &[("CAMEO_OIDC_CLIENT_SECRET", "s3cr3t-value")]).unwrap();
        let oidc = config.oidc.as_ref().unwrap();
        assert_eq!(oidc.issuer, "https://id.example.org");
        assert_eq!(oidc.client_secret.expose(), "s3cr3t-value");
        assert_eq!(oidc.scopes, ["openid", "email", "profile"]);
        assert!(!config.password_login);
        let printed = config.to_toml();
        assert!(
            printed.contains("oidc_client_secret = \"(set)\""),
            "{printed}"
        );
        assert!(printed.contains("password_login = false"), "{printed}");
        let debugged = format!("{config:?}");
        assert!(!printed.contains("s3cr3t") && !debugged.contains("s3cr3t"));
    }

    #[test]
    fn half_a_setup_is_refused() {
        let no_provider = load("password_login = false", &[]).unwrap_err();
        assert!(
            no_provider.to_string().contains("needs [oidc]"),
            "{no_provider}"
        );
        let issuer = "[oidc]\nissuer = \"https://id.example.org\"\nclient_id = \"cameo\"";
        let no_secret = load(issuer, &[]).unwrap_err();
        assert!(
            no_secret.to_string().contains("oidc_client_secret"),
            "{no_secret}"
        );
        let unknown = load("[oidc]\nisuer = \"https://id.example.org\"", &[]).unwrap_err();
        assert!(unknown.to_string().contains("oidc_isuer"), "{unknown}");
    }
}
