//! Holds a run's lease for this session while it drives the run: claims it once the run is
//! saved, renews it every [`HEARTBEAT`], and says so (as engine events) when another
//! session holds it or took it over — the wizard then turns read-only.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::RunnerMsg;
use crate::runbook::engine::Event;
use crate::runbook::lease::{Claim, LeaseHolder, HEARTBEAT};
use crate::store::Store;

/// How long to wait for a new run's first save before giving up on holding it.
const FIRST_SAVE: Duration = Duration::from_secs(10);

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Keeps `run_id`'s lease for this session until the run ends or another session holds it.
/// `take_over`: the operator typed the confirmation to take a lapsed lease.
pub fn keep(
    store: Store,
    run_id: String,
    take_over: bool,
    news: Option<mpsc::Sender<RunnerMsg>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let me = LeaseHolder::this_session();
        let say = |ev: Event| {
            let news = news.clone();
            async move {
                if let Some(n) = news {
                    let _ = n.send(RunnerMsg::Event(ev)).await;
                }
            }
        };
        let waited = tokio::time::Instant::now();
        loop {
            let before = store.run_lease(&run_id).await.ok().flatten();
            match store.claim_run(&run_id, &me, now_ms(), take_over).await {
                Ok(Claim::Held) => {
                    if let Some(l) = before.filter(|l| take_over && !l.is_held_by(&me)) {
                        say(Event::TookOver(l.holder.describe())).await;
                    }
                    break;
                }
                // A new run's first save may not have reached the store yet.
                Ok(Claim::NoRun) if waited.elapsed() < FIRST_SAVE => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(Claim::NoRun) => return,
                Ok(Claim::Busy(l)) => {
                    let why = format!("another session drives this run: {}", l.describe(now_ms()));
                    say(Event::HeldElsewhere {
                        why,
                        take_over: false,
                    })
                    .await;
                    return;
                }
                Ok(Claim::Lapsed(l)) => {
                    let why = format!("{}; it may still be alive", l.describe(now_ms()));
                    say(Event::HeldElsewhere {
                        why,
                        take_over: true,
                    })
                    .await;
                    return;
                }
                Err(e) => {
                    tracing::warn!("holding run {run_id}: {e:#}");
                    tokio::time::sleep(HEARTBEAT).await;
                }
            }
        }
        loop {
            tokio::time::sleep(HEARTBEAT).await;
            match store.renew_lease(&run_id, &me, now_ms()).await {
                Ok(true) => {}
                Ok(false) => {
                    // Finished runs need no lease; an open one was taken by another session.
                    if let Ok(Some(l)) = store.run_lease(&run_id).await {
                        if !l.is_held_by(&me) {
                            let why = format!(
                                "another session took this run over: {}",
                                l.describe(now_ms())
                            );
                            say(Event::HeldElsewhere {
                                why,
                                take_over: false,
                            })
                            .await;
                        }
                    }
                    return;
                }
                Err(e) => tracing::warn!("renewing the lease of run {run_id}: {e:#}"),
            }
        }
    })
}
