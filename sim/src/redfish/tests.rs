//! The router driven in-process with `oneshot`: no sockets, no connection-level faults.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::router;
use crate::bmc::Bmc;
use crate::{Fault, SimConfig};

/// `admin:password`.
const BASIC: &str = "Basic YWRtaW46cGFzc3dvcmQ=";

fn bmc(systems: u8) -> Arc<Bmc> {
    let config = SimConfig::builder().systems(systems).build().unwrap();
    Arc::new(Bmc::new(
        &config.bmcs[0],
        "127.0.0.1:1".parse().unwrap(),
        "http",
    ))
}

async fn call(
    bmc: &Arc<Bmc>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", BASIC)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = router(Arc::clone(bmc)).oneshot(request).await.unwrap();
    let status = response.status();
    (
        status,
        to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
}

#[tokio::test]
async fn a_bmc_without_systems_has_an_empty_collection() {
    let bmc = bmc(0);
    let (status, body) = call(&bmc, "GET", "/redfish/v1/Systems", None).await;
    assert_eq!(status, StatusCode::OK);
    let systems: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(systems["Members"], json!([]));
    let (status, body) = call(&bmc, "GET", "/redfish/v1/Chassis/Enclosure", None).await;
    assert_eq!(status, StatusCode::OK);
    let chassis: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(chassis["Links"]["ComputerSystems"], json!([]));
}

#[tokio::test]
async fn post_to_a_resource_that_is_no_action_is_405() {
    let bmc = bmc(1);
    let (status, _) = call(&bmc, "POST", "/redfish/v1/Systems/Node0", Some(json!({}))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = call(&bmc, "POST", "/redfish/v1/Nowhere", Some(json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&bmc, "PUT", "/redfish/v1/Systems/Node0", Some(json!({}))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn malformed_json_fault_garbles_even_an_empty_answer() {
    let bmc = bmc(1);
    bmc.set_faults(vec![Fault::MalformedJson("*".into())]);
    let target = "/redfish/v1/Systems/Node0/Actions/ComputerSystem.Reset";
    let (status, body) = call(&bmc, "POST", target, Some(json!({"ResetType": "On"}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!body.is_empty());
    assert!(serde_json::from_slice::<Value>(&body).is_err());
}
