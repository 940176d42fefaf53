//! The two Redfish calls power control makes: read a system's PowerState, send a reset.

use cairn_protocols::power::PowerState;

use crate::redfish::model::ComputerSystem;
use crate::redfish::{BmcSession, RedfishError};

/// A PowerState as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// As PCS shows it: a transition counts as the state it leaves (PoweringOff is still on).
    pub state: PowerState,
    /// Whether the state is settled (On or Off, not on its way).
    pub settled: bool,
    /// The BMC's spelling, when it gave one.
    pub raw: Option<String>,
}

impl Observed {
    /// From a `PowerState` property.
    pub fn parse(raw: Option<&str>) -> Observed {
        let (state, settled) = match raw.map(str::trim) {
            Some(p) if p.eq_ignore_ascii_case("On") => (PowerState::On, true),
            Some(p) if p.eq_ignore_ascii_case("Off") => (PowerState::Off, true),
            Some(p) if p.eq_ignore_ascii_case("PoweringOff") => (PowerState::On, false),
            Some(p) if p.eq_ignore_ascii_case("PoweringOn") => (PowerState::Off, false),
            _ => (PowerState::Undefined, false),
        };
        Observed {
            state,
            settled,
            raw: raw.map(str::to_owned),
        }
    }

    /// Whether it confirms a step expecting `expect`.
    pub fn confirms(&self, expect: PowerState) -> bool {
        self.settled && self.state == expect
    }

    /// For messages: the BMC's word, else PCS's.
    pub fn text(&self) -> String {
        self.raw
            .clone()
            .unwrap_or_else(|| self.state.as_str().to_owned())
    }
}

/// GETs the system at `path` and reads its PowerState.
pub async fn read_state(session: &BmcSession, path: &str) -> Result<Observed, RedfishError> {
    let system: ComputerSystem = session.get(path).await?;
    Ok(Observed::parse(system.power_state.as_deref()))
}

/// POSTs `{"ResetType": reset_type}` to `target`.
pub async fn reset(
    session: &BmcSession,
    target: &str,
    reset_type: &str,
) -> Result<(), RedfishError> {
    session
        .post(target, &serde_json::json!({ "ResetType": reset_type }))
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitional_states_are_not_confirmations() {
        let on = Observed::parse(Some("on"));
        assert!(on.confirms(PowerState::On));
        let powering_off = Observed::parse(Some("PoweringOff"));
        assert_eq!(powering_off.state, PowerState::On);
        assert!(!powering_off.confirms(PowerState::On));
        assert!(!powering_off.confirms(PowerState::Off));
        assert_eq!(Observed::parse(None).state, PowerState::Undefined);
        assert_eq!(Observed::parse(Some("Off")).text(), "Off");
    }
}
