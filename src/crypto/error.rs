//! Errors of the encryption layer. The ones an operator meets at start-up say what to restore
//! or set, and name the keys concerned.

use super::envelope::OpenError;
use super::master_key::MasterKeyError;
use crate::store::StoreError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("data key {0} does not exist")]
    MissingKey(i64),
    #[error(
        "data key {key} is wrapped by master key {kek_id}, but the configured master key is \
         {current}: set PARLOR_MASTER_KEY or restore master.key"
    )]
    WrongMasterKey {
        key: i64,
        kek_id: String,
        current: String,
    },
    #[error(
        "{} stored data key(s) do not open with the master key {current}{}: {}; set \
         PARLOR_PREVIOUS_MASTER_KEY to the master key that wrapped them (or restore \
         master.key.previous beside master.key), or set PARLOR_MASTER_KEY to it",
        .keys.len(), describe_others(.others), describe_unopenable(.keys)
    )]
    Unopenable {
        /// Each data key that does not open, with the id of the master key that wrapped it.
        keys: Vec<(i64, String)>,
        current: String,
        /// The ids of the other master keys that were tried.
        others: Vec<String>,
    },
    #[error(
        "the master key file {} does not exist, but the database holds data keys wrapped by \
         master key {}: restore that file from your backup (or set PARLOR_MASTER_KEY to the \
         key); no new key was generated",
        .path.display(), describe_wrapped(.wrapped)
    )]
    KeyFileMissing {
        path: PathBuf,
        /// Master key id → how many data keys it wraps.
        wrapped: Vec<(String, i64)>,
    },
    #[error("stored content does not decrypt: {0}")]
    Open(#[from] OpenError),
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
}

fn describe_unopenable(keys: &[(i64, String)]) -> String {
    const SHOWN: usize = 20;
    let mut listed: Vec<String> = keys
        .iter()
        .take(SHOWN)
        .map(|(id, kek)| format!("data key {id} (wrapped by master key {kek})"))
        .collect();
    if keys.len() > SHOWN {
        listed.push(format!("and {} more", keys.len() - SHOWN));
    }
    listed.join(", ")
}

fn describe_others(others: &[String]) -> String {
    if others.is_empty() {
        String::new()
    } else {
        format!(" or the other master key(s) {}", others.join(", "))
    }
}

fn describe_wrapped(wrapped: &[(String, i64)]) -> String {
    wrapped
        .iter()
        .map(|(kek, n)| format!("{kek} ({n} data keys)"))
        .collect::<Vec<_>>()
        .join(", ")
}
