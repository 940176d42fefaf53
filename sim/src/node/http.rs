//! The HTTP half of a virtual node's boot: one keep-alive HTTP/1.1 connection from the leased
//! address, as iPXE and then cloud-init would open (the server tells nodes apart by source
//! address, so the connection must leave from the node's own).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use cairn_protocols::MacAddr;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Uri, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpSocket;
use tokio::task::JoinHandle;

use super::FailReason;

/// Largest response body read (a boot script or cloud-init document is a few KiB).
const MAX_BODY: usize = 8 << 20;
/// Where the boot script is when the boot file does not say (it is a TFTP file name).
pub(super) const BOOTSCRIPT_PATH: &str = "/boot/v1/bootscript";

/// Where to fetch the boot script from.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Plan {
    /// The server to connect to.
    pub server: SocketAddr,
    /// The `Host` header.
    pub host: String,
    /// The boot script's path and query.
    pub script: String,
}

/// An HTTP boot file (what DHCP gives iPXE) is fetched as iPXE would: its path and query, from
/// its host unless `http` overrides the server. Any other boot file names a TFTP download that
/// ends in the same script, fetched from `http` by MAC.
pub(super) fn plan(
    bootfile: &str,
    http: Option<SocketAddr>,
    mac: MacAddr,
) -> Result<Plan, FailReason> {
    if !bootfile.starts_with("http://") {
        let server = http.ok_or_else(|| {
            FailReason::Protocol(format!(
                "boot file {bootfile:?} is not an http:// URL and no HTTP server was given"
            ))
        })?;
        return Ok(Plan {
            server,
            host: server.to_string(),
            script: format!("{BOOTSCRIPT_PATH}?mac={mac}"),
        });
    }
    let bad = |why: &str| FailReason::Protocol(format!("boot file URL {bootfile:?}: {why}"));
    let uri: Uri = bootfile.parse().map_err(|_| bad("not a URL"))?;
    let authority = uri.authority().ok_or_else(|| bad("no host"))?;
    let script = uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let server = match http {
        Some(server) => server,
        None => {
            // Nodes resolve no names here: the host must be an address.
            let host = authority
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']');
            let ip: IpAddr = host
                .parse()
                .map_err(|_| bad("the host is not an IP address (give the HTTP server)"))?;
            SocketAddr::new(ip, authority.port_u16().unwrap_or(80))
        }
    };
    Ok(Plan {
        server,
        host: authority.as_str().to_owned(),
        script,
    })
}

/// A keep-alive connection from the node's address, reopened when the server closes it.
pub(super) struct Session {
    local: Ipv4Addr,
    server: SocketAddr,
    host: String,
    sender: Option<SendRequest<Empty<Bytes>>>,
    driver: Option<JoinHandle<()>>,
    /// Requests answered on the current connection.
    served: u32,
}

impl Session {
    /// Nothing is connected until the first request.
    pub fn new(local: Ipv4Addr, plan: &Plan) -> Session {
        Session {
            local,
            server: plan.server,
            host: plan.host.clone(),
            sender: None,
            driver: None,
            served: 0,
        }
    }

    async fn connect(&mut self) -> Result<(), FailReason> {
        self.close();
        let io_err = |what: String| move |source| FailReason::Io { what, source };
        let sock = TcpSocket::new_v4().map_err(io_err("creating a TCP socket".to_owned()))?;
        sock.bind(SocketAddr::new(self.local.into(), 0))
            .map_err(io_err(format!(
                "binding the leased address {} (a node without root needs a loopback boot subnet)",
                self.local
            )))?;
        let stream = sock
            .connect(self.server)
            .await
            .map_err(io_err(format!("connecting to {}", self.server)))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| FailReason::Http(e.to_string()))?;
        // The connection's own errors show up in the requests sent over it.
        self.driver = Some(tokio::spawn(async move {
            let _ = conn.await;
        }));
        self.sender = Some(sender);
        self.served = 0;
        Ok(())
    }

    fn close(&mut self) {
        self.sender = None;
        if let Some(driver) = self.driver.take() {
            driver.abort();
        }
    }

    /// `GET path`: the status and the whole body. A GET is safe to repeat, so one that fails
    /// on a connection the server may have closed meanwhile is retried once on a new one.
    pub async fn get(&mut self, path: &str) -> Result<(u16, Bytes), FailReason> {
        let reused = self.sender.as_ref().is_some_and(|s| !s.is_closed());
        if !reused {
            self.connect().await?;
        }
        match self.try_get(path).await {
            Err(_) if reused && self.served > 0 => {
                self.connect().await?;
                self.try_get(path).await
            }
            other => other,
        }
    }

    async fn try_get(&mut self, path: &str) -> Result<(u16, Bytes), FailReason> {
        let http = |e: hyper::Error| FailReason::Http(e.to_string());
        let sender = self
            .sender
            .as_mut()
            .ok_or_else(|| FailReason::Http("not connected".to_owned()))?;
        sender.ready().await.map_err(http)?;
        let request = Request::get(path)
            .header(header::HOST, &self.host)
            .header(header::USER_AGENT, "cairn-sim-node")
            .body(Empty::new())
            .map_err(|e| FailReason::Protocol(format!("request for {path:?}: {e}")))?;
        let response = sender.send_request(request).await.map_err(http)?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| FailReason::Http(format!("reading the body of {path}: {e}")))?
            .to_bytes();
        self.served += 1;
        Ok((status, body))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}
