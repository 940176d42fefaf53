//! Faults, set at start and flipped at runtime.

use std::time::Duration;

use cairn_sim::{FailReset, Fault, PowerState, SimConfig};
use serde_json::{Value, json};

use crate::common::{client, get, get_json, init, message_id, reset, start};

const TARGET: &str = "/redfish/v1/Systems/Node0/Actions/ComputerSystem.Reset";

fn impatient_client() -> reqwest::Client {
    init();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_hanging_bmc_times_out_until_healed() {
    let mut config = SimConfig::builder().count(2).build().unwrap();
    config.bmcs[0].faults = vec![Fault::Hang];
    let sim = start(config).await;
    let (hung, fine) = (&sim.bmcs()[0], &sim.bmcs()[1]);
    let error = impatient_client()
        .get(format!("{}/redfish/v1", hung.url()))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(
        hung.requests(),
        1,
        "the request arrived, it just got no answer"
    );
    // Healthy requests get a patient client: only the hang may time out.
    let client = client();
    assert_eq!(get(&client, fine, "/redfish/v1").await.status(), 200);

    hung.set_faults([]);
    assert_eq!(get(&client, hung, "/redfish/v1").await.status(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bmc_dies_mid_crawl_and_comes_back_when_healed() {
    let sim = start(SimConfig::builder().build().unwrap()).await;
    let bmc = &sim.bmcs()[0];
    let client = client();
    bmc.set_faults([Fault::DieAfter(2)]);
    assert_eq!(get(&client, bmc, "/redfish/v1").await.status(), 200);
    assert_eq!(get(&client, bmc, "/redfish/v1/Systems").await.status(), 200);
    let info = bmc.info();
    for _ in 0..2 {
        // Once on the kept-alive connection, once on a fresh one: both unanswered.
        let dead = client
            .get(format!("{}/redfish/v1/Systems/Node0", bmc.url()))
            .basic_auth(&info.username, Some(&info.password))
            .send()
            .await;
        assert!(dead.is_err(), "{dead:?}");
    }
    bmc.set_faults([]);
    assert_eq!(
        get(&client, bmc, "/redfish/v1/Systems/Node0")
            .await
            .status(),
        200
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn path_faults_hit_only_their_paths() {
    let sim = start(SimConfig::builder().count(2).build().unwrap()).await;
    let (faulty, fine) = (&sim.bmcs()[0], &sim.bmcs()[1]);
    faulty.set_faults([
        Fault::Status500("/redfish/v1/Systems*".into()),
        Fault::MalformedJson("/redfish/v1/Managers/BMC".into()),
    ]);
    let client = client();

    let broken = get(&client, faulty, "/redfish/v1/Systems/Node1/").await;
    assert_eq!(broken.status(), 500);
    assert_eq!(message_id(broken).await, "Base.1.16.InternalError");
    let garbled = get(&client, faulty, "/redfish/v1/Managers/BMC").await;
    assert_eq!(garbled.status(), 200);
    let text = garbled.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert!(!text.is_empty());

    get_json(&client, faulty, "/redfish/v1").await;
    get_json(&client, faulty, "/redfish/v1/Managers").await;
    get_json(&client, fine, "/redfish/v1/Systems/Node1").await;
    get_json(&client, fine, "/redfish/v1/Managers/BMC").await;
    // Faults apply after authentication: a wrong password still gets its 401.
    let anonymous = client
        .get(format!("{}/redfish/v1/Systems", faulty.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    faulty.set_faults([]);
    get_json(&client, faulty, "/redfish/v1/Systems/Node1").await;
    sim.shutdown().await;
}

#[tokio::test]
async fn failing_resets() {
    let sim = start(SimConfig::builder().count(2).build().unwrap()).await;
    let (erroring, ignoring) = (&sim.bmcs()[0], &sim.bmcs()[1]);
    erroring.add_fault(Fault::FailReset(FailReset::Error500));
    ignoring.add_fault(Fault::FailReset(FailReset::NoEffect));
    assert_eq!(ignoring.faults(), [Fault::FailReset(FailReset::NoEffect)]);
    let client = client();

    let failed = reset(&client, erroring, TARGET, json!({"ResetType": "On"})).await;
    assert_eq!(failed.status(), 500);
    assert_eq!(erroring.system_status(0).unwrap().resets, 0);

    // Accepted, and the delay is zero: had it applied, the state would show at once.
    let ignored = reset(&client, ignoring, TARGET, json!({"ResetType": "On"})).await;
    assert_eq!(ignored.status(), 204);
    let status = ignoring.system_status(0).unwrap();
    assert_eq!((status.power_state, status.resets), (PowerState::Off, 1));

    // Validation still comes first.
    let invalid = reset(&client, erroring, TARGET, json!({"ResetType": "Bogus"})).await;
    assert_eq!(invalid.status(), 400);

    erroring.set_faults([]);
    assert_eq!(
        reset(&client, erroring, TARGET, json!({"ResetType": "On"}))
            .await
            .status(),
        204
    );
    assert_eq!(erroring.power_state(0), Some(PowerState::On));
    sim.shutdown().await;
}
