//! `cameo export` and `cameo import-export`: every account with its addresses, photos and
//! profile as one versioned JSON document (`docs/export-format.md`), and reading it back,
//! or reading a Libravatar/ivatar export ([`super::ivatar_xml`]) through the same path.
//!
//! Export reads inside one read transaction, so the document is the database as of one
//! instant even while the server runs, and writes one account at a time (memory stays bounded
//! by the largest account). Password hashes travel as they are, so people log in on the new
//! server with their old password; API tokens, sessions and pending mailed links do not.
//!
//! Import rules, per account:
//! - the account is found by its login email or created (with the exported password hash
//!   and creation time; without a usable password if there is none);
//! - every photo goes through the intake ([`crate::imaging::prepare_photo`]), so no unchecked
//!   bytes are stored, unless the account already holds it (same content or upload digest);
//! - an address held, confirmed, by another account or by the operator is never taken: it is
//!   reported as skipped with the reason;
//! - a profile is written only when the account has none (or the same one) here.
//!
//! Each account is written in one transaction, so re-running an import, even one that was
//! interrupted, changes nothing already there and reports "unchanged". The file is parsed as
//! a stream on a blocking thread, which hands accounts over one at a time.
//!
//! The SQL is here rather than in `store/` because it moves whole accounts in one transaction
//! with rules of its own (keep an exported hash and times), which no page of the server does.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest as _, Sha256};
use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::mpsc;

use super::ivatar_xml;
use crate::config::Config;
use crate::identity::Identity;
use crate::imaging::{IntakeLimits, PhotoFormat, PreparedPhoto, prepare_photo};
use crate::state::intake_limits;
use crate::store::profiles::ProfileLink;
use crate::store::{begin_write, now};

pub const FORMAT: &str = "cameo-export";
pub const VERSION: u32 = 1;
/// Larger inputs are refused before anything is read (and a gzip stream may not unpack past it).
pub const MAX_IMPORT_BYTES: u64 = 2 << 30;
/// Stored for accounts imported without a password: no argon2 hash, so no password matches.
const NO_PASSWORD: &str = "!";

/// Why an export or import stopped as a whole (one bad account or photo does not stop it).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("{0} already exists; pass --force to replace it")]
    Exists(String),
    #[error("{path}: {reason}")]
    Format { path: String, reason: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

/// One account as exported.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    pub email: String,
    /// The stored hash (argon2id PHC string); `null`: no usable password.
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    #[serde(default)]
    pub photos: Vec<Photo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
}

/// The operator's addresses (`cameo add`/`import`), which belong to no account.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Holdings {
    #[serde(default)]
    pub addresses: Vec<Address>,
    #[serde(default)]
    pub photos: Vec<Photo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Address {
    /// "email" or "openid" (informative: the address itself decides on import).
    pub kind: String,
    pub address: String,
    #[serde(default = "yes")]
    pub confirmed: bool,
    #[serde(default)]
    pub confirmed_at: Option<i64>,
    /// The `digest` of one of the same account's photos, or `null`.
    #[serde(default)]
    pub photo: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Photo {
    /// SHA-256 (hex) of the decoded `data`: checked on import, and how addresses name it.
    pub digest: String,
    pub format: String,
    #[serde(default)]
    pub side: u32,
    /// SHA-256 of the file as first uploaded, kept so re-importing that file is spotted.
    #[serde(default)]
    pub source_digest: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    /// The stored original, standard base64 with padding.
    pub data: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Profile {
    pub public: bool,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub about: String,
    #[serde(default)]
    pub links: Vec<ProfileLink>,
}

/// Counts printed after an export.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub accounts: usize,
    pub addresses: usize,
    pub photos: usize,
}

impl fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} accounts, {} addresses, {} photos",
            self.accounts, self.addresses, self.photos
        )
    }
}

// ---- export ----

/// Writes the export to `target` (`-` for standard output). A file is written under a
/// temporary name and renamed when complete.
pub async fn export_to(
    pool: &SqlitePool,
    target: &str,
    force: bool,
) -> Result<ExportSummary, ExportError> {
    let write_error = |e: std::io::Error| ExportError::Write {
        path: target.to_string(),
        reason: e.to_string(),
    };
    if target == "-" {
        let mut out = BufWriter::new(std::io::stdout());
        let summary = export(pool, &mut out).await?;
        out.flush().map_err(write_error)?;
        return Ok(summary);
    }
    let path = Path::new(target);
    if path.exists() && !force {
        return Err(ExportError::Exists(target.to_string()));
    }
    let partial = path.with_file_name(format!(
        ".{}.partial-{}",
        path.file_name()
            .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let result = async {
        let file = std::fs::File::create(&partial).map_err(write_error)?;
        let mut out = BufWriter::new(file);
        let summary = export(pool, &mut out).await?;
        let file = out.into_inner().map_err(|e| write_error(e.into_error()))?;
        file.sync_all().map_err(write_error)?;
        std::fs::rename(&partial, path).map_err(write_error)?;
        Ok(summary)
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    password_hash: String,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct PhotoRow {
    format: String,
    side: i64,
    content_digest: String,
    source_digest: String,
    created_at: i64,
    data: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct AddressRow {
    kind: String,
    address: String,
    confirmed_at: Option<i64>,
    created_at: i64,
    photo_digest: Option<String>,
}

/// Writes the whole document to `out`, reading inside one transaction.
pub async fn export(pool: &SqlitePool, out: &mut impl Write) -> Result<ExportSummary, ExportError> {
    let io = |e: std::io::Error| ExportError::Write {
        path: "the export".into(),
        reason: e.to_string(),
    };
    let json = |e: serde_json::Error| ExportError::Internal(e.to_string());
    let mut tx = pool.begin().await?;
    let mut summary = ExportSummary::default();
    write!(
        out,
        "{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"exported_at\":{},\"generator\":\"cameo {}\",\"accounts\":[",
        now(),
        env!("CARGO_PKG_VERSION")
    )
    .map_err(io)?;
    let users: Vec<UserRow> =
        sqlx::query_as("SELECT id, email, password_hash, created_at FROM users ORDER BY id")
            .fetch_all(&mut *tx)
            .await?;
    for (index, user) in users.into_iter().enumerate() {
        let holdings = read_holdings(&mut tx, Some(user.id)).await?;
        let account = Account {
            email: user.email,
            password_hash: Some(user.password_hash).filter(|h| h != NO_PASSWORD),
            created_at: Some(user.created_at),
            profile: read_profile(&mut tx, user.id).await?,
            addresses: holdings.addresses,
            photos: holdings.photos,
        };
        summary.accounts += 1;
        summary.addresses += account.addresses.len();
        summary.photos += account.photos.len();
        out.write_all(if index == 0 { b"\n" } else { b",\n" })
            .map_err(io)?;
        serde_json::to_writer(&mut *out, &account).map_err(json)?;
    }
    let operator = read_holdings(&mut tx, None).await?;
    summary.addresses += operator.addresses.len();
    summary.photos += operator.photos.len();
    out.write_all(b"\n],\n\"operator\":").map_err(io)?;
    serde_json::to_writer(&mut *out, &operator).map_err(json)?;
    out.write_all(b"}\n").map_err(io)?;
    tx.rollback().await?;
    Ok(summary)
}

/// The photos and addresses held by an account (`Some(id)`) or the operator (`None`).
async fn read_holdings(
    tx: &mut Transaction<'_, Sqlite>,
    holder: Option<i64>,
) -> Result<Holdings, sqlx::Error> {
    let photo_rows: Vec<PhotoRow> = sqlx::query_as(
        "SELECT format, side, content_digest, source_digest, created_at, data FROM photos
         WHERE user_id IS ? ORDER BY id",
    )
    .bind(holder)
    .fetch_all(&mut **tx)
    .await?;
    let mut photos: Vec<Photo> = Vec::new();
    for row in photo_rows {
        // Two uploads of the same picture are one photo to the addresses that name it.
        if photos.iter().any(|p| p.digest == row.content_digest) {
            continue;
        }
        photos.push(Photo {
            digest: row.content_digest,
            format: row.format,
            side: u32::try_from(row.side).unwrap_or(0),
            source_digest: Some(row.source_digest),
            created_at: Some(row.created_at),
            data: BASE64.encode(&row.data),
        });
    }
    let address_rows: Vec<AddressRow> = sqlx::query_as(
        "SELECT a.kind, a.address, a.confirmed_at, a.created_at, p.content_digest AS photo_digest
         FROM addresses a LEFT JOIN photos p ON p.id = a.photo_id
         WHERE a.user_id IS ? ORDER BY a.address",
    )
    .bind(holder)
    .fetch_all(&mut **tx)
    .await?;
    let addresses = address_rows
        .into_iter()
        .map(|row| Address {
            kind: row.kind,
            address: row.address,
            confirmed: row.confirmed_at.is_some(),
            confirmed_at: row.confirmed_at,
            photo: row.photo_digest,
            created_at: Some(row.created_at),
        })
        .collect();
    Ok(Holdings { addresses, photos })
}

async fn read_profile(
    tx: &mut Transaction<'_, Sqlite>,
    user_id: i64,
) -> Result<Option<Profile>, sqlx::Error> {
    let row: Option<(bool, String, String, String)> =
        sqlx::query_as("SELECT public, display_name, about, links FROM profiles WHERE user_id = ?")
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|(public, display_name, about, links)| Profile {
        public,
        display_name,
        about,
        links: serde_json::from_str(&links).unwrap_or_default(),
    }))
}

// ---- reading an export file ----

/// What a file to import is, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Json,
    Xml,
    GzipXml,
}

/// JSON starts with `{`, XML with `<`, gzip with 1f 8b (after an optional BOM and spaces).
pub fn sniff(head: &[u8]) -> Option<Source> {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some(Source::GzipXml);
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Some(Source::Json),
        Some(b'<') => Some(Source::Xml),
        _ => None,
    }
}

/// A reader that fails, rather than stops, once more than `left` bytes came through, so a
/// gzip bomb or a file growing while read is refused instead of imported in part.
struct Bounded<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the input is larger than {MAX_IMPORT_BYTES} bytes"),
            )
        })?;
        Ok(n)
    }
}

enum Item {
    Account(Box<Account>),
    Operator(Holdings),
}

/// Imports a `cameo export` JSON file, or an ivatar export (`.xml` or `.xml.gz`). `report`
/// sees one line per account as soon as it is written.
pub async fn import_file(
    pool: &SqlitePool,
    config: &Config,
    path: &Path,
    mut report: impl FnMut(&AccountReport),
) -> Result<ImportTotals, ExportError> {
    let shown = path.display().to_string();
    let read_error = |e: std::io::Error| ExportError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > MAX_IMPORT_BYTES {
        return Err(ExportError::Read {
            path: shown,
            reason: format!("it is {size} bytes; at most {MAX_IMPORT_BYTES} are imported"),
        });
    }
    let mut input = BufReader::new(Bounded {
        inner: file,
        left: MAX_IMPORT_BYTES,
    });
    let source =
        sniff(input.fill_buf().map_err(read_error)?).ok_or_else(|| ExportError::Format {
            path: shown.clone(),
            reason: "neither a Cameo export (JSON) nor a Libravatar export (XML, gzipped or not)"
                .into(),
        })?;
    let limits = intake_limits(config);
    let format_error = |reason: String| ExportError::Format {
        path: shown.clone(),
        reason,
    };
    let mut totals = ImportTotals::default();
    let (sender, mut items) = mpsc::channel::<Item>(2);
    // Base64 is 4/3 of the bytes; a little room for line breaks and the b'' wrapping.
    let max_text = usize::try_from(limits.max_bytes / 3 * 4 + 4096).unwrap_or(usize::MAX);
    let parser = tokio::task::spawn_blocking(move || match source {
        Source::Json => parse_json(input, sender),
        Source::Xml => parse_ivatar(input, max_text, sender),
        Source::GzipXml => {
            let unzipped = Bounded {
                inner: flate2::read::MultiGzDecoder::new(input),
                left: MAX_IMPORT_BYTES,
            };
            parse_ivatar(BufReader::new(unzipped), max_text, sender)
        }
    });
    let origin = match source {
        Source::Json => Origin::Cameo,
        Source::Xml | Source::GzipXml => Origin::Ivatar,
    };
    while let Some(item) = items.recv().await {
        let line = match item {
            Item::Account(account) => import_account(pool, limits, *account, origin).await?,
            Item::Operator(holdings) => import_operator(pool, limits, holdings, origin).await?,
        };
        totals.count(&line);
        report(&line);
    }
    parser
        .await
        .map_err(|e| ExportError::Internal(format!("the parser failed: {e}")))?
        .map_err(format_error)?;
    Ok(totals)
}

fn parse_ivatar(
    input: impl BufRead,
    max_text: usize,
    sender: mpsc::Sender<Item>,
) -> Result<(), String> {
    let account = ivatar_xml::into_account(ivatar_xml::parse(input, max_text)?)?;
    sender
        .blocking_send(Item::Account(Box::new(account)))
        .map_err(|_| "the import stopped".to_string())
}

/// Parses the JSON document as a stream, sending each account on as soon as it is read.
fn parse_json(input: impl Read, sender: mpsc::Sender<Item>) -> Result<(), String> {
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    deserializer
        .deserialize_map(DocumentVisitor { sender: &sender })
        .and_then(|()| deserializer.end())
        .map_err(|e| e.to_string())
}

struct DocumentVisitor<'a> {
    sender: &'a mpsc::Sender<Item>,
}

impl<'de> Visitor<'de> for DocumentVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {FORMAT} document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut format_seen = false;
        let mut version_seen = false;
        let mut held = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    let format: String = map.next_value()?;
                    if format != FORMAT {
                        return Err(A::Error::custom(format!(
                            "\"format\" is {format:?}, not {FORMAT:?}"
                        )));
                    }
                    format_seen = true;
                }
                "version" => {
                    let version: u64 = map.next_value()?;
                    if version != u64::from(VERSION) {
                        return Err(A::Error::custom(format!(
                            "this is version {version} of the format; this cameo reads version {VERSION}"
                        )));
                    }
                    version_seen = true;
                }
                // Data before the labels (a tool that sorts keys): held back until the
                // labels are checked, so nothing of an unknown document is imported.
                "accounts" if !(format_seen && version_seen) => {
                    let accounts: Vec<Account> = map.next_value()?;
                    held.extend(accounts.into_iter().map(|a| Item::Account(Box::new(a))));
                }
                "operator" if !(format_seen && version_seen) => {
                    held.push(Item::Operator(map.next_value()?));
                }
                "accounts" => map.next_value_seed(AccountsSeed {
                    sender: self.sender,
                })?,
                "operator" => {
                    let holdings: Holdings = map.next_value()?;
                    send(self.sender, Item::Operator(holdings))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !format_seen || !version_seen {
            return Err(A::Error::custom(format!(
                "not a {FORMAT} document (no \"format\" or \"version\")"
            )));
        }
        for item in held {
            send(self.sender, item)?;
        }
        Ok(())
    }
}

fn send<E: serde::de::Error>(sender: &mpsc::Sender<Item>, item: Item) -> Result<(), E> {
    sender
        .blocking_send(item)
        .map_err(|_| E::custom("the import stopped"))
}

struct AccountsSeed<'a> {
    sender: &'a mpsc::Sender<Item>,
}

impl<'de> DeserializeSeed<'de> for AccountsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for AccountsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of accounts")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(account) = seq.next_element::<Account>()? {
            send(self.sender, Item::Account(Box::new(account)))?;
        }
        Ok(())
    }
}

// ---- import ----

/// Where a document came from: Cameo's digests are checked, ivatar's are only references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    Cameo,
    Ivatar,
}

/// What happened to one account (or to the operator's addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Imported,
    Updated,
    Unchanged,
    Skipped(String),
}

/// One line of an import's output.
#[derive(Debug, Clone)]
pub struct AccountReport {
    pub who: String,
    pub outcome: Outcome,
    pub addresses: usize,
    pub photos: usize,
    pub profile: bool,
    /// Addresses, photos or a profile left out, each with its reason.
    pub skipped: Vec<String>,
}

impl fmt::Display for AccountReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match &self.outcome {
            Outcome::Imported => "imported",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Skipped(reason) => return write!(f, "skipped   {}: {reason}", self.who),
        };
        write!(f, "{word:<9} {}", self.who)?;
        if self.outcome != Outcome::Unchanged {
            write!(
                f,
                ": {} address(es), {} photo(s){} written",
                self.addresses,
                self.photos,
                if self.profile { ", profile" } else { "" }
            )?;
        }
        if !self.skipped.is_empty() {
            write!(f, "; skipped {}", self.skipped.join("; "))?;
        }
        Ok(())
    }
}

/// Totals of an import, printed last.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportTotals {
    pub imported: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    /// Addresses, photos and profiles skipped inside accounts that were imported.
    pub items_skipped: usize,
}

impl ImportTotals {
    fn count(&mut self, report: &AccountReport) {
        match report.outcome {
            Outcome::Imported => self.imported += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Skipped(_) => self.skipped += 1,
        }
        self.items_skipped += report.skipped.len();
    }

    /// Whether anything was left out: the command then exits non-zero.
    pub fn anything_skipped(&self) -> bool {
        self.skipped + self.items_skipped > 0
    }
}

impl fmt::Display for ImportTotals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} imported, {} updated, {} unchanged, {} skipped; {} address(es), photo(s) or profile(s) skipped",
            self.imported, self.updated, self.unchanged, self.skipped, self.items_skipped
        )
    }
}

/// What was written in one transaction.
#[derive(Default)]
struct Written {
    addresses: usize,
    photos: usize,
    profile: bool,
}

impl Written {
    fn any(&self) -> bool {
        self.addresses + self.photos > 0 || self.profile
    }
}

/// A photo ready to be linked: already held here, or checked by the intake and to be stored.
enum Ready {
    Held(i64),
    New(Box<PreparedPhoto>, i64),
}

async fn import_account(
    pool: &SqlitePool,
    limits: IntakeLimits,
    account: Account,
    origin: Origin,
) -> Result<AccountReport, ExportError> {
    let who = account.email.trim().to_string();
    let email = match Identity::parse(&account.email) {
        Ok(Identity::Email(email)) => email,
        Ok(Identity::OpenId(_)) => return Ok(skipped_account(who, "a login must be an email")),
        Err(error) => return Ok(skipped_account(who, &error.to_string())),
    };
    let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE email = ?")
        .bind(&email)
        .fetch_optional(pool)
        .await?;
    let mut skipped = Vec::new();
    let ready = ready_photos(
        pool,
        limits,
        existing.map(Some),
        &account.photos,
        origin,
        &mut skipped,
    )
    .await?;

    let mut tx = begin_write(pool).await?;
    let now = now();
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE email = ?")
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
    let (user_id, created) = match found {
        Some(id) => (id, false),
        None => {
            let password = account
                .password_hash
                .clone()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| NO_PASSWORD.to_string());
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (email, password_hash, created_at, updated_at)
                 VALUES (?, ?, ?, ?) RETURNING id",
            )
            .bind(&email)
            .bind(password)
            .bind(account.created_at.unwrap_or(now))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            (id, true)
        }
    };
    let mut written = Written::default();
    let holder = Some(user_id);
    let photo_ids = store_photos(&mut tx, holder, ready, now, &mut written).await?;
    let references: Vec<&str> = account.photos.iter().map(|p| p.digest.as_str()).collect();
    let target = Target {
        holder,
        photo_ids: &photo_ids,
        references: &references,
        now,
    };
    apply_addresses(
        &mut tx,
        &target,
        &account.addresses,
        &mut written,
        &mut skipped,
    )
    .await?;
    if let Some(profile) = &account.profile {
        apply_profile(&mut tx, user_id, profile, &mut written, &mut skipped).await?;
    }
    let outcome = finish(tx, created, &written).await?;
    Ok(AccountReport {
        who: email,
        outcome,
        addresses: written.addresses,
        photos: written.photos,
        profile: written.profile,
        skipped,
    })
}

async fn import_operator(
    pool: &SqlitePool,
    limits: IntakeLimits,
    holdings: Holdings,
    origin: Origin,
) -> Result<AccountReport, ExportError> {
    let mut skipped = Vec::new();
    let ready = ready_photos(
        pool,
        limits,
        Some(None),
        &holdings.photos,
        origin,
        &mut skipped,
    )
    .await?;
    let mut tx = begin_write(pool).await?;
    let now = now();
    let mut written = Written::default();
    let photo_ids = store_photos(&mut tx, None, ready, now, &mut written).await?;
    let references: Vec<&str> = holdings.photos.iter().map(|p| p.digest.as_str()).collect();
    let target = Target {
        holder: None,
        photo_ids: &photo_ids,
        references: &references,
        now,
    };
    apply_addresses(
        &mut tx,
        &target,
        &holdings.addresses,
        &mut written,
        &mut skipped,
    )
    .await?;
    // Operator photos live only as long as an address shows them (as with `cameo add`).
    crate::store::photos::delete_unreferenced(&mut *tx).await?;
    let outcome = finish(tx, false, &written).await?;
    Ok(AccountReport {
        who: "(operator addresses)".into(),
        outcome,
        addresses: written.addresses,
        photos: written.photos,
        profile: false,
        skipped,
    })
}

fn skipped_account(who: String, reason: &str) -> AccountReport {
    AccountReport {
        who,
        outcome: Outcome::Skipped(reason.to_string()),
        addresses: 0,
        photos: 0,
        profile: false,
        skipped: Vec::new(),
    }
}

/// Commits what was written; rolls back (and says "unchanged") when nothing was.
async fn finish(
    tx: Transaction<'_, Sqlite>,
    created: bool,
    written: &Written,
) -> Result<Outcome, sqlx::Error> {
    if !created && !written.any() {
        tx.rollback().await?;
        return Ok(Outcome::Unchanged);
    }
    tx.commit().await?;
    Ok(if created {
        Outcome::Imported
    } else {
        Outcome::Updated
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A digest shortened for messages.
fn short(reference: &str) -> &str {
    reference.get(..16).unwrap_or(reference)
}

/// Decodes each photo and either finds it already held by `lookup` (`Some(holder)`; `None`
/// for an account that does not exist yet) or passes it through the intake.
async fn ready_photos(
    pool: &SqlitePool,
    limits: IntakeLimits,
    lookup: Option<Option<i64>>,
    photos: &[Photo],
    origin: Origin,
    skipped: &mut Vec<String>,
) -> Result<Vec<(String, Ready)>, ExportError> {
    let mut ready = Vec::new();
    for photo in photos {
        let name = short(&photo.digest);
        let Ok(bytes) = BASE64.decode(photo.data.trim()) else {
            skipped.push(format!("photo {name}: the data is not base64"));
            continue;
        };
        let digest = sha256_hex(&bytes);
        if origin == Origin::Cameo && !photo.digest.eq_ignore_ascii_case(&digest) {
            skipped.push(format!(
                "photo {name}: the data does not match its digest (a damaged export?)"
            ));
            continue;
        }
        let source_digest = photo
            .source_digest
            .clone()
            .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
            .unwrap_or_else(|| digest.clone());
        if let Some(holder) = lookup
            && let Some(id) = find_photo(pool, holder, &digest, &source_digest).await?
        {
            ready.push((photo.digest.clone(), Ready::Held(id)));
            continue;
        }
        let prepared = tokio::task::spawn_blocking(move || prepare_photo(&bytes, limits))
            .await
            .map_err(|e| ExportError::Internal(format!("image worker failed: {e}")))?;
        match prepared {
            Ok(mut prepared) => {
                prepared.source_digest = source_digest;
                // A WebP or still-GIF upload is stored as PNG bytes but served as uploaded:
                // the exported format says which, the bytes cannot.
                if let Some(format) = PhotoFormat::from_name(&photo.format) {
                    prepared.format = format;
                }
                let created_at = photo.created_at.unwrap_or_else(now);
                ready.push((
                    photo.digest.clone(),
                    Ready::New(Box::new(prepared), created_at),
                ));
            }
            Err(error) => skipped.push(format!("photo {name}: {error}")),
        }
    }
    Ok(ready)
}

/// A photo of `holder` with this content or upload digest.
async fn find_photo<'e, E: sqlx::SqliteExecutor<'e>>(
    executor: E,
    holder: Option<i64>,
    content_digest: &str,
    source_digest: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM photos WHERE user_id IS ? AND (content_digest = ? OR source_digest = ?)
         ORDER BY id LIMIT 1",
    )
    .bind(holder)
    .bind(content_digest)
    .bind(source_digest)
    .fetch_optional(executor)
    .await
}

/// Stores the new photos; returns each photo reference's id.
async fn store_photos(
    tx: &mut Transaction<'_, Sqlite>,
    holder: Option<i64>,
    ready: Vec<(String, Ready)>,
    now: i64,
    written: &mut Written,
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut ids = HashMap::new();
    for (reference, photo) in ready {
        let id = match photo {
            Ready::Held(id) => id,
            Ready::New(photo, created_at) => {
                let held = find_photo(
                    &mut **tx,
                    holder,
                    &photo.content_digest,
                    &photo.source_digest,
                )
                .await?;
                match held {
                    Some(id) => id,
                    None => {
                        written.photos += 1;
                        sqlx::query_scalar(
                            "INSERT INTO photos (format, data, side, content_digest, source_digest,
                                                 user_id, created_at, updated_at)
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        )
                        .bind(photo.format.name())
                        .bind(&photo.data)
                        .bind(i64::from(photo.side))
                        .bind(&photo.content_digest)
                        .bind(&photo.source_digest)
                        .bind(holder)
                        .bind(created_at)
                        .bind(now)
                        .fetch_one(&mut **tx)
                        .await?
                    }
                }
            }
        };
        ids.insert(reference, id);
    }
    Ok(ids)
}

/// Whose addresses are being written and the photos they may name.
struct Target<'a> {
    holder: Option<i64>,
    photo_ids: &'a HashMap<String, i64>,
    /// Every photo reference in the document, stored or skipped.
    references: &'a [&'a str],
    now: i64,
}

/// An address row as it is here before the import touches it.
#[derive(sqlx::FromRow)]
struct HeldAddress {
    id: i64,
    user_id: Option<i64>,
    photo_id: Option<i64>,
    confirmed_at: Option<i64>,
}

async fn apply_addresses(
    tx: &mut Transaction<'_, Sqlite>,
    target: &Target<'_>,
    addresses: &[Address],
    written: &mut Written,
    skipped: &mut Vec<String>,
) -> Result<(), sqlx::Error> {
    for address in addresses {
        let identity = match Identity::parse(&address.address) {
            Ok(identity) => identity,
            Err(error) => {
                skipped.push(format!("address {:?}: {error}", address.address));
                continue;
            }
        };
        let photo_id = address.photo.as_deref().and_then(|reference| {
            let id = target.photo_ids.get(reference).copied();
            if id.is_none() && !target.references.contains(&reference) {
                skipped.push(format!(
                    "the photo of {identity}: {} is not in the export",
                    short(reference)
                ));
            }
            id
        });
        let row: Option<HeldAddress> = sqlx::query_as(
            "SELECT id, user_id, photo_id, confirmed_at FROM addresses WHERE address = ?",
        )
        .bind(identity.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        let confirmed_at = address
            .confirmed
            .then(|| address.confirmed_at.unwrap_or(target.now));
        let Some(HeldAddress {
            id,
            user_id: holder,
            photo_id: current_photo,
            confirmed_at: current_confirmed,
        }) = row
        else {
            insert_address(tx, target, &identity, address, photo_id, confirmed_at).await?;
            written.addresses += 1;
            continue;
        };
        let ours = holder == target.holder;
        if !ours && current_confirmed.is_some() {
            skipped.push(format!(
                "address {identity}: {}",
                if holder.is_some() {
                    "held by another account here"
                } else {
                    "held by the operator here (cameo add)"
                }
            ));
            continue;
        }
        // Ours, or an unconfirmed row that holds nothing: make it what the export says,
        // without undoing a confirmation or clearing a photo the export does not name.
        let new_photo = if ours {
            photo_id.or(current_photo)
        } else {
            photo_id
        };
        let new_confirmed = current_confirmed.or(confirmed_at);
        if ours && new_photo == current_photo && new_confirmed == current_confirmed {
            continue;
        }
        sqlx::query(
            "UPDATE addresses SET user_id = ?, photo_id = ?, confirmed_at = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(target.holder)
        .bind(new_photo)
        .bind(new_confirmed)
        .bind(target.now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        written.addresses += 1;
    }
    Ok(())
}

async fn insert_address(
    tx: &mut Transaction<'_, Sqlite>,
    target: &Target<'_>,
    identity: &Identity,
    address: &Address,
    photo_id: Option<i64>,
    confirmed_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    let address_id: i64 = sqlx::query_scalar(
        "INSERT INTO addresses (kind, address, user_id, photo_id, confirmed_at, created_at,
                                updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(identity.kind())
    .bind(identity.as_str())
    .bind(target.holder)
    .bind(photo_id)
    .bind(confirmed_at)
    .bind(address.created_at.unwrap_or(target.now))
    .bind(target.now)
    .fetch_one(&mut **tx)
    .await?;
    // The same digests, and the same `exact` rule, as `store::addresses` writes.
    for (index, digest) in identity.digests().iter().enumerate() {
        let exact = matches!(identity, Identity::Email(_)) || index == 0;
        sqlx::query(
            "INSERT OR IGNORE INTO address_digests (digest, address_id, exact) VALUES (?, ?, ?)",
        )
        .bind(digest.to_hex())
        .bind(address_id)
        .bind(exact)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Writes the profile if the account has none here; the same one is left as it is; a
/// different one is kept and the exported one reported as skipped.
async fn apply_profile(
    tx: &mut Transaction<'_, Sqlite>,
    user_id: i64,
    profile: &Profile,
    written: &mut Written,
    skipped: &mut Vec<String>,
) -> Result<(), sqlx::Error> {
    let links: Vec<(&str, &str)> = profile
        .links
        .iter()
        .map(|l| (l.label.as_str(), l.url.as_str()))
        .collect();
    let valid = match crate::web::public_profile::validate_profile(
        profile.public,
        &profile.display_name,
        &profile.about,
        &links,
    ) {
        Ok(valid) => valid,
        Err(problems) => {
            skipped.push(format!("profile: {}", problems.join(" ")));
            return Ok(());
        }
    };
    let links_json =
        serde_json::to_string(&valid.links).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let current: Option<(bool, String, String, String)> =
        sqlx::query_as("SELECT public, display_name, about, links FROM profiles WHERE user_id = ?")
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?;
    match current {
        None => {
            sqlx::query(
                "INSERT INTO profiles (user_id, public, display_name, about, links, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(user_id)
            .bind(valid.public)
            .bind(&valid.display_name)
            .bind(&valid.about)
            .bind(links_json)
            .bind(now())
            .execute(&mut **tx)
            .await?;
            written.profile = true;
        }
        Some((public, display_name, about, links))
            if public == valid.public
                && display_name == valid.display_name
                && about == valid.about
                && serde_json::from_str::<Vec<ProfileLink>>(&links)
                    .ok()
                    .as_ref()
                    == Some(&valid.links) => {}
        Some(_) => skipped.push("profile: the account already has a different one here".into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_apart_by_their_first_bytes() {
        assert_eq!(sniff(b"{\"format\":"), Some(Source::Json));
        assert_eq!(sniff(b"\xEF\xBB\xBF  \n{"), Some(Source::Json));
        assert_eq!(sniff(b"<?xml version"), Some(Source::Xml));
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Some(Source::GzipXml));
        assert_eq!(sniff(b"SQLite format 3\0"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn bounded_input_fails_past_its_limit() {
        let mut small = Bounded {
            inner: &b"0123456789"[..],
            left: 10,
        };
        assert_eq!(small.read_to_end(&mut Vec::new()).unwrap(), 10);
        let mut large = Bounded {
            inner: &b"0123456789"[..],
            left: 9,
        };
        assert!(large.read_to_end(&mut Vec::new()).is_err());
    }

    fn stream(json: &str) -> (Result<(), String>, Vec<Item>) {
        let (sender, mut receiver) = mpsc::channel(16);
        let result = parse_json(json.as_bytes(), sender);
        let mut items = Vec::new();
        while let Ok(item) = receiver.try_recv() {
            items.push(item);
        }
        (result, items)
    }

    #[test]
    fn documents_stream_accounts_and_ignore_unknown_fields() {
        let (result, items) = stream(
            r#"{"format":"cameo-export","version":1,"exported_at":5,"later":[1,2],
                "accounts":[{"email":"a@example.org","extra":true},{"email":"b@example.org"}],
                "operator":{"addresses":[],"photos":[]}}"#,
        );
        assert_eq!(result, Ok(()));
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[1], Item::Account(a) if a.email == "b@example.org"));
        assert!(matches!(&items[2], Item::Operator(_)));
    }

    #[test]
    fn other_formats_and_versions_are_refused() {
        let (result, _) = stream(r#"{"format":"something-else","version":1,"accounts":[]}"#);
        assert!(result.unwrap_err().contains("something-else"));
        let (result, _) = stream(r#"{"format":"cameo-export","version":2,"accounts":[]}"#);
        assert!(result.unwrap_err().contains("version 2"));
        let (result, items) = stream(r#"{"accounts":[{"email":"a@example.org"}]}"#);
        assert!(result.is_err());
        assert!(
            items.is_empty(),
            "nothing is imported from an unlabelled document"
        );
    }

    #[test]
    fn sorted_keys_are_read_too_once_the_labels_are_checked() {
        let (result, items) = stream(
            r#"{"accounts":[{"email":"a@example.org"}],"format":"cameo-export","version":1}"#,
        );
        assert_eq!(result, Ok(()));
        assert_eq!(items.len(), 1);
        let (result, items) =
            stream(r#"{"accounts":[{"email":"a@example.org"}],"format":"other","version":1}"#);
        assert!(result.is_err());
        assert!(items.is_empty());
    }

    #[test]
    fn report_lines_name_the_account_and_every_skip() {
        let report = AccountReport {
            who: "a@example.org".into(),
            outcome: Outcome::Updated,
            addresses: 1,
            photos: 0,
            profile: false,
            skipped: vec!["address b@example.org: held by another account here".into()],
        };
        assert_eq!(
            report.to_string(),
            "updated   a@example.org: 1 address(es), 0 photo(s) written; skipped address \
             b@example.org: held by another account here"
        );
        let mut totals = ImportTotals::default();
        totals.count(&report);
        assert!(totals.anything_skipped());
    }
}
