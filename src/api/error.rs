//! The REST error type: every failure becomes `{"error": {"code", "message"}}` with the status
//! its [`ErrorCode`] dictates. Internal failures are logged here and described to nobody.

use crate::auth::AuthError;
use crate::error::{ErrorBody, ErrorCode};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError(ErrorBody);

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ErrorBody::new(code, message))
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// The response, for callers outside a handler's `Result` (WebSocket upgrades).
    pub fn into_response_with_body(self) -> Response {
        self.into_response()
    }
}

impl From<ErrorBody> for ApiError {
    fn from(body: ErrorBody) -> Self {
        Self(body)
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        let code = err.code();
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(error = %err, "request failed");
            return Self::new(code, "the server could not complete the request");
        }
        Self::new(code, err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(json!({ "error": self.0 }))).into_response()
    }
}

impl From<crate::core::CoreError> for ApiError {
    fn from(err: crate::core::CoreError) -> Self {
        Self(err.body())
    }
}

impl From<crate::rooms::RoomError> for ApiError {
    fn from(err: crate::rooms::RoomError) -> Self {
        crate::core::CoreError::from(err).into()
    }
}
