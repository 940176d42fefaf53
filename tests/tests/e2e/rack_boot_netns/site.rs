//! What the rack boot test runs and drives: the `cairn-agent` binary and the image origin, each
//! started in its namespace with `ip netns exec` and stopped by its PID, the agent's status read
//! through a forwarder, and the real clients (`dhcp-client.sh`, `ipxe-boot.sh`, curl) run from
//! the nodes' side of the bridge.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context;
use cairn_agent::runtime::AgentStatus;
use cairn_tests::netns::{self, Forwarder, NodeNs, RackNet};
use cairn_tests::peers::{self, PeerRun};
use cairn_tests::{Cluster, wait_for};

/// The agent's id; its scope is cabinet x1000.
pub const AGENT_ID: &str = "rack-x1000";
/// The agent's HTTP boot service, on the bridge.
pub const BOOT_HTTP: &str = "10.91.0.1:8080";
/// The agent's own API (status), on the bridge.
const AGENT_API: &str = "10.91.0.1:27790";
/// The image origin's port, on the coordinators' first address.
const ORIGIN_PORT: u16 = 8081;
/// Addresses for unknown MACs.
pub const POOL: (Ipv4Addr, Ipv4Addr) =
    (Ipv4Addr::new(10, 91, 0, 200), Ipv4Addr::new(10, 91, 0, 220));

/// `[boot]` beyond the flags: router advertisements (iPXE boots without its ~15 s IPv6 wait),
/// a short retry delay, and the DHCP range and pool.
fn agent_toml() -> String {
    let (first, last) = POOL;
    format!(
        "[boot]\nrouter_advertisements = true\nretry_delay_secs = 1\n\n[boot.dhcp]\n\
         range = {{ first = \"10.91.0.100\", last = \"10.91.0.199\" }}\n\
         pool = {{ first = \"{first}\", last = \"{last}\" }}\n"
    )
}

/// A child process, killed by its PID and reaped on drop.
pub struct Proc {
    child: Option<Child>,
}

impl Proc {
    /// Spawns `cmd` with its stdout and stderr to `log`.
    fn spawn(mut cmd: Command, log: PathBuf) -> anyhow::Result<Proc> {
        let file = std::fs::File::create(&log)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("spawning {cmd:?}"))?;
        Ok(Proc { child: Some(child) })
    }

    /// Whether it has exited (and how).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGTERM to its PID, then waits for it to exit.
    pub async fn terminate(&mut self, within: Duration) -> anyhow::Result<ExitStatus> {
        let pid = self.child.as_ref().context("already stopped")?.id();
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        let status = wait_for(&format!("PID {pid} to exit"), within, || {
            let exited = self.exited();
            async move { exited }
        })
        .await?;
        self.child = None;
        Ok(status)
    }

    /// SIGKILL to its PID, and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The image server: `python3 -m http.server` in the coordinators' namespace, serving the
/// kernel and initrd of `ipxe-kernel-assets.sh`.
pub struct Origin {
    /// `http://10.90.0.1:PORT`.
    pub url: String,
    /// The server.
    pub proc: Proc,
}

impl Origin {
    /// Starts it and waits until it serves the kernel.
    pub async fn start(net: &RackNet, assets: &Path, work: &Path) -> anyhow::Result<Origin> {
        let host = net.co_addrs()[0];
        let mut cmd = net.command_in(net.co_ns(), "python3");
        cmd.args([
            "-m",
            "http.server",
            "--bind",
            &host.to_string(),
            "--directory",
        ])
        .arg(assets)
        .arg(ORIGIN_PORT.to_string());
        let proc = Proc::spawn(cmd, work.join("origin.log"))?;
        let url = format!("http://{host}:{ORIGIN_PORT}");
        let kernel = format!("{url}/vmlinuz");
        let co = net.co_ns().to_owned();
        wait_for("the image origin", Duration::from_secs(20), || {
            let (co, kernel) = (co.clone(), kernel.clone());
            async move {
                let (code, _) = curl_in(&co, &["-I", &kernel]).await.ok()?;
                (code == 200).then_some(())
            }
        })
        .await?;
        Ok(Origin { url, proc })
    }
}

/// Starts the `cairn-agent` binary in the agent namespace, serving the rack's boot network
/// and dialling every replica across the uplink; `n` numbers its log (one per start).
pub fn start_agent(net: &RackNet, cluster: &Cluster, work: &Path, n: u32) -> anyhow::Result<Proc> {
    let config = work.join("agent.toml");
    std::fs::write(&config, agent_toml())?;
    let mut cmd = net.command_in(net.agent_ns(), cairn_tests::agent_binary()?);
    cmd.args(["--agent-id", AGENT_ID, "--scope", "x1000"])
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(work.join("agent-data"))
        .args(["--boot-listen", BOOT_HTTP, "--dhcp-interface", net.bridge()])
        .args([
            "--tftp-listen",
            "10.91.0.1:69",
            "--ipxe-dir",
            "/usr/lib/ipxe",
        ])
        .args(["--api-listen", AGENT_API])
        .env("RUST_LOG", "info,cairn_bootsvc=debug");
    for id in cluster.ids() {
        cmd.args([
            "--coordinator",
            &format!("http://{}", cluster.ns_api_addr(id)),
        ]);
    }
    Proc::spawn(cmd, work.join(format!("agent-{n}.log")))
}

/// The agent's `GET /status`, read from the test's namespace through a forwarder (which
/// outlives the agent's restarts: it connects anew for each request).
pub struct StatusProbe {
    fwd: Forwarder,
    client: reqwest::Client,
}

impl StatusProbe {
    /// A forwarder to the agent's API address in the agent namespace.
    pub fn start(net: &RackNet) -> anyhow::Result<StatusProbe> {
        let target: SocketAddr = AGENT_API.parse()?;
        Ok(StatusProbe {
            fwd: Forwarder::start(net.agent_ns(), target)?,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()?,
        })
    }

    /// The status now, if the agent answers.
    pub async fn get(&self) -> Option<AgentStatus> {
        let url = format!("http://{}/status", self.fwd.addr());
        self.client.get(url).send().await.ok()?.json().await.ok()
    }

    /// Polls until the status satisfies `check`.
    pub async fn wait(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&AgentStatus) -> bool,
    ) -> anyhow::Result<AgentStatus> {
        let last = std::cell::Cell::new(None);
        let got = wait_for(what, timeout, || async {
            let s = self.get().await?;
            let ok = check(&s);
            last.set(Some(s.clone()));
            ok.then_some(s)
        })
        .await;
        got.with_context(|| format!("last status: {:?}", last.take()))
    }
}

/// The real clients, run from the peers directory with their logs in the work directory.
pub struct Clients {
    /// The peers directory.
    pub peers: PathBuf,
    /// Where their logs go.
    pub work: PathBuf,
    /// The agent's namespace (QEMU's tap goes on its bridge).
    pub agent_ns: String,
}

/// The address each DHCP client of `dhcp-client.sh ... both` leased.
#[derive(Debug)]
pub struct Leases {
    /// busybox udhcpc's `ip=`.
    pub udhcpc: Option<Ipv4Addr>,
    /// ISC dhclient's `new_ip_address=`.
    pub dhclient: Option<Ipv4Addr>,
    /// The script's whole output.
    pub output: String,
}

impl Leases {
    fn field(output: &str, key: &str) -> Option<Ipv4Addr> {
        output
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
    }

    /// Both clients leased `ip` from the agent (its server identifier).
    pub fn both_got(&self, ip: Ipv4Addr) -> bool {
        let server = Ipv4Addr::new(10, 91, 0, 1);
        self.udhcpc == Some(ip)
            && self.dhclient == Some(ip)
            && Self::field(&self.output, "serverid=") == Some(server)
            && Self::field(&self.output, "new_dhcp_server_identifier=") == Some(server)
    }
}

impl Clients {
    /// `DHCP_APPLY=1 dhcp-client.sh <node ns> eth0 both`: udhcpc, then dhclient, each leaving
    /// the leased address on the node's interface.
    pub async fn dhcp(&self, node: &NodeNs, name: &str) -> anyhow::Result<Leases> {
        let run = peers::run_script(
            &self.peers,
            "dhcp-client.sh",
            &[node.name(), node.iface(), "both"],
            &[("DHCP_APPLY", "1")],
            &self.work.join(format!("dhcp-{name}.log")),
            Duration::from_secs(90),
        )
        .await?;
        anyhow::ensure!(
            run.ok(),
            "dhcp-client.sh for {name} ({}) got no lease:\n{}",
            node.mac(),
            run.output
        );
        Ok(Leases {
            udhcpc: Leases::field(&run.output, "ip="),
            dhclient: Leases::field(&run.output, "new_ip_address="),
            output: run.output,
        })
    }

    /// One QEMU iPXE node with `mac` on the rack bridge, booting from whatever the agent's
    /// DHCP names, until the booted initrd prints its command line.
    pub async fn qemu(&self, mac: &str, name: &str) -> anyhow::Result<PeerRun> {
        let serial = self.work.join(format!("{name}-serial.log"));
        let serial = serial.to_string_lossy();
        let url = format!("http://{BOOT_HTTP}/boot/v1/bootscript");
        let run = peers::run_script(
            &self.peers,
            "ipxe-boot.sh",
            &[&url, mac],
            &[
                ("IPXE_NS", &self.agent_ns),
                ("IPXE_BRIDGE", netns::BRIDGE),
                ("IPXE_WAIT_REGEX", "RP-CMDLINE"),
                ("IPXE_TIMEOUT", "150"),
                ("IPXE_LOG", &serial),
            ],
            &self.work.join(format!("ipxe-{name}.log")),
            Duration::from_secs(200),
        )
        .await?;
        eprintln!(
            "{name}: ipxe-boot.sh exited {} after {:.1?}",
            run.status, run.took
        );
        Ok(run)
    }
}

/// Runs curl in namespace `ns` with `args` and the URL last; returns the HTTP status and
/// what `-w` or the body printed.
async fn curl_in(ns: &str, args: &[&str]) -> anyhow::Result<(u16, String)> {
    let out = tokio::process::Command::from(netns::command_in(ns, "curl"))
        .args(["-s", "--noproxy", "*", "-m", "30", "-w", "\n%{http_code}"])
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .context("running curl")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    Ok((code.trim().parse().unwrap_or(0), body.to_owned()))
}

/// `GET url` from the node's namespace (its leased address): status and body.
pub async fn get(node: &NodeNs, url: &str) -> anyhow::Result<(u16, String)> {
    curl_in(node.name(), &[url]).await
}

/// `GET url` from the node's namespace, the body discarded: status and its size in bytes.
pub async fn get_size(node: &NodeNs, url: &str) -> anyhow::Result<(u16, u64)> {
    let (code, size) = curl_in(
        node.name(),
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}\n%{http_code}",
            url,
        ],
    )
    .await?;
    Ok((code, size.trim().parse().unwrap_or(0)))
}

/// The wall clock in Unix ms (the agent stamps boot steps with it).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Prints the tail of every log of a failed run (agent, origin, clients, serial consoles).
pub fn dump_logs(work: &Path) {
    let Ok(entries) = std::fs::read_dir(work) else {
        return;
    };
    let mut logs: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    for log in logs {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(150)..];
        eprintln!(
            "--- {} (last {} lines):\n{}",
            log.display(),
            tail.len(),
            tail.join("\n")
        );
    }
}
