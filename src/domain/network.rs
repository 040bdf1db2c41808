//! Address rules: networks given as CIDR lists (who may reach the admin panel, which proxies
//! are trusted), and the client address behind trusted proxies.

use ipnet::IpNet;
use std::net::IpAddr;

/// A list of networks, e.g. `127.0.0.0/8, 10.0.0.0/8, ::1/128`. A bare address is a /32 or /128.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Networks(Vec<IpNet>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is neither a network (a.b.c.d/n, x::/n) nor an address")]
pub struct NetworkError(pub String);

impl Networks {
    pub fn parse<S: AsRef<str>>(list: &[S]) -> Result<Self, NetworkError> {
        list.iter()
            .map(|raw| {
                let raw = raw.as_ref().trim();
                raw.parse::<IpNet>()
                    .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| NetworkError(raw.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// IPv4 addresses mapped into IPv6 (`::ffff:a.b.c.d`) count as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the nearest
/// address in `X-Forwarded-For` (read from the right) that is not a trusted proxy. A header
/// from an untrusted peer is ignored, so it cannot be spoofed.
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &Networks) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for hop in header.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = canonical(ip);
                if !trusted.contains(client) {
                    return client;
                }
            }
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_match_cidrs_and_bare_addresses() {
        let nets = Networks::parse(&["10.0.0.0/8", "::1", " 192.168.1.7 "]).unwrap();
        assert!(nets.contains(ip("10.1.2.3")) && nets.contains(ip("::1")));
        assert!(nets.contains(ip("192.168.1.7")) && !nets.contains(ip("192.168.1.8")));
        assert!(
            nets.contains(ip("::ffff:10.0.0.1")),
            "mapped IPv4 counts as IPv4"
        );
        assert!(Networks::parse(&["10.0.0.0/33"]).is_err());
        assert!(Networks::parse(&["nope"]).is_err());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = Networks::parse(&["10.0.0.0/8"]).unwrap();
        let spoofed = Some("1.2.3.4");
        assert_eq!(
            client_address(ip("8.8.8.8"), spoofed, &trusted),
            ip("8.8.8.8")
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), spoofed, &trusted),
            ip("1.2.3.4")
        );
        let chain = Some("6.6.6.6, 1.2.3.4, 10.0.0.9");
        assert_eq!(
            client_address(ip("10.0.0.5"), chain, &trusted),
            ip("1.2.3.4"),
            "the client's own claim (6.6.6.6) is left of the first untrusted hop"
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), None, &trusted),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("junk"), &trusted),
            ip("10.0.0.5")
        );
    }
}
