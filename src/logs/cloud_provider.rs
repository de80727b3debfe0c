//! The CloudWatch side of the Logs tab's providers: a task per group that loads its tail and
//! polls for new events, and a task per Logs Insights query. Both need a tokio runtime; the
//! console's sender may block (a full queue), which `block_in_place` allows without
//! stalling the runtime's other tasks.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::cloudwatch::{connect, Tail};
use super::provider::Send;
use super::store::{Chunk, LineStore};
use super::update::LogsMsg;
use crate::config::logs::LogsAws;

/// Tails `group` (one stream of it when given) as source `source` until cancelled: the
/// events since `aws.since` first, then new ones every `aws.poll`. A failure is reported
/// and retried, slower each time up to a minute; the lines already shown stay.
#[allow(clippy::too_many_arguments)]
pub fn spawn_group(
    source: usize,
    group: String,
    stream: Option<String>,
    aws: LogsAws,
    cap: usize,
    tx: impl Send,
    cancel: CancellationToken,
) {
    tokio::spawn(async move {
        let tx = move |m: LogsMsg| tokio::task::block_in_place(|| tx(m));
        let conn = connect(&aws).await;
        let since = Utc::now() - chrono::Duration::from_std(aws.since).unwrap_or_default();
        let mut tail = Tail::new(&group, stream.as_deref(), since);
        let mut first = true;
        let mut backoff = aws.poll;
        while !cancel.is_cancelled() {
            match tail.fetch(&conn).await {
                Ok(bytes) => {
                    backoff = aws.poll;
                    let at = Utc::now();
                    let sent = if first {
                        let mut store = LineStore::new(cap);
                        store.push_bytes(bytes);
                        tx(LogsMsg::Loaded {
                            source,
                            store,
                            complete: true,
                            at,
                        })
                    } else if !bytes.is_empty() {
                        tx(LogsMsg::Appended {
                            source,
                            chunk: Arc::new(Chunk::new(bytes)),
                            rotation: super::follow::Rotation::None,
                            at,
                        })
                    } else {
                        true
                    };
                    first = false;
                    if !sent {
                        return;
                    }
                }
                Err(error) => {
                    if !tx(LogsMsg::Failed { source, error }) {
                        return;
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = cancel.cancelled() => return,
            }
        }
    });
}

/// Runs a Logs Insights query and reports its rows (or why it failed) as `id`.
pub fn spawn_query(
    id: u64,
    groups: Vec<String>,
    query: String,
    since: Duration,
    aws: LogsAws,
    tx: impl Send,
) {
    tokio::spawn(async move {
        let conn = connect(&aws).await;
        let to = Utc::now();
        let from = to - chrono::Duration::from_std(since).unwrap_or_default();
        let result = super::insights::run(&conn, &groups, &query, from, to).await;
        tokio::task::block_in_place(|| tx(LogsMsg::QueryDone { id, result }));
    });
}
