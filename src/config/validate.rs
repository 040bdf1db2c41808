//! The checks a loaded configuration must pass before anything starts; each refusal names the
//! setting as the operator gave it.

use super::{Config, ConfigError};
use crate::auth::PasswordParams;
use crate::domain::{Name, Networks};

impl Config {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, problem: &str| {
            ConfigError::Invalid(format!("{}: {problem}", self.provenance.name_of(key)))
        };
        if let Some((key, _)) = self.positive().iter().find(|(_, v)| *v == 0) {
            return Err(invalid(key, "must be greater than 0"));
        }
        if let Some(bad) = self.public_origins.iter().find(|o| !o.contains("://")) {
            return Err(invalid(
                "public_origins",
                &format!("{bad:?} must look like https://chat.example.org"),
            ));
        }
        for (key, list) in [
            ("admin_cidrs", &self.admin_cidrs),
            ("trusted_proxies", &self.trusted_proxies),
        ] {
            Networks::parse(list).map_err(|e| invalid(key, &e.to_string()))?;
        }
        PasswordParams::new(
            self.argon2_memory_kib,
            self.argon2_iterations,
            self.argon2_parallelism,
        )
        .map_err(|e| {
            let names = [
                "argon2_memory_kib",
                "argon2_iterations",
                "argon2_parallelism",
            ]
            .map(|key| self.provenance.name_of(key));
            ConfigError::Invalid(format!("{}: {e}", names.join(", ")))
        })?;
        self.validate_ai(&invalid)?;
        if let Some(url) = &self.object_store_url {
            if !url.starts_with("s3://") || url.len() <= "s3://".len() {
                return Err(invalid(
                    "object_store_url",
                    "must look like s3://bucket/prefix",
                ));
            }
        }
        for key in [
            "s3_endpoint",
            "s3_region",
            "s3_access_key_id",
            "s3_secret_access_key",
        ] {
            let set = match key {
                "s3_endpoint" => self.s3_endpoint.is_some(),
                "s3_region" => self.s3_region.is_some(),
                "s3_access_key_id" => self.s3_access_key_id.is_some(),
                _ => self.s3_secret_access_key.is_some(),
            };
            if set && self.object_store_url.is_none() {
                return Err(invalid(
                    key,
                    &format!(
                        "is set without {}",
                        self.provenance.name_of("object_store_url")
                    ),
                ));
            }
        }
        if let Some(node) = &self.node_id {
            let fits = (1..=64).contains(&node.len())
                && node
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !fits {
                return Err(invalid("node_id", "1 to 64 of A-Z a-z 0-9 . _ -"));
            }
        }
        self.log_filter()?;
        self.check_root_account()
    }

    /// The settings that must not be 0, by key.
    fn positive(&self) -> [(&'static str, u64); 31] {
        let n = |v: usize| v as u64;
        [
            ("session_ttl_secs", self.session_ttl_secs),
            ("max_message_chars", n(self.max_message_chars)),
            ("history_page", n(self.history_page)),
            ("pm_history_cap", n(self.pm_history_cap)),
            ("max_mentions", n(self.max_mentions)),
            ("ephemeral_ttl_secs", self.ephemeral_ttl_secs),
            ("rate_limit_messages", n(self.rate_limit_messages)),
            ("rate_limit_window_secs", self.rate_limit_window_secs),
            ("max_frame_bytes", n(self.max_frame_bytes)),
            ("max_handshakes", n(self.max_handshakes)),
            ("identify_timeout_secs", self.identify_timeout_secs),
            ("outbound_queue", n(self.outbound_queue)),
            ("presence_limit", n(self.presence_limit)),
            (
                "login_attempts_per_account",
                n(self.login_attempts_per_account),
            ),
            ("login_attempts_per_ip", n(self.login_attempts_per_ip)),
            ("login_window_secs", self.login_window_secs),
            ("registrations_per_ip", n(self.registrations_per_ip)),
            ("registration_window_secs", self.registration_window_secs),
            ("max_file_bytes", self.max_file_bytes),
            ("upload_window_secs", self.upload_window_secs),
            ("pending_file_grace_secs", self.pending_file_grace_secs),
            ("lobby_file_ttl_secs", self.lobby_file_ttl_secs),
            ("image_max_pixels", self.image_max_pixels),
            ("ai_max_reply_tokens", u64::from(self.ai_max_reply_tokens)),
            ("ai_request_timeout_secs", self.ai_request_timeout_secs),
            (
                "ai_first_token_timeout_secs",
                self.ai_first_token_timeout_secs,
            ),
            ("ai_concurrency", n(self.ai_concurrency)),
            ("ai_memory_turns", n(self.ai_memory_turns)),
            ("ai_context_chars", n(self.ai_context_chars)),
            (
                "ai_messages_per_minute",
                u64::from(self.ai_messages_per_minute),
            ),
            ("payment_period_days", self.payment_period_days),
        ]
    }

    /// `log`, parsed as a `tracing` filter; a directive that does not parse is refused rather
    /// than dropped (`parlor=loud` would otherwise log nothing from parlor, silently).
    pub fn log_filter(&self) -> Result<tracing_subscriber::EnvFilter, ConfigError> {
        tracing_subscriber::EnvFilter::try_new(&self.log).map_err(|e| {
            ConfigError::Invalid(format!(
                "{}: {e} in {:?}; a filter looks like `info` or `parlor=debug,sqlx=warn`",
                self.provenance.name_of("log"),
                self.log
            ))
        })
    }

    /// A root password (or hash) only means something with the account it belongs to, and
    /// the account needs one of them.
    fn check_root_account(&self) -> Result<(), ConfigError> {
        let name = |key: &str| self.provenance.name_of(key);
        let secret = [
            ("root_password", self.root_password.is_some()),
            ("root_password_hash", self.root_password_hash.is_some()),
        ];
        match &self.root_user {
            None => match secret.iter().find(|(_, set)| *set) {
                Some((key, _)) => Err(ConfigError::Invalid(format!(
                    "{} is set without {}; set both, or neither",
                    name(key),
                    name("root_user")
                ))),
                None => Ok(()),
            },
            Some(_) if secret.iter().all(|(_, set)| !set) => Err(ConfigError::Invalid(format!(
                "{} is set without {} or {}",
                name("root_user"),
                name("root_password"),
                name("root_password_hash")
            ))),
            Some(user) => Name::parse(user)
                .map(drop)
                .map_err(|e| ConfigError::Invalid(format!("{}: {e}", name("root_user")))),
        }
    }

    /// The companion's settings hang together: a provider needs a URL (http or https, the
    /// only address it calls) and a model; the temperature is one models accept.
    fn validate_ai(&self, invalid: &dyn Fn(&str, &str) -> ConfigError) -> Result<(), ConfigError> {
        if !(0.0..=2.0).contains(&self.ai_temperature) {
            return Err(invalid("ai_temperature", "must be between 0 and 2"));
        }
        if Name::parse(&self.ai_name).is_err() {
            return Err(invalid("ai_name", "must be a valid user name"));
        }
        if self.ai_provider.is_none() {
            return Ok(());
        }
        match &self.ai_base_url {
            None => return Err(invalid("ai_base_url", "must be set when ai_provider is")),
            Some(url) if !(url.starts_with("http://") || url.starts_with("https://")) => {
                return Err(invalid(
                    "ai_base_url",
                    "must look like http://127.0.0.1:11434 (http or https)",
                ));
            }
            Some(_) => {}
        }
        if self.ai_model.trim().is_empty() {
            return Err(invalid("ai_model", "must be set when ai_provider is"));
        }
        Ok(())
    }
}
