//! The coordinator's [`BootSource`]: boot serving over this replica's applied inventory, and
//! the node-facing routes of `cairn-bootsvc` mounted on the API.
//!
//! **Reads are local, on purpose.** A bootscript or meta-data request is answered from the
//! state this replica has applied, without a read-index round trip to the leader:
//! - it keeps a boot request to a few map lookups, which is what serving thousands of
//!   booting nodes at nginx's rate takes;
//! - a write acknowledged by the cluster reaches a healthy follower within a heartbeat, and
//!   boot data changes far less often than nodes boot; a node that read slightly old data
//!   gets what the operator had set a moment before, as with any cache (BSS refreshes its
//!   copy of SMD every 10 minutes);
//! - a replica cut off from the others keeps serving the last state it knew, which is what a
//!   rack needs through a partition (`DESIGN.md`), rather than failing every boot.
//!
//! The one state that is never served is *none*: a replica that has not applied a single log
//! entry yet (just joined, snapshot still on its way) answers 503 where it would otherwise say
//! "unknown node", so a known node is never handed the discovery image by mistake.
//!
//! Phone-home reports are writes: they go through Raft like any other.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use cairn_bootsvc::{BootSource, NodeView, SourceError, SourceResult};
use cairn_protocols::{
    BootEntry, BootKey, ClusterDefaults, Component, GroupData, HmsType, InstanceInfo, MacAddr,
    PhoneHome, Xname,
};

use super::error::ApiError;
use super::state::AppState;
use crate::inventory::{BootCommand, Command, Inventory};

/// [`BootSource`] over a replica's applied inventory (see the module doc).
#[derive(Clone)]
pub struct ReplicaSource {
    app: AppState,
}

impl ReplicaSource {
    /// Boot data from this replica.
    pub fn new(app: AppState) -> Self {
        ReplicaSource { app }
    }

    fn read<R>(&self, f: impl FnOnce(&Inventory) -> R) -> SourceResult<R> {
        Ok(self.app.replica().read(f))
    }

    /// A node lookup. "No such node" from a replica that has applied nothing yet would be
    /// a lie (the node may well exist), so that case answers 503 instead.
    fn node(
        &self,
        find: impl FnOnce(&Inventory) -> Option<&Component>,
    ) -> SourceResult<Option<NodeView>> {
        let found = self.read(|inv| find(inv).and_then(|c| node_view(inv, c)))?;
        if found.is_none() && self.app.replica().metrics().borrow().last_applied.is_none() {
            return Err(SourceError::Unavailable(
                "this replica has not received the inventory yet; retry".into(),
            ));
        }
        Ok(found)
    }
}

/// A component as boot serving sees it, if it is a node.
fn node_view(inv: &Inventory, c: &Component) -> Option<NodeView> {
    if c.id.hms_type() != HmsType::Node {
        return None;
    }
    let interfaces = inv.boot_interfaces(&c.id);
    Some(NodeView {
        xname: c.id.clone(),
        nid: c.nid,
        role: c.role.clone(),
        sub_role: c.sub_role.clone(),
        arch: c.arch,
        enabled: c.enabled.unwrap_or(true),
        macs: interfaces.iter().map(|i| i.mac_address).collect(),
    })
}

fn source_error(e: ApiError) -> SourceError {
    match e {
        ApiError::Unavailable(m) => SourceError::Unavailable(m),
        other => SourceError::Internal(Box::new(other)),
    }
}

impl BootSource for ReplicaSource {
    fn node_by_mac(
        &self,
        mac: MacAddr,
    ) -> impl Future<Output = SourceResult<Option<NodeView>>> + Send {
        std::future::ready(self.node(|inv| inv.node_by_mac(&mac).and_then(|x| inv.component(x))))
    }

    fn node_by_name(
        &self,
        xname: &Xname,
    ) -> impl Future<Output = SourceResult<Option<NodeView>>> + Send {
        std::future::ready(self.node(|inv| inv.component(xname)))
    }

    fn node_by_nid(&self, nid: i64) -> impl Future<Output = SourceResult<Option<NodeView>>> + Send {
        std::future::ready(self.node(|inv| inv.node_by_nid(nid).and_then(|x| inv.component(x))))
    }

    fn node_by_ip(
        &self,
        ip: IpAddr,
    ) -> impl Future<Output = SourceResult<Option<NodeView>>> + Send {
        std::future::ready(self.node(|inv| inv.node_by_ip(ip).and_then(|x| inv.component(x))))
    }

    fn boot_entry(
        &self,
        key: &BootKey,
    ) -> impl Future<Output = SourceResult<Option<Arc<BootEntry>>>> + Send {
        std::future::ready(self.read(|inv| inv.boot_entry(key).cloned()))
    }

    fn cluster_defaults(&self) -> impl Future<Output = SourceResult<Arc<ClusterDefaults>>> + Send {
        std::future::ready(self.read(|inv| Arc::clone(inv.cloud_init_defaults())))
    }

    fn groups_of(&self, xname: &Xname) -> impl Future<Output = SourceResult<Vec<String>>> + Send {
        std::future::ready(self.read(|inv| inv.group_labels_of(xname)))
    }

    fn group_data(
        &self,
        name: &str,
    ) -> impl Future<Output = SourceResult<Option<Arc<GroupData>>>> + Send {
        std::future::ready(self.read(|inv| inv.cloud_init_group(name).cloned()))
    }

    fn instance_info(
        &self,
        xname: &Xname,
    ) -> impl Future<Output = SourceResult<Option<Arc<InstanceInfo>>>> + Send {
        std::future::ready(self.read(|inv| inv.instance_info(xname).cloned()))
    }

    /// Moved by every applied command that may change boot data (not by power results or
    /// samples), so cached answers (`cairn-bootsvc` keeps rendered scripts and cloud-init per
    /// node) last until boot data may have changed.
    fn revision(&self) -> Option<u64> {
        Some(self.app.replica().read(Inventory::boot_answers_changed_at))
    }

    fn record_phone_home(
        &self,
        xname: &Xname,
        report: PhoneHome,
    ) -> impl Future<Output = SourceResult<()>> + Send {
        let cmd = Command::Boot(BootCommand::PhoneHome {
            id: xname.clone(),
            report,
            at: super::now_rfc3339(),
        });
        let app = self.app.clone();
        async move { app.submit(cmd).await.map(drop).map_err(source_error) }
    }
}

/// The node-facing routes `cairn-bootsvc` serves over this replica: `GET /boot/v1/bootscript`
/// and, under `/cloud-init`, `meta-data`, `user-data`, `vendor-data`, `{group}.yaml` and
/// `phone-home/{id}`. Nodes are identified by their address, so the API is served with
/// connect info (`replica.rs`).
pub(super) fn node_routes(app: &AppState) -> axum::Router<AppState> {
    let source = ReplicaSource::new(app.clone());
    match cairn_bootsvc::BootState::new(source, app.boot_config().clone()) {
        Ok(state) => axum::Router::new()
            .merge(cairn_bootsvc::bss_router(state.clone()))
            .nest("/cloud-init", cairn_bootsvc::cloud_init_router(state)),
        Err(e) => {
            // Unreachable for a config that went through `Config::validate`; a replica built
            // in code with a bad one still serves everything else.
            tracing::error!(error = %e, "boot serving disabled: invalid boot configuration");
            axum::Router::new()
        }
    }
}

/// Whether `route` (a matched path) is one of [`node_routes`], whose handlers open their own
/// request span. The paths are `cairn-bootsvc`'s routes as mounted here; the admin routes
/// under `/cloud-init/admin` are not among them.
pub(super) fn is_node_route(route: &str) -> bool {
    matches!(
        route,
        "/boot/v1/bootscript"
            | "/cloud-init/meta-data"
            | "/cloud-init/user-data"
            | "/cloud-init/vendor-data"
            | "/cloud-init/{file}"
            | "/cloud-init/phone-home/{id}"
    )
}

/// OpenAPI descriptions of [`node_routes`], which `cairn-bootsvc` implements.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    doc::bootscript,
    doc::meta_data,
    doc::user_data,
    doc::vendor_data,
    doc::group_file,
    doc::phone_home
))]
pub(super) struct NodeRoutesDoc;

/// Documentation only: the handlers live in `cairn-bootsvc`.
#[allow(dead_code)]
mod doc {
    use cairn_protocols::{BootData, Problem};

    /// iPXE boot script for the node named by `mac`, `name` or `nid` (BSS).
    #[utoipa::path(get, path = "/boot/v1/bootscript", tag = "bss",
        params(("mac" = Option<String>, Query), ("name" = Option<String>, Query),
            ("nid" = Option<i64>, Query), ("arch" = Option<String>, Query),
            ("retry" = Option<u32>, Query), ("json" = Option<i64>, Query)),
        responses((status = 200, description = "iPXE script (text/plain), or BootData with json=1",
            body = BootData), (status = 400, body = Problem), (status = 404, body = Problem)))]
    pub fn bootscript() {}

    /// The requesting node's cloud-init meta-data (YAML).
    #[utoipa::path(get, path = "/cloud-init/meta-data", tag = "cloud-init",
        responses((status = 200, description = "application/x-yaml"),
            (status = 422, body = Problem)))]
    pub fn meta_data() {}

    /// The requesting node's user-data: `#cloud-config` merged from cluster defaults, its
    /// groups and its instance info.
    #[utoipa::path(get, path = "/cloud-init/user-data", tag = "cloud-init",
        responses((status = 200, description = "#cloud-config"), (status = 422, body = Problem)))]
    pub fn user_data() {}

    /// The requesting node's vendor-data: `#include` of its groups' files.
    #[utoipa::path(get, path = "/cloud-init/vendor-data", tag = "cloud-init",
        responses((status = 200, description = "#include list"), (status = 422, body = Problem)))]
    pub fn vendor_data() {}

    /// One of the requesting node's groups' cloud-init file.
    #[utoipa::path(get, path = "/cloud-init/{group}.yaml", tag = "cloud-init",
        params(("group" = String, Path)),
        responses((status = 200, description = "the group's file"),
            (status = 404, body = Problem), (status = 422, body = Problem)))]
    pub fn group_file() {}

    /// cloud-init's phone-home form (`application/x-www-form-urlencoded`), recorded for the
    /// requesting node.
    #[utoipa::path(post, path = "/cloud-init/phone-home/{id}", tag = "cloud-init",
        params(("id" = String, Path)),
        responses((status = 200), (status = 400, body = Problem), (status = 422, body = Problem)))]
    pub fn phone_home() {}
}

#[cfg(test)]
mod tests {
    use super::is_node_route;

    #[test]
    fn node_routes_are_told_from_admin_routes() {
        for route in [
            "/boot/v1/bootscript",
            "/cloud-init/meta-data",
            "/cloud-init/user-data",
            "/cloud-init/vendor-data",
            "/cloud-init/{file}",
            "/cloud-init/phone-home/{id}",
        ] {
            assert!(is_node_route(route), "{route}");
        }
        for route in [
            "/cloud-init/admin/groups",
            "/cloud-init/admin/groups/{id}",
            "/boot/v1/bootparameters",
            "/hsm/v2/State/Components",
        ] {
            assert!(!is_node_route(route), "{route}");
        }
    }
}
