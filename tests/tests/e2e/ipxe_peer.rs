//! A real iPXE client (QEMU TCG + Debian's iPXE ROM, `ipxe-boot.sh`) boots from Cairn: it gets
//! the BSS script for its MAC from a real coordinator, fetches the kernel and initrd the script
//! names, and the Debian kernel it boots prints the command line Cairn composed
//! (`ipxe-kernel-assets.sh`'s initrd echoes `/proc/cmdline` as `RP-CMDLINE: ...`).
//!
//! Topology: `ipxe-boot.sh`'s user mode lets the guest reach one host port, as
//! `10.0.2.100:PORT`. On that port runs Debian's nginx as the site's front server (as boot
//! images are usually served): `/assets/` holds the kernel and initrd, `/boot.ipxe` is the
//! site's first-stage script that DHCP names (`chain .../bootscript?mac=${net0/mac:hexhyp}`,
//! as OpenCHAMI sites do, so the MAC comes from the firmware), every other path goes to Cairn
//! unchanged. Cairn is configured with `http://10.0.2.100:PORT` as the address nodes use, so
//! every URL in its scripts (images, the retry chain, the cloud-init seed) is one the guest can
//! really fetch. Nothing in between answers for Cairn.
//!
//! (The first stage is also what makes `ipxe-boot.sh` usable here: it recognises the DHCP boot
//! file among iPXE's fetches by the URL iPXE prints, which leaves out the query string.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_tests::nginx::Gateway;
use cairn_tests::peers::{self, PeerRun};
use cairn_tests::{Cluster, wait_for};
use reqwest::Method;
use serde_json::json;

use crate::boot_fixture::{self, Node};

const SCRIPTS: &[&str] = &["ipxe-boot.sh", "ipxe-kernel-assets.sh"];
const TOOLS: &[&str] = &[
    "qemu-system-x86_64",
    "busybox",
    "nginx",
    "cpio",
    "/usr/lib/ipxe/qemu/efi-virtio.rom",
    "/usr/share/seabios/bios-256k.bin",
];
/// Hang guard for one QEMU boot (it normally takes 8-20 s under TCG on 2 cores).
const BOOT_DEADLINE: Duration = Duration::from_secs(240);

/// The kernel and initrd, built into the target dir once per test process (the script reuses
/// its downloaded .debs across runs; tests of one process must not rebuild it concurrently).
pub(crate) async fn kernel_assets(peers: &Path, work: &Path) -> anyhow::Result<PathBuf> {
    static BUILT: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    BUILT
        .get_or_try_init(|| async {
            let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ipxe-kernel-assets");
            let out_s = out.to_string_lossy().into_owned();
            let run = peers::run_script(
                peers,
                "ipxe-kernel-assets.sh",
                &[&out_s],
                &[],
                &work.join("kernel-assets.log"),
                Duration::from_secs(600),
            )
            .await?;
            anyhow::ensure!(run.ok(), "ipxe-kernel-assets.sh failed:\n{}", run.output);
            Ok(out)
        })
        .await
        .cloned()
}

/// The coordinator's settings for node-facing URLs: nodes reach Cairn as `site` (the retry
/// chain and, by default, the cloud-init seed are under it); failed boots retry after 1 s.
fn boot_config(site: &str) -> String {
    format!("[boot]\nchain_base_url = \"{site}\"\nretry_delay_secs = 1\n")
}

/// A coordinator, configured for nodes that reach it through the front server, and the front
/// server itself.
struct Site {
    /// `http://10.0.2.100:PORT`, as the guest sees the front server.
    url: String,
    cluster: Cluster,
    gateway: Gateway,
}

impl Site {
    async fn start(work: &Path, assets: &Path) -> anyhow::Result<Site> {
        let port = Gateway::free_port()?;
        let url = format!("http://10.0.2.100:{port}");
        let cluster = Cluster::builder()
            .coordinators(1)
            .config(&boot_config(&url))
            .start()
            .await?;
        let stage1 =
            format!("#!ipxe\nchain {url}/boot/v1/bootscript?mac=${{net0/mac:hexhyp}} || exit 1\n");
        let gateway = Gateway::start_on(
            &work.join("nginx"),
            assets,
            &[("boot.ipxe", &stage1)],
            cluster.api_addr(1),
            port,
        )?;
        Ok(Site {
            url,
            cluster,
            gateway,
        })
    }

    /// Boot one QEMU guest with `mac` from the site's first stage, until `wait_regex` shows on
    /// its serial console.
    async fn boot(
        &self,
        peers: &Path,
        work: &Path,
        mac: &str,
        wait_regex: &str,
    ) -> anyhow::Result<PeerRun> {
        let url = format!("http://{}/boot.ipxe", self.gateway.addr());
        let serial = work.join("serial.log").to_string_lossy().into_owned();
        let run = peers::run_script(
            peers,
            "ipxe-boot.sh",
            &[&url, mac],
            &[
                ("IPXE_WAIT_REGEX", wait_regex),
                ("IPXE_TIMEOUT", "180"),
                ("IPXE_LOG", &serial),
            ],
            &work.join("ipxe-boot.log"),
            BOOT_DEADLINE,
        )
        .await?;
        eprintln!("ipxe-boot.sh exited {} after {:.1?}", run.status, run.took);
        Ok(run)
    }

    /// Whether the front server passed a request for `path_prefix` with `status`.
    fn served(&self, path_prefix: &str, status: u16) -> bool {
        self.gateway.access_log().iter().any(|l| {
            l.contains(&format!("\"GET {path_prefix}")) && l.contains(&format!(" {status} "))
        })
    }

    /// The test's files kept, and everything that explains a failed boot.
    fn failure(&self, work: tempfile::TempDir, run: &PeerRun) -> String {
        let kept = boot_fixture::keep(work);
        format!(
            "files in {}\n--- ipxe-boot.sh:\n{}\n--- nginx:\n{}",
            kept.display(),
            run.output,
            self.gateway.access_log().join("\n")
        )
    }
}

/// The `RP-CMDLINE: ...` line the booted initrd printed.
fn cmdline(run: &PeerRun) -> Option<String> {
    run.output.lines().find_map(|l| {
        l.split_once("RP-CMDLINE: ")
            .map(|(_, c)| c.trim().to_owned())
    })
}

#[tokio::test]
async fn real_ipxe_fetches_its_script_and_images_from_cairn_and_the_kernel_sees_the_nodes_command_line()
-> anyhow::Result<()> {
    let test = "ipxe_boot";
    let Some(peers) = peers::require(test, SCRIPTS, TOOLS) else {
        return Ok(());
    };
    let work = boot_fixture::workdir(test)?;
    let assets = kernel_assets(&peers, work.path()).await?;
    let site = Site::start(work.path(), &assets).await?;
    let node = Node {
        xname: "x3000c0s7b0n1",
        nid: 42,
        mac: "52:54:00:ca:12:2a",
        ip: "10.0.2.15",
    };
    boot_fixture::register(&site.cluster, &node).await?;
    boot_fixture::boot_parameters(
        &site.cluster,
        &node,
        &format!("{}/assets/vmlinuz", site.url),
        &format!("{}/assets/initrd.gz", site.url),
        "console=ttyS0 panic=-1 rd.shell=0",
    )
    .await?;

    let run = site
        .boot(&peers, work.path(), node.mac, "RP-CMDLINE")
        .await?;
    let line = cmdline(&run);
    let checks = [
        (
            "the script, from Cairn",
            site.served("/boot/v1/bootscript?mac=", 200),
        ),
        ("the kernel", site.served("/assets/vmlinuz", 200)),
        ("the initrd", site.served("/assets/initrd.gz", 200)),
    ];
    let missed: Vec<&str> = checks.iter().filter(|c| !c.1).map(|c| c.0).collect();
    if !run.ok() || line.is_none() || !missed.is_empty() {
        panic!(
            "boot failed (not fetched: {missed:?}); {}",
            site.failure(work, &run)
        );
    }
    let line = line.unwrap_or_default();
    eprintln!("kernel command line: {line}");
    let words: Vec<&str> = line.split_whitespace().collect();
    for want in [
        "console=ttyS0".to_owned(),
        "initrd=initrd".to_owned(),
        format!("xname={}", node.xname),
        format!("nid={}", node.nid),
        format!("BOOTIF={}", node.bootif()),
    ] {
        assert!(words.contains(&want.as_str()), "{want} missing from {line}");
    }
    let ds = words
        .iter()
        .find_map(|w| w.strip_prefix("ds=nocloud-net;s="))
        .unwrap_or_else(|| panic!("no ds=nocloud-net;s= in {line}"));
    assert_eq!(
        ds,
        format!("{}/cloud-init/", site.url),
        "the seed URL is one the node can reach"
    );
    Ok(())
}

#[tokio::test]
async fn a_node_whose_kernel_is_missing_retries_through_cairn_and_boots_once_an_operator_fixes_it()
-> anyhow::Result<()> {
    let test = "ipxe_retry";
    let Some(peers) = peers::require(test, SCRIPTS, TOOLS) else {
        return Ok(());
    };
    let work = boot_fixture::workdir(test)?;
    let assets = kernel_assets(&peers, work.path()).await?;
    let site = Site::start(work.path(), &assets).await?;
    let node = Node {
        xname: "x3000c0s7b0n0",
        nid: 41,
        mac: "52:54:00:ca:12:29",
        ip: "10.0.2.15",
    };
    boot_fixture::register(&site.cluster, &node).await?;
    // The node's role carries the boot data (BSS falls back from the xname to the role), and
    // the operator got the kernel's name wrong.
    let images = format!("{}/assets", site.url);
    boot_fixture::ok(
        &site.cluster,
        Method::POST,
        "/boot/v1/bootparameters",
        json!({"hosts": ["Compute"], "kernel": format!("{images}/vmlinuz-typo"),
            "initrd": format!("{images}/initrd.gz"), "params": "console=ttyS0 panic=-1"}),
    )
    .await?;

    let boot = site.boot(&peers, work.path(), node.mac, "RP-CMDLINE");
    let fix = async {
        // iPXE fails on the missing kernel and goes to its retry label: fix the parameters then.
        // (Should the fix land after the first retry, a later retry boots: no race to lose.)
        wait_for(
            "iPXE to ask for the wrong kernel",
            BOOT_DEADLINE,
            || async { site.served("/assets/vmlinuz-typo", 404).then_some(()) },
        )
        .await?;
        boot_fixture::ok(
            &site.cluster,
            Method::PATCH,
            "/boot/v1/bootparameters",
            json!({"hosts": ["Compute"], "kernel": format!("{images}/vmlinuz")}),
        )
        .await?;
        anyhow::Ok(())
    };
    let (run, fixed) = tokio::join!(boot, fix);
    let run = run?;
    let retried = site.gateway.access_log().iter().any(|l| {
        l.contains("/boot/v1/bootscript?mac=") && l.contains("&retry=") && l.contains(" 200 ")
    });
    let line = cmdline(&run);
    if fixed.is_err() || !run.ok() || !retried || line.is_none() {
        panic!(
            "retry failed (fix: {fixed:?}, retried through Cairn: {retried}); {}",
            site.failure(work, &run)
        );
    }
    let line = line.unwrap_or_default();
    eprintln!("kernel command line after the retry: {line}");
    for want in [
        format!("xname={}", node.xname),
        format!("BOOTIF={}", node.bootif()),
    ] {
        assert!(
            line.split_whitespace().any(|w| w == want),
            "{want} missing from {line}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn an_unknown_node_is_asked_its_architecture_by_real_ipxe_and_boots_the_discovery_image()
-> anyhow::Result<()> {
    let test = "ipxe_unknown";
    let Some(peers) = peers::require(test, SCRIPTS, TOOLS) else {
        return Ok(());
    };
    let work = boot_fixture::workdir(test)?;
    let assets = kernel_assets(&peers, work.path()).await?;
    let site = Site::start(work.path(), &assets).await?;
    // No node has this MAC. iPXE's ${buildarch} is i386 for the legacy-BIOS ROM QEMU runs
    // under SeaBIOS (x86_64 is the EFI build's), whatever kernel it then boots.
    let mac = "52:54:00:ca:12:ff";
    let images = format!("{}/assets", site.url);
    boot_fixture::ok(
        &site.cluster,
        Method::POST,
        "/boot/v1/bootparameters",
        json!({"hosts": ["Unknown-i386"], "kernel": format!("{images}/vmlinuz"),
            "initrd": format!("{images}/initrd.gz"), "params": "console=ttyS0 panic=-1 discovery=1"}),
    )
    .await?;

    let run = site.boot(&peers, work.path(), mac, "RP-CMDLINE").await?;
    let asked = site.served("/boot/v1/bootscript?mac=", 200)
        && site
            .gateway
            .access_log()
            .iter()
            .any(|l| l.contains("arch=i386") && l.contains(" 200 "));
    let line = cmdline(&run);
    if !run.ok() || !asked || line.is_none() {
        panic!(
            "unknown node did not boot Unknown-i386 (chained back with arch: {asked}); {}",
            site.failure(work, &run)
        );
    }
    let line = line.unwrap_or_default();
    eprintln!("unknown node's kernel command line: {line}");
    let words: Vec<&str> = line.split_whitespace().collect();
    assert!(words.contains(&"discovery=1"), "{line}");
    assert!(
        words.contains(&format!("BOOTIF=01-{}", mac.replace(':', "-")).as_str()),
        "{line}"
    );
    assert!(
        !words.iter().any(|w| w.starts_with("xname=")),
        "an unknown node has no xname: {line}"
    );
    Ok(())
}
