//! Request extractors: JSON bodies whose rejections speak our error format, the caller's
//! session (bearer token or cookie), and the client's address.

use super::admission::Credential;
use super::{AppState, HttpError};
use crate::auth::Identity;
use crate::error::ErrorCode;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// A JSON body; malformed JSON, wrong types and unknown fields are all 422 `invalid_request`.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(HttpError::new(
                ErrorCode::InvalidRequest,
                rejection.body_text(),
            )),
        }
    }
}

/// The caller's session: the identity its bearer token or `session` cookie proves.
pub struct CurrentSession {
    pub identity: Identity,
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let credential = Credential::of(&parts.headers)
            .ok_or_else(|| HttpError::new(ErrorCode::Unauthenticated, "no session"))?;
        let identity = state.chat.accounts.resolve(credential.token()).await?;
        Ok(CurrentSession { identity })
    }
}

/// The client's address (behind trusted proxies).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(state.client_ip(peer(parts), &parts.headers)))
    }
}

/// The TCP peer of a request (unspecified when the server was not started with connect info).
pub fn peer(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip())
}

/// A room name from a path. A name that cannot be one is a room that does not exist.
pub fn room_name(raw: &str) -> Result<crate::domain::RoomName, HttpError> {
    crate::domain::RoomName::parse(raw)
        .map_err(|_| HttpError::from(crate::core::CoreError::NotFound))
}

/// A user name from a path, parsed at the edge like every name a client sends: a string that
/// cannot be a name is `invalid_payload` (as a bad `user` field of a command is), never looked
/// up.
pub fn user_name(raw: &str) -> Result<crate::domain::Name, HttpError> {
    crate::domain::Name::parse(raw)
        .map_err(|e| HttpError::from(crate::core::CoreError::InvalidPayload(format!("user: {e}"))))
}
