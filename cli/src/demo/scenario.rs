//! The demo, step by step: start, load, kill the leader, measure failover, verify, restart.

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::json;

use super::DemoArgs;
use super::boot;
use super::racks;
use super::sample;
use super::snapshot::Snapshot;
use crate::client::Client;
use crate::cmd::HSM;
use crate::local_cluster::{LocalCluster, wait_for};

const REPLICAS: u64 = 3;
const PROBE_GROUP: &str = "failover-probe";

/// Run `fut`, then print `✔ title (time)`, or `✘ title` and the error.
pub(super) async fn step<T>(
    title: &str,
    fut: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let start = Instant::now();
    match fut.await {
        Ok(v) => {
            println!("✔ {title} ({})", ms(start.elapsed()));
            Ok(v)
        }
        Err(e) => {
            println!("✘ {title}");
            Err(e.context(format!("demo step failed: {title}")))
        }
    }
}

fn ms(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Run the scenario with replicas under `dir`; children are stopped before returning.
pub async fn run(dir: &Path, args: &DemoArgs) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the cairn executable")?;
    println!(
        "Cairn demo: {REPLICAS} coordinator replicas on 127.0.0.1, data under {}",
        dir.display()
    );
    let mut cluster = step(
        &format!("started {REPLICAS} replicas (node 1 bootstraps, the others join it)"),
        LocalCluster::start(&exe, dir, REPLICAS, Duration::from_secs(30)),
    )
    .await?;
    let result = scenario(&mut cluster, args).await;
    cluster.stop().await;
    result
}

async fn scenario(cluster: &mut LocalCluster, args: &DemoArgs) -> anyhow::Result<()> {
    let status = step(
        "cluster formed with 3 voters",
        cluster.wait_for_voters(REPLICAS as usize),
    )
    .await?;
    let leader = status.leader.context("no leader")?;
    println!("  leader: node {leader}, term {}", status.term);

    let client = cluster.client(leader)?;
    let sample = sample::build();
    step(
        "loaded the sample inventory through the REST API",
        sample::load(&client, &sample),
    )
    .await?;
    step(
        "assigned boot parameters (Default, Compute) and cloud-init data (defaults, groups compute and rack-x1000)",
        boot::load(&client),
    )
    .await?;
    let node_boot = step(
        &format!(
            "node {} boots: its iPXE script by MAC, its cloud-init data from its own address {}",
            boot::NODE,
            boot::NODE_LOOPBACK
        ),
        async {
            let b = boot::fetch(&client).await?;
            b.check()?;
            Ok(b)
        },
    )
    .await?;
    boot::print_block(
        &format!("GET /boot/v1/bootscript?mac={}", boot::NODE_MAC),
        &node_boot.script,
    );
    boot::print_block("GET /cloud-init/meta-data", &node_boot.meta_data);
    boot::print_block("GET /cloud-init/user-data", &node_boot.user_data);
    boot::print_block("GET /cloud-init/vendor-data", &node_boot.vendor_data);
    let before = Snapshot::read(&client, &[]).await?;
    println!(
        "  {} cabinets × {} nodes: {}",
        sample::CABINETS.len(),
        sample::SLOTS * sample::NODES_PER_BMC,
        before.summary()
    );

    let leader = cluster.leader().await?;
    let pid = cluster.replica(leader)?.pid().unwrap_or_default();
    step(
        &format!("killed the leader, node {leader} (pid {pid}), with SIGKILL"),
        cluster.kill(leader),
    )
    .await?;
    let killed_at = Instant::now();

    let (took, via) = failover(cluster, killed_at).await?;
    let new_leader = cluster.leader().await?;
    println!(
        "✔ writes accepted again {} after the kill (through node {via}); new leader: node {new_leader}",
        ms(took)
    );

    let survivor = cluster.client(new_leader)?;
    let after = step(
        &format!("every record intact on node {new_leader}"),
        async {
            let after = Snapshot::read(&survivor, &[PROBE_GROUP]).await?;
            before.expect_same(&after)?;
            Ok(after)
        },
    )
    .await?;
    println!("  {}", after.summary());

    restart(cluster, leader, &before).await?;

    // Kept until the scenario ends: dropping it stops the agents and the simulated BMCs.
    let _racks = racks::run(cluster, &cluster.client(new_leader)?, &sample).await?;

    let url = cluster.api_url(new_leader)?;
    println!();
    println!("The cluster's API: {url} (any replica answers; writes are forwarded to the leader)");
    println!("Try, in another terminal:");
    println!("  cairn --api {url} components list --type Node");
    println!("  cairn --api {url} cluster status");
    println!("  cairn --api {url} groups members rack-x1001");
    println!("  cairn --api {url} agents");
    println!("  cairn --api {url} boots");
    println!("  cairn --api {url} power status x1001");
    println!("  cairn --api {url} power off x1000c0s[0-3]b0n[0-1]");
    println!("  cairn --api {url} discover --force");
    println!("  cairn --api {url} boot params get");
    println!("  cairn --api {url} boot script {}", boot::NODE);
    println!("  cairn --api {url} cloud-init groups get compute -o yaml");
    if args.once {
        return Ok(());
    }
    println!("Press Ctrl-C to stop the replicas and remove their data.");
    // SIGTERM too (`kill`, `timeout`, a service manager): the data is removed either way.
    cairn_coordinator::telemetry::shutdown_signal().await;
    println!();
    println!("stopping the replicas");
    Ok(())
}

/// Write until a surviving replica accepts; return how long it took from the kill.
async fn failover(cluster: &LocalCluster, killed_at: Instant) -> anyhow::Result<(Duration, u64)> {
    let survivors: Vec<(u64, Client)> = cluster
        .running()
        .into_iter()
        .map(|id| {
            Ok((
                id,
                Client::with_timeout(&cluster.api_url(id)?, false, Duration::from_secs(2))?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let body = json!({"label": PROBE_GROUP, "description": "written while the old leader was dead",
        "members": {"ids": []}});
    let path = format!("{HSM}/groups");
    let mut turn = 0;
    wait_for(
        Duration::from_secs(30),
        "a replica to accept a write",
        || {
            let (id, client) = &survivors[turn % survivors.len()];
            turn += 1;
            let (body, path) = (&body, &path);
            async move {
                match client.post(path, body).await {
                    // 409: an earlier attempt was committed although its answer was lost.
                    Ok(_) => Ok(Some((killed_at.elapsed(), *id))),
                    Err(e) if e.status() == Some(409) => Ok(Some((killed_at.elapsed(), *id))),
                    Err(e) => Err(e.into()),
                }
            }
        },
    )
    .await
}

/// Restart the killed replica on its old ports and show it catch up.
async fn restart(cluster: &mut LocalCluster, id: u64, before: &Snapshot) -> anyhow::Result<()> {
    step(
        &format!("restarted node {id} from its data dir on the same ports"),
        cluster.restart(id),
    )
    .await?;
    let status = step(
        &format!("node {id} rejoined and caught up"),
        cluster.wait_caught_up(id),
    )
    .await?;
    let matched = status
        .members
        .iter()
        .find(|m| m.id == id)
        .and_then(|m| m.matched_index);
    println!(
        "  matched index {} of the leader's log (leader: node {})",
        matched.map_or("-".to_owned(), |m| m.to_string()),
        status.leader.unwrap_or_default()
    );
    let local = Client::new(&cluster.api_url(id)?, true)?;
    let title = format!("node {id} serves the same inventory from its own state (?stale=true)");
    let components = step(
        &title,
        wait_for(
            Duration::from_secs(10),
            "the restarted replica to apply everything",
            || {
                let local = &local;
                async move {
                    let snap = Snapshot::read(local, &[PROBE_GROUP]).await?;
                    before.expect_same(&snap)?;
                    Ok(Some(snap.count("components")))
                }
            },
        ),
    )
    .await?;
    println!("  {components} components, identical to before the kill");
    Ok(())
}
