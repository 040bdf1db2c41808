//! Errors of the room service, each with its stable code.

use crate::crypto::CryptoError;
use crate::domain::{MessageTextError, RoomRuleError};
use crate::error::ErrorCode;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    #[error("rooms are for registered accounts; register or log in")]
    RegistrationRequired,
    /// Also what a private room answers to someone who may not see it.
    #[error("no such room")]
    NotFound,
    #[error("you are banned from this room")]
    Banned,
    #[error("your role in this room does not allow that")]
    Forbidden,
    #[error("that room address is taken")]
    SlugTaken,
    #[error(transparent)]
    Rule(#[from] RoomRuleError),
    /// Every refusal of an invite token, whatever the reason, so that a token tells nothing
    /// about the room behind it.
    #[error("this invite cannot be used: it is unknown, has expired, was used up or revoked, or is meant for someone else")]
    InviteUnusable,
    #[error("no such user in this room")]
    NoSuchMember,
    #[error("no such user")]
    NoSuchUser,
    #[error("a conversation needs another user")]
    WithYourself,
    #[error("no free room code right now; try again")]
    NoFreeCode,
    #[error("device: an id of 8 to 128 characters that this browser keeps")]
    DeviceRequired,
    #[error("this room has not been opened by its host yet")]
    NotActive,
    #[error("this room is locked to the two devices that joined it first")]
    Locked,
    #[error("a stored record could not be read")]
    Corrupt,
    #[error("invalid setting: {0}")]
    InvalidSetting(&'static str),
    #[error(transparent)]
    Message(#[from] MessageTextError),
    #[error("slow mode: wait {0} s between messages")]
    SlowMode(u64),
    #[error("an attachment is not one of your uploads for this room waiting to be sent")]
    AttachmentUnavailable,
    #[error("join the room first")]
    NotMember,
    #[error("no such message in this room")]
    NoSuchMessage,
    #[error("this message can no longer be edited")]
    EditWindowClosed,
    #[error("this message has as many reactions as it may have")]
    TooManyReactions,
    #[error("a message may mention at most {0} people")]
    TooManyMentions(usize),
    #[error("only the room's owner and admins may mention everyone")]
    MentionNotAllowed,
    #[error("not an emoji: 1 to 8 characters, no letters, digits or spaces")]
    NotAnEmoji,
    #[error("{0} does not take private messages from you")]
    NotAcceptingMessages(String),
    #[error("this room is end-to-end encrypted: send an envelope (see docs/e2ee.md), not text")]
    E2eRequired,
    #[error("this room is not end-to-end encrypted: send text, not an envelope")]
    NotE2e,
    #[error("epoch {0} is not this room's current key epoch ({1}): read its keys again")]
    StaleEpoch(i64, i64),
    #[error("you hold no key of this room's current epoch; read its keys again")]
    EpochKeyMissing,
    #[error("another member already made this epoch's key; read it")]
    EpochKeyExists,
    #[error("set up your end-to-end keys first")]
    KeysRequired,
    #[error("invalid keys: {0}")]
    InvalidKeys(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RoomError {
    pub fn code(&self) -> ErrorCode {
        match self {
            RoomError::RegistrationRequired => ErrorCode::RegistrationRequired,
            RoomError::NotFound | RoomError::NoSuchMember | RoomError::NoSuchUser => {
                ErrorCode::NotFound
            }
            RoomError::NoFreeCode => ErrorCode::Unavailable,
            RoomError::WithYourself => ErrorCode::InvalidRequest,
            RoomError::DeviceRequired => ErrorCode::InvalidPayload,
            RoomError::NotActive => ErrorCode::RoomNotActive,
            RoomError::Locked => ErrorCode::RoomLocked,
            RoomError::Corrupt => ErrorCode::Internal,
            RoomError::Banned => ErrorCode::Banned,
            RoomError::Forbidden => ErrorCode::Forbidden,
            RoomError::SlugTaken => ErrorCode::RoomTaken,
            RoomError::Rule(_) | RoomError::InvalidSetting(_) => ErrorCode::InvalidRoom,
            RoomError::InviteUnusable => ErrorCode::InviteUnusable,
            RoomError::Message(MessageTextError::Empty) => ErrorCode::EmptyMessage,
            RoomError::Message(MessageTextError::TooLong { .. }) => ErrorCode::MessageTooLong,
            RoomError::SlowMode(_) => ErrorCode::RateLimited,
            RoomError::AttachmentUnavailable => ErrorCode::AttachmentUnavailable,
            RoomError::NoSuchMessage => ErrorCode::NotFound,
            RoomError::NotMember => ErrorCode::NotInRoom,
            RoomError::EditWindowClosed => ErrorCode::EditWindowClosed,
            RoomError::TooManyReactions => ErrorCode::TooManyReactions,
            RoomError::TooManyMentions(_) => ErrorCode::TooManyMentions,
            RoomError::MentionNotAllowed => ErrorCode::MentionNotAllowed,
            RoomError::NotAcceptingMessages(_) => ErrorCode::NotAcceptingMessages,
            RoomError::NotAnEmoji => ErrorCode::InvalidPayload,
            RoomError::E2eRequired => ErrorCode::E2eRequired,
            RoomError::NotE2e => ErrorCode::NotE2e,
            RoomError::StaleEpoch(..) => ErrorCode::StaleEpoch,
            RoomError::EpochKeyMissing => ErrorCode::EpochKeyMissing,
            RoomError::EpochKeyExists => ErrorCode::EpochKeyExists,
            RoomError::KeysRequired => ErrorCode::KeysRequired,
            RoomError::InvalidKeys(_) => ErrorCode::InvalidKeys,
            RoomError::Store(StoreError::Database(_))
            | RoomError::Crypto(CryptoError::Store(StoreError::Database(_))) => {
                ErrorCode::Unavailable
            }
            RoomError::Crypto(_) | RoomError::Store(_) => ErrorCode::Internal,
        }
    }
}
