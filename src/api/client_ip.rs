//! Who the client is, for the per-IP edge limit.
//!
//! `X-Forwarded-For` and `X-Real-IP` are only as trustworthy as whoever
//! sent them: anyone can put a random address there and get a fresh
//! bucket with every request. So they are read only when the TCP peer is
//! one of `TRUSTED_PROXIES`; then the client is the rightmost address of
//! `X-Forwarded-For` that is not itself a trusted proxy (each proxy
//! appends the address it saw, so everything left of that is the client's
//! own say), else `X-Real-IP`, else the peer.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};
use ipnet::IpNet;
use tower_governor::GovernorError;
use tower_governor::key_extractor::KeyExtractor;

/// The edge limit's key: the client address, headers believed only from
/// trusted proxies.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxyIp {
    trusted: Arc<[IpNet]>,
}

impl TrustedProxyIp {
    pub fn new(trusted: &[IpNet]) -> Self {
        TrustedProxyIp {
            trusted: trusted.into(),
        }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client for a request that reached us from `peer`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_trusted(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|hop| !hop.is_empty())
            .collect();
        if hops.is_empty() {
            return headers
                .get("x-real-ip")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_hop(v.trim()))
                .unwrap_or(peer);
        }
        // From the right: our proxies' hops are skipped; the first other
        // address is the one our outermost proxy saw. A hop that is not an
        // address was not written by a proxy of ours, so nothing left of
        // it is believed either.
        let mut nearest = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.is_trusted(ip) => nearest = ip,
                Some(ip) => return ip,
                None => break,
            }
        }
        nearest
    }
}

/// One hop: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(canonical)
}

/// An IPv4 client on a dual-stack socket shows up as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

impl KeyExtractor for TrustedProxyIp {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .or_else(|| req.extensions().get::<SocketAddr>().map(|a| a.ip()))
            .ok_or(GovernorError::UnableToExtractKey)?;
        Ok(self.client(canonical(peer), req.headers()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_cannot_choose_their_key() {
        let none = TrustedProxyIp::new(&[]);
        let h = headers(&[("x-forwarded-for", "9.9.9.9"), ("x-real-ip", "8.8.8.8")]);
        assert_eq!(none.client(ip("203.0.113.7"), &h), ip("203.0.113.7"));
        let nginx = TrustedProxyIp::new(&["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(nginx.client(ip("203.0.113.7"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = TrustedProxyIp::new(&[
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.1/32".parse().unwrap(),
        ]);
        // The client forged the first entry; nginx appended what it saw.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.4, 10.0.0.3")]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &h), ip("198.51.100.4"));
        // Dual-stack sockets report IPv4 peers mapped into IPv6.
        assert_eq!(
            proxies.client(ip("::ffff:127.0.0.1"), &h),
            ip("198.51.100.4")
        );
        let h = headers(&[("x-real-ip", "198.51.100.9")]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &h), ip("198.51.100.9"));
        let h = headers(&[("x-forwarded-for", "198.51.100.5:4711")]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &h), ip("198.51.100.5"));
        // Garbage is not an address: the peer stays the key, and nothing
        // left of the garbage is believed.
        let h = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &h), ip("10.1.2.3"));
        let h = headers(&[("x-forwarded-for", "1.1.1.1, junk, 10.0.0.3")]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &h), ip("10.0.0.3"));
    }
}
