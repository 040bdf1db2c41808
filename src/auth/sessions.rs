//! Sessions, the second half of the identity service: opening one for a login, resolving a
//! token to its identity with sliding expiry, keeping live connections' sessions alive, and
//! revoking them. A session stands for a [`Principal`]; the token goes to the client once and
//! only its hash is stored.

use super::service::Auth;
use super::token::new_secret;
use super::{hash_token, AuthError, Identity, SessionId};
use crate::domain::{Millis, Principal, Role};
use crate::store::GuestRow;

/// How far the expiry may lag behind `now + ttl` before a use pushes it forward; keeps
/// sliding expiry from writing on every request.
const EXTEND_SLACK_MS: Millis = 60_000;

/// A new session: the token goes to the client once; only its hash is stored.
#[derive(Debug)]
pub struct SessionGrant {
    pub token: String,
    pub identity: Identity,
}

impl Auth {
    /// Resolves a session token to its identity, pushing the sliding expiry forward.
    pub async fn resolve(&self, token: &str) -> Result<Identity, AuthError> {
        let now = self.clock.now_millis();
        let session = self
            .store
            .sessions()
            .live(&hash_token(token), now)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        let fresh_expiry = now + self.ttl_millis();
        if fresh_expiry - session.expires_at > EXTEND_SLACK_MS {
            self.store
                .sessions()
                .extend(&session.token_hash, fresh_expiry)
                .await?;
        }
        self.identity(session.principal, SessionId(session.token_hash))
            .await
    }

    /// Pushes a live connection's session expiry forward.
    pub async fn keep_alive(&self, session: &SessionId) -> Result<(), AuthError> {
        let expires_at = self.clock.now_millis() + self.ttl_millis();
        self.store.sessions().extend(&session.0, expires_at).await?;
        Ok(())
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
}
