//! iPXE script rendering in BSS's byte shape (`buildBootScript`):
//!
//! ```text
//! #!ipxe
//! kernel --name kernel <kernel> initrd=initrd <params> xname=<x> nid=<n> BOOTIF=01-<mac> ds=nocloud-net;s=<cloud-init>/ || goto boot_retry
//! initrd --name initrd <initrd> || goto boot_retry
//! boot || goto boot_retry
//! :boot_retry
//! sleep <retry_delay_secs>
//! chain <chain_base_url>/boot/v1/bootscript?mac=<mac>&retry=<n+1>
//!
//! ```
//!
//! The `initrd` line and `initrd=initrd` appear only with an initrd. `xname=`, `nid=`,
//! `BOOTIF=` and `ds=` are added only when the stored params lack a word with that prefix.
//! Like BSS, the body ends with an empty line. Past `max_retries` the last line is `exit 1`.
//! Stored params and paths are checked again before rendering, so text that could add a line
//! or a command never reaches a script, whatever path it took into the store.

use std::fmt::Write as _;

use cairn_protocols::{
    BootData, BootEntry, ImageData, MacAddr, Xname, validate_image_path, validate_params,
};

use crate::config::BootConfig;
use crate::source::NodeView;

/// What a chain URL names the node by, as the request did (or the node's first MAC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainTarget {
    /// `?mac=aa:bb:cc:dd:ee:ff`
    Mac(MacAddr),
    /// `?name=<xname>`
    Name(Xname),
    /// `?nid=<n>`
    Nid(i64),
}

/// A [`BootEntry`] failed the render-time check: it must not be served.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unrenderable(pub cairn_protocols::FieldError);

/// A kernel command line built by [`ScriptRenderer::kernel_params`]: checked stored params
/// plus Cairn's own additions, so it can only be the words it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelParams(String);

impl KernelParams {
    /// The command line.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Renders scripts for one [`BootConfig`]; the fixed parts are built once.
#[derive(Debug, Clone)]
pub struct ScriptRenderer {
    bootscript_url: String,
    ds_param: String,
    retry_delay_secs: u32,
    max_retries: u32,
}

impl ScriptRenderer {
    /// Precomputes the chain URL and the `ds=` parameter (the config must be valid).
    pub fn new(config: &BootConfig) -> Self {
        let chain = config.chain_base_url.trim_end_matches('/');
        let ci = config.cloud_init_base_url.trim_end_matches('/');
        ScriptRenderer {
            bootscript_url: format!("{chain}/boot/v1/bootscript"),
            ds_param: format!("ds=nocloud-net;s={ci}/"),
            retry_delay_secs: config.retry_delay_secs,
            max_retries: config.max_retries,
        }
    }

    /// The kernel command line for `entry`: `initrd=initrd` first when there is an initrd
    /// (replacing any stored `initrd=` word), the stored params, then `xname=`, `nid=`,
    /// `BOOTIF=` and `ds=` unless already present.
    pub fn kernel_params(
        &self,
        entry: &BootEntry,
        node: Option<&NodeView>,
        mac: Option<MacAddr>,
    ) -> Result<KernelParams, Unrenderable> {
        validate_params(&entry.params).map_err(Unrenderable)?;
        let has_initrd = !entry.initrd.is_empty();
        let words = || entry.params.split(' ').filter(|w| !w.is_empty());
        let has = |prefix: &str| words().any(|w| w.starts_with(prefix));
        let mut out = String::with_capacity(entry.params.len() + 192);
        let mut push = |w: &str| {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        };
        if has_initrd {
            push("initrd=initrd");
        }
        for w in words().filter(|w| !(has_initrd && w.starts_with("initrd="))) {
            push(w);
        }
        if let Some(node) = node {
            if !has("xname=") {
                push(&format!("xname={}", node.xname));
            }
            if let Some(nid) = node.nid.filter(|_| !has("nid=")) {
                push(&format!("nid={nid}"));
            }
        }
        if let Some(mac) = mac.filter(|_| !has("BOOTIF=")) {
            push(&format!("BOOTIF={}", mac.bootif()));
        }
        if !has("ds=") {
            push(&self.ds_param);
        }
        Ok(KernelParams(out))
    }

    /// The boot script for `entry` with the command line from [`Self::kernel_params`];
    /// `retry` is the request's retry count, `unknown` adds `arch=${buildarch}` to the chain.
    pub fn script(
        &self,
        entry: &BootEntry,
        params: &KernelParams,
        target: &ChainTarget,
        unknown: bool,
        retry: u32,
    ) -> Result<String, Unrenderable> {
        validate_image_path("kernel", &entry.kernel).map_err(Unrenderable)?;
        validate_image_path("initrd", &entry.initrd).map_err(Unrenderable)?;
        let params = params.as_str();
        let mut s =
            String::with_capacity(params.len() + entry.kernel.len() + entry.initrd.len() + 256);
        s.push_str("#!ipxe\n");
        let _ = writeln!(
            s,
            "kernel --name kernel {} {params} || goto boot_retry",
            entry.kernel
        );
        if !entry.initrd.is_empty() {
            let _ = writeln!(
                s,
                "initrd --name initrd {} || goto boot_retry",
                entry.initrd
            );
        }
        s.push_str("boot || goto boot_retry\n:boot_retry\n");
        let _ = writeln!(s, "sleep {}", self.retry_delay_secs);
        match retry.checked_add(1).filter(|n| *n <= self.max_retries) {
            Some(next) => {
                self.chain(&mut s, target, unknown);
                let _ = writeln!(s, "&retry={next}");
            }
            None => s.push_str("exit 1\n"),
        }
        s.push('\n');
        Ok(s)
    }

    /// For a node not (yet) bootable: ask iPXE to come back with its architecture.
    pub fn arch_probe(&self, target: &ChainTarget) -> String {
        let mut s = String::with_capacity(self.bootscript_url.len() + 64);
        s.push_str("#!ipxe\n");
        self.chain(&mut s, target, true);
        s.push_str("\n\n");
        s
    }

    /// The `?json=1` view of a script.
    pub fn boot_data(entry: &BootEntry, params: KernelParams) -> BootData {
        BootData {
            params: params.0,
            kernel: ImageData {
                path: entry.kernel.clone(),
                params: String::new(),
            },
            initrd: ImageData {
                path: entry.initrd.clone(),
                params: String::new(),
            },
        }
    }

    /// `chain <url>?<target>[&arch=${buildarch}]`, without a newline.
    fn chain(&self, s: &mut String, target: &ChainTarget, unknown: bool) {
        s.push_str("chain ");
        s.push_str(&self.bootscript_url);
        let _ = match target {
            ChainTarget::Mac(m) => write!(s, "?mac={m}"),
            ChainTarget::Name(x) => write!(s, "?name={x}"),
            ChainTarget::Nid(n) => write!(s, "?nid={n}"),
        };
        if unknown {
            s.push_str("&arch=${buildarch}");
        }
    }
}
