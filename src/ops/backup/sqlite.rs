//! The SQLite database in a backup: a snapshot taken online with `VACUUM INTO`, checked, and
//! restored by putting the file in place.
//!
//! The live file is never copied as it is: while a server runs, the database is the file
//! *and* its `-wal`, changing between any two reads. `VACUUM INTO` reads it through SQLite,
//! inside one read transaction, beside the server's writer (see
//! [`Store::copy_sqlite_into`]). The copy is then opened read-only and checked page by page
//! (`PRAGMA integrity_check`) before the backup counts on it.

use super::manifest::DatabaseCopy;
use super::{sync_dir, sync_file, Dumped};
use crate::store::{SqliteCopy, Store};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The database's name in a backup.
pub const FILE: &str = "parlor.db";

/// Snapshots the live database `live` into `dest`, checks the copy and counts what it holds.
pub async fn dump(live: &Store, dest: &Path) -> anyhow::Result<Dumped> {
    let file = dest.join(FILE);
    live.copy_sqlite_into(&file)
        .await
        .context("could not take a snapshot of the SQLite database")?;
    sync_file(&file)
        .and_then(|()| sync_dir(dest))
        .with_context(|| format!("could not sync {}", file.display()))?;
    let mut copy = SqliteCopy::open(&file)
        .await
        .with_context(|| format!("could not open the snapshot {}", file.display()))?;
    let problems = copy
        .integrity_problems()
        .await
        .context("could not check the snapshot")?;
    if !problems.is_empty() {
        anyhow::bail!(
            "the snapshot {} fails SQLite's integrity check: {}",
            file.display(),
            problems.join("; ")
        );
    }
    let holds = copy
        .inventory()
        .await
        .context("could not count the snapshot")?;
    let file_ids = copy
        .file_ids()
        .await
        .context("could not read the snapshot")?;
    copy.close().await.context("could not close the snapshot")?;
    let bytes = std::fs::metadata(&file)
        .with_context(|| format!("could not read {}", file.display()))?
        .len();
    Ok(Dumped {
        database: DatabaseCopy::Sqlite {
            file: FILE.to_owned(),
            bytes,
        },
        holds,
        file_ids,
    })
}

/// The database file a SQLite URL names (`sqlite://PATH?…` or `sqlite:PATH`).
pub fn file_of(url: &str) -> anyhow::Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    if path.is_empty() || path == ":memory:" {
        anyhow::bail!(
            "the database is in memory: there is nothing on disk to back up or restore into"
        );
    }
    Ok(PathBuf::from(path))
}

/// Refuses a target that already has a database file (or what is left of one).
pub fn check_target_free(url: &str) -> anyhow::Result<()> {
    let file = file_of(url)?;
    for leftover in [file.clone(), with_suffix(&file, "-wal")] {
        if leftover.exists() {
            anyhow::bail!(
                "a database already exists at {}: restore into a new data directory (or move \
                 its parlor.db away first)",
                std::path::absolute(&leftover).unwrap_or(leftover).display()
            );
        }
    }
    Ok(())
}

/// Puts the backup's database file in place as the database `url` names: copied under a
/// temporary name, synced, then renamed, so the database appears whole or not at all.
pub async fn load(backup: &Path, url: &str) -> anyhow::Result<PathBuf> {
    let target = file_of(url)?;
    let source = backup.join(FILE);
    let temporary = with_suffix(&target, ".restoring");
    let placed = target.clone();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir)?;
        std::fs::copy(&source, &temporary)?;
        sync_file(&temporary)?;
        std::fs::rename(&temporary, &target)?;
        sync_dir(&dir)
    })
    .await
    .context("the database copy stopped")?
    .with_context(|| {
        format!(
            "could not put the database in place at {}",
            placed.display()
        )
    })?;
    Ok(placed)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_file_is_read_from_every_url_form() {
        assert_eq!(
            file_of("sqlite:///var/lib/parlor/parlor.db?mode=rwc").unwrap(),
            PathBuf::from("/var/lib/parlor/parlor.db")
        );
        assert_eq!(
            file_of("sqlite:data/parlor.db").unwrap(),
            PathBuf::from("data/parlor.db")
        );
        assert!(file_of("sqlite::memory:").is_err());
    }
}
