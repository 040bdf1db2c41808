//! Changing stored messages after the fact: an author edits or deletes their own, a room's
//! owner and admins (and staff) delete others', members react. Each change is decided here
//! and applied by [`History`] and the store in one transaction; telling the room is the core's
//! part.
//!
//! Who may act follows the moderation rule everywhere else: nobody acts on a peer or above. A
//! room admin deletes members' messages, not the owner's or another admin's; staff delete
//! messages of authors below their own server role.

use super::directory::Directory;
use super::history::History;
use super::service::{account_id, author_id, Visible};
use super::{PlainMessage, Room, RoomError};
use crate::auth::Identity;
use crate::domain::{is_reaction_emoji, Content, Role, RoomKind, RoomRole};
use crate::store::{MessageRow, Reacted};

/// A message deleted, and by whom.
#[derive(Debug, Clone)]
pub struct Deleted {
    pub room: Room,
    /// The row as it was (its author, its place).
    pub row: MessageRow,
    /// Someone other than the author deleted it (audited, and shown in the notice).
    pub moderated: bool,
}

/// A reaction given or taken back.
#[derive(Debug, Clone)]
pub struct Reaction {
    pub room: Room,
    /// How many gave this emoji to the message now.
    pub count: i64,
    /// Whether anything changed (a second identical reaction changes nothing).
    pub changed: bool,
}

/// Edits, deletes and reactions. Cheap to clone.
#[derive(Clone)]
pub struct MessageChanges {
    dir: Directory,
    history: History,
}

impl MessageChanges {
    pub(super) fn new(dir: Directory, history: History) -> Self {
        Self { dir, history }
    }

    /// A room the caller may change messages in: one they see and belong to, stored for
    /// good (an ephemeral room's transcript is kept for audit as it was written).
    async fn writable(&self, identity: &Identity, name: &str) -> Result<Visible, RoomError> {
        let visible = self.dir.visible(identity, name).await?;
        if visible.room.kind() == RoomKind::Ephemeral {
            return Err(RoomError::Forbidden);
        }
        if visible.role.is_none() {
            return Err(RoomError::NotMember);
        }
        Ok(visible)
    }

    /// Replaces the text of the caller's own message `seq`, within the edit window.
    pub async fn edit(
        &self,
        identity: &Identity,
        name: &str,
        seq: i64,
        content: &Content,
    ) -> Result<(Room, PlainMessage), RoomError> {
        let Visible { room, role } = self.writable(identity, name).await?;
        let message = self
            .history
            .edit(identity, role, &room, seq, content)
            .await?;
        Ok((room, message))
    }

    /// Deletes message `seq`: the caller's own, or — for a room's owner and admins, and for
    /// staff — someone else's below them.
    pub async fn delete(
        &self,
        identity: &Identity,
        name: &str,
        seq: i64,
    ) -> Result<Deleted, RoomError> {
        let visible = self.dir.visible(identity, name).await?;
        let room = visible.room;
        if room.kind() == RoomKind::Ephemeral {
            return Err(RoomError::Forbidden);
        }
        let row = self.history.row(&room, seq).await?;
        let moderated = row.author_id != author_id(identity);
        if moderated
            && !self
                .may_delete_others(identity, visible.role, &room, &row)
                .await?
        {
            return Err(RoomError::Forbidden);
        }
        if !moderated && visible.role.is_none() {
            return Err(RoomError::NotMember);
        }
        let row = self.history.wipe(&room, seq).await?;
        Ok(Deleted {
            room,
            row,
            moderated,
        })
    }

    async fn may_delete_others(
        &self,
        identity: &Identity,
        role: Option<RoomRole>,
        room: &Room,
        row: &MessageRow,
    ) -> Result<bool, RoomError> {
        if room.kind() != RoomKind::Room {
            // A conversation has no moderators: each deletes their own.
            return Ok(false);
        }
        let author_role: Role = row.author_role.parse().unwrap_or_default();
        if identity.role.moderates() && author_role < identity.role {
            return Ok(true);
        }
        let Some(role) = role.filter(|r| r.moderates()) else {
            return Ok(false);
        };
        let author_in_room = match row.author_id {
            id if id > 0 => self.dir.role_of(room.id, id).await?,
            _ => None,
        };
        Ok(author_in_room.is_none_or(|theirs| theirs < role))
    }

    /// Gives (`on`) or takes back the caller's reaction `emoji` to message `seq`.
    pub async fn react(
        &self,
        identity: &Identity,
        name: &str,
        seq: i64,
        emoji: &str,
        on: bool,
    ) -> Result<Reaction, RoomError> {
        let user_id = account_id(identity)?;
        if !is_reaction_emoji(emoji) {
            return Err(RoomError::NotAnEmoji);
        }
        let visible = self.dir.visible(identity, name).await?;
        if visible.role.is_none() {
            return Err(RoomError::NotMember);
        }
        let room = visible.room;
        let reactions = self.dir.store.reactions();
        let reacted = if on {
            let now = self.dir.clock.now_millis();
            reactions.add(room.id, seq, user_id, emoji, now).await?
        } else {
            reactions.remove(room.id, seq, user_id, emoji).await?
        };
        let (count, changed) = match reacted {
            Reacted::Changed(count) => (count, true),
            Reacted::Unchanged(count) => (count, false),
            Reacted::NoMessage => return Err(RoomError::NoSuchMessage),
            Reacted::TooMany => return Err(RoomError::TooManyReactions),
        };
        Ok(Reaction {
            room,
            count,
            changed,
        })
    }
}
