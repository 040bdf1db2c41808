//! The one way the tests make HTTP requests: [`TestApp::request`] builds a [`Request`]
//! (method, path, optional JSON body, optional bearer token, cookie-keeping client or extra
//! headers) and [`Request::send`] returns a [`Reply`] whose body is read strictly — as a
//! protocol type, as JSON that must parse, or as an error with an exact status and code.

use super::protocol::{from_value, ErrorBody, ErrorResponse};
use super::TestApp;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An HTTP request being built; nothing is sent until [`Request::send`].
#[must_use = "a request does nothing until it is sent"]
pub struct Request {
    client: reqwest::Client,
    method: reqwest::Method,
    url: String,
    bearer: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl TestApp {
    /// A request to this server from a fresh client (no cookies, no credentials).
    pub fn request(&self, method: &str, path: &str) -> Request {
        Request::new(method, &self.url(path))
    }

    /// An HTTP client that keeps cookies, like a browser (pass it to [`Request::client`]).
    pub fn cookie_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("an HTTP client")
    }
}

impl Request {
    /// A request to any URL (a server started as a process); prefer [`TestApp::request`].
    pub fn new(method: &str, url: &str) -> Request {
        Request {
            client: reqwest::Client::new(),
            method: reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method"),
            url: url.to_owned(),
            bearer: None,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Sends through `client` (a [`TestApp::cookie_client`] keeps the session cookie).
    pub fn client(mut self, client: &reqwest::Client) -> Self {
        self.client = client.clone();
        self
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }

    /// The `session` cookie, set by hand.
    pub fn session_cookie(self, token: &str) -> Self {
        self.header("cookie", &format!("session={token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A JSON body.
    pub fn json(self, body: Value) -> Self {
        self.raw("application/json", body.to_string())
    }

    /// A JSON body when there is one.
    pub fn json_opt(self, body: Option<Value>) -> Self {
        match body {
            Some(body) => self.json(body),
            None => self,
        }
    }

    /// A body sent as it is, with its content type.
    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some((content_type.to_owned(), body.into()));
        self
    }

    pub async fn send(self) -> Reply {
        let what = format!("{} {}", self.method, self.url);
        match self.try_send().await {
            Ok(reply) => reply,
            Err(err) => panic!("{what}: {err}"),
        }
    }

    /// Sends the request; `None` when the server could not be reached or the connection
    /// broke (a test that kills the server expects that).
    pub async fn send_fallible(self) -> Option<Reply> {
        self.try_send().await.ok()
    }

    async fn try_send(self) -> Result<Reply, reqwest::Error> {
        let what = format!("{} {}", self.method, self.url);
        let mut request = self.client.request(self.method, &self.url);
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some((content_type, body)) = self.body {
            request = request.header("content-type", content_type).body(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await?;
        Ok(Reply {
            what,
            status,
            headers,
            body,
        })
    }
}

/// A response: its status, headers and body, with strict readers.
#[derive(Debug)]
pub struct Reply {
    /// `METHOD url`, for failure messages.
    pub what: String,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON; fails when it is not JSON (an empty body is not `null`).
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{self}: the body is not JSON: {e}"))
    }

    /// The body read as `T`; fails naming the field that does not fit.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        from_value(self.value())
    }

    /// Asserts the status, then reads the body as `T`.
    #[track_caller]
    pub fn expect<T: DeserializeOwned>(&self, status: u16) -> T {
        self.expect_status(status);
        self.json()
    }

    /// Asserts the status (whatever the body).
    #[track_caller]
    pub fn expect_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{self}");
        self
    }

    /// Asserts the status and that there is no body (204, 202).
    #[track_caller]
    pub fn expect_empty(&self, status: u16) {
        self.expect_status(status);
        assert_eq!(self.body, "", "{self}: no body expected");
    }

    /// The error of an error response (`{"error": {"code", "message"}}`, nothing else).
    pub fn error(&self) -> ErrorBody {
        let ErrorResponse { error } = self.json();
        assert!(
            !error.message.is_empty(),
            "{self}: an error explains itself"
        );
        error
    }

    /// Asserts an error response with exactly this status and code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> ErrorBody {
        let error = self.error();
        assert_eq!((self.status, error.code.as_str()), (status, code), "{self}");
        error
    }

    /// A response header as text; fails when it is missing.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("{self}: no {name} header"))
            .to_str()
            .expect("a text header")
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} → {} {}", self.what, self.status, self.body)
    }
}
