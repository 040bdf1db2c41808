//! The command line: `parlor serve` (the default), `parlor user add` and `parlor keys rotate`.
//!
//! Every failure ends the same way: one line on standard error (no backtrace) and a non-zero
//! status, 2 for a configuration mistake and 1 for anything else, so scripts and service
//! managers can tell "fix the settings" from "something broke".

mod logging;
mod user;

use crate::app::{shutdown_signal, Server};
use crate::config::{Config, ConfigError, ConfigFile};
use crate::crypto::{rotate, MasterKey};
use crate::domain::Role;
use crate::store::Store;
use anyhow::Context;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the configuration file is looked for when none is named.
const DEFAULT_CONFIG_FILE: &str = "parlor.toml";

#[derive(Parser)]
#[command(
    name = "parlor",
    version,
    about = "A self-hosted real-time chat server"
)]
pub struct Cli {
    /// Configuration file [default: parlor.toml, read when present]. A file named here must
    /// exist; environment variables override it.
    #[arg(long, env = "PARLOR_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage the master key.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// Re-wrap every data key under a new master key; stored content is not re-encrypted and
    /// a running server keeps serving. With a key file, the file is replaced (a running server
    /// picks it up within a minute); with PARLOR_MASTER_KEY, the new key is printed and must
    /// replace the old one in the environment before the next start.
    Rotate,
}

#[derive(Subcommand)]
enum UserAction {
    /// Create an account, or reset the password of an existing one. The password is read from
    /// standard input (the first line, without its line ending) or prompted for on a terminal.
    Add {
        name: String,
        /// The account's role [default: user for a new account; an existing account keeps
        /// its role unless this is given].
        #[arg(long)]
        role: Option<Role>,
    },
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &[Role::User, Role::Mod, Role::Admin, Role::Root]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

/// Parses the command line and runs it; a failure is reported on one line.
pub async fn run() -> ExitCode {
    match execute().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

async fn execute() -> anyhow::Result<()> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    let config = Config::load_from(&config_file(cli.config, &matches))?;
    logging::init(&config)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Server::build(config).await?.run(shutdown_signal()).await,
        Command::User {
            action: UserAction::Add { name, role },
        } => user::add(config, &name, role).await,
        Command::Keys {
            action: KeysAction::Rotate,
        } => rotate_keys(config).await,
    }
}

/// The file named by `--config` or `PARLOR_CONFIG` (which must exist), or the default one.
fn config_file(named: Option<PathBuf>, matches: &clap::ArgMatches) -> ConfigFile {
    let Some(path) = named else {
        return ConfigFile::Default(PathBuf::from(DEFAULT_CONFIG_FILE));
    };
    let given_by = match matches.value_source("config") {
        Some(ValueSource::EnvVariable) => "PARLOR_CONFIG",
        _ => "--config",
    };
    ConfigFile::Given { path, given_by }
}

/// Prints `err` (with its causes) as one line on standard error and picks the exit status.
fn report(err: &anyhow::Error) -> ExitCode {
    let message = format!("{err:#}");
    let line: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    eprintln!("parlor: {}", line.join(" "));
    if err.chain().any(|cause| cause.is::<ConfigError>()) {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

async fn rotate_keys(config: Config) -> anyhow::Result<()> {
    let key_file = MasterKey::file_in(&config.data_dir);
    let configured = config.master_key.as_ref().map(|k| k.expose());
    if configured.is_none() && !key_file.exists() {
        anyhow::bail!(
            "no master key: neither PARLOR_MASTER_KEY nor {} exists",
            key_file.display()
        );
    }
    let (old, _) = MasterKey::load(configured, &config.data_dir)?;
    let new = MasterKey::generate();
    let store = Store::connect(&config.database_url())
        .await
        .context("cannot open the database")?;
    // The new key reaches the disk before any data key depends on it.
    let staged = config.data_dir.join("master.key.next");
    if configured.is_none() {
        new.write_new_file(&staged).with_context(|| {
            format!(
                "cannot stage the new key (remove a stale {} first)",
                staged.display()
            )
        })?;
    }
    let rewrapped = match rotate(&store, &old, &new).await {
        Ok(n) => n,
        Err(err) => {
            let _ = std::fs::remove_file(&staged);
            return Err(err).context("rotation failed; nothing changed");
        }
    };
    store.close().await;
    if configured.is_some() {
        println!(
            "{rewrapped} data keys re-wrapped from master key {} to {}.",
            old.id(),
            new.id()
        );
        println!(
            "Set PARLOR_MASTER_KEY to this value before the next start:\n{}",
            new.encode()
        );
    } else {
        std::fs::rename(&staged, &key_file).with_context(|| {
            format!(
                "data keys now need the key in {}; move it to {}",
                staged.display(),
                key_file.display()
            )
        })?;
        println!(
            "{rewrapped} data keys re-wrapped from master key {} to {} ({}).",
            old.id(),
            new.id(),
            key_file.display()
        );
    }
    Ok(())
}
