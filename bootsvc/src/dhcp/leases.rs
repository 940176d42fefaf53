//! The lease table: range and pool bindings, in memory and persisted in a `sled::Tree`.
//!
//! Inventory addresses are not stored: the inventory is their record. A binding is held in
//! memory while it is only offered and written when the client's REQUEST is acknowledged, so
//! a flood of DISCOVERs costs no disk writes. Each binding holds its address, so the table
//! never grows past the range and the pool.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use cairn_protocols::MacAddr;

use super::LeaseKind;
use super::addrs::AddrRange;
use super::config::Resolved;
use super::error::DhcpError;

/// Record format version (first byte of each value).
const VERSION: u8 = 1;

/// An address bound (or offered) to a MAC from the range or the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Binding {
    pub ip: Ipv4Addr,
    /// [`LeaseKind::Range`] or [`LeaseKind::Pool`].
    pub kind: LeaseKind,
    /// Offer hold or lease end; `u64::MAX` for a committed range binding, which is the node's
    /// address until the inventory gives it another.
    pub expires_ms: u64,
    /// Acknowledged and on disk (otherwise only offered).
    pub committed: bool,
    /// For range bindings: the host service has been told.
    pub reported: bool,
}

impl Binding {
    fn encode(&self) -> [u8; 15] {
        let mut v = [0u8; 15];
        v[0] = VERSION;
        v[1] = match self.kind {
            LeaseKind::Range => 1,
            _ => 2,
        };
        v[2..6].copy_from_slice(&self.ip.octets());
        v[6..14].copy_from_slice(&self.expires_ms.to_be_bytes());
        v[14] = u8::from(self.reported);
        v
    }

    fn decode(v: &[u8]) -> Option<Binding> {
        let v: &[u8; 15] = v.try_into().ok()?;
        if v[0] != VERSION {
            return None;
        }
        let kind = match v[1] {
            1 => LeaseKind::Range,
            2 => LeaseKind::Pool,
            _ => return None,
        };
        let mut ip = [0u8; 4];
        ip.copy_from_slice(&v[2..6]);
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&v[6..14]);
        Some(Binding {
            ip: Ipv4Addr::from(ip),
            kind,
            expires_ms: u64::from_be_bytes(exp),
            committed: true,
            reported: v[14] != 0,
        })
    }
}

/// Range and pool bindings.
pub(crate) struct LeaseTable {
    tree: sled::Tree,
    by_mac: HashMap<MacAddr, Binding>,
    by_ip: HashMap<Ipv4Addr, MacAddr>,
    /// Addresses a client declined, not offered again until the time given.
    declined: HashMap<Ipv4Addr, u64>,
    /// Where the next scan of the range / the pool starts (spreads addresses, keeps scans short).
    cursor: [u32; 2],
    used: [u32; 2],
}

fn slot(kind: LeaseKind) -> usize {
    usize::from(kind == LeaseKind::Pool)
}

impl LeaseTable {
    /// Loads the persisted bindings, dropping (with a warning) records that are corrupt or no
    /// longer fit the configured range and pool.
    pub(crate) fn load(tree: sled::Tree, cfg: &Resolved) -> Result<LeaseTable, DhcpError> {
        let mut table = LeaseTable {
            tree,
            by_mac: HashMap::new(),
            by_ip: HashMap::new(),
            declined: HashMap::new(),
            cursor: [0; 2],
            used: [0; 2],
        };
        let mut stale = Vec::new();
        for item in table.tree.iter() {
            let (key, value) = item?;
            let parsed = <[u8; 6]>::try_from(key.as_ref())
                .ok()
                .map(MacAddr)
                .zip(Binding::decode(&value));
            let Some((mac, binding)) = parsed else {
                tracing::warn!(key = ?key.as_ref(), "dropping a corrupt DHCP lease record");
                stale.push(key);
                continue;
            };
            let fits = match binding.kind {
                LeaseKind::Range => cfg.range.contains(binding.ip),
                _ => cfg.pool.is_some_and(|p| p.contains(binding.ip)),
            } && cfg.assignable(binding.ip);
            if !fits || table.by_ip.contains_key(&binding.ip) {
                tracing::info!(%mac, ip = %binding.ip, kind = binding.kind.as_str(),
                    "dropping a DHCP lease outside the configured range and pool");
                stale.push(key);
                continue;
            }
            table.insert(mac, binding);
        }
        for key in stale {
            table.tree.remove(key)?;
        }
        Ok(table)
    }

    fn insert(&mut self, mac: MacAddr, binding: Binding) {
        self.by_ip.insert(binding.ip, mac);
        self.used[slot(binding.kind)] += 1;
        self.by_mac.insert(mac, binding);
    }

    /// The MAC's binding, if any.
    pub(crate) fn get(&self, mac: MacAddr) -> Option<&Binding> {
        self.by_mac.get(&mac)
    }

    /// Forgets the MAC's binding (and its record).
    pub(crate) fn remove(&mut self, mac: MacAddr) -> Result<Option<Binding>, DhcpError> {
        let Some(b) = self.by_mac.remove(&mac) else {
            return Ok(None);
        };
        self.by_ip.remove(&b.ip);
        self.used[slot(b.kind)] -= 1;
        if b.committed {
            self.tree.remove(mac.octets())?;
        }
        Ok(Some(b))
    }

    /// Keeps an address away from offers until `until_ms` (a client found it in use).
    pub(crate) fn quarantine(&mut self, ip: Ipv4Addr, until_ms: u64, now_ms: u64) {
        if self.declined.len() > 4096 {
            self.declined.retain(|_, t| *t > now_ms);
        }
        self.declined.insert(ip, until_ms);
    }

    fn is_free(&self, ip: Ipv4Addr, now_ms: u64) -> bool {
        !self.by_ip.contains_key(&ip) && self.declined.get(&ip).is_none_or(|t| *t <= now_ms)
    }

    /// Binds an address of `range` to `mac` as an offer held until `hold_until_ms`: the
    /// preferred address if it is free, else the next free one, else one reclaimed from a
    /// binding `reclaimable` gives up (oldest first). `usable` vetoes addresses (the
    /// inventory's, ours). An existing binding of the MAC is replaced.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn offer(
        &mut self,
        mac: MacAddr,
        kind: LeaseKind,
        range: AddrRange,
        preferred: Option<Ipv4Addr>,
        hold_until_ms: u64,
        now_ms: u64,
        usable: &dyn Fn(Ipv4Addr) -> bool,
        reclaimable: &dyn Fn(MacAddr, &Binding) -> bool,
    ) -> Result<Option<Ipv4Addr>, DhcpError> {
        self.remove(mac)?;
        let free = |t: &LeaseTable, ip: Ipv4Addr| t.is_free(ip, now_ms) && usable(ip);
        let mut chosen = preferred.filter(|ip| range.contains(*ip) && free(self, *ip));
        let s = slot(kind);
        if chosen.is_none() && self.used[s] < range.len() {
            for i in 0..range.len() {
                let ip = range.nth(self.cursor[s].wrapping_add(i));
                if free(self, ip) {
                    self.cursor[s] = self.cursor[s].wrapping_add(i + 1);
                    chosen = Some(ip);
                    break;
                }
            }
        }
        if chosen.is_none() {
            let victim = self
                .by_mac
                .iter()
                .filter(|(m, b)| {
                    b.kind == kind && range.contains(b.ip) && usable(b.ip) && reclaimable(**m, b)
                })
                .min_by_key(|(_, b)| b.expires_ms)
                .map(|(m, b)| (*m, b.ip));
            if let Some((old, ip)) = victim {
                tracing::info!(%ip, from = %old, to = %mac, kind = kind.as_str(),
                    "reusing a DHCP address");
                self.remove(old)?;
                chosen = Some(ip);
            }
        }
        if let Some(ip) = chosen {
            self.insert(
                mac,
                Binding {
                    ip,
                    kind,
                    expires_ms: hold_until_ms,
                    committed: false,
                    reported: false,
                },
            );
        }
        Ok(chosen)
    }

    /// Acknowledges the MAC's binding until `expires_ms` and writes it (the caller flushes
    /// before replying). Returns the binding, or `None` if the MAC has none.
    pub(crate) fn commit(
        &mut self,
        mac: MacAddr,
        expires_ms: u64,
    ) -> Result<Option<Binding>, DhcpError> {
        let Some(b) = self.by_mac.get_mut(&mac) else {
            return Ok(None);
        };
        b.expires_ms = expires_ms;
        b.committed = true;
        let b = *b;
        self.tree.insert(mac.octets(), &b.encode()[..])?;
        Ok(Some(b))
    }

    /// Records that a range binding was reported to the host service.
    pub(crate) fn set_reported(&mut self, mac: MacAddr) -> Result<(), DhcpError> {
        if let Some(b) = self.by_mac.get_mut(&mac) {
            b.reported = true;
            if b.committed {
                let b = *b;
                self.tree.insert(mac.octets(), &b.encode()[..])?;
            }
        }
        Ok(())
    }

    /// Ends a pool lease now (RELEASE); the address stays the MAC's until someone needs it.
    pub(crate) fn expire(&mut self, mac: MacAddr, now_ms: u64) -> Result<(), DhcpError> {
        if let Some(b) = self.by_mac.get(&mac)
            && b.kind == LeaseKind::Pool
            && b.committed
        {
            self.commit(mac, now_ms)?;
        }
        Ok(())
    }

    /// Bindings of each kind: (range, pool).
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (u32, u32) {
        (self.used[0], self.used[1])
    }
}

#[cfg(test)]
#[path = "leases_tests.rs"]
mod tests;
