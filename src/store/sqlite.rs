//! What SQLite needs beyond the common dialect: the documented URL form working on a fresh
//! install, the connection settings, and keeping a connection that is stuck inside a
//! transaction out of the pool.
//!
//! Why the last one: when a write fails on a full disk (`SQLITE_FULL`) or an I/O error, SQLite
//! may roll the whole transaction back by itself, or keep it open; sqlx's own count of open
//! transactions then disagrees with SQLite's. Its rollback fails ("no transaction is active")
//! and the connection goes back to the pool believing it is still inside one: the next
//! `begin` becomes a `SAVEPOINT`, whose failure only rolls back *to* the savepoint and leaves a
//! real transaction open. That connection then holds the write lock for good (every other
//! connection answers `database is locked` until a restart), and what it "commits" — released
//! savepoints, statements inside its open transaction — is acknowledged without ever reaching
//! the database. So every connection returned to the pool is checked, and one that is inside a
//! transaction (by sqlx's count or by SQLite's) is closed, which rolls it back.

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Database, Executor, TransactionManager};
use std::path::Path;
use std::time::Duration;

/// The pragmas every connection starts with. WAL lets readers run beside the one writer;
/// NORMAL sync is durable across application crashes, which is what WAL mode is meant for; a
/// writer waits up to 5 s for the lock before answering busy. `secure_delete` zeroes what a
/// delete frees (a deleted message's sealed body, a wiped row), so it does not linger in free
/// pages of the file. No automatic checkpoints: SQLite would run one (copying the WAL into the
/// file and syncing both) inside whichever commit crossed 1 000 pages — a message's send path,
/// where it was the whole p99 of a stored message's ack (see `bench/analysis.md`). The server
/// checkpoints from a background task instead ([`super::Store::checkpoint_every`]).
pub(super) const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                  PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                                  PRAGMA secure_delete = ON; PRAGMA wal_autocheckpoint = 0;";

/// What a reader's connections start with: they wait for a lock like the others, and they
/// cannot write (`query_only`), so none of them can be left inside a failed write's transaction.
const READER_PRAGMAS: &str =
    "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA query_only = ON;";

/// A pool for reads on a message's path. Every connection the main pool takes back costs a
/// `BEGIN; ROLLBACK;` round trip to its worker thread ([`left_clean`]) — for a read, as much
/// as the read itself. A connection that cannot write needs no such check, and in WAL mode its
/// reads run beside the writer.
pub(super) async fn reader(url: &str) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(READER_PRAGMAS).await?;
                Ok(())
            })
        })
        .connect(url)
        .await
}

/// Whether a SQLite URL names an in-memory database, which a second pool would not share.
pub(super) fn in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// A SQLite URL that opens on a fresh install: `mode=rwc` (create the file if missing) unless
/// the URL names a mode, and the file's directory created. `sqlite://`, `sqlite:` and in-memory
/// URLs are accepted as sqlx reads them.
pub(super) fn prepare_url(url: &str) -> std::io::Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_owned());
    }
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)?;
    }
    let names_mode = query.split('&').any(|pair| pair.starts_with("mode="));
    let query = match (names_mode, query.is_empty()) {
        (true, _) => query.to_owned(),
        (false, true) => "mode=rwc".to_owned(),
        (false, false) => format!("{query}&mode=rwc"),
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// Whether a connection coming back to the pool is outside any transaction, by SQLite's own
/// state and by sqlx's count. `false`: close it (closing rolls back what it holds).
pub(super) async fn left_clean(conn: &mut AnyConnection) -> bool {
    // SQLite refuses BEGIN inside a transaction; a deferred BEGIN takes no lock. Queued behind
    // a dropped transaction's rollback, so once it answers the count below is final too.
    if let Err(err) = conn.execute("BEGIN; ROLLBACK;").await {
        tracing::warn!(error = %err, "a database connection holds an open transaction; closing it");
        return false;
    }
    let depth =
        <<sqlx::Any as Database>::TransactionManager as TransactionManager>::get_transaction_depth(
            conn,
        );
    if depth != 0 {
        tracing::warn!(
            depth,
            "a database connection came back inside a transaction; closing it"
        );
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::{in_memory, left_clean, prepare_url, reader};
    use sqlx::{AnyConnection, Connection, Executor};

    async fn memory() -> AnyConnection {
        sqlx::any::install_default_drivers();
        AnyConnection::connect("sqlite::memory:").await.unwrap()
    }

    #[tokio::test]
    async fn the_release_check_leaves_a_clean_connection_clean() {
        let mut conn = memory().await;
        assert!(left_clean(&mut conn).await);
        // Nothing was left open by the check: a transaction can start and end.
        conn.execute("BEGIN; CREATE TABLE t (x); COMMIT;")
            .await
            .unwrap();
        assert!(left_clean(&mut conn).await);
    }

    #[tokio::test]
    async fn a_connection_inside_a_transaction_is_not_returned() {
        let mut conn = memory().await;
        // Opened behind sqlx's back, as SQLite may leave one after a failed write.
        conn.execute("BEGIN; CREATE TABLE t (x);").await.unwrap();
        assert!(!left_clean(&mut conn).await);
        let mut conn = memory().await;
        let tx = conn.begin().await.unwrap();
        std::mem::forget(tx);
        assert!(!left_clean(&mut conn).await, "sqlx's own count says so too");
    }

    #[tokio::test]
    async fn the_reader_sees_what_was_committed_and_cannot_write() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = prepare_url(&format!("sqlite://{}", dir.path().join("p.db").display())).unwrap();
        assert!(!in_memory(&url));
        let mut writer = AnyConnection::connect(&url).await.unwrap();
        writer
            .execute("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .await
            .unwrap();
        let reader = reader(&url).await.unwrap();
        let seen: i64 = sqlx::query_scalar("SELECT x FROM t")
            .fetch_one(&reader)
            .await
            .unwrap();
        assert_eq!(seen, 1);
        let refused = sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&reader)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("readonly"), "{refused}");
        writer.execute("INSERT INTO t VALUES (3);").await.unwrap();
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&reader)
            .await
            .unwrap();
        assert_eq!(count, 2, "the reader's next read sees the writer's commit");
        assert!(in_memory("sqlite::memory:"));
        assert!(in_memory("sqlite://file?mode=memory&cache=shared"));
    }

    #[test]
    fn the_documented_url_forms_create_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/parlor.db");
        let shown = path.display();
        assert_eq!(
            prepare_url(&format!("sqlite://{shown}")).unwrap(),
            format!("sqlite://{shown}?mode=rwc")
        );
        assert!(path.parent().unwrap().is_dir(), "the directory is created");
        assert_eq!(
            prepare_url(&format!("sqlite:{shown}?cache=shared")).unwrap(),
            format!("sqlite://{shown}?cache=shared&mode=rwc")
        );
        assert_eq!(
            prepare_url(&format!("sqlite://{shown}?mode=ro")).unwrap(),
            format!("sqlite://{shown}?mode=ro"),
            "a mode that is named is kept"
        );
        assert_eq!(prepare_url("sqlite::memory:").unwrap(), "sqlite::memory:");
    }
}
