//! `parlor restore`: a backup checked against the configuration before anything is touched,
//! then put in place (files first, the database last and whole) and checked again as a server
//! would open it.

use super::keys::Keys;
use super::manifest::{DatabaseCopy, FilesCopy, Manifest};
use super::{files_at, objects, postgres, sqlite, summary, FilesAt};
use crate::config::Config;
use crate::store::{Backend, Store};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Restores the backup in `source` into the configured, empty storage (see the module docs
/// of [`super`]).
pub async fn run(config: Config, source: &Path) -> anyhow::Result<()> {
    let manifest = Manifest::read(source)?;
    let plan = plan_restore(&config, source, &manifest).await?;
    // Nothing was touched up to here; from here on, a failure leaves a half-restored target.
    let copied = match &plan.files_into {
        Some(dir) => Some(objects::copy_all(&source.join(objects::DIR), dir).await?),
        None => None,
    };
    let placed = match plan.backend {
        Backend::Sqlite => sqlite::load(source, &plan.url)
            .await
            .map(|file| file.display().to_string()),
        Backend::Postgres => postgres::load(source, &plan.url)
            .await
            .map(|name| format!("database {name}")),
    };
    let placed = placed.with_context(|| match &plan.files_into {
        Some(dir) => format!(
            "the restore stopped half-way ({} holds the backup's files now: empty it before \
             trying again)",
            dir.display()
        ),
        None => "the restore stopped".to_owned(),
    })?;
    let store = Store::connect(&plan.url)
        .await
        .context("the restored database does not open")?;
    let checked = verify(&store, &plan.keys, &manifest).await;
    store.close().await;
    let restored = Restored {
        placed,
        data_keys: checked?,
        copied,
    };
    summary::restored(&manifest, source, &plan, &restored);
    Ok(())
}

/// What a restore will do, once every check that needs no change has passed.
pub(super) struct RestorePlan {
    pub(super) url: String,
    pub(super) backend: Backend,
    pub(super) keys: Keys,
    /// Where the backup's files go (`None`: the backup holds none, they are in S3).
    pub(super) files_into: Option<PathBuf>,
}

/// What a restore did.
pub(super) struct Restored {
    /// The database file, or `database NAME`.
    pub(super) placed: String,
    /// Data keys that open.
    pub(super) data_keys: u64,
    pub(super) copied: Option<objects::Tally>,
}

/// Checks, touching nothing, that the backup is whole, that the master keys it needs are
/// configured, and that the configured storage is empty and of the backup's kind.
async fn plan_restore(
    config: &Config,
    source: &Path,
    manifest: &Manifest,
) -> anyhow::Result<RestorePlan> {
    let url = config.database_url();
    let backend = if url.starts_with("postgres") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    check_version(&manifest.parlor_version)?;
    check_database_file(
        &source.join(manifest.database.file()),
        manifest.database.bytes(),
    )?;
    let keys = Keys::configured(config)?;
    keys.check_covers(&manifest.holds.data_keys)?;
    match (&manifest.database, backend) {
        (DatabaseCopy::Sqlite { .. }, Backend::Sqlite) => sqlite::check_target_free(&url)?,
        (DatabaseCopy::Postgres { .. }, Backend::Postgres) => {
            postgres::check_target_free(&url).await?
        }
        (copy, _) => anyhow::bail!(
            "this backup holds a {} database, but the configured database_url is {}: restore \
             it into the engine it came from",
            copy.engine(),
            match backend {
                Backend::Sqlite => "SQLite",
                Backend::Postgres => "PostgreSQL",
            }
        ),
    }
    let files_into = match (&manifest.files, files_at(config)) {
        (FilesCopy::S3 { .. }, _) => None,
        (FilesCopy::Local { objects, .. }, FilesAt::S3(url)) => anyhow::bail!(
            "this backup holds {objects} files for a local directory, but object_store_url puts \
             files in {url}: restore with object_store_url unset (files go to the data \
             directory's uploads/), then move them into the bucket with its own tooling"
        ),
        (FilesCopy::Local { objects, bytes, .. }, FilesAt::Local(dir)) => {
            let held = objects::tally(&source.join(objects::DIR)).await?;
            if (held.objects, held.bytes) != (*objects, *bytes) {
                anyhow::bail!(
                    "the backup's {}/ holds {} files ({} bytes), but was written with {objects} \
                     ({bytes} bytes): it is damaged or incomplete",
                    objects::DIR,
                    held.objects,
                    held.bytes
                );
            }
            if objects::tally(&dir).await?.objects > 0 {
                anyhow::bail!(
                    "{} already holds files: restore into a new data directory",
                    dir.display()
                );
            }
            Some(dir)
        }
    };
    Ok(RestorePlan {
        url,
        backend,
        keys,
        files_into,
    })
}

/// Opens every data key and compares what the restored database holds with the manifest.
async fn verify(store: &Store, keys: &Keys, manifest: &Manifest) -> anyhow::Result<u64> {
    let opened = keys.open_all(store).await?;
    let holds = store
        .inventory()
        .await
        .context("could not count the restored database")?;
    if holds != manifest.holds {
        anyhow::bail!(
            "the restored database does not hold what the backup's manifest says: restored \
             {holds:?}, manifest {:?}",
            manifest.holds
        );
    }
    Ok(opened)
}

/// Refuses a backup made by a newer Parlor: its database may hold migrations this binary
/// does not know, which it could neither apply nor undo.
fn check_version(made_by: &str) -> anyhow::Result<()> {
    let numbers = |version: &str| -> Option<Vec<u64>> {
        version.split('.').map(|part| part.parse().ok()).collect()
    };
    let ours = env!("CARGO_PKG_VERSION");
    if let (Some(theirs), Some(mine)) = (numbers(made_by), numbers(ours)) {
        if theirs > mine {
            anyhow::bail!(
                "this backup was made by Parlor {made_by}, newer than this one ({ours}): restore \
                 it with Parlor {made_by} or newer"
            );
        }
    }
    Ok(())
}

/// Refuses a backup whose database file is missing or not as long as when it was written.
fn check_database_file(path: &Path, bytes: u64) -> anyhow::Result<()> {
    let found = std::fs::metadata(path)
        .with_context(|| format!("the backup's database {} is missing", path.display()))?
        .len();
    if found != bytes {
        anyhow::bail!(
            "the backup's database {} is {found} bytes long, but was written {bytes} bytes long: \
             it is damaged or incomplete",
            path.display()
        );
    }
    Ok(())
}
