//! Premium in the admin panel: an admin grants, extends or revokes an account's premium
//! (`PUT`/`DELETE /api/admin/users/{name}/premium`). Admins and root only — premium stands
//! for money, and moderators keep order, not accounts; a moderator passes the admin door but
//! is refused here with `forbidden`. The account's open pages hear `premium_changed` at once.

use super::admin::AdminSession;
use super::ErrorResponse;
use crate::core::{PremiumChange, PremiumError, PremiumStatus};
use crate::domain::Millis;
use crate::http::{user_name, AppState, Body, HttpError, Path};
use crate::moderation::Actor;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

/// Exactly one of `days`, `until` and `forever`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PremiumGrant {
    /// Days more (1–3650): added to the running period, or from now.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    days: Option<u64>,
    /// Premium ends exactly then (UTC milliseconds; may shorten it).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 253_402_300_799_999_i64)]
    until: Option<Millis>,
    /// Premium that does not end (`premium_until` 253402300799999).
    #[serde(default)]
    forever: Option<bool>,
}

#[utoipa::path(put, path = "/api/admin/users/{name}/premium", tag = "admin",
    params(("name" = String, Path, description = "User name (case-insensitive)")),
    request_body = PremiumGrant,
    responses((status = 200, description = "The account's premium now; its pages get `premium_changed`", body = PremiumStatus),
        (status = 403, description = "forbidden: admins and root only", body = ErrorResponse),
        (status = 404, description = "not_found: no such account", body = ErrorResponse),
        (status = 422, description = "invalid_payload: not exactly one of days, until, forever", body = ErrorResponse)))]
pub async fn grant(
    State(state): State<AppState>,
    admin: AdminSession,
    Path(name): Path<String>,
    Body(body): Body<PremiumGrant>,
) -> Result<Json<PremiumStatus>, HttpError> {
    let name = user_name(&name)?;
    let change = match (body.days, body.until, body.forever) {
        (Some(days), None, None) => PremiumChange::Extend { days },
        (None, Some(until), None) if (0..=crate::core::PREMIUM_FOREVER).contains(&until) => {
            PremiumChange::Until(until)
        }
        (None, None, Some(true)) => PremiumChange::Forever,
        _ => {
            let err = PremiumError::Invalid(
                "give exactly one of days (1-3650), until (milliseconds) or forever: true".into(),
            );
            return Err(err.body().into());
        }
    };
    change_premium(&state, &admin, &name, change).await
}

#[utoipa::path(delete, path = "/api/admin/users/{name}/premium", tag = "admin",
    params(("name" = String, Path, description = "User name (case-insensitive)")),
    responses((status = 200, description = "Revoked; the account's pages get `premium_changed`", body = PremiumStatus),
        (status = 403, description = "forbidden: admins and root only", body = ErrorResponse),
        (status = 404, description = "not_found: no such account", body = ErrorResponse)))]
pub async fn revoke(
    State(state): State<AppState>,
    admin: AdminSession,
    Path(name): Path<String>,
) -> Result<Json<PremiumStatus>, HttpError> {
    let name = user_name(&name)?;
    change_premium(&state, &admin, &name, PremiumChange::Revoke).await
}

async fn change_premium(
    state: &AppState,
    admin: &AdminSession,
    name: &crate::domain::Name,
    change: PremiumChange,
) -> Result<Json<PremiumStatus>, HttpError> {
    let actor = Actor {
        identity: &admin.identity,
        ip: admin.ip.to_string(),
        room: None,
    };
    match state.chat.premium.change(&actor, name, change).await {
        Ok(status) => Ok(Json(status)),
        Err(err) => Err(err.body().into()),
    }
}
