//! The state machine against a clock the tests hold.

use super::*;

const DELAY: Duration = Duration::from_secs(5);

fn cell(initial: PowerState, transitional: bool) -> PowerCell {
    PowerCell::new(initial, DELAY, transitional, BootOverride::default())
}

#[test]
fn new_state_shows_only_after_the_delay() {
    let t0 = Instant::now();
    let c = cell(PowerState::Off, false);
    c.reset(ResetType::On, t0, true);
    assert_eq!(c.power_state(t0), PowerState::Off);
    assert_eq!(
        c.power_state(t0 + DELAY - Duration::from_millis(1)),
        PowerState::Off
    );
    assert_eq!(c.power_state(t0 + DELAY), PowerState::On);
    let status = c.status(t0 + DELAY);
    assert_eq!((status.resets, status.boots), (1, 1));
    assert_eq!(status.last_reset, Some(ResetType::On));
}

#[test]
fn zero_delay_lands_at_once() {
    let t0 = Instant::now();
    let c = PowerCell::new(
        PowerState::On,
        Duration::ZERO,
        false,
        BootOverride::default(),
    );
    c.reset(ResetType::ForceOff, t0, true);
    assert_eq!(c.power_state(t0), PowerState::Off);
}

#[test]
fn transitional_states_show_during_the_delay() {
    let t0 = Instant::now();
    let c = cell(PowerState::On, true);
    c.reset(ResetType::GracefulShutdown, t0, true);
    assert_eq!(c.power_state(t0), PowerState::PoweringOff);
    assert_eq!(c.power_state(t0 + DELAY), PowerState::Off);
    c.reset(ResetType::ForceOn, t0 + DELAY, true);
    assert_eq!(c.power_state(t0 + DELAY), PowerState::PoweringOn);
    assert_eq!(c.power_state(t0 + DELAY * 2), PowerState::On);
}

#[test]
fn semantics_of_each_reset_type() {
    let t0 = Instant::now();
    let later = t0 + DELAY;
    let cases = [
        (
            PowerState::On,
            ResetType::On,
            PowerState::On,
            PowerState::On,
            0,
        ),
        (
            PowerState::Off,
            ResetType::ForceOn,
            PowerState::Off,
            PowerState::On,
            1,
        ),
        (
            PowerState::On,
            ResetType::ForceOff,
            PowerState::On,
            PowerState::Off,
            0,
        ),
        (
            PowerState::Off,
            ResetType::GracefulShutdown,
            PowerState::Off,
            PowerState::Off,
            0,
        ),
        (
            PowerState::On,
            ResetType::PushPowerButton,
            PowerState::On,
            PowerState::Off,
            0,
        ),
        (
            PowerState::Off,
            ResetType::PushPowerButton,
            PowerState::Off,
            PowerState::On,
            1,
        ),
        (
            PowerState::On,
            ResetType::ForceRestart,
            PowerState::On,
            PowerState::On,
            1,
        ),
        (
            PowerState::Off,
            ResetType::GracefulRestart,
            PowerState::Off,
            PowerState::On,
            1,
        ),
        (
            PowerState::On,
            ResetType::PowerCycle,
            PowerState::Off,
            PowerState::On,
            1,
        ),
        (
            PowerState::On,
            ResetType::Nmi,
            PowerState::On,
            PowerState::On,
            0,
        ),
    ];
    for (initial, reset, during, after, boots) in cases {
        let c = cell(initial, false);
        c.reset(reset, t0, true);
        assert_eq!(
            c.power_state(t0),
            during,
            "{initial} + {reset} during the delay"
        );
        let status = c.status(later);
        assert_eq!(
            status.power_state, after,
            "{initial} + {reset} after the delay"
        );
        assert_eq!(status.boots, boots, "{initial} + {reset} boots");
        assert_eq!(status.resets, 1);
    }
}

#[test]
fn a_later_reset_replaces_a_pending_one() {
    let t0 = Instant::now();
    let c = cell(PowerState::Off, false);
    c.reset(ResetType::On, t0, true);
    c.reset(ResetType::ForceOff, t0 + Duration::from_secs(1), true);
    assert_eq!(c.power_state(t0 + DELAY * 3), PowerState::Off);
    assert_eq!(c.status(t0 + DELAY * 3).boots, 0);
}

#[test]
fn a_reset_without_effect_is_counted_only() {
    let t0 = Instant::now();
    let c = cell(PowerState::Off, false);
    c.reset(ResetType::On, t0, false);
    let status = c.status(t0 + DELAY);
    assert_eq!((status.power_state, status.resets), (PowerState::Off, 1));
}

#[test]
fn a_one_time_boot_override_is_consumed_by_the_next_boot() {
    let t0 = Instant::now();
    let c = cell(PowerState::Off, false);
    c.set_boot(BootOverride {
        target: "Pxe".into(),
        enabled: "Once".into(),
        mode: None,
    });
    c.reset(ResetType::On, t0, true);
    assert_eq!(c.boot().enabled, "Once");
    assert_eq!(c.status(t0 + DELAY).boot.enabled, "Disabled");
}

#[test]
fn reset_types_parse_exactly() {
    for rt in ResetType::ALL {
        assert_eq!(rt.as_str().parse::<ResetType>(), Ok(rt));
    }
    assert!("on".parse::<ResetType>().is_err());
    assert_eq!(
        "poweringon".parse::<PowerState>(),
        Ok(PowerState::PoweringOn)
    );
}
