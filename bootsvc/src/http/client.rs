//! Who is asking: the TCP peer, or for a trusted proxy, the client it forwarded for.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use cairn_protocols::FieldError;

use crate::config::BootConfig;
use crate::error::BootError;
use crate::source::BootSource;
use crate::state::BootState;

/// The requesting node's address. The peer address comes from axum's `ConnectInfo`, so the
/// host must serve with `into_make_service_with_connect_info::<SocketAddr>()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client address for a connection from `peer` with these headers.
///
/// `X-Forwarded-For` counts only when `peer` is a trusted proxy; then its addresses (all
/// headers, in order) are read from the right, skipping trusted proxies, and the first other
/// one is the client: the entries left of it were written by the client itself and prove
/// nothing. IPv4-mapped IPv6 addresses are read as IPv4, so a dual-stack listener matches the
/// inventory's IPv4 addresses.
pub fn client_ip(
    peer: IpAddr,
    headers: &HeaderMap,
    config: &BootConfig,
) -> Result<IpAddr, BootError> {
    let peer = peer.to_canonical();
    if !config.is_trusted_proxy(peer) {
        return Ok(peer);
    }
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let text = value.to_str().map_err(|_| {
            BootError::BadInput(FieldError::invalid("X-Forwarded-For", "not ASCII text"))
        })?;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let ip: IpAddr = part.parse().map_err(|_| {
                BootError::BadInput(FieldError::invalid(
                    "X-Forwarded-For",
                    format!("{part:?} is not an IP address"),
                ))
            })?;
            hops.push(ip.to_canonical());
        }
    }
    Ok(hops
        .iter()
        .rev()
        .find(|ip| !config.is_trusted_proxy(**ip))
        .or(hops.first())
        .copied()
        .unwrap_or(peer))
}

impl<S: BootSource> FromRequestParts<BootState<S>> for ClientIp {
    type Rejection = BootError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &BootState<S>,
    ) -> Result<Self, Self::Rejection> {
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(|_| BootError::NoPeerAddress)?;
        client_ip(peer.ip(), &parts.headers, state.config()).map(ClientIp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let mut cfg = BootConfig::new("http://h", "http://h/ci");
        cfg.trusted_proxies = vec!["10.0.0.0/30".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.1.1.1, 10.1.0.5".parse().unwrap());
        h.append("x-forwarded-for", "10.0.0.2".parse().unwrap());
        assert_eq!(
            client_ip(ip("192.168.0.9"), &h, &cfg).unwrap(),
            ip("192.168.0.9")
        );
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &cfg).unwrap(), ip("10.1.0.5"));
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.1"), &HeaderMap::new(), &cfg).unwrap(),
            ip("10.0.0.1")
        );
        h.insert("x-forwarded-for", "nonsense".parse().unwrap());
        let e = client_ip(ip("10.0.0.1"), &h, &cfg).unwrap_err();
        assert!(
            e.to_string().starts_with("X-Forwarded-For: \"nonsense\""),
            "{e}"
        );
    }
}
