//! Property tests: the in-memory and sled log stores behave like a simple model.

use openraft::storage::{RaftLogStorage, RaftLogStorageExt};
use openraft::{CommittedLeaderId, EntryPayload, RaftLogReader};
use proptest::prelude::*;

use crate::mem_store::MemLogStore;
use crate::sled_store;
use crate::typ::{AppRequest, Entry, LogId, LogState};

#[derive(Clone, Debug)]
enum Op {
    /// Append this many entries with this term.
    Append(u8, u64),
    /// Truncate at (a fraction of) the live range.
    Truncate(u8),
    /// Purge up to (a fraction of) the live range.
    Purge(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u8..8, 1u64..4).prop_map(|(n, t)| Op::Append(n, t)),
        1 => any::<u8>().prop_map(Op::Truncate),
        1 => any::<u8>().prop_map(Op::Purge),
    ]
}

fn log_id(term: u64, index: u64) -> LogId {
    LogId::new(CommittedLeaderId::new(term, 1), index)
}

/// The model: live entries `(index, term)` and the purge point.
#[derive(Default)]
struct Model {
    entries: Vec<(u64, u64)>,
    purged: Option<(u64, u64)>,
    term: u64,
}

impl Model {
    fn next_index(&self) -> u64 {
        self.entries
            .last()
            .map(|e| e.0 + 1)
            .or(self.purged.map(|p| p.0 + 1))
            .unwrap_or(0)
    }
    fn pick(&self, f: u8) -> Option<(u64, u64)> {
        if self.entries.is_empty() {
            return None;
        }
        Some(self.entries[f as usize % self.entries.len()])
    }
    fn state(&self) -> LogState {
        let purged = self.purged.map(|(i, t)| log_id(t, i));
        LogState {
            last_purged_log_id: purged,
            last_log_id: self.entries.last().map(|(i, t)| log_id(*t, *i)).or(purged),
        }
    }
}

async fn run<L: RaftLogStorage<crate::TypeConfig>>(
    store: &mut L,
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let mut m = Model::default();
    for op in ops {
        match op {
            Op::Append(n, t) => {
                m.term = m.term.max(*t);
                let start = m.next_index();
                let batch: Vec<Entry> = (start..start + u64::from(*n))
                    .map(|i| Entry {
                        log_id: log_id(m.term, i),
                        payload: EntryPayload::Normal(AppRequest(vec![
                            serde_bytes::ByteBuf::from(i.to_le_bytes().to_vec()),
                        ])),
                    })
                    .collect();
                store
                    .blocking_append(batch)
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                m.entries
                    .extend((start..start + u64::from(*n)).map(|i| (i, m.term)));
            }
            Op::Truncate(f) => {
                if let Some((i, t)) = m.pick(*f) {
                    store
                        .truncate(log_id(t, i))
                        .await
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    m.entries.retain(|e| e.0 < i);
                }
            }
            Op::Purge(f) => {
                if let Some((i, t)) = m.pick(*f) {
                    store
                        .purge(log_id(t, i))
                        .await
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    m.entries.retain(|e| e.0 > i);
                    m.purged = Some((i, t));
                }
            }
        }
        let state = store
            .get_log_state()
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&state, &m.state());
        let mut reader = store.get_log_reader().await;
        let got: Vec<(u64, u64)> = reader
            .try_get_log_entries(..)
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .iter()
            .map(|e| (e.log_id.index, e.log_id.leader_id.term))
            .collect();
        prop_assert_eq!(&got, &m.entries);
        if let (Some(first), Some(last)) = (m.entries.first(), m.entries.last()) {
            let mid = (first.0 + last.0) / 2;
            let part = reader
                .try_get_log_entries(mid..=last.0)
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(part.len() as u64, last.0 - mid + 1);
        }
    }
    Ok(())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("test runtime")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn mem_store_matches_model(ops in proptest::collection::vec(op(), 1..40)) {
        rt().block_on(async { run(&mut MemLogStore::default(), &ops).await })?;
    }

    #[test]
    fn sled_store_matches_model(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt().block_on(async {
            let (mut log, _snap, _handle) = sled_store::open(dir.path())
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            run(&mut log, &ops).await
        })?;
    }
}

#[tokio::test]
async fn sled_vote_and_committed_survive_reopen() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    {
        let (mut log, _snap, _h) = sled_store::open(dir.path()).await?;
        log.save_vote(&openraft::Vote::new(3, 2)).await?;
        log.save_committed(Some(log_id(3, 7))).await?;
        log.blocking_append(vec![Entry {
            log_id: log_id(3, 0),
            payload: EntryPayload::Blank,
        }])
        .await?;
    }
    let (mut log, _snap, _h) = sled_store::open(dir.path()).await?;
    assert_eq!(log.read_vote().await?, Some(openraft::Vote::new(3, 2)));
    assert_eq!(log.read_committed().await?, Some(log_id(3, 7)));
    assert_eq!(log.get_log_state().await?.last_log_id, Some(log_id(3, 0)));
    Ok(())
}
