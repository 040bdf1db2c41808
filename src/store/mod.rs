//! Persistence: one API over SQLite (the embedded default, in WAL mode) and PostgreSQL.
//!
//! All SQL lives in this module, one file per aggregate. Queries are built at run time with
//! `query_as(..).bind(..)` on sqlx's `Any` driver, so the same statements serve both engines;
//! they use only the common dialect (`$1` placeholders, `RETURNING`, `ON CONFLICT`). Each engine
//! has its own `migrations/<engine>/` folder with the same meaning. Timestamps are UTC
//! milliseconds (`BIGINT`).

mod audit;
mod conversations;
mod ephemeral;
mod guests;
mod ignores;
mod invites;
mod keys;
mod messages;
mod rooms;
mod sanctions;
mod sessions;
mod users;

pub use audit::{AuditEntry, AuditFilter, AuditRow};
pub use conversations::ConversationRow;
pub use ephemeral::{ArchiveRow, DeviceRow, NewArchive, MAX_DEVICES};
pub use guests::GuestRow;
pub use invites::{InviteRow, NewInvite};
pub use keys::WrappedKey;
pub use messages::{Appended, MessageRow, NewMessage};
pub use rooms::{ListedRoom, MemberRow, NewRoom, RoomRow, RoomSettings};
pub use sanctions::{NewSanction, SanctionRow};
pub use sessions::{Principal, SessionRow};
pub use users::{NewUser, UserRow};

use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{AnyPool, Executor};
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
    backend: Backend,
}

impl Store {
    /// Connects, applies the engine's pending migrations, and returns the store.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; NORMAL sync is durable
                        // across application crashes, which is what WAL mode is meant for.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Waits for in-flight queries and closes every connection (checkpointing SQLite's WAL).
    pub async fn close(&self) {
        self.pool.close().await;
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

fn affected(result: AnyQueryResult) -> bool {
    result.rows_affected() > 0
}
