//! Integration tests of `cairn-sim`, in one binary: BMCs on real loopback sockets driven with
//! reqwest, the way the agent will talk to them.

// Helpers outside `#[test]` functions panic on failure too: that is what a test wants.
#![allow(clippy::unwrap_used)]

mod auth;
mod binary;
mod common;
mod crawl;
mod faults;
mod mockups;
mod node;
mod power;
mod scale;
mod tls;
