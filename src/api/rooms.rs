//! Persistent rooms over REST: the room list, creation, settings, history, posting, members,
//! bans, invites and access requests. Every handler goes through the chat core, so the checks
//! and live effects are those of the real-time path.

use super::extract::{Body, ClientIp, CurrentSession};
use super::{ApiError, ErrorResponse};
use crate::app::AppState;
use crate::core::{History, Posted};
use crate::domain::RoomRole;
use crate::rooms::{
    CreateInvite, CreateRoom, InviteView, MemberView, RequestView, RoomListing, RoomView,
    SettingsPatch,
};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct RoomList {
    rooms: Vec<RoomListing>,
}

#[utoipa::path(get, path = "/api/rooms", tag = "rooms",
    responses((status = 200, body = RoomList), (status = 403, description = "registration_required", body = ErrorResponse)))]
pub async fn list(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<RoomList>, ApiError> {
    let rooms = state.core.rooms().list(&session.identity).await?;
    Ok(Json(RoomList { rooms }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoomBody {
    /// 2–40 characters of a-z, 0-9 and '-'.
    slug: String,
    name: Option<String>,
    topic: Option<String>,
    #[serde(default)]
    private: bool,
}

#[utoipa::path(post, path = "/api/rooms", tag = "rooms", request_body = NewRoomBody,
    responses((status = 201, body = RoomView), (status = 400, description = "invalid_room", body = ErrorResponse),
        (status = 409, description = "room_taken", body = ErrorResponse)))]
pub async fn create(
    State(state): State<AppState>,
    session: CurrentSession,
    Body(body): Body<NewRoomBody>,
) -> Result<(StatusCode, Json<RoomView>), ApiError> {
    let new = CreateRoom {
        slug: body.slug,
        name: body.name,
        topic: body.topic,
        private: body.private,
    };
    let room = state.core.create_room(&session.identity, new).await?;
    Ok((StatusCode::CREATED, Json(room)))
}

#[utoipa::path(get, path = "/api/rooms/{slug}", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 200, body = RoomView), (status = 404, description = "not_found (also for private rooms you are not in)", body = ErrorResponse)))]
pub async fn show(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<Json<RoomView>, ApiError> {
    Ok(Json(state.core.room(&session.identity, &slug).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    name: Option<String>,
    topic: Option<String>,
    private: Option<bool>,
    allow_images: Option<bool>,
    allow_videos: Option<bool>,
    slow_mode_secs: Option<i64>,
    /// A number of days, or `null` to keep messages forever.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    retention_days: Option<Option<i64>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

#[utoipa::path(patch, path = "/api/rooms/{slug}", tag = "rooms", params(("slug" = String, Path)), request_body = SettingsBody,
    responses((status = 200, body = RoomView), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn update(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
    Body(body): Body<SettingsBody>,
) -> Result<Json<RoomView>, ApiError> {
    let patch = SettingsPatch {
        name: body.name,
        topic: body.topic,
        private: body.private,
        allow_images: body.allow_images,
        allow_videos: body.allow_videos,
        slow_mode_secs: body.slow_mode_secs,
        retention_days: body.retention_days,
    };
    Ok(Json(
        state
            .core
            .update_room(&session.identity, &slug, patch)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/rooms/{slug}", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 204, description = "Deleted with its messages, invites and key"), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn delete(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.core.delete_room(&session.identity, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Messages before this sequence number (scrolling back); the latest page when absent.
    before: Option<i64>,
    /// Messages after this sequence number (catching up).
    after: Option<i64>,
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/rooms/{slug}/messages", tag = "rooms", params(("slug" = String, Path), HistoryQuery),
    responses((status = 200, description = "`{room, messages}`, oldest first"), (status = 404, description = "not_found", body = ErrorResponse)))]
pub async fn history(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let query = History {
        room: slug,
        before: query.before,
        after: query.after,
        limit: query.limit,
    };
    Ok(Json(state.core.history(&session.identity, query).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostBody {
    text: String,
    /// Idempotency id (1–64 characters): a retry with the same id posts nothing new.
    client_msg_id: Option<String>,
}

#[utoipa::path(post, path = "/api/rooms/{slug}/messages", tag = "rooms", params(("slug" = String, Path)), request_body = PostBody,
    responses((status = 201, description = "Stored (durably) and delivered", body = Posted), (status = 409, description = "not_in_room", body = ErrorResponse)))]
pub async fn post(
    State(state): State<AppState>,
    session: CurrentSession,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    Body(body): Body<PostBody>,
) -> Result<(StatusCode, Json<Posted>), ApiError> {
    let posted = state
        .core
        .post(
            &session.identity,
            &ip,
            &slug,
            &body.text,
            body.client_msg_id.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(posted)))
}

#[utoipa::path(delete, path = "/api/rooms/{slug}/messages", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 204, description = "History cleared"), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn clear(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.core.clear_history(&session.identity, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/rooms/{slug}/membership", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 200, description = "Now a member (public rooms)", body = RoomView), (status = 403, description = "banned", body = ErrorResponse)))]
pub async fn join(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<Json<RoomView>, ApiError> {
    let visible = state
        .core
        .rooms()
        .membership()
        .join(&session.identity, &slug, None)
        .await?;
    Ok(Json(RoomView::of(&visible.room, visible.role)))
}

#[utoipa::path(delete, path = "/api/rooms/{slug}/membership", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 204, description = "Left the room"), (status = 403, description = "the owner cannot leave", body = ErrorResponse)))]
pub async fn leave(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.core.leave_room(&session.identity, &slug).await?;
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
) -> Result<Json<MemberList>, ApiError> {
    let members = state
        .core
        .rooms()
        .membership()
        .list(&session.identity, &slug)
        .await?;
    Ok(Json(MemberList { members }))
}

#[utoipa::path(delete, path = "/api/rooms/{slug}/members/{name}", tag = "rooms",
    params(("slug" = String, Path), ("name" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn remove_member(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .core
        .remove_member(&session.identity, &slug, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// `admin` or `member`.
    #[schema(value_type = String)]
    role: RoomRole,
}

#[utoipa::path(put, path = "/api/rooms/{slug}/members/{name}/role", tag = "rooms",
    params(("slug" = String, Path), ("name" = String, Path)), request_body = RoleBody,
    responses((status = 204, description = "Role changed"), (status = 403, description = "owner only", body = ErrorResponse)))]
pub async fn set_role(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, name)): Path<(String, String)>,
    Body(body): Body<RoleBody>,
) -> Result<StatusCode, ApiError> {
    state
        .core
        .set_member_role(&session.identity, &slug, &name, body.role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/rooms/{slug}/bans/{name}", tag = "rooms",
    params(("slug" = String, Path), ("name" = String, Path)),
    responses((status = 204, description = "Banned from the room"), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn ban(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .core
        .ban_member(&session.identity, &slug, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/rooms/{slug}/bans/{name}", tag = "rooms",
    params(("slug" = String, Path), ("name" = String, Path)),
    responses((status = 204, description = "Unbanned"), (status = 404, description = "not_found", body = ErrorResponse)))]
pub async fn unban(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .core
        .rooms()
        .membership()
        .unban(&session.identity, &slug, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// Lifetime in seconds (up to 30 days; default 7 days).
    ttl_secs: Option<i64>,
    max_uses: Option<i64>,
    /// Only the account with this e-mail may use the invite.
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
    responses((status = 201, body = CreatedInvite), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn create_invite(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
    Body(body): Body<InviteBody>,
) -> Result<(StatusCode, Json<CreatedInvite>), ApiError> {
    let new = CreateInvite {
        ttl_secs: body.ttl_secs.unwrap_or(7 * 24 * 3600),
        max_uses: body.max_uses,
        email: body.email,
    };
    let (token, invite) = state
        .core
        .create_invite(&session.identity, &slug, new)
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
) -> Result<Json<InviteList>, ApiError> {
    let invites = state
        .core
        .rooms()
        .access()
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
) -> Result<StatusCode, ApiError> {
    state
        .core
        .rooms()
        .access()
        .revoke_invite(&session.identity, &slug, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/invites/{token}", tag = "rooms", params(("token" = String, Path)),
    responses((status = 200, description = "Now a member", body = RoomView),
        (status = 410, description = "invite_unusable (expired, used up, revoked)", body = ErrorResponse),
        (status = 404, description = "not_found", body = ErrorResponse)))]
pub async fn redeem(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(token): Path<String>,
) -> Result<Json<RoomView>, ApiError> {
    Ok(Json(
        state.core.redeem_invite(&session.identity, &token).await?,
    ))
}

#[utoipa::path(post, path = "/api/rooms/{slug}/requests", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 202, description = "Recorded if the room is private and you may ask; the answer is the same for rooms that do not exist")))]
pub async fn request_access(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.core.request_access(&session.identity, &slug).await?;
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
) -> Result<Json<RequestList>, ApiError> {
    let requests = state
        .core
        .rooms()
        .access()
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
    responses((status = 204, description = "Decided; the requester is told live"), (status = 404, description = "not_found", body = ErrorResponse)))]
pub async fn decide(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, name)): Path<(String, String)>,
    Body(body): Body<DecisionBody>,
) -> Result<StatusCode, ApiError> {
    state
        .core
        .decide_request(&session.identity, &slug, &name, body.approve)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
