//! One module per noun of the command line.

pub mod agent;
pub mod agents;
pub mod boot;
pub mod boots;
pub mod cloud_init;
pub mod cluster;
pub mod component_endpoints;
pub mod components;
pub mod discover;
pub mod discover_summary;
pub mod groups;
pub mod interfaces;
pub mod memberships;
pub mod power;
pub mod redfish;
pub mod replica;

/// SMD's API root on a Cairn coordinator.
pub const HSM: &str = "/hsm/v2";

/// Refuse a destructive bulk delete unless `--yes` was given.
pub fn require_yes(yes: bool, what: &str) -> anyhow::Result<()> {
    anyhow::ensure!(yes, "this deletes {what}; add --yes to confirm");
    Ok(())
}
