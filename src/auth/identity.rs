//! Who is behind a session.

use crate::domain::{Principal, Role};
use serde::Serialize;

use super::SessionId;

/// Whether an identity is a registered account or a guest.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    Guest,
    User,
}

/// A resolved identity, as the rest of the server sees it.
#[derive(Clone, Debug)]
pub struct Identity {
    pub principal: Principal,
    pub name: String,
    pub role: Role,
    pub session: SessionId,
    /// For guests: the public id audit logs show. For users: `None`.
    pub public_id: Option<String>,
    pub email: Option<String>,
    pub created_at: i64,
    /// A moderator verified this account (guests never are).
    pub verified: bool,
}

impl Identity {
    pub fn kind(&self) -> IdentityKind {
        match self.principal {
            Principal::User(_) => IdentityKind::User,
            Principal::Guest(_) => IdentityKind::Guest,
        }
    }

    /// The case-folded name, the key of online uniqueness.
    pub fn name_key(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

/// Who is online right now, as far as name uniqueness is concerned. Implemented by the chat
/// core's presence registry; the identity layer only asks.
pub trait OnlineNames: Send + Sync {
    /// Whether an identity other than `except` is online under this case-folded name (on any
    /// node: the answer may need a round trip).
    fn is_taken<'a>(
        &'a self,
        name_key: &'a str,
        except: Option<Principal>,
    ) -> futures_util::future::BoxFuture<'a, bool>;
}
