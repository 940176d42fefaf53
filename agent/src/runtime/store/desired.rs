//! The `desired` tree: the rack's desired state as the coordinators last sent it, so the
//! agent serves boots from it after a restart while cut off. Records are kept as their wire
//! encoding (`Work` messages), under `n/<xname>` for nodes and `s/<key>` for shared records;
//! `meta` holds the revision they are current to and the scope they were fetched for.
//!
//! A batch is written in one transaction and flushed before the revision it brings is
//! counted as held: a crash leaves the state of the batch before or after, never a mix, and
//! never a revision ahead of the records.

use cairn_protocols::agent::WorkItem;
use cairn_protocols::desired::{DesiredItem, DesiredMark};
use cairn_protocols::pb::agent as pb;
use prost::Message;
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::{Store, StoreError, io, read_u64, tx_error};

/// `meta` key: the desired-state revision held.
const DESIRED_REVISION: &str = "desired_revision";
/// `meta` key: the scope the desired state was fetched for.
const DESIRED_SCOPE: &str = "desired_scope";

/// What [`Store::load_desired`] read.
#[derive(Debug, Default)]
pub struct DesiredLoad {
    /// The revision the records are current to (0: none held).
    pub revision: u64,
    /// Every record.
    pub items: Vec<DesiredItem>,
    /// Records that did not decode (dropped; the next full state brings them back).
    pub unreadable: usize,
}

fn key(item: &DesiredItem) -> String {
    match item {
        DesiredItem::Node(n) => format!("n/{}", n.xname),
        DesiredItem::NodeRemoved(x) => format!("n/{x}"),
        DesiredItem::Shared(r) => format!("s/{}", r.key()),
    }
}

impl Store {
    /// The desired-state revision held for `scope` (0 when none, or held for another scope:
    /// then the coordinators must send all of it again).
    pub fn desired_revision(&self, scope: &str) -> Result<u64, StoreError> {
        let held = self.meta.get(DESIRED_SCOPE).map_err(io("meta read"))?;
        if held.as_deref() != Some(scope.as_bytes()) {
            return Ok(0);
        }
        let raw = self.meta.get(DESIRED_REVISION).map_err(io("meta read"))?;
        Ok(read_u64(raw.as_deref()))
    }

    /// Writes one Watch message's desired-state items and its mark durably (see the module
    /// docs): all of the state when `mark.full`, else the records it names; the shared
    /// records it does not list are dropped when `mark.shared_replaced`.
    pub async fn apply_desired(
        &self,
        items: &[DesiredItem],
        mark: DesiredMark,
        scope: &str,
    ) -> Result<(), StoreError> {
        let mut stale: Vec<sled::IVec> = Vec::new();
        if mark.full || mark.shared_replaced {
            let prefix: &[u8] = if mark.full { b"" } else { b"s/" };
            for k in self.desired.scan_prefix(prefix).keys() {
                stale.push(k.map_err(io("desired read"))?);
            }
        }
        let writes: Vec<(String, Option<Vec<u8>>)> = items
            .iter()
            .map(|item| {
                let value = match item {
                    DesiredItem::NodeRemoved(_) => None,
                    other => Some(pb::Work::from(WorkItem::Desired(other.clone())).encode_to_vec()),
                };
                (key(item), value)
            })
            .collect();
        let result = (&self.desired, &self.meta).transaction(|(desired, meta)| {
            for k in &stale {
                desired.remove(k)?;
            }
            for (k, v) in &writes {
                match v {
                    Some(v) => desired.insert(k.as_bytes(), v.as_slice())?,
                    None => desired.remove(k.as_bytes())?,
                };
            }
            meta.insert(DESIRED_REVISION, &mark.revision.to_be_bytes())?;
            meta.insert(DESIRED_SCOPE, scope.as_bytes())?;
            Ok::<_, ConflictableTransactionError<()>>(())
        });
        result.map_err(tx_error("desired write"))?;
        self.db.flush_async().await.map_err(io("flush"))?;
        Ok(())
    }

    /// Every desired record held, for `scope` (nothing when held for another scope).
    pub fn load_desired(&self, scope: &str) -> Result<DesiredLoad, StoreError> {
        let revision = self.desired_revision(scope)?;
        let mut load = DesiredLoad {
            revision,
            ..DesiredLoad::default()
        };
        if revision == 0 {
            return Ok(load);
        }
        for entry in self.desired.iter() {
            let (k, v) = entry.map_err(io("desired read"))?;
            match pb::Work::decode(v.as_ref()).map(WorkItem::try_from) {
                Ok(Ok(WorkItem::Desired(item))) => load.items.push(item),
                _ => {
                    tracing::warn!(key = %String::from_utf8_lossy(&k), "dropping an unreadable desired record");
                    load.unreadable += 1;
                }
            }
        }
        Ok(load)
    }

    /// A tree of the agent's database for a boot service's own records (`leases`,
    /// `images`): they live and are flushed with the rest of the agent's state.
    pub fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        self.db
            .open_tree(format!("boot/{name}"))
            .map_err(io("open tree"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocols::Xname;
    use cairn_protocols::desired::{DesiredNode, SharedRecord};

    fn node(x: &str) -> DesiredItem {
        DesiredItem::Node(Box::new(DesiredNode {
            xname: Xname::parse(x).unwrap(),
            nid: None,
            role: None,
            sub_role: None,
            arch: None,
            enabled: true,
            interfaces: Vec::new(),
            groups: Vec::new(),
            boot_entry: None,
            instance_info: None,
        }))
    }

    fn mark(revision: u64, full: bool, shared_replaced: bool) -> DesiredMark {
        DesiredMark {
            revision,
            full,
            shared_replaced,
        }
    }

    fn names(load: &DesiredLoad) -> Vec<String> {
        let mut v: Vec<String> = load.items.iter().map(key).collect();
        v.sort();
        v
    }

    #[tokio::test]
    async fn desired_state_survives_a_reopen_and_follows_its_marks() {
        let dir = tempfile::tempdir().unwrap();
        let defaults = DesiredItem::Shared(SharedRecord::ClusterDefaults(Default::default()));
        {
            let s = Store::open(dir.path()).await.unwrap();
            assert_eq!(s.desired_revision("x1").unwrap(), 0);
            let first = [node("x1c0s0b0n0"), node("x1c0s0b0n1"), defaults.clone()];
            s.apply_desired(&first, mark(10, true, true), "x1")
                .await
                .unwrap();
            let change = [DesiredItem::NodeRemoved(
                Xname::parse("x1c0s0b0n1").unwrap(),
            )];
            s.apply_desired(&change, mark(12, false, false), "x1")
                .await
                .unwrap();
        }
        let s = Store::open(dir.path()).await.unwrap();
        let load = s.load_desired("x1").unwrap();
        assert_eq!(load.revision, 12);
        assert_eq!(names(&load), ["n/x1c0s0b0n0", "s/d"]);
        // Shared records replaced: the defaults are not listed, so they go.
        s.apply_desired(&[], mark(13, false, true), "x1")
            .await
            .unwrap();
        assert_eq!(names(&s.load_desired("x1").unwrap()), ["n/x1c0s0b0n0"]);
        // A full state replaces everything.
        s.apply_desired(&[node("x1c0s0b0n2")], mark(20, true, true), "x1")
            .await
            .unwrap();
        assert_eq!(names(&s.load_desired("x1").unwrap()), ["n/x1c0s0b0n2"]);
        // Held for another scope: nothing.
        assert_eq!(s.desired_revision("x1,x2").unwrap(), 0);
        assert!(s.load_desired("x1,x2").unwrap().items.is_empty());
    }
}
