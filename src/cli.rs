//! The command line: `parlor serve` (the default), `parlor user add`, `parlor keys rotate`,
//! and the operator's tools (`backup`, `restore`, `export`, `doctor`, in `ops`).
//!
//! Every failure ends the same way: one line on standard error (no backtrace) and a non-zero
//! status, 2 for a configuration mistake and 1 for anything else, so scripts and service
//! managers can tell "fix the settings" from "something broke".

mod logging;
mod user;

use crate::app::{shutdown_signal, Server};
use crate::config::{Config, ConfigError, ConfigFile};
use crate::crypto::{rotate_configured, rotate_key_file, MasterKey};
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
    /// Write a consistent backup of the database and the local files into DEST (a new or
    /// empty directory) while the server runs. The master key is not in it: keep it apart.
    Backup { dest: PathBuf },
    /// Restore a backup made by `parlor backup` into the configured, empty storage.
    Restore { source: PathBuf },
    /// Export a room, a conversation or an account, decrypted, as JSONL, Markdown and HTML.
    Export {
        #[command(subcommand)]
        subject: crate::ops::export::Subject,
        /// The directory to write into (created; must be empty).
        #[arg(long, short, global = true, default_value = "parlor-export")]
        out: PathBuf,
    },
    /// Check the configuration, database, master key and storage, and say what is wrong.
    Doctor,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Re-wrap every data key under a new master key; stored content is not re-encrypted and
    /// a running server keeps serving. With a key file, the file is replaced and the old key
    /// kept as master.key.previous (a running server wraps new rooms with the new key at once);
    /// with PARLOR_MASTER_KEY, the new key is printed: restart with it, and the old one as
    /// PARLOR_PREVIOUS_MASTER_KEY.
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
    let loaded = Config::load_from(&config_file(cli.config, &matches));
    if let Some(Command::Doctor) = cli.command {
        // The doctor reports a configuration that does not load like any other finding.
        return crate::ops::doctor::doctor(loaded).await;
    }
    let config = loaded?;
    logging::init(&config)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Server::build(config).await?.run(shutdown_signal()).await,
        Command::User {
            action: UserAction::Add { name, role },
        } => user::add(config, &name, role).await,
        Command::Keys {
            action: KeysAction::Rotate,
        } => rotate_keys(config).await,
        Command::Backup { dest } => crate::ops::backup::backup(config, &dest).await,
        Command::Restore { source } => crate::ops::backup::restore(config, &source).await,
        Command::Export { subject, out } => crate::ops::export::export(config, subject, &out).await,
        Command::Doctor => unreachable!("handled before logging starts"),
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
    let store = Store::connect(&config.database_url())
        .await
        .context("cannot open the database")?;
    let previous = config.previous_master_key.as_ref().map(|k| k.expose());
    let rotated = match config.master_key.as_ref().map(|k| k.expose()) {
        Some(current) => rotate_configured(&store, current, previous).await,
        None => rotate_key_file(&store, &config.data_dir, previous).await,
    };
    store.close().await;
    let rotated = rotated.context("rotation failed")?;
    println!(
        "{} data keys re-wrapped from master key {} to {}.",
        rotated.rewrapped,
        rotated.old_id,
        rotated.new.id()
    );
    if config.master_key.is_some() {
        println!(
            "Restart with PARLOR_MASTER_KEY set to the new key below, and PARLOR_PREVIOUS_MASTER_KEY \
             set to the current one (rooms created before the restart are wrapped by it; the \
             server re-wraps them when it starts, after which the previous key can go):\n{}",
            rotated.new.encode()
        );
    } else {
        println!(
            "{} holds the new key (a running server follows it); the old one is kept in {}.",
            MasterKey::file_in(&config.data_dir).display(),
            MasterKey::previous_file_in(&config.data_dir).display()
        );
    }
    Ok(())
}
