//! Smoke test: 200 BMCs on 200 loopback addresses start and answer a crawl.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use cairn_sim::{Layout, SimConfig, ids};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::common::{client, get_json, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_bmcs_answer() {
    let layout = Layout::ConsecutiveAddresses {
        base: Ipv4Addr::new(127, 0, 79, 1),
        port: 0,
    };
    let config = SimConfig::builder()
        .count(200)
        .systems(2)
        .layout(layout)
        .build()
        .unwrap();
    let sim = Arc::new(start(config).await);
    let client = client();
    let limit = Arc::new(Semaphore::new(32));
    let mut crawls = JoinSet::new();
    for i in 0..sim.bmcs().len() {
        let (sim, client, limit) = (Arc::clone(&sim), client.clone(), Arc::clone(&limit));
        crawls.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let bmc = &sim.bmcs()[i];
            let root = get_json(&client, bmc, "/redfish/v1").await;
            assert_eq!(root["UUID"], ids::bmc_uuid(i as u32));
            let mut macs = Vec::new();
            for s in 0..2u8 {
                let path = format!(
                    "/redfish/v1/Systems/{}/EthernetInterfaces/eth0",
                    ids::system_id(s)
                );
                let nic = get_json(&client, bmc, &path).await;
                macs.push(nic["MACAddress"].as_str().unwrap().to_owned());
            }
            macs
        });
    }
    let mut macs = HashSet::new();
    while let Some(found) = crawls.join_next().await {
        macs.extend(found.unwrap());
    }
    assert_eq!(macs.len(), 400, "every system has its own MAC");
    assert_eq!(sim.total_requests(), 600);
    let sim = Arc::into_inner(sim).unwrap();
    sim.shutdown().await;
}
