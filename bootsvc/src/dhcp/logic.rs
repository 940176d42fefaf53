//! What to answer: RFC 2131 §4.3 over the inventory, the range and the pool. Pure of I/O
//! except the lease table's writes; the server sends what this decides.

use std::net::Ipv4Addr;
use std::sync::Arc;

use dhcproto::v4::MessageType;

use cairn_protocols::MacAddr;

use super::config::{BOOTSCRIPT_PATH, Resolved};
use super::error::DhcpError;
use super::leases::{Binding, LeaseTable};
use super::limits::{Limits, Sightings};
use super::outcome::{Answer, Outcome, Silence};
use super::packet::Request;
use super::{DhcpEvent, DhcpHosts, Host, LeaseKind};

/// How long an offered range or pool address waits for the client's REQUEST.
const OFFER_HOLD_MS: u64 = 30_000;
/// How long a declined address is kept out of offers.
const DECLINE_QUARANTINE_MS: u64 = 600_000;

/// Where the MAC's address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Inventory(Ipv4Addr),
    Range,
    Pool,
    Nothing,
}

/// The server's state: settings, inventory view, leases, limits.
pub(crate) struct Logic {
    pub cfg: Resolved,
    hosts: Arc<dyn DhcpHosts>,
    pub leases: LeaseTable,
    limits: Limits,
    /// Unknown MACs already reported, until when.
    seen: Sightings,
}

impl Logic {
    pub(crate) fn new(
        cfg: Resolved,
        hosts: Arc<dyn DhcpHosts>,
        leases: LeaseTable,
        now_ms: u64,
    ) -> Logic {
        Logic {
            cfg,
            hosts,
            leases,
            limits: Limits::new(now_ms),
            seen: Sightings::default(),
        }
    }

    fn target(&self, host: Option<&Host>) -> Target {
        match host {
            Some(h) => match h.ipv4.iter().find(|ip| self.cfg.subnet.contains(*ip)) {
                Some(ip) => Target::Inventory(*ip),
                None => Target::Range,
            },
            None if self.cfg.pool.is_some() => Target::Pool,
            None => Target::Nothing,
        }
    }

    /// The MAC's current address for this target, without allocating.
    /// A binding whose address the inventory has since given to another interface does not
    /// count: the client is moved (NAKed on renewal) rather than left in conflict.
    fn current(&self, mac: MacAddr, target: Target) -> Option<Ipv4Addr> {
        let kind = match target {
            Target::Inventory(ip) => return Some(ip),
            Target::Nothing => return None,
            Target::Range => LeaseKind::Range,
            Target::Pool => LeaseKind::Pool,
        };
        self.leases
            .get(mac)
            .filter(|b| b.kind == kind && !self.hosts.is_reserved(b.ip))
            .map(|b| b.ip)
    }

    /// The MAC's address for this target, allocating (as an offer) if it has none.
    fn obtain(
        &mut self,
        mac: MacAddr,
        target: Target,
        preferred: Option<Ipv4Addr>,
        now_ms: u64,
    ) -> Result<Result<Ipv4Addr, Silence>, DhcpError> {
        if let Some(ip) = self.current(mac, target) {
            return Ok(Ok(ip));
        }
        let (kind, range) = match (target, self.cfg.pool) {
            (Target::Range, _) => (LeaseKind::Range, self.cfg.range),
            (Target::Pool, Some(pool)) => (LeaseKind::Pool, pool),
            _ => return Ok(Err(Silence::Ignored("no address for this client"))),
        };
        let (cfg, hosts) = (&self.cfg, &self.hosts);
        let usable = |ip: Ipv4Addr| cfg.assignable(ip) && !hosts.is_reserved(ip);
        let reclaimable = |m: MacAddr, b: &Binding| {
            let expired = b.expires_ms <= now_ms;
            match b.kind {
                LeaseKind::Pool => expired,
                // A range address stays its node's unless the node no longer needs it.
                _ => {
                    (!b.committed && expired)
                        || hosts.host(m).is_none_or(|h| {
                            !h.enabled || h.ipv4.iter().any(|ip| cfg.subnet.contains(ip))
                        })
                }
            }
        };
        let got = self.leases.offer(
            mac,
            kind,
            range,
            preferred,
            now_ms + OFFER_HOLD_MS,
            now_ms,
            &usable,
            &reclaimable,
        )?;
        Ok(got.ok_or(Silence::Exhausted(kind)))
    }

    /// Decides the reply to a request received at `now_ms` (ms since the Unix epoch).
    pub(crate) fn handle(&mut self, req: &Request, now_ms: u64) -> Result<Outcome, DhcpError> {
        let mac = req.mac;
        let giaddr = req.msg.giaddr();
        if !giaddr.is_unspecified() && !self.cfg.subnet.contains(&giaddr) {
            return Ok(Outcome::silent(Silence::Refused(
                "relayed from a gateway outside the served subnet",
            )));
        }
        let host = self.hosts.host(mac).filter(|h| h.enabled);
        if let Err(r) = self.limits.admit(mac, host.is_some(), now_ms) {
            return Ok(Outcome::silent(Silence::Limited(r)));
        }
        let target = self.target(host.as_ref());
        if matches!(target, Target::Inventory(_)) && self.leases.get(mac).is_some() {
            // The inventory has taken over from the range or the pool.
            self.leases.remove(mac)?;
        }
        let mut out = match req.kind {
            MessageType::Discover => self.discover(req, host.as_ref(), target, now_ms)?,
            MessageType::Request => self.request(req, host.as_ref(), target, now_ms)?,
            MessageType::Decline => self.decline(req, target, now_ms)?,
            MessageType::Release => {
                if req.server_id == Some(self.cfg.server_ip) {
                    self.leases.expire(mac, now_ms)?;
                }
                Outcome::silent(Silence::Ignored("RELEASE"))
            }
            MessageType::Inform if !req.msg.ciaddr().is_unspecified() => Outcome {
                answer: Some(Answer {
                    kind: MessageType::Ack,
                    yiaddr: Ipv4Addr::UNSPECIFIED,
                    lease_secs: None,
                    hostname: host.as_ref().and_then(hostname),
                    bootfile: None,
                    message: None,
                }),
                ..Outcome::default()
            },
            _ => Outcome::silent(Silence::Ignored("not a client message")),
        };
        if host.is_none() && matches!(req.kind, MessageType::Discover | MessageType::Request) {
            self.report_unknown(req, &mut out, now_ms);
        }
        Ok(out)
    }

    fn offer_or_ack(
        &self,
        req: &Request,
        host: Option<&Host>,
        kind: MessageType,
        ip: Ipv4Addr,
        target: Target,
    ) -> Answer {
        let bootfile = if req.ipxe {
            Some(format!("{}{BOOTSCRIPT_PATH}{}", self.cfg.boot_url, req.mac))
        } else {
            req.arch
                .and_then(|a| self.cfg.bootfiles.for_arch(a))
                .map(str::to_owned)
        };
        let lease_secs = match target {
            Target::Pool => self.cfg.pool_lease_secs,
            _ => self.cfg.lease_secs,
        };
        Answer {
            kind,
            yiaddr: ip,
            lease_secs: Some(lease_secs),
            hostname: host.and_then(hostname),
            bootfile,
            message: None,
        }
    }

    fn discover(
        &mut self,
        req: &Request,
        host: Option<&Host>,
        target: Target,
        now_ms: u64,
    ) -> Result<Outcome, DhcpError> {
        let ip = match self.obtain(req.mac, target, req.requested_ip, now_ms)? {
            Ok(ip) => ip,
            Err(s) => return Ok(Outcome::silent(s)),
        };
        Ok(Outcome {
            answer: Some(self.offer_or_ack(req, host, MessageType::Offer, ip, target)),
            ..Outcome::default()
        })
    }

    fn request(
        &mut self,
        req: &Request,
        host: Option<&Host>,
        target: Target,
        now_ms: u64,
    ) -> Result<Outcome, DhcpError> {
        let mac = req.mac;
        let ciaddr = req.msg.ciaddr();
        let selecting = req.server_id.is_some();
        if let Some(sid) = req.server_id
            && sid != self.cfg.server_ip
        {
            // The client chose another server: free what we offered it.
            if self.leases.get(mac).is_some_and(|b| !b.committed) {
                self.leases.remove(mac)?;
            }
            return Ok(Outcome::silent(Silence::Ignored(
                "client chose another server",
            )));
        }
        let wanted = match req.requested_ip {
            Some(ip) => ip,
            None if !ciaddr.is_unspecified() => ciaddr,
            None => {
                return Ok(Outcome::silent(Silence::Refused(
                    "REQUEST without requested address or ciaddr",
                )));
            }
        };
        // INIT-REBOOT/RENEW from a client we have no record of: stay silent (RFC 2131
        // §4.3.2). The inventory's MACs are always on record: we own their addresses.
        let on_record = match target {
            Target::Inventory(_) | Target::Range => true,
            Target::Pool => self.leases.get(mac).is_some(),
            Target::Nothing => false,
        };
        if !selecting && !on_record {
            if target == Target::Pool {
                // Take the client's own address back if it is free (a lost record).
                if let Ok(ip) = self.obtain(mac, target, Some(wanted), now_ms)?
                    && ip != wanted
                {
                    self.leases.remove(mac)?;
                }
            }
            if self.current(mac, target) != Some(wanted) {
                return Ok(Outcome::silent(Silence::Ignored(
                    "no record of this client",
                )));
            }
        }
        let ip = match self.obtain(mac, target, Some(wanted), now_ms)? {
            Ok(ip) => ip,
            Err(s) => return Ok(Outcome::silent(s)),
        };
        if ip != wanted {
            return Ok(Outcome {
                answer: Some(Answer {
                    kind: MessageType::Nak,
                    yiaddr: Ipv4Addr::UNSPECIFIED,
                    lease_secs: None,
                    hostname: None,
                    bootfile: None,
                    message: Some("requested address is not this client's"),
                }),
                ..Outcome::default()
            });
        }
        let mut out = Outcome {
            answer: Some(self.offer_or_ack(req, host, MessageType::Ack, ip, target)),
            ..Outcome::default()
        };
        let source = match target {
            Target::Inventory(_) => LeaseKind::Inventory,
            Target::Range => LeaseKind::Range,
            _ => LeaseKind::Pool,
        };
        if source != LeaseKind::Inventory {
            let was_committed = self.leases.get(mac).is_some_and(|b| b.committed);
            let expires = match source {
                LeaseKind::Range => u64::MAX,
                _ => now_ms + u64::from(self.cfg.pool_lease_secs) * 1000,
            };
            let bound = self.leases.commit(mac, expires)?;
            out.flush = !was_committed;
            if let (Some(b), Some(h)) = (bound, host)
                && !b.reported
            {
                out.events.push(DhcpEvent::RangeAssigned {
                    xname: h.xname.clone(),
                    mac,
                    ip,
                    at_ms: now_ms,
                });
            }
        }
        out.events.push(DhcpEvent::Bound {
            mac,
            ip,
            xname: host.map(|h| h.xname.clone()),
            source,
            arch: req.arch,
            ipxe: req.ipxe,
            at_ms: now_ms,
        });
        Ok(out)
    }

    fn decline(
        &mut self,
        req: &Request,
        target: Target,
        now_ms: u64,
    ) -> Result<Outcome, DhcpError> {
        let (Some(ip), Some(sid)) = (req.requested_ip, req.server_id) else {
            return Ok(Outcome::silent(Silence::Ignored("DECLINE without address")));
        };
        if sid != self.cfg.server_ip {
            return Ok(Outcome::silent(Silence::Ignored(
                "DECLINE for another server",
            )));
        }
        tracing::warn!(mac = %req.mac, %ip, "client declined its address: another host uses it");
        if self.current(req.mac, target) == Some(ip) && !matches!(target, Target::Inventory(_)) {
            self.leases.remove(req.mac)?;
        }
        self.leases
            .quarantine(ip, now_ms + DECLINE_QUARANTINE_MS, now_ms);
        Ok(Outcome {
            silence: Some(Silence::Ignored("DECLINE")),
            events: vec![DhcpEvent::Declined {
                mac: req.mac,
                ip,
                at_ms: now_ms,
            }],
            ..Outcome::default()
        })
    }

    /// Reports an unknown MAC once per pool lease time.
    fn report_unknown(&mut self, req: &Request, out: &mut Outcome, now_ms: u64) {
        let period = u64::from(self.cfg.pool_lease_secs) * 1000;
        if !self.seen.first(req.mac, now_ms, period) {
            return;
        }
        let ip = out
            .answer
            .as_ref()
            .filter(|a| a.kind != MessageType::Nak)
            .map(|a| a.yiaddr);
        out.events.push(DhcpEvent::MacSeen {
            mac: req.mac,
            ip,
            vendor_class: req.vendor_class.clone(),
            arch: req.arch,
            at_ms: now_ms,
        });
    }

    /// Records that a range binding's report was delivered.
    pub(crate) fn mark_reported(&mut self, mac: MacAddr) -> Result<(), DhcpError> {
        self.leases.set_reported(mac)
    }
}

fn hostname(h: &Host) -> Option<String> {
    (!h.hostname.is_empty() && h.hostname.len() <= 255).then(|| h.hostname.clone())
}

#[cfg(test)]
#[path = "logic_tests.rs"]
mod tests;
