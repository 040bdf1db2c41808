//! Payments: the provider's webhook (`POST /api/payments/webhook`, HMAC-signed, see
//! [`signature`]) and the source system's simpler form (`POST /api/payment/success`, a shared
//! secret, off by default). Both authenticate the call here and hand a parsed [`Payment`] to
//! the payments service, which records it once and grants premium.
//!
//! Neither endpoint exists until it is configured: without `payment_webhook_secret` (or
//! `payment_simple_enabled` with `payment_simple_secret`) it answers 404 like any unknown
//! path, before reading the body. Every call that reaches a configured endpoint is audited,
//! refusals included; secrets and signatures are never logged.

mod signature;

use super::ErrorResponse;
use crate::config::Secret;
use crate::core::{
    AccountRef, Channel, Payment, PaymentGrant, PremiumError, Settled, MAX_PERIOD_DAYS,
};
use crate::domain::{whole, Millis, Name};
use crate::error::ErrorCode;
use crate::http::{AppState, ClientIp, HttpError};
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

/// Largest payment body read: events are small, and nothing unauthenticated gets to make the
/// server buffer much.
const MAX_BODY: usize = 64 * 1024;

/// The event the webhook takes. Fields not listed here are ignored (providers add their own).
#[derive(Deserialize, ToSchema)]
pub struct WebhookEvent {
    /// The provider's event id (1–255 characters): the same id is granted once.
    #[schema(min_length = 1, max_length = 255)]
    id: String,
    /// `payment.succeeded` grants premium; any other type is recorded and answered `ignored`.
    #[serde(rename = "type")]
    kind: String,
    /// The account's user name (or give `user_id`).
    #[serde(default)]
    account: Option<String>,
    /// The account's id (`user:<id>` in the admin panel), instead of `account`.
    #[serde(default, deserialize_with = "whole::optional")]
    user_id: Option<i64>,
    /// Days of premium paid for (1–3650; default `payment_period_days`), added to a running
    /// period.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 1, maximum = 3650)]
    period_days: Option<u64>,
    /// Or: premium at least until this moment (UTC milliseconds).
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 253_402_300_799_999_i64)]
    paid_until: Option<Millis>,
}

/// The simple form: `{secret, user_id}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimplePayment {
    /// `payment_simple_secret`.
    secret: String,
    /// The account's id, as a number or a string of digits.
    #[schema(value_type = i64)]
    user_id: UserId,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum UserId {
    Number(#[serde(deserialize_with = "whole::required")] i64),
    Text(String),
}

#[utoipa::path(post, path = "/api/payments/webhook", tag = "payments",
    // Not `required` in the document: an endpoint that is off answers 404 before looking.
    params(("Parlor-Signature" = Option<String>, Header,
        description = "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>`; several `v1` may be sent")),
    request_body(content = WebhookEvent, description = "The payment event, signed as sent"),
    responses(
        (status = 200, description = "Settled: granted, ignored (another event type) or duplicate (seen before)", body = Settled),
        (status = 401, description = "invalid_signature, stale_signature", body = ErrorResponse),
        (status = 404, description = "not_found (no webhook secret configured), unknown_account (recorded and audited)", body = ErrorResponse),
        (status = 413, description = "payload_too_large: over 64 KiB", body = ErrorResponse),
        (status = 422, description = "invalid_request: an authentic event that does not fit", body = ErrorResponse)))]
pub async fn webhook(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Settled>, HttpError> {
    let Some(secret) = &state.config.payment_webhook_secret else {
        return Err(no_such_endpoint());
    };
    let body = read(body).await?;
    let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    let now_secs = state.chat.premium.now().div_euclid(1000);
    if let Err(err) = signature::verify(secret.expose().as_bytes(), header, &body, now_secs) {
        let err = match err {
            signature::SignatureError::Invalid => PremiumError::InvalidSignature,
            signature::SignatureError::Stale => PremiumError::StaleSignature,
        };
        return Err(refuse(&state, Channel::Webhook, ip, err).await);
    }
    let payment = match parse::<WebhookEvent>(&body).and_then(|e| payment(e, &state)) {
        Ok(payment) => payment,
        Err(err) => return Err(refuse(&state, Channel::Webhook, ip, err).await),
    };
    settle(&state, payment, Channel::Webhook, ip).await
}

#[utoipa::path(post, path = "/api/payment/success", tag = "payments",
    request_body = SimplePayment,
    responses(
        (status = 200, description = "Granted `payment_period_days` of premium", body = Settled),
        (status = 401, description = "invalid_credentials: the secret does not match", body = ErrorResponse),
        (status = 404, description = "not_found (the simple form is off), unknown_account", body = ErrorResponse),
        (status = 413, description = "payload_too_large: over 64 KiB", body = ErrorResponse),
        (status = 422, description = "invalid_request", body = ErrorResponse)))]
pub async fn simple(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: Body,
) -> Result<Json<Settled>, HttpError> {
    let secret = match &state.config.payment_simple_secret {
        Some(secret) if state.config.payment_simple_enabled => secret,
        _ => return Err(no_such_endpoint()),
    };
    let body = read(body).await?;
    let request = match parse::<SimplePayment>(&body) {
        Ok(request) => request,
        Err(err) => return Err(refuse(&state, Channel::Simple, ip, err).await),
    };
    if !same_secret(&request.secret, secret) {
        return Err(refuse(&state, Channel::Simple, ip, PremiumError::WrongSecret).await);
    }
    let user_id = match request.user_id {
        UserId::Number(id) => Some(id),
        UserId::Text(text) => text.trim().parse().ok(),
    };
    let Some(user_id) = user_id else {
        let err = PremiumError::Invalid("user_id is an account's id".into());
        return Err(refuse(&state, Channel::Simple, ip, err).await);
    };
    let payment = Payment {
        event_id: None,
        account: Some(AccountRef::Id(user_id)),
        grant: Some(PaymentGrant::Days(state.config.payment_period_days)),
    };
    settle(&state, payment, Channel::Simple, ip).await
}

/// Compares a shared secret in constant time: both sides hashed first, so not even the
/// length of the configured secret shows in the time a refusal takes.
fn same_secret(given: &str, expected: &Secret) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.expose().as_bytes());
    given.ct_eq(&expected).into()
}

/// The webhook's event as a payment: who, and how much premium.
fn payment(event: WebhookEvent, state: &AppState) -> Result<Payment, PremiumError> {
    if event.id.is_empty() || event.id.chars().count() > 255 {
        return Err(PremiumError::Invalid("id is 1 to 255 characters".into()));
    }
    let account = match (event.account, event.user_id) {
        (Some(name), None) => {
            Some(AccountRef::Name(Name::parse(&name).map_err(|e| {
                PremiumError::Invalid(format!("account: {e}"))
            })?))
        }
        (None, Some(id)) => Some(AccountRef::Id(id)),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(PremiumError::Invalid(
                "name the account by `account` or `user_id`, not both".into(),
            ))
        }
    };
    if event.kind != "payment.succeeded" {
        return Ok(Payment {
            event_id: Some(event.id),
            account,
            grant: None,
        });
    }
    if account.is_none() {
        return Err(PremiumError::Invalid(
            "a payment names its account (`account` or `user_id`)".into(),
        ));
    }
    let grant = match (event.period_days, event.paid_until) {
        (Some(days), None) if (1..=MAX_PERIOD_DAYS).contains(&days) => PaymentGrant::Days(days),
        (None, Some(until)) => PaymentGrant::Until(until),
        (None, None) => PaymentGrant::Days(state.config.payment_period_days),
        (Some(_), None) => {
            return Err(PremiumError::Invalid(format!(
                "period_days is 1 to {MAX_PERIOD_DAYS}"
            )))
        }
        (Some(_), Some(_)) => {
            return Err(PremiumError::Invalid(
                "give `period_days` or `paid_until`, not both".into(),
            ))
        }
    };
    Ok(Payment {
        event_id: Some(event.id),
        account,
        grant: Some(grant),
    })
}

async fn settle(
    state: &AppState,
    payment: Payment,
    channel: Channel,
    ip: IpAddr,
) -> Result<Json<Settled>, HttpError> {
    match state.chat.payments.settle(payment, channel, ip).await {
        Ok(settled) => Ok(Json(settled)),
        Err(err) => Err(HttpError::from(err.body())),
    }
}

/// Audits a refused call and answers it.
async fn refuse(state: &AppState, channel: Channel, ip: IpAddr, err: PremiumError) -> HttpError {
    let mut body = err.body();
    // An event that does not fit is a malformed request, as elsewhere in the API.
    if body.code == ErrorCode::InvalidPayload {
        body.code = ErrorCode::InvalidRequest;
    }
    state.chat.payments.refused(channel, ip, body.code).await;
    HttpError::from(body)
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, PremiumError> {
    if !body.trim_ascii_start().starts_with(b"{") {
        return Err(PremiumError::Invalid(
            "the request body must be a JSON object".into(),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| PremiumError::Invalid(format!("the request body does not fit: {e}")))
}

async fn read(body: Body) -> Result<axum::body::Bytes, HttpError> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        HttpError::new(
            ErrorCode::PayloadTooLarge,
            "a payment event is at most 64 KiB",
        )
    })
}

fn no_such_endpoint() -> HttpError {
    HttpError::new(ErrorCode::NotFound, "no such endpoint")
}
