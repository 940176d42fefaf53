//! What a discovery changed, per BMC: the Redfish endpoints and their component endpoints read
//! before the request and after it, compared.

use std::collections::BTreeMap;

use cairn_protocols::Xname;
use serde::Serialize;
use serde_json::Value;

use crate::client::Client;
use crate::cmd::HSM;
use crate::output::records;

/// SMD's status of a successful crawl.
pub const DISCOVER_OK: &str = "DiscoverOK";

/// One BMC as the inventory holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointState {
    /// `DiscoveryInfo.LastDiscoveryAttempt`.
    pub attempt: Option<String>,
    /// `DiscoveryInfo.LastDiscoveryStatus`.
    pub status: Option<String>,
    /// `DiscoveryInfo.LastDiscoveryDetail`: why the last crawl failed.
    pub detail: Option<String>,
    /// Where it was reached.
    pub address: String,
    /// Nodes behind it (component endpoints of nodes).
    pub nodes: usize,
    /// Everything discovery owns: the endpoint's identity and its component endpoints, as
    /// JSON, to tell an update from a repeat.
    fingerprint: String,
}

/// Every BMC, by xname in natural order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory(pub BTreeMap<Xname, EndpointState>);

impl Inventory {
    /// Read the Redfish and component endpoints.
    pub async fn read(client: &Client) -> anyhow::Result<Inventory> {
        let rfe = client
            .get(&format!("{HSM}/Inventory/RedfishEndpoints"), &[])
            .await?;
        let ce = client
            .get(&format!("{HSM}/Inventory/ComponentEndpoints"), &[])
            .await?;
        Ok(Inventory::from_records(
            &records(&rfe, Some("RedfishEndpoints")),
            &records(&ce, Some("ComponentEndpoints")),
        ))
    }

    /// Build from the two record lists.
    pub fn from_records(endpoints: &[Value], component_endpoints: &[Value]) -> Inventory {
        let mut behind: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
        for ce in component_endpoints {
            if let Some(bmc) = ce["RedfishEndpointID"].as_str() {
                behind.entry(bmc).or_default().push(ce);
            }
        }
        let mut out = BTreeMap::new();
        for ep in endpoints {
            let Some(id) = ep["ID"].as_str() else {
                continue;
            };
            let Ok(x) = Xname::parse(id) else {
                continue;
            };
            let mut ces = behind.remove(id).unwrap_or_default();
            ces.sort_by_key(|c| c["ID"].as_str().and_then(|i| Xname::parse(i).ok()));
            let nodes = ces
                .iter()
                .filter(|c| {
                    c["ID"]
                        .as_str()
                        .and_then(|i| Xname::parse(i).ok())
                        .is_some_and(|i| i.is_node())
                })
                .count();
            let text = |k: &str| ep[k].as_str().unwrap_or("").to_owned();
            let identity = [
                text("FQDN"),
                text("MACAddr"),
                text("IPAddress"),
                text("UUID"),
            ];
            let fingerprint = serde_json::to_string(&(identity, &ces)).unwrap_or_default();
            let info = &ep["DiscoveryInfo"];
            out.insert(
                x,
                EndpointState {
                    attempt: info["LastDiscoveryAttempt"].as_str().map(str::to_owned),
                    status: info["LastDiscoveryStatus"].as_str().map(str::to_owned),
                    detail: info["LastDiscoveryDetail"].as_str().map(str::to_owned),
                    address: text("FQDN"),
                    nodes,
                    fingerprint,
                },
            );
        }
        Inventory(out)
    }

    /// BMCs crawled since `before` was read, or since `requested` (the request's RFC 3339
    /// UTC time).
    pub fn reported_since(&self, before: &Inventory, requested: Option<&str>) -> usize {
        self.0
            .iter()
            .filter(|(x, now)| attempted(before.0.get(*x), now, requested))
            .count()
    }
}

/// Whether a BMC's discovery record shows a crawl after `before` was read. Attempt times have
/// whole seconds (SMD's format), so a crawl in the same second as an earlier one changes
/// nothing visible: an attempt in or after the request's second counts too.
fn attempted(before: Option<&EndpointState>, now: &EndpointState, requested: Option<&str>) -> bool {
    let changed = match before {
        None => now.attempt.is_some() || now.status.is_some(),
        Some(b) => b.attempt != now.attempt || b.status != now.status,
    };
    changed || same_second_or_later(now.attempt.as_deref(), requested)
}

/// `a >= b` for RFC 3339 UTC times (`...Z`), compared to the second.
fn same_second_or_later(a: Option<&str>, b: Option<&str>) -> bool {
    const SECONDS: usize = "2025-01-01T00:00:00".len();
    match (a, b) {
        (Some(a), Some(b)) if a.ends_with('Z') && b.ends_with('Z') => a
            .get(..SECONDS)
            .zip(b.get(..SECONDS))
            .is_some_and(|(a, b)| a >= b),
        _ => false,
    }
}

/// What discovery did to one BMC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Found for the first time.
    New,
    /// Found again, with different systems, MACs or address.
    Changed,
    /// Found again, as it was.
    Unchanged,
    /// The crawl failed (see the status).
    Failed,
    /// Asked for, but not crawled by the time discovery ended.
    NotAttempted,
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Changed => "changed",
            Change::Unchanged => "unchanged",
            Change::Failed => "failed",
            Change::NotAttempted => "not attempted",
        }
    }
}

/// One row of the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The BMC.
    pub xname: String,
    /// What happened.
    pub result: Change,
    /// `LastDiscoveryStatus` after.
    pub status: String,
    /// Why it failed (empty unless it did).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Nodes behind it after.
    pub nodes: usize,
    /// Where it was reached.
    pub address: String,
}

/// The BMCs this discovery touched, and the targets it did not reach.
pub fn compare(
    before: &Inventory,
    after: &Inventory,
    targets: &[Xname],
    requested: Option<&str>,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for (x, now) in &after.0 {
        let old = before.0.get(x);
        let result = if !attempted(old, now, requested) {
            if !targets.contains(x) {
                continue;
            }
            Change::NotAttempted
        } else if now.status.as_deref() != Some(DISCOVER_OK) {
            Change::Failed
        } else {
            match old {
                None => Change::New,
                // An endpoint registered by hand and crawled for the first time is news.
                Some(o) if o.status.as_deref() != Some(DISCOVER_OK) => Change::New,
                Some(o) if o.fingerprint != now.fingerprint => Change::Changed,
                Some(_) => Change::Unchanged,
            }
        };
        rows.push(Row {
            xname: x.to_string(),
            result,
            status: now.status.clone().unwrap_or_default(),
            detail: match result {
                Change::Failed => now.detail.clone().unwrap_or_default(),
                _ => String::new(),
            },
            nodes: now.nodes,
            address: now.address.clone(),
        });
    }
    for t in targets {
        if !after.0.contains_key(t) {
            rows.push(Row {
                xname: t.to_string(),
                result: Change::NotAttempted,
                status: String::new(),
                detail: String::new(),
                nodes: 0,
                address: String::new(),
            });
        }
    }
    rows
}

/// `32 BMCs: 30 new, 1 changed, 0 unchanged, 1 failed (HTTPsGetFailed 1); 62 nodes`.
pub fn totals(rows: &[Row]) -> String {
    let n = |c: Change| rows.iter().filter(|r| r.result == c).count();
    let mut failures: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.result == Change::Failed) {
        *failures.entry(r.status.as_str()).or_default() += 1;
    }
    let mut text = format!(
        "{}: {} new, {} changed, {} unchanged, {} failed",
        crate::progress::count(rows.len(), "BMC", "BMCs"),
        n(Change::New),
        n(Change::Changed),
        n(Change::Unchanged),
        n(Change::Failed)
    );
    if !failures.is_empty() {
        let by: Vec<String> = failures.iter().map(|(s, k)| format!("{s} {k}")).collect();
        text.push_str(&format!(" ({})", by.join(", ")));
    }
    if n(Change::NotAttempted) > 0 {
        text.push_str(&format!(", {} not attempted", n(Change::NotAttempted)));
    }
    let nodes: usize = rows
        .iter()
        .filter(|r| r.result != Change::Failed)
        .map(|r| r.nodes)
        .sum();
    text.push_str(&format!(
        "; {}",
        crate::progress::count(nodes, "node", "nodes")
    ));
    text
}

/// The rows as an aligned table.
pub fn table(rows: &[Row]) -> String {
    let values: Vec<Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({"xname": r.xname, "result": r.result.as_str(), "status": r.status,
                "nodes": r.nodes, "address": r.address, "detail": r.detail})
        })
        .collect();
    crate::output::table(
        &values,
        &[
            crate::output::col("XNAME", "xname"),
            crate::output::col("RESULT", "result"),
            crate::output::col("STATUS", "status"),
            crate::output::col("NODES", "nodes"),
            crate::output::col("ADDRESS", "address"),
            crate::output::col("DETAIL", "detail"),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rfe(id: &str, attempt: &str, status: &str, fqdn: &str) -> Value {
        json!({"ID": id, "FQDN": fqdn, "DiscoveryInfo": {"LastDiscoveryAttempt": attempt, "LastDiscoveryStatus": status}})
    }

    fn ce(id: &str, bmc: &str, mac: &str) -> Value {
        json!({"ID": id, "RedfishEndpointID": bmc, "MACAddr": mac})
    }

    #[test]
    fn attempts_in_the_requested_second_count() {
        let at = |t: &str| EndpointState {
            attempt: Some(t.into()),
            status: Some(DISCOVER_OK.into()),
            detail: None,
            address: String::new(),
            nodes: 0,
            fingerprint: String::new(),
        };
        let (old, now) = (at("2025-01-01T10:00:05Z"), at("2025-01-01T10:00:05Z"));
        assert!(!attempted(Some(&old), &now, None));
        assert!(attempted(
            Some(&old),
            &now,
            Some("2025-01-01T10:00:05.250Z")
        ));
        assert!(!attempted(
            Some(&old),
            &now,
            Some("2025-01-01T10:00:06.001Z")
        ));
    }

    #[test]
    fn every_kind_of_change() {
        let before = Inventory::from_records(
            &[
                rfe("x1000c0s1b0", "t1", DISCOVER_OK, "10.0.0.1"),
                rfe("x1000c0s2b0", "t1", DISCOVER_OK, "10.0.0.2"),
                rfe("x1000c0s3b0", "t1", DISCOVER_OK, "10.0.0.3"),
                rfe("x1000c0s4b0", "t1", DISCOVER_OK, "10.0.0.4"),
                json!({"ID": "x1000c0s6b0", "FQDN": "10.0.0.6"}),
            ],
            &[
                ce("x1000c0s1b0n0", "x1000c0s1b0", "02:00:00:00:01:00"),
                ce("x1000c0s2b0n0", "x1000c0s2b0", "02:00:00:00:02:00"),
            ],
        );
        let after = Inventory::from_records(
            &[
                rfe("x1000c0s1b0", "t2", DISCOVER_OK, "10.0.0.1"),
                rfe("x1000c0s2b0", "t2", DISCOVER_OK, "10.0.0.2"),
                json!({"ID": "x1000c0s3b0", "FQDN": "10.0.0.3", "DiscoveryInfo": {
                    "LastDiscoveryAttempt": "t2", "LastDiscoveryStatus": "HTTPsGetFailed",
                    "LastDiscoveryDetail": "GET /redfish/v1/Systems: 401 Unauthorized"}}),
                rfe("x1000c0s4b0", "t1", DISCOVER_OK, "10.0.0.4"),
                rfe("x1000c0s5b0", "t2", DISCOVER_OK, "10.0.0.5"),
                rfe("x1000c0s6b0", "t2", DISCOVER_OK, "10.0.0.6"),
            ],
            &[
                ce("x1000c0s1b0n0", "x1000c0s1b0", "02:00:00:00:01:00"),
                ce("x1000c0s2b0n0", "x1000c0s2b0", "02:00:00:00:02:99"),
                ce("x1000c0s2b0n1", "x1000c0s2b0", "02:00:00:00:02:01"),
                ce("x1000c0s2b0", "x1000c0s2b0", "02:00:00:00:02:ff"),
                ce("x1000c0s5b0n0", "x1000c0s5b0", "02:00:00:00:05:00"),
            ],
        );
        assert_eq!(after.reported_since(&before, None), 5);
        // x1000c0s4b0 was crawled again within the second of its last attempt.
        assert_eq!(
            after.reported_since(&before, Some("t1")),
            5,
            "not RFC 3339: ignored"
        );
        let targets: Vec<Xname> = ["x1000c0s4b0", "x1000c0s9b0"]
            .iter()
            .map(|x| Xname::parse(x).expect("xname"))
            .collect();
        let rows = compare(&before, &after, &targets, None);
        let got: Vec<(&str, Change, usize)> = rows
            .iter()
            .map(|r| (r.xname.as_str(), r.result, r.nodes))
            .collect();
        assert_eq!(
            got,
            [
                ("x1000c0s1b0", Change::Unchanged, 1),
                ("x1000c0s2b0", Change::Changed, 2),
                ("x1000c0s3b0", Change::Failed, 0),
                ("x1000c0s4b0", Change::NotAttempted, 0),
                ("x1000c0s5b0", Change::New, 1),
                ("x1000c0s6b0", Change::New, 0),
                ("x1000c0s9b0", Change::NotAttempted, 0),
            ]
        );
        assert_eq!(
            totals(&rows),
            "7 BMCs: 2 new, 1 changed, 1 unchanged, 1 failed (HTTPsGetFailed 1), 2 not \
             attempted; 4 nodes"
        );
        assert_eq!(rows[2].detail, "GET /redfish/v1/Systems: 401 Unauthorized");
        assert!(rows.iter().filter(|r| r.detail.is_empty()).count() == rows.len() - 1);
        let t = table(&rows);
        assert!(
            t.contains("HTTPsGetFailed") && t.contains("not attempted") && t.contains("401"),
            "{t}"
        );
    }
}
