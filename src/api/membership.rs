//! Who belongs to a room, over REST: joining and leaving, members and their roles, removals
//! and room bans, invites and access requests. Every handler goes through the chat core's
//! membership service, which tells the people concerned at once.

use super::ErrorResponse;
use crate::domain::whole;
use crate::domain::RoomRole;
use crate::http::{user_name, AppState, Body, CurrentSession, HttpError, Path};
use crate::rooms::{CreateInvite, InviteView, MemberView, RequestView, RoomView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[utoipa::path(post, path = "/api/rooms/{slug}/membership", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 200, description = "Now a member (public rooms)", body = RoomView), (status = 403, description = "banned", body = ErrorResponse)))]
pub async fn join(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<Json<RoomView>, HttpError> {
    Ok(Json(
        state.chat.membership.join(&session.identity, &slug).await?,
    ))
}

#[utoipa::path(delete, path = "/api/rooms/{slug}/membership", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 204, description = "Left the room"), (status = 403, description = "the owner cannot leave", body = ErrorResponse)))]
pub async fn leave(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<StatusCode, HttpError> {
    state
        .chat
        .membership
        .leave(&session.identity, &slug)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    members: Vec<MemberView>,
}

#[utoipa::path(get, path = "/api/rooms/{slug}/members", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 200, body = MemberList), (status = 404, description = "not_found", body = ErrorResponse)))]
pub async fn members(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<Json<MemberList>, HttpError> {
    let members = state
        .chat
        .membership
        .members(&session.identity, &slug)
        .await?;
    Ok(Json(MemberList { members }))
}

#[utoipa::path(delete, path = "/api/rooms/{slug}/members/{name}", tag = "rooms",
    params(("slug" = String, Path), ("name" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 403, description = "forbidden", body = ErrorResponse),
        (status = 422, description = "invalid_payload: not a user name", body = ErrorResponse)))]
pub async fn remove_member(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, name)): Path<(String, String)>,
) -> Result<StatusCode, HttpError> {
    let name = user_name(&name)?;
    state
        .chat
        .membership
        .remove(&session.identity, &slug, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// `admin` or `member` (ownership is not given away).
    #[schema(schema_with = room_role_schema)]
    role: RoomRole,
}

/// The roles a member can hold, as the wire spells them.
fn room_role_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["member", "admin", "owner"]))
        .build()
}

#[utoipa::path(put, path = "/api/rooms/{slug}/members/{name}/role", tag = "rooms",
    params(("slug" = String, Path), ("name" = String, Path)), request_body = RoleBody,
    responses((status = 204, description = "Role changed"), (status = 403, description = "owner only", body = ErrorResponse),
        (status = 422, description = "invalid_payload: not a user name", body = ErrorResponse)))]
pub async fn set_role(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, name)): Path<(String, String)>,
    Body(body): Body<RoleBody>,
) -> Result<StatusCode, HttpError> {
    let name = user_name(&name)?;
    state
        .chat
        .membership
        .set_role(&session.identity, &slug, &name, body.role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/rooms/{slug}/bans/{name}", tag = "rooms",
    params(("slug" = String, Path), ("name" = String, Path)),
    responses((status = 204, description = "Banned from the room"), (status = 403, description = "forbidden", body = ErrorResponse),
        (status = 422, description = "invalid_payload: not a user name", body = ErrorResponse)))]
pub async fn ban(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, name)): Path<(String, String)>,
) -> Result<StatusCode, HttpError> {
    let name = user_name(&name)?;
    state
        .chat
        .membership
        .ban(&session.identity, &slug, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/rooms/{slug}/bans/{name}", tag = "rooms",
    params(("slug" = String, Path), ("name" = String, Path)),
    responses((status = 204, description = "Unbanned"), (status = 404, description = "not_found", body = ErrorResponse),
        (status = 422, description = "invalid_payload: not a user name", body = ErrorResponse)))]
pub async fn unban(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, name)): Path<(String, String)>,
) -> Result<StatusCode, HttpError> {
    let name = user_name(&name)?;
    state
        .chat
        .membership
        .unban(&session.identity, &slug, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// Lifetime in seconds (up to 30 days; default 7 days).
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 1, maximum = 2592000)]
    ttl_secs: Option<i64>,
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 1, maximum = 100000)]
    max_uses: Option<i64>,
    /// Only the account with this e-mail may use the invite.
    #[schema(
        format = "email",
        max_length = 254,
        pattern = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    )]
    email: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedInvite {
    /// The secret token, shown this once.
    token: String,
    /// The link to share: `/invite/<token>`.
    path: String,
    invite: InviteView,
}

#[utoipa::path(post, path = "/api/rooms/{slug}/invites", tag = "rooms", params(("slug" = String, Path)), request_body = InviteBody,
    responses((status = 201, body = CreatedInvite),
        (status = 400, description = "invalid_room: a setting out of range, or not an e-mail address", body = ErrorResponse),
        (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn create_invite(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
    Body(body): Body<InviteBody>,
) -> Result<(StatusCode, Json<CreatedInvite>), HttpError> {
    let new = CreateInvite {
        ttl_secs: body.ttl_secs.unwrap_or(7 * 24 * 3600),
        max_uses: body.max_uses,
        email: body.email,
    };
    let (token, invite) = state
        .chat
        .membership
        .invite(&session.identity, &slug, new)
        .await?;
    let path = format!("/invite/{token}");
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvite {
            token,
            path,
            invite,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct InviteList {
    invites: Vec<InviteView>,
}

#[utoipa::path(get, path = "/api/rooms/{slug}/invites", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 200, body = InviteList), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn invites(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<Json<InviteList>, HttpError> {
    let invites = state
        .chat
        .membership
        .invites(&session.identity, &slug)
        .await?;
    Ok(Json(InviteList { invites }))
}

#[utoipa::path(delete, path = "/api/rooms/{slug}/invites/{id}", tag = "rooms",
    params(("slug" = String, Path), ("id" = i64, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, description = "not_found", body = ErrorResponse)))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<StatusCode, HttpError> {
    state
        .chat
        .membership
        .revoke_invite(&session.identity, &slug, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/invites/{token}", tag = "rooms", params(("token" = String, Path)),
    responses((status = 200, description = "Now a member", body = RoomView),
        (status = 410, description = "invite_unusable: unknown, expired, used up, revoked, for another e-mail, or a room you are banned from (one answer for all)", body = ErrorResponse)))]
pub async fn redeem(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(token): Path<String>,
) -> Result<Json<RoomView>, HttpError> {
    Ok(Json(
        state
            .chat
            .membership
            .redeem(&session.identity, &token)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/rooms/{slug}/requests", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 202, description = "Recorded by address unless you see a room there; the same for a private room as for an address no room holds")))]
pub async fn request_access(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<StatusCode, HttpError> {
    state
        .chat
        .membership
        .request_access(&session.identity, &slug)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Serialize, ToSchema)]
pub struct RequestList {
    requests: Vec<RequestView>,
}

#[utoipa::path(get, path = "/api/rooms/{slug}/requests", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 200, body = RequestList), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn requests(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<Json<RequestList>, HttpError> {
    let requests = state
        .chat
        .membership
        .requests(&session.identity, &slug)
        .await?;
    Ok(Json(RequestList { requests }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    approve: bool,
}

#[utoipa::path(post, path = "/api/rooms/{slug}/requests/{name}", tag = "rooms",
    params(("slug" = String, Path), ("name" = String, Path)), request_body = DecisionBody,
    responses((status = 204, description = "Decided; the requester is told live"), (status = 404, description = "not_found", body = ErrorResponse),
        (status = 422, description = "invalid_payload: not a user name", body = ErrorResponse)))]
pub async fn decide(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, name)): Path<(String, String)>,
    Body(body): Body<DecisionBody>,
) -> Result<StatusCode, HttpError> {
    let name = user_name(&name)?;
    state
        .chat
        .membership
        .decide(&session.identity, &slug, &name, body.approve)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
