//! Resets, the delayed PowerState, validation of ResetType, and the boot override.

use std::time::Duration;

use cairn_sim::{PowerState, ResetType, SimConfig};
use serde_json::json;

use crate::common::{client, eventually, get_json, message_id, reset, start};

const TARGET: &str = "/redfish/v1/Systems/Node0/Actions/ComputerSystem.Reset";

#[tokio::test]
async fn reset_lands_at_once_without_delay() {
    let sim = start(SimConfig::builder().build().unwrap()).await;
    let bmc = &sim.bmcs()[0];
    let client = client();
    let response = reset(&client, bmc, TARGET, json!({"ResetType": "On"})).await;
    assert_eq!(response.status(), 204);
    let system = get_json(&client, bmc, "/redfish/v1/Systems/Node0").await;
    assert_eq!(system["PowerState"], "On");
    assert_eq!(bmc.power_state(0), Some(PowerState::On));
    assert_eq!(
        bmc.power_state(1),
        Some(PowerState::Off),
        "only Node0 was reset"
    );
    let status = bmc.system_status(0).unwrap();
    assert_eq!((status.resets, status.boots), (1, 1));
    assert_eq!(status.last_reset, Some(ResetType::On));

    // A trailing slash on the target, as iLO links it, works too.
    let off = reset(
        &client,
        bmc,
        &format!("{TARGET}/"),
        json!({"ResetType": "ForceOff"}),
    )
    .await;
    assert_eq!(off.status(), 204);
    assert_eq!(bmc.power_state(0), Some(PowerState::Off));
    sim.shutdown().await;
}

#[tokio::test]
async fn new_power_state_shows_only_after_the_delay() {
    let mut config = SimConfig::builder().count(3).build().unwrap();
    // BMC 0 never lands within the test, so "not yet" holds whatever the machine's load.
    config.bmcs[0].power_delay = Duration::from_secs(3600);
    config.bmcs[1].power_delay = Duration::from_millis(200);
    config.bmcs[2].power_delay = Duration::from_secs(3600);
    config.bmcs[2].transitional_states = true;
    let sim = start(config).await;
    let client = client();
    for bmc in sim.bmcs() {
        assert_eq!(
            reset(&client, bmc, TARGET, json!({"ResetType": "On"}))
                .await
                .status(),
            204
        );
    }
    let slow = get_json(&client, &sim.bmcs()[0], "/redfish/v1/Systems/Node0").await;
    assert_eq!(slow["PowerState"], "Off");
    let transitional = get_json(&client, &sim.bmcs()[2], "/redfish/v1/Systems/Node0").await;
    assert_eq!(transitional["PowerState"], "PoweringOn");
    eventually("BMC 1's Node0 to show On", || async {
        get_json(&client, &sim.bmcs()[1], "/redfish/v1/Systems/Node0").await["PowerState"] == "On"
    })
    .await;
    assert_eq!(sim.bmcs()[0].power_state(0), Some(PowerState::Off));
    sim.shutdown().await;
}

#[tokio::test]
async fn invalid_resets_answer_400_and_change_nothing() {
    let config = SimConfig::builder()
        .reset_types([ResetType::On, ResetType::ForceOff])
        .build()
        .unwrap();
    let sim = start(config).await;
    let bmc = &sim.bmcs()[0];
    let client = client();
    let cases = [
        (
            json!({"ResetType": "Bogus"}),
            "ActionParameterValueNotInList",
        ),
        (
            json!({"ResetType": "GracefulRestart"}),
            "ActionParameterValueNotInList",
        ),
        (json!({"ResetType": "on"}), "ActionParameterValueNotInList"),
        (json!({}), "ActionParameterMissing"),
        (json!({"ResetType": 1}), "ActionParameterValueTypeError"),
        (
            json!({"ResetType": "On", "Delay": 3}),
            "ActionParameterUnknown",
        ),
        (json!("On"), "MalformedJSON"),
    ];
    for (body, id) in cases {
        let response = reset(&client, bmc, TARGET, body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(
            message_id(response).await,
            format!("Base.1.16.{id}"),
            "{body}"
        );
    }
    let info = bmc.info();
    let not_json = client
        .post(format!("{}{TARGET}", bmc.url()))
        .basic_auth(&info.username, Some(&info.password))
        .body("ResetType=On")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let status = bmc.system_status(0).unwrap();
    assert_eq!((status.power_state, status.resets), (PowerState::Off, 0));
    let system = get_json(&client, bmc, "/redfish/v1/Systems/Node0").await;
    assert_eq!(
        system["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"],
        json!(["On", "ForceOff"])
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn reset_without_credentials_is_refused() {
    let sim = start(SimConfig::builder().build().unwrap()).await;
    let bmc = &sim.bmcs()[0];
    let response = client()
        .post(format!("{}{TARGET}", bmc.url()))
        .json(&json!({"ResetType": "On"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(bmc.system_status(0).unwrap().resets, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn boot_override_is_patched_and_validated() {
    let sim = start(SimConfig::builder().build().unwrap()).await;
    let bmc = &sim.bmcs()[0];
    let client = client();
    let info = bmc.info();
    let patch = |body: serde_json::Value| {
        client
            .patch(format!("{}/redfish/v1/Systems/Node1", bmc.url()))
            .basic_auth(&info.username, Some(&info.password))
            .json(&body)
            .send()
    };
    let ok = patch(
        json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}}),
    );
    assert_eq!(ok.await.unwrap().status(), 204);
    let cases = [
        (
            json!({"Boot": {"BootSourceOverrideTarget": "Floppy"}}),
            "PropertyValueNotInList",
        ),
        (
            json!({"Boot": {"BootSourceOverrideEnabled": "Always"}}),
            "PropertyValueNotInList",
        ),
        (
            json!({"Boot": {"BootSourceOverrideTarget": "Hdd", "Colour": "red"}}),
            "PropertyUnknown",
        ),
        (
            json!({"Boot": {"BootSourceOverrideTarget": 3}}),
            "PropertyValueTypeError",
        ),
        (json!({"AssetTag": "x"}), "PropertyUnknown"),
        (json!({}), "MalformedJSON"),
    ];
    for (body, id) in cases {
        let response = patch(body.clone()).await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(
            message_id(response).await,
            format!("Base.1.16.{id}"),
            "{body}"
        );
    }
    let system = get_json(&client, bmc, "/redfish/v1/Systems/Node1").await;
    assert_eq!(system["Boot"]["BootSourceOverrideTarget"], "Pxe");
    assert_eq!(system["Boot"]["BootSourceOverrideEnabled"], "Once");

    // The one-time override is consumed by the next boot.
    let target = "/redfish/v1/Systems/Node1/Actions/ComputerSystem.Reset";
    assert_eq!(
        reset(&client, bmc, target, json!({"ResetType": "On"}))
            .await
            .status(),
        204
    );
    assert_eq!(bmc.system_status(1).unwrap().boot.enabled, "Disabled");
    sim.shutdown().await;
}
