//! A network partition between one rack agent and the coordinators, on one machine: the agent
//! reaches each replica through a TCP relay of this process, and [`Partition::cut`] makes the
//! relays drop every connection and refuse new ones, as a dead uplink would.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The relays of one agent (see the module docs). Dropping it stops them.
pub struct Partition {
    cut: Arc<AtomicBool>,
    signal: watch::Sender<u64>,
    urls: Vec<String>,
    _relays: JoinSet<()>,
}

impl Partition {
    /// A relay on 127.0.0.1 for each of `replicas`' API addresses.
    pub async fn start(replicas: &[SocketAddr]) -> anyhow::Result<Partition> {
        let cut = Arc::new(AtomicBool::new(false));
        let (signal, _) = watch::channel(0u64);
        let mut relays = JoinSet::new();
        let mut urls = Vec::new();
        for target in replicas {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            urls.push(format!("http://{}", listener.local_addr()?));
            relays.spawn(relay(listener, *target, Arc::clone(&cut), signal.clone()));
        }
        Ok(Partition {
            cut,
            signal,
            urls,
            _relays: relays,
        })
    }

    /// The URLs to give the agent in place of the replicas'.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// Cut the link: open connections drop, new ones are closed at once.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.signal.send_modify(|n| *n += 1);
    }

    /// Mend it.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

async fn relay(
    listener: TcpListener,
    target: SocketAddr,
    cut: Arc<AtomicBool>,
    signal: watch::Sender<u64>,
) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        if cut.load(Ordering::SeqCst) {
            drop(inbound);
            continue;
        }
        let mut cuts = signal.subscribe();
        connections.spawn(async move {
            let Ok(mut outbound) = TcpStream::connect(target).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                _ = cuts.changed() => {}
            }
        });
    }
}
