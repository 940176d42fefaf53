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
//! With an [`ImageUrls`] hook (the rack agent's image cache), `<kernel>` and `<initrd>` are
//! `<chain_base_url>/boot/v1/images/...` instead of the origin URLs.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use cairn_protocols::{
    BootData, BootEntry, ImageData, MacAddr, Xname, validate_image_path, validate_params,
};

use crate::config::BootConfig;
use crate::source::NodeView;
use crate::state::ImageUrls;

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
    base_url: String,
    bootscript_url: String,
    ds_param: String,
    retry_delay_secs: u32,
    max_retries: u32,
    image_urls: Option<ImageUrlsHook>,
}

/// An [`ImageUrls`] the renderer can derive `Debug` over.
#[derive(Clone)]
struct ImageUrlsHook(Arc<dyn ImageUrls>);

impl std::fmt::Debug for ImageUrlsHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImageUrls")
    }
}

impl ScriptRenderer {
    /// Precomputes the chain URL and the `ds=` parameter (the config must be valid).
    pub fn new(config: &BootConfig) -> Self {
        let chain = config.chain_base_url.trim_end_matches('/');
        let ci = config.cloud_init_base_url.trim_end_matches('/');
        ScriptRenderer {
            base_url: chain.to_owned(),
            bootscript_url: format!("{chain}/boot/v1/bootscript"),
            ds_param: format!("ds=nocloud-net;s={ci}/"),
            retry_delay_secs: config.retry_delay_secs,
            max_retries: config.max_retries,
            image_urls: None,
        }
    }

    /// Scripts name kernels and initrds at `chain_base_url` + the path `urls` gives, where it
    /// gives one.
    pub fn with_image_urls(self, urls: Arc<dyn ImageUrls>) -> Self {
        ScriptRenderer {
            image_urls: Some(ImageUrlsHook(urls)),
            ..self
        }
    }

    /// Where the script fetches `image` (a checked path or URL) from.
    fn image_url<'a>(&self, image: &'a str) -> Cow<'a, str> {
        let Some(path) = self.image_urls.as_ref().and_then(|h| h.0.rewrite(image)) else {
            return Cow::Borrowed(image);
        };
        let url = format!("{}{path}", self.base_url);
        // The hook is the host's code, but script text gets the same check as stored data.
        match validate_image_path("image", &url) {
            Ok(()) => Cow::Owned(url),
            Err(e) => {
                tracing::error!(error = %e, "ignoring an unusable image URL rewrite");
                Cow::Borrowed(image)
            }
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
            self.image_url(&entry.kernel)
        );
        if !entry.initrd.is_empty() {
            let _ = writeln!(
                s,
                "initrd --name initrd {} || goto boot_retry",
                self.image_url(&entry.initrd)
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
