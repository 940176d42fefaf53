//! `GET /boot/v1/bootscript`: which node is asking, which boot data applies, which script.
//!
//! Lookup as BSS: the first of `mac=`, `name=`, `nid=` present names the node. Boot data is
//! the first entry with a kernel among the node's own key, its role's and `Default` (an entry
//! without a kernel, e.g. one holding only cloud-init data, is passed over). A node that is
//! not in the inventory, is disabled, or has no such entry is *unknown*: without `arch=` it is
//! asked to chain back with `arch=${buildarch}`; with it, `Unknown-<arch>` boots it when that
//! entry has a kernel, else 404 "no configuration available for unknown hosts". An enabled
//! node without boot data of its own, its role's or `Default` that boots from `Unknown-<arch>`
//! still gets its `xname=` and `nid=`; a disabled node is treated exactly as an unknown one.

use std::sync::Arc;

use cairn_protocols::{
    BootData, BootEntry, BootKey, FieldError, KNOWN_ROLES, MacAddr, Xname, validate_arch,
};

use crate::error::BootError;
use crate::ipxe::ChainTarget;
use crate::source::{BootSource, NodeView};
use crate::state::BootState;

/// The query of a bootscript request. Unknown keys (BSS's `ts`) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BootscriptQuery {
    /// `mac=`: the MAC the firmware booted from.
    pub mac: Option<MacAddr>,
    /// `name=`: an xname.
    pub name: Option<Xname>,
    /// `nid=`.
    pub nid: Option<i64>,
    /// `arch=`: iPXE's `${buildarch}`, lower-cased.
    pub arch: Option<String>,
    /// `retry=`: how many times the node chained back already.
    pub retry: u32,
    /// `json=` non-zero: answer [`BootData`] JSON instead of a script.
    pub json: bool,
}

impl BootscriptQuery {
    /// Parses a raw query string; errors name the parameter. Empty values count as absent.
    pub fn parse(query: &str) -> Result<Self, BootError> {
        let mut q = BootscriptQuery::default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if v.is_empty() {
                continue;
            }
            let bad = |reason: String| BootError::BadInput(FieldError::invalid(k.as_ref(), reason));
            match k.as_ref() {
                "mac" => q.mac = Some(MacAddr::parse(&v).map_err(|e| bad(e.to_string()))?),
                "name" => q.name = Some(Xname::parse(&v).map_err(|e| bad(e.to_string()))?),
                "nid" => {
                    q.nid = Some(
                        v.parse()
                            .map_err(|_| bad(format!("{v:?} is not an integer")))?,
                    )
                }
                "arch" => q.arch = Some(validate_arch("arch", &v)?),
                "retry" => {
                    q.retry = v
                        .parse()
                        .map_err(|_| bad(format!("{v:?} is not a non-negative integer")))?
                }
                "json" => {
                    q.json = v
                        .parse::<i64>()
                        .map_err(|_| bad(format!("{v:?} is not an integer")))?
                        != 0
                }
                _ => {}
            }
        }
        Ok(q)
    }
}

/// What a bootscript request answers.
#[derive(Debug, Clone, PartialEq)]
pub enum BootscriptReply {
    /// An iPXE script (`text/plain`).
    Script(String),
    /// `?json=1`.
    Json(BootData),
}

/// Answers one bootscript request; the same for every host service.
pub async fn bootscript<S: BootSource>(
    state: &BootState<S>,
    q: &BootscriptQuery,
) -> Result<BootscriptReply, BootError> {
    let src = state.source();
    let (found, target) = if let Some(mac) = q.mac {
        (src.node_by_mac(mac).await?, ChainTarget::Mac(mac))
    } else if let Some(name) = &q.name {
        (
            src.node_by_name(name).await?,
            ChainTarget::Name(name.clone()),
        )
    } else if let Some(nid) = q.nid {
        (src.node_by_nid(nid).await?, ChainTarget::Nid(nid))
    } else {
        return Err(BootError::MissingSelector);
    };
    let node = found.filter(|n| n.enabled);
    // The retry chain names the node as the request did, or by its boot MAC (BSS prefers it).
    let target = match (&target, &node) {
        (ChainTarget::Mac(_), _) | (_, None) => target,
        (_, Some(n)) => n.macs.first().map_or_else(
            || ChainTarget::Name(n.xname.clone()),
            |m| ChainTarget::Mac(*m),
        ),
    };
    let mac = q
        .mac
        .or_else(|| node.as_ref().and_then(|n| n.macs.first().copied()));

    let known = match &node {
        Some(n) => resolve(src, n).await?,
        None => None,
    };
    let (key, entry, unknown) = match known {
        Some((key, entry)) => (key, entry, false),
        None => {
            let Some(arch) = &q.arch else {
                if q.json {
                    return Err(BootError::NotFound(
                        "no configuration available for unknown hosts without arch=".into(),
                    ));
                }
                return Ok(BootscriptReply::Script(
                    state.renderer().arch_probe(&target),
                ));
            };
            let key = BootKey::Unknown(arch.clone());
            match src.boot_entry(&key).await?.filter(|e| !e.kernel.is_empty()) {
                Some(entry) => (key, entry, true),
                None => {
                    return Err(BootError::NotFound(
                        "no configuration available for unknown hosts".into(),
                    ));
                }
            }
        }
    };
    let unrenderable = |reason| BootError::Unrenderable {
        what: format!("boot parameters of {key}"),
        reason,
    };
    let r = state.renderer();
    let params = r
        .kernel_params(&entry, node.as_ref(), mac)
        .map_err(unrenderable)?;
    if q.json {
        return Ok(BootscriptReply::Json(
            crate::ipxe::ScriptRenderer::boot_data(&entry, params),
        ));
    }
    r.script(&entry, &params, &target, unknown, q.retry)
        .map(BootscriptReply::Script)
        .map_err(unrenderable)
}

/// Node → role → `Default`: the first stored entry with a kernel.
pub async fn resolve<S: BootSource>(
    src: &S,
    node: &NodeView,
) -> Result<Option<(BootKey, Arc<BootEntry>)>, BootError> {
    let role = node
        .role
        .as_deref()
        .and_then(|r| KNOWN_ROLES.iter().find(|k| k.eq_ignore_ascii_case(r)))
        .map(|r| BootKey::Role((*r).to_owned()));
    let keys = [
        Some(BootKey::Node(node.xname.clone())),
        role,
        Some(BootKey::Default),
    ];
    for key in keys.into_iter().flatten() {
        if let Some(entry) = src.boot_entry(&key).await?.filter(|e| !e.kernel.is_empty()) {
            return Ok(Some((key, entry)));
        }
    }
    Ok(None)
}
