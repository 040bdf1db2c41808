//! The command line: `parlor serve` (the default) and `parlor user add`.

use crate::app::{shutdown_signal, Server};
use crate::auth::{Auth, AuthSettings};
use crate::config::{Config, LogFormat};
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
    }
}

async fn add_user(config: Config, name: &str, role: Role) -> anyhow::Result<()> {
    let password = read_password()?;
    std::fs::create_dir_all(&config.data_dir)?;
    let store = Store::connect(&config.database_url())
        .await
        .context("cannot open the database")?;
    let auth = Auth::new(
        store.clone(),
        AuthSettings {
            session_ttl: config.session_ttl(),
            password_min_length: config.password_min_length,
            guest_nick_by_ip: config.guest_nick_by_ip,
        },
    );
    let user = auth.upsert_user(name, password, role).await?;
    store.close().await;
    println!("user {} saved with role {}", user.name, user.role);
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
