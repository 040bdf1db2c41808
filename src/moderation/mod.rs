//! Global moderation: bans (by name, by address) and mutes that persist across restarts and may
//! expire, the verified badge and global roles, the rule that nobody acts on a peer or above,
//! and the audit log entry of every action.
//!
//! This is a service: it decides and stores. Live effects — closing a banned user's
//! connections, notices where an action happened, refreshed badges — are the core's part.

mod audit;
mod error;
mod parties;
mod records;
mod service;

pub use audit::{identity_key, AuditLog};
pub use error::ModerationError;
pub use parties::{Actor, Target};
pub use records::{AuditEntryView, AuditFilter, Sanction};
pub use service::Moderation;
