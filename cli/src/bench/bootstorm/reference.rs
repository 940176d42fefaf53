//! nginx as the reference for the HTTP part: every node's boot script and cloud-init
//! documents are fetched once from the agent, from the node's own address, and written as
//! files that nginx serves at the very same URLs: the script by its `?mac=`, the documents by
//! the client's address (`$remote_addr`, how the agent tells nodes apart too). The virtual
//! nodes then run the same requests, on the same connections, from the same addresses,
//! against both.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use futures::{StreamExt as _, TryStreamExt as _, stream};

use super::storm::Node;

/// The documents, as (URL path, directory under the root, file named by address?).
const DOCUMENTS: [(&str, &str); 3] = [
    ("/cloud-init/meta-data", "meta-data"),
    ("/cloud-init/user-data", "user-data"),
    ("/cloud-init/vendor-data", "vendor-data"),
];

/// nginx's listen backlog: the agent's boot service's (`HTTP_BACKLOG` in
/// `cairn_agent::boot::serve`), so that both queue the storm's connections alike.
pub const BACKLOG: u32 = 8192;

/// Files each nginx worker keeps open.
const OPEN_FILE_CACHE: usize = 4096;

/// nginx directives mapping the agent's URLs to the files under the root.
pub fn locations() -> String {
    // Each worker holds the files of its cache open beside its connections (up to all of
    // the storm's): 4 files × 10,000 nodes would not fit a usual open-files limit, and a
    // storm asks for each file once anyway.
    let mut out = format!(
        "        open_file_cache max={OPEN_FILE_CACHE} inactive=60s;\n        location = \
         /boot/v1/bootscript {{ try_files /bootscript/$arg_mac =404; }}\n"
    );
    for (path, dir) in DOCUMENTS {
        out.push_str(&format!(
            "        location = {path} {{ try_files /{dir}/$remote_addr =404; }}\n"
        ));
    }
    out
}

/// The files of one node under the root: (relative path, the URL path asked for).
fn files_of(node: &Node) -> Vec<(String, String)> {
    let mac = node.spec.mac.to_string();
    let mut files = vec![(
        format!("bootscript/{mac}"),
        format!("/boot/v1/bootscript?mac={mac}"),
    )];
    for (path, dir) in DOCUMENTS {
        files.push((format!("{dir}/{}", node.ip), path.to_owned()));
    }
    files
}

/// An HTTP client whose connections leave from `ip`.
fn client_from(ip: IpAddr) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .local_address(ip)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// `GET` from the node's address: the status and body.
async fn get(http: &reqwest::Client, url: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    let resp = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = resp.status().as_u16();
    Ok((status, resp.bytes().await?.to_vec()))
}

/// Fetch what the agent at `server` serves each node and write it under `root`. A 404 (no
/// vendor-data, say) writes no file, so nginx answers 404 too; any other status but 200 fails.
pub async fn write_files(server: SocketAddr, nodes: &[Node], root: &Path) -> anyhow::Result<()> {
    for dir in ["bootscript"]
        .into_iter()
        .chain(DOCUMENTS.iter().map(|d| d.1))
    {
        std::fs::create_dir_all(root.join(dir))
            .with_context(|| format!("cannot create {}", root.join(dir).display()))?;
    }
    stream::iter(nodes)
        .map(|node| async move {
            let http = client_from(IpAddr::V4(node.ip))?;
            for (file, path) in files_of(node) {
                let url = format!("http://{server}{path}");
                let (status, body) = get(&http, &url).await?;
                match status {
                    200 => std::fs::write(root.join(&file), body)
                        .with_context(|| format!("cannot write {file}"))?,
                    404 => {}
                    s => anyhow::bail!(
                        "GET {url} from {}: {s} {}",
                        node.ip,
                        String::from_utf8_lossy(&body)
                    ),
                }
            }
            anyhow::Ok(())
        })
        .buffer_unordered(64)
        .try_collect::<()>()
        .await
}

/// Check, on a sample of nodes, that nginx at `nginx` answers exactly what the agent at
/// `agent` does, status and bytes.
pub async fn same_answers(
    agent: SocketAddr,
    nginx: SocketAddr,
    nodes: &[Node],
) -> anyhow::Result<()> {
    let step = (nodes.len() / 16).max(1);
    for node in nodes.iter().step_by(step) {
        let http = client_from(IpAddr::V4(node.ip))?;
        for (_, path) in files_of(node) {
            let a = get(&http, &format!("http://{agent}{path}")).await?;
            let n = get(&http, &format!("http://{nginx}{path}")).await?;
            anyhow::ensure!(
                a == n,
                "{path} from {}: nginx answers {} ({} bytes), the agent {} ({} bytes)",
                node.ip,
                n.0,
                n.1.len(),
                a.0,
                a.1.len()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_sim::node::{NodeSpec, mac_of};

    #[test]
    fn every_url_maps_to_its_file() {
        let node = Node {
            spec: NodeSpec::new(mac_of(258)),
            ip: "127.64.1.3".parse().expect("ip"),
        };
        let files = files_of(&node);
        assert_eq!(
            files,
            [
                (
                    "bootscript/02:cb:00:00:01:02".to_owned(),
                    "/boot/v1/bootscript?mac=02:cb:00:00:01:02".to_owned()
                ),
                (
                    "meta-data/127.64.1.3".to_owned(),
                    "/cloud-init/meta-data".to_owned()
                ),
                (
                    "user-data/127.64.1.3".to_owned(),
                    "/cloud-init/user-data".to_owned()
                ),
                (
                    "vendor-data/127.64.1.3".to_owned(),
                    "/cloud-init/vendor-data".to_owned()
                ),
            ]
        );
        let conf = locations();
        assert!(
            conf.contains("open_file_cache max=4096 inactive=60s;"),
            "{conf}"
        );
        assert!(
            conf.contains(
                "location = /boot/v1/bootscript { try_files /bootscript/$arg_mac =404; }"
            ),
            "{conf}"
        );
        for (path, dir) in DOCUMENTS {
            assert!(
                conf.contains(&format!(
                    "location = {path} {{ try_files /{dir}/$remote_addr =404; }}"
                )),
                "{conf}"
            );
        }
    }
}
