//! Everything the demo loaded, read back and compared record by record.

use anyhow::bail;
use serde_json::Value;

use crate::client::Client;
use crate::output::records;

/// One read of every collection, each sorted by its key.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `(name, records)` per collection.
    pub collections: Vec<(&'static str, Vec<Value>)>,
}

/// `(name, path, key of the wrapped list, key to sort by)`. A `*` list key means the answer is
/// a map of records by name (cloud-init's groups).
const COLLECTIONS: [(&str, &str, Option<&str>, &str); 7] = [
    (
        "components",
        "/hsm/v2/State/Components",
        Some("Components"),
        "ID",
    ),
    (
        "Ethernet interfaces",
        "/hsm/v2/Inventory/EthernetInterfaces",
        None,
        "ID",
    ),
    (
        "Redfish endpoints",
        "/hsm/v2/Inventory/RedfishEndpoints",
        Some("RedfishEndpoints"),
        "ID",
    ),
    ("groups", "/hsm/v2/groups", None, "label"),
    ("partitions", "/hsm/v2/partitions", None, "name"),
    // Answered in key order, which sorting by the (array) key leaves as is.
    ("boot parameters", "/boot/v1/bootparameters", None, "hosts"),
    (
        "cloud-init groups",
        "/cloud-init/admin/groups",
        Some("*"),
        "name",
    ),
];

impl Snapshot {
    /// Read every collection from one replica, leaving out groups named in `skip_groups`.
    pub async fn read(client: &Client, skip_groups: &[&str]) -> anyhow::Result<Self> {
        let mut collections = Vec::new();
        for (name, path, list_key, key) in COLLECTIONS {
            let v = client.get(path, &[]).await?;
            let mut items = match (list_key, v) {
                (Some("*"), Value::Object(by_name)) => {
                    by_name.into_iter().map(|(_, r)| r).collect()
                }
                (_, v) => records(&v, list_key),
            };
            items.retain(|r| !(key == "label" && skip_groups.iter().any(|g| r[key] == *g)));
            items.sort_by(|a, b| a[key].as_str().cmp(&b[key].as_str()));
            collections.push((name, items));
        }
        Ok(Self { collections })
    }

    /// "96 components, 96 Ethernet interfaces, ..."
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .collections
            .iter()
            .map(|(n, r)| format!("{} {n}", r.len()))
            .collect();
        parts.join(", ")
    }

    /// The number of records in one collection.
    pub fn count(&self, name: &str) -> usize {
        self.collections
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, r)| r.len())
    }

    /// Fail naming the first collection and record that differ.
    pub fn expect_same(&self, after: &Snapshot) -> anyhow::Result<()> {
        for ((name, before), (_, now)) in self.collections.iter().zip(&after.collections) {
            if before.len() != now.len() {
                bail!("{name}: {} before, {} after", before.len(), now.len());
            }
            if let Some((b, a)) = before.iter().zip(now).find(|(b, a)| b != a) {
                bail!("{name} differ:\nbefore: {b}\nafter:  {a}");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_are_named() {
        let a = Snapshot {
            collections: vec![("components", vec![json!({"ID": "x1", "State": "On"})])],
        };
        let mut b = a.clone();
        a.expect_same(&b).expect("same");
        b.collections[0].1[0]["State"] = json!("Off");
        let err = a.expect_same(&b).expect_err("differs").to_string();
        assert!(
            err.contains("components differ") && err.contains("Off"),
            "{err}"
        );
        b.collections[0].1.clear();
        assert!(
            a.expect_same(&b)
                .expect_err("differs")
                .to_string()
                .contains("1 before, 0 after")
        );
    }
}
