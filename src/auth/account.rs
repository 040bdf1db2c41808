//! A registered account as the identity layer hands it out: its stored row without the
//! secrets (password hash, key hash) and with its role and badge typed.

use crate::domain::{Millis, Role};
use crate::store::UserRow;

/// A registered account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub created_at: Millis,
    /// A moderator verified the account.
    pub verified: bool,
    /// When its premium ends (`None`: no premium; see `core::service::premium`).
    pub premium_until: Option<Millis>,
}

impl From<UserRow> for Account {
    fn from(row: UserRow) -> Self {
        Self {
            role: row.role(),
            id: row.id,
            name: row.name,
            email: row.email,
            created_at: row.created_at,
            verified: row.verified != 0,
            premium_until: row.premium_until,
        }
    }
}
