//! The identity service: register, log in, join as a guest, resolve and revoke sessions.

use super::password::{is_argon2_hash, verify_password};
use super::throttle::{ThrottleSettings, Throttles};
use super::token::{new_public_id, new_secret};
use super::{hash_password, hash_token, AuthError, Identity, OnlineNames, SessionId};
use crate::domain::{now_millis, Email, Millis, Name, Role};
use crate::store::{GuestRow, NewUser, Principal, Store, StoreError, UserRow};
use std::sync::Arc;
use std::time::Duration;
use tracing::instrument;

/// The identity rules that come from configuration.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub session_ttl: Duration,
    pub password_min_length: usize,
    pub guest_nick_by_ip: bool,
    pub throttle: ThrottleSettings,
}

/// A new session: the token goes to the client once; only its hash is stored.
#[derive(Debug)]
pub struct SessionGrant {
    pub token: String,
    pub identity: Identity,
}

/// What registration produced.
#[derive(Debug)]
pub enum Registered {
    /// A key account: the secret key, shown this once.
    Key { key: String },
    /// A password account, already logged in.
    Password(SessionGrant),
}

/// Credentials offered at login.
pub enum Login {
    Key(String),
    Password { login: String, password: String },
}

/// How far the expiry may lag behind `now + ttl` before a use pushes it forward; keeps
/// sliding expiry from writing on every request.
const EXTEND_SLACK_MS: Millis = 60_000;

/// The identity service. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    store: Store,
    settings: AuthSettings,
    throttles: Arc<Throttles>,
}

impl Auth {
    pub fn new(store: Store, settings: AuthSettings) -> Self {
        Self {
            throttles: Arc::new(Throttles::new(&settings.throttle)),
            store,
            settings,
        }
    }

    /// Registers a key account (no password) or a password account (logged in at once).
    #[instrument(skip_all)]
    pub async fn register(
        &self,
        username: &str,
        password: Option<String>,
        email: Option<&str>,
        ip: &str,
        online: &dyn OnlineNames,
    ) -> Result<Registered, AuthError> {
        self.throttles.registration(ip)?;
        let name = Name::parse(username).map_err(|e| AuthError::InvalidUsername(e.to_string()))?;
        let email = email
            .map(|raw| Email::parse(raw).map_err(|_| AuthError::InvalidEmail))
            .transpose()?;
        if let Some(password) = &password {
            self.check_password_rules(password)?;
        }
        if online.is_taken(&name.key(), None) {
            return Err(AuthError::UsernameTaken);
        }
        if let Some(email) = &email {
            if self.store.email_registered(&email.key()).await? {
                return Err(AuthError::EmailTaken);
            }
        }
        match password {
            None => {
                let key = new_secret();
                self.insert_user(&name, None, None, Some(&hash_token(&key)), Role::User)
                    .await?;
                Ok(Registered::Key { key })
            }
            Some(password) => {
                let hash = hash_password(password).await?;
                let user = self
                    .insert_user(&name, email.as_ref(), Some(&hash), None, Role::User)
                    .await?;
                let grant = self.open_session(Principal::User(user.id), ip).await?;
                Ok(Registered::Password(grant))
            }
        }
    }

    /// Creates an account from the command line, or updates the password and role of an
    /// existing one.
    #[instrument(skip_all)]
    pub async fn upsert_user(
        &self,
        username: &str,
        password: String,
        role: Role,
    ) -> Result<UserRow, AuthError> {
        self.check_password_rules(&password)?;
        let hash = hash_password(password).await?;
        self.upsert_user_with_hash(username, &hash, role).await
    }

    /// Whether `name` is already a root account with this hash (or, without one, password).
    pub async fn is_root_with(
        &self,
        name: &str,
        hash: Option<&str>,
        password: Option<&str>,
    ) -> Result<bool, AuthError> {
        let Some(user) = self
            .store
            .user_by_name_key(&name.to_ascii_lowercase())
            .await?
        else {
            return Ok(false);
        };
        if user.role() != Role::Root {
            return Ok(false);
        }
        Ok(match (hash, password) {
            (Some(hash), _) => user.password_hash.as_deref() == Some(hash),
            (None, Some(password)) => {
                verify_password(user.password_hash, password.to_owned()).await
            }
            (None, None) => false,
        })
    }

    /// As [`Auth::upsert_user`], with an argon2 PHC hash instead of the password.
    pub async fn upsert_user_with_hash(
        &self,
        username: &str,
        hash: &str,
        role: Role,
    ) -> Result<UserRow, AuthError> {
        let name = Name::parse(username).map_err(|e| AuthError::InvalidUsername(e.to_string()))?;
        if !is_argon2_hash(hash) {
            return Err(AuthError::Hashing("not an argon2 PHC string".into()));
        }
        if let Some(existing) = self.store.user_by_name_key(&name.key()).await? {
            self.store.set_password_hash(existing.id, hash).await?;
            self.store.set_role(existing.id, role).await?;
            self.store.delete_user_sessions(existing.id).await?;
            return Ok(self
                .store
                .user_by_id(existing.id)
                .await?
                .unwrap_or(existing));
        }
        self.insert_user(&name, None, Some(hash), None, role).await
    }

    /// Checks credentials and opens a session.
    #[instrument(skip_all)]
    pub async fn login(&self, login: Login, ip: &str) -> Result<SessionGrant, AuthError> {
        let account = match &login {
            Login::Key(_) => String::from("(key)"),
            Login::Password { login, .. } => login.trim().to_lowercase(),
        };
        self.throttles.check_login(&account, ip)?;
        match self.check_credentials(login).await {
            Ok(user) => {
                self.throttles.login_succeeded(&account, ip);
                self.open_session(Principal::User(user.id), ip).await
            }
            Err(err) => {
                if matches!(err, AuthError::InvalidCredentials) {
                    self.throttles.login_failed(&account, ip);
                }
                Err(err)
            }
        }
    }

    async fn check_credentials(&self, login: Login) -> Result<UserRow, AuthError> {
        let user = match login {
            Login::Key(key) => self.store.user_by_key_hash(&hash_token(&key)).await?,
            Login::Password { login, password } => {
                let user = self
                    .store
                    .user_by_login(&login.trim().to_lowercase())
                    .await?;
                let stored = user.as_ref().and_then(|u| u.password_hash.clone());
                if !verify_password(stored, password).await {
                    return Err(AuthError::InvalidCredentials);
                }
                user
            }
        };
        user.ok_or(AuthError::InvalidCredentials)
    }

    /// Creates a guest identity. Without a nick, a guest from the same IP gets a nick it used
    /// before (when enabled and free), anyone else a generated `guest-xxxx`.
    #[instrument(skip_all)]
    pub async fn create_guest(
        &self,
        nick: Option<&str>,
        ip: &str,
        online: &dyn OnlineNames,
    ) -> Result<SessionGrant, AuthError> {
        let nick = match nick {
            Some(raw) => {
                let nick = Name::parse(raw).map_err(|e| AuthError::InvalidNick(e.to_string()))?;
                if !self.nick_is_free(&nick, online).await? {
                    return Err(AuthError::NickTaken);
                }
                nick
            }
            None => self.pick_guest_nick(ip, online).await?,
        };
        let guest = self
            .store
            .create_guest(&new_public_id(), nick.as_str(), ip, now_millis())
            .await?;
        self.open_session(Principal::Guest(guest.id), ip).await
    }

    /// Resolves a session token to its identity, pushing the sliding expiry forward.
    pub async fn resolve(&self, token: &str) -> Result<Identity, AuthError> {
        let now = now_millis();
        let session = self
            .store
            .live_session(&hash_token(token), now)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        let fresh_expiry = now + self.ttl_millis();
        if fresh_expiry - session.expires_at > EXTEND_SLACK_MS {
            self.store
                .extend_session(&session.token_hash, fresh_expiry)
                .await?;
        }
        self.identity(session.principal, SessionId(session.token_hash))
            .await
    }

    /// Pushes a live connection's session expiry forward.
    pub async fn keep_alive(&self, session: &SessionId) -> Result<(), AuthError> {
        let expires_at = now_millis() + self.ttl_millis();
        self.store.extend_session(&session.0, expires_at).await?;
        Ok(())
    }

    /// Revokes one session.
    pub async fn logout(&self, session: &SessionId) -> Result<(), AuthError> {
        self.store.delete_session(&session.0).await?;
        Ok(())
    }

    /// Changes a password after checking the current one. Every session of the account is
    /// revoked (returned, so live connections can be closed) and a fresh one is opened.
    #[instrument(skip_all)]
    pub async fn change_password(
        &self,
        identity: &Identity,
        current: String,
        new: String,
        ip: &str,
    ) -> Result<(SessionGrant, Vec<SessionId>), AuthError> {
        let Principal::User(user_id) = identity.principal else {
            return Err(AuthError::NoPassword);
        };
        let user = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        let Some(stored) = user.password_hash else {
            return Err(AuthError::NoPassword);
        };
        if !verify_password(Some(stored), current).await {
            return Err(AuthError::InvalidCredentials);
        }
        self.check_password_rules(&new)?;
        let hash = hash_password(new).await?;
        self.store.set_password_hash(user_id, &hash).await?;
        let revoked = self.store.delete_user_sessions(user_id).await?;
        let grant = self.open_session(identity.principal, ip).await?;
        Ok((grant, revoked.into_iter().map(SessionId).collect()))
    }

    /// A registered user's stored account, by name.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>, AuthError> {
        Ok(self
            .store
            .user_by_name_key(&name.to_ascii_lowercase())
            .await?)
    }

    /// Revokes every session of an identity; returns them (to close their connections).
    pub async fn revoke_all(&self, principal: Principal) -> Result<Vec<SessionId>, AuthError> {
        let hashes = match principal {
            Principal::User(id) => self.store.delete_user_sessions(id).await?,
            Principal::Guest(id) => self.store.delete_guest_sessions(id).await?,
        };
        Ok(hashes.into_iter().map(SessionId).collect())
    }

    /// Deletes an account with its sessions.
    pub async fn delete_account(&self, user_id: i64) -> Result<(), AuthError> {
        self.store.delete_user_sessions(user_id).await?;
        self.store.delete_user(user_id).await?;
        Ok(())
    }

    /// The address an identity last signed in from.
    pub async fn last_address(&self, principal: Principal) -> Result<Option<String>, AuthError> {
        Ok(self.store.last_session_ip(principal).await?)
    }

    pub async fn is_verified(&self, user_id: i64) -> Result<bool, AuthError> {
        let user = self.store.user_by_id(user_id).await?;
        Ok(user.is_some_and(|u| u.verified != 0))
    }

    /// Refuses a room-code guess from an address that has guessed wrong too often.
    pub fn check_code_guess(&self, ip: &str) -> Result<(), AuthError> {
        self.throttles.check_guess(ip)
    }

    /// Counts a wrong room-code guess against the address.
    pub fn code_guess_failed(&self, ip: &str) {
        self.throttles.guess_failed(ip);
    }

    /// Forgets login and registration windows nobody has used for a while.
    pub fn forget_idle_throttles(&self) {
        self.throttles.forget_idle();
    }

    /// Deletes expired sessions.
    pub async fn purge_expired(&self) -> Result<u64, AuthError> {
        Ok(self.store.purge_expired_sessions(now_millis()).await?)
    }

    /// Records where a guest was last seen (for giving their nick back by IP).
    pub async fn touch_guest(&self, identity: &Identity, ip: &str) -> Result<(), AuthError> {
        if let Principal::Guest(id) = identity.principal {
            self.store.touch_guest(id, ip, now_millis()).await?;
        }
        Ok(())
    }

    async fn open_session(
        &self,
        principal: Principal,
        ip: &str,
    ) -> Result<SessionGrant, AuthError> {
        let token = new_secret();
        let token_hash = hash_token(&token);
        let now = now_millis();
        self.store
            .create_session(&token_hash, principal, ip, now, now + self.ttl_millis())
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
                    .user_by_id(id)
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
                    .guest_by_id(id)
                    .await?
                    .ok_or(AuthError::Unauthenticated)?;
                // A guest's nick may have been registered while the guest was away.
                if self
                    .store
                    .user_by_name_key(&guest.nick.to_ascii_lowercase())
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

    async fn insert_user(
        &self,
        name: &Name,
        email: Option<&Email>,
        password_hash: Option<&str>,
        key_hash: Option<&str>,
        role: Role,
    ) -> Result<UserRow, AuthError> {
        let email_key = email.map(Email::key);
        let new = NewUser {
            name: name.as_str(),
            name_key: &name.key(),
            email: email
                .zip(email_key.as_deref())
                .map(|(e, k)| (e.as_str(), k)),
            password_hash,
            key_hash,
            role,
            created_at: now_millis(),
        };
        self.store.create_user(new).await.map_err(|e| match e {
            StoreError::Conflict(what) if what.contains("email") => AuthError::EmailTaken,
            StoreError::Conflict(_) => AuthError::UsernameTaken,
            other => other.into(),
        })
    }

    async fn nick_is_free(&self, nick: &Name, online: &dyn OnlineNames) -> Result<bool, AuthError> {
        let key = nick.key();
        Ok(!online.is_taken(&key, None) && self.store.user_by_name_key(&key).await?.is_none())
    }

    async fn pick_guest_nick(&self, ip: &str, online: &dyn OnlineNames) -> Result<Name, AuthError> {
        if self.settings.guest_nick_by_ip {
            for previous in self.store.recent_guest_nicks(ip, 5).await? {
                if let Ok(nick) = Name::parse(&previous) {
                    if self.nick_is_free(&nick, online).await? {
                        return Ok(nick);
                    }
                }
            }
        }
        loop {
            let suffix: String = new_public_id()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(4)
                .collect();
            if let Ok(nick) = Name::parse(&format!("guest-{}", suffix.to_ascii_lowercase())) {
                if self.nick_is_free(&nick, online).await? {
                    return Ok(nick);
                }
            }
        }
    }

    fn check_password_rules(&self, password: &str) -> Result<(), AuthError> {
        if password.chars().count() < self.settings.password_min_length {
            return Err(AuthError::PasswordTooShort(
                self.settings.password_min_length,
            ));
        }
        Ok(())
    }

    fn ttl_millis(&self) -> Millis {
        i64::try_from(self.settings.session_ttl.as_millis()).unwrap_or(i64::MAX / 2)
    }
}
