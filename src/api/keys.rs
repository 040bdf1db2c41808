//! End-to-end keys over REST (see `docs/e2ee.md`): an account publishes its public keys with
//! its private keys wrapped in the browser, fetches them back on another device, and reads
//! anyone's public keys and safety number.

use super::ErrorResponse;
use crate::core::{KeysView, NewKeys};
use crate::error::ErrorCode;
use crate::http::{user_name, AppState, Body, CurrentSession, HttpError, OwnerSession, Path};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// Base64 of the ECDH P-256 public key's SubjectPublicKeyInfo (uncompressed point).
    agreement_public: String,
    /// Base64 of the ECDSA P-256 public key's SubjectPublicKeyInfo (uncompressed point).
    signing_public: String,
    /// The private keys wrapped by a key from the password (`docs/e2ee.md`).
    #[schema(value_type = Object)]
    password_wrapped: Box<RawValue>,
    /// The private keys wrapped by the recovery key.
    #[schema(value_type = Object)]
    recovery_wrapped: Box<RawValue>,
}

#[utoipa::path(put, path = "/api/user/@me/keys", tag = "users", request_body = PublishBody,
    responses((status = 200, description = "Set or replaced (a replacement is a key change others are warned of)", body = KeysView),
        (status = 400, description = "invalid_keys: a public key that is not P-256, a wrapped document that does not fit the format", body = ErrorResponse),
        (status = 403, description = "registration_required", body = ErrorResponse)))]
pub async fn publish(
    State(state): State<AppState>,
    session: OwnerSession,
    Body(body): Body<PublishBody>,
) -> Result<Json<KeysView>, HttpError> {
    let keys = NewKeys {
        agreement_public: &body.agreement_public,
        signing_public: &body.signing_public,
        password_wrapped: body.password_wrapped.get(),
        recovery_wrapped: body.recovery_wrapped.get(),
    };
    Ok(Json(
        state.chat.keys.publish(&session.identity, keys).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewrapBody {
    #[schema(value_type = Option<Object>)]
    password_wrapped: Option<Box<RawValue>>,
    #[schema(value_type = Option<Object>)]
    recovery_wrapped: Option<Box<RawValue>>,
}

#[utoipa::path(put, path = "/api/user/@me/keys/wrapped", tag = "users", request_body = RewrapBody,
    responses((status = 200, description = "The same private keys, wrapped anew (a new password, a new recovery key)", body = KeysView),
        (status = 400, description = "invalid_keys", body = ErrorResponse),
        (status = 403, description = "registration_required", body = ErrorResponse),
        (status = 404, description = "not_found: no keys yet", body = ErrorResponse)))]
pub async fn rewrap(
    State(state): State<AppState>,
    session: OwnerSession,
    Body(body): Body<RewrapBody>,
) -> Result<Json<KeysView>, HttpError> {
    let password = body.password_wrapped.as_deref().map(RawValue::get);
    let recovery = body.recovery_wrapped.as_deref().map(RawValue::get);
    Ok(Json(
        state
            .chat
            .keys
            .rewrap(&session.identity, password, recovery)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/user/@me/keys", tag = "users",
    responses((status = 200, description = "The caller's keys with both wrapped documents", body = KeysView),
        (status = 403, description = "registration_required", body = ErrorResponse),
        (status = 404, description = "not_found: no keys yet", body = ErrorResponse)))]
pub async fn own(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<KeysView>, HttpError> {
    Ok(Json(state.chat.keys.own(&session.identity).await?))
}

#[utoipa::path(get, path = "/api/user/{name}/keys", tag = "users",
    params(("name" = String, Path, description = "User name (case-insensitive)")),
    responses((status = 200, description = "The account's public keys and safety number (never the wrapped documents)", body = KeysView),
        (status = 404, description = "not_found: no such account, or no keys", body = ErrorResponse),
        (status = 422, description = "invalid_payload: not a user name", body = ErrorResponse)))]
pub async fn public(
    State(state): State<AppState>,
    _session: CurrentSession,
    Path(name): Path<String>,
) -> Result<Json<KeysView>, HttpError> {
    let name = user_name(&name)?;
    state
        .chat
        .keys
        .public(name.as_str())
        .await?
        .map(Json)
        .ok_or_else(|| HttpError::new(ErrorCode::NotFound, "no keys for that name"))
}
