//! The state every handler and framing receives: configuration, the parsed network lists and
//! origins, the connection gate, the chat core, the metrics and the tasks that must finish
//! before the server stops. Built once by `app`.

use super::gate::Gate;
use super::origin::{Origin, Scheme};
use crate::config::Config;
use crate::core::Chat;
use crate::domain::{client_address, Networks};
use crate::metrics::Metrics;
use crate::store::Store;
use axum::http::HeaderMap;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;
use tokio_util::task::TaskTracker;

/// Everything a handler may need. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    pub config: Config,
    /// This node's name (`node_id`, or drawn at start).
    pub node: String,
    /// `admin_cidrs` and `trusted_proxies`, parsed once.
    pub admin_networks: Networks,
    pub trusted_proxies: Networks,
    /// `public_origins`, parsed.
    pub public_origins: Vec<Origin>,
    /// Counts real-time connections at the transport level.
    pub gate: Gate,
    pub store: Store,
    pub chat: Chat,
    /// What `/metrics` renders; the edge counts refusals and connections into it.
    pub metrics: Metrics,
    /// Connection tasks, awaited (with a grace period) on shutdown.
    pub tasks: TaskTracker,
}

impl AppState {
    pub fn new(app: App) -> Self {
        Self(Arc::new(app))
    }
}

impl App {
    /// The client's address: the peer's, or the one a trusted proxy forwarded (see
    /// [`client_address`]).
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        client_address(peer, forwarded, &self.trusted_proxies)
    }

    /// The scheme the client used to reach this server: `https` only when a trusted proxy says
    /// so in `X-Forwarded-Proto` (its first, client-side value); plain `http` otherwise.
    pub fn scheme(&self, peer: IpAddr, headers: &HeaderMap) -> Scheme {
        if !self.trusted_proxies.contains(peer) {
            return Scheme::Http;
        }
        let proto = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim);
        match proto {
            Some(proto) if proto.eq_ignore_ascii_case("https") => Scheme::Https,
            _ => Scheme::Http,
        }
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
