//! Identity: registered accounts (password or key), guests, and the sessions that stand for
//! them. Passwords are hashed with argon2id off the async runtime, a bounded number at a time;
//! session tokens and account keys are random and stored only as SHA-256 hashes.
//!
//! This module decides *who* someone is. What they may do in the chat is the core's business.

mod account;
mod device;
mod error;
mod hashing;
mod identity;
mod password;
mod self_service;
mod service;
mod sessions;
mod throttle;
mod token;
mod working_memory;

pub use account::Account;
pub use error::AuthError;
pub use hashing::HashingLimits;
pub use identity::{Identity, IdentityKind, OnlineNames};
pub use password::{hash_password, PasswordParams};
pub use self_service::{OwnSession, Renamed};
pub use service::{Auth, AuthSettings, Login, Registered};
pub use sessions::SessionGrant;
pub use throttle::{SharedWindows, ThrottleSettings, Window};
pub use token::{hash_token, new_public_id, new_secret, SessionId};
