//! User look-ups: the caller's own profile, anyone's public profile, who is online.

use super::ErrorResponse;
use crate::auth::{Identity, IdentityKind};
use crate::domain::{Principal, Role};
use crate::error::ErrorCode;
use crate::http::{user_name, AppState, CurrentSession, HttpError, Path};
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// A user's profile. `email`, `premium` and `premium_until` only appear on the caller's own
/// profile (`GET /api/user/@me`).
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
    /// Whether the account's premium is in force now.
    #[serde(skip_serializing_if = "Option::is_none")]
    premium: Option<bool>,
    /// When its premium ends (UTC millis; `null` without premium; 253402300799999: forever).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    premium_until: Option<Option<i64>>,
    /// The AI companion's account (always online while the server has one). Only when `true`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    bot: bool,
    /// On the caller's own account: it signs in with a key (a bot or script), not a password.
    #[serde(skip_serializing_if = "Option::is_none")]
    key_account: Option<bool>,
}

impl Profile {
    /// The caller's own profile; `online` on any node.
    pub fn of(identity: &Identity, online: bool) -> Self {
        Self {
            username: identity.name.clone(),
            kind: identity.kind(),
            role: identity.role,
            online,
            created_at: identity.created_at,
            email: identity.email.clone(),
            premium: None,
            premium_until: None,
            bot: false,
            key_account: None,
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
pub async fn me(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<Profile>, HttpError> {
    let online = state
        .chat
        .names
        .is_online(&session.identity.name_key())
        .await;
    let mut profile = Profile::of(&session.identity, online);
    if let Principal::User(id) = session.identity.principal {
        let status = state
            .chat
            .premium
            .status(id)
            .await
            .map_err(|e| HttpError::from(crate::core::PremiumError::from(e).body()))?;
        profile.premium = Some(status.active);
        profile.premium_until = Some(status.premium_until);
        profile.key_account = Some(
            state
                .chat
                .my_account
                .is_key_account(&session.identity)
                .await?,
        );
    }
    Ok(Json(profile))
}

#[utoipa::path(get, path = "/api/user/{name}", tag = "users",
    params(("name" = String, Path, description = "User name (case-insensitive)")),
    responses(
        (status = 200, description = "The user's public profile", body = Profile),
        (status = 404, description = "not_found", body = ErrorResponse),
        (status = 422, description = "invalid_payload: not a user name", body = ErrorResponse)))]
pub async fn user(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Profile>, HttpError> {
    let name = user_name(&name)?;
    let user = state
        .chat
        .accounts
        .user(name.as_str())
        .await?
        .ok_or_else(|| HttpError::new(ErrorCode::NotFound, "no such user"))?;
    // The companion has no connection, yet answers at once: it is online while it exists (and
    // its name is a bot's: the server does not start if `ai_name` is a person's account).
    let bot =
        state.chat.companion.is_some() && user.name.eq_ignore_ascii_case(&state.config.ai_name);
    let shown = state
        .chat
        .my_account
        .preferences_of(user.id)
        .await?
        .show_online;
    Ok(Json(Profile {
        online: bot
            || (shown
                && state
                    .chat
                    .names
                    .is_online(&user.name.to_ascii_lowercase())
                    .await),
        bot,
        role: user.role,
        username: user.name,
        kind: IdentityKind::User,
        created_at: user.created_at,
        email: None,
        premium: None,
        premium_until: None,
        key_account: None,
    }))
}

#[utoipa::path(get, path = "/api/online", tag = "users",
    responses((status = 200, description = "Names of everyone in the lobby, but accounts that chose not to show as online", body = OnlineResponse)))]
pub async fn online(State(state): State<AppState>) -> Result<Json<OnlineResponse>, HttpError> {
    let hidden = state.chat.my_account.appearing_offline().await?;
    let online_clients = state
        .chat
        .presence
        .lobby_names()
        .into_iter()
        .filter(|name| !hidden.contains(&name.to_ascii_lowercase()))
        .collect();
    Ok(Json(OnlineResponse { online_clients }))
}
