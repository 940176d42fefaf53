//! Building replies (OFFER, ACK, NAK, ACK to INFORM) and choosing where they go.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use dhcproto::Encodable;
use dhcproto::v4::{DhcpOption, Flags, Message, MessageType, Opcode, OptionCode, UnknownOption};

use super::config::Resolved;
use super::outcome::Answer;
use super::packet::Request;

/// iPXE's encapsulated options (175) with 176 (no-pxedhcp) = 1: iPXE skips its wait for
/// proxy-DHCP offers (`src/include/ipxe/dhcp.h`, `DHCP_EB_NO_PXEDHCP`).
const IPXE_NO_PXEDHCP: [u8; 3] = [176, 1, 1];
/// Old BOOTP relays and PXE ROMs expect at least a 300-byte message (ISC's BOOTP_MIN_LEN).
const MIN_LEN: usize = 300;
/// Options dropped, in this order, when the reply exceeds the client's size limit.
const OPTIONAL: [u8; 4] = [15, 6, 12, 175];

/// Why a reply could not be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BuildError {
    /// Even without the optional options the reply exceeds what the client accepts.
    #[error("reply of {len} bytes exceeds the client's limit of {max}")]
    TooLarge { len: usize, max: usize },
    /// The codec failed.
    #[error("encoding failed: {0}")]
    Encode(String),
}

/// The encoded reply, padded, within the client's size limit (option 57).
pub(crate) fn build(req: &Request, cfg: &Resolved, a: &Answer) -> Result<Vec<u8>, BuildError> {
    let mut dropped = 0;
    loop {
        let msg = compose(req, cfg, a, &OPTIONAL[..dropped]);
        let mut buf = msg
            .to_vec()
            .map_err(|e| BuildError::Encode(e.to_string()))?;
        if buf.len() <= req.max_reply {
            buf.resize(buf.len().max(MIN_LEN), 0);
            return Ok(buf);
        }
        if dropped == OPTIONAL.len() {
            return Err(BuildError::TooLarge {
                len: buf.len(),
                max: req.max_reply,
            });
        }
        dropped += 1;
    }
}

fn compose(req: &Request, cfg: &Resolved, a: &Answer, skip: &[u8]) -> Message {
    let nak = a.kind == MessageType::Nak;
    let (ciaddr, siaddr) = match a.kind {
        MessageType::Ack => (req.msg.ciaddr(), cfg.server_ip),
        MessageType::Nak => (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
        _ => (Ipv4Addr::UNSPECIFIED, cfg.server_ip),
    };
    let mut flags = req.msg.flags();
    if nak && !req.msg.giaddr().is_unspecified() {
        // RFC 2131 §4.3.2: a relay must broadcast a NAK to the client.
        flags = Flags::default().set_broadcast();
    }
    let mut r = Message::new_with_id(
        req.msg.xid(),
        ciaddr,
        a.yiaddr,
        siaddr,
        req.msg.giaddr(),
        &req.mac.octets(),
    );
    r.set_opcode(Opcode::BootReply)
        .set_htype(req.msg.htype())
        .set_flags(flags);
    let wanted = |code: u8| !skip.contains(&code);
    let o = r.opts_mut();
    o.insert(DhcpOption::MessageType(a.kind));
    o.insert(DhcpOption::ServerIdentifier(cfg.server_ip));
    if let Some(text) = a.message {
        o.insert(DhcpOption::Message(text.to_owned()));
    }
    if !nak {
        if let Some(secs) = a.lease_secs {
            o.insert(DhcpOption::AddressLeaseTime(secs));
            o.insert(DhcpOption::Renewal(secs / 2));
            o.insert(DhcpOption::Rebinding((u64::from(secs) * 7 / 8) as u32));
        }
        o.insert(DhcpOption::SubnetMask(cfg.subnet.netmask()));
        if let Some(router) = cfg.router {
            o.insert(DhcpOption::Router(vec![router]));
        }
        if !cfg.dns.is_empty() && wanted(6) {
            o.insert(DhcpOption::DomainNameServer(cfg.dns.clone()));
        }
        if let Some(domain) = cfg.domain.as_ref().filter(|_| wanted(15)) {
            o.insert(DhcpOption::DomainName(domain.clone()));
        }
        if let Some(name) = a.hostname.as_ref().filter(|_| wanted(12)) {
            o.insert(DhcpOption::Hostname(name.clone()));
        }
        if let Some(file) = &a.bootfile {
            o.insert(DhcpOption::BootfileName(file.as_bytes().to_vec()));
        }
        if wanted(175) {
            o.insert(DhcpOption::Unknown(UnknownOption::new(
                OptionCode::from(175u8),
                IPXE_NO_PXEDHCP.to_vec(),
            )));
        }
    }
    if let Some(info) = &req.relay_info {
        // Echoed byte for byte; the codec writes option 82 last, as RFC 3046 §2.2 asks.
        r.opts_mut().insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::RelayAgentInformation,
            info.clone(),
        )));
    }
    // PXE ROMs read the `file` field; 127 bytes and its NUL fill it.
    if let Some(file) = a.bootfile.as_ref().filter(|f| f.len() <= 127 && !nak) {
        r.set_fname(file.as_bytes());
    }
    r
}

/// Where a reply goes (RFC 2131 §4.1): a relay's request back to the relay (the datagram's
/// source, which is how simulated relays on loopback are answered), a NAK broadcast, a
/// client with an address to it, everyone else broadcast (the client cannot answer ARP yet;
/// raw frames or ARP injection would need privileges this server does without).
pub(crate) fn destination(req: &Request, kind: MessageType, source: SocketAddr) -> SocketAddr {
    let broadcast = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::BROADCAST, 68));
    if !req.msg.giaddr().is_unspecified() {
        source
    } else if kind == MessageType::Nak {
        broadcast
    } else if !req.msg.ciaddr().is_unspecified() {
        SocketAddr::V4(SocketAddrV4::new(req.msg.ciaddr(), 68))
    } else {
        broadcast
    }
}

#[cfg(test)]
#[path = "reply_tests.rs"]
mod tests;
