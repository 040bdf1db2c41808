//! Connections and who is behind them: opening and closing connections, `identify` (a token,
//! a new guest nick, or the connection's own cookie), one name per identity online, the cap on
//! connections per address, keeping the sessions of open connections alive, and closing
//! connections when their sessions are revoked or expire, when they do not identify in time, or
//! when the server stops.

use super::accounts::refuse_banned;
use super::identify_watch::IdentifyWatch;
use super::{Ignores, Presence};
use crate::auth::{Auth, AuthError, Identity, SessionId};
use crate::clock::Clock;
use crate::core::command::Identify;
use crate::core::event::{CloseReason, UserView};
use crate::core::{Bus, ConnInfo, Connection, CoreError, Directive, Hub, OnlineRegistry, Outbox};
use crate::domain::Principal;
use crate::moderation::Moderation;
use serde::Serialize;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Sessions renewed per database statement, and the pause between two such statements.
const RENEWALS_AT_ONCE: usize = 256;
const RENEWAL_PAUSE: Duration = Duration::from_millis(20);

/// The reply to `identify`: who the connection now is, and a new guest's session token.
#[derive(Debug, Serialize)]
pub struct Identified {
    pub user: Option<UserView>,
    pub token: Option<String>,
}

/// How long a connection may stay without identifying, on which clock.
#[derive(Clone, Debug)]
pub struct IdentifyDeadline {
    pub clock: Clock,
    pub after: Duration,
}

pub struct Sessions {
    auth: Arc<Auth>,
    moderation: Arc<Moderation>,
    hub: Arc<Hub>,
    names: OnlineRegistry,
    bus: Arc<dyn Bus>,
    presence: Presence,
    ignores: Ignores,
    outbound_queue: usize,
    /// Open connections allowed per client address (0: no limit).
    max_per_address: usize,
    identify: IdentifyWatch,
    next_conn: AtomicU64,
}

impl Sessions {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        auth: Arc<Auth>,
        moderation: Arc<Moderation>,
        hub: Arc<Hub>,
        names: OnlineRegistry,
        bus: Arc<dyn Bus>,
        presence: Presence,
        ignores: Ignores,
        outbound_queue: usize,
        max_per_address: usize,
        identify: IdentifyDeadline,
    ) -> Self {
        Self {
            auth,
            moderation,
            names,
            bus,
            presence,
            ignores,
            outbound_queue,
            max_per_address,
            identify: IdentifyWatch::new(identify, Arc::clone(&hub)),
            hub,
            next_conn: AtomicU64::new(1),
        }
    }

    /// Gives out connection ids from `first` on (unique in the cluster: see
    /// `ChatSettings::first_connection_id`). Before any connection opens.
    pub(crate) fn number_from(&self, first: u64) {
        self.next_conn.store(first, Ordering::Relaxed);
    }

    /// Whether another connection from this address is allowed.
    pub fn admits_connection_from(&self, ip: IpAddr) -> bool {
        self.max_per_address == 0 || self.hub.connections_from(ip) < self.max_per_address
    }

    /// Opens a connection: the framing keeps the [`Connection`] in its reader and gives the
    /// [`Outbox`] to its writer.
    pub fn open(&self, info: ConnInfo) -> (Connection, Outbox) {
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (conn, outbox) = Connection::open(id, info, self.outbound_queue);
        self.hub.register(Arc::clone(&conn.handle), conn.info.ip);
        self.identify.watch(&conn.handle);
        (conn, outbox)
    }

    /// Ends a connection: leaves its rooms (telling the others), releases its name.
    pub fn close(&self, conn: Connection) {
        self.presence.leave_all(&conn);
        if let Some(identity) = &conn.identity {
            self.names.release(&identity.name_key());
        }
        self.hub.unregister(conn.id());
    }

    /// The `identify` command.
    pub async fn identify(
        &self,
        conn: &mut Connection,
        identify: Identify,
    ) -> Result<Identified, CoreError> {
        if conn.identity.is_some() {
            return Err(CoreError::AlreadyIdentified);
        }
        let ip = conn.ip();
        let (identity, new_token) = if let Some(token) = identify.token {
            (self.auth.resolve(&token).await?, None)
        } else if let Some(nick) = identify.nick {
            refuse_banned(&self.moderation, Some(&nick), ip, crate::domain::Role::User)?;
            let grant = self
                .auth
                .create_guest(Some(&nick), &ip.to_string(), &self.names)
                .await?;
            (grant.identity, Some(grant.token))
        } else if let Some(token) = conn.info.credential.clone() {
            (self.auth.resolve(&token).await?, None)
        } else {
            return Err(AuthError::Unauthenticated.into());
        };
        self.bind(conn, identity).await?;
        if let Some(identity) = &conn.identity {
            if let Err(err) = self.auth.touch_guest(identity, &ip.to_string()).await {
                tracing::warn!(error = %err, "could not record guest activity");
            }
        }
        Ok(Identified {
            user: conn.identity.as_ref().map(UserView::from),
            token: new_token,
        })
    }

    /// Binds an already resolved identity to a connection (the `/ws` framing resolves the
    /// cookie before upgrading).
    pub async fn bind(&self, conn: &mut Connection, identity: Identity) -> Result<(), CoreError> {
        refuse_banned(
            &self.moderation,
            Some(&identity.name),
            conn.ip(),
            identity.role,
        )?;
        self.ignores.load(&identity).await?;
        if !self.names.claim(&identity, conn.id()).await {
            return Err(CoreError::NickTaken);
        }
        tracing::info!(conn = conn.id(), kind = ?identity.kind(), "identified");
        conn.identity = Some(identity);
        Ok(())
    }

    /// Takes the one `/ws` slot of an identity, on whichever node; `false` if it is taken.
    pub async fn take_simple_slot(&self, principal: Principal) -> bool {
        self.bus.take_slot(principal).await
    }

    pub fn free_simple_slot(&self, principal: Principal) {
        self.bus.free_slot(principal);
    }

    /// Closes the live connections of revoked sessions, on every node.
    pub fn revoke(&self, sessions: &[SessionId]) {
        self.bus.direct(Directive::CloseSessions {
            sessions: sessions.iter().map(|s| s.0.clone()).collect(),
            reason: CloseReason::SessionRevoked,
        });
    }

    /// How often [`Sessions::renew_live`] must run for open connections to keep their
    /// sessions.
    pub fn renewal_interval(&self) -> std::time::Duration {
        self.auth.renewal_interval()
    }

    /// Renews the session of every identified connection (an open connection is use); closes
    /// the connections of sessions that expired anyway or are gone (`closing:
    /// session_expired`). Returns how many sessions ended.
    ///
    /// A few hundred at a time, with a pause between: the database's work for 10 000 sessions
    /// (about 0.1 s) would otherwise run at once on the core the fan-outs use, and hold back
    /// the messages that arrive meanwhile. A round of 10 000 takes about a second this way;
    /// rounds are a minute apart.
    pub async fn renew_live(&self) -> usize {
        let live = self.hub.live_sessions();
        let mut ended = Vec::new();
        for (i, chunk) in live.chunks(RENEWALS_AT_ONCE).enumerate() {
            if i > 0 {
                tokio::time::sleep(RENEWAL_PAUSE).await;
            }
            match self.auth.renew_all(chunk).await {
                Ok(gone) => ended.extend(gone),
                // None of these is known to have expired: try again next round.
                Err(err) => tracing::warn!(error = %err, "could not renew live sessions"),
            }
        }
        if !ended.is_empty() {
            tracing::info!(
                sessions = ended.len(),
                "expired sessions' connections closed"
            );
            self.hub.close_sessions(&ended, CloseReason::SessionExpired);
        }
        ended.len()
    }

    /// Tells every connection the server is stopping and closes it.
    pub fn shutdown(&self) {
        self.hub.close_all(CloseReason::Shutdown);
    }
}
