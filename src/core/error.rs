//! Errors of the chat core, each with its stable protocol code.

use crate::auth::AuthError;
use crate::domain::MessageTextError;
use crate::error::{ErrorBody, ErrorCode};
use crate::moderation::ModerationError;
use crate::rooms::RoomError;

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Room(#[from] RoomError),
    #[error(transparent)]
    Moderation(#[from] ModerationError),
    #[error("you are banned from this chat{}", reason_suffix(.0))]
    Banned(String),
    #[error("you are muted: you can read but not write")]
    Muted,
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    #[error("invalid payload for {0}")]
    InvalidPayload(String),
    #[error("invalid frame: {0}")]
    InvalidFrame(String),
    #[error("identify first")]
    NotIdentified,
    #[error("this connection is already identified")]
    AlreadyIdentified,
    #[error("that nick is in use")]
    NickTaken,
    #[error("no such room")]
    NotFound,
    #[error("join the room first")]
    NotInRoom,
    #[error(transparent)]
    Message(#[from] MessageTextError),
    /// Refused for sending too fast; how long until the next one is taken, when known.
    #[error("too many messages; slow down")]
    RateLimited(Option<std::time::Duration>),
    #[error("this user already has a /ws connection")]
    AlreadyConnected,
    #[error("nobody online by that name")]
    NobodyOnline,
    #[error("registered users talk in conversations (pm_open); whispers are for guests")]
    ConversationRequired,
    #[error("no such admin action")]
    NoSuchAction,
    #[error("you cannot ignore yourself")]
    IgnoreSelf,
    #[error("{0}")]
    QuotaExceeded(&'static str),
    #[error(transparent)]
    InvalidKeys(#[from] crate::domain::KeyError),
    #[error(transparent)]
    File(#[from] crate::files::LibraryError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
}

impl CoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::Auth(e) => e.code(),
            CoreError::Room(e) => e.code(),
            CoreError::Moderation(e) => e.code(),
            CoreError::Banned(_) => ErrorCode::Banned,
            CoreError::Muted => ErrorCode::Muted,
            CoreError::UnknownCommand(_) => ErrorCode::UnknownCommand,
            CoreError::InvalidPayload(_) => ErrorCode::InvalidPayload,
            CoreError::InvalidFrame(_) => ErrorCode::InvalidFrame,
            CoreError::NotIdentified => ErrorCode::Unauthenticated,
            CoreError::AlreadyIdentified => ErrorCode::AlreadyIdentified,
            CoreError::NickTaken => ErrorCode::NickTaken,
            CoreError::NotFound => ErrorCode::NotFound,
            CoreError::NotInRoom => ErrorCode::NotInRoom,
            CoreError::Message(MessageTextError::Empty) => ErrorCode::EmptyMessage,
            CoreError::Message(MessageTextError::TooLong { .. }) => ErrorCode::MessageTooLong,
            CoreError::RateLimited(_) => ErrorCode::RateLimited,
            CoreError::AlreadyConnected => ErrorCode::AlreadyConnected,
            CoreError::NobodyOnline => ErrorCode::NotFound,
            CoreError::ConversationRequired | CoreError::IgnoreSelf => ErrorCode::Forbidden,
            CoreError::NoSuchAction => ErrorCode::NotFound,
            CoreError::QuotaExceeded(_) => ErrorCode::QuotaExceeded,
            CoreError::InvalidKeys(_) => ErrorCode::InvalidKeys,
            CoreError::File(err) => file_code(err),
            CoreError::Store(crate::store::StoreError::Database(_)) => ErrorCode::Unavailable,
            CoreError::Store(_) | CoreError::Crypto(_) => ErrorCode::Internal,
        }
    }

    /// Names the command a payload error is about (`send: missing field text`).
    pub fn in_command(self, name: &str) -> Self {
        match self {
            CoreError::InvalidPayload(detail) => {
                CoreError::InvalidPayload(format!("{name}: {detail}"))
            }
            other => other,
        }
    }

    /// The reply body. Internal failures are logged here and never described to the client.
    pub fn body(&self) -> ErrorBody {
        let code = self.code();
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(error = %self, "command failed");
            return ErrorBody::new(code, "the server could not complete the request");
        }
        // Whole seconds, rounded up: a client that waits this long is not refused again.
        let retry_after = match self {
            CoreError::Auth(err) => err.retry_after(),
            CoreError::RateLimited(Some(wait)) => {
                Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).map(|s| s.max(1))
            }
            CoreError::RateLimited(None) => Some(1),
            CoreError::Room(RoomError::SlowMode(secs)) => Some((*secs).max(1)),
            _ => None,
        };
        ErrorBody::new(code, self.to_string()).retry_after(retry_after)
    }
}

fn file_code(err: &crate::files::LibraryError) -> ErrorCode {
    use crate::files::{FileStoreError, LibraryError};
    match err {
        LibraryError::NotAllowed(_) => ErrorCode::UnsupportedMediaType,
        LibraryError::Refused(_) => ErrorCode::MediaNotAllowed,
        LibraryError::Unreadable(_) => ErrorCode::UnreadableFile,
        LibraryError::Store(FileStoreError::TooLarge { .. }) => ErrorCode::PayloadTooLarge,
        LibraryError::Store(FileStoreError::Interrupted(_)) => ErrorCode::InvalidRequest,
        LibraryError::Store(FileStoreError::Store(_)) => ErrorCode::Unavailable,
        LibraryError::Store(_) => ErrorCode::Internal,
    }
}
