//! The template for push sources (the container engine's event stream, a followed file, an
//! Alertmanager watch, `journalctl --follow`): connect, forward what arrives in batches,
//! reconnect with backoff when the source breaks or ends, report health the same way the
//! poller does, and reconnect at once on a refresh request (at most one queued).
//!
//! A source's `connect` usually starts with a full snapshot (list the containers, read the
//! file's tail) and then yields changes, so a reconnect also resynchronises.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::health::{Envelope, HealthEvent, ProviderId};
use super::poller::{panic_message, send_all, Refresh};

/// One push source. `connect` may keep state across reconnects (a cursor, a file position).
pub trait Source: Send + 'static {
    type Item: Send + 'static;
    fn connect(
        &mut self,
    ) -> BoxFuture<'_, anyhow::Result<BoxStream<'static, anyhow::Result<Self::Item>>>>;
}

#[derive(Debug, Clone, Copy)]
pub struct Reconnect {
    /// First wait after a break; doubles while connecting keeps failing.
    pub initial: Duration,
    pub max: Duration,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// Items that arrive together are sent as one batch of at most this many.
    pub batch: usize,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            batch: 512,
        }
    }
}

impl Reconnect {
    pub fn delay(&self, failures: u32) -> Duration {
        self.initial
            .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)))
            .min(self.max)
    }
}

/// Spawns the stream task. Batches of items go out as `M::data(id, Vec<Item>)`.
pub fn spawn<S, M>(
    id: ProviderId,
    policy: Reconnect,
    mut source: S,
    tx: mpsc::Sender<M>,
    cancel: CancellationToken,
) -> Refresh
where
    S: Source,
    M: Envelope<Vec<S::Item>>,
{
    let refresh = Refresh::default();
    let notified = refresh.0.clone();
    tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            let connected = tokio::time::timeout(
                policy.connect_timeout,
                AssertUnwindSafe(source.connect()).catch_unwind(),
            )
            .await;
            let broke = match connected {
                Ok(Ok(Ok(stream))) => {
                    let ok = M::health(id.clone(), HealthEvent::Ok { at: Utc::now() });
                    if !send_all(&tx, [ok], &cancel).await {
                        break;
                    }
                    match forward::<S, M>(&id, policy, stream, &tx, &cancel, &notified).await {
                        Ended::Shutdown => break,
                        Ended::Refresh => {
                            failures = 0;
                            continue;
                        }
                        Ended::Broke(reason) => {
                            failures = 1;
                            reason
                        }
                    }
                }
                Ok(Ok(Err(e))) => {
                    failures += 1;
                    format!("{e:#}")
                }
                Ok(Err(panic)) => {
                    failures += 1;
                    format!("panicked: {}", panic_message(&panic))
                }
                Err(_) => {
                    failures += 1;
                    format!(
                        "no answer within {}",
                        humantime::format_duration(policy.connect_timeout)
                    )
                }
            };
            tracing::warn!(provider = id.name(), "stream broke: {broke}");
            let at = Utc::now();
            let msg = M::health(id.clone(), HealthEvent::Failed { at, reason: broke });
            if !send_all(&tx, [msg], &cancel).await {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(policy.delay(failures)) => {}
                _ = notified.notified() => {}
                _ = cancel.cancelled() => break,
            }
        }
    });
    refresh
}

enum Ended {
    Shutdown,
    Refresh,
    Broke(String),
}

async fn forward<S, M>(
    id: &ProviderId,
    policy: Reconnect,
    stream: BoxStream<'static, anyhow::Result<S::Item>>,
    tx: &mpsc::Sender<M>,
    cancel: &CancellationToken,
    refresh: &tokio::sync::Notify,
) -> Ended
where
    S: Source,
    M: Envelope<Vec<S::Item>>,
{
    let mut batches = AssertUnwindSafe(stream)
        .catch_unwind()
        .ready_chunks(policy.batch.max(1));
    loop {
        let batch = tokio::select! {
            b = batches.next() => b,
            _ = refresh.notified() => return Ended::Refresh,
            _ = cancel.cancelled() => return Ended::Shutdown,
        };
        let Some(batch) = batch else {
            return Ended::Broke("the source closed the stream".into());
        };
        let mut items = Vec::with_capacity(batch.len());
        let mut broke = None;
        for r in batch {
            match r {
                Ok(Ok(item)) => items.push(item),
                Ok(Err(e)) => {
                    broke = Some(format!("{e:#}"));
                    break;
                }
                Err(panic) => {
                    broke = Some(format!("panicked: {}", panic_message(&panic)));
                    break;
                }
            }
        }
        // Bounded channel: a source faster than the console waits here (backpressure).
        if !items.is_empty() && !send_all(tx, [M::data(id, items)], cancel).await {
            return Ended::Shutdown;
        }
        if let Some(reason) = broke {
            return Ended::Broke(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[derive(Debug, PartialEq)]
    enum Seen {
        Data(Vec<u32>),
        Ok,
        Failed(String),
    }

    impl Envelope<Vec<u32>> for Seen {
        fn data(_: &ProviderId, v: Vec<u32>) -> Self {
            Seen::Data(v)
        }
        fn health(_: ProviderId, e: HealthEvent) -> Self {
            match e {
                HealthEvent::Ok { .. } => Seen::Ok,
                HealthEvent::Failed { reason, .. } => Seen::Failed(reason),
            }
        }
    }

    /// Connection 1 yields 1, 2 then an error; 2 fails to connect; 3 panics while
    /// connecting; 4 yields 10 then stays open.
    struct Scripted(Arc<AtomicU32>);

    impl Source for Scripted {
        type Item = u32;
        fn connect(
            &mut self,
        ) -> BoxFuture<'_, anyhow::Result<BoxStream<'static, anyhow::Result<u32>>>> {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move {
                match n {
                    1 => Ok(futures::stream::iter(vec![
                        Ok(1),
                        Ok(2),
                        Err(anyhow::anyhow!("connection reset")),
                    ])
                    .boxed()),
                    2 => Err(anyhow::anyhow!("connection refused")),
                    3 => panic!("bad frame"),
                    _ => Ok(futures::stream::iter(vec![Ok(10)])
                        .chain(futures::stream::pending())
                        .boxed()),
                }
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn breaks_are_reported_and_the_source_is_reconnected_with_backoff() {
        let (tx, mut rx) = mpsc::channel(16);
        let cancel = CancellationToken::new();
        let connects = Arc::new(AtomicU32::new(0));
        let refresh = spawn::<_, Seen>(
            ProviderId::named("docker", "local"),
            Reconnect::default(),
            Scripted(connects.clone()),
            tx,
            cancel.clone(),
        );
        assert_eq!(rx.recv().await, Some(Seen::Ok));
        assert_eq!(rx.recv().await, Some(Seen::Data(vec![1, 2])));
        assert_eq!(
            rx.recv().await,
            Some(Seen::Failed("connection reset".into()))
        );
        assert_eq!(
            rx.recv().await,
            Some(Seen::Failed("connection refused".into()))
        );
        assert_eq!(
            rx.recv().await,
            Some(Seen::Failed("panicked: bad frame".into()))
        );
        assert_eq!(rx.recv().await, Some(Seen::Ok));
        assert_eq!(rx.recv().await, Some(Seen::Data(vec![10])));
        // A refresh drops the open connection and connects again.
        refresh.request();
        assert_eq!(rx.recv().await, Some(Seen::Ok));
        assert_eq!(connects.load(Ordering::SeqCst), 5);
        cancel.cancel();
    }

    #[test]
    fn backoff_doubles_from_the_first_wait_up_to_the_cap() {
        let r = Reconnect {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(10),
            ..Default::default()
        };
        let waits: Vec<u64> = (1..=6).map(|f| r.delay(f).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
    }
}
