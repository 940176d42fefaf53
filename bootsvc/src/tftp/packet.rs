//! TFTP wire format (RFC 1350, options RFC 2347): parsing what clients send, encoding what we
//! send. Parsing never panics: every malformed datagram is a [`Malformed`] naming the problem.

use std::fmt;

/// Opcode of a read request.
pub const RRQ: u16 = 1;
/// Opcode of a write request.
pub const WRQ: u16 = 2;
/// Opcode of a data block.
pub const DATA: u16 = 3;
/// Opcode of an acknowledgement.
pub const ACK: u16 = 4;
/// Opcode of an error.
pub const ERROR: u16 = 5;
/// Opcode of an option acknowledgement (RFC 2347).
pub const OACK: u16 = 6;

/// The error codes of RFC 1350 §5 and RFC 2347 that the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum ErrorCode {
    /// Not defined, see the message (used for "server busy").
    Undefined = 0,
    /// File not found.
    FileNotFound = 1,
    /// Access violation.
    AccessViolation = 2,
    /// Illegal TFTP operation.
    IllegalOperation = 4,
    /// Option negotiation refused (RFC 2347).
    OptionRefused = 8,
}

/// Why a datagram is not a valid TFTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A read or write request: file name, mode and the options in the order sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `true` for a write request (which the server refuses).
    pub write: bool,
    /// The file name as sent (bytes, no NUL).
    pub filename: Vec<u8>,
    /// The transfer mode, lower-cased (`octet`, `netascii`, `mail`, ...).
    pub mode: String,
    /// Option names (lower-cased) and values, in request order.
    pub options: Vec<(String, String)>,
}

/// A packet a client can send to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// RRQ or WRQ.
    Request(Request),
    /// Acknowledgement of a block (0 acknowledges an OACK).
    Ack(u16),
    /// The client aborts with an error.
    Error {
        /// The client's error code.
        code: u16,
        /// The client's message, lossily decoded.
        message: String,
    },
    /// A DATA or OACK packet, which a read-only server never expects from a client.
    Unexpected(u16),
}

/// Longest file name, mode or option string accepted: well past anything real (iPXE's names
/// are paths under a TFTP root) while keeping a request inside one datagram.
const MAX_STRING: usize = 255;

/// Parse one datagram received from a client.
pub fn parse(datagram: &[u8]) -> Result<Packet, Malformed> {
    let (opcode, body) = split_u16(datagram).ok_or(Malformed("shorter than an opcode"))?;
    match opcode {
        RRQ | WRQ => parse_request(opcode == WRQ, body).map(Packet::Request),
        ACK => {
            let (block, rest) = split_u16(body).ok_or(Malformed("ACK without a block number"))?;
            if !rest.is_empty() {
                return Err(Malformed("ACK longer than 4 bytes"));
            }
            Ok(Packet::Ack(block))
        }
        ERROR => {
            let (code, rest) = split_u16(body).ok_or(Malformed("ERROR without a code"))?;
            let text = rest.split(|b| *b == 0).next().unwrap_or_default();
            Ok(Packet::Error {
                code,
                message: String::from_utf8_lossy(text).into_owned(),
            })
        }
        DATA | OACK => Ok(Packet::Unexpected(opcode)),
        _ => Err(Malformed("unknown opcode")),
    }
}

fn parse_request(write: bool, body: &[u8]) -> Result<Request, Malformed> {
    // Every field is NUL-terminated, so the body must end with NUL and splitting on NUL leaves
    // one empty piece after the last terminator.
    let Some((&0, fields)) = body.split_last() else {
        return Err(Malformed("request not NUL-terminated"));
    };
    let mut fields = fields.split(|b| *b == 0);
    let filename = fields.next().unwrap_or_default();
    if filename.is_empty() {
        return Err(Malformed("empty file name"));
    }
    if filename.len() > MAX_STRING {
        return Err(Malformed("file name too long"));
    }
    let mode = fields.next().ok_or(Malformed("request without a mode"))?;
    let mode = ascii_lower(mode).ok_or(Malformed("mode is not printable ASCII"))?;
    let mut options = Vec::new();
    while let Some(name) = fields.next() {
        let value = fields.next().ok_or(Malformed("option without a value"))?;
        let name = ascii_lower(name).ok_or(Malformed("option name is not printable ASCII"))?;
        let value = ascii_lower(value).ok_or(Malformed("option value is not printable ASCII"))?;
        if name.is_empty() {
            return Err(Malformed("empty option name"));
        }
        options.push((name, value));
    }
    Ok(Request {
        write,
        filename: filename.to_vec(),
        mode,
        options,
    })
}

fn split_u16(bytes: &[u8]) -> Option<(u16, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<2>()?;
    Some((u16::from_be_bytes(*head), rest))
}

fn ascii_lower(bytes: &[u8]) -> Option<String> {
    if bytes.len() > MAX_STRING || !bytes.iter().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    Some(String::from_utf8_lossy(bytes).to_ascii_lowercase())
}

/// Encode a DATA packet header followed by `payload` into `out` (cleared first).
pub fn encode_data(out: &mut Vec<u8>, block: u16, payload: &[u8]) {
    out.clear();
    out.extend_from_slice(&DATA.to_be_bytes());
    out.extend_from_slice(&block.to_be_bytes());
    out.extend_from_slice(payload);
}

/// Encode an ERROR packet.
pub fn encode_error(code: ErrorCode, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + message.len());
    out.extend_from_slice(&ERROR.to_be_bytes());
    out.extend_from_slice(&(code as u16).to_be_bytes());
    out.extend(message.bytes().filter(|b| *b != 0));
    out.push(0);
    out
}

/// Encode an OACK packet with the accepted options.
pub fn encode_oack(options: &[(&str, String)]) -> Vec<u8> {
    let mut out = OACK.to_be_bytes().to_vec();
    for (name, value) in options {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value.as_bytes());
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn parses_an_ipxe_request() {
        let packet = parse(b"\x00\x01undionly.kpxe\0octet\0blksize\x001432\0tsize\x000\0").unwrap();
        let Packet::Request(request) = packet else {
            panic!("not a request")
        };
        assert!(!request.write);
        assert_eq!(request.filename, b"undionly.kpxe");
        assert_eq!(request.mode, "octet");
        assert_eq!(
            request.options,
            vec![
                ("blksize".into(), "1432".into()),
                ("tsize".into(), "0".into())
            ]
        );
    }

    #[test]
    fn mode_and_option_names_are_case_insensitive() {
        let Packet::Request(request) = parse(b"\x00\x02f\0OCTET\0BlkSize\x00512\0").unwrap() else {
            panic!("not a request")
        };
        assert!(request.write);
        assert_eq!(request.mode, "octet");
        assert_eq!(request.options, vec![("blksize".into(), "512".into())]);
    }

    #[test]
    fn rejects_malformed_requests() {
        for datagram in [
            &b""[..],
            b"\x00",
            b"\x00\x01",
            b"\x00\x01file",
            b"\x00\x01file\0",
            b"\x00\x01\0octet\0",
            b"\x00\x01file\0octet",
            b"\x00\x01file\0octet\0blksize\0",
            b"\x00\x01file\0oc\x01tet\0",
            b"\x00\x04\x00",
            b"\x00\x04\x00\x01\x00",
            b"\x00\x09\x00\x01",
            b"\x00\x05\x00",
        ] {
            assert!(parse(datagram).is_err(), "{datagram:?} accepted");
        }
    }

    #[test]
    fn parses_acks_errors_and_unexpected_packets() {
        assert_eq!(parse(b"\x00\x04\xff\xfe").unwrap(), Packet::Ack(0xfffe));
        assert_eq!(
            parse(b"\x00\x05\x00\x08no\0").unwrap(),
            Packet::Error {
                code: 8,
                message: "no".into()
            }
        );
        assert_eq!(
            parse(b"\x00\x03\x00\x01data").unwrap(),
            Packet::Unexpected(DATA)
        );
    }

    #[test]
    fn encodes() {
        assert_eq!(
            encode_error(ErrorCode::FileNotFound, "x"),
            b"\x00\x05\x00\x01x\0"
        );
        assert_eq!(
            encode_oack(&[("tsize", "7".into())]),
            b"\x00\x06tsize\x007\0"
        );
        let mut out = Vec::new();
        encode_data(&mut out, 0x0102, b"ab");
        assert_eq!(out, b"\x00\x03\x01\x02ab");
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(datagram in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse(&datagram);
        }

        #[test]
        fn parse_never_panics_on_request_shaped_input(
            opcode in 0u16..8,
            body in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(0u8), 1u8..128], 0..200),
        ) {
            let mut datagram = opcode.to_be_bytes().to_vec();
            datagram.extend(body);
            let _ = parse(&datagram);
        }
    }
}
