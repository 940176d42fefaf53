//! The fixture: one replica that leads alone, its API as a `tower` service, and helpers to
//! send requests and to check that a refused request left the inventory as it was.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use cairn_coordinator::api::{self, AppState};
use cairn_coordinator::inventory::Inventory;
use cairn_raft::{Node, RaftConfig, Replica, Router, Storage, Transport};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The peer address of requests sent without one (a loopback client no node owns).
pub const DEFAULT_PEER: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)),
    40000,
);

/// A running single-replica API.
pub struct App {
    router: axum::Router,
    replica: Replica<Inventory>,
    /// The handler state (agent liveness, the leader's clock, gRPC over a real socket).
    pub state: AppState,
}

/// A response: status, headers and the body (JSON if it parses, else a JSON string).
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    /// The `Content-Type` header.
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl App {
    /// A fresh replica, initialized alone and waited for until it leads.
    pub async fn start() -> App {
        let base = api::state::DEFAULT_BOOT_URL;
        App::with_boot(cairn_bootsvc::BootConfig::new(
            base,
            format!("{base}/cloud-init"),
        ))
        .await
    }

    /// [`App::start`] with these boot serving settings.
    pub async fn with_boot(boot: cairn_bootsvc::BootConfig) -> App {
        let node = Node::new("127.0.0.1:1", "127.0.0.1:2");
        let mut cfg = RaftConfig::new(1, node.clone(), Storage::Memory);
        cfg.heartbeat_interval = Duration::from_millis(50);
        cfg.election_timeout_min = Duration::from_millis(150);
        cfg.election_timeout_max = Duration::from_millis(300);
        let replica = Replica::start(
            cfg,
            Inventory::default(),
            Transport::InProcess(Router::new()),
        )
        .await
        .expect("replica starts");
        replica
            .initialize(BTreeMap::from([(1, node)]))
            .await
            .expect("cluster initializes");
        let mut metrics = replica.metrics();
        tokio::time::timeout(
            Duration::from_secs(10),
            metrics.wait_for(|m| m.current_leader == Some(1) && m.last_applied.is_some()),
        )
        .await
        .expect("replica leads within 10 s")
        .expect("metrics channel open");
        let state = AppState::with_boot(replica.clone(), Duration::from_secs(2), boot)
            .expect("HTTP client");
        let router = api::service(state.clone());
        App {
            router,
            replica,
            state,
        }
    }

    /// Send a request with a raw body (`None`: no body and no content type).
    pub async fn raw(&self, method: &str, uri: &str, body: Option<Vec<u8>>) -> Resp {
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("valid method"))
            .uri(uri);
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(b)
            }
            None => Body::empty(),
        };
        self.send(req.body(body).expect("valid request")).await
    }

    /// Send a prepared request. Without a `ConnectInfo` extension it comes from
    /// [`DEFAULT_PEER`], as a served request would carry its peer's address.
    pub async fn send(&self, mut req: Request<Body>) -> Resp {
        if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            req.extensions_mut().insert(ConnectInfo(DEFAULT_PEER));
        }
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    /// Send JSON (or nothing) and return status and body.
    pub async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let r = self
            .raw(method, uri, body.map(|b| serde_json::to_vec(&b).unwrap()))
            .await;
        (r.status, r.body)
    }

    /// GET, expecting 200; the body.
    pub async fn get_ok(&self, uri: &str) -> Value {
        let (status, body) = self.call("GET", uri, None).await;
        assert_eq!(status, StatusCode::OK, "GET {uri}: {body}");
        body
    }

    /// Send JSON, expecting `want`; the body.
    pub async fn expect(&self, method: &str, uri: &str, body: Option<Value>, want: u16) -> Value {
        let (status, got) = self.call(method, uri, body.clone()).await;
        assert_eq!(
            status.as_u16(),
            want,
            "{method} {uri} {body:?} answered {got}"
        );
        got
    }

    /// The whole replicated inventory (credentials included), without the revision.
    pub fn state(&self) -> Value {
        let mut v = self
            .replica
            .read(|inv| serde_json::to_value(inv))
            .expect("inventory serializes");
        v.as_object_mut()
            .expect("inventory is an object")
            .remove("revision");
        v
    }

    /// The inventory revision.
    pub fn revision(&self) -> u64 {
        self.replica.read(Inventory::revision)
    }

    /// Send a raw body that must be refused with `want`, as a problem body whose `detail`
    /// contains every one of `mentions`, leaving the inventory unchanged. Returns the detail.
    pub async fn refuse_raw(
        &self,
        method: &str,
        uri: &str,
        body: Option<Vec<u8>>,
        want: u16,
        mentions: &[&str],
    ) -> String {
        let before = self.state();
        let shown = body
            .as_deref()
            .map(|b| String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned());
        let r = self.raw(method, uri, body).await;
        assert_eq!(
            r.status.as_u16(),
            want,
            "{method} {uri} {shown:?} answered {}",
            r.body
        );
        assert_eq!(
            r.content_type(),
            "application/problem+json",
            "{method} {uri}: {}",
            r.body
        );
        assert_eq!(r.body["status"], want, "{}", r.body);
        assert_eq!(r.body["type"], "about:blank", "{}", r.body);
        let detail = r.body["detail"].as_str().unwrap_or_default().to_owned();
        for m in mentions {
            assert!(
                detail.contains(m),
                "{method} {uri}: detail {detail:?} should mention {m:?}"
            );
        }
        assert_eq!(
            self.state(),
            before,
            "{method} {uri} was refused but changed the inventory"
        );
        detail
    }

    /// [`App::refuse_raw`] with a JSON body.
    pub async fn refuse(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
        want: u16,
        mentions: &[&str],
    ) -> String {
        let body = body.map(|b| serde_json::to_vec(&b).unwrap());
        self.refuse_raw(method, uri, body, want, mentions).await
    }

    /// Create components (POST /State/Components), expecting 204.
    pub async fn components(&self, list: Value) {
        self.expect(
            "POST",
            "/hsm/v2/State/Components",
            Some(serde_json::json!({ "Components": list })),
            204,
        )
        .await;
    }

    /// Create a PCS transition of `op` on `targets` (xnames), expecting 200; its id.
    pub async fn start_transition(&self, op: &str, targets: &[impl AsRef<str>]) -> String {
        let location: Vec<Value> = targets
            .iter()
            .map(|t| serde_json::json!({"xname": t.as_ref()}))
            .collect();
        let r = self
            .expect(
                "POST",
                "/power-control/v1/transitions",
                Some(serde_json::json!({"operation": op, "location": location})),
                200,
            )
            .await;
        r["transitionID"].as_str().unwrap().to_owned()
    }

    /// Create nodes `x1000c0s<i>b0n0` for each `i`, in state Ready with NID `i + 1`.
    pub async fn nodes(&self, slots: impl IntoIterator<Item = u32>) {
        let list: Vec<Value> = slots
            .into_iter()
            .map(|i| serde_json::json!({"ID": node(i), "State": "Ready", "NID": i + 1}))
            .collect();
        self.components(Value::Array(list)).await;
    }
}

/// The xname of the test node in slot `i`.
pub fn node(i: u32) -> String {
    format!("x1000c0s{i}b0n0")
}
