//! `cairn-bootsvc` integration tests, one binary for the crate: golden scripts, properties of
//! the renderer, cloud-init rendering and the HTTP handlers over an in-memory `BootSource`; the
//! TFTP server, router advertisements, the DHCP server over real sockets (`dhcp`) and the image
//! cache against a real origin on loopback (`images`).

#![allow(clippy::unwrap_used)]

mod cloud;
mod dhcp;
mod fixture;
mod golden;
mod handlers;
mod images;
mod props;
mod ra;
mod tftp;
