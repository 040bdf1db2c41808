//! The `Origin` check: browsers send `Origin`, and only pages of this server (same origin) or of
//! a configured public origin may open a real-time connection with the user's cookie or make an
//! admin change with it. Clients that send no `Origin` (bots, scripts) are not browsers and pass.
//!
//! Same origin means the same scheme, host and port, exactly (RFC 6454): `https://host:8080` is
//! another origin than this server at `http://host:8080`. The server's own scheme is plain
//! `http` unless a trusted proxy says `X-Forwarded-Proto: https` (see
//! [`App::scheme`](super::App::scheme)); the host and port are those of the `Host` header.

use axum::http::header::{HOST, ORIGIN};
use axum::http::HeaderMap;
use std::fmt;

/// `http` or `https`: the only schemes a page of this server can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn parse(raw: &str) -> Option<Self> {
        if raw.eq_ignore_ascii_case("http") {
            Some(Scheme::Http)
        } else if raw.eq_ignore_ascii_case("https") {
            Some(Scheme::Https)
        } else {
            None
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A web origin: scheme, host and port (the default port when none is written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    scheme: Scheme,
    /// Lower-cased; IPv6 addresses keep their brackets.
    host: String,
    port: u16,
}

impl Origin {
    /// Parses `scheme://host[:port]` as browsers send it. Anything else — `null`, a path, user
    /// information, another scheme — is no origin of ours. One trailing `/` is tolerated, for
    /// origins written in the configuration.
    pub fn parse(raw: &str) -> Option<Self> {
        let (scheme, authority) = raw.trim().split_once("://")?;
        let scheme = Scheme::parse(scheme)?;
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        Self::with_authority(scheme, authority)
    }

    /// This server's origin as a request reaches it: `scheme` and the `Host` header's host and
    /// port.
    fn of_server(scheme: Scheme, host: &str) -> Option<Self> {
        Self::with_authority(scheme, host)
    }

    fn with_authority(scheme: Scheme, authority: &str) -> Option<Self> {
        if authority.is_empty() || authority.contains(['/', '@', '?', '#', ' ']) {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            // A colon inside brackets belongs to an IPv6 address.
            Some((host, port)) if !port.contains(']') => (host, Some(port)),
            _ => (authority, None),
        };
        let port = match port {
            Some(port) => port.parse().ok()?,
            None => scheme.default_port(),
        };
        if host.is_empty() || (host.contains(':') && !host.starts_with('[')) {
            return None;
        }
        Some(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

/// Whether the request's `Origin` (if any) is this server, reached over `scheme`, or one of
/// the `allowed` public origins.
pub(super) fn origin_allowed(headers: &HeaderMap, allowed: &[Origin], scheme: Scheme) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Some(origin) = origin.to_str().ok().and_then(Origin::parse) else {
        return false;
    };
    if allowed.contains(&origin) {
        return true;
    }
    let server = headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .and_then(|host| Origin::of_server(scheme, host));
    server.is_some_and(|server| server == origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            map.insert(ORIGIN, origin.parse().unwrap());
        }
        map
    }

    fn allowed() -> Vec<Origin> {
        vec![Origin::parse("https://chat.example.org/").unwrap()]
    }

    fn passes(origin: &str, host: &str, scheme: Scheme) -> bool {
        origin_allowed(&headers(Some(origin), host), &allowed(), scheme)
    }

    #[test]
    fn same_origin_configured_origin_and_no_origin_pass() {
        assert!(passes(
            "http://127.0.0.1:8080",
            "127.0.0.1:8080",
            Scheme::Http
        ));
        assert!(passes("https://chat.example.org", "10.0.0.2", Scheme::Http));
        assert!(origin_allowed(
            &headers(None, "127.0.0.1:8080"),
            &allowed(),
            Scheme::Http
        ));
    }

    #[test]
    fn the_scheme_must_be_the_servers() {
        assert!(!passes(
            "https://127.0.0.1:8080",
            "127.0.0.1:8080",
            Scheme::Http
        ));
        assert!(passes(
            "https://127.0.0.1:8080",
            "127.0.0.1:8080",
            Scheme::Https
        ));
        assert!(!passes(
            "http://127.0.0.1:8080",
            "127.0.0.1:8080",
            Scheme::Https
        ));
    }

    #[test]
    fn the_port_must_match_with_defaults_filled_in() {
        assert!(!passes(
            "http://127.0.0.1:9999",
            "127.0.0.1:8080",
            Scheme::Http
        ));
        assert!(passes("http://example.org", "example.org:80", Scheme::Http));
        assert!(passes("http://example.org:80", "example.org", Scheme::Http));
        assert!(passes("https://example.org", "example.org", Scheme::Https));
        assert!(!passes(
            "https://example.org",
            "example.org:80",
            Scheme::Http
        ));
        assert!(!passes(
            "http://example.org:8080",
            "example.org",
            Scheme::Http
        ));
        // The configured origin names its port too.
        assert!(!passes(
            "https://chat.example.org:8443",
            "10.0.0.2",
            Scheme::Http
        ));
    }

    #[test]
    fn hosts_compare_without_case_and_ipv6_keeps_its_port() {
        assert!(passes(
            "HTTP://Example.ORG:8080",
            "example.org:8080",
            Scheme::Http
        ));
        assert!(passes("http://[::1]:8080", "[::1]:8080", Scheme::Http));
        assert!(!passes("http://[::1]:8081", "[::1]:8080", Scheme::Http));
        assert!(passes("http://[::1]", "[::1]", Scheme::Http));
    }

    #[test]
    fn foreign_and_malformed_origins_are_refused() {
        for origin in [
            "https://evil.example",
            "null",
            "http://127.0.0.1:8080.evil.example",
            "http://user@127.0.0.1:8080",
            "http://127.0.0.1:8080/path",
            "ws://127.0.0.1:8080",
            "http://127.0.0.1:notaport",
            "http://",
            "127.0.0.1:8080",
        ] {
            assert!(
                !passes(origin, "127.0.0.1:8080", Scheme::Http),
                "{origin} passed"
            );
        }
    }

    #[test]
    fn configured_origins_parse_or_say_no() {
        assert_eq!(
            Origin::parse("https://chat.example.org")
                .unwrap()
                .to_string(),
            "https://chat.example.org:443"
        );
        assert!(Origin::parse("chat.example.org").is_none());
        assert!(Origin::parse("ftp://chat.example.org").is_none());
    }
}
