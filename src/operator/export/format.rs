//! The documented JSON format (`docs/export-format.md`, version 1): the serde types of an
//! account, the operator's holdings, an address, a photo and a profile, shared by the
//! writer ([`super::write`]), the reader ([`super::read`]) and the ivatar conversion
//! ([`crate::operator::ivatar_xml`]).
//!
//! Readers ignore keys they do not know, and every key but the identifying ones has a
//! default, so adding an optional key never needs a new version.

use serde::{Deserialize, Serialize};

use crate::store::profiles::{ProfileDetails, ProfileLink};

/// The document's `format` label.
pub const FORMAT: &str = "cameo-export";
/// The version of the format this cameo writes and reads.
pub const VERSION: u32 = 1;
/// Stored for accounts imported without a password: no argon2 hash, so no password matches.
/// Exported as `"password_hash": null`.
pub(super) const NO_PASSWORD: &str = "!";

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
    /// "email", "openid" or "phone" (informative: the address itself decides on import).
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
    /// location, job_title, company, pronouns, pronunciation, avatar_alt_text (each optional).
    #[serde(flatten)]
    pub details: ProfileDetails,
}
