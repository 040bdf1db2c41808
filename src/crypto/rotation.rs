//! `parlor keys rotate`: every stored data key re-wrapped under a new master key in one
//! transaction (bodies untouched), while a server may be running.
//!
//! With the key file, the new key is staged in `master.key.next` (synced) before any data key
//! depends on it; after the re-wrap the old key is kept as `master.key.previous` and the staged
//! file renamed over `master.key`. A running server wraps new data keys with whatever
//! `master.key` holds at that moment, so a room created during the rotation may still be
//! wrapped by the old key: the kept previous key opens it, and the server re-wraps it (on its
//! next upkeep, or at its next start). A rotation that stopped half-way is finished by the next
//! one, which reuses the staged key.
//!
//! With `PARLOR_MASTER_KEY`, the new key is printed; a running server goes on wrapping with
//! the old one until it restarts, so the restart names the old key as
//! `PARLOR_PREVIOUS_MASTER_KEY` once.

use super::error::CryptoError;
use super::master_key::MasterKey;
use crate::store::Store;
use std::path::Path;

/// What a rotation did.
pub struct Rotated {
    /// Data keys re-wrapped.
    pub rewrapped: u64,
    pub old_id: String,
    pub new: MasterKey,
}

/// Re-wraps every stored data key not yet wrapped by `new` under it, opening each with
/// whichever of `known` wrapped it. Nothing changes unless every one opens. Returns how many
/// keys were re-wrapped.
pub async fn rotate(
    store: &Store,
    known: &[&MasterKey],
    new: &MasterKey,
) -> Result<u64, CryptoError> {
    let stale = store.data_keys().not_wrapped_by(&new.id()).await?;
    let (mut rewrapped, mut unopenable) = (Vec::with_capacity(stale.len()), Vec::new());
    for stored in stale {
        let opened = known
            .iter()
            .find(|k| k.id() == stored.kek_id)
            .and_then(|k| k.unwrap_key(&stored.wrapped).ok());
        match opened {
            Some(key) => {
                let wrapped = new.wrap(&key);
                rewrapped.push((stored, wrapped));
            }
            None => unopenable.push((stored.id, stored.kek_id)),
        }
    }
    if let Some((current, others)) = known.split_first().filter(|_| !unopenable.is_empty()) {
        return Err(CryptoError::Unopenable {
            keys: unopenable,
            current: current.id(),
            others: others.iter().map(|k| k.id()).collect(),
        });
    }
    Ok(store.data_keys().rewrap(&rewrapped, &new.id()).await?)
}

/// Rotates the key file in `data_dir` (see the module docs). `previous` is
/// `PARLOR_PREVIOUS_MASTER_KEY`, if set.
pub async fn rotate_key_file(
    store: &Store,
    data_dir: &Path,
    previous: Option<&str>,
) -> Result<Rotated, CryptoError> {
    let path = MasterKey::file_in(data_dir);
    let old = MasterKey::read_file(&path)?.ok_or_else(|| super::MasterKeyError::Io {
        path: path.display().to_string(),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    let mut known = vec![old];
    known.extend(MasterKey::read_file(&MasterKey::previous_file_in(
        data_dir,
    ))?);
    if let Some(previous) = previous {
        known.push(MasterKey::parse(previous)?);
    }
    let staged = MasterKey::staged_file_in(data_dir);
    // A staged key is kept: keys of a rotation that stopped half-way may depend on it.
    let new = match MasterKey::read_file(&staged)? {
        Some(unfinished) => unfinished,
        None => {
            let new = MasterKey::generate();
            new.write_new_file(&staged)?;
            new
        }
    };
    let rewrapped = rotate(store, &known.iter().collect::<Vec<_>>(), &new).await?;
    let old = &known[0];
    old.replace_file(&MasterKey::previous_file_in(data_dir))?;
    std::fs::rename(&staged, &path).map_err(|source| super::MasterKeyError::Io {
        path: path.display().to_string(),
        source,
    })?;
    std::fs::File::open(data_dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|source| super::MasterKeyError::Io {
            path: data_dir.display().to_string(),
            source,
        })?;
    Ok(Rotated {
        rewrapped,
        old_id: old.id(),
        new,
    })
}

/// Rotates away from `PARLOR_MASTER_KEY` (`current`); `previous` is
/// `PARLOR_PREVIOUS_MASTER_KEY`, if set. The caller prints the new key.
pub async fn rotate_configured(
    store: &Store,
    current: &str,
    previous: Option<&str>,
) -> Result<Rotated, CryptoError> {
    let mut known = vec![MasterKey::parse(current)?];
    if let Some(previous) = previous {
        known.push(MasterKey::parse(previous)?);
    }
    let new = MasterKey::generate();
    let rewrapped = rotate(store, &known.iter().collect::<Vec<_>>(), &new).await?;
    Ok(Rotated {
        rewrapped,
        old_id: known[0].id(),
        new,
    })
}
