//! All cairn-raft integration tests, in one binary to keep link times short.

mod all {
    mod cluster;
    pub mod common;
    mod durability;
    mod faults;
    mod membership;
    mod snapshot;
}
