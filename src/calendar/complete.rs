//! Recording done / skipped / snoozed: the one path the Calendar tab and `toban calendar
//! done | skip | snooze` share. A follow-up marked done that carries an action (delete the
//! old access key) runs that action's runbook first and is done only if the run succeeds;
//! the done record names the run, whose audit keeps every step. A failed action records
//! nothing against the follow-up: it stays open, and the error says why and names the run.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::model::{EventKind, Followup};
use super::store::NewEvent;
use crate::runbook::runner::followup::run_action;
use crate::runbook::runner::RunEnv;
use crate::runbook::spec::Runbook;
use crate::store::Store;

/// What running a follow-up's action needs: where runs are recorded and the runbooks.
#[derive(Clone)]
pub struct Actions {
    pub env: RunEnv,
    pub books: Arc<Vec<Runbook>>,
}

/// What was recorded, in words for the notice or the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub event_id: i64,
    /// The action's run and what it did, when one ran.
    pub action: Option<String>,
    pub run_id: Option<String>,
}

/// Records `e`; a follow-up's done runs its action first (see the module's doc).
/// `actions` None: a follow-up with an action cannot be done here.
pub async fn record(
    store: &Store,
    actions: Option<&Actions>,
    e: &NewEvent<'_>,
    now: DateTime<Utc>,
) -> Result<Recorded, String> {
    let action = match (e.kind, Followup::id_of(e.duty_id)) {
        (EventKind::Done, Some(id)) => store
            .open_followup_action(id)
            .await
            .map_err(|err| format!("reading the follow-up's action: {err:#}"))?,
        _ => None,
    };
    let Some(link) = action else {
        let event_id = store
            .record_duty_event(e, now)
            .await
            .map_err(|err| format!("{err:#}"))?;
        return Ok(Recorded {
            event_id,
            action: None,
            run_id: None,
        });
    };
    let Some(actions) = actions else {
        return Err(format!(
            "its action (runbook {}) cannot run here; nothing recorded",
            link.name
        ));
    };
    let run = run_action(&actions.env, &actions.books, &link).await;
    let run_text = match &run.run_id {
        Some(id) => format!("runbook {} run {id}", link.name),
        None => format!("runbook {}", link.name),
    };
    if !run.ok {
        return Err(format!(
            "its action failed, so it stays open: {} ({run_text})",
            run.message
        ));
    }
    let said = format!("{} ({run_text})", run.message);
    let note = match e.note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("{n}; action: {said}"),
        None => format!("action: {said}"),
    };
    let event_id = store
        .record_duty_event(
            &NewEvent {
                note: Some(&note),
                run_id: run.run_id.as_deref(),
                ..e.clone()
            },
            now,
        )
        .await
        .map_err(|err| format!("the action ran ({said}) but recording failed: {err:#}"))?;
    Ok(Recorded {
        event_id,
        action: Some(said),
        run_id: run.run_id,
    })
}
