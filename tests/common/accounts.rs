//! Accounts the tests act as: a REST [`Caller`] holding a session token, the configured root
//! account, and pairs of fresh users.

use super::http::Reply;
use super::protocol::{Posted, Profile, Room};
use super::ws::WsClient;
use super::{unique_name, TestApp};
use parlor::config::{Config, Secret};
use serde_json::{json, Value};

/// The password of accounts the tests register.
pub const PASSWORD: &str = "correct horse battery";
/// The password of the root account [`with_root`] configures.
pub const ROOT_PASSWORD: &str = "root password 123";

/// Configures a root account `root` (password [`ROOT_PASSWORD`]) and a rate limit that busy
/// moderation tests do not reach.
pub fn with_root(config: &mut Config) {
    config.root_user = Some("root".into());
    config.root_password = Some(Secret::new(ROOT_PASSWORD));
    config.rate_limit_messages = 100;
}

/// A REST caller holding a bearer token.
pub struct Caller<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl TestApp {
    /// Registers a password account (password [`PASSWORD`]) and returns a REST caller for it.
    pub async fn caller(&self, name: &str) -> Caller<'_> {
        let token = self.user_token(name, PASSWORD).await;
        Caller { app: self, token }
    }

    /// Two fresh accounts named from `first` and `second`.
    pub async fn two_users(&self, first: &str, second: &str) -> (Caller<'_>, Caller<'_>) {
        (
            self.caller(&unique_name(first)).await,
            self.caller(&unique_name(second)).await,
        )
    }

    /// The root account of [`with_root`], logged in.
    pub async fn root(&self) -> Caller<'_> {
        let session = self.session("root", ROOT_PASSWORD).await;
        assert_eq!(session.user.role, super::protocol::Role::Root);
        Caller::with_token(self, &session.token)
    }

    /// A native connection for an account that logs in with `password`.
    pub async fn connect(&self, name: &str, password: &str) -> WsClient {
        let session = self.session(name, password).await;
        self.gateway_as(&session.token).await
    }
}

impl<'a> Caller<'a> {
    /// A REST caller for a token obtained elsewhere (a login).
    pub fn with_token(app: &'a TestApp, token: &str) -> Self {
        Caller {
            app,
            token: token.to_owned(),
        }
    }

    /// Sends a request with this caller's bearer token (and `body` as JSON, if any).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.app
            .request(method, path)
            .bearer(&self.token)
            .json_opt(body)
            .send()
            .await
    }

    /// Creates a room and asserts it was created as asked, with the caller as its owner.
    /// Creates a room; a private one's address (in the answer) is `slug` plus a random suffix.
    pub async fn create_room(&self, slug: &str, private: bool) -> Room {
        let body = json!({ "slug": slug, "private": private });
        let room: Room = self
            .call("POST", "/api/rooms", Some(body))
            .await
            .expect(201);
        assert_eq!(
            (room.private, room.role),
            (private, Some(super::protocol::RoomRole::Owner))
        );
        if private {
            // A private room's address is the slug asked for, a dash and a random suffix.
            let suffix = room
                .slug
                .strip_prefix(slug)
                .and_then(|s| s.strip_prefix('-'));
            assert!(
                suffix.is_some_and(|s| s.len() == 8),
                "{slug} → {}",
                room.slug
            );
        } else {
            assert_eq!(room.slug, slug);
        }
        room
    }

    /// Posts a message over REST and returns its receipt.
    pub async fn say_in(&self, slug: &str, text: &str) -> Posted {
        let path = format!("/api/rooms/{slug}/messages");
        let posted: Posted = self
            .call("POST", &path, Some(json!({ "text": text })))
            .await
            .expect(201);
        assert!(!posted.duplicate, "{posted:?}");
        posted
    }

    /// The texts of a room's latest page, as this caller reads them over REST.
    pub async fn texts_in(&self, slug: &str) -> Vec<String> {
        let page: super::protocol::History = self
            .call("GET", &format!("/api/rooms/{slug}/messages"), None)
            .await
            .expect(200);
        page.texts().into_iter().map(str::to_owned).collect()
    }

    /// The caller's own profile.
    pub async fn me(&self) -> Profile {
        self.call("GET", "/api/user/@me", None).await.expect(200)
    }

    /// The caller's user name.
    pub async fn name(&self) -> String {
        self.me().await.username
    }

    /// A native connection identified as this caller.
    pub async fn gateway(&self) -> WsClient {
        self.app.gateway_as(&self.token).await
    }
}
