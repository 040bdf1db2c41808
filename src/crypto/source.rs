//! Where the master keys come from, and when a first one may be made.
//!
//! The current key is `PARLOR_MASTER_KEY` or `<data_dir>/master.key`. Beside it, keys that may
//! still wrap stored data keys are accepted for opening (never for wrapping), so a rotation
//! cannot strand a room: `PARLOR_PREVIOUS_MASTER_KEY`, and with the key file the
//! `master.key.previous` that `parlor keys rotate` keeps and the `master.key.next` of a
//! rotation that stopped half-way. A first key is generated only when the database holds no
//! data key at all: a missing key file beside existing data is a key to restore, and a new one
//! would only hide that.

use super::error::CryptoError;
use super::master_key::{MasterKey, MasterKeyError};
use crate::store::Store;
use std::path::{Path, PathBuf};

/// What the configuration says about master keys.
#[derive(Clone, Copy, Debug)]
pub struct KeyConfig<'a> {
    /// `PARLOR_MASTER_KEY`, when set.
    pub master_key: Option<&'a str>,
    /// `PARLOR_PREVIOUS_MASTER_KEY`, when set.
    pub previous_master_key: Option<&'a str>,
    pub data_dir: &'a Path,
}

/// Where the current master key is read from, so a rotated key file can be followed.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// `PARLOR_MASTER_KEY`: rotating means restarting with the new value.
    Configured,
    /// `master.key` in this data directory.
    File(PathBuf),
}

impl KeySource {
    /// The key file a running server follows, if any.
    pub fn key_file(&self) -> Option<PathBuf> {
        match self {
            KeySource::Configured => None,
            KeySource::File(dir) => Some(MasterKey::file_in(dir)),
        }
    }
}

/// The keys a server starts with.
pub struct MasterKeys {
    /// Wraps every new data key and, after the start-up check, every stored one.
    pub current: MasterKey,
    /// Keys that may still wrap stored data keys (previous, or staged by a rotation).
    pub others: Vec<MasterKey>,
    pub source: KeySource,
    /// Whether `current` was generated just now (first start).
    pub generated: bool,
}

impl KeyConfig<'_> {
    /// Loads the current and the other master keys. A missing key file is generated only
    /// when the database holds no data key; otherwise this refuses, saying what to restore.
    pub async fn load(&self, store: &Store) -> Result<MasterKeys, CryptoError> {
        let mut others = Vec::new();
        if let Some(previous) = self.previous_master_key {
            others.push(
                MasterKey::parse(previous).map_err(|e| named("PARLOR_PREVIOUS_MASTER_KEY", e))?,
            );
        }
        if let Some(configured) = self.master_key {
            let current =
                MasterKey::parse(configured).map_err(|e| named("PARLOR_MASTER_KEY", e))?;
            return Ok(MasterKeys {
                current,
                others,
                source: KeySource::Configured,
                generated: false,
            });
        }
        for path in [
            MasterKey::previous_file_in(self.data_dir),
            MasterKey::staged_file_in(self.data_dir),
        ] {
            others.extend(MasterKey::read_file(&path)?);
        }
        let path = MasterKey::file_in(self.data_dir);
        let source = KeySource::File(self.data_dir.to_path_buf());
        if let Some(current) = MasterKey::read_file(&path)? {
            return Ok(MasterKeys {
                current,
                others,
                source,
                generated: false,
            });
        }
        let wrapped = store.data_keys().count_by_master().await?;
        if !wrapped.is_empty() {
            return Err(CryptoError::KeyFileMissing {
                path: std::path::absolute(&path).unwrap_or(path),
                wrapped,
            });
        }
        let current = MasterKey::generate();
        current.write_new_file(&path)?;
        tracing::warn!(
            path = %path.display(),
            key_id = %current.id(),
            "GENERATED A NEW MASTER KEY: back this file up; without it stored content cannot be decrypted"
        );
        Ok(MasterKeys {
            current,
            others,
            source,
            generated: true,
        })
    }
}

/// A malformed key, with the setting it came from.
fn named(variable: &str, err: MasterKeyError) -> CryptoError {
    CryptoError::MasterKey(match err {
        MasterKeyError::Malformed(why) => MasterKeyError::Malformed(format!("{variable}: {why}")),
        other => other,
    })
}
