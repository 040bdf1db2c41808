//! `parlor export`: one room, one conversation or one account's data, decrypted with the master
//! key, into a new directory — `messages.jsonl`, `export.md`, `export.html`, `manifest.json`
//! and the files (see `crate::export` for the layout). What goes into each kind of export is
//! the core's `Exports` service, the same that serves "download my data" in the web app.
//!
//! It opens the configured storage as `parlor serve` does and may run beside a serving node
//! (SQLite in WAL mode and PostgreSQL both take a second reader). The export is written to
//! the audit log, by `parlor export`. The directory is created readable by its owner only:
//! it holds decrypted messages and files, to be handed over and then deleted.

use crate::app::{open_storage, room_service};
use crate::clock::Clock;
use crate::config::Config;
use crate::core::{ExportParts, ExportSubject, Exports};
use crate::domain::{Name, RoomSlug};
use crate::export::{count, describe, Counts};
use crate::files::Library;
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;

/// What `parlor export` exports.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Subject {
    /// A persistent room, whole: its settings, members with their roles, every message and
    /// every attached file.
    Room {
        /// The room's address (a private room's includes its random ending).
        slug: String,
    },
    /// The private conversation between two accounts, whole: both sides and their files.
    Conversation {
        /// One of the two accounts.
        first: String,
        /// The other.
        second: String,
    },
    /// One account's data, as a person may ask for it: profile, sessions, memberships, ignore
    /// list, its own messages everywhere (both sides of its conversations), its uploads, and
    /// the audit entries by or about it. Nobody else's messages in rooms.
    Account {
        /// The account's name.
        name: String,
    },
}

impl Subject {
    /// The subject with its names parsed as everywhere else.
    fn parse(&self) -> anyhow::Result<ExportSubject> {
        let name = |raw: &str| Name::parse(raw).with_context(|| format!("{raw:?}"));
        Ok(match self {
            Subject::Room { slug } => {
                ExportSubject::Room(RoomSlug::parse(slug).with_context(|| format!("{slug:?}"))?)
            }
            Subject::Conversation { first, second } => {
                ExportSubject::Conversation(name(first)?, name(second)?)
            }
            Subject::Account { name: account } => ExportSubject::Account(name(account)?),
        })
    }
}

/// Exports `subject` into the directory `dest` (created; it must be new or empty) and prints
/// what it wrote.
pub async fn export(config: Config, subject: Subject, dest: &Path) -> anyhow::Result<()> {
    let subject = subject.parse()?;
    if dest
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        anyhow::bail!(
            "{} is not empty: export into a new or empty directory",
            dest.display()
        );
    }
    let library = Library::new(
        config.file_store().context("cannot open the file store")?,
        config.library_settings(),
    );
    let (store, keyring) = open_storage(&config).await?;
    let rooms = Arc::new(room_service(&config, store.clone(), keyring.clone()));
    let exports = Exports::new(ExportParts {
        store: store.clone(),
        keyring,
        rooms,
        library,
        clock: Clock::system(),
    });
    let written = exports.write(&subject, dest).await;
    store.close().await;
    let counts = written.context("export failed")?;
    println!("{}", summary(&counts, dest));
    Ok(())
}

/// What an export holds and where, in a few lines.
fn summary(counts: &Counts, dest: &Path) -> String {
    let mut documents = "messages.jsonl, export.md, export.html, manifest.json".to_owned();
    if counts.audit_entries > 0 {
        documents.push_str(&format!(
            ", audit.jsonl ({})",
            count(counts.audit_entries, "entry", "entries")
        ));
    }
    if counts.files > 0 {
        documents.push_str(", files/");
    }
    format!(
        "Wrote {}: {}\n  {documents}\n  The export is decrypted: hand it over safely, then \
         delete it.",
        dest.display(),
        describe(counts)
    )
}
