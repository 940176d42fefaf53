//! The boot-serving report items ([`BootEvent`], [`MacSeen`], [`LeaseAssigned`],
//! [`PhoneHomeReport`]) ↔ their messages.

use std::net::IpAddr;

use super::{PbError, text, time_ms, unix_ms, xname};
use crate::agent::{BootEvent, BootStep, LeaseAssigned, MacSeen, PhoneHomeReport};
use crate::cloudinit::PhoneHome;
use crate::mac::MacAddr;
use crate::pb::agent as pb;

/// Largest phone-home form accepted (cloud-init posts four host keys and a few names).
const MAX_PHONE_HOME_BYTES: usize = 64 << 10;

fn mac(field: &str, s: &str) -> Result<MacAddr, PbError> {
    s.parse()
        .map_err(|e: crate::mac::MacError| PbError::new(field, e.to_string()))
}

fn opt_mac(field: &str, s: &str) -> Result<Option<MacAddr>, PbError> {
    if s.is_empty() {
        Ok(None)
    } else {
        mac(field, s).map(Some)
    }
}

fn ip(field: &str, s: &str) -> Result<IpAddr, PbError> {
    s.parse()
        .map_err(|_| PbError::new(field, format!("{s:?} is not an IP address")))
}

fn opt_ip(field: &str, s: &str) -> Result<Option<IpAddr>, PbError> {
    if s.is_empty() {
        Ok(None)
    } else {
        ip(field, s).map(Some)
    }
}

fn at(v: i64) -> Result<u64, PbError> {
    time_ms("at_unix_ms", v)?.ok_or_else(|| PbError::new("at_unix_ms", "required"))
}

fn to_text(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

pub(super) fn decode_boot_event(e: pb::BootEvent) -> Result<BootEvent, PbError> {
    let step = match pb::BootStep::try_from(e.step) {
        Ok(pb::BootStep::Dhcp) => BootStep::Dhcp,
        Ok(pb::BootStep::Script) => BootStep::Script,
        Ok(pb::BootStep::Image) => BootStep::Image,
        Ok(pb::BootStep::CloudInit) => BootStep::CloudInit,
        Ok(pb::BootStep::Unspecified) | Err(_) => {
            return Err(PbError::new(
                "step",
                format!("unknown boot step {}", e.step),
            ));
        }
    };
    let xname = if e.xname.is_empty() {
        None
    } else {
        Some(xname("xname", &e.xname)?)
    };
    let mac = opt_mac("mac", &e.mac)?;
    if xname.is_none() && mac.is_none() {
        return Err(PbError::new("xname", "a boot event names a node or a MAC"));
    }
    Ok(BootEvent {
        xname,
        mac,
        step,
        ip: opt_ip("ip", &e.ip)?,
        at_ms: at(e.at_unix_ms)?,
    })
}

pub(super) fn encode_boot_event(e: BootEvent) -> pb::BootEvent {
    let step = match e.step {
        BootStep::Dhcp => pb::BootStep::Dhcp,
        BootStep::Script => pb::BootStep::Script,
        BootStep::Image => pb::BootStep::Image,
        BootStep::CloudInit => pb::BootStep::CloudInit,
    };
    pb::BootEvent {
        xname: to_text(e.xname),
        mac: to_text(e.mac),
        step: step.into(),
        ip: to_text(e.ip),
        at_unix_ms: unix_ms(Some(e.at_ms)),
    }
}

pub(super) fn decode_mac_seen(m: pb::MacSeen) -> Result<MacSeen, PbError> {
    Ok(MacSeen {
        mac: mac("mac", &m.mac)?,
        ip: opt_ip("ip", &m.ip)?,
        vendor_class: Some(text("vendor_class", m.vendor_class)?).filter(|v| !v.is_empty()),
        at_ms: at(m.at_unix_ms)?,
    })
}

pub(super) fn encode_mac_seen(m: MacSeen) -> pb::MacSeen {
    pb::MacSeen {
        mac: m.mac.to_string(),
        ip: to_text(m.ip),
        vendor_class: m.vendor_class.unwrap_or_default(),
        at_unix_ms: unix_ms(Some(m.at_ms)),
    }
}

pub(super) fn decode_lease(l: pb::LeaseAssigned) -> Result<LeaseAssigned, PbError> {
    Ok(LeaseAssigned {
        xname: xname("xname", &l.xname)?,
        mac: mac("mac", &l.mac)?,
        ip: ip("ip", &l.ip)?,
        at_ms: at(l.at_unix_ms)?,
    })
}

pub(super) fn encode_lease(l: LeaseAssigned) -> pb::LeaseAssigned {
    pb::LeaseAssigned {
        xname: l.xname.to_string(),
        mac: l.mac.to_string(),
        ip: l.ip.to_string(),
        at_unix_ms: unix_ms(Some(l.at_ms)),
    }
}

pub(super) fn decode_phone_home(p: pb::PhoneHomeReport) -> Result<PhoneHomeReport, PbError> {
    const FIELD: &str = "phone_home_json";
    if p.phone_home_json.len() > MAX_PHONE_HOME_BYTES {
        return Err(PbError::new(
            FIELD,
            format!(
                "{} bytes, at most {MAX_PHONE_HOME_BYTES}",
                p.phone_home_json.len()
            ),
        ));
    }
    let report: PhoneHome = crate::json::from_json_slice(&p.phone_home_json)
        .map_err(|e| PbError::new(FIELD, e.to_string()))?;
    report
        .validate()
        .map_err(|e| PbError::new(FIELD, e.to_string()))?;
    Ok(PhoneHomeReport {
        xname: xname("xname", &p.xname)?,
        report,
        at_ms: at(p.at_unix_ms)?,
    })
}

pub(super) fn encode_phone_home(p: PhoneHomeReport) -> pb::PhoneHomeReport {
    pb::PhoneHomeReport {
        xname: p.xname.to_string(),
        // Plain derived Serialize of owned data: it cannot fail.
        phone_home_json: serde_json::to_vec(&p.report).unwrap_or_default(),
        at_unix_ms: unix_ms(Some(p.at_ms)),
    }
}
