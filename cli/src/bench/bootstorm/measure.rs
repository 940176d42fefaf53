//! The benchmark's course: the cluster and the nodes, the agent, then per run the three
//! storms with the CPU time and counters around each, and nginx started before its first.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use cairn_sim::node::{BootTarget, NodeSpec};

use super::super::boot::{cpu, find_binary, nginx::Nginx};
use super::super::proc_stat;
use super::storm::{self, Node, Pace, Record, Work};
use super::{BootstormArgs, Measured, Run, reference, setup};
use crate::local_agent::LocalAgent;
use crate::local_cluster::LocalCluster;

/// Set everything up and run the storms; the processes started go into the slots, for the
/// caller to stop whatever happens.
pub(super) async fn measure(
    args: &BootstormArgs,
    dir: &Path,
    exe: &Path,
    cluster_slot: &mut Option<LocalCluster>,
    agent_slot: &mut Option<LocalAgent>,
    nginx_slot: &mut Option<Nginx>,
) -> anyhow::Result<Measured> {
    let nginx_bin = match args.nginx.as_str() {
        "off" => Err("--nginx off".to_owned()),
        flag => find_binary(flag, "nginx", &["/usr/sbin/nginx"]).map_err(|e| e.to_string()),
    };
    if let Err(why) = &nginx_bin {
        eprintln!("nginx: not compared ({why})");
    }
    eprintln!("cairn: starting {} replica(s)", args.replicas);
    let cluster = cluster_slot.insert(
        LocalCluster::start(
            exe,
            &dir.join("cluster"),
            args.replicas,
            Duration::from_secs(60),
        )
        .await?,
    );
    cluster.wait_for_voters(args.replicas as usize).await?;
    let api = cluster.api_url(cluster.leader().await?)?;
    eprintln!("cairn: loading {} nodes", args.nodes);
    let started = std::time::Instant::now();
    setup::load(&api, args.nodes).await?;
    let load_seconds = started.elapsed().as_secs_f64();
    eprintln!("  loaded in {load_seconds:.1} s; starting the agent");

    let addrs = setup::AgentAddrs::pick()?;
    let started = std::time::Instant::now();
    let agent = agent_slot.insert(setup::spawn_agent(
        exe,
        &dir.join("agent"),
        cluster,
        &addrs,
    )?);
    setup::wait_desired(agent, addrs.api, args.nodes, Duration::from_secs(300)).await?;
    let agent_sync_seconds = started.elapsed().as_secs_f64();
    let pid = agent.pid().context("the agent is not running")?;
    eprintln!(
        "  the agent holds every node after {agent_sync_seconds:.1} s (DHCP {}, HTTP {})",
        addrs.dhcp, addrs.http
    );

    let nodes: Vec<Node> = (0..args.nodes)
        .map(|i| Node {
            spec: NodeSpec::new(setup::mac(i)),
            ip: setup::ip(i),
        })
        .collect();
    let full = Work::Boot(
        BootTarget::new(addrs.dhcp, setup::RELAY_IP)
            .with_http(addrs.http)
            .with_retry(args.dhcp_retry),
    );
    let own = std::process::id();
    let drain = Duration::from_secs(300);
    let mut runs = Vec::new();
    let mut nginx_addr = None;
    for i in 1..=args.runs {
        setup::wait_drained(addrs.api, drain).await?;
        let before = proc_stat::sample(pid)?.cpu;
        let counters_before = setup::agent_status(addrs.api).await?;
        let boot = storm_of(&nodes, &full, args.pace(), own, || {
            proc_stat::sample(pid).map(|s| s.cpu).ok()
        })
        .await;
        let dhcp_counters = counter_deltas(
            &counters_before["boot"]["dhcp"],
            &setup::agent_status(addrs.api).await?["boot"]["dhcp"],
        );
        eprintln!("run {i}: whole boot: {}", boot.brief());
        eprintln!("  DHCP counters: {dhcp_counters:?}");
        agent_slot
            .as_mut()
            .context("the agent is gone")?
            .check_running()?;
        setup::wait_drained(addrs.api, drain).await?;
        let until_drained = proc_stat::sample(pid)?.cpu.saturating_sub(before);

        let cairn_http = storm_of(&nodes, &Work::Http(addrs.http), args.pace(), own, || {
            proc_stat::sample(pid).map(|s| s.cpu).ok()
        })
        .await;
        eprintln!("run {i}: HTTP part, agent: {}", cairn_http.brief());
        setup::wait_drained(addrs.api, drain).await?;

        let nginx_http = match &nginx_bin {
            Ok(bin) => {
                let addr = match nginx_addr {
                    Some(a) => a,
                    None => {
                        let a = start_nginx(args, dir, bin, addrs.http, &nodes, nginx_slot).await?;
                        *nginx_addr.insert(a)
                    }
                };
                let group = nginx_slot.as_ref().and_then(Nginx::pid);
                let r = storm_of(&nodes, &Work::Http(addr), args.pace(), own, || {
                    group.map(|g| Duration::from_millis(cpu::ms(cpu::ticks(g, true)) as u64))
                })
                .await;
                eprintln!("run {i}: HTTP part, nginx: {}", r.brief());
                Some(r)
            }
            Err(_) => None,
        };
        runs.push(Run {
            boot,
            agent_cpu_until_drained_seconds: until_drained.as_secs_f64(),
            dhcp_counters,
            cairn_http,
            nginx_http,
        });
    }
    let last = proc_stat::sample(pid)?;
    let nginx_version = match &nginx_bin {
        Ok(bin) => super::super::boot::nginx::version(bin).await,
        Err(_) => None,
    };
    Ok(Measured {
        load_seconds,
        agent_sync_seconds,
        runs,
        agent_rss_bytes: last.rss,
        agent_peak_rss_bytes: last.peak_rss,
        nginx_skipped: nginx_bin.err(),
        nginx_version,
    })
}

/// How much each counter of `after` (a JSON object of numbers) moved since `before`.
fn counter_deltas(before: &serde_json::Value, after: &serde_json::Value) -> BTreeMap<String, u64> {
    let Some(after) = after.as_object() else {
        return BTreeMap::new();
    };
    after
        .iter()
        .filter_map(|(k, v)| {
            let was = before[k].as_u64().unwrap_or(0);
            Some((k.clone(), v.as_u64()?.saturating_sub(was)))
        })
        .collect()
}

/// One storm with the server's CPU time (from `server_cpu`) and this process's around it.
async fn storm_of(
    nodes: &[Node],
    work: &Work,
    pace: Pace,
    own: u32,
    server_cpu: impl Fn() -> Option<Duration>,
) -> Record {
    let own_cpu = || proc_stat::cpu_of(&[own]);
    let (server_before, own_before) = (server_cpu(), own_cpu());
    let storm = storm::run(nodes, work, pace).await;
    let server = server_cpu()
        .zip(server_before)
        .map(|(after, before)| after.saturating_sub(before));
    Record::new(&storm, server, own_cpu().saturating_sub(own_before))
}

/// Write the agent's answers as nginx's files, start nginx and check it answers the same.
async fn start_nginx(
    args: &BootstormArgs,
    dir: &Path,
    bin: &Path,
    agent_http: std::net::SocketAddr,
    nodes: &[Node],
    slot: &mut Option<Nginx>,
) -> anyhow::Result<std::net::SocketAddr> {
    let www = dir.join("nginx").join("www");
    eprintln!(
        "nginx: writing every node's script and cloud-init documents as the agent serves them"
    );
    reference::write_files(agent_http, nodes, &www).await?;
    let workers = args
        .nginx_workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZero::get));
    let server = slot.insert(
        Nginx::start_with(
            bin,
            &dir.join("nginx"),
            &www,
            workers,
            reference::BACKLOG,
            &reference::locations(),
        )
        .await?,
    );
    let addr: std::net::SocketAddr = server
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .context("nginx's address")?;
    reference::same_answers(agent_http, addr, nodes)
        .await
        .with_context(|| format!("nginx's error log: {}", server.error_log().trim()))?;
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_move() {
        let before = serde_json::json!({"received": 10, "acks": 4});
        let after = serde_json::json!({"received": 30, "acks": 9, "naks": 1, "x": "y"});
        assert_eq!(
            counter_deltas(&before, &after),
            BTreeMap::from([
                ("acks".to_owned(), 5),
                ("naks".to_owned(), 1),
                ("received".to_owned(), 20)
            ])
        );
        assert!(counter_deltas(&before, &serde_json::Value::Null).is_empty());
    }
}
