//! A simulated rack for the agent and power tests: agent registrations and the discovery
//! reports that fill the inventory, written as the Raft commands `AgentService` proposes.

use cairn_coordinator::inventory::{AgentCommand, Command, Outcome};
use cairn_protocols::agent::{PowerSample, PowerTaskResult, Registration, Report, ReportItem};
use cairn_protocols::power::{ManagementState, PowerState, TaskStatus};
use cairn_protocols::{
    Component, ComponentEndpoint, DiscoveryInfo, DiscoveryOutcome, EndpointDiscovery,
    EthernetInterface, HmsState, MacAddr, RedfishEndpoint, Xname,
};
use serde_json::json;

use crate::support::App;

/// Every ResetType a well-behaved BMC allows.
pub const ALL_RESETS: &[&str] = &[
    "On",
    "ForceOff",
    "GracefulShutdown",
    "GracefulRestart",
    "ForceRestart",
];

pub fn x(s: &str) -> Xname {
    Xname::parse(s).unwrap()
}

/// The BMC in slot `slot` of cabinet `cab`.
pub fn bmc(cab: u32, slot: u32) -> String {
    format!("x{cab}c0s{slot}b0")
}

pub fn registration(id: &str, cabinets: &[u32]) -> Registration {
    Registration {
        agent_id: id.to_owned(),
        scope: cabinets.iter().copied().collect(),
        version: "0.1.0".into(),
        endpoints: Default::default(),
    }
}

fn mac(bmc: &Xname, n: u32) -> MacAddr {
    let cab = bmc.cabinet().unwrap();
    let slot: u8 = bmc
        .as_str()
        .split('s')
        .nth(1)
        .unwrap()
        .split('b')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    MacAddr([0x02, (cab >> 8) as u8, cab as u8, slot, 0, n as u8])
}

fn info(status: &str) -> Option<DiscoveryInfo> {
    Some(DiscoveryInfo {
        last_discovery_attempt: Some("2026-01-01T00:00:00Z".into()),
        last_discovery_status: Some(status.into()),
        redfish_version: Some("1.6.0".into()),
        last_discovery_detail: None,
    })
}

/// What an agent reports for a BMC with `nodes` nodes whose reset action allows `allowed`.
pub fn found(bmc_id: &str, nodes: u32, allowed: &[&str]) -> EndpointDiscovery {
    let bmc = x(bmc_id);
    let mut endpoint = RedfishEndpoint::new(bmc.clone());
    endpoint.fqdn = Some(format!(
        "10.{}.0.{}",
        bmc.cabinet().unwrap() % 250,
        nodes + 1
    ));
    endpoint.uuid = Some(format!("uuid-{bmc}"));
    endpoint.mac_addr = Some(mac(&bmc, 255));
    endpoint.discovery_info = info("DiscoverOK");
    let mut components = vec![Component::new(bmc.clone()).with_state(HmsState::Ready)];
    let mut ces: Vec<ComponentEndpoint> = vec![
        serde_json::from_value(
            json!({"ID": bmc_id, "ComponentEndpointType": "ComponentEndpointManager",
            "RedfishEndpointID": bmc_id, "OdataID": "/redfish/v1/Managers/1"}),
        )
        .unwrap(),
    ];
    let mut interfaces = Vec::new();
    let mut bmc_iface = EthernetInterface::new(mac(&bmc, 255));
    bmc_iface.component_id = Some(bmc.clone());
    interfaces.push(bmc_iface);
    for n in 0..nodes {
        let node = bmc.child('n', n).unwrap();
        components.push(Component::new(node.clone()).with_state(HmsState::Off));
        let sys = format!("/redfish/v1/Systems/{}", n + 1);
        ces.push(
            serde_json::from_value(
                json!({"ID": node, "ComponentEndpointType": "ComponentEndpointComputerSystem",
                "RedfishEndpointID": bmc_id, "OdataID": sys,
                "RedfishSystemInfo": {"Actions": {"#ComputerSystem.Reset": {
                    "ResetType@Redfish.AllowableValues": allowed,
                    "target": format!("{sys}/Actions/ComputerSystem.Reset")}}}}),
            )
            .unwrap(),
        );
        let mut iface = EthernetInterface::new(mac(&bmc, n));
        iface.component_id = Some(node);
        interfaces.push(iface);
    }
    EndpointDiscovery {
        endpoint,
        outcome: DiscoveryOutcome::Found {
            components,
            component_endpoints: ces,
            interfaces,
        },
    }
}

/// What an agent reports for a BMC that refused its credentials.
pub fn failed(bmc_id: &str) -> EndpointDiscovery {
    let mut endpoint = RedfishEndpoint::new(x(bmc_id));
    endpoint.fqdn = Some("10.9.9.9".into());
    endpoint.discovery_info = info("HTTPsGetFailed");
    EndpointDiscovery {
        endpoint,
        outcome: DiscoveryOutcome::Failed {
            status: "HTTPsGetFailed".into(),
            detail: "GET /redfish/v1/Systems: 401 Unauthorized".into(),
        },
    }
}

pub fn result(
    transition: &str,
    node: &str,
    status: TaskStatus,
    power: Option<PowerState>,
) -> ReportItem {
    ReportItem::PowerResult(PowerTaskResult {
        transition_id: transition.to_owned(),
        xname: x(node),
        status,
        description: format!("reported {status}"),
        error: if status == TaskStatus::Failed {
            "BMC answered 500".into()
        } else {
            String::new()
        },
        power_state: power,
        observed_ms: Some(cairn_coordinator::clock::now_ms()),
    })
}

pub fn sample(node: &str, power: PowerState, mgmt: ManagementState, at_ms: u64) -> ReportItem {
    ReportItem::PowerStatus(PowerSample {
        xname: x(node),
        power_state: power,
        management_state: mgmt,
        error: String::new(),
        observed_ms: at_ms,
    })
}

/// Replicate a command through the app's replica.
pub async fn write(app: &App, cmd: Command) -> Outcome {
    app.state.replica().write(&cmd).await.unwrap()
}

pub async fn register(app: &App, id: &str, cabinets: &[u32]) {
    let reg = registration(id, cabinets);
    let now_ms = cairn_coordinator::clock::now_ms();
    write(
        app,
        Command::Agent(AgentCommand::Register {
            registration: reg,
            now_ms,
        }),
    )
    .await
    .unwrap();
}

pub async fn report(app: &App, agent: &str, seq: u64, items: Vec<ReportItem>) -> Outcome {
    let report = Report {
        agent_id: agent.to_owned(),
        seq,
        items,
    };
    let now_ms = cairn_coordinator::clock::now_ms();
    write(app, Command::Agent(AgentCommand::Report { report, now_ms })).await
}

/// Agent `agent` serving cabinet `cab`, which has `bmcs` BMCs of `nodes` nodes each, all
/// discovered (report seq 1).
pub async fn rack(app: &App, agent: &str, cab: u32, bmcs: u32, nodes: u32, allowed: &[&str]) {
    register(app, agent, &[cab]).await;
    let items = (0..bmcs)
        .map(|s| ReportItem::Discovery(found(&bmc(cab, s), nodes, allowed)))
        .collect();
    report(app, agent, 1, items).await.unwrap();
}
