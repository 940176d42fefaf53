//! `cairn-bootsvc` image cache tests: a real origin on loopback that counts, holds, fails and
//! lies; the cache's router called in process.

mod failures;
mod lifecycle;
mod origin;
mod render;
mod serving;
