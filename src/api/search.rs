//! Message search over REST: `GET /api/search`, the same search as the real-time `search`
//! command (see `crate::search`).

use super::ErrorResponse;
use crate::core::CoreError;
use crate::http::{AppState, CurrentSession, HttpError, Query};
use crate::search::{RawQuery, SearchPage, SearchQuery};
use axum::extract::State;
use axum::Json;

/// The messages the caller may read (rooms they are a member of, conversations they
/// accepted, ephemeral rooms they are in) matching every word of `q`, newest first. Each
/// result names its room and sequence number: `GET /api/rooms/{room}/messages?before=…` /
/// `after=…` around it shows it in context.
#[utoipa::path(get, path = "/api/search", tag = "search", params(RawQuery),
    responses((status = 200, body = SearchPage),
        (status = 401, description = "unauthenticated", body = ErrorResponse),
        (status = 403, description = "registration_required (guests)", body = ErrorResponse),
        (status = 422, description = "invalid_payload: q shorter than 2 characters without an author, a limit outside 1–50, a cursor this server did not give; invalid_request: an unknown or mistyped parameter", body = ErrorResponse)))]
pub async fn search(
    State(state): State<AppState>,
    session: CurrentSession,
    Query(raw): Query<RawQuery>,
) -> Result<Json<SearchPage>, HttpError> {
    let query = SearchQuery::parse(raw).map_err(|e| CoreError::InvalidPayload(e.to_string()))?;
    Ok(Json(
        state.chat.search.search(&session.identity, &query).await?,
    ))
}
