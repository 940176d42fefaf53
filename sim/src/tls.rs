//! TLS for the whole farm: one generated CA and one leaf certificate whose subject alternative
//! names cover every BMC address, so a client trusts all BMCs given the CA's PEM
//! (`cairn-agent --bmc-ca-file`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::SimError;

/// The CA to hand to clients and the acceptor every listener shares.
pub(crate) struct TlsMaterial {
    pub(crate) ca_pem: String,
    pub(crate) acceptor: TlsAcceptor,
}

/// TLS sessions remembered per simulated BMC for resumption.
const SESSIONS_PER_BMC: usize = 8;

fn err(context: &str) -> impl FnOnce(rcgen::Error) -> SimError + '_ {
    move |e| SimError::Tls(format!("{context}: {e}"))
}

/// A fresh CA and a leaf for `ips` (plus `localhost`, 127.0.0.1 and ::1).
pub(crate) fn generate(ips: &[IpAddr]) -> Result<TlsMaterial, SimError> {
    let ca_key = KeyPair::generate().map_err(err("CA key"))?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "cairn-sim CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(err("CA certificate"))?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut sans: Vec<IpAddr> = vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()];
    sans.extend(ips.iter().copied().filter(|ip| !ip.is_unspecified()));
    sans.sort_unstable();
    sans.dedup();
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_owned()]).map_err(err("leaf names"))?;
    leaf_params
        .subject_alt_names
        .extend(sans.into_iter().map(SanType::IpAddress));
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "cairn-sim BMC");
    leaf_params.is_ca = IsCa::NoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().map_err(err("leaf key"))?;
    let leaf_cert = leaf_params
        .signed_by(&leaf_key, &issuer)
        .map_err(err("leaf certificate"))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SimError::Tls(format!("protocol versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone(), ca_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .map_err(|e| SimError::Tls(format!("server certificate: {e}")))?;
    // BMCs speak HTTP/1.1; say so, or a client offering h2 may try it.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Every simulated BMC shares this configuration, where each real one has its own session
    // cache: size it for all of them, so clients resume as they would against real BMCs.
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(
        ips.len().max(1).saturating_mul(SESSIONS_PER_BMC),
    );
    Ok(TlsMaterial {
        ca_pem: ca_cert.pem(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}
