//! The clients with a transfer running, so a retransmitted request (a client that found our
//! first answer slow) does not start a second transfer and take a second permit.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Client addresses (IP and port) with a transfer running.
#[derive(Debug, Clone, Default)]
pub struct Active(Arc<Mutex<HashSet<SocketAddr>>>);

/// A claim on a client address, released when dropped (the transfer ended or was aborted).
#[derive(Debug)]
pub struct Claim {
    active: Active,
    peer: SocketAddr,
}

impl Active {
    /// Claim `peer`, or `None` when a transfer for it is already running.
    pub fn claim(&self, peer: SocketAddr) -> Option<Claim> {
        let mut set = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        set.insert(peer).then(|| Claim {
            active: self.clone(),
            peer,
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut set = self.active.0.lock().unwrap_or_else(PoisonError::into_inner);
        set.remove(&self.peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_exclusive_until_dropped() {
        let active = Active::default();
        let peer: SocketAddr = ([127, 0, 0, 1], 2000).into();
        let claim = active.claim(peer);
        assert!(claim.is_some());
        assert!(active.claim(peer).is_none());
        assert!(active.claim(([127, 0, 0, 1], 2001).into()).is_some());
        drop(claim);
        assert!(active.claim(peer).is_some());
    }
}
