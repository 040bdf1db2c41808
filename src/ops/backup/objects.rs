//! Uploaded files in a backup: the local object store's directory, copied object by object.
//!
//! Objects are immutable once written: an upload is staged under a temporary name and renamed
//! into place when complete, and its row is inserted only after that. So the objects are
//! copied *after* the database snapshot: every file row the snapshot holds then has its object
//! in the copy, except one the sweep deleted meanwhile (it deletes the object first, then the
//! row; such a row is recorded as missing and finished by the restored server's sweep). An
//! object written after the snapshot is copied too, a harmless extra no row names. The
//! listing is object_store's own, so uploads still being staged are left out, and the layout
//! under the directory is mirrored as it is, whatever the file store names its objects.

use super::sync_dir;
use crate::files::FileStore;
use anyhow::Context;
use futures_util::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The files' directory in a backup (as in a data directory).
pub const DIR: &str = "uploads";

/// How many objects, of how many bytes: what a copy did, or what a directory holds.
#[derive(Debug, Default)]
pub struct Tally {
    pub objects: u64,
    pub bytes: u64,
}

/// Copies every complete object under `from` (absent: none) into `to`, keeping their paths,
/// each synced to disk.
pub async fn copy_all(from: &Path, to: &Path) -> anyhow::Result<Tally> {
    if !from.exists() {
        return Ok(Tally::default());
    }
    let pairs = listing(from, to)
        .await
        .with_context(|| format!("could not list the files in {}", from.display()))?;
    let to = to.to_path_buf();
    tokio::task::spawn_blocking(move || copy_each(&pairs, &to))
        .await
        .context("the file copy stopped")?
}

/// Source and destination path of every object under `from`.
async fn listing(from: &Path, to: &Path) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    std::fs::create_dir_all(to)?;
    let source = LocalFileSystem::new_with_prefix(from)?;
    let target = LocalFileSystem::new_with_prefix(to)?;
    let mut objects = source.list(None);
    let mut pairs = Vec::new();
    while let Some(meta) = objects.next().await {
        let location = match meta {
            Ok(meta) => meta.location,
            // Deleted while being listed (the sweep): nothing to copy.
            Err(object_store::Error::NotFound { .. }) => continue,
            Err(err) => return Err(err.into()),
        };
        pairs.push((
            source.path_to_filesystem(&location)?,
            target.path_to_filesystem(&location)?,
        ));
    }
    Ok(pairs)
}

fn copy_each(pairs: &[(PathBuf, PathBuf)], to: &Path) -> anyhow::Result<Tally> {
    let mut copied = Tally::default();
    let mut dirs = HashSet::new();
    for (from, into) in pairs {
        if let Some(dir) = into.parent() {
            if dirs.insert(dir.to_path_buf()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("could not create {}", dir.display()))?;
            }
        }
        let bytes = match std::fs::copy(from, into) {
            Ok(bytes) => bytes,
            // Deleted since the listing: the sweep took it (see the module docs).
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => {
                return Err(err).with_context(|| {
                    format!("could not copy {} to {}", from.display(), into.display())
                })
            }
        };
        std::fs::File::open(into)
            .and_then(|file| file.sync_all())
            .with_context(|| format!("could not sync {}", into.display()))?;
        copied.objects += 1;
        copied.bytes += bytes;
    }
    for dir in dirs.iter().map(PathBuf::as_path).chain([to]) {
        sync_dir(dir).with_context(|| format!("could not sync {}", dir.display()))?;
    }
    Ok(copied)
}

/// Which of the files `ids` have no object in the file store in `dir`.
pub async fn missing(dir: &Path, ids: &[String]) -> anyhow::Result<Vec<String>> {
    let store = FileStore::local(dir)?;
    let present: HashSet<String> = store
        .list()
        .await
        .with_context(|| format!("could not list the files copied into {}", dir.display()))?
        .into_iter()
        .collect();
    Ok(ids
        .iter()
        .filter(|id| !present.contains(*id))
        .cloned()
        .collect())
}

/// What the local file store in `dir` holds (nothing when it does not exist).
pub async fn tally(dir: &Path) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    if !dir.exists() {
        return Ok(tally);
    }
    let store = LocalFileSystem::new_with_prefix(dir)?;
    let mut objects = store.list(None);
    while let Some(meta) = objects.next().await {
        let meta =
            meta.with_context(|| format!("could not list the files in {}", dir.display()))?;
        tally.objects += 1;
        tally.bytes += meta.size;
    }
    Ok(tally)
}
