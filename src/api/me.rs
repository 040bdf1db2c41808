//! The caller's own account: preferences, sessions, name, e-mail, key, and deleting it.
//! Changes to the account itself go through [`OwnerSession`] (a cookie counts only from this
//! server's pages); changes that could lock the owner out need the current password.

use super::users::Profile;
use super::ErrorResponse;
use crate::auth::OwnSession;
use crate::domain::Preferences;
use crate::http::{AppState, Body, ClientIp, CurrentSession, HttpError, OwnerSession, Path};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[utoipa::path(get, path = "/api/user/@me/preferences", tag = "users",
    responses((status = 200, description = "The caller's preferences (defaults for what was never set)", body = Preferences),
        (status = 403, description = "registration_required: guests keep theirs in the browser", body = ErrorResponse)))]
pub async fn preferences(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<Preferences>, HttpError> {
    Ok(Json(
        state.chat.my_account.preferences(&session.identity).await?,
    ))
}

#[utoipa::path(put, path = "/api/user/@me/preferences", tag = "users", request_body = Preferences,
    responses((status = 200, description = "Stored; every connection of the account gets `preferences_changed`", body = Preferences),
        (status = 403, description = "registration_required", body = ErrorResponse),
        (status = 413, description = "payload_too_large: more than 4 KiB", body = ErrorResponse),
        (status = 422, description = "invalid_request: an unknown field or a value out of range", body = ErrorResponse)))]
pub async fn set_preferences(
    State(state): State<AppState>,
    session: OwnerSession,
    Body(preferences): Body<Preferences>,
) -> Result<Json<Preferences>, HttpError> {
    Ok(Json(
        state
            .chat
            .my_account
            .set_preferences(&session.identity, preferences)
            .await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    sessions: Vec<OwnSession>,
}

#[utoipa::path(get, path = "/api/user/@me/sessions", tag = "users",
    responses((status = 200, description = "The caller's live sessions, most recently used first", body = SessionList),
        (status = 403, description = "registration_required", body = ErrorResponse)))]
pub async fn sessions(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<SessionList>, HttpError> {
    let sessions = state.chat.my_account.sessions(&session.identity).await?;
    Ok(Json(SessionList { sessions }))
}

#[utoipa::path(delete, path = "/api/user/@me/sessions/{id}", tag = "users",
    params(("id" = String, Path, description = "A session's `id` from the list")),
    responses((status = 204, description = "Revoked; its pages close (`closing: session_revoked`)"),
        (status = 403, description = "registration_required", body = ErrorResponse),
        (status = 404, description = "not_found: no live session of the caller's has this id", body = ErrorResponse)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    session: OwnerSession,
    Path(id): Path<String>,
) -> Result<StatusCode, HttpError> {
    state
        .chat
        .my_account
        .revoke_session(&session.identity, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/user/@me/sessions", tag = "users",
    responses((status = 204, description = "Every session but this one revoked; their pages close"),
        (status = 403, description = "registration_required", body = ErrorResponse)))]
pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    session: OwnerSession,
) -> Result<StatusCode, HttpError> {
    state
        .chat
        .my_account
        .revoke_other_sessions(&session.identity)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    /// The new name, under registration's rules.
    username: String,
    /// The current password (password accounts; key accounts give none).
    password: Option<String>,
}

#[utoipa::path(post, path = "/api/user/@me/username", tag = "users", request_body = RenameBody,
    responses((status = 200, description = "Renamed; the rooms the account is in get `user_renamed`, its connections close (`closing: renamed`) and come back under the new name", body = Profile),
        (status = 401, description = "invalid_credentials: a wrong password", body = ErrorResponse),
        (status = 403, description = "registration_required", body = ErrorResponse),
        (status = 409, description = "username_taken (also a name someone gave up less than `name_release_days` ago)", body = ErrorResponse),
        (status = 400, description = "invalid_username", body = ErrorResponse),
        (status = 429, description = "rate_limited: the address's registration budget (`retry_after`)", body = ErrorResponse)))]
pub async fn rename(
    State(state): State<AppState>,
    session: OwnerSession,
    ClientIp(ip): ClientIp,
    Body(body): Body<RenameBody>,
) -> Result<Json<Profile>, HttpError> {
    let identity = session.identity;
    let name = state
        .chat
        .my_account
        .rename(&identity, &body.username, body.password, ip)
        .await?;
    let mut renamed = identity.clone();
    renamed.name = name;
    Ok(Json(Profile::of(&renamed, false)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    /// The new address, or `null` to remove it.
    email: Option<String>,
    /// The current password (password accounts).
    password: Option<String>,
}

#[utoipa::path(post, path = "/api/user/@me/email", tag = "users", request_body = EmailBody,
    responses((status = 200, description = "Changed", body = Profile),
        (status = 401, description = "invalid_credentials", body = ErrorResponse),
        (status = 403, description = "registration_required", body = ErrorResponse),
        (status = 409, description = "email_taken", body = ErrorResponse),
        (status = 400, description = "invalid_email", body = ErrorResponse)))]
pub async fn change_email(
    State(state): State<AppState>,
    session: OwnerSession,
    Body(body): Body<EmailBody>,
) -> Result<Json<Profile>, HttpError> {
    let identity = session.identity;
    let email = state
        .chat
        .my_account
        .change_email(&identity, body.email.as_deref(), body.password)
        .await?;
    let mut changed = identity.clone();
    changed.email = email;
    Ok(Json(Profile::of(&changed, false)))
}

#[derive(Serialize, ToSchema)]
pub struct NewKey {
    /// The account's new key, shown this once. The old key no longer signs in.
    key: String,
}

#[utoipa::path(post, path = "/api/user/@me/key", tag = "users",
    responses((status = 200, description = "A new key; sessions already open stay", body = NewKey),
        (status = 403, description = "forbidden: a password account has no key (or registration_required)", body = ErrorResponse)))]
pub async fn rotate_key(
    State(state): State<AppState>,
    session: OwnerSession,
) -> Result<Json<NewKey>, HttpError> {
    let key = state.chat.my_account.rotate_key(&session.identity).await?;
    Ok(Json(NewKey { key }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteBody {
    /// The current password (password accounts).
    password: Option<String>,
}

#[utoipa::path(delete, path = "/api/user/@me", tag = "users", request_body = DeleteBody,
    responses((status = 204, description = "Deleted: the account, its sessions, the rooms it owns (their members get `room_removed`), its files, memberships, preferences, ignore list and companion memory; its messages in others' rooms stay"),
        (status = 401, description = "invalid_credentials", body = ErrorResponse),
        (status = 403, description = "registration_required", body = ErrorResponse)))]
pub async fn delete_me(
    State(state): State<AppState>,
    session: OwnerSession,
    ClientIp(ip): ClientIp,
    Body(body): Body<DeleteBody>,
) -> Result<StatusCode, HttpError> {
    state
        .chat
        .my_account
        .delete(&session.identity, body.password, ip)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
