//! Who is online under which name, on any node. A guest's nick is unique among everyone
//! online, wherever they are connected; a moderator's kick or a whisper finds an online guest
//! by name on another node. The hub knows this node's names; the bus asks the others only when
//! a name is new here or not found here.

use crate::auth::{Identity, OnlineNames};
use crate::core::{Bus, ConnId, Hub};
use crate::domain::Principal;
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// Cheap to clone.
#[derive(Clone)]
pub struct OnlineRegistry {
    hub: Arc<Hub>,
    bus: Arc<dyn Bus>,
}

impl OnlineRegistry {
    pub fn new(hub: Arc<Hub>, bus: Arc<dyn Bus>) -> Self {
        Self { hub, bus }
    }

    /// The identity online under a case-folded name, on this node or another.
    pub async fn holder(&self, name_key: &str) -> Option<Principal> {
        match self.hub.principal_of(name_key) {
            Some(principal) => Some(principal),
            None => self.bus.name_holder(name_key).await,
        }
    }

    /// Whether anyone is online under a case-folded name.
    pub async fn is_online(&self, name_key: &str) -> bool {
        self.holder(name_key).await.is_some()
    }

    /// Claims an identity's name for one more connection; `false` when another identity is
    /// online under it, here or elsewhere.
    pub(crate) async fn claim(&self, identity: &Identity, conn: ConnId) -> bool {
        let name_key = identity.name_key();
        match self.hub.claim_name(identity, conn) {
            None => false,
            Some(false) => true,
            Some(true) => {
                let claimed = self.bus.claim_name(&name_key, identity.principal).await;
                if !claimed {
                    self.hub.release_name(&name_key);
                }
                claimed
            }
        }
    }

    /// Gives back one connection's claim; the other nodes hear when it was the last here.
    pub(crate) fn release(&self, name_key: &str) {
        if let Some(principal) = self.hub.release_name(name_key) {
            self.bus.release_name(name_key, principal);
        }
    }
}

impl OnlineNames for OnlineRegistry {
    fn is_taken<'a>(&'a self, name_key: &'a str, except: Option<Principal>) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            self.holder(name_key)
                .await
                .is_some_and(|principal| Some(principal) != except)
        })
    }
}
