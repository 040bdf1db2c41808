//! The directory of end-to-end keys (see `docs/e2ee.md`): each account publishes its public keys
//! and leaves its private keys here wrapped, to unlock them on another device. Anyone may read an
//! account's public keys and safety number; only the account reads its wrapped documents. The
//! server checks the formats and never holds anything that opens them.

use crate::auth::Identity;
use crate::clock::Clock;
use crate::core::{Bus, CoreError, Directive, Event};
use crate::domain::{fingerprint, hex, safety_number, Kdf, Principal, PublicKey, Wrapped};
use crate::rooms::RoomError;
use crate::store::{AccountKeysRow, Store};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// An account's keys as a reader sees them; the wrapped documents only on one's own.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeysView {
    /// Base64 of the key-agreement (ECDH P-256) public key's SubjectPublicKeyInfo.
    pub agreement_public: String,
    /// Base64 of the signing (ECDSA P-256) public key's SubjectPublicKeyInfo.
    pub signing_public: String,
    /// Hex SHA-256 of both public keys (agreement first).
    pub fingerprint: String,
    /// Six groups of five digits, for comparing in person.
    pub safety_number: String,
    pub updated_at: i64,
    /// Own keys only: the private keys wrapped by the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub password_wrapped: Option<serde_json::Value>,
    /// Own keys only: the private keys wrapped by the recovery key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub recovery_wrapped: Option<serde_json::Value>,
}

/// New keys, as a browser sends them (the wrapped documents as JSON text).
pub struct NewKeys<'a> {
    pub agreement_public: &'a str,
    pub signing_public: &'a str,
    pub password_wrapped: &'a str,
    pub recovery_wrapped: &'a str,
}

pub struct KeyDirectory {
    store: Store,
    clock: Clock,
    bus: Arc<dyn Bus>,
    /// New keys do not open room keys sealed to the old ones: rooms seal again.
    room_keys: Arc<super::RoomKeys>,
}

fn account(identity: &Identity) -> Result<i64, CoreError> {
    match identity.principal {
        Principal::User(id) => Ok(id),
        Principal::Guest(_) => Err(RoomError::RegistrationRequired.into()),
    }
}

fn view(row: AccountKeysRow, own: bool) -> KeysView {
    let digest = PublicKey::parse(&row.agreement_public, "agreement_public")
        .and_then(|a| Ok((a, PublicKey::parse(&row.signing_public, "signing_public")?)))
        .map(|(a, s)| fingerprint(&a, &s));
    let doc = |json: &str| serde_json::from_str::<serde_json::Value>(json).ok();
    KeysView {
        safety_number: digest.as_ref().map(safety_number).unwrap_or_default(),
        agreement_public: row.agreement_public,
        signing_public: row.signing_public,
        fingerprint: row.fingerprint,
        updated_at: row.updated_at,
        password_wrapped: own.then(|| doc(&row.password_wrapped)).flatten(),
        recovery_wrapped: own.then(|| doc(&row.recovery_wrapped)).flatten(),
    }
}

impl KeyDirectory {
    pub fn new(
        store: Store,
        clock: Clock,
        bus: Arc<dyn Bus>,
        room_keys: Arc<super::RoomKeys>,
    ) -> Self {
        Self {
            store,
            clock,
            bus,
            room_keys,
        }
    }

    /// Sets or replaces the caller's keys.
    pub async fn publish(
        &self,
        identity: &Identity,
        keys: NewKeys<'_>,
    ) -> Result<KeysView, CoreError> {
        let user_id = account(identity)?;
        let agreement = PublicKey::parse(keys.agreement_public, "agreement_public")?;
        let signing = PublicKey::parse(keys.signing_public, "signing_public")?;
        let password =
            Wrapped::parse(keys.password_wrapped, "password_wrapped", Kdf::Pbkdf2Sha256)?;
        let recovery = Wrapped::parse(keys.recovery_wrapped, "recovery_wrapped", Kdf::HkdfSha256)?;
        let row = AccountKeysRow {
            user_id,
            agreement_public: agreement.to_b64(),
            signing_public: signing.to_b64(),
            password_wrapped: password.to_json(),
            recovery_wrapped: recovery.to_json(),
            fingerprint: hex(&fingerprint(&agreement, &signing)),
            updated_at: self.clock.now_millis(),
        };
        let before = self.store.account_keys().of(user_id).await?;
        self.store.account_keys().put(&row).await?;
        let view = view(row, true);
        // New keys where there were others: everyone who may have trusted the old ones hears.
        let epoch_keys = self.store.room_epoch_keys();
        if before.is_none() {
            // First keys: the end-to-end rooms the account joined before it had any can seal
            // their current key to it now.
            for room_id in epoch_keys.rooms_of(user_id).await? {
                self.room_keys.announce(room_id).await?;
            }
        }
        if before.is_some_and(|old| old.fingerprint != view.fingerprint) {
            // The current epochs' keys sealed to the old keys no longer open: the members of
            // those rooms seal them to the new ones.
            for room_id in epoch_keys.forget_current(user_id).await? {
                self.room_keys.announce(room_id).await?;
            }
            self.bus.direct(Directive::TellAccounts {
                event: Event::KeysChanged {
                    user: identity.name.clone(),
                    fingerprint: view.fingerprint.clone(),
                    safety_number: view.safety_number.clone(),
                },
            });
        }
        Ok(view)
    }

    /// Re-wraps the caller's private keys (a new password, a new recovery key).
    pub async fn rewrap(
        &self,
        identity: &Identity,
        password_wrapped: Option<&str>,
        recovery_wrapped: Option<&str>,
    ) -> Result<KeysView, CoreError> {
        let user_id = account(identity)?;
        let password = password_wrapped
            .map(|json| Wrapped::parse(json, "password_wrapped", Kdf::Pbkdf2Sha256))
            .transpose()?
            .map(|doc| doc.to_json());
        let recovery = recovery_wrapped
            .map(|json| Wrapped::parse(json, "recovery_wrapped", Kdf::HkdfSha256))
            .transpose()?
            .map(|doc| doc.to_json());
        let now = self.clock.now_millis();
        if !self
            .store
            .account_keys()
            .rewrap(user_id, password.as_deref(), recovery.as_deref(), now)
            .await?
        {
            return Err(CoreError::NotFound);
        }
        self.own(identity).await
    }

    /// The caller's keys, with the wrapped documents.
    pub async fn own(&self, identity: &Identity) -> Result<KeysView, CoreError> {
        let row = self
            .store
            .account_keys()
            .of(account(identity)?)
            .await?
            .ok_or(CoreError::NotFound)?;
        Ok(view(row, true))
    }

    /// An account's public keys (`None`: no such account, or no keys).
    pub async fn public(&self, name: &str) -> Result<Option<KeysView>, CoreError> {
        let Some(user) = self
            .store
            .users()
            .by_name_key(&name.to_ascii_lowercase())
            .await?
        else {
            return Ok(None);
        };
        let row = self.store.account_keys().of(user.id).await?;
        Ok(row.map(|row| view(row, false)))
    }
}
