//! `cairn_bootsvc::dhcp` over real sockets: the server in relay mode on loopback, driven by a
//! small dhcproto client posing as a relay agent; and, as root, on a bridge in a network
//! namespace, driven by the real udhcpc and ISC dhclient.

mod netns;
mod relay;
mod support;
