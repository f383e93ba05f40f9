//! The `cameo` command: the server and the operator's tools. Parsing and dispatch only;
//! what each command does lives in the library (`Application`, `operator`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cameo::Application;
use cameo::config::{Config, Layers, LogFormat};
use cameo::operator;

/// jemalloc rather than glibc's malloc: under the soak's churn (renditions cached and evicted
/// by the thousand per second on many threads) glibc keeps a fragmented arena per thread, and
/// the server's resident memory settled 13 MB higher (109 MB against 96 MB over 60 s).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its start: two arenas (the server has a handful of busy
/// threads), freed pages handed back to the system within a second by a background thread.
/// `_RJEM_MALLOC_CONF` in the environment still overrides these.
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_OPTIONS: &[u8; 70] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:2\0";

const ABOUT: &str = "Cameo: a self-hosted, Libravatar-compatible, federated avatar server.

With no command, runs the server (same as `cameo serve`).
Configuration: built-in defaults < cameo.toml (--config or CAMEO_CONFIG) < CAMEO_* environment
variables < command-line flags. `cameo config` prints the effective configuration.";

#[derive(Parser)]
#[command(name = "cameo", version, about = ABOUT)]
struct Cli {
    /// Configuration file (TOML). Every key is documented in deploy/cameo.example.toml.
    #[arg(long, global = true, env = "CAMEO_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory holding the database (default ./data). Env: CAMEO_DATA_DIR.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address and port to listen on (default 127.0.0.1:8080). Env: CAMEO_BIND.
    #[arg(long, global = true, value_name = "ADDR:PORT")]
    bind: Option<String>,
    /// Public URL of this server, e.g. https://avatars.example.org. Env: CAMEO_BASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    base_url: Option<String>,
    /// Set any configuration key, e.g. --set max_size=1024 (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    settings: Vec<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
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

#[derive(Subcommand)]
enum TokenCommand {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("cameo: {message}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cameo: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("cameo: {message}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> Result<Config, String> {
    let mut flags = BTreeMap::new();
    if let Some(dir) = &cli.data_dir {
        flags.insert("data_dir".to_string(), dir.display().to_string());
    }
    if let Some(bind) = &cli.bind {
        flags.insert("bind".to_string(), bind.clone());
    }
    if let Some(url) = &cli.base_url {
        flags.insert("base_url".to_string(), url.clone());
    }
    for setting in &cli.settings {
        let (key, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("--set {setting:?}: expected KEY=VALUE"))?;
        flags.insert(key.trim().to_string(), value.to_string());
    }
    let layers =
        Layers::load(cli.config.as_deref(), std::env::vars(), flags).map_err(|e| e.to_string())?;
    for warning in &layers.warnings {
        eprintln!("cameo: warning: {warning}");
    }
    Config::from_layers(&layers).map_err(|e| e.to_string())
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: journald and log files get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        // Each line carries the fields of its request's span (id, method, route) as "span";
        // the span list would repeat them, as requests open no nested spans.
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

async fn run(command: Command, config: Config) -> Result<ExitCode, String> {
    if let Command::Config = command {
        print!("{}", config.to_toml());
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Serve = command {
        return serve(config).await;
    }
    if let Command::CheckDomain { query, dns, json } = command {
        let mut config = config;
        if !dns.is_empty() {
            config.dns_servers = dns;
        }
        let output = cameo::federation::check::check_domain_command(&config, &query, json).await?;
        println!("{}", output.trim_end());
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Restore { file } = command {
        if let cameo::config::Database::Postgres(_) = config.database() {
            return Err(format!(
                "restore: {}",
                operator::backup::BackupError::NotSqlite
            ));
        }
        // Before opening the pool: that would create or migrate the database being replaced.
        let report = operator::backup::restore(&config.database_path(), &file)
            .await
            .map_err(|e| format!("restore: {e}"))?;
        if let Some(aside) = &report.set_aside {
            println!("kept the previous database as {}", aside.display());
        }
        println!("restored {}: {}", file.display(), report.summary);
        return Ok(ExitCode::SUCCESS);
    }
    let pool = cameo::store::connect(&config.database())
        .await
        .map_err(|e| e.to_string())?;
    let code = match command {
        Command::Add { address, photo } => {
            let outcome = operator::add(&pool, &config, &address, &photo)
                .await
                .map_err(|e| format!("add {address}: {e}"))?;
            println!("{} {}", outcome.word(), address.trim());
            ExitCode::SUCCESS
        }
        Command::Remove { address } => {
            if operator::remove(&pool, &config, &address)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("removed {}", address.trim());
                ExitCode::SUCCESS
            } else {
                eprintln!("cameo: no such address: {}", address.trim());
                ExitCode::FAILURE
            }
        }
        Command::List { json } => {
            print_listing(
                &operator::list(&pool).await.map_err(|e| e.to_string())?,
                json,
            )?;
            ExitCode::SUCCESS
        }
        Command::Import { dir } => import(&pool, &config, &dir).await?,
        Command::Backup { file, force } => {
            let summary = operator::backup::backup(&pool, &file, force)
                .await
                .map_err(|e| format!("backup: {e}"))?;
            println!("backup {}: {summary}", file.display());
            ExitCode::SUCCESS
        }
        Command::Export { file, force } => {
            let bucket = cameo::photo_store::PhotoBucket::from_config(&config)?;
            let summary = operator::export::export_to(&pool, bucket.as_ref(), &file, force)
                .await
                .map_err(|e| format!("export: {e}"))?;
            eprintln!("cameo: exported {summary}");
            ExitCode::SUCCESS
        }
        Command::ImportExport { file } => import_export(&pool, &config, &file).await?,
        Command::MigrateStore { to, photos } => {
            let progress = |line: &str| eprintln!("cameo: {line}");
            let report = operator::migrate_store::migrate_store(
                &pool,
                &config,
                &to,
                photos.as_deref(),
                progress,
            )
            .await
            .map_err(|e| format!("migrate-store: {e}"))?;
            println!("{report}");
            ExitCode::SUCCESS
        }
        Command::Token { command } => token(&pool, command).await?,
        Command::Serve
        | Command::Config
        | Command::CheckDomain { .. }
        | Command::Restore { .. } => {
            unreachable!("handled above")
        }
    };
    cameo::store::checkpoint(&pool).await.ok();
    pool.close().await;
    Ok(code)
}

async fn serve(config: Config) -> Result<ExitCode, String> {
    let data_dir = config.data_dir.clone();
    let app = Application::build(config)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(port = app.port(), data_dir = %data_dir.display(), "Cameo is listening");
    app.run_until_stopped().await.map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

async fn import(pool: &cameo::store::Db, config: &Config, dir: &Path) -> Result<ExitCode, String> {
    let summary = operator::import_dir(pool, config, dir, |line| println!("{line}"))
        .await
        .map_err(|e| e.to_string())?;
    println!("{summary}");
    Ok(if summary.skipped > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn import_export(
    pool: &cameo::store::Db,
    config: &Config,
    file: &Path,
) -> Result<ExitCode, String> {
    let totals = operator::export::import_file(pool, config, file, |line| println!("{line}"))
        .await
        .map_err(|e| format!("import-export: {e}"))?;
    println!("{totals}");
    Ok(if totals.anything_skipped() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn token(pool: &cameo::store::Db, command: TokenCommand) -> Result<ExitCode, String> {
    match command {
        TokenCommand::Create { account, name } => {
            let (row, plaintext) = operator::tokens::create(pool, &account, &name)
                .await
                .map_err(|e| format!("token create: {e}"))?;
            println!("{plaintext}");
            eprintln!(
                "cameo: created token {} ({}) for {}. Copy it now: it is not shown again.",
                row.id,
                row.name,
                account.trim()
            );
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { account, json } => {
            let rows = operator::tokens::list(pool, account.as_deref())
                .await
                .map_err(|e| format!("token list: {e}"))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?
                );
            } else {
                println!("{}", operator::tokens::table(&rows));
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { id } => {
            if operator::tokens::revoke(pool, id)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("revoked token {id}");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("cameo: no live token with id {id}");
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

fn print_listing(
    rows: &[cameo::store::addresses::AddressListing],
    json: bool,
) -> Result<(), String> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(rows).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    for row in rows {
        let photo = match (&row.photo_format, row.photo_side) {
            (Some(format), Some(side)) => format!("{format} {side}x{side}"),
            _ => "no photo".to_string(),
        };
        let state = if row.confirmed {
            "confirmed"
        } else {
            "unconfirmed"
        };
        println!("{:<40} {:<7} {:<11} {photo}", row.address, row.kind, state);
    }
    println!("{} address(es)", rows.len());
    Ok(())
}
