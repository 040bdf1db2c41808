//! Errors of the identity layer.

use crate::error::ErrorCode;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    InvalidUsername(String),
    #[error("{0}")]
    InvalidNick(String),
    #[error("not a valid e-mail address")]
    InvalidEmail,
    #[error("the password must be at least {0} characters long")]
    PasswordTooShort(usize),
    #[error("this account logs in with a key and has no password")]
    NoPassword,
    #[error("that user name is taken")]
    UsernameTaken,
    #[error("that nick is in use")]
    NickTaken,
    #[error("that e-mail address is already registered")]
    EmailTaken,
    #[error("unknown key, user or password")]
    InvalidCredentials,
    #[error("no valid session")]
    Unauthenticated,
    #[error("only an account that signs in with a key has one to replace")]
    NotKeyAccount,
    #[error("no such session")]
    NoSuchSession,
    #[error("too many attempts; try again in {0} s")]
    Throttled(u64),
    /// Every password hashing slot is busy and the queue is full.
    #[error("the server is busy checking passwords; try again in {0} s")]
    Busy(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl AuthError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::InvalidUsername(_) => ErrorCode::InvalidUsername,
            AuthError::Throttled(_) | AuthError::Busy(_) => ErrorCode::RateLimited,
            AuthError::InvalidNick(_) => ErrorCode::InvalidNick,
            AuthError::InvalidEmail => ErrorCode::InvalidEmail,
            AuthError::PasswordTooShort(_) => ErrorCode::PasswordTooShort,
            AuthError::NoPassword => ErrorCode::NoPassword,
            AuthError::UsernameTaken => ErrorCode::UsernameTaken,
            AuthError::NickTaken => ErrorCode::NickTaken,
            AuthError::EmailTaken => ErrorCode::EmailTaken,
            AuthError::InvalidCredentials => ErrorCode::InvalidCredentials,
            AuthError::Unauthenticated => ErrorCode::Unauthenticated,
            AuthError::NotKeyAccount => ErrorCode::Forbidden,
            AuthError::NoSuchSession => ErrorCode::NotFound,
            AuthError::Store(StoreError::Database(_)) => ErrorCode::Unavailable,
            AuthError::Store(_) | AuthError::Hashing(_) => ErrorCode::Internal,
        }
    }

    /// Seconds after which a refused attempt may succeed (the `retry_after` of the reply).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AuthError::Throttled(secs) | AuthError::Busy(secs) => Some(*secs),
            _ => None,
        }
    }
}
