//! Moderation, live: who a name stands for (an account, an online guest, or just a name), and
//! the effects of each action at once — closing connections, revoking sessions, notices where
//! the action happened, refreshed badges. The rules (who may act on whom, what is stored) are
//! the [`Moderation`](crate::moderation::Moderation) service's.

use super::FileSweep;
use super::Presence;
use crate::auth::{Auth, IdentityKind};
use crate::core::command::{
    Ban, DeleteUser, ModTarget, MoveUser, Mute, SetRole, Unban, Unmute, Verify,
};
use crate::core::event::{CloseReason, Event, RemovedReason, UserView};
use crate::core::{Broadcast, Bus, Connection, CoreError, Directive, Hub, OnlineRegistry};
use crate::domain::Principal;
use crate::domain::{Name, Role, RoomName};
use crate::moderation::{Actor, Moderation, ModerationError, Target};
use crate::rooms::{RoomError, Rooms};
use std::net::IpAddr;
use std::sync::Arc;

/// The identity behind a connection, acting from the connection's address.
pub fn actor(conn: &Connection) -> Result<Actor<'_>, CoreError> {
    Ok(Actor {
        identity: conn.identified()?,
        ip: conn.ip().to_string(),
        room: None,
    })
}

pub struct LiveModeration {
    moderation: Arc<Moderation>,
    auth: Arc<Auth>,
    rooms: Arc<Rooms>,
    hub: Arc<Hub>,
    names: OnlineRegistry,
    bus: Arc<dyn Bus>,
    presence: Presence,
    sweep: FileSweep,
}

impl LiveModeration {
    pub fn new(
        moderation: Arc<Moderation>,
        auth: Arc<Auth>,
        rooms: Arc<Rooms>,
        hub: Arc<Hub>,
        bus: Arc<dyn Bus>,
        presence: Presence,
        sweep: FileSweep,
    ) -> Self {
        Self {
            moderation,
            auth,
            rooms,
            names: OnlineRegistry::new(Arc::clone(&hub), Arc::clone(&bus)),
            hub,
            bus,
            presence,
            sweep,
        }
    }

    /// Whom a name stands for: an account, else an online guest, else (when `any_name`) just
    /// the name.
    async fn target(&self, name: &Name, any_name: bool) -> Result<Target, CoreError> {
        if let Some(user) = self.auth.user_by_name(name.as_str()).await? {
            return Ok(Target {
                role: user.role,
                principal: Some(Principal::User(user.id)),
                name: user.name,
            });
        }
        let online = self.names.holder(&name.key()).await;
        if online.is_none() && !any_name {
            return Err(ModerationError::NoSuchUser.into());
        }
        Ok(Target {
            name: name.to_string(),
            principal: online,
            role: Role::User,
        })
    }

    /// A system notice in the room where an action happened (the lobby by default).
    fn notice(&self, room: Option<RoomName>, text: String) {
        let room = room.unwrap_or_else(RoomName::lobby);
        let event = Event::Notice {
            room: room.to_string(),
            text,
        };
        self.bus.publish(room.as_str(), Broadcast::new(event), None);
    }

    pub async fn kick(&self, actor: &Actor<'_>, kick: ModTarget) -> Result<(), CoreError> {
        let actor = &actor.in_room(kick.room.as_ref().map(RoomName::as_str));
        let target = self.target(&kick.user, false).await?;
        self.moderation
            .kick(actor, &target, kick.reason.as_deref())
            .await?;
        if let Some(principal) = target.principal {
            self.bus.direct(Directive::ClosePrincipal {
                principal,
                reason: CloseReason::Kicked,
                detail: kick.reason.clone(),
            });
        }
        let text = format!("{} was kicked by {}", target.name, actor.identity.name);
        self.notice(kick.room, with_reason(text, kick.reason.as_deref()));
        Ok(())
    }

    /// Bans a name (and, with `with_ip`, the address it uses), or an address alone. The
    /// target's sessions are revoked and matching connections close at once.
    pub async fn ban(&self, actor: &Actor<'_>, ban: Ban) -> Result<(), CoreError> {
        let actor = &actor.in_room(ban.room.as_ref().map(RoomName::as_str));
        let target = match &ban.user {
            Some(name) => Some(self.target(name, true).await?),
            None => None,
        };
        let address = match (ban.ip, ban.with_ip, &target) {
            (Some(ip), _, _) => Some(ip),
            (
                None,
                true,
                Some(Target {
                    principal: Some(p), ..
                }),
            ) => self.last_address(*p).await?,
            (None, true, _) => return Err(ModerationError::NoKnownAddress.into()),
            (None, false, _) => None,
        };
        let ip_text = address.map(|ip| ip.to_string());
        self.moderation
            .ban(
                actor,
                target.as_ref(),
                ip_text.as_deref(),
                ban.reason.as_deref(),
                ban.duration_secs,
            )
            .await?;
        self.bus.direct(Directive::SanctionsChanged);
        if let Some(Target {
            principal: Some(principal),
            ..
        }) = &target
        {
            self.bus.direct(Directive::ClosePrincipal {
                principal: *principal,
                reason: CloseReason::Banned,
                detail: ban.reason.clone(),
            });
            self.auth.revoke_all(*principal).await?;
        }
        if let Some(ip) = address {
            self.bus.direct(Directive::CloseAddress {
                ip,
                reason: CloseReason::Banned,
                detail: ban.reason.clone(),
            });
        }
        let banned = target
            .as_ref()
            .map_or_else(|| "an address".to_owned(), |t| t.name.clone());
        let text = format!("{banned} was banned by {}", actor.identity.name);
        self.notice(ban.room, with_reason(text, ban.reason.as_deref()));
        Ok(())
    }

    /// The address an identity uses now, or last signed in from.
    async fn last_address(&self, principal: Principal) -> Result<Option<IpAddr>, CoreError> {
        if let Some(ip) = self.hub.address_of(principal) {
            return Ok(Some(ip));
        }
        let last = self.auth.last_address(principal).await?;
        Ok(last.and_then(|ip| ip.parse().ok()))
    }

    pub async fn unban(&self, actor: &Actor<'_>, unban: Unban) -> Result<(), CoreError> {
        let ip = unban.ip.map(|ip| ip.to_string());
        let name_key = unban.user.as_ref().map(Name::key);
        self.moderation
            .unban(actor, name_key.as_deref(), ip.as_deref())
            .await?;
        self.bus.direct(Directive::SanctionsChanged);
        let lifted = unban.user.map(|u| u.to_string()).or(ip).unwrap_or_default();
        self.notice(
            None,
            format!("{lifted} was unbanned by {}", actor.identity.name),
        );
        Ok(())
    }

    pub async fn mute(&self, actor: &Actor<'_>, mute: Mute) -> Result<(), CoreError> {
        let actor = &actor.in_room(mute.room.as_ref().map(RoomName::as_str));
        let target = self.target(&mute.user, true).await?;
        self.moderation
            .mute(actor, &target, mute.reason.as_deref(), mute.duration_secs)
            .await?;
        self.bus.direct(Directive::SanctionsChanged);
        let text = format!("{} was muted by {}", target.name, actor.identity.name);
        self.notice(mute.room, with_reason(text, mute.reason.as_deref()));
        Ok(())
    }

    pub async fn unmute(&self, actor: &Actor<'_>, Unmute(unmute): Unmute) -> Result<(), CoreError> {
        let actor = &actor.in_room(unmute.room.as_ref().map(RoomName::as_str));
        let target = self.target(&unmute.user, true).await?;
        self.moderation.unmute(actor, &target).await?;
        self.bus.direct(Directive::SanctionsChanged);
        self.notice(unmute.room, format!("{} may speak again", target.name));
        Ok(())
    }

    pub async fn verify(&self, actor: &Actor<'_>, verify: Verify) -> Result<(), CoreError> {
        let actor = &actor.in_room(verify.room.as_ref().map(RoomName::as_str));
        let target = self.target(&verify.user, false).await?;
        self.moderation
            .verify(actor, &target, verify.verified)
            .await?;
        self.refresh_badges(&target, target.role, verify.verified);
        let text = match verify.verified {
            true => format!("{} was verified by {}", target.name, actor.identity.name),
            false => format!("{} is no longer verified", target.name),
        };
        self.notice(verify.room, text);
        Ok(())
    }

    pub async fn set_role(&self, actor: &Actor<'_>, change: SetRole) -> Result<(), CoreError> {
        let target = self.target(&change.user, false).await?;
        self.moderation
            .set_role(actor, &target, change.role)
            .await?;
        let verified = match target.principal {
            Some(Principal::User(id)) => self.auth.is_verified(id).await?,
            _ => false,
        };
        self.refresh_badges(&target, change.role, verified);
        let text = format!(
            "{} is now {} (by {})",
            target.name,
            change.role.as_str(),
            actor.identity.name
        );
        self.notice(None, text);
        Ok(())
    }

    /// Moves a user into a room (admin+): makes them a member of a stored room and tells
    /// their clients to open it.
    pub async fn move_user(&self, actor: &Actor<'_>, move_user: MoveUser) -> Result<(), CoreError> {
        let target = self.target(&move_user.user, false).await?;
        let principal = target.principal.ok_or(ModerationError::NoSuchUser)?;
        self.moderation.check_move(actor, &target).await?;
        let room = if move_user.room.is_lobby() {
            move_user.room
        } else {
            let Principal::User(user_id) = principal else {
                return Err(RoomError::RegistrationRequired.into());
            };
            let slug = self
                .rooms
                .admin()
                .admit(user_id, move_user.room.as_str())
                .await?
                .slug;
            RoomName::parse(&slug).map_err(|_| CoreError::NotFound)?
        };
        self.moderation
            .record(
                &actor.in_room(Some(room.as_str())),
                "move",
                Some(&target.name),
                None,
            )
            .await?;
        let event = Event::Moved {
            room: room.to_string(),
            by: actor.identity.name.clone(),
        };
        self.presence.tell(principal, event);
        let text = format!("{} was moved here by {}", target.name, actor.identity.name);
        self.notice(Some(room), text);
        Ok(())
    }

    /// Deletes an account (admin+, from above): the rooms it owns go with their messages and
    /// keys (their members are told), its sessions end and its connections close.
    pub async fn delete_user(
        &self,
        actor: &Actor<'_>,
        delete: DeleteUser,
    ) -> Result<(), CoreError> {
        let target = self.target(&delete.user, false).await?;
        let user_id = self.moderation.check_delete(actor, &target).await?;
        for room in self.rooms.admin().delete_owned_by(user_id).await? {
            self.presence.close_room(&room.slug, RemovedReason::Deleted);
        }
        self.bus.direct(Directive::ClosePrincipal {
            principal: Principal::User(user_id),
            reason: CloseReason::SessionRevoked,
            detail: None,
        });
        self.sweep.uploader_gone(user_id).await?;
        self.auth.delete_account(user_id).await?;
        let text = format!(
            "{}'s account was deleted by {}",
            target.name, actor.identity.name
        );
        self.notice(None, text);
        Ok(())
    }

    /// Shows a changed role or badge live: on the target's connections and in their rooms.
    fn refresh_badges(&self, target: &Target, role: Role, verified: bool) {
        let Some(principal) = target.principal else {
            return;
        };
        let user = UserView {
            name: target.name.clone(),
            kind: IdentityKind::User,
            role,
            verified,
            bot: false,
        };
        self.bus.direct(Directive::UpdateUser { principal, user });
    }
}

fn with_reason(text: String, reason: Option<&str>) -> String {
    match reason {
        Some(reason) if !reason.trim().is_empty() => format!("{text}: {}", reason.trim()),
        _ => text,
    }
}
