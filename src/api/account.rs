//! Account endpoints: register, log in, join as a guest, log out, change password.

use super::users::Profile;
use super::ErrorResponse;
use crate::auth::{Login, Registered, SessionGrant};
use crate::http::{AppState, Body, ClientIp, CurrentSession, GuestCaller, HttpError};
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"username"}` creates a key account; with a password it creates a password account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    username: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// A key account's secret key (shown once), or a password account's new session.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum RegisterResponse {
    Key { key: String },
    Session(SessionResponse),
}

/// A new session: the identity and its bearer token (also set as the `session` cookie).
#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    user: Profile,
    token: String,
}

/// `{"key"}`, `{"username", "password"}` (where `username` may also be the e-mail address) or
/// `{"email", "password"}`.
#[derive(Deserialize, ToSchema)]
#[serde(untagged, try_from = "LoginFields")]
pub enum LoginRequest {
    Key(KeyLogin),
    ByName(NameLogin),
    ByEmail(EmailLogin),
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyLogin {
    key: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameLogin {
    /// A user name, or the account's e-mail address.
    username: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailLogin {
    email: String,
    password: String,
}

/// What a login body may hold; exactly one of its shapes is accepted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginFields {
    key: Option<String>,
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

impl TryFrom<LoginFields> for LoginRequest {
    type Error = &'static str;

    fn try_from(fields: LoginFields) -> Result<Self, Self::Error> {
        match fields {
            LoginFields {
                key: Some(key),
                username: None,
                email: None,
                password: None,
            } => Ok(Self::Key(KeyLogin { key })),
            LoginFields {
                key: None,
                username: Some(username),
                email: None,
                password: Some(password),
            } => Ok(Self::ByName(NameLogin { username, password })),
            LoginFields {
                key: None,
                username: None,
                email: Some(email),
                password: Some(password),
            } => Ok(Self::ByEmail(EmailLogin { email, password })),
            _ => Err(r#"send {"key"}, {"username", "password"} or {"email", "password"}"#),
        }
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct GuestRequest {
    /// Left out, a free `guest-xxxx` nick is chosen.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    nick: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    current_password: String,
    new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct OkResponse {
    ok: bool,
}

#[utoipa::path(post, path = "/api/register", tag = "account", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created", body = RegisterResponse),
        (status = 400, description = "invalid_username, invalid_email, password_too_short", body = ErrorResponse),
        (status = 409, description = "username_taken, email_taken", body = ErrorResponse),
        (status = 422, description = "invalid_request", body = ErrorResponse)))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    GuestCaller(guest): GuestCaller,
    Body(request): Body<RegisterRequest>,
) -> Result<Response, HttpError> {
    let registered = state
        .chat
        .accounts
        .register(
            &request.username,
            request.password,
            request.email.as_deref(),
            ip,
            guest.as_ref(),
        )
        .await?;
    Ok(match registered {
        Registered::Key { key } => {
            (StatusCode::CREATED, Json(RegisterResponse::Key { key })).into_response()
        }
        Registered::Password(grant) => {
            let (cookies, body) = new_session(&state, grant);
            (
                StatusCode::CREATED,
                AppendHeaders(cookies),
                Json(RegisterResponse::Session(body)),
            )
                .into_response()
        }
    })
}

#[utoipa::path(post, path = "/api/login", tag = "account", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; sets the session cookie", body = SessionResponse),
        (status = 401, description = "invalid_credentials", body = ErrorResponse),
        (status = 422, description = "invalid_request", body = ErrorResponse)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Body(request): Body<LoginRequest>,
) -> Result<Response, HttpError> {
    let login = match request {
        LoginRequest::Key(KeyLogin { key }) => Login::Key(key),
        LoginRequest::ByName(NameLogin { username, password }) => Login::Password {
            login: username,
            password,
        },
        LoginRequest::ByEmail(EmailLogin { email, password }) => Login::Password {
            login: email,
            password,
        },
    };
    let grant = state.chat.accounts.login(login, ip).await?;
    Ok(session_response(&state, StatusCode::OK, grant))
}

#[utoipa::path(post, path = "/api/guest", tag = "account", request_body = GuestRequest,
    responses(
        (status = 201, description = "Guest identity created; sets the session cookie", body = SessionResponse),
        (status = 400, description = "invalid_nick", body = ErrorResponse),
        (status = 409, description = "nick_taken", body = ErrorResponse)))]
pub async fn guest(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Body(request): Body<GuestRequest>,
) -> Result<Response, HttpError> {
    let grant = state
        .chat
        .accounts
        .guest(request.nick.as_deref(), ip)
        .await?;
    Ok(session_response(&state, StatusCode::CREATED, grant))
}

#[utoipa::path(post, path = "/api/logout", tag = "account",
    responses(
        (status = 200, description = "Session revoked and cookie cleared", body = OkResponse),
        (status = 401, description = "unauthenticated", body = ErrorResponse)))]
pub async fn logout(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Response, HttpError> {
    state
        .chat
        .accounts
        .logout(&session.identity.session)
        .await?;
    let clear = HeaderValue::from_static("session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    let unhint = HeaderValue::from_static("signed_in=; Path=/; Max-Age=0; SameSite=Lax");
    Ok((
        AppendHeaders([(SET_COOKIE, clear), (SET_COOKIE, unhint)]),
        Json(OkResponse { ok: true }),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/password", tag = "account", request_body = PasswordRequest,
    responses(
        (status = 200, description = "Password changed; all other sessions revoked", body = SessionResponse),
        (status = 400, description = "password_too_short, no_password", body = ErrorResponse),
        (status = 401, description = "invalid_credentials, unauthenticated", body = ErrorResponse)))]
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: CurrentSession,
    Body(request): Body<PasswordRequest>,
) -> Result<Response, HttpError> {
    let grant = state
        .chat
        .accounts
        .change_password(
            &session.identity,
            request.current_password,
            request.new_password,
            ip,
        )
        .await?;
    Ok(session_response(&state, StatusCode::OK, grant))
}

/// A new session's response: the body and the `session` cookie.
fn session_response(state: &AppState, status: StatusCode, grant: SessionGrant) -> Response {
    let (cookies, body) = new_session(state, grant);
    (status, AppendHeaders(cookies), Json(body)).into_response()
}

/// A new session's two cookies (the secret one, and the hint the page reads) and its body.
fn new_session(
    state: &AppState,
    grant: SessionGrant,
) -> ([(HeaderName, HeaderValue); 2], SessionResponse) {
    let (max_age, secure) = (state.config.session_ttl_secs, state.config.secure_cookies());
    let cookies = [
        (
            SET_COOKIE,
            session_cookie_header(&grant.token, max_age, secure),
        ),
        (SET_COOKIE, signed_in_hint(max_age, secure)),
    ];
    let body = SessionResponse {
        // A session just made: online only if this identity already has a connection.
        user: Profile::of(
            &grant.identity,
            state
                .chat
                .presence
                .is_online_here(&grant.identity.name_key()),
        ),
        token: grant.token,
    };
    (cookies, body)
}

/// `signed_in=1`, readable by the page (it holds no secret): a page that finds it asks who is
/// signed in before its first screen; one that does not shows the join screen at once instead
/// of waiting a round trip to learn that nobody is.
fn signed_in_hint(max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "signed_in=1; Path=/; Max-Age={max_age}; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("signed_in=1; Path=/; SameSite=Lax"))
}

fn session_cookie_header(token: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie =
        format!("session={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    // Tokens are URL-safe base64, always a valid header value.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("session="))
}
