//! Rooms of every kind — persistent rooms (creation, visibility, membership, invites, access
//! requests, moderation by room owners and admins), private conversations and ephemeral 1-on-1
//! rooms — and their encrypted history.
//!
//! These are services: they decide and store, and never touch connections. The chat core calls
//! them for real-time commands and adds the live effects (presence, fan-out, telling people);
//! the REST API reaches them through the core too, so both paths apply the same checks.
//!
//! [`Rooms`] handles persistent rooms themselves and hands out one service per concern:
//! [`History`] (sealed messages), [`Membership`] (joining, leaving, members), [`RoomAccess`]
//! (invites and requests), [`Conversations`], [`Ephemeral`] rooms and [`RoomsAdmin`]. They
//! share one `Directory` (store, keyring, settings, clock, and who may see which room).

mod access;
mod admin;
mod changes;
mod conversations;
mod directory;
mod ephemeral;
mod error;
mod history;
mod membership;
mod mentions;
mod room;
mod service;
mod undecryptable;
mod view;

pub use access::{CreateInvite, RoomAccess, REQUEST_TTL_MILLIS};
pub use admin::{AdminRoom, MessageOpener, RoomsAdmin};
pub use changes::{Deleted, MessageChanges, Reaction};
pub use conversations::{Conversations, Notice};
pub use ephemeral::Ephemeral;
pub use error::RoomError;
pub use history::{BodyOpener, Draft, History};
pub use membership::Membership;
pub use room::Room;
pub use service::{
    account_id, author_id, CreateRoom, Rooms, RoomsSettings, SettingsPatch, Visible,
};
pub use view::{
    Access, ArchiveView, ConversationState, ConversationView, EphemeralDoor, EphemeralView,
    InviteView, MemberView, OwnRequest, PlainMessage, ReactionView, ReplyView, RequestView,
    RoomListing, RoomView, Transcript, TranscriptLine,
};
