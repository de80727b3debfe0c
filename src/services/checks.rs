//! HTTP checks (reqwest, rustls): one poller per check at its interval. A failing check is
//! data (status, error, latency), not a failing provider: the provider is down only when
//! the checker itself cannot run. Redirects are followed on the same host only, unless the
//! check allows other hosts.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::model::clean as strip_escapes;
use super::model::CheckOutcome;
use crate::config::services::CheckConfig;
use crate::providers::poller::{self, Poll, Refresh, Schedule};
use crate::providers::{Envelope, ProviderId};

/// How much of a body is read to look for the expected text.
const BODY_LIMIT: usize = 64 * 1024;

pub fn provider_id(check: &str) -> ProviderId {
    ProviderId::named("check", check)
}

pub struct CheckPoller {
    pub cfg: CheckConfig,
    client: reqwest::Client,
}

impl CheckPoller {
    pub fn new(cfg: CheckConfig) -> anyhow::Result<CheckPoller> {
        let follow_other = cfg.follow_other_hosts;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                return attempt.error("more than 5 redirects");
            }
            let first = attempt.previous().first().and_then(|u| u.host_str());
            let same = first.is_some() && first == attempt.url().host_str();
            if same || follow_other {
                attempt.follow()
            } else {
                // Stop here: the 3xx is the answer (and fails unless expected).
                attempt.stop()
            }
        });
        let client = reqwest::Client::builder()
            .redirect(policy)
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .user_agent(concat!("toban/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(CheckPoller { cfg, client })
    }

    /// One probe; never an error (a failure is the outcome).
    pub async fn probe(&self) -> CheckOutcome {
        let started = Instant::now();
        let at = Utc::now();
        let cfg = &self.cfg;
        let result = tokio::time::timeout(cfg.timeout, async {
            let resp = self.client.get(&cfg.url).send().await?;
            let status = resp.status().as_u16();
            let body = match &cfg.body_contains {
                Some(_) => Some(read_some(resp).await?),
                None => None,
            };
            Ok::<_, reqwest::Error>((status, body))
        })
        .await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let (status, error) = match result {
            Err(_) => (
                None,
                Some(format!(
                    "no answer within {}",
                    humantime::format_duration(cfg.timeout)
                )),
            ),
            Ok(Err(e)) if e.is_timeout() => (
                None,
                Some(format!(
                    "no answer within {}",
                    humantime::format_duration(cfg.timeout)
                )),
            ),
            Ok(Err(e)) => (None, Some(describe(&e))),
            Ok(Ok((status, body))) => {
                let error = if status != cfg.expect_status {
                    Some(format!("status {status}, expected {}", cfg.expect_status))
                } else {
                    match (&cfg.body_contains, body) {
                        (Some(want), Some(body)) if !body.contains(want.as_str()) => {
                            Some(format!("body does not contain {want:?}"))
                        }
                        _ => None,
                    }
                };
                (Some(status), error)
            }
        };
        CheckOutcome {
            name: cfg.name.clone(),
            at,
            ok: error.is_none(),
            status,
            latency_ms,
            error: error.map(|e| strip_escapes(&e)),
        }
    }
}

async fn read_some(mut resp: reqwest::Response) -> Result<String, reqwest::Error> {
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        buf.extend_from_slice(&chunk);
        if buf.len() >= BODY_LIMIT {
            break;
        }
    }
    buf.truncate(BODY_LIMIT);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// reqwest's error with its causes, without the URL repeated.
fn describe(e: &reqwest::Error) -> String {
    let mut s = if e.is_connect() {
        "cannot connect".to_string()
    } else if e.is_redirect() {
        "redirect refused".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src = std::error::Error::source(e);
    let mut seen = Vec::new();
    while let Some(inner) = src {
        let text = inner.to_string();
        // hyper repeats its cause in its own words: keep each sentence once.
        if !seen.iter().any(|x: &String| x.contains(&text)) {
            s.push_str(&format!(": {text}"));
            seen.push(text);
        }
        src = inner.source();
    }
    s
}

impl Poll for CheckPoller {
    type Output = CheckOutcome;
    fn poll(&mut self) -> BoxFuture<'_, anyhow::Result<CheckOutcome>> {
        Box::pin(async move { Ok(self.probe().await) })
    }
}

pub fn spawn<M>(
    cfg: CheckConfig,
    tx: mpsc::Sender<M>,
    cancel: CancellationToken,
) -> anyhow::Result<(ProviderId, Refresh)>
where
    M: Envelope<CheckOutcome>,
{
    let id = provider_id(&cfg.name);
    let schedule = Schedule {
        interval: cfg.interval,
        timeout: cfg.timeout + Duration::from_secs(5),
        backoff_max: cfg.interval,
    };
    let p = CheckPoller::new(cfg)?;
    Ok((id.clone(), poller::spawn(id, schedule, p, tx, cancel)))
}
