//! Carries out the calendar's effects off the UI task: writes records to the store (a
//! follow-up's action runs first, see `complete`) and asks
//! the calendar's poller to read them back (so the tab, and every other toban on a shared
//! store at its next poll, shows them).

use chrono::Utc;

use super::complete::{record, Actions};
use super::state::{CalendarEffect, CalendarMsg};
use super::store::NewEvent;
use crate::providers::poller::Refresh;
use crate::store::Store;

/// What the effects need: the store, the calendar poller's refresh handle, and what runs a
/// follow-up's action (None: follow-ups with an action cannot be done from here).
#[derive(Clone)]
pub struct Handles {
    pub store: Store,
    pub refresh: Refresh,
    pub actions: Option<Actions>,
}

pub async fn run(effect: CalendarEffect, h: &Handles) -> Option<CalendarMsg> {
    match effect {
        CalendarEffect::Record {
            duty_id,
            occurrence,
            kind,
            at,
            by,
            note,
            until,
            run_id,
        } => {
            let result = record(
                &h.store,
                h.actions.as_ref(),
                &NewEvent {
                    duty_id: &duty_id,
                    occurrence,
                    kind,
                    at,
                    by: &by,
                    note: note.as_deref(),
                    until,
                    run_id: run_id.as_deref(),
                },
                Utc::now(),
            )
            .await
            .map(|r| r.action.unwrap_or_default());
            Some(CalendarMsg::Recorded {
                duty_id,
                kind,
                result,
            })
        }
        CalendarEffect::Reload => {
            h.refresh.request();
            None
        }
    }
}
