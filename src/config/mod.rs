//! Configuration: built-in defaults → optional `parlor.toml` → `PARLOR_*` environment variables
//! (and `DATABASE_URL`). Loaded and validated once at start-up; the rest of the server only
//! reads a [`Config`].
//!
//! A mistake stops the start: an unknown key in the file, an unknown `PARLOR_*` variable, a
//! configuration file that was named but does not exist, a secret without the setting it
//! belongs to, a value that does not parse. Every message names the setting the way the
//! operator wrote it (`PARLOR_LISTEN`, or `listen` in `/etc/parlor/parlor.toml`), which is what
//! [`Provenance`] remembers.

mod describe;
mod error;
mod load;
mod provenance;
mod secret;
mod settings;
mod validate;

pub use error::ConfigError;
pub use load::ConfigFile;
pub use provenance::Provenance;
pub use secret::Secret;

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Every setting of the server. The README's configuration table lists the same fields.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    /// Base64 of the master key used before the last rotation: data keys still wrapped by it
    /// open, and are re-wrapped under the current key at start-up. Set it for the first start
    /// after rotating `master_key`.
    pub previous_master_key: Option<Secret>,
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
    /// Seconds after sending during which the author may edit a message (0: editing is off).
    pub edit_window_secs: u64,
    /// Distinct members one message may mention; more is refused as `too_many_mentions`.
    pub max_mentions: usize,
    /// Who may mention everyone in a room (`@here`, `@room`, `@everyone`): `moderators` (the
    /// room's owner and admins, and staff) or `members`.
    pub everyone_mentions: crate::domain::EveryoneMentions,
    /// Days a name given up by a rename stays reserved for the account that gave it up, so
    /// that nobody else can take it and pass for them (0: released at once).
    pub name_release_days: u64,
    /// Guests may join public rooms whose owners admit them (`allow_guests`) and host
    /// ephemeral 1-on-1 rooms (each such room counts against the address's registration
    /// budget). Off: rooms are for accounts only.
    pub guests_in_rooms: bool,
    /// Private conversations between two accounts that both have end-to-end keys are
    /// end-to-end encrypted (decided when the conversation is first opened; see
    /// `docs/e2ee.md`). Off: conversations are encrypted at rest only, like rooms by default.
    pub e2e_conversations: bool,
    /// Seconds an activated ephemeral 1-on-1 room stays open.
    pub ephemeral_ttl_secs: u64,
    /// Megabytes of decrypted message text message search keeps in memory between searches
    /// (least recently searched rooms dropped first; 0 keeps nothing).
    pub search_cache_mb: usize,
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
    /// together, whether it is named by user name or by e-mail. Every limit lifts by itself
    /// when the window slides.
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
    /// Password hashes (and verifications) running at once, each holding `argon2_memory_kib`
    /// (0: one per CPU core), and how many more may wait before logins are refused with
    /// `rate_limited`.
    pub argon2_concurrency: usize,
    pub argon2_queue: usize,
    /// Events queued per connection before it is dropped as a slow consumer.
    pub outbound_queue: usize,
    /// Give an anonymous guest from the same IP their previous nick back when it is free.
    pub guest_nick_by_ip: bool,
    /// Where uploaded files are stored: `s3://bucket/prefix` for an S3-compatible store; when
    /// unset, `<data_dir>/uploads`. Files are sealed before they leave the server either way.
    pub object_store_url: Option<String>,
    /// The S3 endpoint (for a store other than AWS: MinIO, Garage, Ceph, …) and region. When
    /// unset, the usual `AWS_ENDPOINT_URL`, `AWS_REGION` (and credential) variables apply.
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key_id: Option<Secret>,
    pub s3_secret_access_key: Option<Secret>,
    /// Allow a plain `http://` endpoint (a store on loopback or a private network).
    pub s3_allow_http: bool,
    /// Largest file accepted, in bytes.
    pub max_file_bytes: u64,
    /// MIME types accepted (detected from the bytes). SVG, HTML and other markup, if added,
    /// are only ever served as downloads.
    #[serde(deserialize_with = "list_or_csv")]
    pub allowed_file_types: Vec<String>,
    /// Uploads, and bytes, each user may send per `upload_window_secs` (0: no limit).
    pub uploads_per_window: u64,
    pub upload_bytes_per_window: u64,
    pub upload_window_secs: u64,
    /// Bytes of files a room may hold (0: no limit).
    pub room_file_bytes: u64,
    /// Seconds an upload no message took is kept.
    pub pending_file_grace_secs: u64,
    /// Seconds a file sent in the lobby is kept.
    pub lobby_file_ttl_secs: u64,
    /// Largest image (in pixels) decoded for a thumbnail; larger ones are refused.
    pub image_max_pixels: u64,
    /// Images larger than this many bytes are kept without a thumbnail.
    pub thumbnail_max_source_bytes: u64,
    /// This node's name in `/health` and the logs (1–64 of `A–Z a–z 0–9 . _ -`); when
    /// unset, a random one is drawn at each start.
    pub node_id: Option<String>,
    /// Redis for several nodes: fan-out, presence and the `/ws` rule cluster-wide. Unset,
    /// one node delivers in-process. May hold a password: never logged.
    pub redis_url: Option<Secret>,
    /// The AI companion's model server: `ollama` (`/api/chat`) or `openai` (any
    /// OpenAI-compatible `/v1/chat/completions`). Unset, there is no companion.
    pub ai_provider: Option<AiProvider>,
    /// The model server's base URL (`http://127.0.0.1:11434` for Ollama); the only address
    /// the companion ever calls.
    pub ai_base_url: Option<String>,
    /// The model's name as the server knows it.
    pub ai_model: String,
    /// Bearer token for the model server, if it wants one. Never logged.
    pub ai_api_key: Option<Secret>,
    /// Sampling temperature (0–2).
    pub ai_temperature: f32,
    /// Longest reply, in tokens.
    pub ai_max_reply_tokens: u32,
    /// Seconds a whole reply may take, and the first piece of it.
    pub ai_request_timeout_secs: u64,
    pub ai_first_token_timeout_secs: u64,
    /// Replies generated at once, and how many more may wait (a full queue answers
    /// `ai_busy`).
    pub ai_concurrency: usize,
    pub ai_queue: usize,
    /// The companion's name (an account created at start) and the file holding its system
    /// prompt (a friendly default when unset).
    pub ai_name: String,
    pub ai_persona_file: Option<PathBuf>,
    /// Turns remembered per user, and the most characters of memory sent with a prompt.
    pub ai_memory_turns: usize,
    pub ai_context_chars: usize,
    /// Messages a registered user may send the companion before premium is needed.
    pub ai_free_messages: u32,
    /// Messages a user may send the companion per minute.
    pub ai_messages_per_minute: u32,
    /// Shared secret of the payment webhook (`POST /api/payments/webhook`, HMAC-SHA256).
    /// Unset, the webhook answers 404.
    pub payment_webhook_secret: Option<Secret>,
    /// Days of premium a payment grants when its event names no period.
    pub payment_period_days: u64,
    /// The simpler `POST /api/payment/success` form (`{secret, user_id}`), off by default,
    /// and its secret.
    pub payment_simple_enabled: bool,
    pub payment_simple_secret: Option<Secret>,
    /// Seconds connections get to close on shutdown.
    pub shutdown_grace_secs: u64,
    /// `tracing` filter, e.g. `info` or `parlor=debug`.
    pub log: String,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Where each setting above came from (not a setting itself).
    #[serde(skip)]
    pub provenance: Provenance,
}

/// Which streaming API the companion's model server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AiProvider {
    /// Ollama's `/api/chat`, streaming NDJSON.
    Ollama,
    /// `/v1/chat/completions` with server-sent events: llama.cpp's server, vLLM, LocalAI,
    /// hosted APIs.
    Openai,
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
            previous_master_key: None,
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
            edit_window_secs: 24 * 3600,
            max_mentions: 20,
            everyone_mentions: crate::domain::EveryoneMentions::Moderators,
            name_release_days: 30,
            guests_in_rooms: true,
            e2e_conversations: true,
            ephemeral_ttl_secs: 24 * 3600,
            search_cache_mb: 256,
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
            argon2_concurrency: 0,
            argon2_queue: 64,
            guest_nick_by_ip: true,
            object_store_url: None,
            s3_endpoint: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            max_file_bytes: 50 * 1024 * 1024,
            allowed_file_types: crate::files::kind::DEFAULT_ALLOWED
                .iter()
                .map(|m| (*m).to_owned())
                .collect(),
            uploads_per_window: 100,
            upload_bytes_per_window: 1024 * 1024 * 1024,
            upload_window_secs: 3600,
            room_file_bytes: 0,
            pending_file_grace_secs: 3600,
            lobby_file_ttl_secs: 24 * 3600,
            image_max_pixels: 40_000_000,
            thumbnail_max_source_bytes: 32 * 1024 * 1024,
            node_id: None,
            redis_url: None,
            ai_provider: None,
            ai_base_url: None,
            ai_model: String::new(),
            ai_api_key: None,
            ai_temperature: 0.7,
            ai_max_reply_tokens: 512,
            ai_request_timeout_secs: 120,
            ai_first_token_timeout_secs: 30,
            ai_concurrency: 1,
            ai_queue: 16,
            ai_name: "Violet".into(),
            ai_persona_file: None,
            ai_memory_turns: 20,
            ai_context_chars: 8000,
            ai_free_messages: 3,
            ai_messages_per_minute: 6,
            payment_webhook_secret: None,
            payment_period_days: 30,
            payment_simple_enabled: false,
            payment_simple_secret: None,
            shutdown_grace_secs: 10,
            log: "info".into(),
            log_format: LogFormat::Text,
            provenance: Provenance::default(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url)
            .field("master_key", &self.master_key)
            .field("previous_master_key", &self.previous_master_key)
            .field("public_origins", &self.public_origins)
            .field("admin_cidrs", &self.admin_cidrs)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("object_store_url", &self.object_store_url)
            .field("s3_access_key_id", &self.s3_access_key_id)
            .field("s3_secret_access_key", &self.s3_secret_access_key)
            .field("redis_url", &self.redis_url)
            .field("ai_provider", &self.ai_provider)
            .field("ai_base_url", &self.ai_base_url)
            .field("ai_api_key", &self.ai_api_key)
            .field("payment_webhook_secret", &self.payment_webhook_secret)
            .field("payment_simple_secret", &self.payment_simple_secret)
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
    let value = ListOrCsv::deserialize(deserializer).map_err(|_| {
        serde::de::Error::custom("expected a list of strings or a comma-separated string")
    })?;
    Ok(match value {
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
mod tests;
