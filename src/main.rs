//! The `cameo` command: the server and the operator's tools. Parsing and dispatch only;
//! what each command does lives in the library (`Application`, `operator`).

use std::path::Path;
use std::process::ExitCode;

use cameo::Application;
use cameo::cli::opening::{check_exists_for_read, opened_line};
use cameo::cli::{
    Command, CommandLine, DirectoryCommand, DomainAdminCommand, TokenCommand, url_to_open,
};
use cameo::config::{Config, Layers, LogFormat};
use cameo::operator;
use cameo::operator::export::ExportError;

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

fn main() -> ExitCode {
    let line = CommandLine::parse();
    let config = match load_config(&line) {
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
    match runtime.block_on(run(line.command.unwrap_or(Command::Serve), config)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("cameo: {message}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(line: &CommandLine) -> Result<Config, String> {
    let layers = Layers::load(
        line.install.config.as_deref(),
        std::env::vars(),
        line.flags()?,
    )
    .map_err(|e| e.to_string())?;
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
    let database = config.database();
    if let (Command::Backup { .. }, cameo::config::Database::Postgres(_)) = (&command, &database) {
        return Err(format!(
            "backup: {}",
            operator::backup::BackupError::NotSqlite
        ));
    }
    // A command that only reads says which database it reads, and creates none.
    if let Some(what) = read_only_name(&command) {
        check_exists_for_read(&database, what, Path::exists)?;
        eprintln!("cameo: {what}: {}", opened_line(&database));
    }
    let pool = cameo::store::connect(&database)
        .await
        .map_err(|e| e.to_string())?;
    let code = match command {
        Command::Add { address, photo } => {
            let outcome = operator::add(&pool, &config, &address, &photo)
                .await
                .map_err(|e| format!("add {address}: {e}"))?;
            println!("{} {}", outcome.word(), normalised(&address));
            ExitCode::SUCCESS
        }
        Command::Remove { address } => {
            if operator::remove(&pool, &config, &address)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("removed {}", normalised(&address));
                ExitCode::SUCCESS
            } else {
                eprintln!("cameo: no such address: {}", normalised(&address));
                ExitCode::FAILURE
            }
        }
        Command::List { json } => {
            let rows = operator::list(&pool).await.map_err(|e| e.to_string())?;
            print_output(&listing_text(&rows, json)?)?
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
            match operator::export::export_to(&pool, bucket.as_ref(), &file, force).await {
                Ok(summary) => {
                    eprintln!("cameo: exported {summary}");
                    ExitCode::SUCCESS
                }
                // `cameo export | head`: the reader has what it wanted; end as a pipe's
                // writer does (status 141, 128 + SIGPIPE), without a word.
                Err(ExportError::OutputClosed) => ExitCode::from(141),
                Err(error) => return Err(format!("export: {error}")),
            }
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
        Command::DomainAdmin { command } => domain_admin(&pool, command).await?,
        Command::Directory {
            command: DirectoryCommand::Sync { dry_run },
        } => directory_sync(&pool, &config, dry_run).await?,
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
    let (config_base_url, config_bind) = (config.base_url.clone(), config.bind);
    let app = Application::build(config)
        .await
        .map_err(|e| e.to_string())?;
    let open = url_to_open(&config_base_url, config_bind, app.port());
    tracing::info!(port = app.port(), data_dir = %data_dir.display(), "Cameo is listening; open {open} in a browser");
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

async fn domain_admin(
    pool: &cameo::store::Db,
    command: DomainAdminCommand,
) -> Result<ExitCode, String> {
    use operator::domain_admins;
    match command {
        DomainAdminCommand::Add { domain, account } => {
            let domain = domain_admins::add(pool, &domain, &account)
                .await
                .map_err(|e| format!("domain-admin add: {e}"))?;
            eprintln!("cameo: {} administers {domain}", account.trim());
            Ok(ExitCode::SUCCESS)
        }
        DomainAdminCommand::Remove { domain, account } => {
            if domain_admins::remove(pool, &domain, &account)
                .await
                .map_err(|e| format!("domain-admin remove: {e}"))?
            {
                eprintln!(
                    "cameo: {} no longer administers {}",
                    account.trim(),
                    domain.trim()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                Err(format!(
                    "domain-admin remove: {} does not administer {}",
                    account.trim(),
                    domain.trim()
                ))
            }
        }
        DomainAdminCommand::List { json } => {
            let rows = cameo::store::domains::list_admins(pool)
                .await
                .map_err(|e| format!("domain-admin list: {e}"))?;
            let text = if json {
                serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?
            } else {
                domain_admins::table(&rows)
            };
            print_output(&text)
        }
    }
}

async fn directory_sync(
    pool: &cameo::store::Db,
    config: &Config,
    dry_run: bool,
) -> Result<ExitCode, String> {
    let mut print = |line: &str| println!("{line}");
    let report = operator::directory::sync(pool, config, dry_run, &mut print)
        .await
        .map_err(|e| format!("directory sync: {e}"))?;
    println!("{}", report.summary());
    Ok(if report.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn token(pool: &cameo::store::Db, command: TokenCommand) -> Result<ExitCode, String> {
    match command {
        TokenCommand::Create {
            account,
            name,
            scopes,
        } => {
            let scopes = cameo::api::scopes::Scopes::parse(&scopes.join(" "))
                .map_err(|e| format!("token create: {e}"))?;
            let (row, plaintext) = operator::tokens::create(pool, &account, &name, scopes)
                .await
                .map_err(|e| format!("token create: {e}"))?;
            println!("{plaintext}");
            eprintln!(
                "cameo: created token {} ({}, may: {}) for {}. Copy it now: it is not shown again.",
                row.id,
                row.name,
                row.scopes,
                account.trim()
            );
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { account, json } => {
            let rows = operator::tokens::list(pool, account.as_deref())
                .await
                .map_err(|e| format!("token list: {e}"))?;
            let text = if json {
                serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?
            } else {
                operator::tokens::table(&rows)
            };
            print_output(&text)
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

/// `cameo list`'s output: JSON, or a table with a count.
fn listing_text(
    rows: &[cameo::store::addresses::AddressListing],
    json: bool,
) -> Result<String, String> {
    if json {
        return serde_json::to_string_pretty(rows).map_err(|e| e.to_string());
    }
    let mut text = String::new();
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
        text.push_str(&format!(
            "{:<40} {:<7} {:<11} {photo}\n",
            row.address, row.kind, state
        ));
    }
    text.push_str(&format!("{} address(es)", rows.len()));
    Ok(text)
}

/// Prints a command's whole output and a newline. A reader that went away (`cameo list |
/// head`) ends the command quietly with status 141, as SIGPIPE would; `println!` would panic.
fn print_output(text: &str) -> Result<ExitCode, String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::from(141)),
        Err(error) => Err(format!("cannot write the output: {error}")),
    }
}

/// The name of a command that only reads the database, which must therefore exist.
fn read_only_name(command: &Command) -> Option<&'static str> {
    match command {
        Command::List { .. } => Some("list"),
        Command::Export { .. } => Some("export"),
        Command::Backup { .. } => Some("backup"),
        Command::MigrateStore { .. } => Some("migrate-store"),
        Command::Token {
            command: TokenCommand::List { .. },
        } => Some("token list"),
        Command::DomainAdmin {
            command: DomainAdminCommand::List { .. },
        } => Some("domain-admin list"),
        _ => None,
    }
}

/// An address as Cameo stores it (`cameo add " Alice@Example.ORG"` → `alice@example.org`), or
/// as typed when it does not parse.
fn normalised(address: &str) -> String {
    cameo::identity::Identity::parse(address)
        .map(|identity| identity.as_str().to_string())
        .unwrap_or_else(|_| address.trim().to_string())
}
