//! The xname hierarchy: which `<letter><number>` may follow which component type.

use crate::enums::HmsType;

/// One step of the grammar: from a parent type, `letter<n>` with `n <= max` names `child`.
pub(super) struct Step {
    pub(super) letter: char,
    pub(super) child: HmsType,
    pub(super) level: &'static str,
    pub(super) max: u32,
}

const fn step(letter: char, child: HmsType, level: &'static str, max: u32) -> Step {
    Step {
        letter,
        child,
        level,
        max,
    }
}

const SUB: u32 = 255;

pub(super) const ROOTS: &[Step] = &[
    step('x', HmsType::Cabinet, "cabinet", 999_999),
    step('d', HmsType::Cdu, "CDU", 999),
    step('s', HmsType::System, "system", 0),
];

pub(super) fn steps(parent: HmsType) -> &'static [Step] {
    use HmsType as T;
    match parent {
        T::Cabinet => {
            const {
                &[
                    step('c', T::Chassis, "chassis", 7),
                    step('m', T::CabinetPduController, "PDU controller", SUB),
                    step('b', T::CabinetBmc, "BMC", SUB),
                    step('d', T::CabinetCdu, "CDU", SUB),
                    step('e', T::Cec, "CEC", SUB),
                ]
            }
        }
        T::CabinetPduController => const { &[step('p', T::CabinetPdu, "PDU", SUB)] },
        T::CabinetPdu => {
            const {
                &[
                    step('j', T::CabinetPduOutlet, "outlet", SUB),
                    step('v', T::CabinetPduPowerConnector, "power connector", SUB),
                ]
            }
        }
        T::Chassis => {
            const {
                &[
                    step('b', T::ChassisBmc, "BMC", SUB),
                    step('s', T::ComputeModule, "slot", SUB),
                    step('r', T::RouterModule, "router slot", SUB),
                    step('w', T::MgmtSwitch, "switch", SUB),
                    step('h', T::MgmtHlSwitchEnclosure, "switch enclosure", SUB),
                    step('t', T::CmmRectifier, "rectifier", SUB),
                    step('f', T::CmmFpga, "FPGA", SUB),
                ]
            }
        }
        T::ComputeModule => {
            const {
                &[
                    step('b', T::NodeBmc, "BMC", SUB),
                    step('e', T::NodeEnclosure, "enclosure", SUB),
                ]
            }
        }
        T::NodeEnclosure => {
            const { &[step('t', T::NodeEnclosurePowerSupply, "power supply", SUB)] }
        }
        T::NodeBmc => const { &[step('n', T::Node, "node", SUB)] },
        T::Node => {
            const {
                &[
                    step('p', T::Processor, "processor", SUB),
                    step('d', T::Memory, "memory", SUB),
                    step('a', T::NodeAccel, "accelerator", SUB),
                    step('r', T::NodeAccelRiser, "accelerator riser", SUB),
                    step('f', T::NodeFpga, "FPGA", SUB),
                    step('h', T::NodeHsnNic, "HSN NIC", SUB),
                    step('i', T::NodeNic, "NIC", SUB),
                    step('g', T::StorageGroup, "storage group", SUB),
                    step('v', T::VirtualNode, "virtual node", SUB),
                ]
            }
        }
        T::StorageGroup => const { &[step('k', T::Drive, "drive", SUB)] },
        T::RouterModule => {
            const {
                &[
                    step('b', T::RouterBmc, "BMC", SUB),
                    step('a', T::HsnAsic, "ASIC", SUB),
                    step('j', T::HsnConnector, "connector", SUB),
                    step('f', T::RouterFpga, "FPGA", SUB),
                    step('e', T::HsnBoard, "HSN board", SUB),
                ]
            }
        }
        T::HsnAsic => const { &[step('l', T::HsnLink, "link", SUB)] },
        T::MgmtHlSwitchEnclosure => const { &[step('s', T::MgmtHlSwitch, "switch", SUB)] },
        T::Cdu => const { &[step('w', T::CduMgmtSwitch, "switch", SUB)] },
        _ => &[],
    }
}
