//! Debian's nginx as a site's front web server, the way boot images are usually served: static
//! files (kernel, initrd) under `/assets/`, a few site files at the root (such as the first
//! iPXE script a DHCP server names), everything else passed to Cairn with `X-Forwarded-For`.
//! One origin for all is what a firmware client that can reach a single host:port (iPXE under
//! QEMU user networking) needs.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::peers::is_root;

/// A running nginx in its own directory (config, pid, logs, temp files). Dropping it kills its
/// process group.
pub struct Gateway {
    dir: PathBuf,
    addr: SocketAddr,
    child: Option<Child>,
}

impl Gateway {
    /// A 127.0.0.1 port that was free a moment ago, for [`Gateway::start_on`] when the
    /// gateway's URL must be known before the gateway can start (it goes into Cairn's config).
    pub fn free_port() -> anyhow::Result<u16> {
        Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
    }

    /// Start nginx on a free 127.0.0.1 port, serving `assets` at `/assets/`, each of `files`
    /// (name, content) at `/<name>`, and passing other paths to `upstream`. `dir` is created.
    pub fn start(
        dir: &Path,
        assets: &Path,
        files: &[(&str, &str)],
        upstream: SocketAddr,
    ) -> anyhow::Result<Self> {
        let mut last = None;
        // A port found free may be taken before nginx binds it; then nginx exits and we retry.
        for _ in 0..5 {
            match Self::start_on(dir, assets, files, upstream, Self::free_port()?) {
                Ok(g) => return Ok(g),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("could not start nginx")))
    }

    /// Start nginx on `127.0.0.1:port`; see [`Gateway::start`].
    pub fn start_on(
        dir: &Path,
        assets: &Path,
        files: &[(&str, &str)],
        upstream: SocketAddr,
        port: u16,
    ) -> anyhow::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let conf = dir.join("nginx.conf");
        std::fs::create_dir_all(dir.join("tmp"))?;
        std::fs::create_dir_all(dir.join("www"))?;
        for (name, content) in files {
            anyhow::ensure!(
                !name.contains('/') && !name.is_empty(),
                "site file {name:?}: a plain file name"
            );
            std::fs::write(dir.join("www").join(name), content)?;
        }
        let names: Vec<&str> = files.iter().map(|f| f.0).collect();
        std::fs::write(&conf, config(dir, assets, &names, upstream, addr))?;
        let mut child = Command::new("nginx")
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("spawning nginx")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!(
                    "nginx exited ({status}): {}",
                    std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(Self {
                    dir: dir.to_owned(),
                    addr,
                    child: Some(child),
                });
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("nginx did not listen on {addr} within 10 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Lines of the access log: `remote "request" status bytes upstream=status`.
    pub fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn config(
    dir: &Path,
    assets: &Path,
    files: &[&str],
    upstream: SocketAddr,
    listen: SocketAddr,
) -> String {
    // One process (no workers to outlive a killed master); as root, stay root so the files of
    // a 0700 temp dir are readable.
    let user = if is_root() { "user root;\n" } else { "" };
    let d = dir.display();
    let files: String = files
        .iter()
        .map(|f| format!("        location = /{f} {{ root {d}/www; }}\n"))
        .collect();
    format!(
        r#"{user}daemon off;
master_process off;
pid {d}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    log_format gw '$remote_addr "$request" $status $body_bytes_sent upstream=$upstream_status';
    access_log {d}/access.log gw;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    default_type application/octet-stream;
    server {{
        listen {listen};
        location /assets/ {{ alias {assets}/; }}
{files}        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"#,
        assets = assets.display(),
    )
}
