//! A consistent copy of the database while a server keeps writing to it, and what a copy
//! holds: what `parlor backup` and `parlor restore` need from the store.
//!
//! SQLite is copied with `VACUUM INTO`, which reads the whole database inside one read
//! transaction: in WAL mode that is a snapshot of the last commit before it began, taken
//! beside the server's writer without blocking it, and written out as a compact database of
//! its own. Copying the file instead (`cp`) would catch pages of different moments and miss
//! what still sits in the `-wal` file. PostgreSQL is dumped by `pg_dump`; [`PgSnapshot`]
//! exports the snapshot `pg_dump` then reads (`--snapshot`), so the inventory written beside
//! the dump counts exactly what the dump holds.
//!
//! The store reached here is opened with [`Store::inspect`]: nothing is created or migrated,
//! so a backup leaves the database it copies as it found it, even when this binary is newer
//! than the server running on it.

use super::{Backend, Store, StoreError};
use serde::{Deserialize, Serialize};
use sqlx::{Any, AnyConnection, Connection, Transaction};
use std::path::Path;

/// What a database holds, counted: written into a backup's manifest, and compared with the
/// restored database after a restore.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub accounts: i64,
    /// Persistent rooms (public and private).
    pub rooms: i64,
    pub conversations: i64,
    /// Ephemeral rooms still open (expired ones are archives).
    pub ephemeral_rooms: i64,
    /// Stored messages of every kind of room.
    pub messages: i64,
    /// Sealed transcripts of expired ephemeral rooms.
    pub archives: i64,
    /// File rows; their objects are in the object store.
    pub files: i64,
    /// The files' plaintext bytes.
    pub file_bytes: i64,
    /// Data keys by the master key that wraps them: the keys a restore needs.
    pub data_keys: Vec<WrappedBy>,
}

/// How many data keys one master key wraps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedBy {
    /// The master key's public id ([`crate::crypto::MasterKey::id`]), never the key.
    pub master_key: String,
    pub data_keys: i64,
}

impl Inventory {
    /// Counts what the database behind `conn` holds (inside its transaction, if one is open).
    async fn read(conn: &mut AnyConnection) -> Result<Self, StoreError> {
        let mut count = async |sql: &str| -> Result<i64, StoreError> {
            Ok(sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut *conn)
                .await?)
        };
        let accounts = count("SELECT COUNT(*) FROM users").await?;
        let rooms = count("SELECT COUNT(*) FROM rooms WHERE kind = 'room'").await?;
        let conversations = count("SELECT COUNT(*) FROM rooms WHERE kind = 'pm'").await?;
        let ephemeral_rooms = count("SELECT COUNT(*) FROM rooms WHERE kind = 'ephemeral'").await?;
        let messages = count("SELECT COUNT(*) FROM messages").await?;
        let archives = count("SELECT COUNT(*) FROM archives").await?;
        let files = count("SELECT COUNT(*) FROM files").await?;
        // PostgreSQL sums BIGINTs as NUMERIC: cast back, for one type on both engines.
        let file_bytes = count("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files").await?;
        let data_keys: Vec<(String, i64)> = sqlx::query_as(
            "SELECT kek_id, COUNT(*) FROM data_keys GROUP BY kek_id ORDER BY kek_id",
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(Self {
            accounts,
            rooms,
            conversations,
            ephemeral_rooms,
            messages,
            archives,
            files,
            file_bytes,
            data_keys: data_keys
                .into_iter()
                .map(|(master_key, data_keys)| WrappedBy {
                    master_key,
                    data_keys,
                })
                .collect(),
        })
    }
}

/// The ids of every file row: each names an object the copy must hold.
async fn file_ids(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar::<_, String>("SELECT id FROM files ORDER BY id")
            .fetch_all(conn)
            .await?,
    )
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `dest`, a file that must not exist
    /// yet (see the module docs). The live database is only read.
    pub async fn copy_sqlite_into(&self, dest: &Path) -> Result<(), StoreError> {
        let dest = dest.to_str().ok_or_else(|| {
            StoreError::Location(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a UTF-8 path", dest.display()),
            ))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// What the database holds now.
    pub async fn inventory(&self) -> Result<Inventory, StoreError> {
        Inventory::read(&mut *self.pool.acquire().await?).await
    }

    /// How many tables the database holds (PostgreSQL: in the current schema): zero for a
    /// database nothing was ever restored into or served from.
    pub async fn table_count(&self) -> Result<i64, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema()"
            }
        };
        Ok(sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Opens a read-only PostgreSQL transaction and exports its snapshot for `pg_dump
    /// --snapshot`; the snapshot lasts as long as the returned value is kept.
    pub async fn export_snapshot(&self) -> Result<PgSnapshot, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await?;
        Ok(PgSnapshot { tx, id })
    }
}

/// An exported PostgreSQL snapshot (see [`Store::export_snapshot`]).
pub struct PgSnapshot {
    tx: Transaction<'static, Any>,
    id: String,
}

impl PgSnapshot {
    /// The name `pg_dump --snapshot` takes.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the snapshot holds.
    pub async fn inventory(&mut self) -> Result<Inventory, StoreError> {
        Inventory::read(&mut self.tx).await
    }

    /// The ids of every file row in the snapshot.
    pub async fn file_ids(&mut self) -> Result<Vec<String>, StoreError> {
        file_ids(&mut self.tx).await
    }

    /// Ends the snapshot's transaction (it wrote nothing).
    pub async fn end(self) -> Result<(), StoreError> {
        Ok(self.tx.rollback().await?)
    }
}

/// A copy written by [`Store::copy_sqlite_into`], opened to be checked and counted: read-only
/// and immutable, so reading it changes no byte of it (not even its journal mode) and leaves
/// no `-wal` or `-shm` file beside it.
pub struct SqliteCopy(AnyConnection);

impl SqliteCopy {
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        // sqlx percent-decodes the path of a SQLite URL.
        let path = path
            .display()
            .to_string()
            .replace('%', "%25")
            .replace('?', "%3F")
            .replace('#', "%23");
        let url = format!("sqlite://{path}?mode=ro&immutable=1");
        Ok(Self(AnyConnection::connect(&url).await?))
    }

    /// SQLite's own check of every page and index: empty when the copy is sound, otherwise
    /// what is wrong with it.
    pub async fn integrity_problems(&mut self) -> Result<Vec<String>, StoreError> {
        let found: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&mut self.0)
            .await?;
        Ok(found.into_iter().filter(|line| line != "ok").collect())
    }

    /// What the copy holds.
    pub async fn inventory(&mut self) -> Result<Inventory, StoreError> {
        Inventory::read(&mut self.0).await
    }

    /// The ids of every file row in the copy.
    pub async fn file_ids(&mut self) -> Result<Vec<String>, StoreError> {
        file_ids(&mut self.0).await
    }

    pub async fn close(self) -> Result<(), StoreError> {
        Ok(self.0.close().await?)
    }
}
