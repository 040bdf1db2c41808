//! One account's export: its profile and what hangs off it, the audit entries by or about it,
//! its messages room by room (both sides of its conversations), and its uploads. What is in
//! and what is left out, and why, is in the module docs of `export`.

use super::gather::PAGE;
use super::{room_info, ExportError, Exports};
use crate::domain::{Principal, RoomKind};
use crate::export::{
    rfc3339, AccountInfo, AuditLine, Counts, Details, ExportWriter, FileRef, MembershipInfo, Scope,
    Section, SessionInfo, UploadLine,
};
use crate::rooms::Room;
use crate::store::{AuditRow, MembershipRow, UserRow};
use std::collections::HashMap;
use std::path::Path;

/// Actions whose target and detail are the acting account's own business (its message's
/// sequence number, its upload, a room it read, its export); on any other action of its — a
/// moderator's on someone — they name and describe another person and are left out.
const OWN_ACTIONS: &[&str] = &[
    "message",
    "upload",
    "export",
    "read_transcript",
    "read_archives",
];

/// A room to visit, what of it to take, and the conversation's other member.
struct Visit {
    room: Room,
    /// `None`: every message (a conversation of the account's); else only this author's.
    author: Option<i64>,
    peer: Option<String>,
}

impl Exports {
    /// Writes `user`'s data into `dest`.
    pub(super) async fn account_export(
        &self,
        user: &UserRow,
        dest: &Path,
    ) -> Result<Counts, ExportError> {
        let memberships = self.store.exports().memberships(user.id).await?;
        let sessions = self.store.exports().sessions(user.id).await?;
        let info = AccountInfo {
            name: user.name.clone(),
            role: user.role().as_str().to_owned(),
            email: user.email.clone(),
            verified: user.verified != 0,
            created_at: user.created_at,
            sessions: sessions
                .into_iter()
                .map(|s| SessionInfo {
                    ip: s.ip,
                    created_at: s.created_at,
                    expires_at: s.expires_at,
                })
                .collect(),
            memberships: memberships.iter().map(membership_info).collect(),
            ignores: self.store.ignores().of(user.id).await?,
        };
        let now = self.clock.now_millis();
        let mut writer = ExportWriter::create(dest, now, Details::Account(info)).await?;
        self.audit_entries(&mut writer, user).await?;
        for visit in self.visits(user, memberships).await? {
            let section = Section {
                room: room_info(&visit.room),
                scope: match visit.author {
                    None => Scope::Everything,
                    Some(_) => Scope::OwnMessages,
                },
                peer: visit.peer,
            };
            self.messages(&mut writer, &visit.room, &section, visit.author)
                .await?;
        }
        self.uploads(&mut writer, user.id).await?;
        Ok(writer.finish().await?)
    }

    /// The rooms with the account's messages in them: its conversations whole, every other
    /// room for its own messages only; rooms first, then conversations and 1-on-1 rooms, each
    /// by address.
    async fn visits(
        &self,
        user: &UserRow,
        memberships: Vec<MembershipRow>,
    ) -> Result<Vec<Visit>, ExportError> {
        let mut visits: HashMap<i64, Visit> = HashMap::new();
        for membership in memberships {
            let room = Room::from(membership.room);
            if room.kind() == RoomKind::Pm {
                let visit = Visit {
                    room,
                    author: None,
                    peer: membership.peer,
                };
                visits.insert(visit.room.id, visit);
            }
        }
        for row in self.store.exports().authored_rooms(user.id).await? {
            visits.entry(row.id).or_insert_with(|| Visit {
                room: Room::from(row),
                author: Some(user.id),
                peer: None,
            });
        }
        let mut visits: Vec<Visit> = visits.into_values().collect();
        let rank = |kind: RoomKind| match kind {
            RoomKind::Room => 0,
            RoomKind::Pm => 1,
            RoomKind::Ephemeral => 2,
        };
        visits.sort_by(|a, b| {
            (rank(a.room.kind()), &a.room.slug).cmp(&(rank(b.room.kind()), &b.room.slug))
        });
        Ok(visits)
    }

    /// The audit entries by the account, and about it since it was created, oldest first.
    async fn audit_entries(
        &self,
        writer: &mut ExportWriter,
        user: &UserRow,
    ) -> Result<(), ExportError> {
        let identity = Principal::User(user.id).key();
        let name_key = user.name.to_ascii_lowercase();
        let mut after = 0;
        loop {
            let rows = self
                .store
                .exports()
                .audit(&identity, &name_key, user.created_at, after, PAGE)
                .await?;
            let full = rows.len() as i64 == PAGE;
            for row in rows {
                after = row.id;
                writer.audit(&audit_line(row, &identity)).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Every file the account uploaded that is still held: sent or waiting, in rooms and the
    /// lobby (files already written with their messages are not copied twice).
    async fn uploads(&self, writer: &mut ExportWriter, user_id: i64) -> Result<(), ExportError> {
        let mut after = String::new();
        loop {
            let rows = self.store.exports().uploads(user_id, &after, PAGE).await?;
            let full = rows.len() as i64 == PAGE;
            for upload in rows {
                let row = upload.file;
                after.clone_from(&row.id);
                let listed = FileRef {
                    id: row.id.clone(),
                    name: row.name.clone(),
                    mime: row.mime.clone(),
                    size: row.size,
                    path: None,
                };
                let file = self.copy_file(writer, &row, listed).await?;
                let line = UploadLine {
                    file,
                    room: upload.room,
                    sent: row.attached != 0,
                    created_at: row.created_at,
                };
                writer.upload(&line).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }
}

fn membership_info(row: &MembershipRow) -> MembershipInfo {
    let room = Room::from(row.room.clone());
    let state = if row.pending > 0 {
        Some("pending")
    } else if row.hidden > 0 {
        Some("closed")
    } else {
        None
    };
    MembershipInfo {
        room: room_info(&room),
        role: row.role.clone(),
        joined_at: row.joined_at,
        peer: row.peer.clone(),
        state,
    }
}

/// An audit entry as the account's export shows it: on its own entries, its address, and whom
/// and why only for [`OWN_ACTIONS`]; on entries about it, what was done, where and why, but not
/// who did it nor from where.
fn audit_line(row: AuditRow, identity: &str) -> AuditLine {
    let by_you = row.identity.as_deref() == Some(identity);
    let own = by_you && OWN_ACTIONS.contains(&row.action.as_str());
    AuditLine {
        id: row.id,
        ts: row.ts,
        time: rfc3339(row.ts),
        by_you,
        ip: row.actor_ip.filter(|_| by_you),
        room: row.room,
        target: row.target.filter(|_| own || !by_you),
        detail: row.detail.filter(|_| own || !by_you),
        action: row.action,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(identity: &str, action: &str, target: &str) -> AuditRow {
        AuditRow {
            id: 1,
            ts: 0,
            actor: "someone".into(),
            identity: Some(identity.into()),
            actor_ip: Some("192.0.2.7".into()),
            action: action.into(),
            target: Some(target.into()),
            room: Some("general".into()),
            detail: Some("why".into()),
        }
    }

    #[test]
    fn entries_keep_the_accounts_data_and_no_one_elses() {
        let message = audit_line(row("user:7", "message", "x"), "user:7");
        assert!(message.by_you);
        assert_eq!(message.ip.as_deref(), Some("192.0.2.7"));
        assert_eq!(message.detail.as_deref(), Some("why"));

        let ban_by_me = audit_line(row("user:7", "ban", "bob @ 198.51.100.1"), "user:7");
        assert_eq!((ban_by_me.target, ban_by_me.detail), (None, None));
        assert_eq!(ban_by_me.ip.as_deref(), Some("192.0.2.7"));

        let banned = audit_line(row("user:1", "ban", "carol @ 203.0.113.9"), "user:7");
        assert!(!banned.by_you);
        assert_eq!(banned.ip, None, "the moderator's address is theirs");
        assert_eq!(banned.target.as_deref(), Some("carol @ 203.0.113.9"));
        assert_eq!(banned.detail.as_deref(), Some("why"));
    }
}
