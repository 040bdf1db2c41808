//! This node as the bus sees it: what arrives from the bus (room events, directives, other
//! nodes' presence) is applied here to this node's connections, and stored messages a node
//! missed are read back from the database.

use super::bus::Inbound;
use super::directive::Directive;
use super::event::{Event, MessageEvent, UserView};
use super::service::{stored_events, Presence};
use super::{Broadcast, CloseReason, Hub, LiveConnection};
use crate::auth::SessionId;
use crate::domain::Principal;
use crate::moderation::Moderation;
use crate::rooms::Rooms;
use futures_util::future::BoxFuture;
use std::sync::Arc;

pub struct Node {
    pub(super) name: String,
    pub(super) hub: Arc<Hub>,
    pub(super) moderation: Arc<Moderation>,
    pub(super) presence: Presence,
    pub(super) rooms: Arc<Rooms>,
    /// The companion's account: its messages, resent after a gap, keep their bot mark.
    pub(super) bot: Option<i64>,
}

impl Inbound for Node {
    fn deliver(&self, room: &str, broadcast: &Arc<Broadcast>, except: Option<Principal>) {
        self.hub.deliver(room, broadcast, except);
    }

    fn apply(&self, directive: Directive) {
        match directive {
            Directive::Tell { principal, event } => {
                self.hub.deliver_to(principal, &Broadcast::new(event));
            }
            Directive::TellAccounts { event } => {
                self.hub.deliver_to_accounts(&Broadcast::new(event));
            }
            Directive::ClosePrincipal {
                principal,
                reason,
                detail,
            } => self
                .hub
                .close_principal(principal, reason, detail.as_deref()),
            Directive::CloseAddress { ip, reason, detail } => {
                self.hub.close_address(ip, reason, detail.as_deref());
            }
            Directive::CloseSessions { sessions, reason } => {
                let sessions: Vec<SessionId> = sessions.into_iter().map(SessionId).collect();
                self.hub.close_sessions(&sessions, reason);
            }
            Directive::UpdateUser { principal, user } => {
                let event = Broadcast::new(Event::UserUpdated { user: user.clone() });
                for room in self.hub.update_user(principal, &user) {
                    self.hub.deliver(&room, &event, Some(principal));
                }
                self.hub.deliver_to(principal, &event);
            }
            Directive::Renamed {
                principal,
                from,
                user,
            } => {
                let event = Broadcast::new(Event::UserRenamed {
                    from,
                    user: user.clone(),
                });
                for room in self.hub.update_user(principal, &user) {
                    self.hub.deliver(&room, &event, Some(principal));
                }
                // Its own pages learnt the name from their request; they come back under it.
                self.hub
                    .close_principal(principal, CloseReason::Renamed, None);
            }
            Directive::SetIgnore {
                principal,
                name_key,
                ignore,
            } => self.hub.set_ignore(principal, &name_key, ignore),
            Directive::Evict {
                room,
                principal,
                reason,
            } => self.presence.evict_here(&room, principal, reason),
            Directive::CloseRoom { room, reason } => self.presence.close_room_here(&room, reason),
            Directive::EvictGuests { room } => self.presence.evict_guests_here(&room),
            Directive::NodeGone { node } => self.presence.node_gone(&node),
            Directive::CloseConnection { id } => {
                self.hub.close_connection(id, CloseReason::Kicked);
            }
            Directive::SanctionsChanged => {
                let moderation = Arc::clone(&self.moderation);
                tokio::spawn(async move {
                    if let Err(err) = moderation.reload().await {
                        tracing::warn!(error = %err, "cannot reload bans and mutes");
                    }
                });
            }
        }
    }

    fn remote_presence(
        &self,
        room: &str,
        node: &Arc<str>,
        principal: Principal,
        user: Option<UserView>,
    ) {
        self.presence.remote(room, node, principal, user);
    }

    fn connections(&self) -> Vec<LiveConnection> {
        self.hub.live_connections(&self.name)
    }

    fn local_names(&self) -> Vec<(String, Principal)> {
        self.hub.local_names()
    }

    fn local_presence(&self) -> Vec<(String, Principal, UserView)> {
        self.hub.local_presence()
    }

    fn remote_nodes(&self) -> Vec<Arc<str>> {
        self.hub.remote_nodes()
    }

    fn present_here(&self, room: &str) -> bool {
        self.hub.present_here(room)
    }

    fn forget_room(&self, room: &str) {
        self.hub.forget_room(room);
    }

    fn backfill<'a>(
        &'a self,
        room: &'a str,
        after: i64,
        upto: i64,
    ) -> BoxFuture<'a, Result<Vec<MessageEvent>, String>> {
        Box::pin(async move {
            let messages = self
                .rooms
                .history()
                .resend(room, after, upto)
                .await
                .map_err(|err| err.to_string())?;
            Ok(stored_events(room, messages, self.bot))
        })
    }
}
