//! Accounts and sessions as the REST API sees them: registration, login, guests, logout and
//! password changes. Each checks bans first (by name and address) in one place, and revoked
//! sessions close their live connections at once.

use crate::auth::{Account, Auth, Identity, Login, Registered, SessionGrant, SessionId};
use crate::core::event::CloseReason;
use crate::core::{Bus, CoreError, Directive, OnlineRegistry};
use crate::domain::Role;
use crate::moderation::Moderation;
use std::net::IpAddr;
use std::sync::Arc;

/// Refuses a banned identity or address (at `identify`, login, registration, guest join).
pub(crate) fn refuse_banned(
    moderation: &Moderation,
    name: Option<&str>,
    ip: IpAddr,
    role: Role,
) -> Result<(), CoreError> {
    let name_key = name.map(str::to_ascii_lowercase);
    match moderation.ban_on(name_key.as_deref(), &ip.to_string(), role) {
        Some(ban) => Err(CoreError::Banned(ban.reason.unwrap_or_default())),
        None => Ok(()),
    }
}

pub struct Accounts {
    auth: Arc<Auth>,
    moderation: Arc<Moderation>,
    names: OnlineRegistry,
    bus: Arc<dyn Bus>,
}

impl Accounts {
    pub fn new(
        auth: Arc<Auth>,
        moderation: Arc<Moderation>,
        names: OnlineRegistry,
        bus: Arc<dyn Bus>,
    ) -> Self {
        Self {
            auth,
            moderation,
            names,
            bus,
        }
    }

    /// Registers a key account, or a password account that is logged in at once.
    /// Registers an account. From a guest (`upgrading`), the account may take the nick the
    /// guest is online under, and the guest's session ends once the account exists: its pages
    /// carry on as the account (they hold the new session), and nobody else can become that
    /// guest again.
    pub async fn register(
        &self,
        username: &str,
        password: Option<String>,
        email: Option<&str>,
        ip: IpAddr,
        upgrading: Option<&Identity>,
    ) -> Result<Registered, CoreError> {
        refuse_banned(&self.moderation, Some(username), ip, Role::User)?;
        let address = ip.to_string();
        let registered = self
            .auth
            .register(
                username,
                password,
                email,
                &address,
                &self.names,
                upgrading.map(|guest| guest.principal),
            )
            .await?;
        if let Some(guest) = upgrading {
            self.logout(&guest.session).await?;
        }
        Ok(registered)
    }

    /// Checks credentials and opens a session; a banned account's session is closed again.
    pub async fn login(&self, login: Login, ip: IpAddr) -> Result<SessionGrant, CoreError> {
        let grant = self.auth.login(login, &ip.to_string()).await?;
        let identity = &grant.identity;
        if let Err(banned) =
            refuse_banned(&self.moderation, Some(&identity.name), ip, identity.role)
        {
            self.auth.logout(&identity.session).await?;
            return Err(banned);
        }
        Ok(grant)
    }

    /// A new guest identity with its session.
    pub async fn guest(&self, nick: Option<&str>, ip: IpAddr) -> Result<SessionGrant, CoreError> {
        refuse_banned(&self.moderation, nick, ip, Role::User)?;
        Ok(self
            .auth
            .create_guest(nick, &ip.to_string(), &self.names)
            .await?)
    }

    /// Ends a session; its live connections close.
    pub async fn logout(&self, session: &SessionId) -> Result<(), CoreError> {
        self.auth.logout(session).await?;
        self.bus.direct(Directive::CloseSessions {
            sessions: vec![session.0.clone()],
            reason: CloseReason::SessionRevoked,
        });
        Ok(())
    }

    /// Changes the password; every other session ends and its connections close.
    pub async fn change_password(
        &self,
        identity: &Identity,
        current: String,
        new: String,
        ip: IpAddr,
    ) -> Result<SessionGrant, CoreError> {
        let (grant, revoked) = self
            .auth
            .change_password(identity, current, new, &ip.to_string())
            .await?;
        self.bus.direct(Directive::CloseSessions {
            sessions: revoked.into_iter().map(|s| s.0).collect(),
            reason: CloseReason::SessionRevoked,
        });
        Ok(grant)
    }

    /// The identity behind a session token.
    pub async fn resolve(&self, token: &str) -> Result<Identity, CoreError> {
        Ok(self.auth.resolve(token).await?)
    }

    /// [`Accounts::resolve`] from a client naming itself (`User-Agent`, kept once per
    /// session for its owner's list of sessions).
    pub async fn resolve_from(
        &self,
        token: &str,
        user_agent: Option<&str>,
    ) -> Result<Identity, CoreError> {
        Ok(self.auth.resolve_from(token, user_agent).await?)
    }

    /// An account by name.
    pub async fn user(&self, name: &str) -> Result<Option<Account>, CoreError> {
        Ok(self.auth.user_by_name(name).await?)
    }
}
