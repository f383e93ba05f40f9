//! The commands of `cameo` and the arguments each one takes (clap derive). Their doc
//! comments are the help texts `cameo COMMAND --help` prints; the options every command
//! shares are added by [`super`].

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum Command {
    /// Run the avatar server (the default command).
    Serve,
    /// Give ADDRESS a photo: creates a confirmed address, or replaces its photo.
    Add {
        /// An email address, an http(s) OpenID URL, or a phone number: +<country><number>,
        /// a WhatsApp chat id (DIGITS@c.us), or a national number read in
        /// phone_default_region.
        address: String,
        /// The image file: PNG, JPEG, GIF or WebP.
        #[arg(long, value_name = "FILE")]
        photo: PathBuf,
    },
    /// Remove ADDRESS and its photo (if no other address uses it).
    Remove {
        /// An email address, an http(s) OpenID URL or a phone number (as for `add`).
        address: String,
    },
    /// List every address with its photo.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Import a folder of photos named after addresses (alice@example.org.jpg).
    ///
    /// Prints one line per file: imported, updated, unchanged, or skipped with the reason.
    /// Safe to re-run. Exits with status 1 if any file was skipped.
    Import {
        /// The folder to read.
        dir: PathBuf,
    },
    /// Copy the database to FILE, consistently, while the server keeps running.
    ///
    /// Uses SQLite's VACUUM INTO (one read transaction), checks the copy with PRAGMA
    /// integrity_check and prints its size and counts. FILE must not exist unless --force.
    /// SQLite only: with PostgreSQL (database_url) use pg_dump.
    Backup {
        /// Where to write the copy.
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Replace the database with FILE (a `cameo backup` copy). Stop the server first.
    ///
    /// FILE is checked before anything changes: an intact SQLite database with Cameo's tables
    /// and no schema newer than this cameo. Refuses while another process (a running server)
    /// has the database open. The current database is kept as cameo.db.before-restore-TIME
    /// in the data directory; the restored one is then migrated. SQLite only.
    Restore {
        /// The backup to restore.
        file: PathBuf,
    },
    /// Write every account, address, photo and profile as one JSON document.
    ///
    /// The format is versioned and documented in docs/export-format.md. Password hashes are
    /// kept, so people log in with their old password after `cameo import-export`. API tokens,
    /// sessions and pending mailed links are not exported.
    Export {
        /// The file to write, or - for standard output.
        #[arg(default_value = "-")]
        file: String,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Copy this install into another store: PostgreSQL (and photos into a bucket) for
    /// several nodes.
    ///
    /// Copies accounts, sessions, tokens, addresses, photos and profiles with their ids,
    /// checks each photo's bytes against its digest, puts them in the bucket named by
    /// --photos (endpoint and keys from the s3_* settings), then verifies row counts, photo
    /// digests and the bucket's objects. Only reads this install; safe to re-run (rows
    /// already copied are left alone). Afterwards set database_url (and photo_store) on
    /// every node.
    MigrateStore {
        /// The target database: postgres://user:password@host/db (or sqlite:///path).
        #[arg(long, value_name = "DATABASE_URL")]
        to: String,
        /// Put photo bytes in this bucket instead of the database: s3://BUCKET/PREFIX.
        #[arg(long, value_name = "S3_URL")]
        photos: Option<String>,
    },
    /// Import a `cameo export` file, or a Libravatar/ivatar export (.xml or .xml.gz).
    ///
    /// Every photo goes through the same checks as an upload. An address another account
    /// (or the operator) holds here is never taken. Prints one line per account and a summary;
    /// safe to re-run (nothing changes: "unchanged"). Exits with status 1 if anything was
    /// skipped. ivatar accounts get no usable password: their holders use "forgot password".
    ImportExport {
        /// The export file (at most 2 GiB).
        file: PathBuf,
    },
    /// Manage API tokens (`Authorization: Bearer TOKEN` on /api/...) for any account.
    ///
    /// Account holders manage their own on the web page /account/tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Name the accounts that administer a domain: on /domains they see its addresses, take
    /// a photo that breaks policy off one, and set the domain's default image.
    DomainAdmin {
        #[command(subcommand)]
        command: DomainAdminCommand,
    },
    /// The company directory (LDAP / Active Directory): `cameo directory sync`.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Print the effective configuration as TOML.
    Config,
    /// Check a domain's Libravatar SRV records, as a client would see them.
    ///
    /// Shows, for `_avatars._tcp` (http) and `_avatars-sec._tcp` (https): the SRV records, the
    /// server a client picks (or the Libravatar fallback and why), its addresses, the avatar
    /// URLs (for an email: MD5 and SHA-256; for an OpenID: SHA-256), and whether the server
    /// answers /avatar/HASH?d=404. Exits 0 when the check ran, whatever it found; non-zero
    /// only for input that cannot be checked.
    CheckDomain {
        /// A domain (example.org), an email address (alice@example.org) or an http(s) OpenID URL.
        query: String,
        /// DNS server to ask, as IP:PORT (repeatable; default: dns_servers, else the system's).
        #[arg(long, value_name = "IP:PORT")]
        dns: Vec<std::net::SocketAddr>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `cameo directory …`: the company directory (the `[directory]` table of cameo.toml).
#[derive(Subcommand)]
pub enum DirectoryCommand {
    /// Sync addresses and photos from the LDAP / Active Directory server now.
    ///
    /// Prints one line per entry (added, updated, unchanged, removed, skipped, refused) and
    /// the totals. Changes are applied only after the whole search succeeded (a search that
    /// fails changes nothing), each entry whole, in batches that hold the database's write
    /// lock a fraction of a second each. Exits with status 1 if the sync failed
    /// or any photo was refused. Waits for no one: if another sync runs, it stops at once.
    Sync {
        /// Show what would change, and check the photos, without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
pub enum DomainAdminCommand {
    /// Let an account administer a domain (example.org).
    Add {
        domain: String,
        /// The account's login address.
        account: String,
    },
    /// Take a domain away from an account.
    Remove {
        domain: String,
        /// The account's login address.
        account: String,
    },
    /// List every domain with its administrators.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token for an account and print it (on stdout, alone on its line).
    ///
    /// The token is shown this once: only its hash is stored. An account holds at most 20
    /// live tokens.
    Create {
        /// The account's login address.
        #[arg(long, value_name = "EMAIL")]
        account: String,
        /// What the token is for (1 to 64 characters), e.g. the app that uses it.
        #[arg(long)]
        name: String,
        /// What the token may do, repeatable: lookup (the default), avatars:read,
        /// avatars:write.
        #[arg(long = "scope", value_name = "SCOPE", default_value = "lookup")]
        scopes: Vec<String>,
    },
    /// List tokens (revoked ones too) with their account, name, prefix and last use.
    List {
        /// Only this account's tokens.
        #[arg(long, value_name = "EMAIL")]
        account: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (see `cameo token list`); it stops working at once.
    Revoke {
        /// The token's id.
        id: i64,
    },
}
