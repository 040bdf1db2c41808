//! `manifest.json`: what a backup holds and how to check it, written last.
//!
//! Written last, it is the mark of a finished backup: a directory left by a backup that
//! failed or was interrupted has none, and `parlor restore` refuses it. It records what the
//! restore must check before touching anything (the engine, which master keys wrap the data
//! keys) and after (the counts the restored database must show). It names keys by their
//! public id only; the key itself never enters a backup.

use super::{sync_dir, sync_file};
use crate::domain::Millis;
use crate::store::Inventory;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The manifest's name in a backup directory.
pub const FILE: &str = "manifest.json";

/// The layout this version writes and reads; a newer layout is refused, not guessed at.
pub const FORMAT: u32 = 1;

/// What every backup says about the master key, in the manifest and on the terminal.
pub const REMINDER: &str = "The master key is NOT in this backup, on purpose: keep it apart \
    (master.key in the data directory, or PARLOR_MASTER_KEY). Without it nothing in this \
    backup can be read; with it, anyone holding the backup can. The configuration \
    (parlor.toml, PARLOR_* variables) is not in it either.";

/// The contents of `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The version of Parlor that made the backup.
    pub parlor_version: String,
    /// When the database snapshot was taken, in milliseconds since the Unix epoch (UTC).
    pub created_at: Millis,
    pub database: DatabaseCopy,
    pub files: FilesCopy,
    /// What the database snapshot holds: the restored database must hold the same.
    pub holds: Inventory,
    /// The master key the backing-up configuration named (its public id), when it could be
    /// read; the keys a restore needs are those in `holds.data_keys`.
    pub master_key_id: Option<String>,
    pub reminder: String,
}

/// The database in the backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum DatabaseCopy {
    /// A SQLite database file (`VACUUM INTO`), checked with `PRAGMA integrity_check`.
    Sqlite { file: String, bytes: u64 },
    /// A `pg_dump --format=custom` archive, restored with `pg_restore`.
    Postgres {
        file: String,
        bytes: u64,
        /// `pg_dump --version`: a restore needs a `pg_restore` at least as new.
        tool: String,
    },
}

/// The uploaded files in the backup, or where they are instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "store", rename_all = "lowercase")]
pub enum FilesCopy {
    /// Every object of the local directory, copied after the database snapshot.
    Local {
        dir: String,
        objects: u64,
        bytes: u64,
        /// File rows of the snapshot whose object was already gone when copied: files the
        /// sweep was deleting (it deletes the object first, then the row).
        missing: Vec<String>,
    },
    /// Not copied: the bucket is backed up with its own tooling (versioning, replication).
    S3 { url: String, bucket: String },
}

impl DatabaseCopy {
    pub fn file(&self) -> &str {
        match self {
            DatabaseCopy::Sqlite { file, .. } | DatabaseCopy::Postgres { file, .. } => file,
        }
    }

    pub fn bytes(&self) -> u64 {
        match self {
            DatabaseCopy::Sqlite { bytes, .. } | DatabaseCopy::Postgres { bytes, .. } => *bytes,
        }
    }

    /// The engine, as people call it.
    pub fn engine(&self) -> &'static str {
        match self {
            DatabaseCopy::Sqlite { .. } => "SQLite",
            DatabaseCopy::Postgres { .. } => "PostgreSQL",
        }
    }
}

impl Manifest {
    /// Writes the manifest into `dir`, durably, in one step (a temporary file renamed).
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self).context("could not encode the manifest")?;
        let temporary = dir.join(format!("{FILE}.tmp"));
        let path = dir.join(FILE);
        std::fs::write(&temporary, text + "\n")
            .and_then(|()| sync_file(&temporary))
            .and_then(|()| std::fs::rename(&temporary, &path))
            .and_then(|()| sync_dir(dir))
            .with_context(|| format!("could not write {}", path.display()))
    }

    /// Reads the manifest of the backup in `dir`, refusing what is not a finished backup of a
    /// layout this version knows.
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
                "{} holds no {FILE}: it is not a backup made by parlor backup, or one that \
                 did not finish",
                dir.display()
            ),
            Err(err) => {
                return Err(err).with_context(|| format!("could not read {}", path.display()))
            }
        };
        let format: Format = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a Parlor backup manifest", path.display()))?;
        if format.format != FORMAT {
            anyhow::bail!(
                "{} has layout {}, which this Parlor ({}) does not know: restore it with the \
                 version that made it ({})",
                path.display(),
                format.format,
                env!("CARGO_PKG_VERSION"),
                format.parlor_version.as_deref().unwrap_or("unknown")
            );
        }
        serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))
    }
}

/// The fields every layout keeps, read before the rest so a newer layout is named as such.
#[derive(Deserialize)]
struct Format {
    format: u32,
    parlor_version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::WrappedBy;

    fn sample() -> Manifest {
        Manifest {
            format: FORMAT,
            parlor_version: "0.1.0".into(),
            created_at: 1_700_000_000_000,
            database: DatabaseCopy::Sqlite {
                file: "parlor.db".into(),
                bytes: 4096,
            },
            files: FilesCopy::S3 {
                url: "s3://chat/files".into(),
                bucket: "chat".into(),
            },
            holds: Inventory {
                messages: 3,
                data_keys: vec![WrappedBy {
                    master_key: "1a2b3c4d".into(),
                    data_keys: 2,
                }],
                ..Inventory::default()
            },
            master_key_id: Some("1a2b3c4d".into()),
            reminder: REMINDER.into(),
        }
    }

    #[test]
    fn a_written_manifest_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        sample().write(dir.path()).unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), sample());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [FILE], "no temporary file is left");
    }

    #[test]
    fn a_directory_without_a_manifest_or_with_a_newer_layout_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Manifest::read(dir.path()).unwrap_err().to_string();
        assert!(
            missing.contains("not a backup made by parlor backup"),
            "{missing}"
        );
        std::fs::write(
            dir.path().join(FILE),
            r#"{"format": 9, "parlor_version": "9.0.0"}"#,
        )
        .unwrap();
        let newer = Manifest::read(dir.path()).unwrap_err().to_string();
        assert!(
            newer.contains("layout 9") && newer.contains("9.0.0"),
            "{newer}"
        );
    }
}
