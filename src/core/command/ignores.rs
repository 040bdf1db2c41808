//! `ignore` and `unignore`: an account's stealthy ignore list.

use super::{decode_by_shape, Apply, Done};
use crate::core::{Chat, Connection, CoreError};
use crate::domain::Name;
use serde::Deserialize;

/// Start ignoring a name.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreUser {
    pub user: Name,
}

/// Stop ignoring a name.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnignoreUser {
    pub user: Name,
}

decode_by_shape!(IgnoreUser, UnignoreUser);

impl Apply for IgnoreUser {
    type Reply = Done;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Done, CoreError> {
        chat.ignores
            .set(conn.identified()?, &self.user, true)
            .await?;
        Ok(Done {})
    }
}

impl Apply for UnignoreUser {
    type Reply = Done;

    async fn apply(self, chat: &Chat, conn: &mut Connection) -> Result<Done, CoreError> {
        chat.ignores
            .set(conn.identified()?, &self.user, false)
            .await?;
        Ok(Done {})
    }
}
