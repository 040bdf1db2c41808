//! The settings each part of the server takes, derived from a loaded [`Config`].

use super::{Config, ConfigError};
use crate::auth::{AuthSettings, HashingLimits, PasswordParams, ThrottleSettings};
use crate::domain::Networks;
use std::time::Duration;

impl Config {
    /// `argon2_memory_kib`, `argon2_iterations` and `argon2_parallelism`, checked together.
    pub fn password_params(&self) -> Result<PasswordParams, ConfigError> {
        PasswordParams::new(
            self.argon2_memory_kib,
            self.argon2_iterations,
            self.argon2_parallelism,
        )
        .map_err(ConfigError::Invalid)
    }

    /// `admin_cidrs`, parsed.
    pub fn admin_networks(&self) -> Result<Networks, ConfigError> {
        Networks::parse(&self.admin_cidrs)
            .map_err(|e| ConfigError::Invalid(format!("admin_cidrs: {e}")))
    }

    /// `trusted_proxies`, parsed.
    pub fn trusted_proxy_networks(&self) -> Result<Networks, ConfigError> {
        Networks::parse(&self.trusted_proxies)
            .map_err(|e| ConfigError::Invalid(format!("trusted_proxies: {e}")))
    }

    /// The database URL in force: the configured one or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("parlor.db").display()
            ),
        }
    }

    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(self.session_ttl_secs)
    }

    /// The identity layer's settings (an error when the argon2 parameters are invalid).
    pub fn auth_settings(&self) -> Result<AuthSettings, ConfigError> {
        Ok(AuthSettings {
            session_ttl: self.session_ttl(),
            password_min_length: self.password_min_length,
            guest_nick_by_ip: self.guest_nick_by_ip,
            throttle: ThrottleSettings {
                login_attempts_per_account: self.login_attempts_per_account,
                login_attempts_per_ip: self.login_attempts_per_ip,
                login_window: Duration::from_secs(self.login_window_secs),
                registrations_per_ip: self.registrations_per_ip,
                registration_window: Duration::from_secs(self.registration_window_secs),
            },
            password_hashing: self.password_params()?,
            hashing_limits: HashingLimits::new(self.argon2_concurrency, self.argon2_queue),
        })
    }

    pub fn rate_window(&self) -> Duration {
        Duration::from_secs(self.rate_limit_window_secs)
    }

    /// Cookies get `Secure` when the server is reached over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_origins
            .iter()
            .any(|o| o.starts_with("https://"))
    }
}
