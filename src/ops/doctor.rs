//! `parlor doctor` (being built).

use crate::config::Config;

/// Checks configuration, database, key and storage; says what is wrong in plain words.
pub async fn doctor(_config: Config) -> anyhow::Result<()> {
    anyhow::bail!("parlor doctor is being built")
}
