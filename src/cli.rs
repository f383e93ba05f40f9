//! The `cameo` command line: its commands and their options (clap), read into what
//! `main.rs` dispatches on.
//!
//! Options that set configuration keys belong to the commands they matter to, so each
//! command's `--help` lists its own options only: `--config`, `--data-dir` and `--set` to
//! every command (they say which install it works on), `--bind` and `--base-url` to `serve`
//! (and to a bare `cameo`, which serves). They are accepted before the command too
//! (`cameo --data-dir DIR list`); written after it, they win.
//!
//! - `commands`: the commands and their own arguments, with their help texts;
//! - `opening`: which database a command opens, said in words, and the refusal to create
//!   one where a read was meant.

pub mod commands;
pub mod opening;

pub use commands::{Command, DirectoryCommand, DomainAdminCommand, TokenCommand};

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser};

const ABOUT: &str = "Cameo: a self-hosted, Libravatar-compatible, federated avatar server.

With no command, runs the server (same as `cameo serve`).
Configuration: built-in defaults < cameo.toml (--config or CAMEO_CONFIG) < CAMEO_* environment
variables < command-line flags. `cameo config` prints the effective configuration.";

/// Which install a command works on: every command takes these.
#[derive(Args, Clone, Debug, Default)]
pub struct InstallOptions {
    /// Configuration file (TOML). Every key is documented in deploy/cameo.example.toml.
    #[arg(long, env = "CAMEO_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory holding the database (default ./data). Env: CAMEO_DATA_DIR.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Set any configuration key, e.g. --set max_size=1024 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
}

/// Where the server listens and what it calls itself: `serve` (and a bare `cameo`) only.
#[derive(Args, Clone, Debug, Default)]
pub struct ServeOptions {
    /// Address and port to listen on (default 127.0.0.1:8080). Env: CAMEO_BIND.
    #[arg(long, value_name = "ADDR:PORT")]
    pub bind: Option<String>,
    /// Public URL of this server, e.g. https://avatars.example.org. Env: CAMEO_BASE_URL.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

#[derive(Parser)]
#[command(name = "cameo", version, about = ABOUT)]
struct Cli {
    #[command(flatten)]
    install: InstallOptions,
    #[command(flatten)]
    serve: ServeOptions,
    #[command(subcommand)]
    command: Option<Command>,
}

/// The command line, read: the command (none means `serve`) and its options, merged from
/// before and after the command name.
pub struct CommandLine {
    pub command: Option<Command>,
    pub install: InstallOptions,
    pub serve: ServeOptions,
}

impl CommandLine {
    /// Reads the process's arguments; prints help or a usage error and exits as clap does.
    pub fn parse() -> CommandLine {
        match CommandLine::try_parse_from(std::env::args_os()) {
            Ok(line) => line,
            Err(error) => error.exit(),
        }
    }

    /// Reads `arguments` (the first is the program's name).
    pub fn try_parse_from(
        arguments: impl IntoIterator<Item = impl Into<std::ffi::OsString> + Clone>,
    ) -> Result<CommandLine, clap::Error> {
        let matches = command_with_local_options().try_get_matches_from(arguments)?;
        let cli = Cli::from_arg_matches(&matches)?;
        let mut line = CommandLine {
            command: cli.command,
            install: cli.install,
            serve: cli.serve,
        };
        let mut level = &matches;
        while let Some((name, inner)) = level.subcommand() {
            line.install.merge(InstallOptions::from_arg_matches(inner)?);
            if name == "serve" {
                line.serve.merge(ServeOptions::from_arg_matches(inner)?);
            }
            level = inner;
        }
        Ok(line)
    }

    /// The configuration keys the command line sets, for [`crate::config::Layers::load`].
    pub fn flags(&self) -> Result<BTreeMap<String, String>, String> {
        let mut flags = BTreeMap::new();
        if let Some(dir) = &self.install.data_dir {
            flags.insert("data_dir".to_string(), dir.display().to_string());
        }
        if let Some(bind) = &self.serve.bind {
            flags.insert("bind".to_string(), bind.clone());
        }
        if let Some(url) = &self.serve.base_url {
            flags.insert("base_url".to_string(), url.clone());
        }
        for setting in &self.install.settings {
            let (key, value) = setting
                .split_once('=')
                .ok_or_else(|| format!("--set {setting:?}: expected KEY=VALUE"))?;
            flags.insert(key.trim().to_string(), value.to_string());
        }
        Ok(flags)
    }
}

impl InstallOptions {
    /// Takes what `later` (written after the command name) sets.
    fn merge(&mut self, later: InstallOptions) {
        if later.config.is_some() {
            self.config = later.config;
        }
        if later.data_dir.is_some() {
            self.data_dir = later.data_dir;
        }
        self.settings.extend(later.settings);
    }
}

impl ServeOptions {
    fn merge(&mut self, later: ServeOptions) {
        if later.bind.is_some() {
            self.bind = later.bind;
        }
        if later.base_url.is_some() {
            self.base_url = later.base_url;
        }
    }
}

/// The command definition with each command's own options added: the install options to
/// every command at every level, the serve options to `serve`.
fn command_with_local_options() -> clap::Command {
    fn add_install_options(command: clap::Command) -> clap::Command {
        let command = InstallOptions::augment_args(command);
        let command = if command.get_name() == "serve" {
            ServeOptions::augment_args(command)
        } else {
            command
        };
        command.mut_subcommands(add_install_options)
    }
    Cli::command().mut_subcommands(add_install_options)
}

/// What to open in a browser once the server listens on `port`: `base_url` when it was
/// set, else this machine's address (loopback for a wildcard bind) with the real port.
pub fn url_to_open(base_url: &str, bind: std::net::SocketAddr, port: u16) -> String {
    if base_url != format!("http://{bind}") {
        return format!("{}/", base_url.trim_end_matches('/'));
    }
    let host = match bind.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    };
    format!("http://{host}:{port}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn help_of(path: &[&str]) -> String {
        let mut command = command_with_local_options();
        let mut current = &mut command;
        for name in path {
            current = current.find_subcommand_mut(name).expect("a subcommand");
        }
        current.render_long_help().to_string()
    }

    #[test]
    fn each_command_lists_only_its_own_options() {
        let add = help_of(&["add"]);
        assert!(
            add.contains("--photo") && add.contains("--data-dir"),
            "{add}"
        );
        assert!(
            !add.contains("--bind") && !add.contains("--base-url"),
            "{add}"
        );
        let serve = help_of(&["serve"]);
        assert!(
            serve.contains("--bind") && serve.contains("--base-url"),
            "{serve}"
        );
        let list = help_of(&["token", "list"]);
        assert!(
            list.contains("--account") && !list.contains("--bind"),
            "{list}"
        );
        command_with_local_options().debug_assert();
    }

    #[test]
    fn options_after_the_command_win_and_settings_add_up() {
        let line = CommandLine::try_parse_from([
            "cameo",
            "--data-dir",
            "a",
            "--set",
            "max_size=100",
            "list",
            "--data-dir",
            "b",
            "--set",
            "cache_max_age=60",
        ])
        .unwrap();
        assert!(matches!(line.command, Some(Command::List { json: false })));
        let flags = line.flags().unwrap();
        assert_eq!(flags["data_dir"], "b");
        assert_eq!(flags["max_size"], "100");
        assert_eq!(flags["cache_max_age"], "60");
        let serve =
            CommandLine::try_parse_from(["cameo", "serve", "--bind", "127.0.0.1:9"]).unwrap();
        assert_eq!(serve.flags().unwrap()["bind"], "127.0.0.1:9");
        assert!(CommandLine::try_parse_from(["cameo", "list", "--bind", "127.0.0.1:9"]).is_err());
    }

    #[test]
    fn the_url_to_open_is_the_base_url_or_a_reachable_address() {
        let bind = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(
            url_to_open("http://0.0.0.0:8080", bind, 8080),
            "http://127.0.0.1:8080/"
        );
        let bind = "127.0.0.1:0".parse().unwrap();
        assert_eq!(
            url_to_open("http://127.0.0.1:0", bind, 41234),
            "http://127.0.0.1:41234/"
        );
        assert_eq!(
            url_to_open("https://avatars.example.org", bind, 41234),
            "https://avatars.example.org/"
        );
        let bind = "[::]:8080".parse().unwrap();
        assert_eq!(
            url_to_open("http://[::]:8080", bind, 8080),
            "http://[::1]:8080/"
        );
    }
}
