//! Fault injection: the ways a BMC misbehaves in the field, switchable per BMC at runtime.
//!
//! Wrong credentials are not a fault here: give the BMC other credentials
//! ([`crate::BmcHandle::set_credentials`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a reset fails under [`Fault::FailReset`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailReset {
    /// The reset action answers 500 and changes nothing.
    Error500,
    /// The reset action answers 204 as usual, but the power state never changes.
    NoEffect,
}

/// One misbehaviour of a BMC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// Accept connections and requests, never answer (exercises client timeouts).
    Hang,
    /// Answer `n` more requests, then die: open connections are closed without an answer and new
    /// ones are closed as soon as they are accepted (a BMC that dies mid-crawl). Counting starts
    /// when the fault is set.
    DieAfter(u64),
    /// Answer the paths matching this pattern with truncated JSON (status and headers intact).
    MalformedJson(String),
    /// Answer the paths matching this pattern with a 500 and a Redfish error body.
    Status500(String),
    /// Resets fail this way.
    FailReset(FailReset),
}

/// A fault spec that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid fault {0:?}: expected hang, die-after=N, malformed-json=PATH, status-500=PATH, \
     fail-reset=error-500|no-effect (a PATH ending in * matches a prefix)"
)]
pub struct InvalidFault(pub String);

impl FromStr for Fault {
    type Err = InvalidFault;

    /// Parses the command-line form: `hang`, `die-after=5`, `malformed-json=/redfish/v1/Systems*`,
    /// `status-500=/redfish/v1/Managers`, `fail-reset=error-500`, `fail-reset=no-effect`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidFault(s.to_owned());
        let (kind, arg) = s.split_once('=').unwrap_or((s, ""));
        match (kind, arg) {
            ("hang", "") => Ok(Self::Hang),
            ("die-after", n) => n.parse().map(Self::DieAfter).map_err(|_| invalid()),
            ("malformed-json", path) if path.starts_with('/') || path == "*" => {
                Ok(Self::MalformedJson(path.to_owned()))
            }
            ("status-500", path) if path.starts_with('/') || path == "*" => {
                Ok(Self::Status500(path.to_owned()))
            }
            ("fail-reset", "error-500") => Ok(Self::FailReset(FailReset::Error500)),
            ("fail-reset", "no-effect") => Ok(Self::FailReset(FailReset::NoEffect)),
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hang => f.write_str("hang"),
            Self::DieAfter(n) => write!(f, "die-after={n}"),
            Self::MalformedJson(p) => write!(f, "malformed-json={p}"),
            Self::Status500(p) => write!(f, "status-500={p}"),
            Self::FailReset(FailReset::Error500) => f.write_str("fail-reset=error-500"),
            Self::FailReset(FailReset::NoEffect) => f.write_str("fail-reset=no-effect"),
        }
    }
}

/// Strips trailing slashes (`/redfish/v1/Systems/` is `/redfish/v1/Systems`), keeping `/`.
pub(crate) fn normalize(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

/// A path, or a prefix when it ends with `*`; case-insensitive and blind to trailing slashes,
/// like the BMCs whose links differ from their own URLs in exactly those ways.
#[derive(Clone, Debug)]
struct PathPattern {
    path: String,
    prefix: bool,
}

impl PathPattern {
    fn new(pattern: &str) -> Self {
        match pattern.strip_suffix('*') {
            Some(prefix) => Self {
                path: prefix.to_ascii_lowercase(),
                prefix: true,
            },
            None => Self {
                path: normalize(pattern).to_ascii_lowercase(),
                prefix: false,
            },
        }
    }

    /// `path` must be normalized and lowercase.
    fn matches(&self, path: &str) -> bool {
        if self.prefix {
            path.starts_with(&self.path)
        } else {
            path == self.path
        }
    }
}

/// What the request path should do under the current faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathFault {
    Status500,
    MalformedJson,
}

/// The faults of one BMC, compiled for the request path.
#[derive(Clone, Debug, Default)]
pub(crate) struct FaultSet {
    faults: Vec<Fault>,
    pub(crate) hang: bool,
    pub(crate) die_after: Option<u64>,
    pub(crate) fail_reset: Option<FailReset>,
    status_500: Vec<PathPattern>,
    malformed: Vec<PathPattern>,
}

impl FaultSet {
    pub(crate) fn new(faults: Vec<Fault>) -> Self {
        let mut set = Self::default();
        for fault in &faults {
            match fault {
                Fault::Hang => set.hang = true,
                Fault::DieAfter(n) => {
                    set.die_after = Some(set.die_after.map_or(*n, |m| m.min(*n)));
                }
                Fault::MalformedJson(p) => set.malformed.push(PathPattern::new(p)),
                Fault::Status500(p) => set.status_500.push(PathPattern::new(p)),
                Fault::FailReset(how) => set.fail_reset = Some(*how),
            }
        }
        set.faults = faults;
        set
    }

    pub(crate) fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// The fault for a request to `path` (any form; normalized here). A 500 wins over bad JSON.
    pub(crate) fn for_path(&self, path: &str) -> Option<PathFault> {
        if self.status_500.is_empty() && self.malformed.is_empty() {
            return None;
        }
        let path = normalize(path).to_ascii_lowercase();
        if self.status_500.iter().any(|p| p.matches(&path)) {
            Some(PathFault::Status500)
        } else if self.malformed.iter().any(|p| p.matches(&path)) {
            Some(PathFault::MalformedJson)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_paths_and_prefixes() {
        let set = FaultSet::new(vec![
            Fault::Status500("/redfish/v1/Managers/".into()),
            Fault::MalformedJson("/redfish/v1/Systems*".into()),
        ]);
        assert_eq!(
            set.for_path("/redfish/v1/managers"),
            Some(PathFault::Status500)
        );
        assert_eq!(set.for_path("/redfish/v1/Managers/BMC"), None);
        assert_eq!(
            set.for_path("/redfish/v1/Systems/Node0/"),
            Some(PathFault::MalformedJson)
        );
        assert_eq!(set.for_path("/redfish/v1"), None);
        let all = FaultSet::new(vec![Fault::Status500("*".into())]);
        assert_eq!(all.for_path("/redfish/v1"), Some(PathFault::Status500));
    }

    #[test]
    fn fault_specs_round_trip() {
        for spec in [
            "hang",
            "die-after=3",
            "malformed-json=/redfish/v1/Systems*",
            "status-500=/redfish/v1/Managers",
            "fail-reset=error-500",
            "fail-reset=no-effect",
        ] {
            let fault: Fault = spec.parse().unwrap();
            assert_eq!(fault.to_string(), spec);
        }
        for bad in [
            "",
            "hang=1",
            "die-after=x",
            "status-500=Systems",
            "fail-reset=maybe",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_smallest_die_after_wins() {
        let set = FaultSet::new(vec![Fault::DieAfter(9), Fault::DieAfter(2)]);
        assert_eq!(set.die_after, Some(2));
        assert_eq!(set.faults().len(), 2);
    }

    #[test]
    fn normalize_strips_trailing_slashes_only() {
        assert_eq!(normalize("/redfish/v1/"), "/redfish/v1");
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize("//"), "/");
        assert_eq!(normalize("/a/b"), "/a/b");
    }
}
