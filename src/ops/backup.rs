//! `parlor backup DEST` and `parlor restore SOURCE`: everything a server stores, copied while
//! it keeps serving, and put back into fresh storage — except the master key.
//!
//! A backup is a directory: the database (a SQLite snapshot, `parlor.db`, or a PostgreSQL
//! dump, `database.pgdump`), the local object store's files (`uploads/`) and `manifest.json`.
//! The order is what makes it consistent while clients keep writing:
//!
//! 1. the database first, as one snapshot (SQLite's `VACUUM INTO`, PostgreSQL's exported
//!    snapshot): every message, room and file row of one moment, beside the server's writes;
//! 2. the files after it: objects are written whole before their row exists and never change
//!    afterwards, so every file row of the snapshot finds its object (one the sweep deleted
//!    meanwhile is recorded; objects newer than the snapshot are harmless extras);
//! 3. the manifest last, so a directory with a manifest is a finished, checked backup.
//!
//! Files in an S3 bucket are not copied: the bucket is backed up with its own tooling
//! (versioning, replication), and the manifest and summary name it. The master key stays out
//! of every backup on purpose: a backup with its key beside it is readable by whoever finds
//! it, one without is useless to them. The summary says so each time.
//!
//! A restore goes only into empty storage (no database file, or an empty PostgreSQL database,
//! and no files): putting a backup over live data would mix two histories. It checks, before
//! touching anything, that the master keys the backup needs are configured, copies the files,
//! puts the database in place last (whole or not at all), then opens it as a server would
//! (migrating a backup from an older version forward), opens every data key and compares what
//! it holds with the manifest. The live database is only ever read: a backup opens it without
//! creating or migrating anything.

mod keys;
mod manifest;
mod objects;
mod postgres;
mod restore;
mod sqlite;
mod summary;

use crate::config::Config;
use crate::store::{Backend, Inspected, Inventory, Store};
use anyhow::Context;
use keys::Keys;
use manifest::{DatabaseCopy, FilesCopy, Manifest, FORMAT, REMINDER};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::time::Instant;

/// What a database dump holds, for the manifest and the files' check.
struct Dumped {
    database: DatabaseCopy,
    holds: Inventory,
    /// Every file row's id: each must find its object among the copied files.
    file_ids: Vec<String>,
}

/// Writes a backup of the configured storage into `dest` (new, or an empty directory).
pub async fn backup(config: Config, dest: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let url = config.database_url();
    let live = open_live(&url).await?;
    if let Err(err) = prepare_destination(dest, &files_at(&config)) {
        live.close().await;
        return Err(err);
    }
    // Only named in the manifest and the summary: a key this user cannot read (the server's
    // user may be another) must not stop the backup.
    let keys = Keys::configured(&config);
    let created_at = crate::clock::Clock::system().now_millis();
    let dumped = match live.backend() {
        Backend::Sqlite => sqlite::dump(&live, dest).await,
        Backend::Postgres => postgres::dump(&live, &url, dest).await,
    };
    live.close().await;
    let dumped = dumped?;
    let files = match files_at(&config) {
        FilesAt::Local(dir) => {
            let into = dest.join(objects::DIR);
            let copied = objects::copy_all(&dir, &into).await?;
            FilesCopy::Local {
                dir: objects::DIR.to_owned(),
                objects: copied.objects,
                bytes: copied.bytes,
                missing: objects::missing(&into, &dumped.file_ids).await?,
            }
        }
        FilesAt::S3(url) => FilesCopy::S3 {
            bucket: bucket_of(&url).to_owned(),
            url,
        },
    };
    let manifest = Manifest {
        format: FORMAT,
        parlor_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at,
        database: dumped.database,
        files,
        holds: dumped.holds,
        master_key_id: keys.as_ref().ok().and_then(Keys::current_id),
        reminder: REMINDER.to_owned(),
    };
    manifest.write(dest)?;
    summary::backed_up(&manifest, dest, &keys, started.elapsed().as_secs_f64());
    Ok(())
}

/// Restores the backup in `source` into the configured, empty storage.
pub async fn restore(config: Config, source: &Path) -> anyhow::Result<()> {
    restore::run(config, source).await
}

/// Where the configured file store keeps its objects.
enum FilesAt {
    /// A directory (`<data_dir>/uploads`, as `Config::file_store` makes it).
    Local(std::path::PathBuf),
    /// `object_store_url`: an S3 bucket.
    S3(String),
}

fn files_at(config: &Config) -> FilesAt {
    match &config.object_store_url {
        None => FilesAt::Local(config.data_dir.join("uploads")),
        Some(url) => FilesAt::S3(url.clone()),
    }
}

/// Makes `dest` an empty directory, refusing one that holds anything (or lies inside the
/// files being copied).
fn prepare_destination(dest: &Path, files: &FilesAt) -> anyhow::Result<()> {
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                anyhow::bail!(
                    "{} is not empty: a backup goes into a new or empty directory",
                    dest.display()
                );
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            // Accounts, e-mail addresses and password hashes are not sealed: only the
            // operator's user reads a backup this creates.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dest)
                .with_context(|| format!("could not create {}", dest.display()))?;
        }
        Err(err) => {
            return Err(err).with_context(|| format!("cannot use {} as a backup", dest.display()))
        }
    }
    let uploads = match files {
        FilesAt::Local(dir) => dir.canonicalize().ok(),
        FilesAt::S3(_) => None,
    };
    if let (Ok(dest), Some(uploads)) = (dest.canonicalize(), uploads) {
        if dest.starts_with(&uploads) {
            anyhow::bail!(
                "{} is inside the files directory {} it would copy: choose a directory outside it",
                dest.display(),
                uploads.display()
            );
        }
    }
    Ok(())
}

/// The live database, opened without creating or migrating anything.
async fn open_live(url: &str) -> anyhow::Result<Store> {
    match Store::inspect(url)
        .await
        .context("cannot open the database")?
    {
        Inspected::Missing(path) => anyhow::bail!(
            "there is no database at {}: nothing to back up (is the data directory or \
             database_url right?)",
            path.display()
        ),
        Inspected::Reached { store, schema } => {
            if schema.unknown > 0 {
                store.close().await;
                anyhow::bail!(
                    "the database was last migrated by a newer Parlor than this one ({}): back \
                     it up with that version",
                    env!("CARGO_PKG_VERSION")
                );
            }
            Ok(store)
        }
    }
}

/// The bucket of `s3://bucket/prefix`.
fn bucket_of(url: &str) -> &str {
    let rest = url.trim_start_matches("s3://");
    rest.split_once('/').map_or(rest, |(bucket, _)| bucket)
}

/// Flushes a written file to disk.
fn sync_file(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}

/// Makes the names in a directory durable (files created or renamed in it).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
