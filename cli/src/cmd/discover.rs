//! `cairn discover [XNAMES...]`: ask the rack agents to crawl their BMCs now (SMD's
//! `POST /Inventory/Discover`), follow `DiscoveryStatus` and the endpoints' discovery records
//! with a progress bar, then summarize per BMC what was found, changed or failed.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use cairn_protocols::Xname;
use clap::Args;
use serde_json::{Value, json};

use super::HSM;
use super::agents::AGENTS;
use super::discover_summary::{self as summary, Change, Inventory, Row};
use crate::Ctx;
use crate::client::Client;
use crate::output::{Format, records};
use crate::progress;
use crate::targets::{self, Target, TargetArg};

/// How often progress is read: each read lists every Redfish and component endpoint.
fn poll_interval(bmcs: usize) -> Duration {
    if bmcs <= 500 {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(1)
    }
}

/// Flags of `cairn discover`.
#[derive(Debug, Args)]
#[command(
    after_help = "XNAMES are BMC xnames (Redfish endpoint IDs) or ranges such as \
    x1000c0s[0-15]b0. Without any, every agent discovers its whole scope: its subnets and \
    every BMC it knows. Exits non-zero when a BMC failed or discovery did not finish in time."
)]
pub struct DiscoverArgs {
    /// BMCs to discover (default: everything every agent serves).
    #[arg(value_parser = targets::xname_or_range, value_name = "XNAMES")]
    pub xnames: Vec<TargetArg>,
    /// Rediscover even BMCs discovered recently.
    #[arg(long)]
    pub force: bool,
    /// Return once the request is recorded, printing its status URI.
    #[arg(long)]
    pub no_wait: bool,
    /// Give up waiting after this long (e.g. 90s, 10m).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
}

/// What one discovery did.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The DiscoveryStatus ID.
    pub id: u64,
    /// The last DiscoveryStatus read.
    pub status: Value,
    /// Per-BMC results.
    pub rows: Vec<Row>,
    /// From the request to completion.
    pub elapsed: Duration,
    /// Whether every agent asked reported it done.
    pub complete: bool,
}

impl Discovery {
    /// BMCs whose crawl failed or that were not reached.
    pub fn failed(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.result, Change::Failed | Change::NotAttempted))
            .count()
    }

    /// Agents asked that have not reported the request done.
    pub fn pending_agents(&self) -> Vec<String> {
        pending(&self.status)
    }

    /// Targets no agent's scope holds.
    pub fn unassigned(&self) -> Vec<String> {
        self.status["Details"]["Unassigned"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn pending(status: &Value) -> Vec<String> {
    status["Details"]["Agents"]
        .as_object()
        .map(|agents| {
            agents
                .iter()
                .filter(|(_, s)| s.as_str() != Some("Complete"))
                .map(|(id, _)| id.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Post the request; the DiscoveryStatus path and ID it answers.
pub async fn request(
    client: &Client,
    targets: &[Xname],
    force: bool,
) -> anyhow::Result<(String, u64)> {
    let xnames: Vec<&str> = targets.iter().map(Xname::as_str).collect();
    let answer = client
        .post(
            &format!("{HSM}/Inventory/Discover"),
            &json!({"xnames": xnames, "force": force}),
        )
        .await?;
    let uri = records(&answer, None)
        .first()
        .and_then(|r| r["URI"].as_str())
        .map(str::to_owned)
        .context("the Discover answer names no DiscoveryStatus URI")?;
    let id = uri
        .rsplit('/')
        .next()
        .and_then(|i| i.parse().ok())
        .with_context(|| format!("the DiscoveryStatus URI {uri:?} has no numeric ID"))?;
    Ok((uri, id))
}

/// Discover `targets` (all when empty) and follow to the end or `timeout`, showing progress
/// on a terminal.
pub async fn discover(
    client: &Client,
    targets: &[Xname],
    force: bool,
    timeout: Duration,
) -> anyhow::Result<Discovery> {
    let before = Inventory::read(client).await?;
    discover_since(client, &before, targets, force, timeout).await
}

/// [`discover`], comparing with an inventory read earlier (`cairn demo` reads it before its
/// agents start, so their first crawl at start-up counts too).
pub async fn discover_since(
    client: &Client,
    before: &Inventory,
    targets: &[Xname],
    force: bool,
    timeout: Duration,
) -> anyhow::Result<Discovery> {
    let started = Instant::now();
    let (uri, id) = request(client, targets, force).await?;
    let expected = expected(client, before, targets).await;
    let pb = progress::bar("discover", expected as u64);
    let mut status;
    loop {
        status = client.get(&uri, &[]).await?;
        let now = Inventory::read(client).await?;
        let requested = status["Details"]["Requested"].as_str();
        let reported = now.reported_since(before, requested);
        if reported > expected {
            pb.set_length(reported as u64);
        }
        pb.set_position(reported as u64);
        let agents = status["Details"]["Agents"]
            .as_object()
            .map_or(0, |a| a.len());
        let waiting = pending(&status).len();
        pb.set_message(format!(
            "BMCs reported; agents done {}/{agents}",
            agents - waiting
        ));
        let complete = status["Status"].as_str() == Some("Complete");
        if complete || started.elapsed() > timeout {
            pb.finish_and_clear();
            return Ok(Discovery {
                id,
                rows: summary::compare(before, &now, targets, requested),
                status,
                elapsed: started.elapsed(),
                complete,
            });
        }
        tokio::time::sleep(poll_interval(expected.max(reported))).await;
    }
}

/// How many BMCs the bar starts with: the targets, or the known BMCs in the agents' scopes
/// (scans may find more; the bar grows).
async fn expected(client: &Client, before: &Inventory, targets: &[Xname]) -> usize {
    if !targets.is_empty() {
        return targets.len();
    }
    let Ok(agents) = client.get(AGENTS, &[]).await else {
        return before.0.len();
    };
    let scope: Vec<Xname> = records(&agents, Some("agents"))
        .iter()
        .flat_map(|a| a["scope"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c.as_str().and_then(|c| Xname::parse(c).ok()))
        .collect();
    before
        .0
        .keys()
        .filter(|x| scope.iter().any(|c| c.contains(x)))
        .count()
}

/// Run `cairn discover`.
pub async fn run(ctx: &Ctx, args: DiscoverArgs) -> anyhow::Result<()> {
    let targets: Vec<Xname> = targets::flatten(args.xnames)
        .into_iter()
        .filter_map(|t| match t {
            Target::Xname(x) => Xname::parse(&x).ok(),
            Target::Group(_) => None,
        })
        .collect();
    if args.no_wait {
        let (uri, id) = request(&ctx.client, &targets, args.force).await?;
        let v = json!([{ "URI": uri }]);
        return crate::output::done(
            &v,
            ctx.format,
            &format!(
                "discovery {id} requested; follow it with `curl {}{uri}`",
                ctx.client.base()
            ),
        );
    }
    let d = tokio::select! {
        d = discover(&ctx.client, &targets, args.force, args.timeout) => d?,
        _ = tokio::signal::ctrl_c() => anyhow::bail!("stopped waiting; the agents go on discovering"),
    };
    print(&d, ctx.format)?;
    check(&d)
}

/// Print the summary: a table and totals, or JSON/YAML.
pub fn print(d: &Discovery, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Table => {
            print!("{}", summary::table(&d.rows));
            println!(
                "{} (discovery {}, {})",
                summary::totals(&d.rows),
                d.id,
                progress::took(d.elapsed)
            );
            let unassigned = d.unassigned();
            if !unassigned.is_empty() {
                println!("no rack agent's scope holds: {}", unassigned.join(", "));
            }
            if d.status["Details"]["Agents"]
                .as_object()
                .is_some_and(|a| a.is_empty())
            {
                println!("no rack agent was asked: is one registered? (`cairn agents`)");
            }
        }
        Format::Json | Format::Yaml => {
            let v = json!({"ID": d.id, "Status": d.status, "Endpoints": d.rows,
                "ElapsedSeconds": d.elapsed.as_secs_f64()});
            crate::output::print(
                &v,
                format,
                &crate::output::View {
                    list_key: None,
                    columns: &[],
                },
            )?;
        }
    }
    Ok(())
}

/// An error when discovery did not finish or a BMC failed, for the exit status.
pub fn check(d: &Discovery) -> anyhow::Result<()> {
    if !d.complete {
        anyhow::bail!(
            "discovery {} did not finish in time; agents still working: {}",
            d.id,
            d.pending_agents().join(", ")
        );
    }
    match d.failed() {
        0 => Ok(()),
        n => anyhow::bail!(
            "{} not discovered",
            progress::count(n, "BMC was", "BMCs were")
        ),
    }
}
