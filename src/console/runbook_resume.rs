//! Runs left open by an earlier session, back in the console: the first reopens in the
//! wizard (read-only when its runbook changed or another session may hold it); a read-only
//! run is started afresh as a new run, and a run whose lease lapsed is taken over only when
//! the operator types the words.

use super::runbooks::{close_wizard, open_runbook, wizard_jobs};
use crate::health::Severity;
use crate::runbook::engine::Engine;
use crate::runbook::runner::Job;
use crate::runbook::wizard::WizardState;
use crate::state::{Effect, Notice, State};

/// Runs found unfinished at start: the first reopens in the wizard.
pub fn on_resume(
    state: &mut State,
    runs: Vec<(Engine, Vec<crate::runbook::engine::Event>)>,
    missing: Vec<String>,
    fx: &mut Vec<Effect>,
) {
    let n = runs.len();
    if let Some((mut engine, events)) = runs.into_iter().next() {
        // Answers from now on are this session's: the audit says who resumed, from where.
        engine.set_actor(state.session.user.clone(), state.session.ssh_client.clone());
        let backups = state
            .backups
            .rows()
            .map(|b| b.path.display().to_string())
            .collect();
        let mut w = WizardState::new(engine, backups);
        let mut jobs = Vec::new();
        for ev in events {
            let wfx = w.feed(ev, state.now);
            jobs.extend(wizard_jobs(&w, wfx).0);
        }
        if w.engine.read_only.is_none() {
            jobs.push(Job::Hold {
                run_id: w.engine.state.run_id.clone(),
                take_over: false,
            });
        }
        if !jobs.is_empty() {
            fx.push(Effect::RunnerJobs(jobs));
        }
        let read_only = w.engine.read_only.is_some();
        state.notice = Some(Notice {
            text: if read_only {
                // Why is in the wizard; the status line has no room for it at 80 columns.
                "an unfinished run is open, read-only".into()
            } else if n > 1 {
                format!(
                    "a run was interrupted and is open to resume ({} more: toban runbook history)",
                    n - 1
                )
            } else {
                "a run was interrupted and is open to resume".into()
            },
            severity: Severity::Warning,
        });
        state.wizard = Some(Box::new(w));
    }
    state.problems.extend(missing);
}

/// Taking over a run whose lease lapsed: only with the words typed; the runner claims the
/// lease and the engine hears `TookOver` when it is this session's.
pub(super) fn take_over(w: &mut WizardState, fx: &mut Vec<Effect>) {
    use crate::runbook::lease::TAKE_OVER;
    if w.typed.trim() != TAKE_OVER {
        w.notice = Some(format!("type `{TAKE_OVER}` first: nothing was done"));
        return;
    }
    w.typed.clear();
    w.notice = Some("taking the run over…".into());
    fx.push(Effect::RunnerJobs(vec![
        Job::Hold {
            run_id: w.engine.state.run_id.clone(),
            take_over: true,
        },
        // Then what became of its interrupted step, seen from here.
        Job::Reattach(Box::new(w.engine.clone())),
    ]));
}

/// A read-only run (its runbook changed): end it as aborted, saying why, and open today's
/// runbook as a new run with the old run's parameters offered again in the form.
pub(super) fn start_afresh(state: &mut State, fx: &mut Vec<Effect>) {
    let now = state.now;
    let Some(w) = state.wizard.as_mut() else {
        return;
    };
    let name = w.engine.state.runbook.clone();
    if !state.runbooks.iter().any(|b| b.name == name) {
        w.notice = Some(format!("`{name}` no longer exists: abort this run instead"));
        return;
    }
    let (params, drill) = (w.engine.state.params.clone(), w.engine.state.opts.drill);
    let wfx = w.feed(crate::runbook::engine::Event::Abort, now);
    let (jobs, _) = wizard_jobs(w, wfx);
    fx.push(Effect::RunnerJobs(jobs));
    close_wizard(state, fx);
    // Only what today's runbook still has: a parameter it dropped is not carried over,
    // and a drill's scratch overrides are made again from the new run's id.
    let spec = state.runbooks.iter().find(|b| b.name == name).cloned();
    let given = spec
        .map(|b| {
            let overridden: Vec<String> = b
                .drill
                .as_ref()
                .map(|d| d.set.keys().cloned().collect())
                .unwrap_or_default();
            params
                .into_iter()
                .filter(|(k, _)| b.params.iter().any(|p| &p.name == k))
                .filter(|(k, _)| !(drill && overridden.contains(k)))
                .collect()
        })
        .unwrap_or_default();
    open_runbook(state, &name, given, drill, false, fx);
}
