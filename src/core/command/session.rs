//! `identify`: who this connection is.

use super::{decode_by_shape, Apply};
use crate::core::service::Identified;
use crate::core::{Chat, Connection, CoreError};
use serde::Deserialize;

/// Resolve who this connection is: a session token, a new guest nick, or neither (then the
/// connection's own credential, such as its session cookie, is used).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identify {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub nick: Option<String>,
}

decode_by_shape!(Identify);

impl Apply for Identify {
    type Reply = Identified;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Identified, CoreError> {
        chat.sessions.identify(conn, self).await
    }
}
