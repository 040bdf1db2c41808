//! Request extractors: JSON bodies whose rejections speak our error format, the caller's
//! session (cookie or bearer token), and the client's address.

use super::ApiError;
use crate::app::AppState;
use crate::auth::Identity;
use crate::error::ErrorCode;
use crate::gateway::session_cookie;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// A JSON body; malformed JSON, wrong types and unknown fields are all 422 `invalid_request`.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(ApiError::new(
                ErrorCode::InvalidRequest,
                rejection.body_text(),
            )),
        }
    }
}

/// The caller's session: its identity and the token that proved it.
pub struct CurrentSession {
    pub identity: Identity,
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)
            .or_else(|| session_cookie(&parts.headers))
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "no session"))?;
        let identity = state.core.auth().resolve(&token).await?;
        Ok(CurrentSession { identity })
    }
}

fn bearer_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|token| token.trim().to_owned())
}

/// The client's IP address (behind trusted proxies), as text: what sessions and guests record.
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, state).to_string()))
    }
}

/// The client's address: the peer's, or the forwarded one from a trusted proxy.
pub fn client_ip(parts: &Parts, state: &AppState) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
    state.client_ip(peer, &parts.headers)
}
