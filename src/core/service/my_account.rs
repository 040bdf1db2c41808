//! An account managing itself, live: preferences that follow it to every device, its sessions,
//! its name, e-mail and key, and deleting it. The identity layer decides what is allowed
//! (`auth::self_service`); this service makes the rest of the chat see the change at once —
//! other devices get the new preferences, revoked sessions' pages close, a new name reaches
//! every room the account is in, and a deleted account's rooms close.

use super::FileSweep;
use crate::auth::{Auth, Identity, OwnSession, SessionId};
use crate::clock::Clock;
use crate::core::event::{CloseReason, RemovedReason, UserView};
use crate::core::{Bus, CoreError, Directive, Event, OnlineRegistry};
use crate::domain::{Preferences, Principal};
use crate::moderation::Moderation;
use crate::rooms::{RoomError, Rooms};
use crate::store::{AuditEntry, Store};
use std::net::IpAddr;
use std::sync::Arc;

/// What [`MyAccount`] is built from.
pub struct MyAccountParts {
    pub auth: Arc<Auth>,
    pub store: Store,
    pub rooms: Arc<Rooms>,
    pub moderation: Arc<Moderation>,
    pub bus: Arc<dyn Bus>,
    pub names: OnlineRegistry,
    pub sweep: FileSweep,
    pub clock: Clock,
}

pub struct MyAccount {
    parts: MyAccountParts,
}

/// The caller's account id; guests have no account to manage.
fn account(identity: &Identity) -> Result<i64, CoreError> {
    match identity.principal {
        Principal::User(id) => Ok(id),
        Principal::Guest(_) => Err(RoomError::RegistrationRequired.into()),
    }
}

impl MyAccount {
    pub fn new(parts: MyAccountParts) -> Self {
        Self { parts }
    }

    pub async fn preferences(&self, identity: &Identity) -> Result<Preferences, CoreError> {
        let stored = self
            .parts
            .store
            .profiles()
            .preferences(account(identity)?)
            .await?;
        Ok(Preferences::from_stored(stored.as_deref()))
    }

    /// Stores the caller's preferences; every connection of the account hears them.
    pub async fn set_preferences(
        &self,
        identity: &Identity,
        preferences: Preferences,
    ) -> Result<Preferences, CoreError> {
        let user_id = account(identity)?;
        let json = serde_json::to_string(&preferences).unwrap_or_default();
        self.parts
            .store
            .profiles()
            .set_preferences(user_id, &json, !preferences.show_online)
            .await?;
        self.parts.bus.direct(Directive::Tell {
            principal: identity.principal,
            event: Event::PreferencesChanged(preferences),
        });
        Ok(preferences)
    }

    /// The preferences of another account, for the rules they set (who may write to it).
    pub async fn preferences_of(&self, user_id: i64) -> Result<Preferences, CoreError> {
        let stored = self.parts.store.profiles().preferences(user_id).await?;
        Ok(Preferences::from_stored(stored.as_deref()))
    }

    /// The case-folded names of the accounts that chose not to show as online.
    pub async fn appearing_offline(&self) -> Result<std::collections::HashSet<String>, CoreError> {
        let keys = self.parts.store.profiles().appearing_offline().await?;
        Ok(keys.into_iter().collect())
    }

    pub async fn sessions(&self, identity: &Identity) -> Result<Vec<OwnSession>, CoreError> {
        account(identity)?;
        Ok(self.parts.auth.own_sessions(identity).await?)
    }

    /// Revokes one of the caller's sessions; its pages close.
    pub async fn revoke_session(&self, identity: &Identity, id: &str) -> Result<(), CoreError> {
        account(identity)?;
        let revoked = self.parts.auth.revoke_own(identity, id).await?;
        self.close(vec![revoked]);
        Ok(())
    }

    /// Revokes every session of the caller's but this one; their pages close.
    pub async fn revoke_other_sessions(&self, identity: &Identity) -> Result<(), CoreError> {
        account(identity)?;
        let revoked = self.parts.auth.revoke_others(identity).await?;
        self.close(revoked);
        Ok(())
    }

    fn close(&self, sessions: Vec<SessionId>) {
        if sessions.is_empty() {
            return;
        }
        self.parts.bus.direct(Directive::CloseSessions {
            sessions: sessions.into_iter().map(|s| s.0).collect(),
            reason: CloseReason::SessionRevoked,
        });
    }

    /// Renames the caller's account. Bans, mutes and others' ignore lists follow it (every
    /// node reloads them); the rooms it is in hear `user_renamed`; its connections close and
    /// come back under the new name. Audited.
    pub async fn rename(
        &self,
        identity: &Identity,
        username: &str,
        password: Option<String>,
        ip: IpAddr,
    ) -> Result<String, CoreError> {
        account(identity)?;
        let renamed = self
            .parts
            .auth
            .rename(
                identity,
                username,
                password,
                &ip.to_string(),
                &self.parts.names,
            )
            .await?;
        if renamed.from == renamed.to {
            return Ok(renamed.to);
        }
        let bus = &self.parts.bus;
        bus.direct(Directive::SanctionsChanged);
        let (old_key, new_key) = (
            renamed.from.to_ascii_lowercase(),
            renamed.to.to_ascii_lowercase(),
        );
        for ignorer in renamed.ignorers {
            let principal = Principal::User(ignorer);
            for (name_key, ignore) in [(old_key.clone(), false), (new_key.clone(), true)] {
                bus.direct(Directive::SetIgnore {
                    principal,
                    name_key,
                    ignore,
                });
            }
        }
        let mut user = UserView::from(identity);
        user.name = renamed.to.clone();
        bus.direct(Directive::Renamed {
            principal: identity.principal,
            from: renamed.from.clone(),
            user,
        });
        self.audit(
            identity,
            ip,
            "rename",
            Some(renamed.to.clone()),
            Some(format!("was {}", renamed.from)),
        )
        .await;
        Ok(renamed.to)
    }

    /// Sets or removes the caller's e-mail address (with the password); returns it.
    pub async fn change_email(
        &self,
        identity: &Identity,
        email: Option<&str>,
        password: Option<String>,
    ) -> Result<Option<String>, CoreError> {
        account(identity)?;
        Ok(self
            .parts
            .auth
            .change_email(identity, email, password)
            .await?)
    }

    /// A key account's new key (shown once).
    pub async fn rotate_key(&self, identity: &Identity) -> Result<String, CoreError> {
        account(identity)?;
        Ok(self.parts.auth.rotate_key(identity).await?)
    }

    pub async fn is_key_account(&self, identity: &Identity) -> Result<bool, CoreError> {
        Ok(self.parts.auth.is_key_account(identity).await?)
    }

    /// Deletes the caller's account once it proved it owns it: the rooms it owns with their
    /// messages, files and keys (their members are told), its files elsewhere, its sessions,
    /// memberships, preferences, ignore list and companion memory. Its messages in others'
    /// rooms stay, under its name. Audited.
    pub async fn delete(
        &self,
        identity: &Identity,
        password: Option<String>,
        ip: IpAddr,
    ) -> Result<(), CoreError> {
        let user_id = account(identity)?;
        self.parts.auth.confirm_owner(identity, password).await?;
        for room in self.parts.rooms.admin().delete_owned_by(user_id).await? {
            self.parts.bus.direct(Directive::CloseRoom {
                room: room.slug,
                reason: RemovedReason::Deleted,
            });
        }
        self.parts.sweep.uploader_gone(user_id).await?;
        self.audit(identity, ip, "delete_own_account", None, None)
            .await;
        self.parts.auth.delete_account(user_id).await?;
        self.parts.bus.direct(Directive::ClosePrincipal {
            principal: identity.principal,
            reason: CloseReason::SessionRevoked,
            detail: None,
        });
        Ok(())
    }

    async fn audit(
        &self,
        identity: &Identity,
        ip: IpAddr,
        action: &str,
        target: Option<String>,
        detail: Option<String>,
    ) {
        let entry = AuditEntry {
            ts: self.parts.clock.now_millis(),
            actor: identity.name.clone(),
            identity: Some(identity.principal.key()),
            actor_ip: Some(ip.to_string()),
            action: action.to_owned(),
            target,
            room: None,
            detail,
        };
        if let Err(err) = self.parts.moderation.audit_log().record_now(entry).await {
            tracing::warn!(error = %err, action, "could not record an account change in the audit log");
        }
    }
}
