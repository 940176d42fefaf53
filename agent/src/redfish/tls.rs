//! TLS trust for BMCs: the operator's CA file, which may hold CA certificates or the BMCs' own
//! self-signed certificates.
//!
//! Most BMCs present a self-signed certificate, often marked `CA:TRUE`, which WebPKI refuses as
//! a server certificate even when it is a trust anchor. So a presented certificate that is
//! byte-for-byte one of the file's certificates is trusted as it is (pinning: the handshake
//! signature still proves the BMC holds its key; names and dates are not checked, as the
//! operator chose that exact certificate). Anything else must chain to one of the file's
//! certificates with the usual WebPKI checks, host name included.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The CA file could not be turned into a TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// No certificate in the PEM data.
    #[error("no PEM certificate found in the CA file")]
    NoCertificates,
    /// A PEM block is malformed.
    #[error("malformed PEM in the CA file")]
    Pem(#[source] rustls::pki_types::pem::Error),
    /// rustls refused the configuration.
    #[error("TLS configuration refused")]
    Rustls(#[source] rustls::Error),
}

/// TLS sessions kept for resumption, across all BMCs (a few hundred bytes each).
const RESUMABLE_SESSIONS: usize = 8192;

/// The process-wide crypto provider if one is installed, else ring's.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// A rustls client configuration trusting exactly the certificates of `ca_pem`.
pub(crate) fn client_config(ca_pem: &[u8]) -> Result<rustls::ClientConfig, TlsSetupError> {
    let certs = CertificateDer::pem_slice_iter(ca_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(TlsSetupError::Pem)?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificates);
    }
    let provider = provider();
    let mut roots = RootCertStore::empty();
    // Certificates webpki cannot use as anchors are still good for pinning.
    roots.add_parsable_certificates(certs.iter().cloned());
    let chained = if roots.is_empty() {
        None
    } else {
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| TlsSetupError::Rustls(rustls::Error::General(e.to_string())))?;
        Some(verifier)
    };
    let verifier = PinnedOrChained {
        pinned: certs,
        chained,
        provider: provider.clone(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsSetupError::Rustls)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // rustls remembers 256 sessions by default; an agent talks to thousands of BMCs, and a
    // resumed session skips the handshake's signature and certificate checks.
    config.resumption = rustls::client::Resumption::in_memory_sessions(RESUMABLE_SESSIONS);
    Ok(config)
}

#[derive(Debug)]
struct PinnedOrChained {
    pinned: Vec<CertificateDer<'static>>,
    chained: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedOrChained {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.chained {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_certificates_is_refused() {
        assert!(matches!(
            client_config(b"not a pem file"),
            Err(TlsSetupError::NoCertificates)
        ));
        let garbage = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(client_config(garbage).is_err());
    }
}
