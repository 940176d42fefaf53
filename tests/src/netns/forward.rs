//! Reaching a TCP server inside a namespace from the test process, which stays in the root
//! namespace: a loopback port whose connections are forwarded to the server.

use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsFd;
use std::path::Path;
use std::thread::JoinHandle;

use anyhow::Context;
use rustix::thread::LinkNameSpaceType;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A loopback port of the root namespace forwarding each connection to `target` in a network
/// namespace, byte for byte (HTTP/1.1 keep-alive, HTTP/2 and gRPC all pass through).
///
/// It runs on its own thread, which alone enters the namespace: a socket belongs to the
/// namespace of the thread that creates it, so the listener (made before the move) is on the
/// test's loopback and every outbound connection (made after) is inside. Dropping it closes
/// the port and every forwarded connection.
pub struct Forwarder {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Forwarder {
    /// Forwards a new loopback port to `target` inside namespace `ns`. Needs root.
    pub fn start(ns: &str, target: SocketAddr) -> anyhow::Result<Forwarder> {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let ns_path = Path::new(super::NETNS_DIR).join(ns);
        let ns_file = std::fs::File::open(&ns_path)
            .with_context(|| format!("opening {}", ns_path.display()))?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("fwd {ns} {target}"))
            .spawn(move || {
                let entered = rustix::thread::move_into_link_name_space(
                    ns_file.as_fd(),
                    Some(LinkNameSpaceType::Network),
                )
                .map_err(|e| format!("entering the namespace: {e}"));
                let runtime = entered.and_then(|()| {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| format!("building its runtime: {e}"))
                });
                let runtime = match runtime {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("forwarder to {target}: {e}");
                            return;
                        }
                    };
                    tokio::select! {
                        _ = stopped => {}
                        () = serve(listener, target) => {}
                    }
                });
                // Dropping the runtime here cancels the connection tasks, closing them.
            })?;
        ready_rx
            .recv()
            .context("the forwarder thread ended before starting")?
            .map_err(|e| anyhow::anyhow!("forwarder into netns {ns}: {e}"))?;
        Ok(Forwarder {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The loopback address to connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Accepts until the listener fails for good, one task per connection.
async fn serve(listener: TcpListener, target: SocketAddr) {
    loop {
        let mut inbound = match listener.accept().await {
            Ok((stream, _)) => stream,
            // The client gave up before the accept: nothing to forward.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => continue,
            Err(e) => {
                eprintln!("forwarder to {target}: accept failed: {e}");
                return;
            }
        };
        tokio::spawn(async move {
            // A target that does not answer shows to the client as a closed connection.
            let Ok(mut outbound) = TcpStream::connect(target).await else {
                return;
            };
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
        });
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
