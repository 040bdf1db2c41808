//! Request extractors whose rejections speak the error envelope — JSON bodies, query strings,
//! path parameters — the caller's session (bearer token or cookie), and the client's address.
//!
//! Handlers take these instead of axum's own `Json`, `Query` and `Path`, whose rejections are
//! plain text. Input that does not parse is 422 `invalid_request` wherever it sits (body, query
//! or path); a body over the size limit (axum's default, 2 MiB) is 413 `payload_too_large`, one
//! without a JSON content type 415 `unsupported_media_type`.

use super::admission::Credential;
use super::{AppState, HttpError, Peer};
use crate::auth::{Identity, IdentityKind};
use crate::error::ErrorCode;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::net::IpAddr;

/// A JSON object body; malformed JSON, another JSON value than an object, wrong types and
/// unknown fields are all 422 `invalid_request`,
/// a body over the limit 413 `payload_too_large`, one not sent as JSON 415
/// `unsupported_media_type`.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // A raw value is checked for well-formed JSON without building a tree: the body is
        // then read once, straight into `T`.
        let axum::Json(raw) = axum::Json::<Box<RawValue>>::from_request(req, state)
            .await
            .map_err(|rejection| body_refused(&rejection))?;
        // Every body is an object: serde would also fill a struct from an array, by position.
        if !raw.get().starts_with('{') {
            return Err(HttpError::new(
                ErrorCode::InvalidRequest,
                "the request body must be a JSON object",
            ));
        }
        serde_json::from_str(raw.get()).map(Body).map_err(|e| {
            HttpError::new(
                ErrorCode::InvalidRequest,
                format!("the request body does not fit: {e}"),
            )
        })
    }
}

fn body_refused(rejection: &JsonRejection) -> HttpError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return HttpError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than the server accepts",
        );
    }
    if let JsonRejection::MissingJsonContentType(_) = rejection {
        return HttpError::new(
            ErrorCode::UnsupportedMediaType,
            "the request body must be JSON, sent with `Content-Type: application/json`",
        );
    }
    HttpError::new(ErrorCode::InvalidRequest, rejection.body_text())
}

/// A query string; one that does not parse (a wrong type, an unknown or missing parameter) is
/// 422 `invalid_request`.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(query_refused(&rejection)),
        }
    }
}

fn query_refused(rejection: &QueryRejection) -> HttpError {
    HttpError::new(ErrorCode::InvalidRequest, rejection.body_text())
}

/// Path parameters; one that does not parse (not a number, not UTF-8) is 422
/// `invalid_request`.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(path_refused(&rejection)),
        }
    }
}

fn path_refused(rejection: &PathRejection) -> HttpError {
    if let PathRejection::MissingPathParams(_) = rejection {
        // A handler mounted on a route without its parameters: our bug, not the client's.
        tracing::error!(error = %rejection.body_text(), "path parameters missing");
        return HttpError::new(ErrorCode::Internal, "the server could not read the path");
    }
    HttpError::new(ErrorCode::InvalidRequest, rejection.body_text())
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
        let agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok());
        let identity = state
            .chat
            .accounts
            .resolve_from(credential.token(), agent)
            .await?;
        Ok(CurrentSession { identity })
    }
}

/// The caller's session, on a request that changes the account itself (its name, e-mail,
/// sessions, or deletes it). A session cookie counts only from this server's own pages (an
/// `Origin`, when sent, must be allowed), on top of the cookie's `SameSite=Lax`: another site
/// cannot make a visitor's browser change their account.
pub struct OwnerSession {
    pub identity: Identity,
}

impl FromRequestParts<AppState> for OwnerSession {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(Credential::Cookie(_)) = Credential::of(&parts.headers) {
            state.check_origin(peer(parts), &parts.headers)?;
        }
        let CurrentSession { identity } = CurrentSession::from_request_parts(parts, state).await?;
        Ok(OwnerSession { identity })
    }
}

/// The guest a request comes from, on a request that may make that guest an account
/// (`POST /api/register`). A session cookie counts only from this server's own pages (an
/// `Origin`, when sent, must be allowed; the cookie is `SameSite=Lax` besides), so another site
/// cannot turn a visitor's guest into an account of its choosing. No credential, an account's
/// session, or one that no longer resolves: `None` — registering needs no session.
pub struct GuestCaller(pub Option<Identity>);

impl FromRequestParts<AppState> for GuestCaller {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(credential) = Credential::of(&parts.headers) else {
            return Ok(Self(None));
        };
        if matches!(credential, Credential::Cookie(_)) {
            state.check_origin(peer(parts), &parts.headers)?;
        }
        let identity = state.chat.accounts.resolve(credential.token()).await.ok();
        Ok(Self(
            identity.filter(|identity| identity.kind() == IdentityKind::Guest),
        ))
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
    peer_of(&parts.extensions)
}

/// [`peer`], from a request's extensions.
pub fn peer_of(extensions: &Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<Peer>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.addr.ip())
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
