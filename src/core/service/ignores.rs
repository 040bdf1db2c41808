//! Ignore lists: an account ignores names, stealthily. The hub drops messages, typing,
//! whispers and conversation notices from ignored names on their way to the ignorer; history
//! is filtered the same way. The ignored side sees no difference.

use crate::auth::Identity;
use crate::core::{Bus, CoreError, Directive, Hub};
use crate::domain::Name;
use crate::domain::Principal;
use crate::moderation::Moderation;
use crate::rooms::{account_id, PlainMessage};
use std::sync::Arc;

/// Cheap to clone.
#[derive(Clone)]
pub struct Ignores {
    moderation: Arc<Moderation>,
    hub: Arc<Hub>,
    bus: Arc<dyn Bus>,
}

impl Ignores {
    pub fn new(moderation: Arc<Moderation>, hub: Arc<Hub>, bus: Arc<dyn Bus>) -> Self {
        Self {
            moderation,
            hub,
            bus,
        }
    }

    /// The names the caller ignores (case-folded).
    pub async fn list(&self, identity: &Identity) -> Result<Vec<String>, CoreError> {
        let user_id = account_id(identity)?;
        Ok(self.moderation.ignores_of(user_id).await?)
    }

    /// Ignores (`true`) or stops ignoring a name.
    pub async fn set(
        &self,
        identity: &Identity,
        name: &Name,
        ignore: bool,
    ) -> Result<(), CoreError> {
        let user_id = account_id(identity)?;
        if name.key() == identity.name_key() {
            return Err(CoreError::IgnoreSelf);
        }
        self.moderation
            .set_ignore(user_id, &name.key(), ignore)
            .await?;
        self.bus.direct(Directive::SetIgnore {
            principal: identity.principal,
            name_key: name.key(),
            ignore,
        });
        Ok(())
    }

    /// Loads an account's ignore list into the hub when it connects.
    pub(crate) async fn load(&self, identity: &Identity) -> Result<(), CoreError> {
        if let Principal::User(user_id) = identity.principal {
            for key in self.moderation.ignores_of(user_id).await? {
                self.hub.set_ignore(identity.principal, &key, true);
            }
        }
        Ok(())
    }

    /// Drops stored messages whose author the reader ignores.
    pub(crate) fn without_ignored(
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
