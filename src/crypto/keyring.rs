//! The keyring: creates, unwraps and caches the data keys that seal stored content, and follows
//! master-key rotations.
//!
//! Each room or conversation has its own data key (DEK), stored only wrapped by the master key
//! (KEK). At start-up every stored key is opened and kept in memory — the server refuses to
//! start, naming the keys that do not open, rather than fail room by room later — and keys
//! still wrapped by a previous master key are re-wrapped by the current one. So a running
//! server keeps serving while `parlor keys rotate` re-wraps every stored key under a new master
//! key. With a key file, the server re-reads the file before wrapping a new data key (a room
//! created just after a rotation is wrapped by the new key) and on each upkeep, when it also
//! re-wraps any key created under the old one.

use super::envelope::SecretKey;
use super::error::CryptoError;
use super::master_key::MasterKey;
use super::source::{KeyConfig, KeySource};
use crate::clock::Clock;
use crate::store::{Store, WrappedKey};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// Stored keys read per query by the start-up check.
const CHECK_PAGE: i64 = 1_000;

/// Data keys for the rest of the server. Cheap to clone.
#[derive(Clone)]
pub struct Keyring(Arc<Inner>);

struct Inner {
    store: Store,
    clock: Clock,
    source: KeySource,
    master: RwLock<Arc<MasterKey>>,
    /// Other master keys: the previous ones given at start-up and those replaced while
    /// running. They open keys wrapped before a rotation; they never wrap new ones.
    retired: Mutex<Vec<Arc<MasterKey>>>,
    cache: Mutex<HashMap<i64, SecretKey>>,
}

impl Keyring {
    pub fn new(
        store: Store,
        master: MasterKey,
        others: Vec<MasterKey>,
        source: KeySource,
        clock: Clock,
    ) -> Self {
        Self(Arc::new(Inner {
            store,
            clock,
            source,
            master: RwLock::new(Arc::new(master)),
            retired: Mutex::new(others.into_iter().map(Arc::new).collect()),
            cache: Mutex::default(),
        }))
    }

    /// Loads the master keys (see [`KeyConfig::load`]) and opens every stored data key with
    /// them ([`Keyring::check_every_key`]): the keyring a server starts with, or the reason it
    /// must not start.
    pub async fn open(
        store: Store,
        config: KeyConfig<'_>,
        clock: Clock,
    ) -> Result<Self, CryptoError> {
        let keys = config.load(&store).await?;
        let generated = keys.generated;
        tracing::info!(key_id = %keys.current.id(), other_keys = keys.others.len(), "master key loaded");
        let keyring = Self::new(store, keys.current, keys.others, keys.source, clock);
        if let Err(err) = keyring.check_every_key().await {
            if let (true, Some(path)) = (generated, keyring.0.source.key_file()) {
                // Data keys appeared meanwhile (another process): a fresh key is a wrong key.
                let _ = std::fs::remove_file(path);
            }
            return Err(err);
        }
        Ok(keyring)
    }

    fn master(&self) -> Arc<MasterKey> {
        Arc::clone(&self.0.master.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Opens every stored data key, keeping them in memory, and re-wraps those still wrapped
    /// by another known master key under the current one. Fails naming every key that does not
    /// open, instead of letting its room fail on a read (or the server write content nobody
    /// could read back).
    pub async fn check_every_key(&self) -> Result<(), CryptoError> {
        let master = self.master();
        let (mut after, mut unopenable, mut stale) = (0, Vec::new(), Vec::new());
        loop {
            let page = self.0.store.data_keys().page(after, CHECK_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for stored in page {
                match self.unwrap_stored(&stored) {
                    Ok(key) => {
                        if stored.kek_id != master.id() {
                            let wrapped = master.wrap(&key);
                            stale.push((stored.clone(), wrapped));
                        }
                        self.cache().insert(stored.id, key);
                    }
                    Err(_) => unopenable.push((stored.id, stored.kek_id)),
                }
            }
        }
        if !unopenable.is_empty() {
            return Err(CryptoError::Unopenable {
                keys: unopenable,
                current: master.id(),
                others: self.retired().iter().map(|k| k.id()).collect(),
            });
        }
        if !stale.is_empty() {
            let n = self
                .0
                .store
                .data_keys()
                .rewrap(&stale, &master.id())
                .await?;
            tracing::info!(keys = n, key_id = %master.id(), "data keys wrapped by another master key re-wrapped under the current one");
        }
        Ok(())
    }

    /// Creates and stores a new data key, wrapped by the newest master key; returns its id.
    pub async fn create_key(&self) -> Result<i64, CryptoError> {
        // A rotation may have replaced the key file a moment ago: wrap with what it holds now.
        if let Err(err) = self.reload() {
            tracing::warn!(error = %err, "could not re-read the master key file; wrapping with the key in memory");
        }
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

    /// Re-reads the key file; returns whether the master key changed. A key file that went
    /// missing changes nothing (the key in memory stays in use; nothing is generated).
    fn reload(&self) -> Result<bool, CryptoError> {
        let Some(path) = self.0.source.key_file() else {
            return Ok(false);
        };
        let Some(loaded) = MasterKey::read_file(&path)? else {
            tracing::warn!(path = %path.display(), "the master key file is gone: restore it before the next start");
            return Ok(false);
        };
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
