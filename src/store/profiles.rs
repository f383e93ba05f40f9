//! Public profiles that users opt in to: what an account publishes (display name, a short
//! text, links) and the lookup that finds a *public* profile from an avatar hash.
//!
//! Nothing is public by default: an account without a row, or with `public` false, has no
//! public profile. A hash resolves the way the avatar hot path resolves it (the confirmed
//! address whose digest it is, an address's exact digest winning over another's OpenID
//! variant); only when that address belongs to an account whose profile is public is there
//! an answer, so a private, unconfirmed or operator-held address looks exactly like an
//! unknown one.

use serde::{Deserialize, Serialize};

use super::{Db, now};
use crate::identity::Digest;

/// Longest `preferredUsername` derived from a display name.
const MAX_USERNAME_CHARS: usize = 32;

/// One link on a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileLink {
    pub label: String,
    pub url: String,
}

/// What an account publishes when its profile is public; what its owner edits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub public: bool,
    pub display_name: String,
    pub about: String,
    pub links: Vec<ProfileLink>,
    pub details: ProfileDetails,
}

/// One of a profile's short facts: its column (and form field) name, its label for people,
/// and its most characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetailField {
    pub name: &'static str,
    pub label: &'static str,
    pub max_chars: usize,
}

/// Gravatar v3's short, single-line profile facts, each empty when not given. The
/// [`ProfileDetails::FIELDS`] list drives the SQL, the form and its checks alike.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(default)]
pub struct ProfileDetails {
    pub location: String,
    pub job_title: String,
    pub company: String,
    pub pronouns: String,
    pub pronunciation: String,
    pub avatar_alt_text: String,
}

impl ProfileDetails {
    pub const FIELDS: [DetailField; 6] = [
        DetailField {
            name: "location",
            label: "Location",
            max_chars: 100,
        },
        DetailField {
            name: "job_title",
            label: "Job title",
            max_chars: 100,
        },
        DetailField {
            name: "company",
            label: "Company",
            max_chars: 100,
        },
        DetailField {
            name: "pronouns",
            label: "Pronouns",
            max_chars: 40,
        },
        DetailField {
            name: "pronunciation",
            label: "Pronunciation",
            max_chars: 100,
        },
        DetailField {
            name: "avatar_alt_text",
            label: "Avatar description (alt text)",
            max_chars: 200,
        },
    ];

    /// Each field with its value, in [`ProfileDetails::FIELDS`] order.
    pub fn values(&self) -> [(DetailField, &str); 6] {
        let [location, job_title, company, pronouns, pronunciation, alt] = Self::FIELDS;
        [
            (location, &self.location),
            (job_title, &self.job_title),
            (company, &self.company),
            (pronouns, &self.pronouns),
            (pronunciation, &self.pronunciation),
            (alt, &self.avatar_alt_text),
        ]
    }

    /// Details whose fields take `value(field name)`.
    pub fn from_values(value: impl Fn(&str) -> String) -> ProfileDetails {
        ProfileDetails {
            location: value("location"),
            job_title: value("job_title"),
            company: value("company"),
            pronouns: value("pronouns"),
            pronunciation: value("pronunciation"),
            avatar_alt_text: value("avatar_alt_text"),
        }
    }
}

/// The detail columns, as `SELECT` lists them.
pub(crate) const DETAIL_COLUMNS: &str =
    "location, job_title, company, pronouns, pronunciation, avatar_alt_text";

/// A public profile as a hash finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicProfile {
    pub user_id: i64,
    pub display_name: String,
    pub about: String,
    pub links: Vec<ProfileLink>,
    /// Gravatar's `preferredUsername`, never derived from the email address.
    pub preferred_username: String,
    /// Whether the address behind the hash shows an uploaded photo (not a generated default).
    pub has_photo: bool,
    pub details: ProfileDetails,
    /// The account's confirmed OpenIDs: accounts elsewhere this server has verified.
    pub verified_openids: Vec<String>,
    /// When the owner last saved the profile (Unix seconds).
    pub last_edit: i64,
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    public: bool,
    display_name: String,
    about: String,
    links: String,
    #[sqlx(flatten)]
    details: ProfileDetails,
}

#[derive(sqlx::FromRow)]
struct PublicRow {
    user_id: i64,
    display_name: String,
    about: String,
    links: String,
    has_photo: bool,
    updated_at: i64,
    #[sqlx(flatten)]
    details: ProfileDetails,
}

/// The account's profile, or the empty private default when it never saved one.
pub async fn load(db: &Db, user_id: i64) -> Result<Profile, sqlx::Error> {
    let sql = format!(
        "SELECT public, display_name, about, links, {DETAIL_COLUMNS} FROM profiles
         WHERE user_id = $1"
    );
    let row: Option<ProfileRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
    .bind(user_id)
    .fetch_optional(pool)
    .await)?;
    Ok(row.map_or_else(Profile::default, |row| Profile {
        public: row.public,
        display_name: row.display_name,
        about: row.about,
        links: parse_links(&row.links),
        details: row.details,
    }))
}

/// Stores the account's profile (already validated by the caller), replacing the old one.
pub async fn save(db: &Db, user_id: i64, profile: &Profile) -> Result<(), sqlx::Error> {
    let links =
        serde_json::to_string(&profile.links).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let details = &profile.details;
    on_pool!(db, pool => sqlx::query(
        "INSERT INTO profiles (user_id, public, display_name, about, links, updated_at,
                               location, job_title, company, pronouns, pronunciation,
                               avatar_alt_text)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (user_id) DO UPDATE SET public = excluded.public,
             display_name = excluded.display_name, about = excluded.about,
             links = excluded.links, updated_at = excluded.updated_at,
             location = excluded.location, job_title = excluded.job_title,
             company = excluded.company, pronouns = excluded.pronouns,
             pronunciation = excluded.pronunciation,
             avatar_alt_text = excluded.avatar_alt_text",
    )
    .bind(user_id)
    .bind(profile.public)
    .bind(&profile.display_name)
    .bind(&profile.about)
    .bind(links)
    .bind(now())
    .bind(&details.location)
    .bind(&details.job_title)
    .bind(&details.company)
    .bind(&details.pronouns)
    .bind(&details.pronunciation)
    .bind(&details.avatar_alt_text)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// The public profile behind `digest` (MD5 or SHA-256 of an address), if there is one.
pub async fn public_profile_for_digest(
    db: &Db,
    digest: &Digest,
) -> Result<Option<PublicProfile>, sqlx::Error> {
    // The inner query picks the same address the avatar lookup serves (photos.rs); the
    // account and its opt-in are checked on that address only, never on a runner-up.
    let sql = format!(
        "SELECT u.id AS user_id, p.display_name, p.about, p.links, p.updated_at,
                a.photo_id IS NOT NULL AS has_photo, {DETAIL_COLUMNS}
         FROM (SELECT a.user_id, a.photo_id
               FROM address_digests d JOIN addresses a ON a.id = d.address_id
               WHERE d.digest = $1 AND a.confirmed_at IS NOT NULL
               ORDER BY d.exact DESC, a.confirmed_at DESC
               LIMIT 1) a
         JOIN users u ON u.id = a.user_id
         JOIN profiles p ON p.user_id = u.id
         WHERE p.public"
    );
    let row: Option<PublicRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
    .bind(digest.to_hex())
    .fetch_optional(pool)
    .await)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let verified_openids = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT address FROM addresses
         WHERE user_id = $1 AND kind = 'openid' AND confirmed_at IS NOT NULL ORDER BY address",
    )
    .bind(row.user_id)
    .fetch_all(pool)
    .await)?;
    Ok(Some({
        let preferred_username = preferred_username(&row.display_name, row.user_id);
        PublicProfile {
            display_name: if row.display_name.is_empty() {
                preferred_username.clone()
            } else {
                row.display_name
            },
            preferred_username,
            user_id: row.user_id,
            about: row.about,
            links: parse_links(&row.links),
            has_photo: row.has_photo,
            details: row.details,
            verified_openids,
            last_edit: row.updated_at,
        }
    }))
}

/// The stored links; a column that does not parse (hand-edited) publishes no links.
fn parse_links(json: &str) -> Vec<ProfileLink> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Gravatar's `preferredUsername`: a slug of the display name (ASCII letters and digits,
/// lowercased, other runs joined by `-`), or `user{id}` when nothing is left. The email
/// address is never used: publishing its local part would hand out half of the address.
pub fn preferred_username(display_name: &str, user_id: i64) -> String {
    let mut slug = String::new();
    let mut pending_dash = false;
    for c in display_name.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.push(c.to_ascii_lowercase());
            if slug.len() >= MAX_USERNAME_CHARS {
                break;
            }
        } else {
            pending_dash = true;
        }
    }
    if slug.is_empty() {
        format!("user{user_id}")
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::store::{addresses, users};

    #[test]
    fn username_is_a_slug_of_the_display_name() {
        assert_eq!(preferred_username("Ada Lovelace", 7), "ada-lovelace");
        assert_eq!(
            preferred_username("  J. R. R. Tolkien!! ", 7),
            "j-r-r-tolkien"
        );
        assert_eq!(preferred_username("Zoë_99", 7), "zo-99");
    }

    #[test]
    fn username_without_ascii_letters_falls_back_to_the_account_number() {
        assert_eq!(preferred_username("", 42), "user42");
        assert_eq!(preferred_username("李小龍", 42), "user42");
    }

    #[test]
    fn username_is_capped() {
        let long = preferred_username(&"a".repeat(100), 1);
        assert_eq!(long.len(), MAX_USERNAME_CHARS);
    }

    #[test]
    fn unreadable_links_publish_nothing() {
        assert!(parse_links("not json").is_empty());
        assert_eq!(
            parse_links(r#"[{"label":"Blog","url":"https://x.example"}]"#),
            vec![ProfileLink {
                label: "Blog".into(),
                url: "https://x.example".into()
            }]
        );
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        pool: Db,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::store::open(&dir.path().join("cameo.db"))
            .await
            .unwrap();
        Fixture { _dir: dir, pool }
    }

    async fn account_with(db: &Db, email: &str) -> (i64, Vec<Digest>) {
        let user = users::create(db, email, "x").await.unwrap().unwrap();
        let identity = Identity::parse(email).unwrap();
        addresses::confirm_for_user(db, user, &identity)
            .await
            .unwrap();
        (user, identity.digests())
    }

    fn public(name: &str) -> Profile {
        Profile {
            public: true,
            display_name: name.into(),
            about: "Hello".into(),
            links: vec![ProfileLink {
                label: "Site".into(),
                url: "https://ada.example".into(),
            }],
            details: ProfileDetails {
                location: "London".into(),
                ..ProfileDetails::default()
            },
        }
    }

    #[tokio::test]
    async fn an_account_without_a_saved_profile_is_private_and_empty() {
        let f = fixture().await;
        let (user, digests) = account_with(&f.pool, "ada@example.org").await;
        assert_eq!(load(&f.pool, user).await.unwrap(), Profile::default());
        let found = public_profile_for_digest(&f.pool, &digests[0]).await;
        assert_eq!(found.unwrap(), None);
    }

    #[tokio::test]
    async fn a_saved_profile_loads_back_and_a_second_save_replaces_it() {
        let f = fixture().await;
        let (user, _) = account_with(&f.pool, "ada@example.org").await;
        save(&f.pool, user, &public("Ada")).await.unwrap();
        assert_eq!(load(&f.pool, user).await.unwrap(), public("Ada"));
        let private = Profile::default();
        save(&f.pool, user, &private).await.unwrap();
        assert_eq!(load(&f.pool, user).await.unwrap(), private);
    }

    #[tokio::test]
    async fn a_public_profile_is_found_by_md5_and_sha256() {
        let f = fixture().await;
        let (user, digests) = account_with(&f.pool, "ada@example.org").await;
        save(&f.pool, user, &public("Ada Lovelace")).await.unwrap();
        for digest in &digests {
            let found = public_profile_for_digest(&f.pool, digest)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(found.user_id, user);
            assert_eq!(found.display_name, "Ada Lovelace");
            assert_eq!(found.preferred_username, "ada-lovelace");
            assert_eq!(found.links.len(), 1);
            assert!(!found.has_photo);
        }
    }

    #[tokio::test]
    async fn a_private_profile_is_not_found() {
        let f = fixture().await;
        let (user, digests) = account_with(&f.pool, "ada@example.org").await;
        let mut profile = public("Ada");
        profile.public = false;
        save(&f.pool, user, &profile).await.unwrap();
        let found = public_profile_for_digest(&f.pool, &digests[1]).await;
        assert_eq!(found.unwrap(), None);
    }

    /// An address row written directly: `owner` None is the operator's.
    async fn raw_address(db: &Db, email: &str, owner: Option<i64>, confirmed: bool) -> Digest {
        let id: i64 = on_pool!(db, pool => sqlx::query_scalar(
            "INSERT INTO addresses (kind, address, user_id, confirmed_at, created_at, updated_at)
             VALUES ('email', $1, $2, $3, 0, 0) RETURNING id",
        )
        .bind(email)
        .bind(owner)
        .bind(confirmed.then_some(1_i64))
        .fetch_one(pool)
        .await)
        .unwrap();
        let digest = Digest::md5_of(email);
        on_pool!(db, pool => sqlx::query("INSERT INTO address_digests (digest, address_id, exact) VALUES ($1, $2, 1)")
            .bind(digest.to_hex())
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()))
            .unwrap();
        digest
    }

    #[tokio::test]
    async fn an_unconfirmed_or_operator_address_is_not_found() {
        let f = fixture().await;
        let (user, _) = account_with(&f.pool, "ada@example.org").await;
        save(&f.pool, user, &public("Ada")).await.unwrap();
        let pending = raw_address(&f.pool, "pending@example.org", Some(user), false).await;
        let operator = raw_address(&f.pool, "operator@example.org", None, true).await;
        let unknown = Digest::md5_of("nobody@example.org");
        for digest in [pending, operator, unknown] {
            assert_eq!(
                public_profile_for_digest(&f.pool, &digest).await.unwrap(),
                None
            );
        }
    }
}
