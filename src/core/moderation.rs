//! The core's side of moderation: who a name stands for (an account, an online guest, or just
//! a name), and the live effects of each action — closing connections, revoking sessions,
//! notices where the action happened, refreshed badges. The rules are the
//! [`Moderation`](crate::moderation::Moderation) service's.

use super::command::{Ban, ModTarget, MoveUser, Mute, SetRole, Unban, Verify};
use super::connection::{Broadcast, Connection};
use super::event::{CloseReason, Event, RemovedReason, UserView};
use super::{Core, CoreError};
use crate::auth::{Identity, IdentityKind};
use crate::domain::{Principal, Role, LOBBY};
use crate::moderation::{Actor, AuditEntryView, AuditFilter, ModerationError, Sanction, Target};
use crate::rooms::{MessageOpener, RoomError};
use serde_json::{json, Value};
use std::net::IpAddr;

impl Core {
    /// Refuses a banned identity or address (at `identify`, login, registration, guest join).
    pub fn check_not_banned(
        &self,
        name: Option<&str>,
        ip: &str,
        role: Role,
    ) -> Result<(), CoreError> {
        let name_key = name.map(str::to_ascii_lowercase);
        match self.moderation.ban_on(name_key.as_deref(), ip, role) {
            Some(ban) => Err(CoreError::Banned(ban.reason.unwrap_or_default())),
            None => Ok(()),
        }
    }

    /// The bans and mutes in force.
    pub fn sanctions(&self) -> Vec<Sanction> {
        self.moderation.in_force()
    }

    /// A page of the audit log and the cursor of the next one. With `text`, entries match
    /// when their action, target or detail contains it, or — for stored messages — when the
    /// message's text does (decrypted here); at most [`AUDIT_SCAN`] entries are read per page.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        text: Option<&str>,
    ) -> Result<(Vec<AuditEntryView>, Option<i64>), CoreError> {
        let Some(needle) = text.map(str::to_lowercase) else {
            let rows = self.moderation.audit_page(filter).await?;
            let next = full_page_cursor(&rows, filter.limit);
            return Ok((rows, next));
        };
        let mut scan = AuditFilter {
            limit: 500,
            ..filter.clone()
        };
        let mut opener = self.rooms.admin().opener();
        let (mut found, mut scanned) = (Vec::new(), 0);
        loop {
            let rows = self.moderation.audit_page(&scan).await?;
            if rows.is_empty() {
                return Ok((found, None));
            }
            for row in rows {
                scan.before = row.id;
                scanned += 1;
                if audit_text_matches(&row, &needle, &mut opener).await? {
                    found.push(row);
                }
                if found.len() as i64 == filter.limit || scanned >= AUDIT_SCAN {
                    return Ok((found, Some(scan.before)));
                }
            }
        }
    }

    /// Audits an admin's read of stored content.
    pub async fn record_admin_read(
        &self,
        actor: &Actor<'_>,
        action: &str,
        target: &str,
    ) -> Result<(), CoreError> {
        Ok(self
            .moderation
            .record(actor, action, Some(target), None)
            .await?)
    }

    /// Refuses to let a muted identity write.
    pub(super) fn check_not_muted(&self, identity: &Identity) -> Result<(), CoreError> {
        match self.moderation.mute_on(&identity.name_key()) {
            Some(_) => Err(CoreError::Muted),
            None => Ok(()),
        }
    }

    /// Whom a name stands for: an account, else an online guest, else (when `any_name`) just
    /// the name.
    async fn target(&self, name: &str, any_name: bool) -> Result<Target, CoreError> {
        if let Some(user) = self.auth.user_by_name(name).await? {
            return Ok(Target {
                role: user.role,
                principal: Some(Principal::User(user.id)),
                name: user.name,
            });
        }
        let online = self.hub.principal_of(&name.to_ascii_lowercase());
        if online.is_none() && !any_name {
            return Err(ModerationError::NoSuchUser.into());
        }
        Ok(Target {
            name: name.to_owned(),
            principal: online,
            role: Role::User,
        })
    }

    /// The identity behind a connection, acting from the connection's address.
    pub(super) fn actor(conn: &Connection) -> Result<Actor<'_>, CoreError> {
        let identity = conn.identity.as_ref().ok_or(CoreError::NotIdentified)?;
        Ok(Actor {
            identity,
            ip: conn.info.ip.to_string(),
            room: None,
        })
    }

    /// A system notice in the room where an action happened (the lobby by default).
    fn notice(&self, room: Option<String>, text: String) {
        let room = room.unwrap_or_else(|| LOBBY.to_owned());
        let event = Event::Notice {
            room: room.clone(),
            text,
        };
        self.bus.publish(&room, Broadcast::new(event), None);
    }

    pub async fn kick(&self, actor: &Actor<'_>, kick: ModTarget) -> Result<Value, CoreError> {
        let actor = &actor.in_room(kick.room.as_deref());
        let target = self.target(&kick.user, false).await?;
        self.moderation
            .kick(actor, &target, kick.reason.as_deref())
            .await?;
        if let Some(principal) = target.principal {
            self.hub
                .close_principal(principal, CloseReason::Kicked, kick.reason.as_deref());
        }
        let text = format!("{} was kicked by {}", target.name, actor.identity.name);
        self.notice(kick.room, with_reason(text, kick.reason.as_deref()));
        Ok(json!({}))
    }

    /// Bans a name (and, with `with_ip`, the address it uses), or an address alone. The
    /// target's sessions are revoked and matching connections close at once.
    pub async fn ban(&self, actor: &Actor<'_>, ban: Ban) -> Result<Value, CoreError> {
        let actor = &actor.in_room(ban.room.as_deref());
        let target = match &ban.user {
            Some(name) => Some(self.target(name, true).await?),
            None => None,
        };
        let address = match (&ban.ip, ban.with_ip, &target) {
            (Some(ip), _, _) => Some(parse_ip(ip)?),
            (
                None,
                true,
                Some(Target {
                    principal: Some(p), ..
                }),
            ) => self.last_address(*p).await?,
            (None, true, _) => {
                return Err(
                    ModerationError::Invalid("with_ip: the user has no known address").into(),
                )
            }
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
        if let Some(Target {
            principal: Some(principal),
            ..
        }) = &target
        {
            self.hub
                .close_principal(*principal, CloseReason::Banned, ban.reason.as_deref());
            self.auth.revoke_all(*principal).await?;
        }
        if let Some(ip) = address {
            self.hub
                .close_address(ip, CloseReason::Banned, ban.reason.as_deref());
        }
        let banned = target
            .as_ref()
            .map_or_else(|| "an address".to_owned(), |t| t.name.clone());
        let text = format!("{banned} was banned by {}", actor.identity.name);
        self.notice(ban.room, with_reason(text, ban.reason.as_deref()));
        Ok(json!({}))
    }

    /// The address an identity uses now, or last signed in from.
    async fn last_address(&self, principal: Principal) -> Result<Option<IpAddr>, CoreError> {
        if let Some(ip) = self.hub.address_of(principal) {
            return Ok(Some(ip));
        }
        let last = self.auth.last_address(principal).await?;
        Ok(last.and_then(|ip| ip.parse().ok()))
    }

    pub async fn unban(&self, actor: &Actor<'_>, unban: Unban) -> Result<Value, CoreError> {
        let ip = unban
            .ip
            .as_deref()
            .map(parse_ip)
            .transpose()?
            .map(|ip| ip.to_string());
        let name_key = unban.user.as_deref().map(str::to_ascii_lowercase);
        self.moderation
            .unban(actor, name_key.as_deref(), ip.as_deref())
            .await?;
        let lifted = unban.user.or(ip).unwrap_or_default();
        self.notice(
            None,
            format!("{lifted} was unbanned by {}", actor.identity.name),
        );
        Ok(json!({}))
    }

    pub async fn mute(&self, actor: &Actor<'_>, mute: Mute) -> Result<Value, CoreError> {
        let actor = &actor.in_room(mute.room.as_deref());
        let target = self.target(&mute.user, true).await?;
        self.moderation
            .mute(actor, &target, mute.reason.as_deref(), mute.duration_secs)
            .await?;
        let text = format!("{} was muted by {}", target.name, actor.identity.name);
        self.notice(mute.room, with_reason(text, mute.reason.as_deref()));
        Ok(json!({}))
    }

    pub async fn unmute(&self, actor: &Actor<'_>, unmute: ModTarget) -> Result<Value, CoreError> {
        let actor = &actor.in_room(unmute.room.as_deref());
        let target = self.target(&unmute.user, true).await?;
        self.moderation.unmute(actor, &target).await?;
        let text = format!("{} may speak again", target.name);
        self.notice(unmute.room, text);
        Ok(json!({}))
    }

    pub async fn verify(&self, actor: &Actor<'_>, verify: Verify) -> Result<Value, CoreError> {
        let actor = &actor.in_room(verify.room.as_deref());
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
        Ok(json!({}))
    }

    pub async fn set_role(&self, actor: &Actor<'_>, change: SetRole) -> Result<Value, CoreError> {
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
        Ok(json!({}))
    }

    /// Moves a user into a room (admin+): makes them a member of a persistent room and tells
    /// their clients to open it.
    pub async fn move_user(
        &self,
        actor: &Actor<'_>,
        move_user: MoveUser,
    ) -> Result<Value, CoreError> {
        let target = self.target(&move_user.user, false).await?;
        let principal = target.principal.ok_or(ModerationError::NoSuchUser)?;
        self.moderation.check_move(actor, &target).await?;
        let room = if move_user.room == LOBBY {
            LOBBY.to_owned()
        } else {
            let Principal::User(user_id) = principal else {
                return Err(RoomError::RegistrationRequired.into());
            };
            self.rooms
                .admin()
                .admit(user_id, &move_user.room)
                .await?
                .slug
        };
        self.moderation
            .record(
                &actor.in_room(Some(&room)),
                "move",
                Some(&target.name),
                None,
            )
            .await?;
        let event = Broadcast::new(Event::Moved {
            room: room.clone(),
            by: actor.identity.name.clone(),
        });
        self.hub.deliver_to(principal, &event);
        let text = format!("{} was moved here by {}", target.name, actor.identity.name);
        self.notice(Some(room), text);
        Ok(json!({}))
    }

    /// Deletes an account (admin+, from above): the rooms it owns go with their messages and
    /// keys (their members are told), its sessions end and its connections close.
    pub async fn delete_user(&self, actor: &Actor<'_>, name: &str) -> Result<Value, CoreError> {
        let target = self.target(name, false).await?;
        let user_id = self.moderation.check_delete(actor, &target).await?;
        let principal = Principal::User(user_id);
        for room in self.rooms.admin().delete_owned_by(user_id).await? {
            let notice = Broadcast::new(Event::RoomRemoved {
                room: room.slug.clone(),
                reason: RemovedReason::Deleted,
            });
            for handle in self.hub.close_room(&room.slug) {
                handle.deliver(&notice);
            }
        }
        self.hub
            .close_principal(principal, CloseReason::SessionRevoked, None);
        self.auth.delete_account(user_id).await?;
        let text = format!(
            "{}'s account was deleted by {}",
            target.name, actor.identity.name
        );
        self.notice(None, text);
        Ok(json!({}))
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
        };
        let event = Broadcast::new(Event::UserUpdated { user: user.clone() });
        for room in self.hub.update_user(principal, &user) {
            self.bus
                .publish(&room, std::sync::Arc::clone(&event), Some(principal));
        }
        self.hub.deliver_to(principal, &event);
    }
}

/// Audit entries one text search reads before it answers with what it found (and a cursor).
const AUDIT_SCAN: usize = 20_000;

fn full_page_cursor(rows: &[AuditEntryView], limit: i64) -> Option<i64> {
    (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten()
}

async fn audit_text_matches(
    row: &AuditEntryView,
    needle: &str,
    opener: &mut MessageOpener<'_>,
) -> Result<bool, CoreError> {
    let fields = [Some(&row.action), row.target.as_ref(), row.detail.as_ref()];
    if fields
        .into_iter()
        .flatten()
        .any(|f| f.to_lowercase().contains(needle))
    {
        return Ok(true);
    }
    let stored = row
        .detail
        .as_deref()
        .and_then(|d| d.strip_prefix("seq "))
        .and_then(|seq| seq.parse::<i64>().ok());
    match (row.action.as_str(), &row.room, stored) {
        ("message", Some(room), Some(seq)) => Ok(opener
            .text(room, seq)
            .await?
            .is_some_and(|text| text.to_lowercase().contains(needle))),
        _ => Ok(false),
    }
}

fn parse_ip(raw: &str) -> Result<IpAddr, CoreError> {
    raw.trim()
        .parse()
        .map_err(|_| ModerationError::Invalid("ip: not an IPv4 or IPv6 address").into())
}

fn with_reason(text: String, reason: Option<&str>) -> String {
    match reason {
        Some(reason) if !reason.trim().is_empty() => format!("{text}: {}", reason.trim()),
        _ => text,
    }
}
