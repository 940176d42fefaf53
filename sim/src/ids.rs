//! Deterministic identities of generated BMCs.
//!
//! Everything is derived from the BMC's index, so a test (or the demo) can predict every MAC and
//! UUID a discovery run should find without asking the simulator. MACs are locally administered
//! unicast addresses (`02:…`): they can never collide with a real vendor's.

/// The largest BMC index whose identities stay unique (24 bits of the MAC hold the index).
pub const MAX_BMC_INDEX: u32 = (1 << 24) - 1;

fn mac(index: u32, system_byte: u8, nic: u8) -> String {
    let [_, a, b, c] = index.to_be_bytes();
    format!("02:{a:02x}:{b:02x}:{c:02x}:{system_byte:02x}:{nic:02x}")
}

/// MAC of BMC `index`'s own management interface: `02:ii:ii:ii:00:00`.
pub fn bmc_mac(index: u32) -> String {
    mac(index, 0, 0)
}

/// MAC of NIC `nic` of system `system` (both from 0) behind BMC `index`:
/// `02:ii:ii:ii:ss:nn` with `ss = system + 1`, so it never equals the BMC's own MAC.
pub fn system_mac(index: u32, system: u8, nic: u8) -> String {
    mac(index, system.saturating_add(1), nic)
}

/// UUID of BMC `index`'s service root (`/redfish/v1`).
pub fn bmc_uuid(index: u32) -> String {
    format!("{index:08x}-c41e-4000-8000-000000000000")
}

/// UUID of system `system` (from 0) behind BMC `index`.
pub fn system_uuid(index: u32, system: u8) -> String {
    format!("{index:08x}-c41e-4000-8001-{:012x}", u16::from(system) + 1)
}

/// Redfish `Id` of system `system` (from 0): `Node0`, `Node1`, … as on HPE Cray EX blades, which
/// is also how the agent will name nodes `n0`, `n1` under a BMC.
pub fn system_id(system: u8) -> String {
    format!("Node{system}")
}

/// Serial number of system `system` behind BMC `index`.
pub fn system_serial(index: u32, system: u8) -> String {
    format!("CSIM{index:08}N{system}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn macs_are_unique_and_predictable() {
        assert_eq!(bmc_mac(0x010203), "02:01:02:03:00:00");
        assert_eq!(system_mac(0x010203, 1, 2), "02:01:02:03:02:02");
        let mut seen = HashSet::new();
        for index in [0, 1, 255, 256, MAX_BMC_INDEX] {
            assert!(seen.insert(bmc_mac(index)));
            for system in 0..3 {
                for nic in 0..3 {
                    assert!(seen.insert(system_mac(index, system, nic)));
                }
            }
        }
    }

    #[test]
    fn uuids_have_the_canonical_shape() {
        for uuid in [bmc_uuid(7), system_uuid(MAX_BMC_INDEX, 254)] {
            let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
            assert_eq!(groups, [8, 4, 4, 4, 12], "{uuid}");
        }
        assert_ne!(system_uuid(1, 0), system_uuid(1, 1));
    }
}
