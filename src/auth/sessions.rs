//! Sessions, the second half of the identity service: opening one for a login, resolving a
//! token to its identity with sliding expiry, keeping live connections' sessions alive, and
//! revoking them. A session stands for a [`Principal`]; the token goes to the client once and
//! only its hash is stored.
//!
//! Sliding expiry: every use pushes the expiry to `now + ttl`, but only once it lags behind
//! that by more than the [`Auth::renewal_interval`] (a quarter of the TTL, at most a minute),
//! so that a busy client does not write on every request — and a session in use always has at
//! least three quarters of its TTL left, however short the TTL. An open real-time connection
//! is use: upkeep renews its session every renewal interval. A session that expired anyway
//! (the server was suspended, the database was away) is never brought back: renewal reports
//! it, and its connections close.

use super::service::Auth;
use super::token::new_secret;
use super::{hash_token, AuthError, Identity, SessionId};
use crate::domain::{Millis, Principal, Role};
use crate::store::GuestRow;
use std::time::Duration;

/// The longest [`Auth::renewal_interval`], whatever the TTL.
const MAX_RENEWAL_INTERVAL: Duration = Duration::from_secs(60);

/// A new session: the token goes to the client once; only its hash is stored.
#[derive(Debug)]
pub struct SessionGrant {
    pub token: String,
    pub identity: Identity,
}

impl Auth {
    /// Resolves a session token to its identity, pushing the sliding expiry forward.
    pub async fn resolve(&self, token: &str) -> Result<Identity, AuthError> {
        self.resolve_from(token, None).await
    }

    /// [`Auth::resolve`], from a client that says what it is (`User-Agent`): the session
    /// remembers the first one, for its owner's list of sessions (a write once per session).
    pub async fn resolve_from(
        &self,
        token: &str,
        user_agent: Option<&str>,
    ) -> Result<Identity, AuthError> {
        let now = self.clock.now_millis();
        let session = self
            .store
            .sessions()
            .live(&hash_token(token), now)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        let fresh_expiry = now + self.ttl_millis();
        if fresh_expiry - session.expires_at > self.renewal_millis()
            && !self
                .store
                .sessions()
                .extend_live(&session.token_hash, now, fresh_expiry)
                .await?
        {
            // It expired (or was revoked) since the read above.
            return Err(AuthError::Unauthenticated);
        }
        if let (None, Some(agent)) = (&session.user_agent, user_agent) {
            self.note_agent(&SessionId(session.token_hash.clone()), agent)
                .await?;
        }
        self.identity(session.principal, SessionId(session.token_hash))
            .await
    }

    /// How often a live connection's session must be renewed (and how far a session's expiry
    /// may lag behind `now + ttl` before a use pushes it): a quarter of the TTL, at most a
    /// minute.
    pub fn renewal_interval(&self) -> Duration {
        (self.settings.session_ttl / 4).clamp(Duration::from_millis(1), MAX_RENEWAL_INTERVAL)
    }

    /// Pushes the expiry of these live connections' sessions to `now + ttl` (one statement
    /// for up to 256). Returns those that had expired or are gone: they stay so, and their
    /// connections must close.
    pub async fn renew_all(&self, sessions: &[SessionId]) -> Result<Vec<SessionId>, AuthError> {
        let now = self.clock.now_millis();
        let hashes: Vec<&str> = sessions.iter().map(|s| s.0.as_str()).collect();
        let renewed = self
            .store
            .sessions()
            .extend_live_many(&hashes, now, now + self.ttl_millis())
            .await?;
        Ok(sessions
            .iter()
            .filter(|s| !renewed.contains(&s.0))
            .cloned()
            .collect())
    }

    /// Revokes one session.
    pub async fn logout(&self, session: &SessionId) -> Result<(), AuthError> {
        self.store.sessions().delete(&session.0).await?;
        Ok(())
    }

    /// Revokes every session of an identity; returns them (to close their connections).
    pub async fn revoke_all(&self, principal: Principal) -> Result<Vec<SessionId>, AuthError> {
        let hashes = match principal {
            Principal::User(id) => self.store.sessions().delete_of_user(id).await?,
            Principal::Guest(id) => self.store.sessions().delete_of_guest(id).await?,
        };
        Ok(hashes.into_iter().map(SessionId).collect())
    }

    /// Deletes expired sessions.
    pub async fn purge_expired(&self) -> Result<u64, AuthError> {
        Ok(self
            .store
            .sessions()
            .purge_expired(self.clock.now_millis())
            .await?)
    }

    /// Records where a guest was last seen (for giving their nick back by IP).
    pub async fn touch_guest(&self, identity: &Identity, ip: &str) -> Result<(), AuthError> {
        if let Principal::Guest(id) = identity.principal {
            self.store
                .guests()
                .touch(id, ip, self.clock.now_millis())
                .await?;
        }
        Ok(())
    }

    pub(super) async fn open_session(
        &self,
        principal: Principal,
        ip: &str,
    ) -> Result<SessionGrant, AuthError> {
        let token = new_secret();
        let token_hash = hash_token(&token);
        let now = self.clock.now_millis();
        self.store
            .sessions()
            .create(&token_hash, principal, ip, now, now + self.ttl_millis())
            .await?;
        let identity = self.identity(principal, SessionId(token_hash)).await?;
        Ok(SessionGrant { token, identity })
    }

    async fn identity(
        &self,
        principal: Principal,
        session: SessionId,
    ) -> Result<Identity, AuthError> {
        match principal {
            Principal::User(id) => {
                let user = self
                    .store
                    .users()
                    .by_id(id)
                    .await?
                    .ok_or(AuthError::Unauthenticated)?;
                Ok(Identity {
                    principal,
                    role: user.role(),
                    name: user.name,
                    session,
                    public_id: None,
                    email: user.email,
                    created_at: user.created_at,
                    verified: user.verified != 0,
                })
            }
            Principal::Guest(id) => {
                let guest: GuestRow = self
                    .store
                    .guests()
                    .by_id(id)
                    .await?
                    .ok_or(AuthError::Unauthenticated)?;
                // A guest's nick may have been registered while the guest was away.
                if self
                    .store
                    .users()
                    .by_name_key(&guest.nick.to_ascii_lowercase())
                    .await?
                    .is_some()
                {
                    return Err(AuthError::NickTaken);
                }
                Ok(Identity {
                    principal,
                    role: Role::User,
                    name: guest.nick,
                    session,
                    public_id: Some(guest.public_id),
                    email: None,
                    created_at: guest.created_at,
                    verified: false,
                })
            }
        }
    }

    fn ttl_millis(&self) -> Millis {
        i64::try_from(self.settings.session_ttl.as_millis()).unwrap_or(i64::MAX / 2)
    }

    fn renewal_millis(&self) -> Millis {
        i64::try_from(self.renewal_interval().as_millis()).unwrap_or(i64::MAX / 2)
    }
}
