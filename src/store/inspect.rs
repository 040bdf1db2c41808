//! A database opened to be looked at, not served: what `parlor doctor` reads.
//!
//! [`Store::connect`] creates a missing SQLite file and applies pending migrations, which is
//! right for a server starting and wrong for a diagnosis: a doctor run against the wrong path
//! would leave an empty database behind, and one run before an upgrade would upgrade. So this
//! opens an existing database only, applies nothing, gives up after a few seconds, and says
//! how the schema compares with what this binary expects.

use super::{sqlite, Backend, Store, StoreError};
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{Connection, Executor};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

/// How long the doctor waits for a database that does not answer.
const REACH_TIMEOUT: Duration = Duration::from_secs(5);

/// What an inspection found.
pub enum Inspected {
    /// The SQLite file does not exist yet: the first start creates it.
    Missing(PathBuf),
    /// The database answered.
    Reached { store: Store, schema: Schema },
}

/// The schema compared with this binary's migrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schema {
    /// Migrations this binary knows, applied.
    pub applied: usize,
    /// Migrations this binary knows, not yet applied (the next start applies them).
    pub pending: usize,
    /// Migrations applied that this binary does not know: a newer Parlor ran here.
    pub unknown: usize,
}

impl Schema {
    /// Whether the tables are exactly as this binary expects.
    pub fn current(&self) -> bool {
        self.pending == 0 && self.unknown == 0
    }
}

impl Store {
    /// Opens the database at `url` without creating or migrating anything.
    pub async fn inspect(url: &str) -> Result<Inspected, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let url = match backend {
            Backend::Sqlite => match existing_sqlite(url) {
                Ok(url) => url,
                Err(path) => return Ok(Inspected::Missing(path)),
            },
            Backend::Postgres => url.to_owned(),
        };
        // One connection first, for the engine's own reason when it cannot be reached ("no
        // such database", "connection refused") rather than the pool's timeout.
        let first = tokio::time::timeout(REACH_TIMEOUT, sqlx::AnyConnection::connect(&url))
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolTimedOut))??;
        first.close().await?;
        let pool = AnyPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(REACH_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(sqlite::PRAGMAS).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url);
        let pool = tokio::time::timeout(REACH_TIMEOUT, pool)
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolTimedOut))??;
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        let applied: HashSet<i64> =
            // A database nothing was ever applied to has no bookkeeping table.
            match sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&pool)
                .await
            {
                Ok(versions) => versions.into_iter().collect(),
                Err(sqlx::Error::Database(_)) => HashSet::new(),
                Err(err) => return Err(err.into()),
            };
        let schema = compare(&migrator, &applied);
        Ok(Inspected::Reached {
            store: Store::over(pool, backend),
            schema,
        })
    }
}

fn compare(migrator: &Migrator, applied: &HashSet<i64>) -> Schema {
    let known: HashSet<i64> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect();
    Schema {
        applied: known.intersection(applied).count(),
        pending: known.difference(applied).count(),
        unknown: applied.difference(&known).count(),
    }
}

/// The URL opening an existing SQLite file read-write (never creating it), or the path of
/// the missing file.
fn existing_sqlite(url: &str) -> Result<String, PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_owned());
    }
    if !std::path::Path::new(path).exists() {
        return Err(PathBuf::from(path));
    }
    let query: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("mode="))
        .chain(["mode=rw"])
        .collect();
    Ok(format!("sqlite://{path}?{}", query.join("&")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_sqlite_file_is_opened_without_create_mode() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("parlor.db");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        assert_eq!(existing_sqlite(&url), Err(file.clone()));
        std::fs::write(&file, b"").unwrap();
        assert_eq!(
            existing_sqlite(&url),
            Ok(format!("sqlite://{}?mode=rw", file.display()))
        );
    }
}
