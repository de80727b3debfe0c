//! The polling loop shared by providers: interval, timeout, exponential backoff while
//! failing, a refresh request that cuts the wait short (at most one queued), and panics
//! caught and reported as the provider being down.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use super::health::{Envelope, HealthEvent, ProviderId};

/// One provider's source of data. `poll` may take `&mut self` state across polls.
pub trait Poll: Send + 'static {
    type Output: Send + 'static;
    fn poll(&mut self) -> BoxFuture<'_, anyhow::Result<Self::Output>>;
}

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub interval: Duration,
    pub timeout: Duration,
    pub backoff_max: Duration,
}

/// Handle to ask a provider for an early refresh.
#[derive(Clone, Default)]
pub struct Refresh(pub(crate) Arc<Notify>);

impl Refresh {
    pub fn request(&self) {
        // notify_one stores a single permit: many requests while a poll runs queue one poll.
        self.0.notify_one();
    }
}

pub fn delay_after(schedule: &Schedule, failures: u32) -> Duration {
    if failures == 0 {
        return schedule.interval;
    }
    let factor = 2u32.saturating_pow(failures.min(16));
    schedule
        .interval
        .saturating_mul(factor)
        .min(schedule.backoff_max)
}

/// Spawns the polling task: each success sends the data and a health report, each failure
/// (error, panic, timeout) a health report only.
pub fn spawn<P, M>(
    id: ProviderId,
    schedule: Schedule,
    mut poller: P,
    tx: mpsc::Sender<M>,
    cancel: CancellationToken,
) -> Refresh
where
    P: Poll,
    M: Envelope<P::Output>,
{
    let refresh = Refresh::default();
    let notified = refresh.0.clone();
    tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            let attempt = tokio::time::timeout(
                schedule.timeout,
                AssertUnwindSafe(poller.poll()).catch_unwind(),
            )
            .await;
            let failed = match attempt {
                Ok(Ok(Ok(v))) => {
                    failures = 0;
                    let ok = M::health(id.clone(), HealthEvent::Ok { at: Utc::now() });
                    if !send_all(&tx, [ok, M::data(&id, v)], &cancel).await {
                        break;
                    }
                    None
                }
                Ok(Ok(Err(e))) => Some(format!("{e:#}")),
                Ok(Err(panic)) => Some(format!("panicked: {}", panic_message(&panic))),
                Err(_) => Some(format!(
                    "no answer within {}",
                    humantime::format_duration(schedule.timeout)
                )),
            };
            if let Some(reason) = failed {
                failures += 1;
                tracing::warn!(provider = id.name(), "poll failed: {reason}");
                let at = Utc::now();
                let msg = M::health(id.clone(), HealthEvent::Failed { at, reason });
                if !send_all(&tx, [msg], &cancel).await {
                    break;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(delay_after(&schedule, failures)) => {}
                _ = notified.notified() => {}
                _ = cancel.cancelled() => break,
            }
        }
    });
    refresh
}

/// Sends in order; false when the console is gone or shutting down.
pub(crate) async fn send_all<M, const N: usize>(
    tx: &mpsc::Sender<M>,
    msgs: [M; N],
    cancel: &CancellationToken,
) -> bool {
    for m in msgs {
        tokio::select! {
            r = tx.send(m) => if r.is_err() { return false },
            _ = cancel.cancelled() => return false,
        }
    }
    true
}

pub(crate) fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    enum Seen {
        Data(u32),
        Ok,
        Failed(String),
    }

    impl Envelope<u32> for Seen {
        fn data(_: &ProviderId, v: u32) -> Self {
            Seen::Data(v)
        }
        fn health(_: ProviderId, e: HealthEvent) -> Self {
            match e {
                HealthEvent::Ok { .. } => Seen::Ok,
                HealthEvent::Failed { reason, .. } => Seen::Failed(reason),
            }
        }
    }

    struct Flaky(u32);
    impl Poll for Flaky {
        type Output = u32;
        fn poll(&mut self) -> BoxFuture<'_, anyhow::Result<u32>> {
            Box::pin(async move {
                self.0 += 1;
                match self.0 {
                    1 => Ok(1),
                    2 => panic!("boom"),
                    3 => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        Ok(3)
                    }
                    n => Ok(n),
                }
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn panics_and_hangs_are_reported_and_polling_goes_on() {
        let (tx, mut rx) = mpsc::channel(8);
        let cancel = CancellationToken::new();
        let schedule = Schedule {
            interval: Duration::from_millis(10),
            timeout: Duration::from_secs(1),
            backoff_max: Duration::from_millis(50),
        };
        spawn::<_, Seen>(ProviderId::HOST, schedule, Flaky(0), tx, cancel.clone());
        assert!(matches!(rx.recv().await, Some(Seen::Ok)));
        assert!(matches!(rx.recv().await, Some(Seen::Data(1))));
        match rx.recv().await {
            Some(Seen::Failed(reason)) => assert!(reason.contains("panicked: boom"), "{reason}"),
            other => panic!("expected panic report, got {other:?}"),
        }
        match rx.recv().await {
            Some(Seen::Failed(reason)) => {
                assert!(reason.contains("no answer within 1s"), "{reason}")
            }
            other => panic!("expected timeout report, got {other:?}"),
        }
        assert!(matches!(rx.recv().await, Some(Seen::Ok)));
        assert!(matches!(rx.recv().await, Some(Seen::Data(4))));
        cancel.cancel();
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Schedule {
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            backoff_max: Duration::from_secs(30),
        };
        assert_eq!(delay_after(&s, 0), Duration::from_secs(2));
        assert_eq!(delay_after(&s, 1), Duration::from_secs(4));
        assert_eq!(delay_after(&s, 3), Duration::from_secs(16));
        assert_eq!(delay_after(&s, 9), Duration::from_secs(30));
    }
}
