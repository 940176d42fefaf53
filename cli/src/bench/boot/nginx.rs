//! Debian's nginx as the reference: a static file server on a free loopback port, with its
//! own config, pid, logs and temp dirs in the bench's directory, run as a child of the bench
//! in its own process group and killed (with its workers) by that group's id at the end.
//!
//! Tuned as one would for a boot server: one worker per core, no access log, sendfile, an
//! open-file cache big enough for every per-node file (and the descriptors to hold them open
//! beside 10,000 connections), unlimited requests per keep-alive connection (Cairn's HTTP
//! server has no such limit either) and the same listen backlog as the Cairn server compared
//! (the coordinator's: tokio's default, 1024; the agent's boot service: 8192).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::process::{Child, Command};

use crate::local_cluster::wait_for;

/// A running nginx.
pub struct Nginx {
    addr: SocketAddr,
    dir: PathBuf,
    child: Option<Child>,
}

impl Nginx {
    /// Serve `root` on a free 127.0.0.1 port with `workers` worker processes.
    pub async fn start(
        bin: &Path,
        dir: &Path,
        root: &Path,
        workers: usize,
    ) -> anyhow::Result<Self> {
        Self::start_with(bin, dir, root, workers, 1024, "").await
    }

    /// [`Nginx::start`], with this listen `backlog` and `locations` (nginx directives, e.g.
    /// `location` blocks) added to the server block.
    pub async fn start_with(
        bin: &Path,
        dir: &Path,
        root: &Path,
        workers: usize,
        backlog: u32,
        locations: &str,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir.join("tmp"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut last = None;
        // A port found free may be taken before nginx binds it: then nginx exits; try another.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let site = Site { backlog, locations };
            match Self::start_on(bin, dir, root, workers, addr, &site).await {
                Ok(n) => return Ok(n),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("nginx did not start")))
    }

    async fn start_on(
        bin: &Path,
        dir: &Path,
        root: &Path,
        workers: usize,
        addr: SocketAddr,
        site: &Site<'_>,
    ) -> anyhow::Result<Self> {
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config(dir, root, workers, addr, site))
            .with_context(|| format!("cannot write {}", conf.display()))?;
        let error_log = dir.join("error.log");
        let child = Command::new(bin)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(&error_log)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let mut nginx = Self {
            addr,
            dir: dir.to_owned(),
            child: Some(child),
        };
        let up = wait_for(Duration::from_secs(10), "nginx to listen", || {
            let exited = nginx.child.as_mut().map(Child::try_wait);
            let error_log = &error_log;
            async move {
                if let Some(status) = exited.transpose()?.flatten() {
                    anyhow::bail!(
                        "nginx exited ({status}): {}",
                        std::fs::read_to_string(error_log)
                            .unwrap_or_default()
                            .trim()
                    );
                }
                Ok(tokio::net::TcpStream::connect(addr).await.ok().map(|_| ()))
            }
        })
        .await;
        match up {
            Ok(()) => Ok(nginx),
            Err(e) => {
                nginx.stop();
                Err(e)
            }
        }
    }

    /// `http://127.0.0.1:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The master's process id (also its process group), while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// The error log, for reports.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    /// SIGKILL the master and its workers (one process group) and reap the master.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
            let _ = child.start_kill();
            let _ = child.try_wait();
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `nginx -v` (it prints `nginx version: nginx/1.22.1` on stderr).
pub async fn version(bin: &Path) -> Option<String> {
    let out = Command::new(bin).arg("-v").output().await.ok()?;
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.trim()
        .strip_prefix("nginx version: ")
        .map(str::to_owned)
}

/// What differs between the benches' servers.
struct Site<'a> {
    /// The listen backlog.
    backlog: u32,
    /// Directives added to the server block.
    locations: &'a str,
}

fn config(dir: &Path, root: &Path, workers: usize, addr: SocketAddr, site: &Site<'_>) -> String {
    let d = dir.display();
    // As root, nginx's workers would become `nobody`, who cannot read a 0700 temp dir.
    let user = if is_root() { "user root;\n" } else { "" };
    format!(
        r#"{user}daemon off;
worker_processes {workers};
worker_rlimit_nofile {nofile};
pid {d}/nginx.pid;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000000;
    keepalive_timeout 75s;
    open_file_cache max=200000 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    default_type text/plain;
    server {{
        listen {addr} backlog={backlog};
        root {root};
{locations}    }}
}}
"#,
        root = root.display(),
        backlog = site.backlog,
        locations = site.locations,
        nofile = open_files_limit(),
    )
}

/// The workers' open-files limit: this process's hard limit (which it may raise to, unlike a
/// higher one without CAP_SYS_RESOURCE), at most 65536.
fn open_files_limit() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .maximum
        .map_or(65_536, |hard| hard.min(65_536))
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_serves_the_root_on_the_address() {
        let c = config(
            Path::new("/tmp/b"),
            Path::new("/tmp/b/www"),
            2,
            "127.0.0.1:8080".parse().expect("addr"),
            &Site {
                backlog: 1024,
                locations: "",
            },
        );
        assert!(c.contains("listen 127.0.0.1:8080 backlog=1024;"));
        assert!(c.contains("root /tmp/b/www;"));
        assert!(c.contains("worker_processes 2;"));
        assert!(c.contains("pid /tmp/b/nginx.pid;"));
    }
}
