//! Pure domain rules and types: identities, names, roles, rooms, message text, rate windows.
//!
//! Nothing in here does I/O or knows about HTTP, WebSocket or SQL. Input from the outside is
//! parsed into these types at the edge (`Name::parse`, `MessageText::parse`); inside the server a
//! value of one of these types is valid by construction.

mod conversation;
mod e2e_envelope;
mod e2e_keys;
mod email;
mod file;
mod mention;
mod message;
mod name;
mod network;
mod preferences;
mod principal;
mod rate;
mod role;
mod room;
mod room_name;
pub mod whole;

pub use conversation::{
    offered_names, pm_members, pm_room_name, RoomCode, RoomCodeError, RoomKind, CODE_ALPHABET,
};
pub use e2e_envelope::{Envelope, EnvelopeError, SealedKey, StoredJson, MAX_ENVELOPE_CIPHERTEXT};
pub use e2e_keys::{
    fingerprint, hex, safety_number, Kdf, KeyError, PublicKey, Wrapped, MIN_PBKDF2_ITERATIONS,
};
pub use email::{Email, EmailError};
pub use file::{FileId, FileIdError, FileName, MAX_ATTACHMENTS};
pub use mention::{is_reaction_emoji, EveryoneMentions, Mentioned};
pub use message::{ClientMsgId, ClientMsgIdError, Content, MessageText, MessageTextError};
pub use name::{Name, NameError};
pub use network::{client_address, NetworkError, Networks};
pub use preferences::{
    Clock, Density, DmFrom, FontSize, Preferences, Theme, MAX_PREFERENCES_BYTES,
};
pub use principal::Principal;
pub use rate::RateWindow;
pub use role::Role;
pub use room::{parse_room_name, parse_topic, RoomRole, RoomRuleError, RoomSlug, LOBBY};
pub use room_name::{RoomName, RoomNameError};

/// Milliseconds since the Unix epoch, UTC: the one timestamp format of the protocol and store.
pub type Millis = i64;
