//! `parlor backup` (being built).

use crate::config::Config;
use std::path::Path;

/// Writes a backup of the configured storage into `dest`.
pub async fn backup(_config: Config, _dest: &Path) -> anyhow::Result<()> {
    anyhow::bail!("parlor backup is being built")
}

/// Restores the backup in `source` into the configured (empty) storage.
pub async fn restore(_config: Config, _source: &Path) -> anyhow::Result<()> {
    anyhow::bail!("parlor restore is being built")
}
