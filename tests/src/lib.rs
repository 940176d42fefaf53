//! Harness for multi-process tests: real `cairn-coordinator` processes started from a temp
//! dir, one log file each, torn down explicitly and kept on failure for inspection; and the
//! fixtures of the end-to-end tests with real peers ([`peers`], [`nginx`]).
//!
//! ```no_run
//! # async fn f() -> anyhow::Result<()> {
//! let cluster = cairn_tests::Cluster::builder().coordinators(3).start().await?;
//! let leader = cluster.leader().await?;
//! # Ok(()) }
//! ```

mod cluster;
pub mod netns;
pub mod nginx;
pub mod peers;
mod poll;
mod process;

pub use cluster::{Cluster, ClusterBuilder};
pub use poll::wait_for;
pub use process::{Endpoints, agent_binary, cairn_binary, coordinator_binary};
