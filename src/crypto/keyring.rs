//! The keyring: creates, unwraps and caches the data keys that seal stored content, and follows
//! master-key rotations.
//!
//! Each room or conversation has its own data key (DEK), stored only wrapped by the master key
//! (KEK). Unwrapped keys stay in memory, so a running server keeps working while
//! `parlor keys rotate` re-wraps every stored key under a new master key; the server then picks
//! the new key up from the key file on its next upkeep and re-wraps any key it created in the
//! meantime.

use super::envelope::{OpenError, SecretKey};
use super::master_key::{MasterKey, MasterKeyError};
use crate::clock::Clock;
use crate::store::{Store, StoreError, WrappedKey};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

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
    #[error("stored content does not decrypt: {0}")]
    Open(#[from] OpenError),
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
}

/// Where the master key came from, so a rotated key file can be picked up.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// `PARLOR_MASTER_KEY`: rotating means restarting with the new value.
    Configured,
    /// `<data_dir>/master.key`.
    File(PathBuf),
}

/// Data keys for the rest of the server. Cheap to clone.
#[derive(Clone)]
pub struct Keyring(Arc<Inner>);

struct Inner {
    store: Store,
    clock: Clock,
    source: KeySource,
    master: RwLock<Arc<MasterKey>>,
    /// Master keys replaced while running; they still open keys wrapped before a rotation.
    retired: Mutex<Vec<Arc<MasterKey>>>,
    cache: Mutex<HashMap<i64, SecretKey>>,
}

impl Keyring {
    pub fn new(store: Store, master: MasterKey, source: KeySource, clock: Clock) -> Self {
        Self(Arc::new(Inner {
            store,
            clock,
            source,
            master: RwLock::new(Arc::new(master)),
            retired: Mutex::default(),
            cache: Mutex::default(),
        }))
    }

    fn master(&self) -> Arc<MasterKey> {
        Arc::clone(&self.0.master.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Fails unless the master key opens the stored data keys: a wrong or missing key stops
    /// the server instead of writing content nobody can read back.
    pub async fn verify(&self) -> Result<(), CryptoError> {
        if let Some(stored) = self.0.store.data_keys().any().await? {
            self.unwrap_stored(&stored)?;
        }
        Ok(())
    }

    /// Creates and stores a new data key; returns its id.
    pub async fn create_key(&self) -> Result<i64, CryptoError> {
        let key = SecretKey::generate();
        let master = self.master();
        let id = self
            .0
            .store
            .data_keys()
            .insert(&master.id(), &master.wrap(&key), self.0.clock.now_millis())
            .await?;
        self.cache().insert(id, key);
        Ok(id)
    }

    /// The data key with this id, unwrapped.
    pub async fn key(&self, id: i64) -> Result<SecretKey, CryptoError> {
        if let Some(key) = self.cache().get(&id) {
            return Ok(key.clone());
        }
        let stored = self
            .0
            .store
            .data_keys()
            .by_id(id)
            .await?
            .ok_or(CryptoError::MissingKey(id))?;
        let key = match self.unwrap_stored(&stored) {
            Err(CryptoError::WrongMasterKey { .. }) if self.reload()? => {
                self.unwrap_stored(&stored)?
            }
            other => other?,
        };
        self.cache().insert(id, key.clone());
        Ok(key)
    }

    /// Deletes a data key for good: whatever it sealed can no longer be read.
    pub async fn destroy_key(&self, id: i64) -> Result<(), CryptoError> {
        self.cache().remove(&id);
        self.0.store.data_keys().delete(id).await?;
        Ok(())
    }

    /// Upkeep: adopts a rotated key file and re-wraps keys still under an older master key.
    pub async fn follow_rotation(&self) -> Result<(), CryptoError> {
        self.reload()?;
        let master = self.master();
        let stale = self
            .0
            .store
            .data_keys()
            .not_wrapped_by(&master.id())
            .await?;
        let mut rewrapped = Vec::new();
        for stored in stale {
            if let Ok(key) = self.unwrap_stored(&stored) {
                let wrapped = master.wrap(&key);
                rewrapped.push((stored, wrapped));
            }
        }
        if !rewrapped.is_empty() {
            let n = self
                .0
                .store
                .data_keys()
                .rewrap(&rewrapped, &master.id())
                .await?;
            tracing::info!(keys = n, key_id = %master.id(), "data keys re-wrapped under the current master key");
        }
        Ok(())
    }

    /// Re-reads the key file; returns whether the master key changed.
    fn reload(&self) -> Result<bool, CryptoError> {
        let KeySource::File(path) = &self.0.source else {
            return Ok(false);
        };
        let dir = path.parent().map(PathBuf::from).unwrap_or_default();
        let (loaded, _) = MasterKey::load(None, &dir)?;
        let current = self.master();
        if loaded.id() == current.id() {
            return Ok(false);
        }
        tracing::info!(key_id = %loaded.id(), "master key rotated");
        self.retired().push(current);
        *self
            .0
            .master
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(loaded);
        Ok(true)
    }

    fn unwrap_stored(&self, stored: &WrappedKey) -> Result<SecretKey, CryptoError> {
        let master = self.master();
        let mut candidates = vec![Arc::clone(&master)];
        candidates.extend(self.retired().iter().cloned());
        for kek in candidates {
            if kek.id() == stored.kek_id {
                return Ok(kek.unwrap_key(&stored.wrapped)?);
            }
        }
        Err(CryptoError::WrongMasterKey {
            key: stored.id,
            kek_id: stored.kek_id.clone(),
            current: master.id(),
        })
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<i64, SecretKey>> {
        self.0.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn retired(&self) -> std::sync::MutexGuard<'_, Vec<Arc<MasterKey>>> {
        self.0
            .retired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Re-wraps every stored data key under `new` (the `parlor keys rotate` command). Bodies are
/// not touched. Returns how many keys were re-wrapped.
pub async fn rotate(store: &Store, old: &MasterKey, new: &MasterKey) -> Result<u64, CryptoError> {
    let stale = store.data_keys().not_wrapped_by(&new.id()).await?;
    let mut rewrapped = Vec::with_capacity(stale.len());
    for stored in stale {
        if stored.kek_id != old.id() {
            return Err(CryptoError::WrongMasterKey {
                key: stored.id,
                kek_id: stored.kek_id,
                current: old.id(),
            });
        }
        let key = old.unwrap_key(&stored.wrapped)?;
        let wrapped = new.wrap(&key);
        rewrapped.push((stored, wrapped));
    }
    Ok(store.data_keys().rewrap(&rewrapped, &new.id()).await?)
}
