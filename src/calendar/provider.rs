//! Re-reads the calendar's records from the store on the poller template, so completions
//! made elsewhere (another operator on a shared PostgreSQL store, `toban calendar done` from
//! a script, a runbook run) show up without a restart.

use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::book::HISTORY_DAYS;
use super::store::CalendarRecords;
use crate::providers::poller::{self, Poll, Refresh, Schedule};
use crate::providers::{Envelope, ProviderId};
use crate::store::Store;

pub const PROVIDER: ProviderId = ProviderId::fixed("calendar");

pub struct CalendarPoller {
    pub store: Store,
    /// The configured duties' ids, tracked from the first poll that sees them.
    pub duty_ids: Vec<String>,
}

impl Poll for CalendarPoller {
    type Output = CalendarRecords;
    fn poll(&mut self) -> BoxFuture<'_, anyhow::Result<CalendarRecords>> {
        Box::pin(async move {
            // A year back: the month grid can be paged into the past.
            self.store
                .calendar_records(Utc::now(), HISTORY_DAYS.max(400), &self.duty_ids)
                .await
        })
    }
}

/// Starts the poller: every `interval`, and at once on [`Refresh::request`] (after a
/// completion was recorded).
pub fn spawn<M>(
    store: Store,
    duty_ids: Vec<String>,
    interval: Duration,
    tx: mpsc::Sender<M>,
    cancel: CancellationToken,
) -> Refresh
where
    M: Envelope<CalendarRecords>,
{
    let schedule = Schedule {
        interval,
        timeout: Duration::from_secs(10),
        backoff_max: Duration::from_secs(300),
    };
    poller::spawn(
        PROVIDER,
        schedule,
        CalendarPoller { store, duty_ids },
        tx,
        cancel,
    )
}
