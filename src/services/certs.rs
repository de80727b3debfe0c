//! Certificate expiry polled for the Services tab: the leaf a server presents (SNI = the
//! host) or a PEM file, read by [`crate::tls_cert`] (the renew-certificate runbook reads
//! served certificates with the same code).

use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::model::clean as strip_escapes;
use super::model::CertInfo;
use crate::config::services::CertConfig;
use crate::providers::poller::{self, Poll, Refresh, Schedule};
use crate::providers::{Envelope, ProviderId};
pub use crate::tls_cert::{handshake, parse_der, read_pem, HANDSHAKE_TIMEOUT};

pub const PROVIDER: ProviderId = ProviderId::fixed("certs");

/// One certificate looked at now.
pub async fn check(cfg: &CertConfig) -> CertInfo {
    let (source, result) = match (&cfg.host, &cfg.file) {
        (Some(h), _) => (h.clone(), handshake(h).await),
        (None, Some(f)) => (f.display().to_string(), read_pem(f)),
        (None, None) => (String::new(), Err(anyhow::anyhow!("no host or file"))),
    };
    let (subject, not_after, error) = match result {
        Ok(leaf) => (leaf.subject, Some(leaf.not_after), None),
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
