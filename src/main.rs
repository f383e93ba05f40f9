//! The `cameo` command: the server and the operator's tools. Parsing and dispatch only;
//! what each command does lives in the library (`Application`, `operator`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cameo::Application;
use cameo::config::{Config, Layers, LogFormat};
use cameo::operator;

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
        /// An email address or an http(s) OpenID URL.
        address: String,
        /// The image file: PNG, JPEG, GIF or WebP.
        #[arg(long, value_name = "FILE")]
        photo: PathBuf,
    },
    /// Remove ADDRESS and its photo (if no other address uses it).
    Remove {
        /// An email address or an http(s) OpenID URL.
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
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
    let pool = cameo::store::open(&config.database_path())
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
            if operator::remove(&pool, &address)
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
        Command::Serve | Command::Config | Command::CheckDomain { .. } => {
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

async fn import(pool: &sqlx::SqlitePool, config: &Config, dir: &Path) -> Result<ExitCode, String> {
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
