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
            name_release: Duration::from_secs(self.name_release_days.saturating_mul(24 * 3600)),
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

    /// The object store files go to: S3 when `object_store_url` is set, else
    /// `<data_dir>/uploads`.
    pub fn file_store(&self) -> Result<crate::files::FileStore, crate::files::FileStoreError> {
        match &self.object_store_url {
            None => crate::files::FileStore::local(&self.data_dir.join("uploads")),
            Some(url) => crate::files::FileStore::s3(&crate::files::S3Options {
                url: url.clone(),
                endpoint: self.s3_endpoint.clone(),
                region: self.s3_region.clone(),
                access_key_id: self
                    .s3_access_key_id
                    .as_ref()
                    .map(|s| s.expose().to_owned()),
                secret_access_key: self
                    .s3_secret_access_key
                    .as_ref()
                    .map(|s| s.expose().to_owned()),
                allow_http: self.s3_allow_http,
            }),
        }
    }

    /// The upload pipeline's limits.
    pub fn library_settings(&self) -> crate::files::LibrarySettings {
        crate::files::LibrarySettings {
            allowed: self.allowed_file_types.clone(),
            preview: crate::files::preview::PreviewLimits {
                max_pixels: self.image_max_pixels,
                ..Default::default()
            },
            preview_max_source: self.thumbnail_max_source_bytes,
            preview_timeout: Duration::from_secs(20),
            decoders: 2,
        }
    }

    /// Who may upload how much.
    pub fn file_settings(&self) -> crate::core::FileSettings {
        crate::core::FileSettings {
            max_file_bytes: self.max_file_bytes,
            uploads_per_window: self.uploads_per_window,
            upload_bytes_per_window: self.upload_bytes_per_window,
            upload_window: Duration::from_secs(self.upload_window_secs),
            room_bytes: self.room_file_bytes,
            pending_grace: Duration::from_secs(self.pending_file_grace_secs),
            lobby_file_ttl: Duration::from_secs(self.lobby_file_ttl_secs),
        }
    }

    /// This node's name: the configured one, or a random one for this run.
    pub fn node_name(&self) -> String {
        self.node_id.clone().unwrap_or_else(|| {
            use argon2::password_hash::rand_core::{OsRng, RngCore};
            let mut bytes = [0u8; 4];
            OsRng.fill_bytes(&mut bytes);
            format!("node-{}", u32::from_be_bytes(bytes))
        })
    }

    /// Cookies get `Secure` when the server is reached over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_origins
            .iter()
            .any(|o| o.starts_with("https://"))
    }
}
