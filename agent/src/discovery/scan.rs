//! Finding BMCs: a TCP connect sweep of subnets × ports, then a probe of `GET /redfish/v1/`
//! over each configured scheme in turn.
//!
//! A port is a BMC when the service root answers 200 with a `RedfishVersion`, or 401/403 (a
//! root behind authentication). An HTTPS port whose certificate is not trusted also counts: it
//! is most likely a BMC missing from the CA file, and its crawl will then fail with a status
//! operators can see, rather than the BMC silently not existing.

use std::error::Error as _;
use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt;
use ipnet::IpNet;
use tokio::net::TcpStream;

use crate::config::BmcConfig;
use crate::redfish::model::{ServiceRoot, decode_resource};
use crate::redfish::{BmcAddress, RedfishClient, Scheme};

/// What to sweep.
#[derive(Debug, Clone)]
pub struct ScanSpec {
    /// Subnets; every host address is tried (not the network or broadcast address of IPv4
    /// subnets larger than /31).
    pub subnets: Vec<IpNet>,
    /// Ports tried on every address.
    pub ports: Vec<u16>,
    /// Schemes probed on an open port, in order.
    pub schemes: Vec<Scheme>,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Addresses probed at once.
    pub concurrency: usize,
}

impl ScanSpec {
    /// The sweep a `[bmc]` configuration asks for.
    pub fn from_config(bmc: &BmcConfig) -> ScanSpec {
        ScanSpec {
            subnets: bmc.subnets.clone(),
            ports: bmc.ports.clone(),
            schemes: bmc.schemes.clone(),
            connect_timeout: bmc.connect_timeout(),
            concurrency: bmc.scan_concurrency,
        }
    }

    fn sockets(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.subnets
            .iter()
            .flat_map(|net| net.hosts())
            .flat_map(|ip| {
                self.ports
                    .iter()
                    .map(move |port| SocketAddr::new(ip, *port))
            })
    }
}

/// Sweeps `spec` and returns the BMCs found, sorted by address and port.
pub async fn scan(client: &RedfishClient, spec: &ScanSpec) -> Vec<BmcAddress> {
    let mut found: Vec<(SocketAddr, BmcAddress)> = futures::stream::iter(spec.sockets())
        .map(|socket| async move {
            let open = tokio::time::timeout(spec.connect_timeout, TcpStream::connect(socket))
                .await
                .is_ok_and(|r| r.is_ok());
            if !open {
                return None;
            }
            let found = probe(
                client,
                &socket.ip().to_string(),
                socket.port(),
                &spec.schemes,
            )
            .await;
            found.map(|a| (socket, a))
        })
        .buffer_unordered(spec.concurrency.max(1))
        .filter_map(std::future::ready)
        .collect()
        .await;
    found.sort_by_key(|(socket, _)| *socket);
    tracing::info!(found = found.len(), "scan finished");
    found.into_iter().map(|(_, a)| a).collect()
}

/// Probes `host:port` with each scheme in order; the first that looks like Redfish wins.
pub async fn probe(
    client: &RedfishClient,
    host: &str,
    port: u16,
    schemes: &[Scheme],
) -> Option<BmcAddress> {
    for scheme in schemes {
        let address = BmcAddress::new(*scheme, host, port);
        if probe_one(client, &address).await {
            return Some(address);
        }
    }
    None
}

async fn probe_one(client: &RedfishClient, address: &BmcAddress) -> bool {
    let Ok(url) = address.base_url().and_then(|u| {
        u.join("redfish/v1/")
            .map_err(|e| crate::redfish::AddressError {
                input: address.to_string(),
                reason: e.to_string(),
            })
    }) else {
        return false;
    };
    let response = client
        .http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await;
    match response {
        Ok(r) if matches!(r.status().as_u16(), 401 | 403) => true,
        Ok(mut r) if r.status().is_success() => {
            let limit = client.max_response_bytes;
            let mut body = Vec::new();
            loop {
                match r.chunk().await {
                    Ok(Some(chunk)) if body.len() + chunk.len() <= limit => {
                        body.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    _ => return false,
                }
            }
            decode_resource::<ServiceRoot>(&body).is_ok_and(|r| r.redfish_version.is_some())
        }
        Ok(_) => false,
        Err(e) => {
            let untrusted = address.scheme == Scheme::Https && is_certificate_error(&e);
            if untrusted {
                tracing::warn!(bmc = %address, "TLS certificate not trusted; add it to the CA file");
            }
            untrusted
        }
    }
}

/// Whether a request failed because the server's certificate was not trusted.
fn is_certificate_error(error: &reqwest::Error) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = error.source();
    while let Some(e) = current {
        // io::Error hides its payload from `source()`; look inside it explicitly.
        let payload = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        for candidate in [Some(e), payload].into_iter().flatten() {
            if let Some(rustls::Error::InvalidCertificate(_)) = candidate.downcast_ref() {
                return true;
            }
        }
        current = e.source();
    }
    false
}
