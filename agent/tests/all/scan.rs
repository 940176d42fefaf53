//! Scanning a subnet finds exactly the live BMCs: not closed ports, not other TCP services.

use std::net::{Ipv4Addr, SocketAddr};

use cairn_agent::config::{AgentConfig, BmcConfig};
use cairn_agent::discovery::Namer;
use cairn_agent::discovery::scan::{ScanSpec, scan};
use cairn_agent::redfish::Scheme;
use cairn_sim::{Layout, SimConfig};
use futures::StreamExt;

use crate::{discoverer, found, init, sim_credentials};

/// A fixed port on addresses only this test uses (127.42.6.0/24).
const PORT: u16 = 18_443;

fn sim_at(first: u8, count: u32, tls: bool) -> SimConfig {
    SimConfig::builder()
        .count(count)
        .tls(tls)
        .layout(Layout::ConsecutiveAddresses {
            base: Ipv4Addr::new(127, 42, 6, first),
            port: PORT,
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_subnet_scan_finds_exactly_the_live_bmcs() {
    init();
    // Live: .1-.3 over HTTP, .10-.11 over HTTPS; .7 has an open port that is not Redfish.
    let plain = cairn_sim::start(sim_at(1, 3, false)).await.unwrap();
    let tls = cairn_sim::start(sim_at(10, 2, true)).await.unwrap();
    let other = tokio::net::TcpListener::bind(SocketAddr::from(([127, 42, 6, 7], PORT)))
        .await
        .unwrap();
    let junk = tokio::spawn(async move {
        loop {
            if let Ok((mut stream, _)) = other.accept().await {
                use tokio::io::AsyncWriteExt;
                let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await;
            }
        }
    });

    let config = AgentConfig::from_toml(&format!(
        r#"
        scope = [42]
        [bmc]
        subnets = ["127.42.6.0/24"]
        ports = [{PORT}]
        schemes = ["https", "http"]
        connect_timeout_ms = 1000
        "#
    ))
    .unwrap();
    let d = discoverer(&config.bmc, tls.ca_pem(), Some(sim_credentials()));
    let found_addresses = scan(d.client(), &ScanSpec::from_config(&config.bmc)).await;
    let got: Vec<String> = found_addresses.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        got,
        [
            "http://127.42.6.1:18443",
            "http://127.42.6.2:18443",
            "http://127.42.6.3:18443",
            "https://127.42.6.10:18443",
            "https://127.42.6.11:18443",
        ]
    );

    // The same through the configuration, then named and crawled.
    let (targets, errors) = d.find_targets(&config.bmc).await;
    assert!(errors.is_empty());
    let (named, errors) = Namer::from_config(&config).plan(targets);
    assert!(errors.is_empty(), "{errors:?}");
    let names: Vec<String> = named.iter().map(|t| t.xname.to_string()).collect();
    assert_eq!(
        names,
        [
            "x42c0s1b0",
            "x42c0s2b0",
            "x42c0s3b0",
            "x42c0s10b0",
            "x42c0s11b0"
        ]
    );
    let reports: Vec<_> = d.discover(named).collect().await;
    for r in &reports {
        r.validate().unwrap();
        found(r);
    }
    junk.abort();
    plain.shutdown().await;
    tls.shutdown().await;
}

#[tokio::test]
async fn scheme_less_urls_are_probed_and_dead_ones_still_reported() {
    init();
    let sim = cairn_sim::start(
        SimConfig::builder()
            .layout(Layout::ConsecutiveAddresses {
                base: Ipv4Addr::new(127, 42, 7, 1),
                port: 0,
            })
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let live = sim.bmc(0).unwrap().addr();
    let bmc = BmcConfig {
        urls: vec![live.to_string(), "127.42.7.9:1".into(), "ftp://nope".into()],
        xnames: [
            (live.ip().to_string(), "x42c0s1b0".parse().unwrap()),
            ("127.42.7.9".into(), "x42c0s9b0".parse().unwrap()),
        ]
        .into(),
        ..BmcConfig::default()
    };
    let d = discoverer(&bmc, None, Some(sim_credentials()));
    let (targets, errors) = d.find_targets(&bmc).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    // Probing found HTTP on the live one; the dead one keeps the first configured scheme.
    assert_eq!(targets[0].address.scheme, Scheme::Http);
    assert_eq!(targets[1].address.scheme, Scheme::Https);
    let config = AgentConfig {
        scope: vec![42],
        bmc: bmc.clone(),
        ..AgentConfig::default()
    };
    let (named, _) = Namer::from_config(&config).plan(targets);
    let reports: Vec<_> = d.discover(named).collect().await;
    let dead = reports
        .iter()
        .find(|r| r.endpoint.id.as_str() == "x42c0s9b0")
        .unwrap();
    let (status, detail) = crate::failure(dead);
    assert_eq!(status, "HTTPsGetFailed");
    assert!(detail.contains("cannot connect"), "{detail}");
    sim.shutdown().await;
}
