//! What an account does to itself: list and revoke its sessions, change its name, e-mail or
//! key, and prove it is the owner before deleting itself. Changes that could lock someone
//! out of an account they stole a session of — a new name, a new e-mail, deletion — need the
//! current password (a key account has none: its session is made from the key, the proof).

use super::device;
use super::service::Auth;
use super::{hash_token, new_secret, AuthError, Identity, OnlineNames, SessionId};
use crate::domain::{Email, Name, Principal};
use crate::store::{Rename, StoreError, UserRow};
use serde::Serialize;
use utoipa::ToSchema;

/// One of the caller's live sessions, as they see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OwnSession {
    /// Stable while the session lives; names it for revoking. Not the token, nor its hash.
    pub id: String,
    /// The session this request uses.
    pub current: bool,
    /// The browser or client it was first used from, in words ("Firefox on Linux").
    pub device: String,
    /// The address it was opened from.
    pub ip: String,
    pub created_at: i64,
    /// When it was last used (to within the renewal interval, about a minute).
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// A rename that took place.
#[derive(Debug)]
pub struct Renamed {
    pub from: String,
    pub to: String,
    /// Accounts whose ignore lists named the old name (they now name the new one).
    pub ignorers: Vec<i64>,
}

/// The public id of a session: derived from its hash so it can be shown to the owner and
/// sent back, without being the hash a session is looked up by.
fn public_id(token_hash: &str) -> String {
    hash_token(&format!("session:{token_hash}"))[..16].to_owned()
}

fn account_of(identity: &Identity) -> Result<i64, AuthError> {
    match identity.principal {
        Principal::User(id) => Ok(id),
        Principal::Guest(_) => Err(AuthError::Unauthenticated),
    }
}

impl Auth {
    /// The stored account of a live session (gone: the session no longer stands for anyone).
    pub(super) async fn account_row(&self, user_id: i64) -> Result<UserRow, AuthError> {
        self.store
            .users()
            .by_id(user_id)
            .await?
            .ok_or(AuthError::Unauthenticated)
    }

    /// The caller's live sessions as stored, with the public id each is named by.
    async fn live_sessions(
        &self,
        identity: &Identity,
    ) -> Result<Vec<(String, crate::store::OwnSessionRow)>, AuthError> {
        let rows = self
            .store
            .sessions()
            .of_user(account_of(identity)?, self.clock.now_millis())
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (public_id(&row.token_hash), row))
            .collect())
    }

    /// The caller's account, once they proved they own it: a password account with its
    /// current password; a key account (no password) by its session alone.
    pub async fn confirm_owner(
        &self,
        identity: &Identity,
        password: Option<String>,
    ) -> Result<UserRow, AuthError> {
        let user = self.account_row(account_of(identity)?).await?;
        if let Some(stored) = user.password_hash.clone() {
            let password = password.unwrap_or_default();
            if !self.passwords.verify(Some(stored), password).await? {
                return Err(AuthError::InvalidCredentials);
            }
        }
        Ok(user)
    }

    /// Gives the account a new name, under registration's rules; its old name stays reserved
    /// for it for `name_release`. Counts against the address's registration budget (a rename
    /// takes a name as a registration does).
    pub async fn rename(
        &self,
        identity: &Identity,
        username: &str,
        password: Option<String>,
        ip: &str,
        online: &dyn OnlineNames,
    ) -> Result<Renamed, AuthError> {
        let name = Name::parse(username).map_err(|e| AuthError::InvalidUsername(e.to_string()))?;
        let user = self.confirm_owner(identity, password).await?;
        let old_key = user.name.to_ascii_lowercase();
        if name.as_str() == user.name {
            return Ok(Renamed {
                from: user.name.clone(),
                to: user.name,
                ignorers: Vec::new(),
            });
        }
        self.throttles.registration(ip).await?;
        let same_key = name.key() == old_key;
        if !same_key
            && (online.is_taken(&name.key(), Some(identity.principal)).await
                || self.name_reserved(&name, Some(user.id)).await?)
        {
            return Err(AuthError::UsernameTaken);
        }
        let now = self.clock.now_millis();
        let reserve = i64::try_from(self.settings.name_release.as_millis()).unwrap_or(i64::MAX);
        let ignorers = self
            .store
            .profiles()
            .rename(Rename {
                user_id: user.id,
                old_key: &old_key,
                new_name: name.as_str(),
                new_key: &name.key(),
                now,
                reserve_until: now.saturating_add(reserve),
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AuthError::UsernameTaken,
                other => other.into(),
            })?;
        Ok(Renamed {
            from: user.name,
            to: name.as_str().to_owned(),
            ignorers,
        })
    }

    /// Sets (or, with `None`, removes) the account's e-mail address; returns it as stored.
    pub async fn change_email(
        &self,
        identity: &Identity,
        email: Option<&str>,
        password: Option<String>,
    ) -> Result<Option<String>, AuthError> {
        let email = email
            .map(|raw| Email::parse(raw).map_err(|_| AuthError::InvalidEmail))
            .transpose()?;
        let user = self.confirm_owner(identity, password).await?;
        if let Some(email) = &email {
            let mine = user.email.as_deref().map(str::to_ascii_lowercase) == Some(email.key());
            if !mine && self.store.users().email_registered(&email.key()).await? {
                return Err(AuthError::EmailTaken);
            }
        }
        let key = email.as_ref().map(Email::key);
        self.store
            .profiles()
            .set_email(
                user.id,
                email.as_ref().map(Email::as_str).zip(key.as_deref()),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AuthError::EmailTaken,
                other => other.into(),
            })?;
        Ok(email.map(|e| e.as_str().to_owned()))
    }

    /// A key account's new key, shown this once; the old key stops working (sessions made
    /// from it stay).
    pub async fn rotate_key(&self, identity: &Identity) -> Result<String, AuthError> {
        let user_id = account_of(identity)?;
        let key = new_secret();
        if !self
            .store
            .profiles()
            .replace_key(user_id, &hash_token(&key))
            .await?
        {
            return Err(AuthError::NotKeyAccount);
        }
        Ok(key)
    }

    /// Whether the account signs in with a key.
    pub async fn is_key_account(&self, identity: &Identity) -> Result<bool, AuthError> {
        match identity.principal {
            Principal::User(id) => Ok(self.store.profiles().is_key_account(id).await?),
            Principal::Guest(_) => Ok(false),
        }
    }

    /// The caller's live sessions, most recently used first.
    pub async fn own_sessions(&self, identity: &Identity) -> Result<Vec<OwnSession>, AuthError> {
        let rows = self.live_sessions(identity).await?;
        Ok(rows
            .into_iter()
            .map(|(id, row)| OwnSession {
                id,
                current: row.token_hash == identity.session.0,
                device: device::describe(row.user_agent.as_deref()),
                ip: row.ip,
                created_at: row.created_at,
                last_seen_at: row.last_seen_at.unwrap_or(row.created_at),
                expires_at: row.expires_at,
            })
            .collect())
    }

    /// Revokes one of the caller's sessions, by its public id; returns it (to close its
    /// connections).
    pub async fn revoke_own(&self, identity: &Identity, id: &str) -> Result<SessionId, AuthError> {
        let (_, row) = self
            .live_sessions(identity)
            .await?
            .into_iter()
            .find(|(public, _)| public == id)
            .ok_or(AuthError::NoSuchSession)?;
        self.store.sessions().delete(&row.token_hash).await?;
        Ok(SessionId(row.token_hash))
    }

    /// Revokes every session of the caller's but the one in use.
    pub async fn revoke_others(&self, identity: &Identity) -> Result<Vec<SessionId>, AuthError> {
        let user_id = account_of(identity)?;
        let revoked = self
            .store
            .sessions()
            .delete_of_user_except(user_id, &identity.session.0)
            .await?;
        Ok(revoked.into_iter().map(SessionId).collect())
    }

    /// Remembers the client a session is used from, the first time it is seen.
    pub async fn note_agent(&self, session: &SessionId, user_agent: &str) -> Result<(), AuthError> {
        let agent: String = user_agent.chars().take(256).collect();
        Ok(self.store.sessions().note_agent(&session.0, &agent).await?)
    }
}
