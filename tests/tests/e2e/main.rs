//! End-to-end tests: real `cairn-coordinator` processes, and the real peers of
//! `../shared/peers/` (QEMU + iPXE, a Debian kernel, cloud-init) talking to them.
//!
//! One test binary for the crate (short link times). Every test here starts processes and
//! runs in nextest's serial `multiprocess` group (`.config/nextest.toml`); the peer tests skip,
//! printing why, when not root or when a peer or tool is missing.

mod agent;
mod bench_boot;
mod boot_fixture;
mod cloud_init_peer;
mod ipxe_peer;
mod multiprocess;
mod netns;
mod rack_boot_netns;
