//! Boot serving as a library: BSS-shaped iPXE scripts and OpenCHAMI-compatible cloud-init,
//! rendered from a [`BootSource`] view of the inventory so the coordinator and the rack agent
//! give identical answers.
//!
//! A host service implements [`BootSource`] over its data, builds a [`BootState`] from it and
//! a [`BootConfig`], and mounts the routers:
//!
//! ```ignore
//! let state = BootState::new(source, config)?;
//! let app = api_router
//!     .merge(cairn_bootsvc::bss_router(state.clone()))
//!     .nest("/cloud-init", cairn_bootsvc::cloud_init_router(state));
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
//! ```
//!
//! - [`bootscript`]: the iPXE script for `GET /boot/v1/bootscript` (lookup, resolution, shape);
//! - [`cloudinit`]: `meta-data`, merged `user-data`, `vendor-data`, group files;
//! - [`ipxe`]: the script text itself, with the render-time checks;
//! - [`tftp`]: a read-only TFTP server for the iPXE binaries;
//! - [`ra`]: an optional IPv6 router advertisement sender that ends iPXE's IPv6 wait;
//! - [`images`]: the rack agent's image cache, which scripts can name instead of the origin;
//! - [`BootError`]: every failure, mapped once to an RFC 7807 response.

pub mod bootscript;
mod cache;
pub mod cloudinit;
pub mod config;
pub mod dhcp;
pub mod error;
mod http;
pub mod images;
pub mod ipxe;
pub mod ra;
pub mod source;
pub mod state;
pub mod tftp;

pub use bootscript::{BootscriptQuery, BootscriptReply};
pub use cache::ANSWER_CACHE_CAPACITY;
pub use config::BootConfig;
pub use error::BootError;
pub use http::{ClientIp, bss_router, client_ip, cloud_init_router};
pub use source::{BootSource, NodeView, SourceError, SourceResult};
pub use state::{BootState, ImageUrls};
