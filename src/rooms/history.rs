//! Room history: messages sealed with their room's data key on the way in and opened on the
//! way out, pages to scroll back or catch up, clearing, and pruning by retention. The store
//! only ever sees ciphertext; every read and write of a body goes through here.
//!
//! A row whose body does not open is handed out marked `undecryptable` (no text) and reported
//! to [`Undecryptable`], never turned into an error: one damaged row must not make its whole
//! room unreadable.

use super::directory::Directory;
use super::mentions::{resolve, Resolved};
use super::service::author_id;
use super::undecryptable::Undecryptable;
use super::view::{ReactionView, ReplyView, REACTION_NAMES, REPLY_SNIPPET_CHARS};
use super::{PlainMessage, Room, RoomError};
use crate::auth::Identity;
use crate::crypto::SecretKey;
use crate::domain::{Content, Envelope, MessageText, Millis, RoomRole, StoredJson};
use crate::files::FileView;
use crate::store::{Appended, MessageRow, NewMessage, Submitted, EVERYONE};

/// The history of every room. Cheap to clone.
#[derive(Clone)]
pub struct History {
    dir: Directory,
    undecryptable: Undecryptable,
}

impl History {
    pub(super) fn new(dir: Directory) -> Self {
        Self {
            dir,
            undecryptable: Undecryptable::default(),
        }
    }

    /// How many distinct stored messages were found not to decrypt since start-up.
    pub fn undecryptable_count(&self) -> u64 {
        self.undecryptable.count()
    }

    /// Checks a message from a member and submits it, sealed with the room's key, with its
    /// reply and mentions, to the store's group commit. The room's messages are numbered in
    /// the order they are submitted; [`Pending::stored`] waits for the commit.
    pub async fn submit(
        &self,
        identity: &Identity,
        room: &Room,
        draft: Draft<'_>,
    ) -> Result<Pending, RoomError> {
        let author_id = author_id(identity);
        // What the store seals: the text, or an end-to-end room's envelope as it came (whose
        // names the server cannot read, so it mentions nobody).
        let (text, mentions) = match (room.e2e, draft.envelope) {
            (true, Some(envelope)) if draft.text.is_none() => {
                self.check_epoch(identity, room, envelope.epoch).await?;
                (envelope.to_json(), Resolved::default())
            }
            (true, _) => return Err(RoomError::E2eRequired),
            (false, Some(_)) => return Err(RoomError::NotE2e),
            (false, None) => {
                // A message with attachments may say nothing; one without must say something.
                let text = match draft.text {
                    Some(text) => {
                        MessageText::parse(text, self.dir.settings.max_message_chars)?.into_string()
                    }
                    None if draft.attachments.is_empty() => {
                        MessageText::parse("", 1)?.into_string()
                    }
                    None => String::new(),
                };
                let mentions = resolve(&self.dir, identity, draft.role, room, &text).await?;
                (text, mentions)
            }
        };
        if let Some(seq) = draft.reply_to {
            let original = self.dir.store.messages().by_seq(room.id, seq).await?;
            if original.is_none_or(|row| row.deleted_at.is_some()) {
                return Err(RoomError::NoSuchMessage);
            }
        }
        let key = self.dir.keyring.key(room.data_key_id).await?;
        let room_id = room.id;
        let seal = {
            let (key, text) = (key.clone(), text.clone());
            Box::new(move |seq| key.seal(text.as_bytes(), message_context(room_id, seq).as_bytes()))
        };
        let submitted = self
            .dir
            .store
            .messages()
            .submit(
                NewMessage {
                    room_id,
                    author_id,
                    author_name: identity.name.clone(),
                    author_role: identity.role.as_str(),
                    client_msg_id: draft.client_msg_id.map(str::to_owned),
                    created_at: self.dir.clock.now_millis(),
                    attachments: draft.attachments.to_vec(),
                    reply_to: draft.reply_to,
                    mentions: mentions.ids.clone(),
                },
                seal,
            )
            .await?;
        Ok(Pending {
            submitted,
            room_id,
            key,
            text,
            mentions,
            attachments: !draft.attachments.is_empty(),
        })
    }

    /// Replaces the text of one of the caller's own messages, resealed with the room's key,
    /// within the edit window. Mentions are resolved again (the same limits apply); those
    /// newly named are not notified again. Returns the message as it is now.
    pub(super) async fn edit(
        &self,
        identity: &Identity,
        role: Option<RoomRole>,
        room: &Room,
        seq: i64,
        content: &Content,
    ) -> Result<PlainMessage, RoomError> {
        let row = self
            .dir
            .store
            .messages()
            .by_seq(room.id, seq)
            .await?
            .filter(|row| row.deleted_at.is_none())
            .ok_or(RoomError::NoSuchMessage)?;
        if row.author_id != author_id(identity) {
            return Err(RoomError::Forbidden);
        }
        let window = i64::try_from(self.dir.settings.edit_window_secs)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        let now = self.dir.clock.now_millis();
        if window == 0 || now.saturating_sub(row.created_at) > window {
            return Err(RoomError::EditWindowClosed);
        }
        let (text, mentions) = match (room.e2e, content) {
            (true, Content::Envelope(envelope)) => {
                self.check_epoch(identity, room, envelope.epoch).await?;
                (envelope.to_json(), Resolved::default())
            }
            (true, Content::Text(_)) => return Err(RoomError::E2eRequired),
            (false, Content::Envelope(_)) => return Err(RoomError::NotE2e),
            (false, Content::Text(text)) => {
                let text = MessageText::parse(text.as_str(), self.dir.settings.max_message_chars)?
                    .into_string();
                let mentions = resolve(&self.dir, identity, role, room, &text).await?;
                (text, mentions)
            }
        };
        let key = self.dir.keyring.key(room.data_key_id).await?;
        let body = key.seal(text.as_bytes(), message_context(room.id, seq).as_bytes());
        let edited_at = now.max(row.created_at);
        if !self
            .dir
            .store
            .messages()
            .edit(room.id, seq, body, edited_at, &mentions.ids)
            .await?
        {
            return Err(RoomError::NoSuchMessage);
        }
        let mut message = plain(row, Some(text));
        message.edited_at = Some(edited_at);
        let mut messages = vec![message];
        self.complete(room, &key, &mut messages, Known::Mentions)
            .await?;
        Ok(messages.remove(0))
    }

    /// An envelope's epoch must be the room's current one (re-read: a member may have just
    /// left), and its author must hold that epoch's key — else nobody could read it.
    async fn check_epoch(
        &self,
        identity: &Identity,
        room: &Room,
        epoch: i64,
    ) -> Result<(), RoomError> {
        let current = self
            .dir
            .store
            .rooms()
            .by_id(room.id)
            .await?
            .map_or(room.epoch, |row| row.e2e_epoch);
        if epoch != current {
            return Err(RoomError::StaleEpoch(epoch, current));
        }
        let author = super::account_id(identity)?;
        if !self
            .dir
            .store
            .room_epoch_keys()
            .holds(room.id, epoch, author)
            .await?
        {
            return Err(RoomError::EpochKeyMissing);
        }
        Ok(())
    }

    /// Deletes message `seq`'s content (see [`Messages::delete`](crate::store::Messages::delete)).
    /// Returns the row as it was: who wrote it decides who may have deleted it, which the
    /// caller checked before.
    pub(super) async fn wipe(&self, room: &Room, seq: i64) -> Result<MessageRow, RoomError> {
        self.dir
            .store
            .messages()
            .delete(room.id, seq, self.dir.clock.now_millis())
            .await?
            .ok_or(RoomError::NoSuchMessage)
    }

    /// The caller's read pointer in the room: the last sequence number they marked read (none
    /// for someone who is not a member, such as a guest in an ephemeral room).
    pub async fn read_pointer(
        &self,
        identity: &Identity,
        room: &Room,
    ) -> Result<Option<i64>, RoomError> {
        match identity.principal {
            crate::domain::Principal::User(id) => {
                Ok(self.dir.store.members().last_read(room.id, id).await?)
            }
            crate::domain::Principal::Guest(_) => Ok(None),
        }
    }

    /// The live message at `seq`, unopened (who wrote it, whether it is deleted).
    pub(super) async fn row(&self, room: &Room, seq: i64) -> Result<MessageRow, RoomError> {
        self.dir
            .store
            .messages()
            .by_seq(room.id, seq)
            .await?
            .filter(|row| row.deleted_at.is_none())
            .ok_or(RoomError::NoSuchMessage)
    }

    /// A room's messages after `after` up to and including `upto`, oldest first, by the
    /// room's address (a node that missed them on the bus sends them now). Empty when the
    /// room is gone.
    pub async fn resend(
        &self,
        slug: &str,
        after: i64,
        upto: i64,
    ) -> Result<Vec<PlainMessage>, RoomError> {
        let Some(room) = self.dir.by_slug(slug).await? else {
            return Ok(Vec::new());
        };
        let limit = usize::try_from(upto.saturating_sub(after))
            .unwrap_or(0)
            .min(1000);
        let mut rows = self
            .dir
            .store
            .messages()
            .after(room.id, after, limit as i64)
            .await?;
        rows.retain(|row| row.seq <= upto);
        self.open_all(&room, rows).await
    }

    /// Up to one page of messages after sequence `after` (resuming), oldest first.
    pub async fn after(&self, room: &Room, after: i64) -> Result<Vec<PlainMessage>, RoomError> {
        self.between(room, after, None, None).await
    }

    /// Up to a page (`limit`) of the messages after sequence `after` and before `before`
    /// (filling a gap), oldest first: the first page after `after`, cut at `before`.
    pub async fn between(
        &self,
        room: &Room,
        after: i64,
        before: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<PlainMessage>, RoomError> {
        let mut rows = self
            .dir
            .store
            .messages()
            .after(room.id, after, self.page(limit))
            .await?;
        if let Some(before) = before {
            rows.retain(|row| row.seq < before);
        }
        self.open_all(room, rows).await
    }

    /// The page of messages before sequence `before` (or the latest page), oldest first.
    pub async fn before(
        &self,
        room: &Room,
        before: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Vec<PlainMessage>, RoomError> {
        let rows = self
            .dir
            .store
            .messages()
            .before(room.id, before.unwrap_or(i64::MAX), self.page(limit))
            .await?;
        self.open_all(room, rows).await
    }

    /// Every stored message of a room, oldest first (an ephemeral room's whole transcript).
    pub(super) async fn all(&self, room: &Room) -> Result<Vec<PlainMessage>, RoomError> {
        let rows = self
            .dir
            .store
            .messages()
            .after(room.id, 0, i64::MAX)
            .await?;
        self.open_all(room, rows).await
    }

    /// Opens rows read elsewhere (a data export's own pages), with their attachments, as
    /// every page here is opened.
    pub async fn open_rows(
        &self,
        room: &Room,
        rows: Vec<MessageRow>,
    ) -> Result<Vec<PlainMessage>, RoomError> {
        self.open_all(room, rows).await
    }

    /// The text of message `seq` of a room, if it is still stored and decrypts (never in an
    /// end-to-end room: the server has no text there).
    pub(super) async fn one(&self, room: &Room, seq: i64) -> Result<Option<String>, RoomError> {
        if room.e2e {
            return Ok(None);
        }
        let page = self.dir.store.messages().after(room.id, seq - 1, 1).await?;
        let opened = self.open_all(room, page).await?;
        Ok(opened
            .into_iter()
            .find(|m| m.seq == seq && !m.undecryptable)
            .map(|m| m.text))
    }

    /// Opens bodies of one room read elsewhere: message search keeps its own rows and their
    /// text in memory only.
    pub async fn opener(&self, room_id: i64, data_key_id: i64) -> Result<BodyOpener, RoomError> {
        Ok(BodyOpener {
            key: self.dir.keyring.key(data_key_id).await?,
            room_id,
            undecryptable: self.undecryptable.clone(),
        })
    }

    /// Deletes every message of the room (owners and admins).
    pub async fn clear(&self, identity: &Identity, slug: &str) -> Result<Room, RoomError> {
        let (room, _) = self.dir.moderated(identity, slug).await?;
        self.dir.store.messages().clear(room.id).await?;
        Ok(room)
    }

    /// Deletes messages past their room's retention; returns how many.
    pub(super) async fn prune(&self, now: Millis) -> Result<u64, RoomError> {
        let mut pruned = 0;
        for (room_id, days) in self.dir.store.rooms().with_retention().await? {
            pruned += self
                .dir
                .store
                .messages()
                .prune_before(room_id, now - days * 86_400_000)
                .await?;
        }
        Ok(pruned)
    }

    fn page(&self, limit: Option<usize>) -> i64 {
        let page = limit
            .unwrap_or(self.dir.settings.history_page)
            .clamp(1, self.dir.settings.history_page);
        i64::try_from(page).unwrap_or(200)
    }

    async fn open_all(
        &self,
        room: &Room,
        rows: Vec<MessageRow>,
    ) -> Result<Vec<PlainMessage>, RoomError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.dir.keyring.key(room.data_key_id).await?;
        let mut messages: Vec<PlainMessage> =
            rows.into_iter().map(|row| self.open(&key, row)).collect();
        self.complete(room, &key, &mut messages, Known::Nothing)
            .await?;
        Ok(messages)
    }

    /// Fills in what a page shows beside the text: attachments, the originals replies quote,
    /// and what is not `known` of reactions and mentions — one query each for the page.
    async fn complete(
        &self,
        room: &Room,
        key: &SecretKey,
        messages: &mut [PlainMessage],
        known: Known,
    ) -> Result<(), RoomError> {
        if room.e2e {
            messages.iter_mut().for_each(unseal_envelope);
        }
        if known != Known::Everything {
            self.attach_files(messages).await?;
        }
        self.quote_originals(room, key, messages).await?;
        if matches!(known, Known::All | Known::Everything) {
            return Ok(());
        }
        let ids: Vec<i64> = messages
            .iter()
            .filter(|m| !m.deleted)
            .map(|m| m.id)
            .collect();
        for row in self.dir.store.reactions().of_messages(&ids).await? {
            let Some(message) = messages.iter_mut().find(|m| m.id == row.message_id) else {
                continue;
            };
            match message.reactions.iter_mut().find(|r| r.emoji == row.emoji) {
                Some(reaction) => {
                    reaction.count += 1;
                    if reaction.users.len() < REACTION_NAMES {
                        reaction.users.push(row.name);
                    }
                }
                None => message.reactions.push(ReactionView {
                    emoji: row.emoji,
                    count: 1,
                    users: vec![row.name],
                }),
            }
        }
        if known == Known::Nothing {
            for row in self.dir.store.mentions().of_messages(&ids).await? {
                let Some(message) = messages.iter_mut().find(|m| m.id == row.message_id) else {
                    continue;
                };
                match row.name {
                    _ if row.user_id == EVERYONE => message.mentions_everyone = true,
                    Some(name) => message.mentions.push(name),
                    None => {}
                }
            }
        }
        Ok(())
    }

    /// Quotes the start of each replied-to message (one query for those not on the page).
    async fn quote_originals(
        &self,
        room: &Room,
        key: &SecretKey,
        messages: &mut [PlainMessage],
    ) -> Result<(), RoomError> {
        let wanted: Vec<i64> = messages.iter().filter_map(|m| m.reply_seq).collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let missing: Vec<i64> = wanted
            .iter()
            .copied()
            .filter(|seq| !messages.iter().any(|m| m.seq == *seq))
            .collect();
        let mut originals: Vec<PlainMessage> = self
            .dir
            .store
            .messages()
            .by_seqs(room.id, &missing)
            .await?
            .into_iter()
            .map(|row| self.open(key, row))
            .collect();
        originals.extend(messages.iter().filter(|m| wanted.contains(&m.seq)).cloned());
        for message in messages.iter_mut() {
            let Some(seq) = message.reply_seq else {
                continue;
            };
            message.reply_to = Some(match originals.iter().find(|o| o.seq == seq) {
                Some(original) if !original.deleted => ReplyView {
                    seq,
                    author: original.author_name.clone(),
                    // An end-to-end original is quoted by the reader, who can open it.
                    text: if room.e2e {
                        String::new()
                    } else {
                        original.text.chars().take(REPLY_SNIPPET_CHARS).collect()
                    },
                    deleted: false,
                },
                found => ReplyView {
                    seq,
                    author: found.map(|o| o.author_name.clone()).unwrap_or_default(),
                    text: String::new(),
                    deleted: true,
                },
            });
        }
        Ok(())
    }

    /// Fills in the messages' attachments (one query for the page).
    async fn attach_files(&self, messages: &mut [PlainMessage]) -> Result<(), RoomError> {
        let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
        let files = self.dir.store.files().of_messages(&ids).await?;
        for file in &files {
            if let Some(message) = messages.iter_mut().find(|m| Some(m.id) == file.message_id) {
                message.attachments.push(FileView::from(file));
            }
        }
        Ok(())
    }

    /// Opens a row's body; a body that does not open is reported and marked, not an error.
    /// A deleted message has no body to open.
    fn open(&self, key: &SecretKey, row: MessageRow) -> PlainMessage {
        if row.deleted_at.is_some() {
            return plain(row, Some(String::new()));
        }
        match key.open(&row.body, message_context(row.room_id, row.seq).as_bytes()) {
            Ok(bytes) => plain(row, Some(String::from_utf8_lossy(&bytes).into_owned())),
            Err(_) => {
                self.undecryptable.report(row.id, row.room_id, row.seq);
                plain(row, None)
            }
        }
    }
}

/// Opens the bodies of one room with its key (see [`History::opener`]).
pub struct BodyOpener {
    key: SecretKey,
    room_id: i64,
    undecryptable: Undecryptable,
}

impl BodyOpener {
    /// The text of message `id` (sequence `seq`); `None` when the body does not open (reported
    /// like any damaged row).
    pub fn open(&self, id: i64, seq: i64, body: &[u8]) -> Option<String> {
        match self
            .key
            .open(body, message_context(self.room_id, seq).as_bytes())
        {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(_) => {
                self.undecryptable.report(id, self.room_id, seq);
                None
            }
        }
    }
}

/// In an end-to-end room the opened body is the envelope as its author sent it: hand it out as
/// such, never as text. A body that is not one is as unreadable as a damaged row.
fn unseal_envelope(message: &mut PlainMessage) {
    if message.deleted || message.undecryptable || message.envelope.is_some() {
        return;
    }
    message.envelope = Envelope::from_json(&message.text);
    message.undecryptable = message.envelope.is_none();
    message.text.clear();
}

/// A row with its opened text (`None`: it did not decrypt).
/// A message submitted to its room's history and not yet committed (see [`History::submit`]).
#[must_use = "the message is stored and answered by `stored`"]
pub struct Pending {
    submitted: Submitted,
    room_id: i64,
    key: SecretKey,
    text: String,
    mentions: Resolved,
    attachments: bool,
}

impl Pending {
    /// Waits for the commit. Returns the message and whether it is new (`false`: a retry of a
    /// message already stored).
    pub async fn stored(
        self,
        history: &History,
        room: &Room,
    ) -> Result<(PlainMessage, bool), RoomError> {
        debug_assert_eq!(
            room.id, self.room_id,
            "stored in the room it was submitted to"
        );
        let Pending {
            submitted,
            key,
            text,
            mentions,
            attachments,
            ..
        } = self;
        let (message, new) = match submitted.stored().await? {
            // Just sealed from `text`: nothing to open.
            Appended::New(row) => {
                let mut message = plain(row, Some(text));
                message.mentions = mentions.names;
                message.mentions_everyone = mentions.everyone;
                (message, true)
            }
            // A retry answers the stored message's place, even if its body no longer opens.
            Appended::Existing(row) => (history.open(&key, row), false),
            Appended::AttachmentUnavailable => return Err(RoomError::AttachmentUnavailable),
        };
        let mut messages = vec![message];
        // A new message has no reactions yet, and its mentions were just resolved.
        let known = match new {
            true if !attachments => Known::Everything,
            true => Known::All,
            false => Known::Nothing,
        };
        history.complete(room, &key, &mut messages, known).await?;
        Ok((messages.remove(0), new))
    }
}

fn plain(row: MessageRow, text: Option<String>) -> PlainMessage {
    PlainMessage {
        id: row.id,
        author_id: row.author_id,
        seq: row.seq,
        author_name: row.author_name,
        author_role: row.author_role,
        client_msg_id: row.client_msg_id,
        undecryptable: text.is_none(),
        text: text.unwrap_or_default(),
        envelope: None,
        created_at: row.created_at,
        attachments: Vec::new(),
        edited_at: row.edited_at,
        deleted: row.deleted_at.is_some(),
        reply_seq: row.reply_to,
        reply_to: None,
        reactions: Vec::new(),
        mentions: Vec::new(),
        mentions_everyone: false,
    }
}

/// What a page's messages already carry, so that [`History::complete`] does not read it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Nothing beyond the rows: read reactions and mentions.
    Nothing,
    /// Mentions (just resolved by an edit): read reactions.
    Mentions,
    /// Both (a message just stored has no reactions, and its mentions were just resolved).
    All,
    /// Both, and that there are no files (a message just stored without attachments): a new
    /// plain message costs no read at all.
    Everything,
}

/// What a member's new message holds, besides who writes it where.
#[derive(Debug, Clone, Copy, Default)]
pub struct Draft<'a> {
    pub text: Option<&'a str>,
    pub client_msg_id: Option<&'a str>,
    pub attachments: &'a [String],
    /// The sequence number of the message answered.
    pub reply_to: Option<i64>,
    /// The author's role in the room (none: the companion, or a guest in an ephemeral room).
    pub role: Option<RoomRole>,
    /// An end-to-end room's message, in place of `text`.
    pub envelope: Option<&'a Envelope>,
}

/// The associated data of a message body: its room and sequence number, so a body copied to
/// another row does not decrypt.
fn message_context(room_id: i64, seq: i64) -> String {
    format!("parlor:message:room:{room_id}:seq:{seq}")
}
