//! Boot serving at the rack: DHCP, TFTP, and HTTP (iPXE scripts, cloud-init, the kernel and
//! initrd cache), all answered from the agent's copy of its racks' desired state, so nodes
//! keep booting while the coordinators are unreachable.
//!
//! ```text
//!  Watch ─▶ store (sled, flushed) ─▶ RackState ─┬─ RackSource ─▶ bootsvc routers (HTTP)
//!                                              ├─ DHCP hosts ─▶ DHCPv4 server
//!                                              └─ image URLs ─▶ image cache (prefetch)
//!  every step served ─▶ boot events ─▶ outbox
//! ```
//!
//! - [`rack`]: the desired state in memory, with its lookups;
//! - [`source`]: bootsvc's `BootSource` over it;
//! - [`dhcp`]: the DHCP server's view of the rack, and its events for the outbox;
//! - [`events`]: boot events for the outbox;
//! - [`serve`]: binding and running the services from `[boot]`;
//! - [`status`]: their counters, for the agent's status.

pub mod dhcp;
pub mod events;
pub mod rack;
pub mod serve;
pub mod source;
pub mod status;

pub use rack::{DesiredStatus, RackState, RackView};
pub use serve::{BootServeError, BootServices};
pub use source::RackSource;
pub use status::{BootStats, BootStatus, TftpStatus};
