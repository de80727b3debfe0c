//! A certificate's expiry, one implementation for the Services tab's certificates and the
//! renew-certificate runbook: the leaf a server presents in a TLS handshake (with the SNI
//! name asked for; the chain is read, never judged, so an expired or self-signed
//! certificate still shows its date) or the first certificate of a PEM file on disk.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::sanitize::strip_escapes;

pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What was read of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// The subject, escape sequences stripped.
    pub subject: String,
    pub not_after: DateTime<Utc>,
    /// sha256 of the DER: tells two certificates with one expiry apart.
    pub fingerprint: String,
}

/// The subject and not-after of a DER certificate.
pub fn parse_der(der: &[u8]) -> anyhow::Result<Leaf> {
    use sha2::{Digest, Sha256};
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| anyhow::anyhow!("not an X.509 certificate: {e}"))?;
    let ts = cert.validity().not_after.timestamp();
    let not_after =
        DateTime::from_timestamp(ts, 0).ok_or_else(|| anyhow::anyhow!("not-after out of range"))?;
    Ok(Leaf {
        subject: strip_escapes(&cert.subject().to_string()),
        not_after,
        fingerprint: format!("{:x}", Sha256::digest(der)),
    })
}

/// The first certificate of a PEM file.
pub fn read_pem(path: &std::path::Path) -> anyhow::Result<Leaf> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    for pem in x509_parser::pem::Pem::iter_from_buffer(&bytes) {
        let pem = pem.map_err(|e| anyhow::anyhow!("{}: not PEM: {e}", path.display()))?;
        if pem.label == "CERTIFICATE" {
            return parse_der(&pem.contents)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
        }
    }
    anyhow::bail!("{}: no CERTIFICATE in the file", path.display())
}

/// Reads, never judges: the date is what is wanted, whoever signed it.
#[derive(Debug)]
struct ReadOnly(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for ReadOnly {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `host:port` split, `[v6]:port` understood.
pub fn split_addr(addr: &str) -> anyhow::Result<(&str, u16)> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("`{addr}` is not host:port"))?;
    let port = port
        .parse()
        .map_err(|_| anyhow::anyhow!("`{addr}`: `{port}` is not a port"))?;
    Ok((host.trim_start_matches('[').trim_end_matches(']'), port))
}

/// The leaf certificate `host:port` presents when asked for `sni` (the host when None).
pub async fn served(host: &str, port: u16, sni: Option<&str>) -> anyhow::Result<Leaf> {
    let shown = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let sni = sni.filter(|s| !s.is_empty()).unwrap_or(host);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ReadOnly(provider)))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from(sni.to_string())
        .map_err(|e| anyhow::anyhow!("server name `{sni}`: {e}"))?;
    let work = async {
        let tcp = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
        let tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| anyhow::anyhow!("{shown}: TLS handshake: {e}"))?;
        let (_, conn) = tls.get_ref();
        let leaf = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or_else(|| anyhow::anyhow!("{shown} presented no certificate"))?;
        parse_der(leaf.as_ref())
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, work)
        .await
        .map_err(|_| anyhow::anyhow!("{shown}: no handshake within 10s"))?
}

/// The leaf certificate `host:port` presents, with SNI `host`.
pub async fn handshake(addr: &str) -> anyhow::Result<Leaf> {
    let (host, port) = split_addr(addr)?;
    served(host, port, None).await
}
