//! The identity service: register, log in, join as a guest, manage accounts. Sessions (open,
//! resolve, extend, revoke) are in `sessions.rs`, the second half of [`Auth`].

use super::hashing::HashingLimits;
use super::password::{is_argon2_hash, PasswordParams, Passwords};
use super::sessions::SessionGrant;
use super::throttle::{LoginBudget, ThrottleSettings, Throttles};
use super::token::{new_public_id, new_secret};
use super::{hash_token, Account, AuthError, Identity, OnlineNames, SessionId};
use crate::clock::Clock;
use crate::domain::{Email, Name, Principal, Role};
use crate::store::{NewUser, Store, StoreError, UserRow};
use std::sync::Arc;
use std::time::Duration;
use tracing::instrument;

/// The identity rules that come from configuration.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub session_ttl: Duration,
    pub password_min_length: usize,
    pub guest_nick_by_ip: bool,
    /// How long a name given up by a rename stays reserved for its former holder.
    pub name_release: Duration,
    pub throttle: ThrottleSettings,
    /// argon2 cost of new password hashes.
    pub password_hashing: PasswordParams,
    /// How many hashes run at once, and how many wait.
    pub hashing_limits: HashingLimits,
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

/// The identity service. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    pub(super) store: Store,
    pub(super) settings: AuthSettings,
    pub(super) clock: Clock,
    pub(super) passwords: Passwords,
    pub(super) throttles: Arc<Throttles>,
    /// Guests known to have entered rooms (paid for it): a guest's every post in a room would
    /// otherwise read that from the store. Only ever grows by guests who did; a restart
    /// forgets it and the store answers again.
    entered_rooms: Arc<std::sync::Mutex<std::collections::HashSet<i64>>>,
}

impl Auth {
    /// Logs a warning when the password hashing parameters are below OWASP's minimum.
    pub fn new(store: Store, settings: AuthSettings, clock: Clock) -> Self {
        Self {
            throttles: Arc::new(Throttles::new(&settings.throttle, clock.clone())),
            passwords: Passwords::new(settings.password_hashing.clone(), settings.hashing_limits),
            entered_rooms: Arc::default(),
            store,
            settings,
            clock,
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
        upgrading: Option<Principal>,
    ) -> Result<Registered, AuthError> {
        self.throttles.registration(ip).await?;
        let name = Name::parse(username).map_err(|e| AuthError::InvalidUsername(e.to_string()))?;
        let email = email
            .map(|raw| Email::parse(raw).map_err(|_| AuthError::InvalidEmail))
            .transpose()?;
        if let Some(password) = &password {
            self.check_password_rules(password)?;
        }
        // A guest becoming an account may keep the nick they are online under.
        if online.is_taken(&name.key(), upgrading).await || self.name_reserved(&name, None).await? {
            return Err(AuthError::UsernameTaken);
        }
        if let Some(email) = &email {
            if self.store.users().email_registered(&email.key()).await? {
                return Err(AuthError::EmailTaken);
            }
        }
        match password {
            None => {
                let key = new_secret();
                let user = self
                    .insert_user(&name, None, None, Some(&hash_token(&key)), Role::User)
                    .await?;
                self.take_over_guest(upgrading, user.id).await?;
                Ok(Registered::Key { key })
            }
            Some(password) => {
                let hash = self.passwords.hash(password).await?;
                let user = self
                    .insert_user(&name, email.as_ref(), Some(&hash), None, Role::User)
                    .await?;
                self.take_over_guest(upgrading, user.id).await?;
                let grant = self.open_session(Principal::User(user.id), ip).await?;
                Ok(Registered::Password(grant))
            }
        }
    }

    /// A guest registering keeps what it had as a guest: the ephemeral rooms it hosts or sits
    /// in, and its own messages and files (see `Guests::hand_over`).
    async fn take_over_guest(
        &self,
        upgrading: Option<Principal>,
        user_id: i64,
    ) -> Result<(), AuthError> {
        if let Some(Principal::Guest(guest_id)) = upgrading {
            self.store.guests().hand_over(guest_id, user_id).await?;
        }
        Ok(())
    }

    /// Creates an account from the command line, or updates the password and role of an
    /// existing one.
    #[instrument(skip_all)]
    pub async fn upsert_user(
        &self,
        username: &str,
        password: String,
        role: Role,
    ) -> Result<Account, AuthError> {
        self.check_password_rules(&password)?;
        let hash = self.passwords.hash(password).await?;
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
            .users()
            .by_name_key(&name.to_ascii_lowercase())
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
                self.passwords
                    .verify(user.password_hash, password.to_owned())
                    .await?
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
    ) -> Result<Account, AuthError> {
        let name = Name::parse(username).map_err(|e| AuthError::InvalidUsername(e.to_string()))?;
        if !is_argon2_hash(hash) {
            return Err(AuthError::Hashing("not an argon2 PHC string".into()));
        }
        let users = self.store.users();
        if let Some(existing) = users.by_name_key(&name.key()).await? {
            users.reset_credentials(existing.id, hash, role).await?;
            let updated = users.by_id(existing.id).await?.unwrap_or(existing);
            return Ok(updated.into());
        }
        Ok(self
            .insert_user(&name, None, Some(hash), None, role)
            .await?
            .into())
    }

    /// Checks credentials and opens a session. Failures spend the budget of the account the
    /// identifier names (by user name or by e-mail alike), see [`LoginBudget`].
    #[instrument(skip_all)]
    pub async fn login(&self, login: Login, ip: &str) -> Result<SessionGrant, AuthError> {
        let (budget, user) = match login {
            Login::Key(key) => {
                let budget = LoginBudget::AddressOnly;
                self.throttles.check_login(&budget, ip).await?;
                let user = self.store.users().by_key_hash(&hash_token(&key)).await?;
                (budget, user)
            }
            Login::Password { login, password } => {
                let folded = login.trim().to_lowercase();
                let user = self.store.users().by_login(&folded).await?;
                let budget = match &user {
                    Some(user) => LoginBudget::Account(user.id),
                    None => LoginBudget::Unknown(folded),
                };
                self.throttles.check_login(&budget, ip).await?;
                // Unknown users are checked against a dummy hash: the answer takes as long.
                let stored = user.as_ref().and_then(|u| u.password_hash.clone());
                if !self.passwords.verify(stored, password).await? {
                    self.throttles.login_failed(&budget, ip).await;
                    return Err(AuthError::InvalidCredentials);
                }
                (budget, user)
            }
        };
        let Some(user) = user else {
            self.throttles.login_failed(&budget, ip).await;
            return Err(AuthError::InvalidCredentials);
        };
        self.throttles.login_succeeded(&budget, ip).await;
        self.open_session(Principal::User(user.id), ip).await
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
            .guests()
            .create(&new_public_id(), nick.as_str(), ip, self.clock.now_millis())
            .await?;
        self.open_session(Principal::Guest(guest.id), ip).await
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
        let user = self.account_row(user_id).await?;
        let Some(stored) = user.password_hash else {
            return Err(AuthError::NoPassword);
        };
        if !self.passwords.verify(Some(stored), current).await? {
            return Err(AuthError::InvalidCredentials);
        }
        self.check_password_rules(&new)?;
        let hash = self.passwords.hash(new).await?;
        let revoked = self.store.users().set_password(user_id, &hash).await?;
        let grant = self.open_session(identity.principal, ip).await?;
        Ok((grant, revoked.into_iter().map(SessionId).collect()))
    }

    /// A registered account, by name.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<Account>, AuthError> {
        let user = self
            .store
            .users()
            .by_name_key(&name.to_ascii_lowercase())
            .await?;
        Ok(user.map(Account::from))
    }

    /// Accounts whose name contains `query` (case-insensitive), by name: a page.
    pub async fn search_users(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Account>, AuthError> {
        let rows = self.store.users().search(query, limit, offset).await?;
        Ok(rows.into_iter().map(Account::from).collect())
    }

    /// Deletes an account with its sessions.
    pub async fn delete_account(&self, user_id: i64) -> Result<(), AuthError> {
        self.store.sessions().delete_of_user(user_id).await?;
        self.store.users().delete(user_id).await?;
        Ok(())
    }

    /// The address an identity last signed in from.
    pub async fn last_address(&self, principal: Principal) -> Result<Option<String>, AuthError> {
        Ok(self.store.sessions().last_ip(principal).await?)
    }

    pub async fn is_verified(&self, user_id: i64) -> Result<bool, AuthError> {
        let user = self.store.users().by_id(user_id).await?;
        Ok(user.is_some_and(|u| u.verified != 0))
    }

    /// Counts a guest's new ephemeral room against its address's registration budget: a room
    /// without an account costs what an account does, so hosting cannot be scripted faster
    /// than registering.
    pub async fn guest_hosting(&self, ip: &str) -> Result<(), AuthError> {
        self.throttles.registration(ip).await
    }

    /// A guest's first step into a persistent room (a join or a post) costs its address one
    /// registration, once per guest: a room's history cannot be flooded through guests made
    /// faster than accounts.
    pub async fn guest_enters_rooms(&self, guest_id: i64, ip: &str) -> Result<(), AuthError> {
        if self
            .entered_rooms
            .lock()
            .is_ok_and(|ids| ids.contains(&guest_id))
        {
            return Ok(());
        }
        if !self.store.guests().entered_rooms(guest_id).await? {
            self.throttles.registration(ip).await?;
            self.store
                .guests()
                .enter_rooms(guest_id, self.clock.now_millis())
                .await?;
        }
        if let Ok(mut ids) = self.entered_rooms.lock() {
            ids.insert(guest_id);
        }
        Ok(())
    }

    /// Refuses a room-code guess from an address that has guessed wrong too often.
    pub async fn check_code_guess(&self, ip: &str) -> Result<(), AuthError> {
        self.throttles.check_guess(ip).await
    }

    /// Counts a wrong room-code guess against the address.
    pub async fn code_guess_failed(&self, ip: &str) {
        self.throttles.guess_failed(ip).await;
    }

    /// Shares the login, registration and code-guess windows with the other nodes.
    pub fn share_throttles(&self, shared: Arc<dyn super::SharedWindows>) {
        self.throttles.share(shared);
    }

    /// Forgets login and registration windows nobody has used for a while.
    pub fn forget_idle_throttles(&self) {
        self.throttles.forget_idle();
    }

    /// Whether a name an account gave up is still reserved for it (`except`: that account
    /// may take it back).
    pub(super) async fn name_reserved(
        &self,
        name: &Name,
        except: Option<i64>,
    ) -> Result<bool, AuthError> {
        Ok(self
            .store
            .profiles()
            .reserved(&name.key(), except, self.clock.now_millis())
            .await?)
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
            created_at: self.clock.now_millis(),
        };
        self.store.users().create(new).await.map_err(|e| match e {
            StoreError::Conflict(what) if what.contains("email") => AuthError::EmailTaken,
            StoreError::Conflict(_) => AuthError::UsernameTaken,
            other => other.into(),
        })
    }

    async fn nick_is_free(&self, nick: &Name, online: &dyn OnlineNames) -> Result<bool, AuthError> {
        let key = nick.key();
        Ok(!online.is_taken(&key, None).await
            && self.store.users().by_name_key(&key).await?.is_none()
            && !self.name_reserved(nick, None).await?)
    }

    async fn pick_guest_nick(&self, ip: &str, online: &dyn OnlineNames) -> Result<Name, AuthError> {
        if self.settings.guest_nick_by_ip {
            for previous in self.store.guests().recent_nicks(ip, 5).await? {
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
}
