//! `cert_expiry`: the certificate a server serves — a TLS handshake to `host:port` asking
//! for `server_name` (SNI), the leaf's not-after read by [`crate::tls_cert`] (the code the
//! Services tab's certificates use). With `later_than` (a previous step's output) it passes
//! only once the served expiry is later: a renewal that was not installed, or a server
//! that was not reloaded, fails here. `file` also shows the PEM on disk, for comparison.
//!
//! Its output (`{{steps.ID.output}}`) is the served not-after, RFC 3339.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{digest_of, Outcome, StepContext};
use crate::tls_cert::{read_pem, served, Leaf, HANDSHAKE_TIMEOUT};

/// How often a server that still serves the old certificate is asked again (a reload
/// finishes in the background on nginx and Apache).
const RETRY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertExpiry {
    pub host: String,
    pub port: String,
    /// The name asked for in the handshake (empty: the host).
    #[serde(default)]
    pub server_name: Option<String>,
    /// A PEM file whose certificate is shown next to the served one.
    #[serde(default)]
    pub file: Option<String>,
    /// Pass only when the served not-after is later than this (RFC 3339).
    #[serde(default)]
    pub later_than: Option<String>,
    #[serde(default = "one_minute", deserialize_with = "duration")]
    pub timeout: Duration,
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}

impl CertExpiry {
    fn sni(&self) -> &str {
        self.server_name
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(&self.host)
    }
}

impl StepKind for CertExpiry {
    const NAME: &'static str = "cert_expiry";

    fn parse(table: toml::Table, _: &StepHeader<'_>) -> Result<Self, String> {
        de(table)
    }

    fn fields(&self) -> Vec<Field<'_>> {
        let mut v = vec![
            Field::public("host", &self.host),
            Field::public("port", &self.port),
        ];
        for (name, f) in [
            ("server_name", &self.server_name),
            ("file", &self.file),
            ("later_than", &self.later_than),
        ] {
            if let Some(f) = f {
                v.push(Field::public(name, f));
            }
        }
        v
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(CertExpiry {
            host: r.text(&self.host)?,
            port: r.text(&self.port)?,
            server_name: r.opt_set(&self.server_name)?,
            file: r.opt_set(&self.file)?,
            later_than: r.opt_set(&self.later_than)?,
            timeout: self.timeout,
        })
    }

    fn describe(&self) -> Vec<String> {
        let mut v = vec![format!(
            "TLS handshake to {}:{} (SNI {}): read the served certificate's expiry",
            self.host,
            self.port,
            self.sni()
        )];
        if let Some(t) = &self.later_than {
            v.push(format!(
                "pass only when it is later than {t} (asked again every {}s for up to {})",
                RETRY.as_secs(),
                humantime::format_duration(self.timeout)
            ));
        }
        if let Some(f) = &self.file {
            v.push(format!("show the certificate in {f} too"));
        }
        v
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let work = run(self, cx.clone());
            cx.bounded(work).await
        })
    }
}

fn when(t: DateTime<Utc>) -> String {
    let days = (t - Utc::now()).num_days();
    format!("{} ({days} days from now)", t.format("%Y-%m-%d %H:%M UTC"))
}

/// What the step found, line by line: to the wizard's pane as it comes, and the record.
struct Said {
    tx: Option<tokio::sync::mpsc::Sender<String>>,
    lines: Vec<String>,
}

impl Said {
    async fn say(&mut self, line: String) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(line.clone()).await;
        }
        self.lines.push(line);
    }
}

async fn run(c: CertExpiry, cx: StepContext) -> Outcome {
    let port: u16 = match c.port.trim().parse() {
        Ok(p) => p,
        Err(_) => return Outcome::fail(format!("port: `{}` is not a port number", c.port)),
    };
    let floor = match c.later_than.as_deref().map(DateTime::parse_from_rfc3339) {
        None => None,
        Some(Ok(t)) => Some(t.with_timezone(&Utc)),
        Some(Err(e)) => {
            return Outcome::fail(format!(
                "later_than: `{}` is not an RFC 3339 time ({e})",
                c.later_than.unwrap_or_default()
            ))
        }
    };
    let addr = format!("{}:{port} (SNI {})", c.host, c.sni());
    let mut said = Said {
        tx: cx.lines.clone(),
        lines: Vec::new(),
    };
    if let Some(f) = &c.file {
        let line = match read_pem(std::path::Path::new(f)) {
            Ok(leaf) => format!("on disk {f}: not after {}", when(leaf.not_after)),
            Err(e) => format!("on disk: {e:#}"),
        };
        said.say(line).await;
    }
    // Stop asking while there is time left to say why.
    let give_up = cx.deadline() - (HANDSHAKE_TIMEOUT + RETRY).min(c.timeout / 2);
    let mut last: Option<Leaf> = None;
    let mut last_error = None;
    loop {
        match served(&c.host, port, Some(c.sni())).await {
            Ok(leaf) => {
                last_error = None;
                let changed = last.as_ref() != Some(&leaf);
                if changed {
                    said.say(format!("{addr} serves {}", leaf.subject)).await;
                    said.say(format!("not after {}", when(leaf.not_after))).await;
                }
                match floor {
                    Some(f) if leaf.not_after <= f => {
                        if changed {
                            said.say("not later than before: asking again".into()).await;
                        }
                        last = Some(leaf);
                    }
                    _ => return finished(leaf, floor, said.lines),
                }
            }
            // Refused while the server restarts: asked again until the time limit.
            Err(e) if floor.is_some() => {
                let line = format!("{e:#}");
                if last_error.as_ref() != Some(&line) {
                    said.say(line.clone()).await;
                }
                last_error = Some(line);
            }
            Err(e) => return Outcome::fail(format!("{e:#}")),
        }
        if tokio::time::Instant::now() + RETRY >= give_up {
            let f = floor.unwrap_or_default();
            let message = match (&last, &last_error) {
                (_, Some(e)) => e.clone(),
                (Some(l), None) => format!(
                    "{addr} still serves a certificate expiring {}, not later than {}: \
                     the renewed certificate is not installed or the server not reloaded",
                    l.not_after.format("%Y-%m-%d %H:%M UTC"),
                    f.format("%Y-%m-%d %H:%M UTC")
                ),
                (None, None) => format!("{addr}: no answer"),
            };
            let mut o = Outcome::said(false, message);
            o.tail = said.lines.join("\n");
            return o;
        }
        tokio::time::sleep(RETRY).await;
    }
}

fn finished(leaf: Leaf, floor: Option<DateTime<Utc>>, said: Vec<String>) -> Outcome {
    let message = match floor {
        Some(f) => format!(
            "served expiry now {}, later than before ({})",
            leaf.not_after.format("%Y-%m-%d"),
            f.format("%Y-%m-%d")
        ),
        None => format!(
            "served certificate expires {}",
            leaf.not_after.format("%Y-%m-%d %H:%M UTC")
        ),
    };
    let tail = said.join("\n");
    Outcome {
        ok: true,
        output: leaf.not_after.to_rfc3339(),
        digest: Some(digest_of(format!("{}\n{tail}", leaf.fingerprint).as_bytes())),
        tail,
        message,
        ..Default::default()
    }
}
