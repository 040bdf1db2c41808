//! Premium in the admin panel: an admin grants, extends or revokes an account's premium
//! (`PUT`/`DELETE /api/admin/users/{name}/premium`). Admins and root only — premium stands
//! for money, and moderators keep order, not accounts; a moderator passes the admin door but
//! is refused here with `forbidden`. The account's open pages hear `premium_changed` at once.

use super::admin::AdminSession;
use super::ErrorResponse;
use crate::core::{PremiumChange, PremiumError, PremiumStatus};
use crate::domain::{whole, Millis};
use crate::http::{user_name, AppState, Body, HttpError, Path};
use crate::moderation::Actor;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

/// Exactly one of `{"days"}`, `{"until"}` and `{"forever": true}`.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PremiumGrant {
    Days(GrantDays),
    Until(GrantUntil),
    Forever(GrantForever),
}

/// Days more: added to the running period, or from now.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantDays {
    #[serde(deserialize_with = "whole::required")]
    #[schema(minimum = 1, maximum = 3650)]
    days: i64,
}

/// Premium ends exactly then (UTC milliseconds; may shorten it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantUntil {
    #[serde(deserialize_with = "whole::required")]
    #[schema(value_type = i64, minimum = 0, maximum = 253_402_300_799_999_i64)]
    until: Millis,
}

/// Premium that does not end (`premium_until` 253402300799999).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantForever {
    forever: True,
}

/// The JSON value `true`, and nothing else.
pub struct True;

impl<'de> Deserialize<'de> for True {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match bool::deserialize(deserializer)? {
            true => Ok(True),
            false => Err(serde::de::Error::custom(
                "`forever` is `true` (revoke with DELETE)",
            )),
        }
    }
}

impl utoipa::PartialSchema for True {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Boolean)
            .enum_values(Some([true]))
            .into()
    }
}

impl ToSchema for True {}

#[utoipa::path(put, path = "/api/admin/users/{name}/premium", tag = "admin",
    params(("name" = String, Path, description = "User name (case-insensitive)")),
    request_body = PremiumGrant,
    responses((status = 200, description = "The account's premium now; its pages get `premium_changed`", body = PremiumStatus),
        (status = 403, description = "forbidden: admins and root only", body = ErrorResponse),
        (status = 404, description = "not_found: no such account", body = ErrorResponse),
        (status = 422, description = "invalid_request: not exactly one of days, until, forever; invalid_payload: days outside 1–3650", body = ErrorResponse)))]
pub async fn grant(
    State(state): State<AppState>,
    admin: AdminSession,
    Path(name): Path<String>,
    Body(body): Body<PremiumGrant>,
) -> Result<Json<PremiumStatus>, HttpError> {
    let name = user_name(&name)?;
    let change = match body {
        PremiumGrant::Days(GrantDays { days }) => PremiumChange::Extend {
            // Below 1 is refused as a period like 0 is.
            days: u64::try_from(days).unwrap_or(0),
        },
        PremiumGrant::Until(GrantUntil { until })
            if (0..=crate::core::PREMIUM_FOREVER).contains(&until) =>
        {
            PremiumChange::Until(until)
        }
        PremiumGrant::Until(_) => {
            let err = PremiumError::Invalid("until is a time up to 253402300799999".into());
            return Err(err.body().into());
        }
        PremiumGrant::Forever(GrantForever { forever: True }) => PremiumChange::Forever,
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
