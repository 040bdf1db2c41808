//! `parlor export` (being built).

use crate::config::Config;
use std::path::Path;

/// What `parlor export` exports.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Subject {
    /// A persistent room, by its slug.
    Room { slug: String },
    /// One account's data: profile, memberships, its messages, conversations, files.
    Account { name: String },
}

/// Exports `subject` into the directory `dest`.
pub async fn export(_config: Config, _subject: Subject, _dest: &Path) -> anyhow::Result<()> {
    anyhow::bail!("parlor export is being built")
}
