//! Membership changes: add a voter, a learner, remove them.

use std::time::Duration;

use cairn_raft::{MemberRole, WriteError};

use super::common::{Cluster, node, set, wait_for};

#[tokio::test]
async fn add_and_remove_members() -> anyhow::Result<()> {
    let mut c = Cluster::start(3, |_| {}).await?;
    for i in 0..5 {
        c.write(&set(format!("k{i}"), "v")).await?;
    }
    c.start_replica(4, |_| {}).await?;
    c.start_replica(5, |_| {}).await?;
    assert!(!c.get(4).is_initialized().await?);

    let leader = c.wait_leader(Some(&[1, 2, 3])).await?;
    let l = c.get(leader).clone();
    l.add_voter(4, node(4)).await?;
    let role = |id: u64| {
        l.status()
            .members
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.role)
    };
    assert_eq!(role(4), Some(MemberRole::Follower));
    c.wait_applied(4, 5).await?;
    assert!(c.get(4).is_initialized().await?);

    l.add_learner(5, node(5)).await?;
    assert_eq!(role(5), Some(MemberRole::Learner));
    c.wait_applied(5, 5).await?;
    // A learner refuses writes like a follower.
    assert!(matches!(
        c.get(5).write(&set("x", "y")).await,
        Err(WriteError::ForwardToLeader {
            leader_id: Some(_),
            ..
        })
    ));

    l.remove_member(4).await?;
    l.remove_member(5).await?;
    wait_for("membership without 4 and 5", Duration::from_secs(5), || {
        let ids: Vec<u64> = l.status().members.iter().map(|m| m.id).collect();
        async move { (ids == vec![1, 2, 3]).then_some(()) }
    })
    .await?;
    assert!(matches!(
        l.remove_member(99).await,
        Err(WriteError::Membership(_))
    ));

    // The cluster still works.
    c.write(&set("after", "removal")).await?;
    for r in c.replicas.values() {
        r.shutdown().await?;
    }
    Ok(())
}
