//! The one HTTP error type: every refusal, from a REST handler, an extractor or a WebSocket
//! upgrade, becomes `{"error": {"code", "message"}}` with the status its [`ErrorCode`]
//! dictates. Internal failures are logged here and described to nobody.
//!
//! Every refusal is counted by its code for `/metrics`, once: the response carries its code in
//! its extensions (turning an error into a response has no state to count into), and
//! [`count_refusals`], the router's outermost layer, counts what comes out.

use super::AppState;
use crate::auth::AuthError;
use crate::core::CoreError;
use crate::error::{ErrorBody, ErrorCode};
use crate::metrics::Via;
use crate::rooms::RoomError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub struct HttpError(ErrorBody);

impl HttpError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ErrorBody::new(code, message))
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }
}

impl From<ErrorBody> for HttpError {
    fn from(body: ErrorBody) -> Self {
        Self(body)
    }
}

impl From<AuthError> for HttpError {
    fn from(err: AuthError) -> Self {
        let code = err.code();
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(error = %err, "request failed");
            return Self::new(code, "the server could not complete the request");
        }
        Self(ErrorBody::new(code, err.to_string()).retry_after(err.retry_after()))
    }
}

impl From<crate::ai::CompanionError> for HttpError {
    fn from(err: crate::ai::CompanionError) -> Self {
        Self(err.body())
    }
}

impl From<CoreError> for HttpError {
    fn from(err: CoreError) -> Self {
        Self(err.body())
    }
}

impl From<RoomError> for HttpError {
    fn from(err: RoomError) -> Self {
        CoreError::from(err).into()
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (code, retry_after) = (self.0.code, self.0.retry_after);
        let mut response = (status, Json(json!({ "error": self.0 }))).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(code);
        response
    }
}

/// Counts every error response by its code (see the module docs).
pub async fn count_refusals(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if let Some(code) = response.extensions().get::<ErrorCode>() {
        state.metrics.refused(*code, Via::Http);
    }
    response
}
