//! Who a stored message mentions: its `@name`s resolved against the room's members, and
//! whether its author may call on the whole room. The names are read from the text by
//! [`Mentioned`]; this decides what they mean in one room and enforces the limits, so that a
//! message cannot ping a crowd it has no right to.

use super::directory::Directory;
use super::{Room, RoomError};
use crate::auth::Identity;
use crate::domain::{EveryoneMentions, Mentioned, RoomKind, RoomRole};
use crate::store::EVERYONE;

/// A message's mentions, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Account ids to record ([`EVERYONE`] for `@here`).
    pub ids: Vec<i64>,
    /// The mentioned members' names, as stored.
    pub names: Vec<String>,
    pub everyone: bool,
}

/// Resolves the mentions of `text`, written by `identity` holding `role` in `room`. A name
/// that is not a member is just text. Refuses more than `max_mentions` names, and a call on
/// everyone from someone the server's `everyone_mentions` does not allow. The server's own
/// writer (the companion, with no `role`) is never refused: what it may not do is dropped. In
/// a conversation, everyone is the peer, who is notified anyway.
pub(super) async fn resolve(
    dir: &Directory,
    identity: &Identity,
    role: Option<RoomRole>,
    room: &Room,
    text: &str,
) -> Result<Resolved, RoomError> {
    let mut found = Mentioned::in_text(text);
    let max = dir.settings.max_mentions;
    if found.names.len() > max {
        if role.is_some() {
            return Err(RoomError::TooManyMentions(max));
        }
        found.names.truncate(max);
    }
    if room.kind() == RoomKind::Pm || role.is_none() {
        found.everyone = false;
    }
    if found.everyone {
        let may = match dir.settings.everyone_mentions {
            // A guest is in the room, not a member of it.
            EveryoneMentions::Members => role != Some(RoomRole::Guest),
            EveryoneMentions::Moderators => {
                role.is_some_and(RoomRole::moderates) || identity.role.moderates()
            }
        };
        if !may {
            return Err(RoomError::MentionNotAllowed);
        }
    }
    let members = dir.store.members().named(room.id, &found.names).await?;
    let mut resolved = Resolved {
        everyone: found.everyone,
        ..Resolved::default()
    };
    // In the order the text names them.
    for key in &found.names {
        if let Some(member) = members.iter().find(|m| m.name.eq_ignore_ascii_case(key)) {
            resolved.ids.push(member.user_id);
            resolved.names.push(member.name.clone());
        }
    }
    if found.everyone {
        resolved.ids.push(EVERYONE);
    }
    Ok(resolved)
}
