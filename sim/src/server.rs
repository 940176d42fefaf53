//! Listeners and connections: one task per BMC listener, one per connection, nothing per BMC
//! beyond that. Connections are HTTP/1.1 with keep-alive (what BMCs speak); an idle connection
//! is closed after [`IDLE_TIMEOUT`] so a thousand BMCs polled by a few agents hold a bounded
//! number of sockets.
//!
//! A listener task owns its connections in a `JoinSet`: aborting the listener (shutdown, or the
//! handle dropped) drops the set, which aborts every connection, hung ones included.

use std::convert::Infallible;
use std::future::pending;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tracing::Instrument;

use crate::bmc::{Admission, Bmc};
use crate::redfish;

/// How long a keep-alive connection may sit idle (hyper's header-read timeout also applies
/// between requests) and how long a client may take to send a request's headers.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a connection is closed without an answer.
#[derive(Debug, thiserror::Error)]
#[error("the BMC is dead (DieAfter fault)")]
struct Died;

/// Serves one BMC's listener until aborted.
pub(crate) async fn run_listener(listener: TcpListener, bmc: Arc<Bmc>, tls: Option<TlsAcceptor>) {
    let router = redfish::router(Arc::clone(&bmc));
    let mut connections = JoinSet::new();
    tracing::debug!("listening");
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if bmc.is_dead() {
                        drop(stream);
                        continue;
                    }
                    let span = tracing::debug_span!("connection", %peer);
                    let conn = serve(stream, Arc::clone(&bmc), router.clone(), tls.clone());
                    connections.spawn(conn.instrument(span));
                }
                Err(e) => {
                    // Out of file descriptors, most likely: back off rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve(stream: TcpStream, bmc: Arc<Bmc>, router: Router, tls: Option<TlsAcceptor>) {
    // Small request/response pairs on a kept-alive connection: Nagle would add 40 ms stalls.
    let _ = stream.set_nodelay(true);
    match tls {
        None => serve_http(stream, bmc, router).await,
        Some(acceptor) => {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls_stream)) => serve_http(tls_stream, bmc, router).await,
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        }
    }
}

async fn serve_http<S>(io: S, bmc: Arc<Bmc>, router: Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let (bmc, router) = (Arc::clone(&bmc), router.clone());
        let span = tracing::debug_span!("request", method = %request.method(), path = request.uri().path());
        async move {
            match bmc.admit() {
                Admission::Serve => {
                    let response: Response<Body> = match router.oneshot(request).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    };
                    tracing::debug!(status = response.status().as_u16(), "answered");
                    Ok(response)
                }
                Admission::Hang => {
                    tracing::debug!("fault: hanging");
                    let never: Infallible = pending().await;
                    match never {}
                }
                Admission::Dead => {
                    tracing::debug!("fault: dead, closing the connection");
                    Err(Died)
                }
            }
        }
        .instrument(span)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT)
        .keep_alive(true);
    if let Err(e) = builder.serve_connection(TokioIo::new(io), service).await {
        tracing::debug!(error = %e, "connection ended");
    }
}
