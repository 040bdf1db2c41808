//! The core's services, one concern each. Commands (from any framing) and REST handlers call
//! the same methods; no service hands another's internals to the edge.

mod accounts;
mod changes;
mod companion;
mod conversations;
mod export;
mod file_sweep;
mod files;
mod identify_watch;
mod ignores;
mod key_directory;
mod lobby;
mod locks;
mod membership;
mod moderation;
mod my_account;
mod names;
mod oversight;
mod payments;
mod premium;
mod presence;
mod room_keys;
mod rooms;
mod run_once;
mod sessions;
mod speech;
mod upkeep;

pub use accounts::Accounts;
pub use changes::{Changed, LiveChanges, Reacted};
pub(crate) use companion::{start as start_companion, CompanionWiring};
pub use companion::{Bot, CompanionSetup};
pub use conversations::Conversations;
pub use export::{ExportError, ExportParts, ExportSubject, Exports, OwnExport, EXPORTS_AT_ONCE};
pub use file_sweep::FileSweep;
pub use files::{FileSettings, Files, Readable, Upload};
pub use ignores::Ignores;
pub use key_directory::{KeyDirectory, KeysView, NewKeys};
pub use lobby::{Lobby, LobbyJoined};
pub use locks::{Ordered, RoomLocks};
pub use membership::Membership;
pub use moderation::{actor, LiveModeration};
pub use my_account::{MyAccount, MyAccountParts};
pub use names::OnlineRegistry;
pub use oversight::{AdminUser, Oversight};
pub use payments::{AccountRef, Channel, Outcome, Payment, PaymentGrant, Payments, Settled};
pub use premium::{
    Premium, PremiumChange, PremiumError, PremiumStatus, MAX_PERIOD_DAYS, PREMIUM_FOREVER,
};
pub use presence::{MembersPage, Presence};
pub use room_keys::{
    HeldKey, KeyMember, MemberKeys, RoomKeys, RoomKeysView, StoredKeys, MAX_SEALED_KEYS,
};
pub(crate) use rooms::events as stored_events;
pub use rooms::{HistoryPage, Joined, LiveRooms, Posted, RoomJoined, Said};
pub use run_once::{RunOnce, LEASE};
pub use sessions::{Identified, IdentifyDeadline, Sessions};
pub use speech::{Speech, Utterance};
pub use upkeep::Upkeep;
