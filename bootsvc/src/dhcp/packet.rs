//! Screening and decoding of DHCP requests.
//!
//! The raw bytes are checked before `dhcproto` sees them: the codec slices `chaddr` by the
//! wire's `hlen` and `debug_assert!`s some option lengths (80, 81, 94, 151-155), so a hostile
//! packet would panic a debug build, and it silently stops at the first option it cannot
//! parse, which would lose the options after it. The screen walks the option TLVs itself and
//! afterwards checks that every option the server relies on was decoded.

use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, Message, MessageType, OptionCode};
use dhcproto::{Decodable, Decoder};

use cairn_protocols::MacAddr;

/// Fixed BOOTP header (236 bytes) plus the magic cookie.
const OPTIONS_AT: usize = 240;
const COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Smallest reply budget: a 576-byte datagram less the IP and UDP headers (RFC 2131 §2).
pub(crate) const MIN_REPLY: usize = 576 - 28;
/// Largest reply budget: an Ethernet MTU less the headers (no fragmented DHCP).
const MAX_REPLY: usize = 1500 - 28;

/// Why a packet was dropped without a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// Shorter than a BOOTP header with the DHCP cookie.
    #[error("{0} bytes, shorter than the 240 of a DHCP header")]
    TooShort(usize),
    /// `op` is not BOOTREQUEST.
    #[error("op {0} is not BOOTREQUEST")]
    NotRequest(u8),
    /// The magic cookie is wrong (plain BOOTP or garbage).
    #[error("no DHCP magic cookie")]
    BadCookie,
    /// A hardware address length the header cannot hold.
    #[error("hlen {0} is more than 16")]
    BadHlen(u8),
    /// Not Ethernet: the server keys leases by 6-byte MAC.
    #[error("hardware type {htype} with length {hlen} is not Ethernet")]
    NotEthernet {
        /// `htype` from the header.
        htype: u8,
        /// `hlen` from the header.
        hlen: u8,
    },
    /// The client hardware address is zero or a group address: no client has it.
    #[error("chaddr {0} is not a unicast MAC")]
    NotUnicast(MacAddr),
    /// An option's length runs past the end of the packet.
    #[error("option {code} at byte {at} runs past the end of the packet")]
    Truncated {
        /// The option code.
        code: u8,
        /// Its offset in the packet.
        at: usize,
    },
    /// An option has a length its type does not allow.
    #[error("option {code} has length {len}, expected {want}")]
    BadLength {
        /// The option code.
        code: u8,
        /// Its (concatenated) length.
        len: usize,
        /// What the option's definition requires.
        want: &'static str,
    },
    /// The codec rejected the packet.
    #[error("undecodable: {0}")]
    Decode(String),
    /// The codec could not read an option the server needs.
    #[error("option {0} could not be decoded")]
    Undecodable(u8),
    /// No option 53: a BOOTP request, which this server does not answer.
    #[error("no DHCP message type (option 53)")]
    NoMessageType,
}

/// A screened and decoded request, with what the server reads from it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub msg: Message,
    pub mac: MacAddr,
    pub kind: MessageType,
    /// Option 82 exactly as received, to echo (RFC 3046 §2.2).
    pub relay_info: Option<Vec<u8>>,
    pub requested_ip: Option<Ipv4Addr>,
    pub server_id: Option<Ipv4Addr>,
    /// The largest DHCP message (without IP/UDP headers) the client accepts.
    pub max_reply: usize,
    pub arch: Option<u16>,
    pub ipxe: bool,
    pub vendor_class: Option<String>,
}

/// One run of consecutive options with the same code, concatenated as RFC 3396 says.
struct Run {
    code: u8,
    len: usize,
    first_at: usize,
}

/// Options whose length the server relies on or the codec asserts on: (code, check, wanted).
fn length_ok(code: u8, len: usize) -> Option<&'static str> {
    let ok = match code {
        // RapidCommit: the codec debug-asserts 0.
        80 => return (len != 0).then_some("0"),
        81 => return (len < 3).then_some("at least 3"),
        94 => return (len != 3).then_some("3"),
        151 => return (len < 1).then_some("at least 1"),
        152..=155 | 50 | 54 | 51 => len == 4,
        53 => len == 1,
        57 => len == 2,
        93 => len >= 2 && len.is_multiple_of(2),
        _ => true,
    };
    (!ok).then_some(match code {
        53 => "1",
        57 => "2",
        93 => "an even number, at least 2",
        _ => "4",
    })
}

/// Checks the raw bytes: header, cookie, `hlen`, and every option's length.
/// Returns the raw option 82 payload, if any.
pub(crate) fn prescreen(buf: &[u8]) -> Result<Option<Vec<u8>>, Malformed> {
    if buf.len() < OPTIONS_AT {
        return Err(Malformed::TooShort(buf.len()));
    }
    if buf[0] != 1 {
        return Err(Malformed::NotRequest(buf[0]));
    }
    if buf[236..240] != COOKIE {
        return Err(Malformed::BadCookie);
    }
    let (htype, hlen) = (buf[1], buf[2]);
    if hlen > 16 {
        return Err(Malformed::BadHlen(hlen));
    }
    if htype != 1 || hlen != 6 {
        return Err(Malformed::NotEthernet { htype, hlen });
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&buf[28..34]);
    if mac[0] & 1 == 1 || mac == [0; 6] {
        return Err(Malformed::NotUnicast(MacAddr(mac)));
    }
    let mut runs: Vec<Run> = Vec::new();
    let mut relay: Option<Vec<u8>> = None;
    let mut last_code: Option<u8> = None;
    let mut i = OPTIONS_AT;
    while i < buf.len() {
        let code = buf[i];
        match code {
            0 => {
                // Pad ends a run: the codec concatenates only adjacent options.
                last_code = None;
                i += 1;
                continue;
            }
            255 => break,
            _ => {}
        }
        let Some(&len) = buf.get(i + 1) else {
            return Err(Malformed::Truncated { code, at: i });
        };
        let len = usize::from(len);
        let Some(data) = buf.get(i + 2..i + 2 + len) else {
            return Err(Malformed::Truncated { code, at: i });
        };
        if code == 82 {
            relay.get_or_insert_with(Vec::new).extend_from_slice(data);
        }
        match runs.last_mut() {
            Some(run) if last_code == Some(code) => run.len += len,
            _ => runs.push(Run {
                code,
                len,
                first_at: i,
            }),
        }
        last_code = Some(code);
        i += 2 + len;
    }
    for run in &runs {
        if let Some(want) = length_ok(run.code, run.len) {
            tracing::trace!(at = run.first_at, "bad option length");
            return Err(Malformed::BadLength {
                code: run.code,
                len: run.len,
                want,
            });
        }
    }
    Ok(relay)
}

/// `PXEClient:Arch:NNNNN:...` (RFC 4578 §2.1's vendor class) carries the architecture for
/// clients that send no option 93.
fn arch_from_vendor_class(class: &str) -> Option<u16> {
    let digits = class.strip_prefix("PXEClient:Arch:")?.get(..5)?;
    digits.parse().ok()
}

/// The codes the server reads: each must have been decoded when present on the wire.
const NEEDED: [u8; 7] = [50, 53, 54, 57, 60, 77, 93];

/// Screens and decodes a request.
pub(crate) fn decode(buf: &[u8]) -> Result<Request, Malformed> {
    let relay_info = prescreen(buf)?;
    let msg =
        Message::decode(&mut Decoder::new(buf)).map_err(|e| Malformed::Decode(e.to_string()))?;
    let opts = msg.opts();
    let present = wire_codes(buf);
    if let Some(code) = NEEDED
        .iter()
        .find(|c| present[usize::from(**c)] && !opts.contains(OptionCode::from(**c)))
    {
        return Err(Malformed::Undecodable(*code));
    }
    let kind = opts.msg_type().ok_or(Malformed::NoMessageType)?;
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&buf[28..34]);
    let vendor_class = match opts.get(OptionCode::ClassIdentifier) {
        Some(DhcpOption::ClassIdentifier(v)) => Some(
            String::from_utf8_lossy(v)
                .chars()
                .take(64)
                .collect::<String>(),
        ),
        _ => None,
    };
    let arch = match opts.get(OptionCode::ClientSystemArchitecture) {
        Some(DhcpOption::ClientSystemArchitecture(a)) => Some(u16::from(*a)),
        _ => vendor_class.as_deref().and_then(arch_from_vendor_class),
    };
    // iPXE sends user class "iPXE" as 4 raw bytes; it also sends its own option 175.
    let user_class = match opts.get(OptionCode::UserClass) {
        Some(DhcpOption::UserClass(c)) => Some(c.as_slice()),
        _ => None,
    };
    let ipxe = user_class == Some(b"iPXE".as_slice()) || opts.contains(OptionCode::from(175u8));
    let requested_ip = match opts.get(OptionCode::RequestedIpAddress) {
        Some(DhcpOption::RequestedIpAddress(ip)) => Some(*ip),
        _ => None,
    };
    let server_id = match opts.get(OptionCode::ServerIdentifier) {
        Some(DhcpOption::ServerIdentifier(ip)) => Some(*ip),
        _ => None,
    };
    let max_reply = match opts.get(OptionCode::MaxMessageSize) {
        // Option 57 counts the whole IP datagram (as ISC dhcpd reads it).
        Some(DhcpOption::MaxMessageSize(n)) => usize::from(*n)
            .saturating_sub(28)
            .clamp(MIN_REPLY, MAX_REPLY),
        _ => MIN_REPLY,
    };
    Ok(Request {
        mac: MacAddr(mac),
        kind,
        relay_info,
        requested_ip,
        server_id,
        max_reply,
        arch,
        ipxe,
        vendor_class,
        msg,
    })
}

/// Which option codes appear on the wire (prescreen has validated the walk).
fn wire_codes(buf: &[u8]) -> [bool; 256] {
    let mut seen = [false; 256];
    let mut i = OPTIONS_AT;
    while let Some(&code) = buf.get(i) {
        match code {
            0 => i += 1,
            255 => break,
            _ => {
                seen[usize::from(code)] = true;
                i += 2 + buf.get(i + 1).map_or(0, |l| usize::from(*l));
            }
        }
    }
    seen
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;
