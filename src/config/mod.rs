//! Configuration: built-in defaults → optional `parlor.toml` → `PARLOR_*` environment variables
//! (and `DATABASE_URL`). Loaded and validated once at start-up; the rest of the server only
//! reads a [`Config`].

mod secret;
mod settings;

pub use secret::Secret;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Every setting of the server. The README's configuration table lists the same fields.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP server binds to.
    pub listen: SocketAddr,
    /// Directory for the SQLite database, uploads and the generated master key.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to `sqlite://<data_dir>/parlor.db`.
    pub database_url: Option<Secret>,
    /// Base64 of a 32-byte master key; when unset, `<data_dir>/master.key` is used (and
    /// generated on first start).
    pub master_key: Option<Secret>,
    /// An account created (or updated) as root at every start, with `root_password_hash` (an
    /// argon2 PHC string; wins when both are set) or `root_password`.
    pub root_user: Option<String>,
    pub root_password: Option<Secret>,
    pub root_password_hash: Option<Secret>,
    /// Origins allowed to open WebSocket connections, besides same-origin pages.
    #[serde(deserialize_with = "list_or_csv")]
    pub public_origins: Vec<String>,
    /// Networks the admin panel and its API answer from (CIDRs or addresses).
    #[serde(deserialize_with = "list_or_csv")]
    pub admin_cidrs: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed (CIDRs or addresses); none by default.
    #[serde(deserialize_with = "list_or_csv")]
    pub trusted_proxies: Vec<String>,
    pub session_ttl_secs: u64,
    pub password_min_length: usize,
    pub max_message_chars: usize,
    /// Messages a room join shows, and the largest history page.
    pub history_page: usize,
    /// Messages kept per private conversation; older ones are dropped.
    pub pm_history_cap: usize,
    /// Seconds an activated ephemeral 1-on-1 room stays open.
    pub ephemeral_ttl_secs: u64,
    pub rate_limit_messages: usize,
    pub rate_limit_window_secs: u64,
    /// Largest accepted real-time frame in bytes.
    pub max_frame_bytes: usize,
    /// Real-time connections allowed per client address (0: no limit): WebSocket upgrades on
    /// every framing and Engine.IO sessions, counted from the upgrade or handshake on.
    pub max_connections_per_ip: usize,
    /// Real-time connections allowed in all (0: derived from the descriptor limit, less
    /// `reserved_descriptors`).
    pub max_connections: usize,
    /// File descriptors kept out of the real-time connections' reach, for plain HTTP (`/health`,
    /// the admin API), the database and files.
    pub reserved_descriptors: usize,
    /// Real-time connections allowed at once between their upgrade (or Engine.IO handshake)
    /// and their arrival in the chat core (the Socket.IO CONNECT).
    pub max_handshakes: usize,
    /// Seconds a real-time connection may stay without identifying (and an Engine.IO session
    /// without its Socket.IO CONNECT) before it is closed.
    pub identify_timeout_secs: u64,
    /// Rooms with more members present than this announce no single joins and leaves, only a
    /// `member_count` every few seconds.
    pub presence_limit: usize,
    /// Failed logins allowed per account from one address, and per address, within
    /// `login_window_secs`; an account takes ten times the first limit from all addresses
    /// together. Every limit lifts by itself when the window slides.
    pub login_attempts_per_account: usize,
    pub login_attempts_per_ip: usize,
    pub login_window_secs: u64,
    /// Registrations allowed per address within `registration_window_secs`.
    pub registrations_per_ip: usize,
    pub registration_window_secs: u64,
    /// argon2id cost of new password hashes: memory in KiB, passes, lanes. The defaults are
    /// OWASP's minimum; lower values (for test suites) start with a warning. Stored hashes keep
    /// the parameters they were made with.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Events queued per connection before it is dropped as a slow consumer.
    pub outbound_queue: usize,
    /// Give an anonymous guest from the same IP their previous nick back when it is free.
    pub guest_nick_by_ip: bool,
    /// Seconds connections get to close on shutdown.
    pub shutdown_grace_secs: u64,
    /// `tracing` filter, e.g. `info` or `parlor=debug`.
    pub log: String,
    /// `text` or `json`.
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            data_dir: PathBuf::from("parlor-data"),
            database_url: None,
            master_key: None,
            root_user: None,
            root_password: None,
            root_password_hash: None,
            public_origins: Vec::new(),
            admin_cidrs: [
                "127.0.0.0/8",
                "::1/128",
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "fc00::/7",
            ]
            .map(String::from)
            .to_vec(),
            trusted_proxies: Vec::new(),
            session_ttl_secs: 7 * 24 * 3600,
            password_min_length: 8,
            max_message_chars: 500,
            history_page: 200,
            pm_history_cap: 500,
            ephemeral_ttl_secs: 24 * 3600,
            rate_limit_messages: 6,
            rate_limit_window_secs: 5,
            max_frame_bytes: 16 * 1024,
            outbound_queue: 1024,
            max_connections_per_ip: 64,
            max_connections: 0,
            reserved_descriptors: 256,
            max_handshakes: 256,
            identify_timeout_secs: 10,
            presence_limit: 1000,
            login_attempts_per_account: 5,
            login_attempts_per_ip: 20,
            login_window_secs: 900,
            registrations_per_ip: 10,
            registration_window_secs: 3600,
            argon2_memory_kib: argon2::Params::DEFAULT_M_COST,
            argon2_iterations: argon2::Params::DEFAULT_T_COST,
            argon2_parallelism: argon2::Params::DEFAULT_P_COST,
            guest_nick_by_ip: true,
            shutdown_grace_secs: 10,
            log: "info".into(),
            log_format: LogFormat::Text,
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Layers defaults, the TOML file (if it exists) and the environment.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("PARLOR_").ignore(&["config"]))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("session_ttl_secs", self.session_ttl_secs as usize),
            ("max_message_chars", self.max_message_chars),
            ("history_page", self.history_page),
            ("pm_history_cap", self.pm_history_cap),
            ("ephemeral_ttl_secs", self.ephemeral_ttl_secs as usize),
            ("rate_limit_messages", self.rate_limit_messages),
            (
                "rate_limit_window_secs",
                self.rate_limit_window_secs as usize,
            ),
            ("max_frame_bytes", self.max_frame_bytes),
            ("max_handshakes", self.max_handshakes),
            ("identify_timeout_secs", self.identify_timeout_secs as usize),
            ("outbound_queue", self.outbound_queue),
            ("presence_limit", self.presence_limit),
            (
                "login_attempts_per_account",
                self.login_attempts_per_account,
            ),
            ("login_attempts_per_ip", self.login_attempts_per_ip),
            ("login_window_secs", self.login_window_secs as usize),
            ("registrations_per_ip", self.registrations_per_ip),
            (
                "registration_window_secs",
                self.registration_window_secs as usize,
            ),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Invalid(format!(
                "{name} must be greater than 0"
            )));
        }
        if let Some(bad) = self.public_origins.iter().find(|o| !o.contains("://")) {
            return Err(ConfigError::Invalid(format!(
                "public origin {bad:?} must look like https://chat.example.org"
            )));
        }
        self.admin_networks()?;
        self.trusted_proxy_networks()?;
        self.password_params()?;
        Ok(())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url)
            .field("master_key", &self.master_key)
            .field("public_origins", &self.public_origins)
            .field("admin_cidrs", &self.admin_cidrs)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

/// Accepts a TOML list or a comma-separated string (the form environment variables take).
fn list_or_csv<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCsv {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match ListOrCsv::deserialize(deserializer)? {
        ListOrCsv::List(list) => list,
        ListOrCsv::Csv(csv) => csv
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[cfg(test)]
// figment's Jail API fixes the closure's error type; its size is not ours to choose.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use crate::auth::PasswordParams;

    #[test]
    fn environment_overrides_file_and_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "parlor.toml",
                "listen = \"127.0.0.1:9000\"\nmax_message_chars = 100",
            )?;
            jail.set_env("PARLOR_MAX_MESSAGE_CHARS", "42");
            jail.set_env(
                "PARLOR_PUBLIC_ORIGINS",
                "https://a.example, https://b.example",
            );
            jail.set_env("DATABASE_URL", "postgres://u:p@localhost/db");
            let config = Config::load(Path::new("parlor.toml")).expect("loads");
            assert_eq!(config.listen, "127.0.0.1:9000".parse().unwrap());
            assert_eq!(config.max_message_chars, 42);
            assert_eq!(
                config.public_origins,
                ["https://a.example", "https://b.example"]
            );
            assert_eq!(config.database_url(), "postgres://u:p@localhost/db");
            assert!(config.secure_cookies());
            assert!(
                !format!("{config:?}").contains("u:p"),
                "secrets are redacted"
            );
            Ok(())
        });
    }

    #[test]
    fn argon2_parameters_come_from_the_environment_and_are_checked() {
        figment::Jail::expect_with(|jail| {
            let defaults = Config::load(Path::new("missing.toml")).expect("loads");
            assert_eq!(
                defaults.password_params().unwrap(),
                PasswordParams::default(),
                "production defaults unchanged"
            );
            jail.set_env("PARLOR_ARGON2_MEMORY_KIB", "64");
            jail.set_env("PARLOR_ARGON2_ITERATIONS", "1");
            jail.set_env("PARLOR_ARGON2_PARALLELISM", "2");
            let cheap = Config::load(Path::new("missing.toml")).expect("loads");
            assert_eq!(
                (
                    cheap.argon2_memory_kib,
                    cheap.argon2_iterations,
                    cheap.argon2_parallelism
                ),
                (64, 1, 2)
            );
            assert!(cheap.password_params().unwrap().below_owasp_minimum());
            jail.set_env("PARLOR_ARGON2_PARALLELISM", "16");
            let err = Config::load(Path::new("missing.toml")).expect_err("64 KiB for 16 lanes");
            assert!(err.to_string().contains("argon2"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn zero_limits_are_rejected() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PARLOR_OUTBOUND_QUEUE", "0");
            assert!(Config::load(Path::new("missing.toml")).is_err());
            Ok(())
        });
    }
}
