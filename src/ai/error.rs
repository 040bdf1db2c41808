//! Why the companion did not take a message, each with its stable code.

use crate::crypto::CryptoError;
use crate::error::{ErrorBody, ErrorCode};
use crate::store::StoreError;
use std::time::Duration;

/// The companion layer's one error type.
#[derive(Debug, thiserror::Error)]
pub enum CompanionError {
    /// No model server is configured: the bot does not exist.
    #[error("the companion is not enabled on this server")]
    Disabled,
    /// The user already has a reply coming, or every place in the line is taken.
    #[error("the companion is busy; try again in a moment")]
    Busy,
    /// More than `ai_messages_per_minute` from one user.
    #[error("too many messages to the companion; slow down")]
    RateLimited { retry_after: Duration },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The chat did not take the bot's reply (the conversation went, the bot was muted, …).
    #[error("the chat refused the reply ({})", .0.as_str())]
    Refused(ErrorCode),
}

impl CompanionError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CompanionError::Disabled => ErrorCode::AiDisabled,
            CompanionError::Busy => ErrorCode::AiBusy,
            CompanionError::RateLimited { .. } => ErrorCode::RateLimited,
            CompanionError::Store(_) => ErrorCode::Unavailable,
            CompanionError::Crypto(_) => ErrorCode::Internal,
            CompanionError::Refused(code) => *code,
        }
    }

    /// The error as clients get it; internal failures are logged here and described to nobody.
    pub fn body(&self) -> ErrorBody {
        let code = self.code();
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(error = %self, "the companion failed");
            return ErrorBody::new(code, "the server could not complete the request");
        }
        ErrorBody::new(code, self.to_string()).retry_after(self.retry_after())
    }

    /// Seconds to wait, for refusals that lift by themselves.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            CompanionError::RateLimited { retry_after } => Some(retry_after.as_secs().max(1)),
            _ => None,
        }
    }
}
