//! The power state machine of one simulated system.
//!
//! A reset does not change `PowerState` at once: like real BMCs (and sushy-tools), the new state
//! shows only after a delay. Nothing runs in the background to make that happen: a pending
//! transition records when it lands and every read applies it if that time has passed, so ten
//! thousand systems in flight cost ten thousand small structs, not ten thousand timers.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::lock;

/// Redfish `PowerState` of a ComputerSystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PowerState {
    /// Powered on.
    On,
    /// Powered off.
    Off,
    /// On its way on (shown during a delayed power-on when transitional states are enabled).
    PoweringOn,
    /// On its way off (shown during a delayed power-off when transitional states are enabled).
    PoweringOff,
}

impl PowerState {
    /// The Redfish spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::On => "On",
            Self::Off => "Off",
            Self::PoweringOn => "PoweringOn",
            Self::PoweringOff => "PoweringOff",
        }
    }
}

impl fmt::Display for PowerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no known [`PowerState`] or [`ResetType`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

impl FromStr for PowerState {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::On, Self::Off, Self::PoweringOn, Self::PoweringOff]
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

/// Redfish `ResetType` values the simulator gives meaning to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResetType {
    /// Power on (no-op when on).
    On,
    /// Power on immediately (no-op when on).
    ForceOn,
    /// Power off immediately (no-op when off).
    ForceOff,
    /// Orderly shutdown (no-op when off).
    GracefulShutdown,
    /// Orderly restart; powers on a system that is off.
    GracefulRestart,
    /// Immediate restart; powers on a system that is off.
    ForceRestart,
    /// Non-maskable interrupt: counted, no power change.
    Nmi,
    /// The front-panel button: off when on, on when off.
    PushPowerButton,
    /// Power off then on; shows `Off` until it lands.
    PowerCycle,
    /// Like `PowerCycle`, including auxiliary power.
    FullPowerCycle,
}

impl ResetType {
    /// Every reset type, in the order generated BMCs advertise them.
    pub const ALL: [ResetType; 10] = [
        Self::On,
        Self::ForceOn,
        Self::ForceOff,
        Self::GracefulShutdown,
        Self::GracefulRestart,
        Self::ForceRestart,
        Self::Nmi,
        Self::PushPowerButton,
        Self::PowerCycle,
        Self::FullPowerCycle,
    ];

    /// The Redfish spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::On => "On",
            Self::ForceOn => "ForceOn",
            Self::ForceOff => "ForceOff",
            Self::GracefulShutdown => "GracefulShutdown",
            Self::GracefulRestart => "GracefulRestart",
            Self::ForceRestart => "ForceRestart",
            Self::Nmi => "Nmi",
            Self::PushPowerButton => "PushPowerButton",
            Self::PowerCycle => "PowerCycle",
            Self::FullPowerCycle => "FullPowerCycle",
        }
    }
}

impl fmt::Display for ResetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResetType {
    type Err = UnknownValue;

    /// Exact match: Redfish enum values are case-sensitive and BMCs refuse `"on"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|rt| rt.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

/// A system's boot source override (`Boot.BootSourceOverride*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootOverride {
    /// `BootSourceOverrideTarget`, e.g. `None`, `Pxe`, `Hdd`.
    pub target: String,
    /// `BootSourceOverrideEnabled`: `Disabled`, `Once` or `Continuous`.
    pub enabled: String,
    /// `BootSourceOverrideMode` (`UEFI`, `Legacy`), when the BMC has one.
    pub mode: Option<String>,
}

impl Default for BootOverride {
    fn default() -> Self {
        Self {
            target: "None".into(),
            enabled: "Disabled".into(),
            mode: Some("UEFI".into()),
        }
    }
}

/// What a test can observe about one system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemStatus {
    /// The `PowerState` a GET would show now.
    pub power_state: PowerState,
    /// Resets accepted so far (including no-ops such as `On` when on, excluding refused ones).
    pub resets: u64,
    /// The last accepted reset.
    pub last_reset: Option<ResetType>,
    /// Times the system went through a boot (power-on, restart, cycle).
    pub boots: u64,
    /// The current boot override.
    pub boot: BootOverride,
}

#[derive(Debug)]
struct Pending {
    due: Instant,
    to: PowerState,
    shown: PowerState,
    boots: bool,
}

#[derive(Debug)]
struct Inner {
    state: PowerState,
    pending: Option<Pending>,
    resets: u64,
    last_reset: Option<ResetType>,
    boots: u64,
    boot: BootOverride,
}

impl Inner {
    /// Lands the pending transition if its time has come.
    fn settle(&mut self, now: Instant) {
        if self.pending.as_ref().is_some_and(|p| p.due <= now)
            && let Some(p) = self.pending.take()
        {
            self.state = p.to;
            if p.boots {
                self.boots += 1;
                // A one-time override is consumed by the boot it applied to.
                if self.boot.enabled == "Once" {
                    self.boot.enabled = "Disabled".into();
                }
            }
        }
    }

    fn shown(&self) -> PowerState {
        self.pending.as_ref().map_or(self.state, |p| p.shown)
    }

    /// Where the system is headed once everything pending has landed.
    fn settled(&self) -> PowerState {
        self.pending.as_ref().map_or(self.state, |p| p.to)
    }
}

/// Power state, reset history and boot override of one system.
#[derive(Debug)]
pub(crate) struct PowerCell {
    inner: Mutex<Inner>,
    delay: Duration,
    transitional: bool,
}

impl PowerCell {
    pub(crate) fn new(
        initial: PowerState,
        delay: Duration,
        transitional: bool,
        boot: BootOverride,
    ) -> Self {
        let state = match initial {
            PowerState::PoweringOn => PowerState::On,
            PowerState::PoweringOff => PowerState::Off,
            stable => stable,
        };
        Self {
            inner: Mutex::new(Inner {
                state,
                pending: None,
                resets: 0,
                last_reset: None,
                boots: 0,
                boot,
            }),
            delay,
            transitional,
        }
    }

    /// The `PowerState` a GET shows at `now`.
    pub(crate) fn power_state(&self, now: Instant) -> PowerState {
        let mut inner = lock(&self.inner);
        inner.settle(now);
        inner.shown()
    }

    /// Everything observable at `now`.
    pub(crate) fn status(&self, now: Instant) -> SystemStatus {
        let mut inner = lock(&self.inner);
        inner.settle(now);
        SystemStatus {
            power_state: inner.shown(),
            resets: inner.resets,
            last_reset: inner.last_reset,
            boots: inner.boots,
            boot: inner.boot.clone(),
        }
    }

    /// Applies an accepted reset received at `now`. `apply = false` records it without any
    /// effect (the `FailReset::NoEffect` fault).
    pub(crate) fn reset(&self, reset: ResetType, now: Instant, apply: bool) {
        let mut inner = lock(&self.inner);
        inner.settle(now);
        inner.resets += 1;
        inner.last_reset = Some(reset);
        if !apply {
            return;
        }
        let (settled, shown) = (inner.settled(), inner.shown());
        let on = |via_off: bool| {
            let shown = match (self.transitional, via_off) {
                (true, _) => PowerState::PoweringOn,
                (false, true) => PowerState::Off,
                (false, false) => shown,
            };
            Some((PowerState::On, shown, true))
        };
        let off = || {
            let shown = if self.transitional {
                PowerState::PoweringOff
            } else {
                shown
            };
            Some((PowerState::Off, shown, false))
        };
        let plan = match reset {
            ResetType::On | ResetType::ForceOn if settled == PowerState::On => None,
            ResetType::On | ResetType::ForceOn => on(false),
            ResetType::ForceOff | ResetType::GracefulShutdown if settled == PowerState::Off => None,
            ResetType::ForceOff | ResetType::GracefulShutdown => off(),
            ResetType::PushPowerButton if settled == PowerState::On => off(),
            ResetType::PushPowerButton => on(false),
            // A warm restart keeps the system on; only a system that was off shows the change.
            ResetType::GracefulRestart | ResetType::ForceRestart => on(false),
            ResetType::PowerCycle | ResetType::FullPowerCycle => on(true),
            ResetType::Nmi => None,
        };
        if let Some((to, shown, boots)) = plan {
            inner.pending = Some(Pending {
                due: now + self.delay,
                to,
                shown,
                boots,
            });
            inner.settle(now);
        }
    }

    /// Sets the power state at once, dropping anything pending (test setup).
    pub(crate) fn force(&self, state: PowerState) {
        let mut inner = lock(&self.inner);
        inner.pending = None;
        inner.state = match state {
            PowerState::PoweringOn => PowerState::On,
            PowerState::PoweringOff => PowerState::Off,
            stable => stable,
        };
    }

    pub(crate) fn boot(&self) -> BootOverride {
        lock(&self.inner).boot.clone()
    }

    pub(crate) fn set_boot(&self, boot: BootOverride) {
        lock(&self.inner).boot = boot;
    }
}

#[cfg(test)]
mod tests;
