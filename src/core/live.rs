//! The live connections as the admin panel lists them: who, from where, in which rooms, since
//! when, on which node. Connection ids are unique in the cluster (each node counts from its
//! own base), so the panel closes one by its id whichever node holds it.

use super::event::UserView;
use super::hub::{lock, Hub};
use super::ConnId;
use crate::domain::Millis;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::PoisonError;

/// A live connection as the admin panel lists it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LiveConnection {
    pub id: ConnId,
    /// The node it is connected to.
    pub node: String,
    /// Who it is, once identified.
    #[schema(value_type = Option<Object>)]
    pub user: Option<UserView>,
    /// `user:<id>` or `guest:<public id>`, as the audit log names it.
    pub identity: Option<String>,
    #[schema(value_type = String)]
    pub ip: IpAddr,
    pub rooms: Vec<String>,
    pub since: Millis,
}

impl Hub {
    /// Every open connection: who, from where, in which rooms, since when.
    pub fn live_connections(&self, node: &str) -> Vec<LiveConnection> {
        let mut rooms_of: HashMap<ConnId, Vec<String>> = HashMap::new();
        for (name, room) in self
            .rooms
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            for conn in room.iter().flat_map(|(_, m)| &m.conns) {
                rooms_of.entry(conn.id).or_default().push(name.clone());
            }
        }
        let mut live: Vec<LiveConnection> = lock(&self.conns)
            .values()
            .map(|r| LiveConnection {
                id: r.handle.id,
                node: node.to_owned(),
                user: r.user.clone(),
                identity: r.identity.clone(),
                ip: r.ip,
                rooms: rooms_of.remove(&r.handle.id).unwrap_or_default(),
                since: r.since,
            })
            .collect();
        live.sort_by_key(|c| c.id);
        live
    }
}
