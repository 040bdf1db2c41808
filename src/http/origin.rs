//! The `Origin` check on WebSocket upgrades: browsers send `Origin`, and only pages of this
//! server (same origin) or of a configured public origin may open a socket with the user's
//! cookies. Clients that send no `Origin` (bots, scripts) are not browsers and pass.

use axum::http::header::{HOST, ORIGIN};
use axum::http::HeaderMap;

pub(super) fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
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

    #[test]
    fn same_origin_configured_origin_and_no_origin_pass() {
        let allowed = vec!["https://chat.example.org".to_owned()];
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(Some("https://chat.example.org"), "10.0.0.2"),
            &allowed
        ));
        assert!(origin_allowed(&headers(None, "127.0.0.1:8080"), &allowed));
    }

    #[test]
    fn foreign_origins_are_refused() {
        let allowed = vec!["https://chat.example.org".to_owned()];
        assert!(!origin_allowed(
            &headers(Some("https://evil.example"), "127.0.0.1:8080"),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(Some("http://127.0.0.1:9999"), "127.0.0.1:8080"),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(Some("null"), "127.0.0.1:8080"),
            &allowed
        ));
    }
}
