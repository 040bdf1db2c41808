//! Rooms of every kind — persistent rooms (creation, visibility, membership, invites, access
//! requests, moderation by room owners and admins), private conversations and ephemeral 1-on-1
//! rooms — and their encrypted history.
//!
//! This is a service: it decides and stores, and never touches connections. The chat core calls
//! it for real-time commands and adds the live effects (presence, fan-out, telling people); the
//! REST API reaches it through the core too, so both paths apply the same checks.

mod access;
mod admin;
mod conversations;
mod ephemeral;
mod error;
mod service;
mod view;

pub use access::CreateInvite;
pub use admin::{AdminRoom, MessageOpener};
pub use conversations::Notice;
pub use error::RoomError;
pub use service::{
    account_id, author_id, CreateRoom, Rooms, RoomsSettings, SettingsPatch, Visible,
};
pub use view::{
    Access, ArchiveView, ConversationState, ConversationView, EphemeralDoor, EphemeralView,
    InviteView, MemberView, PlainMessage, RequestView, RoomListing, RoomView, Transcript,
    TranscriptLine,
};
