//! Ignore lists: an account ignores names, stealthily. The hub drops messages, typing,
//! whispers and conversation notices from ignored names on their way to the ignorer; history
//! is filtered the same way. The ignored side sees no difference.

use super::{Core, CoreError};
use crate::auth::Identity;
use crate::domain::Name;
use crate::domain::Principal;
use crate::rooms::{account_id, PlainMessage};

impl Core {
    /// The names the caller ignores (case-folded).
    pub async fn ignores(&self, identity: &Identity) -> Result<Vec<String>, CoreError> {
        let user_id = account_id(identity)?;
        Ok(self.moderation.ignores_of(user_id).await?)
    }

    /// Ignores (`true`) or stops ignoring a name.
    pub async fn set_ignore(
        &self,
        identity: &Identity,
        name: &str,
        ignore: bool,
    ) -> Result<(), CoreError> {
        let user_id = account_id(identity)?;
        let name =
            Name::parse(name).map_err(|e| CoreError::InvalidPayload(format!("user: {e}")))?;
        if name.key() == identity.name_key() {
            return Err(CoreError::InvalidPayload(
                "user: you cannot ignore yourself".into(),
            ));
        }
        self.moderation
            .set_ignore(user_id, &name.key(), ignore)
            .await?;
        self.hub.set_ignore(identity.principal, &name.key(), ignore);
        Ok(())
    }

    /// Loads an account's ignore list into the hub when it connects.
    pub(super) async fn load_ignores(&self, identity: &Identity) -> Result<(), CoreError> {
        if let Principal::User(user_id) = identity.principal {
            for key in self.moderation.ignores_of(user_id).await? {
                self.hub.set_ignore(identity.principal, &key, true);
            }
        }
        Ok(())
    }

    /// Drops stored messages whose author the reader ignores.
    pub(super) fn without_ignored(
        &self,
        reader: Principal,
        messages: Vec<PlainMessage>,
    ) -> Vec<PlainMessage> {
        messages
            .into_iter()
            .filter(|m| {
                !self
                    .hub
                    .ignores(reader, &m.author_name.to_ascii_lowercase())
            })
            .collect()
    }
}
