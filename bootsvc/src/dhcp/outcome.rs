//! What the decision logic hands the server: the reply to send, or why there is none, and
//! the events to report.

use std::net::Ipv4Addr;

use dhcproto::v4::MessageType;

use super::limits::Refused;
use super::{DhcpEvent, LeaseKind};

/// A reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// Offer, Ack or Nak.
    pub kind: MessageType,
    pub yiaddr: Ipv4Addr,
    /// Lease time for OFFER/ACK of a lease; `None` for NAK and the ACK of an INFORM.
    pub lease_secs: Option<u32>,
    pub hostname: Option<String>,
    pub bootfile: Option<String>,
    /// Option 56 text of a NAK.
    pub message: Option<&'static str>,
}

/// Why no reply is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Silence {
    /// Rate limited (per MAC or unknown MACs together).
    Limited(Refused),
    /// Nothing to say (not our server id, unknown client without a record, RELEASE, ...).
    Ignored(&'static str),
    /// No free address in the range or the pool.
    Exhausted(LeaseKind),
    /// The request cannot be served as sent (logged as a warning).
    Refused(&'static str),
}

/// The decision for one request.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub answer: Option<Answer>,
    pub silence: Option<Silence>,
    pub events: Vec<DhcpEvent>,
    /// A new binding was written: flush the store before replying.
    pub flush: bool,
}

impl Outcome {
    pub(crate) fn silent(s: Silence) -> Outcome {
        Outcome {
            silence: Some(s),
            ..Outcome::default()
        }
    }
}
