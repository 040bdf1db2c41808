//! Persistence: one API over SQLite (the embedded default, in WAL mode) and PostgreSQL.
//!
//! All SQL lives in this module, one file per aggregate. [`Store`] owns the pool and hands out
//! one small repository per aggregate (`store.users()`, `store.rooms()`, …) that borrows it, so
//! each file holds exactly one type's queries and a caller names the table it touches. Queries are built at run time with
//! `query_as(..).bind(..)` on sqlx's `Any` driver, so the same statements serve both engines;
//! they use only the common dialect (`$1` placeholders, `RETURNING`, `ON CONFLICT`). Each engine
//! has its own `migrations/<engine>/` folder with the same meaning. Timestamps are UTC
//! milliseconds (`BIGINT`).

mod access_requests;
mod account_keys;
mod ai_memory;
mod ai_usage;
mod appender;
mod archives;
mod audit;
mod conversations;
mod data_keys;
mod ephemeral;
mod export;
mod files;
mod guests;
mod ignores;
mod inspect;
mod invites;
mod leases;
mod members;
mod mentions;
mod messages;
mod payments;
mod premium;
mod probe;
mod profile;
mod reactions;
mod room_bans;
mod room_epoch_keys;
mod rooms;
mod sanctions;
mod search;
mod sessions;
mod snapshot;
mod sqlite;
mod users;

pub use access_requests::{AccessRequests, OwnRequestRow, RequestRow, RequestedRoom};
pub use account_keys::{AccountKeys, AccountKeysRow};
pub use ai_memory::{AiMemory, MemoryRow, NewTurn};
pub use ai_usage::AiUsage;
pub use appender::{Seal, Submitted};
pub use archives::{ArchiveRow, Archives, NewArchive};
pub use audit::{Audit, AuditEntry, AuditFilter, AuditRow};
pub use conversations::{ConversationRow, Conversations};
pub use data_keys::{DataKeys, WrappedKey};
pub use ephemeral::{DeviceRow, EphemeralRooms, MAX_DEVICES};
pub use export::{ExportReads, MembershipRow, SessionRecord, UploadRow};
pub use files::{DoomedFile, FileRow, Files, NewFile};
pub use guests::{GuestRow, Guests};
pub use ignores::Ignores;
pub use inspect::{Inspected, Schema};
pub use invites::{InviteRow, Invites, NewInvite};
pub use leases::Leases;
pub use members::{MemberRow, Members};
pub use mentions::{MentionRow, Mentions, EVERYONE};
pub use messages::{Appended, MessageRow, Messages, NewMessage};
pub use payments::{NewPaymentEvent, Payments, Recorded};
pub use premium::Grant;
pub use profile::{Profiles, Rename};
pub use reactions::{
    Reacted, ReactionRow, Reactions, MAX_EMOJI_PER_MESSAGE, MAX_REACTIONS_PER_USER,
};
pub use room_bans::RoomBans;
pub use room_epoch_keys::{HeldKeyRow, KeyMemberRow, RoomEpochKeys, StoreKeys};
pub use rooms::{ListedRoom, NewRoom, RoomRow, RoomSettings, Rooms, SeenRoom};
pub use sanctions::{NewSanction, SanctionRow, Sanctions};
pub use search::{SearchReads, SearchRow, SearchableRoom};
pub use sessions::{OwnSessionRow, SessionRow, Sessions};
pub use snapshot::{Inventory, PgSnapshot, SqliteCopy, WrappedBy};
pub use users::{NewUser, UserRow, Users};

use crate::domain::Millis;
use crate::metrics::StoreTimings;
use probe::WriteProbe;
use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{AnyPool, Executor};
use std::sync::Arc;
use std::time::Duration;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the text names the constraint or column.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot prepare the database location: {0}")]
    Location(#[source] std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            _ => StoreError::Database(err),
        }
    }
}

/// Which engine a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection pool and the queries over it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// Where the reads on every stored message's path go: on a SQLite file, a pool of its own
    /// whose connections cannot write (see [`sqlite::reader`]); otherwise `pool` itself.
    reader: AnyPool,
    backend: Backend,
    /// `/health`'s write probe.
    probe: Arc<WriteProbe>,
    /// How long the operations on a message's path take (exposed by `/metrics`).
    timings: StoreTimings,
    /// The group commit of new messages.
    appender: appender::Appender,
}

impl Store {
    /// Connects, applies the engine's pending migrations, and returns the store. A SQLite URL
    /// without a `mode` creates its file (and directory) on first start.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let url = match backend {
            Backend::Sqlite => sqlite::prepare_url(url).map_err(StoreError::Location)?,
            Backend::Postgres => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .acquire_timeout(Duration::from_secs(10))
            // sqlx pings a connection before handing it out, for connections that a network
            // or a server restart may have cut. A SQLite connection is a file handle in this
            // process: its ping is only another round trip to its worker thread, on every
            // query, and a connection left unusable is closed when it comes back (below).
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(sqlite::PRAGMAS).await?;
                    }
                    Ok(())
                })
            })
            .after_release(move |conn, _| {
                Box::pin(
                    async move { Ok(backend != Backend::Sqlite || sqlite::left_clean(conn).await) },
                )
            })
            .connect(&url)
            .await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let reader = match backend {
            Backend::Sqlite if !sqlite::in_memory(&url) => sqlite::reader(&url).await?,
            _ => pool.clone(),
        };
        Ok(Self {
            reader,
            ..Self::over(pool, backend)
        })
    }

    /// The store over a connected pool (its group commit's writer starts here).
    fn over(pool: AnyPool, backend: Backend) -> Self {
        Self {
            appender: appender::Appender::start(pool.clone(), backend == Backend::Sqlite),
            reader: pool.clone(),
            pool,
            backend,
            probe: Arc::default(),
            timings: StoreTimings::default(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The latency histograms this store records into.
    pub fn timings(&self) -> &StoreTimings {
        &self.timings
    }

    /// A cheap round trip.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Whether the store accepts writes right now: a row rewritten and committed (see
    /// [`probe`]); `Err` holds the reason.
    pub async fn check_writes(&self, now: Millis) -> Result<(), String> {
        self.probe.check(&self.pool, now).await
    }

    /// Checkpoints SQLite's WAL every `period` until `stop`, off every request's path; passive
    /// checkpoints never block writers. Nothing to do on PostgreSQL.
    pub async fn checkpoint_every(
        &self,
        period: Duration,
        stop: tokio_util::sync::CancellationToken,
    ) {
        if self.backend != Backend::Sqlite {
            return;
        }
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
            if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&self.pool)
                .await
            {
                tracing::warn!(error = %err, "the WAL checkpoint failed; trying again shortly");
            }
        }
    }

    /// Waits for in-flight queries and closes every connection (checkpointing SQLite's WAL).
    pub async fn close(&self) {
        self.appender.release();
        self.reader.close().await;
        self.pool.close().await;
    }

    /// Registered accounts.
    pub fn users(&self) -> Users<'_> {
        Users { pool: &self.pool }
    }

    /// What an account changes about itself: preferences, name, e-mail, key.
    pub fn profiles(&self) -> Profiles<'_> {
        Profiles { pool: &self.pool }
    }

    /// Accounts' end-to-end keys (public, and private ones wrapped in the browser).
    pub fn account_keys(&self) -> AccountKeys<'_> {
        AccountKeys { pool: &self.pool }
    }

    /// Guest identities.
    pub fn guests(&self) -> Guests<'_> {
        Guests { pool: &self.pool }
    }

    /// Session tokens (by hash) and whom they stand for.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { pool: &self.pool }
    }

    /// Each account's ignore list.
    pub fn ignores(&self) -> Ignores<'_> {
        Ignores { pool: &self.pool }
    }

    /// Wrapped data keys.
    pub fn data_keys(&self) -> DataKeys<'_> {
        DataKeys { pool: &self.pool }
    }

    /// Rooms of every kind.
    pub fn rooms(&self) -> Rooms<'_> {
        Rooms {
            pool: &self.pool,
            reader: &self.reader,
        }
    }

    /// Who belongs to which room, in which role.
    pub fn members(&self) -> Members<'_> {
        Members { pool: &self.pool }
    }

    /// End-to-end rooms' keys by epoch, sealed to each member.
    pub fn room_epoch_keys(&self) -> RoomEpochKeys<'_> {
        RoomEpochKeys { pool: &self.pool }
    }

    /// Who is banned from which room.
    pub fn room_bans(&self) -> RoomBans<'_> {
        RoomBans { pool: &self.pool }
    }

    /// Pending requests to join private rooms.
    pub fn access_requests(&self) -> AccessRequests<'_> {
        AccessRequests { pool: &self.pool }
    }

    /// Invite links.
    pub fn invites(&self) -> Invites<'_> {
        Invites { pool: &self.pool }
    }

    /// Sealed room messages.
    /// Emoji reactions to stored messages.
    pub fn reactions(&self) -> Reactions<'_> {
        Reactions { pool: &self.pool }
    }

    /// Who stored messages mention.
    pub fn mentions(&self) -> Mentions<'_> {
        Mentions { pool: &self.pool }
    }

    pub fn messages(&self) -> Messages<'_> {
        Messages {
            pool: &self.pool,
            timings: &self.timings,
            appender: &self.appender,
        }
    }

    /// The AI companion's sealed memory of each user.
    pub fn ai_memory(&self) -> AiMemory<'_> {
        AiMemory { pool: &self.pool }
    }

    /// Free companion messages spent, per user.
    pub fn ai_usage(&self) -> AiUsage<'_> {
        AiUsage { pool: &self.pool }
    }

    /// Private conversations between two accounts.
    pub fn conversations(&self) -> Conversations<'_> {
        Conversations { pool: &self.pool }
    }

    /// Ephemeral rooms' devices and timers.
    pub fn ephemeral(&self) -> EphemeralRooms<'_> {
        EphemeralRooms { pool: &self.pool }
    }

    /// Sealed transcripts of expired ephemeral rooms.
    pub fn archives(&self) -> Archives<'_> {
        Archives { pool: &self.pool }
    }

    /// Bans and mutes.
    pub fn sanctions(&self) -> Sanctions<'_> {
        Sanctions { pool: &self.pool }
    }

    /// Uploaded files' metadata.
    pub fn files(&self) -> Files<'_> {
        Files { pool: &self.pool }
    }

    /// Leases on tasks that run once in the cluster.
    pub fn leases(&self) -> Leases<'_> {
        Leases { pool: &self.pool }
    }

    /// Payment events received, once each (premium itself is on `users()`).
    pub fn payments(&self) -> Payments<'_> {
        Payments { pool: &self.pool }
    }

    /// What message search reads (rooms one may search, messages, hits).
    pub fn search(&self) -> SearchReads<'_> {
        SearchReads { pool: &self.pool }
    }

    /// The audit log.
    pub fn audit(&self) -> Audit<'_> {
        Audit { pool: &self.pool }
    }

    /// What one account left across the tables, for data exports.
    pub fn exports(&self) -> ExportReads<'_> {
        ExportReads { pool: &self.pool }
    }
}

/// A `LIKE … ESCAPE '\'` pattern matching text that contains `text` literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// `$from, $from+1, …` for `count` values: an `IN (…)` list bound value by value.
fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn affected(result: AnyQueryResult) -> bool {
    result.rows_affected() > 0
}
