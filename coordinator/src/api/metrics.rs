//! `/metrics` in Prometheus text format: Raft progress and per-route request counts and
//! latency histograms.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FollowerLabels {
    follower: u64,
}

/// The registry and the series handlers and middleware update.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    requests: Family<RouteLabels, Counter>,
    latency: Family<LatencyLabels, Histogram>,
    term: Gauge,
    leader: Gauge,
    is_leader: Gauge,
    last_log: Gauge,
    committed: Gauge,
    applied: Gauge,
    snapshot: Gauge,
    revision: Gauge,
    lag: Family<FollowerLabels, Gauge>,
}

impl Metrics {
    /// A fresh registry with every Cairn series.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cairn");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<LatencyLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 18))
        });
        let lag = Family::<FollowerLabels, Gauge>::default();
        let (term, leader, is_leader) = (Gauge::default(), Gauge::default(), Gauge::default());
        let (last_log, committed, applied) = (Gauge::default(), Gauge::default(), Gauge::default());
        let (snapshot, revision) = (Gauge::default(), Gauge::default());
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register("raft_term", "Current Raft term", term.clone());
        registry.register(
            "raft_leader",
            "Node id of the known leader (0: none)",
            leader.clone(),
        );
        registry.register(
            "raft_is_leader",
            "1 if this replica is the leader",
            is_leader.clone(),
        );
        registry.register(
            "raft_last_log_index",
            "Last log index stored here",
            last_log.clone(),
        );
        registry.register(
            "raft_commit_index",
            "Highest committed log index known here",
            committed.clone(),
        );
        registry.register(
            "raft_applied_index",
            "Last log index applied to the inventory here",
            applied.clone(),
        );
        registry.register(
            "raft_snapshot_index",
            "Last log index covered by the snapshot",
            snapshot.clone(),
        );
        registry.register(
            "inventory_revision",
            "Inventory revision (applied commands)",
            revision.clone(),
        );
        registry.register(
            "raft_replication_lag",
            "Entries a follower is behind the leader (leader only)",
            lag.clone(),
        );
        Metrics(Arc::new(Inner {
            registry,
            requests,
            latency,
            term,
            leader,
            is_leader,
            last_log,
            committed,
            applied,
            snapshot,
            revision,
            lag,
        }))
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.0
            .requests
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.0
            .latency
            .get_or_create(&LatencyLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn as_gauge(v: Option<u64>) -> i64 {
    v.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX))
}

/// GET /metrics.
#[utoipa::path(get, path = "/metrics", tag = "cairn",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let m = &state.metrics().0;
    let s = state.replica().status();
    m.term.set(as_gauge(Some(s.term)));
    m.leader.set(as_gauge(s.leader).max(0));
    m.is_leader.set(i64::from(s.leader == Some(s.id)));
    m.last_log.set(as_gauge(s.last_log_index));
    m.committed.set(as_gauge(s.committed));
    m.applied.set(as_gauge(s.last_applied));
    m.snapshot.set(as_gauge(s.snapshot_index));
    m.revision
        .set(as_gauge(Some(state.replica().read(|inv| inv.revision()))));
    m.lag.clear();
    for member in s.members.iter().filter(|m| m.id != s.id) {
        if let Some(lag) = member.lag {
            m.lag
                .get_or_create(&FollowerLabels {
                    follower: member.id,
                })
                .set(as_gauge(Some(lag)));
        }
    }
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &m.registry) {
        tracing::error!(error = %e, "cannot encode metrics");
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Middleware: count and time every request by its matched route (not its raw path, which
/// would make one series per xname).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    // Both are cheap clones (a standard method is inline, a matched path is shared), so the
    // request can move on without copying its strings.
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let resp = next.run(req).await;
    state.metrics().observe(
        method.as_str(),
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}
