//! Certificate expiry: the leaf a server presents in a TLS handshake (SNI = the host; the
//! chain is not judged, only read, so an expired or self-signed certificate still shows its
//! date) or the first certificate of a PEM file on disk.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::model::clean as strip_escapes;
use super::model::CertInfo;
use crate::config::services::CertConfig;
use crate::providers::poller::{self, Poll, Refresh, Schedule};
use crate::providers::{Envelope, ProviderId};

pub const PROVIDER: ProviderId = ProviderId::fixed("certs");

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The subject and not-after of a DER certificate.
pub fn parse_der(der: &[u8]) -> anyhow::Result<(String, DateTime<Utc>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| anyhow::anyhow!("not an X.509 certificate: {e}"))?;
    let ts = cert.validity().not_after.timestamp();
    let not_after =
        DateTime::from_timestamp(ts, 0).ok_or_else(|| anyhow::anyhow!("not-after out of range"))?;
    Ok((strip_escapes(&cert.subject().to_string()), not_after))
}

/// The first certificate of a PEM file.
pub fn read_pem(path: &std::path::Path) -> anyhow::Result<(String, DateTime<Utc>)> {
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

/// The leaf certificate `host:port` presents, with SNI `host`.
pub async fn handshake(addr: &str) -> anyhow::Result<(String, DateTime<Utc>)> {
    let (host, _) = addr
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("`{addr}` is not host:port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ReadOnly(provider)))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name =
        ServerName::try_from(host.to_string()).map_err(|e| anyhow::anyhow!("`{host}`: {e}"))?;
    let work = async {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let tls = connector.connect(name, tcp).await?;
        let (_, conn) = tls.get_ref();
        let leaf = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or_else(|| anyhow::anyhow!("{addr} presented no certificate"))?;
        parse_der(leaf.as_ref())
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, work)
        .await
        .map_err(|_| anyhow::anyhow!("{addr}: no handshake within 10s"))?
}

/// One certificate looked at now.
pub async fn check(cfg: &CertConfig) -> CertInfo {
    let (source, result) = match (&cfg.host, &cfg.file) {
        (Some(h), _) => (h.clone(), handshake(h).await),
        (None, Some(f)) => (f.display().to_string(), read_pem(f)),
        (None, None) => (String::new(), Err(anyhow::anyhow!("no host or file"))),
    };
    let (subject, not_after, error) = match result {
        Ok((s, t)) => (s, Some(t), None),
        Err(e) => (String::new(), None, Some(strip_escapes(&format!("{e:#}")))),
    };
    CertInfo {
        name: cfg.name.clone(),
        source: strip_escapes(&source),
        subject,
        not_after,
        error,
        checked: Utc::now(),
        warn_days: cfg.warn_days,
        critical_days: cfg.critical_days,
    }
}

pub struct CertPoller(pub Vec<CertConfig>);

impl Poll for CertPoller {
    type Output = Vec<CertInfo>;
    fn poll(&mut self) -> BoxFuture<'_, anyhow::Result<Vec<CertInfo>>> {
        Box::pin(async move { Ok(futures::future::join_all(self.0.iter().map(check)).await) })
    }
}

pub fn spawn<M>(
    certs: Vec<CertConfig>,
    interval: Duration,
    tx: mpsc::Sender<M>,
    cancel: CancellationToken,
) -> Refresh
where
    M: Envelope<Vec<CertInfo>>,
{
    let schedule = Schedule {
        interval,
        timeout: HANDSHAKE_TIMEOUT * 2,
        backoff_max: interval,
    };
    poller::spawn(PROVIDER, schedule, CertPoller(certs), tx, cancel)
}
