//! Write throughput of three replicas in one process (sled storage, in-process transport), to
//! separate Raft + storage costs from the HTTP and gRPC layers:
//! `cargo run --release -p cairn-raft --example throughput -- [WRITERS] [SECONDS] [memory]`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cairn_raft::{
    Node, RaftConfig, Replica, Router, SnapshotError, StateMachine, Storage, Transport,
};

/// Counts applied commands; the payload is opaque bytes, like an encoded inventory record.
#[derive(Default)]
struct Counter(u64);

impl StateMachine for Counter {
    type Command = Vec<u8>;
    type Response = u64;

    fn apply(&mut self, _cmd: Vec<u8>) -> u64 {
        self.0 += 1;
        self.0
    }

    fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        Ok(self.0.to_be_bytes().to_vec())
    }

    fn restore(&mut self, data: &[u8]) -> Result<(), SnapshotError> {
        let bytes: [u8; 8] = data
            .try_into()
            .map_err(|_| SnapshotError("bad snapshot".into()))?;
        self.0 = u64::from_be_bytes(bytes);
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let writers: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let seconds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5);
    let memory = args.get(3).is_some_and(|a| a == "memory");
    let dir = tempfile::tempdir()?;
    let router = Router::new();
    let mut replicas = Vec::new();
    let mut members = BTreeMap::new();
    for id in 1..=3u64 {
        let node = Node::new(format!("r{id}"), format!("a{id}"));
        members.insert(id, node.clone());
        let storage = if memory {
            Storage::Memory
        } else {
            Storage::Sled(dir.path().join(id.to_string()))
        };
        let cfg = RaftConfig::new(id, node, storage);
        replicas.push(
            Replica::start(
                cfg,
                Counter::default(),
                Transport::InProcess(router.clone()),
            )
            .await?,
        );
    }
    replicas[0].initialize(members).await?;
    let mut m = replicas[0].metrics();
    m.wait_for(|m| m.current_leader == Some(1)).await?;
    let leader = replicas[0].clone();
    let done = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let (leader, done) = (leader.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < stop {
                    if leader.write(&vec![7u8; 2048]).await.is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    let n = done.load(Ordering::Relaxed);
    println!(
        "{writers} writers, {} storage: {n} writes in {seconds} s = {:.0} writes/s",
        if memory { "memory" } else { "sled" },
        n as f64 / seconds as f64
    );
    for r in &replicas {
        r.shutdown().await?;
    }
    Ok(())
}
