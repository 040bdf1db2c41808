//! Errors of the moderation service, each with its stable code.

use crate::error::ErrorCode;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error("you may not act on someone at or above your own level")]
    Forbidden,
    #[error("no such user")]
    NoSuchUser,
    #[error("the last root account cannot be demoted or deleted")]
    LastRoot,
    #[error("{0}")]
    Invalid(&'static str),
    #[error("nothing to lift")]
    NothingToLift,
    /// `with_ip` for someone the server has no address of (never seen, or long ago).
    #[error("no known address for that user")]
    NoKnownAddress,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ModerationError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ModerationError::Forbidden | ModerationError::LastRoot => ErrorCode::Forbidden,
            ModerationError::NoSuchUser
            | ModerationError::NothingToLift
            | ModerationError::NoKnownAddress => ErrorCode::NotFound,
            ModerationError::Invalid(_) => ErrorCode::InvalidPayload,
            ModerationError::Store(StoreError::Database(_)) => ErrorCode::Unavailable,
            ModerationError::Store(_) => ErrorCode::Internal,
        }
    }
}
