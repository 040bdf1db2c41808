//! The command line: `parlor serve` (the default), `parlor user add` and `parlor keys rotate`.

use crate::app::{shutdown_signal, Server};
use crate::auth::Auth;
use crate::clock::Clock;
use crate::config::{Config, LogFormat};
use crate::crypto::{rotate_configured, rotate_key_file, MasterKey};
use crate::domain::Role;
use crate::store::Store;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "parlor",
    version,
    about = "A self-hosted real-time chat server"
)]
pub struct Cli {
    /// Configuration file (optional; environment variables override it).
    #[arg(
        long,
        env = "PARLOR_CONFIG",
        default_value = "parlor.toml",
        global = true
    )]
    config: PathBuf,
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
    /// a running server keeps serving. With a key file, the file is replaced and the old key
    /// kept as master.key.previous (a running server wraps new rooms with the new key at once);
    /// with PARLOR_MASTER_KEY, the new key is printed: restart with it, and the old one as
    /// PARLOR_PREVIOUS_MASTER_KEY.
    Rotate,
}

#[derive(Subcommand)]
enum UserAction {
    /// Create an account, or reset the password and role of an existing one. The password is
    /// read from standard input (first line) or prompted for on a terminal.
    Add {
        name: String,
        #[arg(long, default_value = "user")]
        role: Role,
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

/// Parses the command line and runs it.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(&cli.config)?;
    init_logging(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Server::build(config).await?.run(shutdown_signal()).await,
        Command::User {
            action: UserAction::Add { name, role },
        } => add_user(config, &name, role).await,
        Command::Keys {
            action: KeysAction::Rotate,
        } => rotate_keys(config).await,
    }
}

async fn add_user(config: Config, name: &str, role: Role) -> anyhow::Result<()> {
    let password = read_password()?;
    std::fs::create_dir_all(&config.data_dir)?;
    let store = Store::connect(&config.database_url())
        .await
        .context("cannot open the database")?;
    let auth = Auth::new(store.clone(), config.auth_settings()?, Clock::system());
    let user = auth.upsert_user(name, password, role).await?;
    store.close().await;
    println!("user {} saved with role {}", user.name, user.role.as_str());
    Ok(())
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

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password: ").context("cannot read the password");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
