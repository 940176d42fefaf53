//! The one place that builds listeners and HTTP clients, so TLS slots in here later.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

/// Bind a TCP listener, naming the address when it fails.
pub async fn listen(addr: SocketAddr, what: &str) -> Result<TcpListener, std::io::Error> {
    TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot listen for {what} on {addr}: {e}"))
    })
}

/// The HTTP client replicas use to reach each other's API (forwarded writes, read indexes,
/// joins). Timeouts are bounded by the quorum timeout so a dead peer never stalls a request.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(2)))
        .timeout(timeout)
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .build()
}

/// rustls needs one process-wide crypto provider; Cairn uses ring everywhere (boringtun and
/// rcgen bring it anyway). Idempotent: a provider already installed is kept.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
