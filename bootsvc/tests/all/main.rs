//! `cairn-bootsvc` integration tests: golden scripts, properties of the renderer, cloud-init
//! rendering and the HTTP handlers, all over an in-memory `BootSource`.

#![allow(clippy::unwrap_used)]

mod cloud;
mod fixture;
mod golden;
mod handlers;
mod props;
