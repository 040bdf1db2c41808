//! User look-ups: the caller's own profile, anyone's public profile, who is online.

use super::extract::CurrentSession;
use super::{ApiError, ErrorResponse};
use crate::app::AppState;
use crate::auth::{Identity, IdentityKind, OnlineNames};
use crate::core::{Hub, LOBBY};
use crate::domain::Role;
use crate::error::ErrorCode;
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// A user's profile. `email` only appears on the caller's own profile.
#[derive(Serialize, ToSchema)]
pub struct Profile {
    username: String,
    kind: IdentityKind,
    #[schema(value_type = String, example = "user")]
    role: Role,
    online: bool,
    created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

impl Profile {
    /// The caller's own profile.
    pub fn of(identity: &Identity, hub: &Hub) -> Self {
        Self {
            username: identity.name.clone(),
            kind: identity.kind(),
            role: identity.role,
            online: hub.is_taken(&identity.name_key(), None),
            created_at: identity.created_at,
            email: identity.email.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OnlineResponse {
    online_clients: Vec<String>,
}

#[utoipa::path(get, path = "/api/user/@me", tag = "users",
    responses(
        (status = 200, description = "The caller's profile", body = Profile),
        (status = 401, description = "unauthenticated", body = ErrorResponse)))]
pub async fn me(State(state): State<AppState>, session: CurrentSession) -> Json<Profile> {
    Json(Profile::of(&session.identity, state.core.hub()))
}

#[utoipa::path(get, path = "/api/user/{name}", tag = "users",
    params(("name" = String, Path, description = "User name (case-insensitive)")),
    responses(
        (status = 200, description = "The user's public profile", body = Profile),
        (status = 404, description = "not_found", body = ErrorResponse)))]
pub async fn user(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Profile>, ApiError> {
    let hub = state.core.hub();
    let user = state
        .core
        .auth()
        .user_by_name(&name)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such user"))?;
    Ok(Json(Profile {
        online: hub.is_taken(&user.name.to_ascii_lowercase(), None),
        role: user.role,
        username: user.name,
        kind: IdentityKind::User,
        created_at: user.created_at,
        email: None,
    }))
}

#[utoipa::path(get, path = "/api/online", tag = "users",
    responses((status = 200, description = "Names of everyone in the lobby", body = OnlineResponse)))]
pub async fn online(State(state): State<AppState>) -> Json<OnlineResponse> {
    let online_clients = state
        .core
        .hub()
        .members(LOBBY, None, usize::MAX)
        .members
        .into_iter()
        .map(|u| u.name)
        .collect();
    Json(OnlineResponse { online_clients })
}
