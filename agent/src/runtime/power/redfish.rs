//! The two Redfish calls power control makes: read a system's PowerState, send a reset.

use std::sync::Arc;

use cairn_protocols::power::PowerState;
use tokio::sync::Semaphore;

use crate::redfish::model::ComputerSystem;
use crate::redfish::{BmcSession, RedfishError};

/// A BMC as a power task talks to it: the BMC's shared session (which bounds requests per
/// BMC), and the cabinet's bound on requests in flight, taken for each request only.
#[derive(Debug, Clone)]
pub(crate) struct PowerBmc {
    session: Arc<BmcSession>,
    rack: Option<Arc<Semaphore>>,
}

impl PowerBmc {
    /// `session`, bounded by `rack` if given.
    pub(crate) fn new(session: Arc<BmcSession>, rack: Option<Arc<Semaphore>>) -> PowerBmc {
        PowerBmc { session, rack }
    }

    /// Reads the system's PowerState at `path`.
    pub(crate) async fn read_state(&self, path: &str) -> Result<Observed, RedfishError> {
        let _slot = self.slot().await;
        read_state(&self.session, path).await
    }

    /// Sends `reset_type` to the reset action at `target`.
    pub(crate) async fn reset(&self, target: &str, reset_type: &str) -> Result<(), RedfishError> {
        let _slot = self.slot().await;
        reset(&self.session, target, reset_type).await
    }

    async fn slot(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        match &self.rack {
            // A closed semaphore (never closed here) only means no bound.
            Some(s) => s.acquire().await.ok(),
            None => None,
        }
    }
}

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
pub(crate) async fn read_state(session: &BmcSession, path: &str) -> Result<Observed, RedfishError> {
    let system: ComputerSystem = session.get(path).await?;
    Ok(Observed::parse(system.power_state.as_deref()))
}

/// POSTs `{"ResetType": reset_type}` to `target`.
async fn reset(session: &BmcSession, target: &str, reset_type: &str) -> Result<(), RedfishError> {
    session
        .post(target, &serde_json::json!({ "ResetType": reset_type }))
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redfish::{BmcAddress, ClientOptions, RedfishClient, Scheme};
    use futures::FutureExt;

    fn bmc(rack: &Arc<Semaphore>, host: &str) -> PowerBmc {
        let client = RedfishClient::new(&ClientOptions::default()).unwrap();
        let session = client
            .session(&BmcAddress::new(Scheme::Http, host, 80), None)
            .unwrap();
        PowerBmc::new(Arc::new(session), Some(Arc::clone(rack)))
    }

    #[tokio::test]
    async fn requests_of_one_cabinet_share_its_slots() {
        let rack = Arc::new(Semaphore::new(1));
        let (a, b) = (bmc(&rack, "127.0.0.1"), bmc(&rack, "127.0.0.2"));
        let held = a.slot().await;
        assert!(held.is_some());
        assert!(
            b.slot().now_or_never().is_none(),
            "another BMC of the cabinet waits while the slot is taken"
        );
        drop(held);
        assert!(b.slot().now_or_never().is_some_and(|s| s.is_some()));
        let unbounded = PowerBmc::new(Arc::clone(&a.session), None);
        let _held = a.slot().await;
        assert!(unbounded.slot().now_or_never().is_some());
    }

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
