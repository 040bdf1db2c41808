//! Admission: the one check a request passes before it may open a real-time connection (on
//! any framing), use the admin API or read the operator's `/metrics`. It settles, in this
//! order:
//!
//! 1. **which page sent it**: browsers send `Origin`, and only pages of this server (same
//!    scheme, host and port) or a configured public origin may use a user's cookie. A real-time
//!    client that sends no `Origin` is not a browser and passes; an admin change authenticated
//!    by cookie must carry an allowed `Origin` (a cross-site form or script cannot act with an
//!    admin's cookie);
//! 2. **where the request comes from**: the client address behind trusted proxies, and whether
//!    that address may come in — through the connection [`Gate`](super::Gate) (per address, in
//!    all, handshakes in progress), or inside an admin network;
//! 3. **what credential it carries**: a bearer token or the `session` cookie. Resolving it into
//!    an identity is the caller's business (the framings do it at `identify`).
//!
//! Every framing is admitted here before anything is opened: `/gateway` and `/ws` through the
//! [`Admitted`] extractor, Engine.IO requests by the Socket.IO framing's edge middleware before
//! socketioxide sees them.

use super::extract::peer;
use super::gate::{Pass, Refusal};
use super::origin::origin_allowed;
use super::{AppState, HttpError};
use crate::core::ConnInfo;
use crate::error::ErrorCode;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE, ORIGIN};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::net::IpAddr;

/// What a request wants to come in for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    /// A real-time connection on one of the framings.
    RealTime,
    /// The admin API; `changes` for anything but a read.
    Admin { changes: bool },
    /// The operator's endpoints (`/metrics`): only from an admin network, and without a
    /// credential (Prometheus scrapes with none).
    Operator,
}

/// How a request proves who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer …`: never sent by a browser on its own.
    Bearer(String),
    /// The `session` cookie: sent by the browser with every request to this server.
    Cookie(String),
}

impl Credential {
    /// The bearer token if there is one, else the session cookie.
    pub fn of(headers: &HeaderMap) -> Option<Self> {
        bearer_token(headers)
            .map(Credential::Bearer)
            .or_else(|| session_cookie(headers).map(Credential::Cookie))
    }

    pub fn token(&self) -> &str {
        match self {
            Credential::Bearer(token) | Credential::Cookie(token) => token,
        }
    }

    pub fn into_token(self) -> String {
        match self {
            Credential::Bearer(token) | Credential::Cookie(token) => token,
        }
    }
}

/// A request that passed admission.
#[derive(Clone, Debug)]
pub struct Admitted {
    /// The client's address (behind trusted proxies).
    pub ip: IpAddr,
    /// Its credential, if it carries one. Real-time connections only look at the cookie (their
    /// clients send tokens in `identify`).
    pub credential: Option<Credential>,
    /// A real-time connection's place behind the gate: keep it for as long as the connection
    /// lives.
    pub pass: Option<Pass>,
}

impl Admitted {
    /// The connection's address and cookie credential, as the core opens it.
    pub fn into_conn_info(self) -> ConnInfo {
        ConnInfo {
            ip: self.ip,
            credential: self.credential.map(Credential::into_token),
        }
    }
}

/// A real-time upgrade request that passed admission ([`Door::RealTime`]).
impl FromRequestParts<AppState> for Admitted {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        state
            .admit(peer(parts), &parts.headers, Door::RealTime)
            .await
    }
}

impl From<Refusal> for HttpError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Address => HttpError::new(
                ErrorCode::RateLimited,
                "too many connections from this address",
            ),
            Refusal::Full => HttpError::new(
                ErrorCode::Unavailable,
                "the server holds as many connections as it can; try again later",
            ),
            Refusal::Handshakes => HttpError::new(
                ErrorCode::Unavailable,
                "too many connections are opening at once; try again shortly",
            ),
        }
    }
}

impl AppState {
    /// Admits a request from `peer` with these headers through `door`, or says why not.
    pub async fn admit(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
        door: Door,
    ) -> Result<Admitted, HttpError> {
        let ip = self.client_ip(peer, headers);
        let credential = match door {
            Door::RealTime => session_cookie(headers).map(Credential::Cookie),
            Door::Admin { .. } => Credential::of(headers),
            Door::Operator => None,
        };
        let mut pass = None;
        match door {
            Door::RealTime => {
                self.check_origin(peer, headers)?;
                pass = Some(self.gate.enter_cluster(ip).await?);
            }
            Door::Operator => self.inside_admin_networks(ip, "this endpoint")?,
            Door::Admin { changes } => {
                self.inside_admin_networks(ip, "the admin API")?;
                let by_cookie = !matches!(credential, Some(Credential::Bearer(_)));
                let from_this_server = headers.contains_key(ORIGIN)
                    && origin_allowed(headers, &self.public_origins, self.scheme(peer, headers));
                if changes && by_cookie && !from_this_server {
                    return Err(HttpError::new(
                        ErrorCode::OriginNotAllowed,
                        "admin actions need an Origin header of this server",
                    ));
                }
            }
        }
        Ok(Admitted {
            ip,
            credential,
            pass,
        })
    }

    /// Refuses a client outside the admin networks: `what` is not reachable from there.
    fn inside_admin_networks(&self, ip: IpAddr, what: &str) -> Result<(), HttpError> {
        if self.admin_networks.contains(ip) {
            Ok(())
        } else {
            Err(HttpError::new(
                ErrorCode::Forbidden,
                format!("{what} is not reachable from this network"),
            ))
        }
    }

    /// Refuses a request whose `Origin` is neither this server nor a public origin (a request
    /// without `Origin` passes: it does not come from a browser page).
    pub fn check_origin(&self, peer: IpAddr, headers: &HeaderMap) -> Result<(), HttpError> {
        if origin_allowed(headers, &self.public_origins, self.scheme(peer, headers)) {
            Ok(())
        } else {
            Err(HttpError::new(
                ErrorCode::OriginNotAllowed,
                "this origin may not open a connection",
            ))
        }
    }
}

/// The `session` cookie's value, if the request carries one.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "session")
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|token| token.trim().to_owned())
}
