//! The master keys a backup depends on but never holds.
//!
//! A backup names the master keys that wrap its data keys by their public ids; a restore
//! checks, before it touches anything, that the configuration here holds each of them (as
//! the current key or a previous one), and afterwards that every restored data key really
//! opens. Restoring without the right key would give a server that refuses to start (or,
//! with a freshly generated key, one that cannot read a single message): better to say so
//! while the target is still empty. Keys are read as the server reads them, but a missing
//! key is never generated here.

use crate::config::Config;
use crate::crypto::MasterKey;
use crate::store::{Store, WrappedBy};
use anyhow::Context;
use std::path::PathBuf;

/// Where the current master key comes from.
enum Source {
    /// `master_key` (PARLOR_MASTER_KEY), as the operator named it.
    Setting(String),
    File(PathBuf),
}

/// The master keys a configuration names (without generating any).
pub struct Keys {
    current: Option<MasterKey>,
    source: Source,
    /// Keys that may still wrap data keys: the previous key, a rotation's staged key.
    others: Vec<MasterKey>,
}

impl Keys {
    /// The current key (`master_key`, else `<data_dir>/master.key`) and the previous ones the
    /// server would also accept, if any.
    pub fn configured(config: &Config) -> anyhow::Result<Self> {
        let mut others = Vec::new();
        if let Some(previous) = &config.previous_master_key {
            let name = config.provenance.name_of("previous_master_key");
            others.push(
                MasterKey::parse(previous.expose())
                    .with_context(|| format!("{name} is invalid"))?,
            );
        }
        if let Some(configured) = &config.master_key {
            let name = config.provenance.name_of("master_key");
            let current = MasterKey::parse(configured.expose())
                .with_context(|| format!("{name} is invalid"))?;
            return Ok(Self {
                current: Some(current),
                source: Source::Setting(name),
                others,
            });
        }
        for path in [
            MasterKey::previous_file_in(&config.data_dir),
            MasterKey::staged_file_in(&config.data_dir),
        ] {
            others.extend(MasterKey::read_file(&path)?);
        }
        let path = MasterKey::file_in(&config.data_dir);
        Ok(Self {
            current: MasterKey::read_file(&path)?,
            source: Source::File(std::path::absolute(&path).unwrap_or(path)),
            others,
        })
    }

    /// The current key's public id, when there is one.
    pub fn current_id(&self) -> Option<String> {
        self.current.as_ref().map(MasterKey::id)
    }

    /// Where the current key is (or would be) read from, for messages.
    pub fn source(&self) -> String {
        match &self.source {
            Source::Setting(name) => name.clone(),
            Source::File(path) => path.display().to_string(),
        }
    }

    fn all(&self) -> impl Iterator<Item = &MasterKey> {
        self.current.iter().chain(&self.others)
    }

    /// Refuses unless every master key wrapping data keys in the backup is configured here.
    pub fn check_covers(&self, wrapped: &[WrappedBy]) -> anyhow::Result<()> {
        let absent: Vec<&str> = wrapped
            .iter()
            .filter(|w| w.data_keys > 0 && !self.all().any(|k| k.id() == w.master_key))
            .map(|w| w.master_key.as_str())
            .collect();
        if absent.is_empty() {
            return Ok(());
        }
        let needed = absent.join(", ");
        match self.current_id() {
            None => anyhow::bail!(
                "no master key here: {} does not exist and PARLOR_MASTER_KEY is not set, but \
                 the backup's data keys are wrapped by master key {needed}: put that key in \
                 place first (the master.key kept apart from the backup, or PARLOR_MASTER_KEY) \
                 and run parlor restore again",
                self.source()
            ),
            Some(current) => anyhow::bail!(
                "the backup's data keys are wrapped by master key {needed}, but the master key \
                 configured here ({}) is {current}: configure the key that was in use when the \
                 backup was made (a key rotated since then goes in PARLOR_PREVIOUS_MASTER_KEY or \
                 master.key.previous)",
                self.source()
            ),
        }
    }

    /// Opens every data key of the restored store with the key that wrapped it; returns how
    /// many opened, or says which did not.
    pub async fn open_all(&self, store: &Store) -> anyhow::Result<u64> {
        let (mut opened, mut failed, mut after) = (0u64, Vec::new(), 0);
        loop {
            let page = store
                .data_keys()
                .page(after, 500)
                .await
                .context("could not read the restored data keys")?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for stored in &page {
                let opens = self
                    .all()
                    .filter(|k| k.id() == stored.kek_id)
                    .any(|k| k.unwrap_key(&stored.wrapped).is_ok());
                if opens {
                    opened += 1;
                } else {
                    failed.push(format!("{} (master key {})", stored.id, stored.kek_id));
                }
            }
        }
        if !failed.is_empty() {
            failed.truncate(5);
            anyhow::bail!(
                "restored, but data keys {} do not open with the master keys configured here \
                 (current {}): the key or the backup is damaged, and the server will refuse \
                 to start",
                failed.join(", "),
                self.current_id().as_deref().unwrap_or("none")
            );
        }
        Ok(opened)
    }
}
