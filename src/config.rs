//! Cameo's configuration: one validated [`Config`] built from four layers,
//! defaults < `cameo.toml` < `CAMEO_*` environment variables < command-line flags.
//!
//! Every key is declared once in [`KEYS`] (its name, what it allows, its default), and parsed
//! by one function, so a bad value anywhere stops start-up with a single line that names the
//! key, where the value came from and what is allowed. No global state: each test builds its
//! own `Config`.

mod oidc;
pub use oidc::OidcSettings;
pub mod directory;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::defaults::Style;

/// What `d=` falls back to when a request names nothing usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultStyle {
    /// Answer 404 with no image.
    NotFound,
    Style(Style),
}

impl fmt::Display for DefaultStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DefaultStyle::NotFound => f.write_str("404"),
            DefaultStyle::Style(style) => f.write_str(style.name()),
        }
    }
}

/// How misses are sent to Gravatar (PROTOCOL.md "The Gravatar fallback").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GravatarMode {
    /// Fetch from the upstream and serve the bytes ourselves.
    Proxy,
    /// 302 to the upstream.
    Redirect,
    Off,
}

impl GravatarMode {
    pub fn name(self) -> &'static str {
        match self {
            GravatarMode::Proxy => "proxy",
            GravatarMode::Redirect => "redirect",
            GravatarMode::Off => "off",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The database the store opens, read from `database_url`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

/// The effective, validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// Where the store lives: empty for `cameo.db` in `data_dir`, a `sqlite://` path, or a
    /// `postgres://` URL (may hold a password: a secret). See [`Config::database`].
    pub database_url: String,
    /// Public URL of this server, without a trailing slash.
    pub base_url: String,
    /// Email domains this server serves (used by federation checks and address rules).
    pub domains: Vec<String>,
    pub max_size: u32,
    pub default_style: DefaultStyle,
    pub cache_max_age: u32,
    /// `stale-while-revalidate` seconds of avatar responses (0: left out).
    pub cache_stale_while_revalidate: u32,
    /// `stale-if-error` seconds of avatar responses (0: left out).
    pub cache_stale_if_error: u32,
    pub render_cache_bytes: u64,
    pub trusted_default_hosts: Vec<String>,
    pub max_upload_bytes: u64,
    pub max_image_pixels: u64,
    pub image_workers: usize,
    pub log_format: LogFormat,
    pub gravatar_mode: GravatarMode,
    /// Base URL of the Gravatar upstream, without a trailing slash.
    pub gravatar_upstream: String,
    /// Total time allowed for one upstream request.
    pub gravatar_timeout: std::time::Duration,
    /// DNS servers for SRV discovery; empty means the system's resolvers.
    pub dns_servers: Vec<SocketAddr>,
    /// Lets the domain check probe private, loopback and link-local addresses (tests only).
    pub allow_private_probe: bool,
    /// Whether anyone may sign up.
    pub registration_open: bool,
    /// `smtp://`, `smtps://` or `smtp+starttls://` URL (may hold credentials: a secret);
    /// empty = the `log` transport, which writes mails to the server log.
    pub smtp_url: String,
    pub mail_from: String,
    pub max_unconfirmed_addresses: u32,
    pub max_photos_per_account: u32,
    /// Accept only addresses in `domains` on the web UI.
    pub restrict_addresses_to_domains: bool,
    pub session_days: u32,
    /// Whether the lookup and profile API answers requests without an API token.
    pub api_anonymous: bool,
    /// API requests per hour for one token.
    pub api_token_rate_limit: u32,
    /// API requests per hour for one client address without a token.
    pub api_anonymous_rate_limit: u32,
    /// Lookups per hour of one email address, whoever asks.
    pub api_address_rate_limit: u32,
    /// The Libravatar server asked when an email's domain publishes no SRV records ("" = none).
    pub libravatar_fallback: String,
    /// Reverse proxies whose `X-Forwarded-For`/`-Proto` are believed (addresses or CIDRs).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Bearer token that opens `/metrics` from anywhere; empty: loopback clients only.
    pub metrics_token: String,
    /// Where originals' bytes are kept: the database, or an S3-compatible bucket.
    pub photo_store: crate::photo_store::PhotoStoreSetting,
    /// The bucket's endpoint for a self-hosted store (`http(s)://host:port`); empty: AWS.
    pub s3_endpoint: String,
    pub s3_region: String,
    /// Credentials of the bucket (secrets: printed as "(set)", never logged).
    pub s3_access_key_id: String,
    pub s3_secret_access_key: String,
    /// Rate limits and lock-outs count an IPv6 client by this prefix of its address (a
    /// household or a server usually holds a whole /64 and can rotate inside it).
    pub ipv6_client_prefix: u8,
    /// Where changed avatars are announced for CDN purges ("" = nowhere).
    pub purge_url: String,
    /// Whose purge API `purge_url` speaks.
    pub purge_format: crate::purge::PurgeFormat,
    /// Sent as `Authorization: Bearer …` with each purge ("" = none). Never printed.
    pub purge_token: String,
    /// Sizes whose `?s=` URLs a purge lists besides the bare avatar URL.
    pub purge_sizes: Vec<u32>,
    /// Bytes every decode of untrusted image bytes reserves from before it runs (one pool
    /// per process, see `imaging::budget`).
    pub image_memory_budget: u64,
    /// Password hashes and verifications that may wait for a core (0: four per core);
    /// more are refused with 503 at once.
    pub password_queue: usize,
    /// Outbound probes per hour for one client: `/tools/check`, OpenID "Check now" and API
    /// lookups that reach other servers share this budget (no port scanning through Cameo).
    pub outbound_probe_limit: u32,
    /// Where phone numbers written without `+` are read (`None`: such numbers are refused).
    pub phone_default_region: Option<phonenumber::country::Id>,
    /// The WhatsApp gateways of phone lookups and how hard they may be asked.
    pub gateways: GatewaySettings,
    /// Whether local passwords work (log in, sign up, reset); false needs [`Config::oidc`].
    pub password_login: bool,
    /// Single sign-on through an OpenID provider (`[oidc]`), when configured.
    pub oidc: Option<OidcSettings>,
    /// The company directory synced into addresses and photos (`[directory]`), if any.
    pub directory: Option<directory::DirectorySettings>,
}

/// The WhatsApp gateways (seeds 003 GoWA and 004 Green API). An empty URL switches one off.
/// The password and the token are secrets: printed as "(set)", never logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewaySettings {
    /// GoWA's base URL (`GET {url}/user/avatar`), without a trailing slash.
    pub gowa_url: String,
    /// GoWA's Basic-auth user and password (empty user: no `Authorization` header).
    pub gowa_username: String,
    pub gowa_password: crate::secrets::Secret,
    /// Sent as `X-Device-Id` when not empty (GoWA with several devices).
    pub gowa_device_id: String,
    /// Ask GoWA for the lower-resolution preview (`is_preview=true`).
    pub gowa_preview: bool,
    /// Green API's base URL (`POST {url}/waInstance{id}/getAvatar/{token}`).
    pub greenapi_url: String,
    pub greenapi_instance_id: String,
    pub greenapi_token: crate::secrets::Secret,
    /// Total time for one gateway call, and for fetching the image it names.
    pub timeout: std::time::Duration,
    /// How long a found avatar is believed before the gateway is asked again.
    pub positive_ttl: std::time::Duration,
    /// How long "no avatar" is believed.
    pub negative_ttl: std::time::Duration,
    /// Calls one gateway may have in flight at once.
    pub concurrency: usize,
    /// The shortest gap between the starts of two calls to one gateway.
    pub min_interval: std::time::Duration,
}

impl Config {
    /// `Cache-Control` of avatar responses: `public, max-age=N` and the stale allowances.
    pub fn avatar_cache_control(&self) -> String {
        let mut value = format!("public, max-age={}", self.cache_max_age);
        for (directive, seconds) in [
            ("stale-while-revalidate", self.cache_stale_while_revalidate),
            ("stale-if-error", self.cache_stale_if_error),
        ] {
            if seconds > 0 {
                value.push_str(&format!(", {directive}={seconds}"));
            }
        }
        value
    }

    /// The SQLite file: `cameo.db` in the data directory unless `database_url` names
    /// another `sqlite://` file. (With PostgreSQL there is no file; SQLite-only tools such
    /// as `cameo backup` refuse to run, see [`Config::database`].)
    pub fn database_path(&self) -> PathBuf {
        match self.database() {
            Database::Sqlite(path) => path,
            Database::Postgres(_) => self.data_dir.join("cameo.db"),
        }
    }

    /// Which database the store opens.
    pub fn database(&self) -> Database {
        if let Some(url) = self.database_url.strip_prefix("sqlite://") {
            let path = url.split('?').next().unwrap_or_default();
            Database::Sqlite(PathBuf::from(path))
        } else if self.database_url.is_empty() {
            Database::Sqlite(self.data_dir.join("cameo.db"))
        } else {
            Database::Postgres(self.database_url.clone())
        }
    }

    /// A configuration for tests and tools: every default, with the given data directory and
    /// an ephemeral port on loopback.
    pub fn for_data_dir(data_dir: &Path) -> Config {
        let mut layers = Layers::default();
        layers
            .flags
            .insert("data_dir".into(), data_dir.display().to_string());
        layers.flags.insert("bind".into(), "127.0.0.1:0".into());
        // The defaults are valid by construction; a failure here is a bug in KEYS.
        Config::from_layers(&layers).expect("the built-in defaults are valid")
    }

    /// Builds the configuration from its layers, validating every key.
    pub fn from_layers(layers: &Layers) -> Result<Config, ConfigError> {
        layers.check_unknown_keys()?;
        let bind = layers.parse("bind", parse_socket_addr)?;
        let base_url = match layers.raw("base_url") {
            Some(_) => layers.parse("base_url", parse_base_url)?,
            None => format!("http://{bind}"),
        };
        let oidc = oidc::oidc_settings(layers)?;
        let password_login = layers.parse("password_login", parse_bool)?;
        oidc::check_password_login(password_login, oidc.as_ref())?;
        Ok(Config {
            bind,
            data_dir: layers.parse("data_dir", |v| Ok(PathBuf::from(v)))?,
            database_url: layers.parse("database_url", parse_database_url)?,
            base_url,
            domains: layers.parse("domains", parse_domain_list)?,
            max_size: layers.parse("max_size", |v| parse_int_in(v, 1, 2048))? as u32,
            default_style: layers.parse("default_style", parse_default_style)?,
            cache_max_age: layers.parse("cache_max_age", |v| parse_int_in(v, 0, 31_536_000))?
                as u32,
            cache_stale_while_revalidate: layers.parse("cache_stale_while_revalidate", |v| {
                parse_int_in(v, 0, 31_536_000)
            })? as u32,
            cache_stale_if_error: layers
                .parse("cache_stale_if_error", |v| parse_int_in(v, 0, 31_536_000))?
                as u32,
            render_cache_bytes: layers
                .parse("render_cache_bytes", |v| parse_byte_size_in(v, 0, 64 << 30))?,
            trusted_default_hosts: layers.parse("trusted_default_hosts", parse_domain_list)?,
            max_upload_bytes: layers.parse("max_upload_bytes", |v| {
                parse_byte_size_in(v, 1024, 100 << 20)
            })?,
            max_image_pixels: layers
                .parse("max_image_pixels", |v| parse_int_in(v, 1, 400_000_000))?,
            image_workers: match layers.parse("image_workers", |v| parse_int_in(v, 0, 256))? {
                0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
                n => n as usize,
            },
            log_format: layers.parse("log_format", |v| match v {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                _ => Err(String::new()),
            })?,
            gravatar_mode: layers.parse("gravatar_mode", |v| match v {
                "proxy" => Ok(GravatarMode::Proxy),
                "redirect" => Ok(GravatarMode::Redirect),
                "off" => Ok(GravatarMode::Off),
                _ => Err(String::new()),
            })?,
            gravatar_upstream: layers.parse("gravatar_upstream", parse_base_url)?,
            gravatar_timeout: std::time::Duration::from_millis(
                layers.parse("gravatar_timeout_ms", |v| parse_int_in(v, 100, 2000))?,
            ),
            dns_servers: layers.parse("dns_servers", parse_socket_addr_list)?,
            allow_private_probe: layers.parse("allow_private_probe", parse_bool)?,
            registration_open: layers.parse("registration", |v| match v {
                "open" => Ok(true),
                "closed" => Ok(false),
                _ => Err(String::new()),
            })?,
            smtp_url: layers.parse("smtp_url", parse_smtp_url)?,
            mail_from: layers.parse("mail_from", parse_mailbox)?,
            max_unconfirmed_addresses: layers
                .parse("max_unconfirmed_addresses", |v| parse_int_in(v, 1, 100))?
                as u32,
            max_photos_per_account: layers
                .parse("max_photos_per_account", |v| parse_int_in(v, 1, 1000))?
                as u32,
            restrict_addresses_to_domains: layers
                .parse("restrict_addresses_to_domains", parse_bool)?,
            session_days: layers.parse("session_days", |v| parse_int_in(v, 1, 365))? as u32,
            api_anonymous: layers.parse("api_anonymous", parse_bool)?,
            api_token_rate_limit: layers
                .parse("api_token_rate_limit", |v| parse_int_in(v, 1, 1_000_000))?
                as u32,
            api_anonymous_rate_limit: layers.parse("api_anonymous_rate_limit", |v| {
                parse_int_in(v, 1, 1_000_000)
            })? as u32,
            api_address_rate_limit: layers
                .parse("api_address_rate_limit", |v| parse_int_in(v, 1, 1_000_000))?
                as u32,
            trusted_proxies: layers.parse("trusted_proxies", parse_network_list)?,
            ipv6_client_prefix: layers.parse("ipv6_client_prefix", |v| parse_int_in(v, 32, 128))?
                as u8,
            purge_url: layers.parse("purge_url", |v| {
                if v.is_empty() {
                    Ok(String::new())
                } else {
                    parse_base_url(v)
                }
            })?,
            purge_format: layers.parse("purge_format", |v| {
                crate::purge::PurgeFormat::parse(v).ok_or_else(String::new)
            })?,
            purge_token: layers.parse("purge_token", |v| {
                if v.chars().all(|c| c.is_ascii_graphic()) && v.len() <= 512 {
                    Ok(v.to_string())
                } else {
                    Err("printable ASCII without spaces, at most 512 characters".into())
                }
            })?,
            purge_sizes: layers.parse("purge_sizes", |v| {
                let sizes: Result<Vec<u32>, String> = v
                    .split(',')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .map(|part| parse_int_in(part, 1, 2048).map(|n| n as u32))
                    .collect();
                sizes.and_then(|sizes| {
                    if sizes.len() <= 32 {
                        Ok(sizes)
                    } else {
                        Err("at most 32 sizes".into())
                    }
                })
            })?,
            password_queue: layers.parse("password_queue", |v| parse_int_in(v, 0, 1000))? as usize,
            metrics_token: layers.parse("metrics_token", |v| {
                if v.chars().all(|c| c.is_ascii_graphic()) && v.len() <= 200 {
                    Ok(v.to_string())
                } else {
                    Err("printable ASCII without spaces, at most 200 characters".into())
                }
            })?,
            photo_store: layers
                .parse("photo_store", crate::photo_store::PhotoStoreSetting::parse)?,
            s3_endpoint: layers.parse("s3_endpoint", |v| {
                if v.is_empty() {
                    Ok(String::new())
                } else {
                    parse_base_url(v)
                }
            })?,
            s3_region: layers.parse("s3_region", parse_s3_word)?,
            s3_access_key_id: layers.parse("s3_access_key_id", parse_s3_word)?,
            s3_secret_access_key: layers.parse("s3_secret_access_key", parse_s3_word)?,
            libravatar_fallback: layers.parse("libravatar_fallback", |v| {
                if v.is_empty() {
                    Ok(String::new())
                } else {
                    parse_base_url(v)
                }
            })?,
            image_memory_budget: layers.parse("image_memory_budget", |v| {
                parse_byte_size_in(v, 16 << 20, 64 << 30)
            })?,
            outbound_probe_limit: layers
                .parse("outbound_probe_limit", |v| parse_int_in(v, 1, 1_000_000))?
                as u32,
            phone_default_region: layers
                .parse("phone_default_region", crate::phone::parse_region)?,
            gateways: gateway_settings(layers)?,
            password_login,
            oidc,
            directory: directory::from_table(layers.file.get("directory"), &layers.flags)
                .map_err(ConfigError)?,
        })
    }

    /// The effective configuration as TOML, for `cameo config`, with the SMTP password
    /// redacted.
    pub fn to_toml(&self) -> String {
        let quoted = |text: &str| format!("{text:?}");
        let list = |items: Vec<String>| {
            let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
            format!("[{}]", quoted.join(", "))
        };
        let log_format = match self.log_format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        };
        let entries = [
            ("bind", quoted(&self.bind.to_string())),
            ("data_dir", quoted(&self.data_dir.display().to_string())),
            (
                "database_url",
                quoted(&redact_url_password(&self.database_url)),
            ),
            ("base_url", quoted(&self.base_url)),
            ("domains", list(self.domains.clone())),
            ("max_size", self.max_size.to_string()),
            ("default_style", quoted(&self.default_style.to_string())),
            ("cache_max_age", self.cache_max_age.to_string()),
            (
                "cache_stale_while_revalidate",
                self.cache_stale_while_revalidate.to_string(),
            ),
            (
                "cache_stale_if_error",
                self.cache_stale_if_error.to_string(),
            ),
            ("render_cache_bytes", self.render_cache_bytes.to_string()),
            (
                "trusted_default_hosts",
                list(self.trusted_default_hosts.clone()),
            ),
            ("max_upload_bytes", self.max_upload_bytes.to_string()),
            ("max_image_pixels", self.max_image_pixels.to_string()),
            ("image_workers", self.image_workers.to_string()),
            ("log_format", quoted(log_format)),
            ("gravatar_mode", quoted(self.gravatar_mode.name())),
            ("gravatar_upstream", quoted(&self.gravatar_upstream)),
            (
                "gravatar_timeout_ms",
                self.gravatar_timeout.as_millis().to_string(),
            ),
            (
                "dns_servers",
                list(self.dns_servers.iter().map(|a| a.to_string()).collect()),
            ),
            ("allow_private_probe", self.allow_private_probe.to_string()),
            (
                "registration",
                quoted(if self.registration_open {
                    "open"
                } else {
                    "closed"
                }),
            ),
            ("smtp_url", quoted(&redact_url_password(&self.smtp_url))),
            ("mail_from", quoted(&self.mail_from)),
            (
                "max_unconfirmed_addresses",
                self.max_unconfirmed_addresses.to_string(),
            ),
            (
                "max_photos_per_account",
                self.max_photos_per_account.to_string(),
            ),
            (
                "restrict_addresses_to_domains",
                self.restrict_addresses_to_domains.to_string(),
            ),
            ("session_days", self.session_days.to_string()),
            ("api_anonymous", self.api_anonymous.to_string()),
            (
                "api_token_rate_limit",
                self.api_token_rate_limit.to_string(),
            ),
            (
                "api_anonymous_rate_limit",
                self.api_anonymous_rate_limit.to_string(),
            ),
            (
                "api_address_rate_limit",
                self.api_address_rate_limit.to_string(),
            ),
            ("libravatar_fallback", quoted(&self.libravatar_fallback)),
            (
                "trusted_proxies",
                format!(
                    "[{}]",
                    self.trusted_proxies
                        .iter()
                        .map(|n| quoted(&n.to_string()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            ("ipv6_client_prefix", self.ipv6_client_prefix.to_string()),
            ("purge_url", quoted(&self.purge_url)),
            ("purge_format", quoted(self.purge_format.name())),
            (
                "purge_token",
                quoted(if self.purge_token.is_empty() {
                    ""
                } else {
                    "(set)"
                }),
            ),
            (
                "purge_sizes",
                format!(
                    "[{}]",
                    self.purge_sizes
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            ("password_queue", self.password_queue.to_string()),
            (
                "metrics_token",
                quoted(if self.metrics_token.is_empty() {
                    ""
                } else {
                    "(set)"
                }),
            ),
            ("image_memory_budget", self.image_memory_budget.to_string()),
            ("photo_store", quoted(&self.photo_store.name())),
            ("s3_endpoint", quoted(&self.s3_endpoint)),
            ("s3_region", quoted(&self.s3_region)),
            ("s3_access_key_id", quoted(&self.s3_access_key_id)),
            (
                "s3_secret_access_key",
                quoted(if self.s3_secret_access_key.is_empty() {
                    ""
                } else {
                    "(set)"
                }),
            ),
            (
                "outbound_probe_limit",
                self.outbound_probe_limit.to_string(),
            ),
            (
                "phone_default_region",
                quoted(
                    self.phone_default_region
                        .as_ref()
                        .map_or("", |r| r.as_ref()),
                ),
            ),
        ];
        let gateways = &self.gateways;
        let millis = |d: std::time::Duration| d.as_millis().to_string();
        let seconds = |d: std::time::Duration| d.as_secs().to_string();
        let gateway_entries = [
            ("gowa_url", quoted(&redact_url_password(&gateways.gowa_url))),
            ("gowa_username", quoted(&gateways.gowa_username)),
            ("gowa_password", quoted(gateways.gowa_password.shown())),
            ("gowa_device_id", quoted(&gateways.gowa_device_id)),
            ("gowa_preview", gateways.gowa_preview.to_string()),
            (
                "greenapi_url",
                quoted(&redact_url_password(&gateways.greenapi_url)),
            ),
            (
                "greenapi_instance_id",
                quoted(&gateways.greenapi_instance_id),
            ),
            ("greenapi_token", quoted(gateways.greenapi_token.shown())),
            ("gateway_timeout_ms", millis(gateways.timeout)),
            ("gateway_positive_ttl_s", seconds(gateways.positive_ttl)),
            ("gateway_negative_ttl_s", seconds(gateways.negative_ttl)),
            ("gateway_concurrency", gateways.concurrency.to_string()),
            ("gateway_min_interval_ms", millis(gateways.min_interval)),
        ];
        let oidc = self.oidc.as_ref();
        let oidc_entries = [
            ("password_login", self.password_login.to_string()),
            (
                "oidc_issuer",
                quoted(oidc.map_or("", |o| o.issuer.as_str())),
            ),
            (
                "oidc_client_id",
                quoted(oidc.map_or("", |o| o.client_id.as_str())),
            ),
            (
                "oidc_client_secret",
                quoted(oidc.map_or("", |o| o.client_secret.shown())),
            ),
            (
                "oidc_scopes",
                quoted(&oidc.map_or(String::new(), |o| o.scopes.join(" "))),
            ),
            (
                "oidc_display_name",
                quoted(oidc.map_or("", |o| o.display_name.as_str())),
            ),
            (
                "oidc_timeout_ms",
                oidc.map_or("5000".into(), |o| millis(o.timeout)),
            ),
        ];
        let mut text: String = entries
            .iter()
            .chain(&gateway_entries)
            .chain(&oidc_entries)
            .map(|(key, value)| format!("{key} = {value}\n"))
            .collect();
        if let Some(directory) = &self.directory {
            text.push_str(&directory.to_toml());
        }
        text
    }
}

/// One configuration key: its name (also its TOML key), its environment variable, what it
/// allows (said in errors) and its default.
struct Key {
    name: &'static str,
    allowed: &'static str,
    default: &'static str,
}

const KEYS: &[Key] = &[
    Key {
        name: "bind",
        allowed: "an address:port such as 127.0.0.1:8080",
        default: "127.0.0.1:8080",
    },
    Key {
        name: "data_dir",
        allowed: "a directory path",
        default: "./data",
    },
    Key {
        name: "database_url",
        allowed: "empty (cameo.db in data_dir), sqlite://PATH or postgres://USER@HOST/DB",
        default: "",
    },
    Key {
        name: "base_url",
        allowed: "an absolute http:// or https:// URL",
        default: "",
    },
    Key {
        name: "domains",
        allowed: "a list of domain names",
        default: "",
    },
    Key {
        name: "max_size",
        allowed: "an integer from 1 to 2048",
        default: "512",
    },
    Key {
        name: "default_style",
        allowed: "one of 404, mp, mm, identicon, monsterid, wavatar, retro, robohash, pagan, initials, blank, color",
        default: "mp",
    },
    Key {
        name: "cache_max_age",
        allowed: "seconds, 0 to 31536000",
        default: "300",
    },
    Key {
        name: "cache_stale_while_revalidate",
        allowed: "seconds, 0 to 31536000",
        default: "3600",
    },
    Key {
        name: "cache_stale_if_error",
        allowed: "seconds, 0 to 31536000",
        default: "86400",
    },
    Key {
        name: "render_cache_bytes",
        allowed: "a byte size up to 64GiB, e.g. 67108864 or 64MiB",
        default: "64MiB",
    },
    Key {
        name: "trusted_default_hosts",
        allowed: "a list of host names",
        default: "",
    },
    Key {
        name: "max_upload_bytes",
        allowed: "a byte size from 1KiB to 100MiB, e.g. 10MB",
        default: "10MB",
    },
    Key {
        name: "max_image_pixels",
        allowed: "an integer pixel count from 1 to 400000000",
        default: "40000000",
    },
    Key {
        name: "image_workers",
        allowed: "0 (one per CPU) to 256",
        default: "0",
    },
    Key {
        name: "log_format",
        allowed: "text or json",
        default: "text",
    },
    Key {
        name: "gravatar_mode",
        allowed: "proxy, redirect or off",
        default: "proxy",
    },
    Key {
        name: "gravatar_upstream",
        allowed: "an absolute http:// or https:// URL",
        default: "https://secure.gravatar.com",
    },
    Key {
        name: "gravatar_timeout_ms",
        allowed: "milliseconds, 100 to 2000",
        default: "2000",
    },
    Key {
        name: "dns_servers",
        allowed: "a list of ip:port addresses, e.g. 127.0.0.1:53",
        default: "",
    },
    Key {
        name: "allow_private_probe",
        allowed: "true or false",
        default: "false",
    },
    Key {
        name: "registration",
        allowed: "open or closed",
        default: "open",
    },
    Key {
        name: "smtp_url",
        allowed: "empty (log mails) or smtp://, smtps:// or smtp+starttls://[user:pass@]host[:port]",
        default: "",
    },
    Key {
        name: "mail_from",
        allowed: "a mailbox such as Cameo <avatars@example.org>",
        default: "Cameo <cameo@localhost>",
    },
    Key {
        name: "max_unconfirmed_addresses",
        allowed: "1 to 100",
        default: "5",
    },
    Key {
        name: "max_photos_per_account",
        allowed: "1 to 1000",
        default: "10",
    },
    Key {
        name: "restrict_addresses_to_domains",
        allowed: "true or false",
        default: "false",
    },
    Key {
        name: "session_days",
        allowed: "1 to 365",
        default: "30",
    },
    Key {
        name: "api_anonymous",
        allowed: "true or false",
        default: "true",
    },
    Key {
        name: "api_token_rate_limit",
        allowed: "1 to 1000000 requests per hour",
        default: "1000",
    },
    Key {
        name: "api_anonymous_rate_limit",
        allowed: "1 to 1000000 requests per hour",
        default: "100",
    },
    Key {
        name: "api_address_rate_limit",
        allowed: "1 to 1000000 lookups per hour",
        default: "60",
    },
    Key {
        name: "libravatar_fallback",
        allowed: "empty (none) or an http(s) base URL",
        default: "https://seccdn.libravatar.org",
    },
    Key {
        name: "trusted_proxies",
        allowed: "a list of IP addresses or CIDR networks, e.g. 127.0.0.1, 10.0.0.0/8",
        default: "",
    },
    Key {
        name: "ipv6_client_prefix",
        allowed: "a prefix length from 32 to 128",
        default: "64",
    },
    Key {
        name: "purge_url",
        allowed: "empty (no purges) or an http(s) URL",
        default: "",
    },
    Key {
        name: "purge_format",
        allowed: "cameo, cloudflare or fastly",
        default: "cameo",
    },
    Key {
        name: "purge_token",
        allowed: "empty or a token of printable ASCII (sent as a bearer token)",
        default: "",
    },
    Key {
        name: "purge_sizes",
        allowed: "a list of sizes from 1 to 2048 (at most 32)",
        default: "",
    },
    Key {
        name: "password_queue",
        allowed: "0 (four per CPU) to 1000",
        default: "0",
    },
    Key {
        name: "metrics_token",
        allowed: "empty (loopback clients only) or a token of printable ASCII",
        default: "",
    },
    Key {
        name: "photo_store",
        allowed: "database, or s3://BUCKET[/PREFIX] (an S3-compatible bucket; prefix default photos)",
        default: "database",
    },
    Key {
        name: "s3_endpoint",
        allowed: "empty (AWS) or the http(s):// URL of a self-hosted S3-compatible store",
        default: "",
    },
    Key {
        name: "s3_region",
        allowed: "the bucket's region",
        default: "us-east-1",
    },
    Key {
        name: "s3_access_key_id",
        allowed: "the bucket's access key id",
        default: "",
    },
    Key {
        name: "s3_secret_access_key",
        allowed: "the bucket's secret key (never printed)",
        default: "",
    },
    Key {
        name: "image_memory_budget",
        allowed: "a byte size from 16MiB to 64GiB, e.g. 512MiB",
        default: "512MiB",
    },
    Key {
        name: "outbound_probe_limit",
        allowed: "an integer from 1 to 1000000",
        default: "30",
    },
    Key {
        name: "phone_default_region",
        allowed: "empty or a two-letter region code such as US or DE",
        default: "",
    },
    Key {
        name: "gowa_url",
        allowed: "empty (off) or an absolute http:// or https:// URL",
        default: "",
    },
    Key {
        name: "gowa_username",
        allowed: "printable ASCII without spaces or ':', at most 200 characters",
        default: "",
    },
    Key {
        name: "gowa_password",
        allowed: "printable ASCII without spaces, at most 200 characters (never printed)",
        default: "",
    },
    Key {
        name: "gowa_device_id",
        allowed: "printable ASCII without spaces, at most 200 characters",
        default: "",
    },
    Key {
        name: "gowa_preview",
        allowed: "true or false",
        default: "false",
    },
    Key {
        name: "greenapi_url",
        allowed: "empty (off) or an absolute http:// or https:// URL",
        default: "",
    },
    Key {
        name: "greenapi_instance_id",
        allowed: "the instance's digits, at most 20",
        default: "",
    },
    Key {
        name: "greenapi_token",
        allowed: "the instance's API token: letters and digits, at most 200 (never printed)",
        default: "",
    },
    Key {
        name: "gateway_timeout_ms",
        allowed: "milliseconds, 100 to 30000",
        default: "10000",
    },
    Key {
        name: "gateway_positive_ttl_s",
        allowed: "seconds, 60 to 604800",
        default: "21600",
    },
    Key {
        name: "gateway_negative_ttl_s",
        allowed: "seconds, 0 to 86400",
        default: "900",
    },
    Key {
        name: "gateway_concurrency",
        allowed: "an integer from 1 to 64",
        default: "2",
    },
    Key {
        name: "gateway_min_interval_ms",
        allowed: "milliseconds, 0 to 60000",
        default: "1000",
    },
    Key {
        name: "password_login",
        allowed: "true or false (false needs [oidc])",
        default: "true",
    },
    Key {
        name: "oidc_issuer",
        allowed: "empty (no single sign-on) or the provider's issuer URL (https://, or http:// on loopback)",
        default: "",
    },
    Key {
        name: "oidc_client_id",
        allowed: "the client id registered at the provider",
        default: "",
    },
    Key {
        name: "oidc_client_secret",
        allowed: "the client secret, printable ASCII (never printed)",
        default: "",
    },
    Key {
        name: "oidc_client_secret_file",
        allowed: "a file holding the client secret",
        default: "",
    },
    Key {
        name: "oidc_scopes",
        allowed: "scope names separated by spaces",
        default: "openid email profile",
    },
    Key {
        name: "oidc_display_name",
        allowed: "1 to 60 characters, shown as \"Log in with …\"",
        default: "single sign-on",
    },
    Key {
        name: "oidc_timeout_ms",
        allowed: "milliseconds, 500 to 30000",
        default: "5000",
    },
];

/// Keys whose values are never echoed, not even in an error about a bad value.
const SECRET_KEYS: [&str; 6] = [
    "gowa_password",
    "greenapi_token",
    "metrics_token",
    "oidc_client_secret",
    "purge_token",
    "s3_secret_access_key",
];

/// The gateway keys, with the rules that tie them together.
fn gateway_settings(layers: &Layers) -> Result<GatewaySettings, ConfigError> {
    use std::time::Duration;
    let optional_url = |v: &str| {
        if v.is_empty() {
            Ok(String::new())
        } else {
            parse_base_url(v)
        }
    };
    let word = |v: &str| {
        if v.len() <= 200 && v.chars().all(|c| c.is_ascii_graphic()) {
            Ok(v.to_string())
        } else {
            Err("printable ASCII without spaces, at most 200 characters".to_string())
        }
    };
    let settings = GatewaySettings {
        gowa_url: layers.parse("gowa_url", optional_url)?,
        gowa_username: layers.parse("gowa_username", |v| {
            word(v).and_then(|v| {
                if v.contains(':') {
                    Err("Basic auth user names cannot hold ':'".into())
                } else {
                    Ok(v)
                }
            })
        })?,
        gowa_password: layers
            .parse("gowa_password", word)
            .map(crate::secrets::Secret::new)?,
        gowa_device_id: layers.parse("gowa_device_id", word)?,
        gowa_preview: layers.parse("gowa_preview", parse_bool)?,
        greenapi_url: layers.parse("greenapi_url", optional_url)?,
        greenapi_instance_id: layers.parse("greenapi_instance_id", |v| {
            if v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) {
                Ok(v.to_string())
            } else {
                Err(String::new())
            }
        })?,
        greenapi_token: layers
            .parse("greenapi_token", |v| {
                if v.len() <= 200 && v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    Ok(v.to_string())
                } else {
                    Err(String::new())
                }
            })
            .map(crate::secrets::Secret::new)?,
        timeout: Duration::from_millis(
            layers.parse("gateway_timeout_ms", |v| parse_int_in(v, 100, 30_000))?,
        ),
        positive_ttl: Duration::from_secs(
            layers.parse("gateway_positive_ttl_s", |v| parse_int_in(v, 60, 604_800))?,
        ),
        negative_ttl: Duration::from_secs(
            layers.parse("gateway_negative_ttl_s", |v| parse_int_in(v, 0, 86_400))?,
        ),
        concurrency: layers.parse("gateway_concurrency", |v| parse_int_in(v, 1, 64))? as usize,
        min_interval: Duration::from_millis(
            layers.parse("gateway_min_interval_ms", |v| parse_int_in(v, 0, 60_000))?,
        ),
    };
    if !settings.greenapi_url.is_empty()
        && (settings.greenapi_instance_id.is_empty() || settings.greenapi_token.is_empty())
    {
        return Err(ConfigError(
            "greenapi_url needs greenapi_instance_id and greenapi_token".into(),
        ));
    }
    Ok(settings)
}

fn env_name(key: &str) -> String {
    format!("CAMEO_{}", key.to_ascii_uppercase())
}

/// Where a value came from, for error messages.
#[derive(Clone, Copy, Debug)]
enum Origin {
    Flag,
    Env,
    File,
    Default,
}

/// A raw value: TOML values keep their type, environment and flag values are strings.
#[derive(Clone, Debug)]
enum Raw {
    Text(String),
    Toml(toml::Value),
}

/// The three user-supplied layers, each a map from key name to value.
#[derive(Default, Debug)]
pub struct Layers {
    pub file: toml::Table,
    pub file_name: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    pub flags: BTreeMap<String, String>,
    /// Things worth telling the operator that do not stop start-up (unknown `CAMEO_*` names).
    pub warnings: Vec<String>,
}

impl Layers {
    /// Reads the TOML file (if any) and the `CAMEO_*` variables of this process.
    /// `flags` are the command-line values, keyed by config key name.
    pub fn load(
        config_file: Option<&Path>,
        environment: impl IntoIterator<Item = (String, String)>,
        flags: BTreeMap<String, String>,
    ) -> Result<Layers, ConfigError> {
        let mut layers = Layers {
            flags,
            ..Layers::default()
        };
        if let Some(path) = config_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!("cannot read config file {}: {e}", path.display()))
            })?;
            layers.file = text.parse::<toml::Table>().map_err(|e| {
                ConfigError(format!(
                    "config file {}: {}",
                    path.display(),
                    e.message().replace('\n', " ")
                ))
            })?;
            oidc::flatten_oidc_table(&mut layers.file)?;
            layers.file_name = Some(path.to_path_buf());
        }
        for (name, value) in environment {
            if let Some(key) = KEYS.iter().find(|k| env_name(k.name) == name) {
                layers.env.insert(key.name.to_string(), value);
            } else if name.starts_with("CAMEO_") && name != "CAMEO_CONFIG" {
                layers
                    .warnings
                    .push(format!("unknown environment variable {name} ignored"));
            }
        }
        Ok(layers)
    }

    /// Refuses a key no setting has, in the file or on the command line (`--set`), naming
    /// every known key: a typo must not be ignored in silence.
    fn check_unknown_keys(&self) -> Result<(), ConfigError> {
        let file = self.file.keys().map(|name| ("config file", name));
        let flags = self.flags.keys().map(|name| ("--set", name));
        for (place, name) in file.chain(flags) {
            // The `[directory]` table checks its own keys (config/directory.rs).
            if name == "directory" || name.starts_with("directory.") {
                continue;
            }
            if !KEYS.iter().any(|k| k.name == name) {
                let known: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
                return Err(ConfigError(format!(
                    "{place}: unknown key `{name}` (known keys: {})",
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }

    fn raw(&self, name: &str) -> Option<(Origin, Raw)> {
        if let Some(v) = self.flags.get(name) {
            return Some((Origin::Flag, Raw::Text(v.clone())));
        }
        if let Some(v) = self.env.get(name) {
            return Some((Origin::Env, Raw::Text(v.clone())));
        }
        self.file
            .get(name)
            .map(|v| (Origin::File, Raw::Toml(v.clone())))
    }

    /// Parses key `name` from the highest layer that sets it, or from its default.
    fn parse<T>(
        &self,
        name: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let key = KEYS
            .iter()
            .find(|k| k.name == name)
            .expect("every parsed key is in KEYS");
        let (origin, raw) = self
            .raw(name)
            .unwrap_or((Origin::Default, Raw::Text(key.default.to_string())));
        let text = match &raw {
            Raw::Text(text) => text.clone(),
            Raw::Toml(toml::Value::String(text)) => text.clone(),
            Raw::Toml(toml::Value::Array(items)) => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        toml::Value::String(s) => parts.push(s.clone()),
                        other => parts.push(other.to_string()),
                    }
                }
                parts.join(",")
            }
            Raw::Toml(other) => other.to_string(),
        };
        parse(text.trim()).map_err(|detail| {
            let place = match origin {
                Origin::Flag => format!("command-line `{name}`"),
                Origin::Env => env_name(name),
                Origin::File => format!(
                    "`{name}` in {}",
                    self.file_name
                        .as_deref()
                        .unwrap_or(Path::new("config file"))
                        .display()
                ),
                Origin::Default => format!("default of `{name}`"),
            };
            // URLs may carry a password (smtp_url, database_url): never echo it; secrets
            // are not echoed at all.
            let shown: String = if SECRET_KEYS.contains(&name) {
                "(hidden)".into()
            } else {
                redact_url_password(&text).chars().take(60).collect()
            };
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(" ({detail})")
            };
            ConfigError(format!(
                "invalid value {shown:?} for {place}: expected {}{detail}",
                key.allowed
            ))
        })
    }
}

/// A configuration problem, already phrased as the one line start-up prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

fn parse_socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| String::new())
}

fn parse_socket_addr_list(text: &str) -> Result<Vec<SocketAddr>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().map_err(|_| format!("{part:?} is not ip:port")))
        .collect()
}

fn parse_smtp_url(text: &str) -> Result<String, String> {
    let valid = text.is_empty()
        || ["smtp://", "smtps://", "smtp+starttls://"]
            .iter()
            .any(|p| text.starts_with(p));
    if valid && !text.chars().any(char::is_whitespace) {
        Ok(text.to_string())
    } else {
        Err(String::new())
    }
}

fn parse_mailbox(text: &str) -> Result<String, String> {
    text.parse::<lettre::message::Mailbox>()
        .map(|_| text.to_string())
        .map_err(|e| e.to_string())
}

/// `smtp://user:secret@host` → `smtp://user:***@host`, for printing.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    let user = userinfo.split(':').next().unwrap_or_default();
    format!("{scheme}://{user}:***@{host}")
}

/// A region, key id or secret: printable ASCII without spaces, at most 200 characters.
fn parse_s3_word(text: &str) -> Result<String, String> {
    if text.len() <= 200 && text.chars().all(|c| c.is_ascii_graphic()) {
        Ok(text.to_string())
    } else {
        Err("printable ASCII without spaces, at most 200 characters".into())
    }
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(String::new()),
    }
}

/// Empty, `sqlite://PATH` or `postgres://…` (`postgresql://` too); any other scheme is
/// refused here rather than when the server first opens the store.
pub fn parse_database_url(text: &str) -> Result<String, String> {
    if text.is_empty() || text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return Ok(text.to_string());
    }
    match text.strip_prefix("sqlite://") {
        Some(path) if !path.split('?').next().unwrap_or_default().is_empty() => {
            Ok(text.to_string())
        }
        Some(_) => Err("sqlite:// needs a file path, e.g. sqlite:///var/lib/cameo/cameo.db".into()),
        None => Err(format!(
            "unsupported scheme in {:?}: Cameo stores its data in SQLite or PostgreSQL",
            redact_url_password(text)
        )),
    }
}

fn parse_base_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(String::new)?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("missing host".into());
    }
    Ok(text.trim_end_matches('/').to_string())
}

fn parse_int_in(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let value: u64 = text.parse().map_err(|_| String::new())?;
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err("out of range".into())
    }
}

/// Accepts a plain byte count or a number with a unit: KB/MB/GB (powers of 1000) or
/// KiB/MiB/GiB (powers of 1024).
fn parse_byte_size_in(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits.parse().map_err(|_| String::new())?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" => 1 << 10,
        "mb" => 1_000_000,
        "mib" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return Err("unknown unit".into()),
    };
    let bytes = number.checked_mul(multiplier).ok_or("too large")?;
    if (min..=max).contains(&bytes) {
        Ok(bytes)
    } else {
        Err("out of range".into())
    }
}

fn parse_default_style(text: &str) -> Result<DefaultStyle, String> {
    if text == "404" {
        return Ok(DefaultStyle::NotFound);
    }
    Style::from_name(text)
        .map(DefaultStyle::Style)
        .ok_or_else(String::new)
}

/// A comma-separated (or TOML array) list of IP addresses and CIDR networks; a bare
/// address is a network of one.
fn parse_network_list(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            part.parse::<ipnet::IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| format!("{part:?} is not an IP address or CIDR network"))
        })
        .collect()
}

/// A comma-separated (or TOML array) list of host names, lowercased, each checked.
fn parse_domain_list(text: &str) -> Result<Vec<String>, String> {
    let mut hosts = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let host = part.to_ascii_lowercase();
        let valid = host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && !host.starts_with(['.', '-'])
            && !host.ends_with('.');
        if !valid {
            return Err(format!("{part:?} is not a host name"));
        }
        hosts.push(host);
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers_with(file: &str, env: &[(&str, &str)], flags: &[(&str, &str)]) -> Layers {
        Layers {
            file: file.parse().unwrap(),
            file_name: Some("cameo.toml".into()),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            flags: flags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn defaults_are_as_documented() {
        let config = Config::from_layers(&Layers::default()).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.max_size, 512);
        assert_eq!(config.default_style, DefaultStyle::Style(Style::Mp));
        assert_eq!(config.cache_max_age, 300);
        assert_eq!(
            config.avatar_cache_control(),
            "public, max-age=300, stale-while-revalidate=3600, stale-if-error=86400"
        );
        assert_eq!(config.render_cache_bytes, 64 << 20);
        assert_eq!(config.max_upload_bytes, 10_000_000);
        assert_eq!(config.base_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn gateway_secrets_are_never_printed_nor_echoed_in_errors() {
        let layers = layers_with(
            "gowa_url = \"http://127.0.0.1:3000/\"\ngowa_password = \"hunter2pass\"",
            &[
                ("greenapi_token", "tok3nvalue"),
                ("greenapi_url", "http://127.0.0.1:9"),
            ],
            &[
                ("greenapi_instance_id", "1101000001"),
                ("phone_default_region", "de"),
            ],
        );
        let config = Config::from_layers(&layers).unwrap();
        assert_eq!(config.gateways.gowa_url, "http://127.0.0.1:3000");
        assert_eq!(config.gateways.gowa_password.expose(), "hunter2pass");
        assert_eq!(config.phone_default_region.unwrap().as_ref(), "DE");
        let printed = config.to_toml();
        assert!(printed.contains("gowa_password = \"(set)\""), "{printed}");
        assert!(printed.contains("greenapi_token = \"(set)\""), "{printed}");
        assert!(
            printed.contains("phone_default_region = \"DE\""),
            "{printed}"
        );
        let debugged = format!("{config:?}");
        for secret in ["hunter2pass", "tok3nvalue"] {
            assert!(!printed.contains(secret) && !debugged.contains(secret));
        }
        let bad = layers_with("", &[("greenapi_token", "has space!")], &[]);
        let error = Config::from_layers(&bad).unwrap_err().to_string();
        assert!(
            error.contains("(hidden)") && !error.contains("space"),
            "{error}"
        );
        let incomplete = layers_with("", &[("greenapi_url", "http://127.0.0.1:9")], &[]);
        assert!(Config::from_layers(&incomplete).is_err());
    }

    #[test]
    fn layers_override_in_order_file_env_flag() {
        let file = "max_size = 100\ncache_max_age = 60\nbind = \"127.0.0.1:1\"";
        let layers = layers_with(
            file,
            &[("cache_max_age", "120"), ("bind", "127.0.0.1:2")],
            &[("bind", "127.0.0.1:3")],
        );
        let config = Config::from_layers(&layers).unwrap();
        assert_eq!(config.max_size, 100);
        assert_eq!(config.cache_max_age, 120);
        assert_eq!(config.bind.to_string(), "127.0.0.1:3");
    }

    #[test]
    fn bad_value_names_key_origin_and_what_is_allowed() {
        let error =
            Config::from_layers(&layers_with("", &[("max_size", "5000")], &[])).unwrap_err();
        assert!(error.0.contains("CAMEO_MAX_SIZE"), "{error}");
        assert!(error.0.contains("1 to 2048"), "{error}");
        assert!(!error.to_string().contains('\n'));
        let error =
            Config::from_layers(&layers_with("default_style = \"x\"", &[], &[])).unwrap_err();
        assert!(error.0.contains("`default_style` in cameo.toml"), "{error}");
    }

    #[test]
    fn unknown_file_key_is_refused() {
        let error = Config::from_layers(&layers_with("max_sise = 3", &[], &[])).unwrap_err();
        assert!(error.0.contains("max_sise"), "{error}");
    }

    #[test]
    fn unknown_set_key_is_refused_like_a_file_key() {
        let error = Config::from_layers(&layers_with("", &[], &[("max_sise", "3")])).unwrap_err();
        assert!(
            error
                .0
                .starts_with("--set: unknown key `max_sise` (known keys: "),
            "{error}"
        );
        assert!(error.0.contains("max_size"), "{error}");
    }

    #[test]
    fn lists_accept_toml_arrays_and_commas() {
        let layers = layers_with(
            "domains = [\"Example.org\", \"example.net\"]",
            &[("trusted_default_hosts", "a.example, b.example")],
            &[],
        );
        let config = Config::from_layers(&layers).unwrap();
        assert_eq!(config.domains, vec!["example.org", "example.net"]);
        assert_eq!(config.trusted_default_hosts, vec!["a.example", "b.example"]);
        assert!(parse_domain_list("bad host").is_err());
    }

    #[test]
    fn smtp_passwords_are_redacted_when_printed() {
        let layers = layers_with(
            "smtp_url = \"smtps://me:hunter2@mail.example:465\"",
            &[],
            &[],
        );
        let printed = Config::from_layers(&layers).unwrap().to_toml();
        assert!(
            printed.contains("smtps://me:***@mail.example:465"),
            "{printed}"
        );
        assert!(!printed.contains("hunter2"));
        assert!(Config::from_layers(&layers_with("smtp_url = \"http://x\"", &[], &[])).is_err());
    }

    #[test]
    fn byte_sizes_take_units() {
        assert_eq!(parse_byte_size_in("64MiB", 0, u64::MAX), Ok(64 << 20));
        assert_eq!(parse_byte_size_in("10MB", 0, u64::MAX), Ok(10_000_000));
        assert_eq!(parse_byte_size_in("123", 0, u64::MAX), Ok(123));
        assert!(parse_byte_size_in("12XB", 0, u64::MAX).is_err());
        assert!(parse_byte_size_in("99999999999999999GiB", 0, u64::MAX).is_err());
    }

    #[test]
    fn base_url_must_be_http_and_loses_trailing_slash() {
        assert_eq!(
            parse_base_url("https://a.example/"),
            Ok("https://a.example".into())
        );
        assert!(parse_base_url("ftp://a.example").is_err());
        assert!(parse_base_url("https://").is_err());
    }

    #[test]
    fn database_url_picks_the_backend_and_refuses_other_schemes() {
        let config =
            |url: &str| Config::from_layers(&layers_with("", &[("database_url", url)], &[]));
        assert_eq!(
            config("").unwrap().database(),
            Database::Sqlite(PathBuf::from("./data/cameo.db"))
        );
        assert_eq!(
            config("sqlite:///srv/cameo.db").unwrap().database(),
            Database::Sqlite(PathBuf::from("/srv/cameo.db"))
        );
        assert_eq!(
            config("postgres://cameo@db/cameo").unwrap().database(),
            Database::Postgres("postgres://cameo@db/cameo".into())
        );
        let refused = config("mysql://root:pw@db/cameo").unwrap_err().to_string();
        assert!(refused.contains("SQLite or PostgreSQL"), "{refused}");
        assert!(!refused.contains("pw@"), "{refused}");
        assert!(config("sqlite://").is_err());
    }
}
