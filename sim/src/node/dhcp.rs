//! The DHCP half of a virtual node's boot: DISCOVER → OFFER, REQUEST → ACK, posing as a client
//! behind a relay (giaddr set), which a server answers by unicast to the datagram's source.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use dhcproto::v4::{
    Architecture, DhcpOption, Message, MessageType, Opcode, OptionCode, UnknownOption,
};
use dhcproto::{Decodable, Decoder, Encodable};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::rng::Rng;
use super::{BootTarget, FailReason, NodeSpec, Step};

/// The part of an ACK the rest of the boot needs.
#[derive(Debug)]
pub(super) struct Lease {
    /// `yiaddr`.
    pub ip: Ipv4Addr,
    /// Option 67, else the `file` field; empty when the server named none.
    pub bootfile: String,
}

/// Largest DHCP datagram read; replies are a few hundred bytes.
const RECV_BUF: usize = 4096;
/// RFC 2131 §4.1: retransmission intervals double up to 64 s.
const MAX_INTERVAL: Duration = Duration::from_secs(64);
/// Options iPXE asks for, and the iPXE encapsulation (175).
const REQUESTED: [u8; 10] = [1, 3, 6, 12, 15, 43, 60, 66, 67, 175];

/// Runs DISCOVER/OFFER and REQUEST/ACK with one transaction id, retransmitting as RFC 2131
/// §4.1 says from `target.dhcp_retry` on, until `deadline`.
pub(super) async fn lease(
    spec: &NodeSpec,
    target: &BootTarget,
    rng: &mut Rng,
    deadline: Instant,
) -> Result<Lease, (Step, FailReason)> {
    let sock = UdpSocket::bind((target.relay_ip, 0))
        .await
        .map_err(|source| {
            let what = format!("binding UDP to the relay address {}", target.relay_ip);
            (Step::Discover, FailReason::Io { what, source })
        })?;
    let started = Instant::now();
    let mut x = Exchange {
        sock,
        server: target.dhcp,
        xid: rng.next_u32(),
        mac: spec.mac.0,
        retry: target.dhcp_retry,
        started,
        deadline,
    };
    let discover = request_message(spec, target, x.xid, MessageType::Discover);
    let offer = x
        .transact(&discover, rng, |m| match m.opts().msg_type() {
            Some(MessageType::Offer) => offer_terms(m).map(Reply::Take),
            other => Err(format!("message type {other:?} while selecting")),
        })
        .await
        .map_err(|r| (Step::Discover, r))?;
    let (offered, server_id) = offer;
    let mut request = request_message(spec, target, x.xid, MessageType::Request);
    request
        .opts_mut()
        .insert(DhcpOption::ServerIdentifier(server_id));
    request
        .opts_mut()
        .insert(DhcpOption::RequestedIpAddress(offered));
    let ack = x
        .transact(&request, rng, |m| match m.opts().msg_type() {
            Some(MessageType::Ack) if m.yiaddr().is_unspecified() => {
                Err("ACK without an address (yiaddr 0.0.0.0)".to_owned())
            }
            Some(MessageType::Ack) => Ok(Reply::Take(m)),
            Some(MessageType::Nak) => Ok(Reply::Nak(nak_message(&m))),
            other => Err(format!("message type {other:?} while requesting")),
        })
        .await
        .map_err(|r| (Step::Request, r))?;
    Ok(Lease {
        ip: ack.yiaddr(),
        bootfile: bootfile(&ack),
    })
}

/// What a reply means to the transaction.
enum Reply<T> {
    /// The awaited answer.
    Take(T),
    /// A refusal: the step fails.
    Nak(String),
}

/// One transaction's socket and timing.
struct Exchange {
    sock: UdpSocket,
    server: SocketAddr,
    xid: u32,
    mac: [u8; 6],
    retry: Duration,
    started: Instant,
    deadline: Instant,
}

impl Exchange {
    /// Sends `msg` and waits for a reply of this transaction that `judge` takes, resending
    /// after each interval. Replies of other transactions and undecodable datagrams are
    /// skipped; replies `judge` rejects are skipped too, and the last rejection is reported
    /// if time runs out.
    async fn transact<T>(
        &mut self,
        msg: &Message,
        rng: &mut Rng,
        judge: impl Fn(Message) -> Result<Reply<T>, String>,
    ) -> Result<T, FailReason> {
        let mut msg = msg.clone();
        let mut interval = self.retry;
        let mut ignored = None;
        let mut buf = vec![0u8; RECV_BUF];
        loop {
            // `secs`: time since the client began, which relays and servers may look at.
            let secs = self.started.elapsed().as_secs();
            msg.set_secs(u16::try_from(secs).unwrap_or(u16::MAX));
            let bytes = msg
                .to_vec()
                .map_err(|e| FailReason::Protocol(format!("encoding the request failed: {e}")))?;
            self.sock
                .send_to(&bytes, self.server)
                .await
                .map_err(|source| FailReason::Io {
                    what: format!("sending to the DHCP server {}", self.server),
                    source,
                })?;
            let resend_at = (Instant::now() + rng.jitter(interval)).min(self.deadline);
            loop {
                let received = tokio::time::timeout_at(resend_at, self.sock.recv_from(&mut buf));
                let len = match received.await {
                    Err(_elapsed) => break,
                    Ok(Err(source)) => {
                        return Err(FailReason::Io {
                            what: "receiving from the DHCP server".to_owned(),
                            source,
                        });
                    }
                    Ok(Ok((len, _from))) => len,
                };
                let reply = match self.decode_ours(&buf[..len]) {
                    Ok(Some(m)) => m,
                    Ok(None) => continue,
                    Err(why) => {
                        ignored = Some(why);
                        continue;
                    }
                };
                match judge(reply) {
                    Ok(Reply::Take(t)) => return Ok(t),
                    Ok(Reply::Nak(message)) => return Err(FailReason::Nak(message)),
                    Err(why) => ignored = Some(why),
                }
            }
            if Instant::now() >= self.deadline {
                return Err(FailReason::Timeout { ignored });
            }
            interval = (interval * 2).min(MAX_INTERVAL);
        }
    }

    /// The datagram as a reply to this transaction; `None` when it belongs to another one (or
    /// is not a reply at all), an error when it claims to be ours but is unusable.
    fn decode_ours(&self, bytes: &[u8]) -> Result<Option<Message>, String> {
        // Fixed header fields read straight from the bytes, before dhcproto sees them: op at 0,
        // hlen at 2, xid at 4..8, chaddr from 28.
        if bytes.len() < 240 || bytes[0] != 2 || bytes[4..8] != self.xid.to_be_bytes() {
            return Ok(None);
        }
        if bytes[2] != 6 || bytes[28..34] != self.mac {
            return Ok(None);
        }
        screen(bytes)?;
        let m =
            Message::decode(&mut Decoder::new(bytes)).map_err(|e| format!("undecodable: {e}"))?;
        if m.opcode() != Opcode::BootReply {
            return Ok(None);
        }
        Ok(Some(m))
    }
}

/// Rejects what dhcproto would panic on in debug builds instead of reporting: the magic
/// cookie, an option list running past the datagram, and options whose decoder asserts a
/// length (rapid commit 80, client FQDN 81, client NIC 94, bulk leasequery 151-155).
fn screen(bytes: &[u8]) -> Result<(), String> {
    if bytes[236..240] != [99, 130, 83, 99] {
        return Err("no DHCP magic cookie".to_owned());
    }
    let mut at = 240;
    while let Some(&code) = bytes.get(at) {
        match code {
            0 => at += 1,
            255 => return Ok(()),
            _ => {
                let Some(&len) = bytes.get(at + 1) else {
                    return Err(format!("option {code} has no length byte"));
                };
                let len = usize::from(len);
                if at + 2 + len > bytes.len() {
                    return Err(format!("option {code} runs past the datagram"));
                }
                let fits = match code {
                    80 => len == 0,
                    81 => len >= 3,
                    94 => len == 3,
                    151 => len >= 1,
                    152..=155 => len == 4,
                    _ => true,
                };
                if !fits {
                    return Err(format!("option {code} has a bad length {len}"));
                }
                at += 2 + len;
            }
        }
    }
    // No end option: the list ends with the datagram, which dhcproto handles.
    Ok(())
}

/// A DISCOVER or REQUEST (without its REQUEST-only options) as relayed for this node.
fn request_message(spec: &NodeSpec, target: &BootTarget, xid: u32, kind: MessageType) -> Message {
    let unspecified = Ipv4Addr::UNSPECIFIED;
    let mut m = Message::new_with_id(
        xid,
        unspecified,
        unspecified,
        unspecified,
        target.relay_ip,
        &spec.mac.0,
    );
    // One relay between the node and the server.
    m.set_hops(1);
    let opts = m.opts_mut();
    opts.insert(DhcpOption::MessageType(kind));
    opts.insert(DhcpOption::ParameterRequestList(
        REQUESTED.iter().map(|&c| OptionCode::from(c)).collect(),
    ));
    opts.insert(DhcpOption::MaxMessageSize(1472));
    let vendor = format!("PXEClient:Arch:{:05}:UNDI:003016", spec.arch);
    opts.insert(DhcpOption::ClassIdentifier(vendor.into_bytes()));
    opts.insert(DhcpOption::ClientSystemArchitecture(Architecture::from(
        spec.arch,
    )));
    opts.insert(DhcpOption::ClientNetworkInterface(1, 3, 16));
    if spec.ipxe {
        // iPXE sends the bare four bytes, without RFC 3004's length prefix, and its feature
        // list as option 175 (here: HTTP, 175.19 = 1).
        opts.insert(DhcpOption::UserClass(b"iPXE".to_vec()));
        opts.insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::from(175u8),
            vec![19, 1, 1],
        )));
    }
    m
}

/// The offered address and the server identifier an OFFER must carry.
fn offer_terms(m: Message) -> Result<(Ipv4Addr, Ipv4Addr), String> {
    if m.yiaddr().is_unspecified() {
        return Err("OFFER without an address (yiaddr 0.0.0.0)".to_owned());
    }
    match m.opts().get(OptionCode::ServerIdentifier) {
        Some(DhcpOption::ServerIdentifier(id)) => Ok((m.yiaddr(), *id)),
        _ => Err("OFFER without a server identifier (option 54)".to_owned()),
    }
}

fn nak_message(m: &Message) -> String {
    match m.opts().get(OptionCode::Message) {
        Some(DhcpOption::Message(text)) => text.clone(),
        _ => String::new(),
    }
}

/// Option 67, else the `file` field, as text.
fn bootfile(m: &Message) -> String {
    let raw = match m.opts().get(OptionCode::BootfileName) {
        Some(DhcpOption::BootfileName(name)) => Some(name.as_slice()),
        _ => m.fname(),
    };
    let raw = raw.unwrap_or_default();
    // Some servers NUL-terminate option 67 too.
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}
