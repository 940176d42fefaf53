//! BMCs that refuse HTTP Basic: discovery opens a Redfish session instead, and closes it.
//!
//! The simulator accepts both, so a small proxy in front of it refuses every request carrying
//! Basic credentials and passes everything else (session login, token-authenticated requests,
//! logout) to the simulated BMC, which does the real session handling.

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_agent::config::BmcConfig;
use cairn_agent::discovery::NamedTarget;
use cairn_agent::redfish::{BmcAddress, Credentials, Scheme};
use cairn_sim::{Layout, SimConfig};

use crate::{discover_all, discoverer, failure, found, init, sim_credentials};

const PASSED: [HeaderName; 2] = [header::CONTENT_TYPE, header::LOCATION];

#[derive(Clone)]
struct Upstream {
    http: reqwest::Client,
    base: String,
}

async fn refuse_basic(State(up): State<Upstream>, request: Request) -> Response {
    let basic = request
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes().starts_with(b"Basic "));
    if basic {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut forward = up
        .http
        .request(parts.method.clone(), format!("{}{path}", up.base));
    for name in [
        HeaderName::from_static("x-auth-token"),
        header::CONTENT_TYPE,
    ] {
        if let Some(v) = parts.headers.get(&name) {
            forward = forward.header(name, v);
        }
    }
    let body = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let Ok(answer) = forward.body(body).send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut response = Response::builder().status(answer.status().as_u16());
    for name in PASSED
        .iter()
        .chain(std::iter::once(&HeaderName::from_static("x-auth-token")))
    {
        if let Some(v) = answer.headers().get(name) {
            response = response.header(name, v);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    response.body(Body::from(bytes)).unwrap()
}

#[tokio::test]
async fn a_bmc_refusing_basic_is_crawled_through_a_session_that_is_closed() {
    init();
    let sim = cairn_sim::start(
        SimConfig::builder()
            .layout(Layout::ConsecutiveAddresses {
                base: Ipv4Addr::new(127, 42, 8, 1),
                port: 0,
            })
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let bmc = sim.bmc(0).unwrap();
    let upstream = Upstream {
        http: reqwest::Client::new(),
        base: bmc.url().to_owned(),
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 42, 8, 100], 0)))
        .await
        .unwrap();
    let proxy_addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(refuse_basic).with_state(upstream);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let target = |credentials: Option<Credentials>| NamedTarget {
        xname: "x42c0s100b0".parse().unwrap(),
        address: BmcAddress::parse(&format!("http://{proxy_addr}"), Scheme::Http).unwrap(),
        credentials,
    };
    let d = discoverer(&BmcConfig::default(), None, Some(sim_credentials()));
    let reports = discover_all(&d, vec![target(None)]).await;
    let (components, _, interfaces) = found(reports.values().next().unwrap());
    assert_eq!(components.len(), 3);
    assert_eq!(interfaces.len(), 3);
    assert_eq!(bmc.sessions(), 0, "the session was not closed");

    // Per-BMC credentials win over the defaults; wrong ones fail the session login too.
    let wrong = Some(Credentials::new("admin", "wrong"));
    let reports = discover_all(&d, vec![target(wrong)]).await;
    let (status, detail) = failure(reports.values().next().unwrap());
    assert_eq!(status, "HTTPsGetFailed");
    assert!(
        detail.contains("credentials refused (HTTP 401)"),
        "{detail}"
    );
    assert_eq!(bmc.sessions(), 0);
    server.abort();
    sim.shutdown().await;
}
