//! `update`: the one place state changes. Pure: a function of state and message that
//! returns whether the screen must be redrawn and which effects to run. It dispatches —
//! keys to [`super::keys`], provider health to the one board, each capability's messages to
//! that capability.

use crossterm::event::KeyEventKind;

use crate::health::Severity;
use crate::state::{Effect, Msg, Notice, State};

/// Returns `(dirty, effects)`.
pub fn update(state: &mut State, msg: Msg) -> (bool, Vec<Effect>) {
    let mut fx = Vec::new();
    let dirty = match msg {
        Msg::Key(k) => {
            if k.kind == KeyEventKind::Release {
                return (false, fx);
            }
            super::keys::on_key(state, k, &mut fx)
        }
        Msg::Paste(text) => super::runbooks::on_paste(state, &text),
        Msg::Resize(w, h) => {
            state.screen = (w, h);
            true
        }
        Msg::Tick(now) => {
            // Redraw only when something visible changes: a provider turning stale, or the
            // minute (ages are shown in minutes). An idle console writes nothing.
            let before = state.freshness_kinds();
            let minute_before = state.now.timestamp() / 60;
            state.now = now;
            let new_minute = minute_before != now.timestamp() / 60;
            if new_minute {
                // A backup ages past its RPO, a duty its grace, with time alone.
                backup_findings(state, &mut fx);
                let out = crate::calendar::state::update(
                    &mut state.calendar,
                    crate::calendar::CalendarMsg::Tick,
                    now,
                );
                super::calendar::effects(&mut fx, out);
                super::calendar::findings(state, &mut fx);
            }
            super::alarms::on_tick(state);
            super::services::on_tick(state, &mut fx);
            let run_shown = super::runbooks::on_tick(state, &mut fx);
            before != state.freshness_kinds() || new_minute || run_shown
        }
        Msg::Health(id, event) => {
            let before = state.freshness_kinds();
            state.providers.observe(id.clone(), event);
            super::alarms::on_health(state, &id, &mut fx);
            super::services::on_health(state, &id);
            before != state.freshness_kinds()
        }
        Msg::Host(sample) => {
            if sample.at > state.now {
                state.now = sample.at;
            }
            for t in state.alarms.observe_host(&sample, &state.host_config) {
                fx.push(Effect::RecordTransition(t));
            }
            fx.push(Effect::StoreSample(sample.clone()));
            state.host.push(sample);
            true
        }
        Msg::Backups(u) => {
            let is_catalog = matches!(u, crate::backups::provider::BackupsUpdate::Catalog(_));
            state.backups.apply(u);
            if is_catalog {
                backup_findings(state, &mut fx);
            }
            true
        }
        Msg::Restored {
            transitions,
            samples,
        } => {
            state.alarms.restore(&transitions);
            // Older samples go in front of any already received this run.
            let fresh: Vec<_> = state.host.samples.drain(..).collect();
            for s in samples.into_iter().chain(fresh) {
                state.host.push(s);
            }
            true
        }
        Msg::Runner(m) => {
            super::runbooks::on_runner(state, m, &mut fx);
            super::calendar::on_run_update(state, &mut fx);
            true
        }
        Msg::Logs(m) => {
            super::logs::on_msg(state, m, &mut fx);
            true
        }
        Msg::Calendar(m) => {
            let out = crate::calendar::state::update(&mut state.calendar, m, state.now);
            super::calendar::effects(&mut fx, out);
            super::calendar::findings(state, &mut fx);
            true
        }
        Msg::Services(m) => {
            super::services::on_msg(state, m, &mut fx);
            true
        }
        Msg::Resume { runs, missing } => {
            super::runbook_resume::on_resume(state, runs, missing, &mut fx);
            true
        }
        Msg::Alarms(m) => {
            super::alarms::feed(state, m, &mut fx);
            true
        }
        Msg::Drills(d) => {
            state.backups.drills = d;
            true
        }
        Msg::EffectFailed(text) => {
            state.notice = Some(Notice {
                text,
                severity: Severity::Warning,
            });
            true
        }
        Msg::Signal(_) => {
            state.quit = true;
            false
        }
    };
    // Local alarms change with host samples, the catalog, duties and time.
    super::alarms::sync_local(state, &mut fx);
    (dirty, fx)
}

/// Backup rules become local alarms under the `backup.` prefix. The catalog's findings are
/// brought up to now first, so the Backups tab shows what the alarms say.
fn backup_findings(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(cat) = state.backups.catalog.as_mut() else {
        return;
    };
    let cat = std::sync::Arc::make_mut(cat);
    crate::backups::rules::update_findings(cat, state.now);
    let findings: Vec<crate::alarm_types::Finding> =
        crate::backups::rules::alarming(cat).cloned().collect();
    for t in state.alarms.set_findings("backup.", &findings, state.now) {
        fx.push(Effect::RecordTransition(t));
    }
}
